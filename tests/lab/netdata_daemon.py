# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side helpers for the real Netdata daemon and scripts inside lab hosts.

The daemon is started and stopped INSIDE a host by bin/netdata-lab-service (installed in
every host as /usr/local/sbin/netdata-lab-service and netdata-lab-restart); this module
only writes its settings and talks to its API over loopback."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

NETDATA_PORT = 19999
# Where Netdata's scripts live in the Debian package (and in the lab's own copy).
SCRIPTS_DIR = "/usr/lib/netdata/plugins.d"
NETDATA_SCRIPTS = ("anonymous-statistics.sh", "system-info.sh")

# Never use the controller's proxy settings (http_proxy...) for lab URLs: a proxy would
# carry the request off the machine.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _check_loopback(addr: str) -> None:
    if not addr.startswith("127."):
        raise ValueError(f"lab traffic goes to 127.0.0.0/8 only, not {addr!r}")


def api_get(addr: str, path: str, port: int = NETDATA_PORT, timeout: float = 2.0) -> Any:
    _check_loopback(addr)
    url = f"http://{addr}:{port}{path}"
    with _OPENER.open(url, timeout=timeout) as r:
        body = r.read().decode()
    try:
        return json.loads(body)
    except ValueError:
        return body


def hello(addr: str, port: int = NETDATA_PORT, timeout: float = 2.0) -> dict:
    """GET /api/v1/registry?action=hello (answers even with the registry disabled)."""
    return api_get(addr, "/api/v1/registry?action=hello", port, timeout)


def wait_hello(addr: str, port: int = NETDATA_PORT, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            return hello(addr, port, timeout=1.0)
        except (urllib.error.URLError, OSError, ValueError) as e:
            last = e
            time.sleep(0.1)
    raise TimeoutError(f"netdata on {addr}:{port} did not answer hello in {timeout:.0f}s: {last}")


def daemon_config(addr: str, env: dict[str, str] | None = None, extra_args=(),
                  binary: str = "/usr/sbin/netdata", units: bool = True,
                  port: int = NETDATA_PORT) -> dict:
    """Contents of /run/netdata-lab/daemon.json, read by netdata-lab-service."""
    _check_loopback(addr)
    return {"addr": addr, "port": port, "env": dict(env or {}), "binary": binary,
            "units": units, "extra_args": list(extra_args)}


def parse_system_info(stdout: str) -> dict[str, str]:
    """NETDATA_FOO_BAR=value lines -> {"foo_bar": "value"} (other lines ignored)."""
    out: dict[str, str] = {}
    for line in stdout.splitlines():
        if line.startswith("NETDATA_") and "=" in line:
            k, v = line.split("=", 1)
            v = v.strip()
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            out[k[len("NETDATA_"):].lower()] = v
    return out
