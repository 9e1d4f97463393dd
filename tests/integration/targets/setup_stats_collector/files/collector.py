# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A loopback stand-in for the statistics collector, for the stats_event target.

Listens on 127.0.0.1 (a free port), appends every POST as one JSON line
``{"path": ..., "body": <the JSON sent, or the raw text>}`` to --log and answers 200,
except under /flaky/ while the file ``flaky-up`` is missing next to --state (503, for the
delivery-failure tests: create the file and the same endpoint works). Writes
``{"port", "pid"}`` to --state once it listens. Exits on SIGTERM, or by itself after --lifetime seconds so that
a test that dies cannot leave it behind.
"""
from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import sys
import threading

try:
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from socketserver import ThreadingMixIn
except ImportError:  # Python 2 controllers are not supported by the collection
    sys.exit('collector.py needs Python 3')

LOCK = threading.Lock()


class Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True


class Handler(BaseHTTPRequestHandler):
    log_path = None
    flaky_up = None

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length).decode('utf-8', 'replace')
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        with LOCK:
            with open(self.log_path, 'a') as log:
                log.write(json.dumps({'path': self.path, 'body': body}, sort_keys=True) + '\n')
        down = self.path.startswith('/flaky/') and not os.path.exists(self.flaky_up)
        status = 503 if down else 200
        answer = b'{"status": 1}' if status == 200 else b'{"error": "unavailable"}'
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):  # quiet: the log file is the record
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--state', required=True)
    parser.add_argument('--log', required=True)
    parser.add_argument('--lifetime', type=float, default=600.0)
    args = parser.parse_args()
    Handler.log_path = args.log
    Handler.flaky_up = os.path.join(os.path.dirname(os.path.abspath(args.state)), 'flaky-up')
    open(args.log, 'a').close()
    server = Server(('127.0.0.1', 0), Handler)
    timer = threading.Timer(args.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    tmp = args.state + '.tmp'
    with open(tmp, 'w') as state:
        json.dump({'port': server.server_address[1], 'pid': os.getpid()}, state)
    os.rename(tmp, args.state)
    server.serve_forever()


if __name__ == '__main__':
    main()
