#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: one batched stats_event task for a fleet vs the naive per-host uri task.

Both run in the same invocation, against the same loopback collector (a threaded
http.server on 127.0.0.1), over synthetic hosts (ansible_connection=local) whose
ansible_facts.netdata are pre-loaded through Ansible's own jsonfile fact cache. Every host
is opted in, so both ways POST one event per host (the most work for both).

- batched: `netdata_fleet.telemetry.stats_event` with `hosts: "{{ ansible_play_hosts_all }}"`,
  `run_once: true` (the fail-closed gate, payload build, pooled concurrent delivery).
- naive: `ansible.builtin.uri` delegated to localhost, once per host, with a
  `when: ansible_facts.netdata.telemetry.opted_in is true` gate and the same body shape.

Both: same ansible.cfg (pipelining on), same forks, local connection, the interpreter
pinned (no discovery). Wall time = the whole ansible-playbook run, startup included.
The naive way over 1,000 hosts takes minutes on two cores, so by default it is measured at
smaller counts, a line (fixed cost + per-host cost) is fitted, and its 1,000-host time is
extrapolated; the output says so. `--naive-full` measures it at the full count instead.

    .venv/bin/python bench/bench_stats_event.py [--hosts 1000] [--naive-hosts 50,150] [--naive-full]
"""
from __future__ import annotations

import argparse
import http.server
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO_ROOT))

from tests.lab.synthetic import synthetic_ansible_env, write_fact_cache  # noqa: E402


class Collector:
    def __init__(self):
        self.count = 0
        self.guids = set()
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n))
                with lock:
                    outer.count += 1
                    outer.guids.add(body["properties"]["distinct_id"])
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 256  # the default (5) drops connects when 16 workers open at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/capture/"

    def reset(self):
        self.count = 0
        self.guids = set()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def netdata_facts(guid):
    ch = {"applies": True, "enabled": True, "reasons": []}
    return {
        "gather_subset": ["system", "telemetry"], "installed": True,
        "installs": [{"config_dir": "/etc/netdata", "version": "1.37.1", "version_string": "netdata v1.37.1",
                      "install_type": "binpkg-deb", "machine_guid": guid, "claimed": False,
                      "telemetry": {"opted_out": False, "opted_in": True, "drift": False, "reasons": [],
                                    "channels": {"statistics_script": ch, "daemon_analytics": ch,
                                                 "crash_reports": {"applies": False, "enabled": None},
                                                 "installer": ch}}}],
        "telemetry": {"state": "opted_in", "opted_out": False, "opted_in": True, "drift": False, "reasons": []},
        "system_info": {"host_os_name": "Debian GNU/Linux", "host_os_id": "debian", "system_kernel_name": "Linux",
                        "system_architecture": "x86_64", "system_total_ram": 25276063744,
                        "system_cpu_logical_cpu_count": 2},
    }


def make_fleet(workdir: Path, n: int):
    cache = workdir / "factcache"
    cache.mkdir(parents=True)
    names = [f"bench{i:04d}" for i in range(n)]
    write_fact_cache(cache, {h: {"netdata": netdata_facts(str(uuid.uuid4()))} for h in names})
    inv = workdir / "inventory.json"
    inv.write_text(json.dumps({"all": {"hosts": {h: None for h in names},
                                       "vars": {"ansible_connection": "local",
                                                "ansible_python_interpreter": sys.executable}}}))
    return names, inv, cache


BATCHED = [{
    "hosts": "all", "gather_facts": False,
    "tasks": [{"name": "batched stats_event", "netdata_fleet.telemetry.stats_event": {
        "event": "START", "endpoint": "{{ endpoint }}", "hosts": "{{ ansible_play_hosts_all }}",
        "workers": 16, "retries": 0}, "run_once": True, "register": "r"},
        {"ansible.builtin.assert": {"that": ["r.sent | length == ansible_play_hosts_all | length"],
                                    "fail_msg": "{{ r.results | dict2items | rejectattr('value.status', 'eq', 'sent')"
                                                " | list | first | default('') }}"},
         "run_once": True}],
}]

NAIVE = [{
    "hosts": "all", "gather_facts": False,
    "tasks": [{"name": "naive uri per host", "ansible.builtin.uri": {
        "url": "{{ endpoint }}", "method": "POST", "body_format": "json", "status_code": 200, "timeout": 2,
        "body": {"api_key": "bench", "event": "START -", "properties": {
            "distinct_id": "{{ ansible_facts.netdata.installs[0].machine_guid }}",
            "netdata_machine_guid": "{{ ansible_facts.netdata.installs[0].machine_guid }}",
            "action": "START", "action_result": "-", "action_data": "-",
            "netdata_version": "{{ ansible_facts.netdata.installs[0].version_string.split()[-1] }}",
            "host_os_name": "{{ ansible_facts.netdata.system_info.host_os_name }}",
            "system_total_ram": "{{ ansible_facts.netdata.system_info.system_total_ram | string }}"}}},
        "delegate_to": "localhost",
        "when": "ansible_facts.netdata.telemetry.opted_in is true"}],
}]


def run_playbook(workdir, inv, cache, play, endpoint, forks, limit=None):
    pb = workdir / f"pb-{uuid.uuid4().hex[:6]}.yml"
    pb.write_text(json.dumps(play))
    env = synthetic_ansible_env(cache, workdir, {"ANSIBLE_FORKS": str(forks), "ANSIBLE_PIPELINING": "1"})
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(inv), str(pb), "-e", json.dumps({"endpoint": endpoint})]
    if limit is not None:
        argv += ["--limit", limit]
    t0 = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL,
                       check=False)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"playbook failed (rc={p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}")
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--naive-hosts", default="50,150",
                    help="host counts at which the naive way is measured (comma list), then extrapolated")
    ap.add_argument("--naive-full", action="store_true", help="measure the naive way at --hosts too")
    ap.add_argument("--forks", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-stats-") as tmp:
        workdir = Path(tmp)
        names, inv, cache = make_fleet(workdir, args.hosts)
        col = Collector()
        try:
            batched = []
            for _repeat in range(args.repeat):
                col.reset()
                batched.append(run_playbook(workdir, inv, cache, BATCHED, col.url, args.forks))
                assert col.count == args.hosts and len(col.guids) == args.hosts, (col.count, len(col.guids))
            counts = sorted({int(x) for x in args.naive_hosts.split(",") if x.strip()})
            if args.naive_full:
                counts = sorted(set(counts) | {args.hosts})
            naive = {}
            batched_small = {}
            for n in counts:
                limit = ",".join(names[:n])
                col.reset()
                naive[n] = min(run_playbook(workdir, inv, cache, NAIVE, col.url, args.forks, limit)
                               for _repeat in range(args.repeat))
                assert col.count == n, (col.count, n)
                col.reset()
                batched_small[n] = run_playbook(workdir, inv, cache, BATCHED, col.url, args.forks, limit)
        finally:
            col.stop()

    b = min(batched)
    print(f"hosts={args.hosts} forks={args.forks} pipelining=on connection=local interpreter pinned; "
          f"collector: threaded http.server on 127.0.0.1; every host opted in (one POST per host)")
    print(f"batched stats_event, {args.hosts} hosts: {b:.2f} s wall (runs: {', '.join('%.2f' % x for x in batched)})")
    for n in sorted(naive):
        print(f"naive uri per host, {n} hosts (measured): {naive[n]:.2f} s wall; "
              f"batched at the same {n} hosts: {batched_small[n]:.2f} s -> {naive[n] / batched_small[n]:.1f}x")
    if args.hosts in naive:
        naive_full = naive[args.hosts]
        how = "measured"
    elif len(naive) >= 2:
        xs = sorted(naive)
        x0, x1 = xs[0], xs[-1]
        slope = (naive[x1] - naive[x0]) / (x1 - x0)
        fixed = naive[x0] - slope * x0
        naive_full = fixed + slope * args.hosts
        how = (f"EXTRAPOLATED from the {x0}- and {x1}-host measurements: {fixed:.2f} s fixed + "
               f"{slope * 1000:.1f} ms per host")
    else:
        [(x0, t0)] = list(naive.items())
        naive_full = t0 * args.hosts / x0
        how = f"EXTRAPOLATED linearly from the {x0}-host measurement"
    print(f"naive uri per host, {args.hosts} hosts: {naive_full:.2f} s wall ({how})")
    print(f"ratio naive/batched at {args.hosts} hosts: {naive_full / b:.1f}x (goal >= 20x)")
    out = REPO_ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "stats_event.json").write_text(json.dumps({
        "hosts": args.hosts, "forks": args.forks, "batched_s": batched, "naive_s": naive,
        "batched_small_s": batched_small, "naive_full_s": naive_full, "naive_full_how": how,
        "ratio": naive_full / b}, indent=2))


if __name__ == "__main__":
    main()
