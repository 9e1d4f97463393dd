# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netdata-lab sink: runs INSIDE a systemd lab host (netdata-lab-sink.service) and stands
in for every endpoint Netdata talks to. The host's /etc/hosts maps those names to
127.0.0.1 and its CA bundle holds only the lab CA that signed this server's certificate,
so Netdata's own HTTPS posts (v2's crash/status report to agent-events, the statistics
script's curl) land here. Each request becomes one JSON line in the log file given as
argv[1]: t, port, method, host, path, user_agent, headers, body. Answers 200 "{}".

Listens on 127.0.0.1:443 (TLS) and 127.0.0.1:80 (plain) and tells systemd it is ready
(Type=notify) only once both sockets are bound: the v2 daemon posts synchronously at
start, so netdata.service is ordered after this unit. Standard library only (python3 of
the host)."""
import http.server
import json
import os
import socket
import ssl
import sys
import threading
import time

LOG = sys.argv[1] if len(sys.argv) > 1 else "/var/lib/netdata-lab/sink.jsonl"
TLS_DIR = os.environ.get("SINK_TLS_DIR", "/usr/local/lib/netdata-lab/tls")
_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _record(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        rec = {"t": time.time(), "port": self.server.server_address[1], "method": self.command,
               "host": self.headers.get("Host"), "path": self.path,
               "user_agent": self.headers.get("User-Agent"),
               "headers": dict(self.headers.items()),
               "body": body.decode("utf-8", "replace")}
        with _lock, open(LOG, "a") as f:
            f.write(json.dumps(rec) + "\n")
        out = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _record

    def log_message(self, *args):
        pass


def notify(msg: str) -> None:
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(addr)
        s.sendall(msg.encode())


def main() -> None:
    os.makedirs(os.path.dirname(LOG), exist_ok=True)
    open(LOG, "a").close()
    os.chmod(LOG, 0o644)
    tls = http.server.ThreadingHTTPServer(("127.0.0.1", 443), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f"{TLS_DIR}/srv.crt", f"{TLS_DIR}/srv.key")
    tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", 80), Handler)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    notify("READY=1\nSTATUS=recording to " + LOG)
    tls.serve_forever()


if __name__ == "__main__":
    main()
