#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bench of playbooks/report.yml: the fleet report from a fact cache, for a big fleet.

N synthetic hosts (default 20,000) in an INI inventory, their facts (netdata_facts' RETURN
shape, mixed states, ages from minutes to days, Netdata agents in containers on about one
host in eight) pre-loaded with Ansible's own cache
plugins: jsonfile, and Redis (Debian's redis-server on 127.0.0.1, a free port, no
persistence; community.general.redis) when it is installed. Then, per cache:

- ansible-playbook over the same inventory with one trivial task (what ansible-core itself
  costs for an inventory that size: parsing it, the play on localhost);
- ansible-playbook playbooks/report.yml, --repeat times;
- (jsonfile) the same facts read through hostvars, the other way a play sees them.

Printed per run: wall seconds, CPU seconds (user + system of every process of the run),
the largest RSS of one process (getrusage), and the peak of the RSS summed over the run's
process tree (sampled every 50 ms; an upper bound, forked workers share pages). The
report's inventory.json is checked to hold every host exactly once.

    .venv/bin/python bench/bench_report_cache.py [--hosts 20000] [--repeat 3] [--no-redis]

Two cores shared with whatever else runs: read CPU seconds as the cost, wall seconds as
what this machine gave at that moment. Results also go to bench/results/report-cache-<time>.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / ".build" / "collections"))
sys.path.insert(0, str(REPO / "tests" / "unit" / "plugins" / "plugin_utils"))

from test_inventory_report_synthetic import synthetic_facts  # noqa: E402

VENV_BIN = Path(sys.executable).parent
TRIVIAL_PLAY = """- name: ansible-core alone, same inventory
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Count the hosts
      ansible.builtin.debug:
        msg: "{{ groups['all'] | length }}"
"""
# The other way to read every host's cached facts: through hostvars (for comparison; it
# computes every variable of every host).
HOSTVARS_PLAY = """- name: Every host's cached netdata facts through hostvars
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Count the hosts with netdata facts
      ansible.builtin.debug:
        msg: >-
          {% set n = namespace(c=0) %}{% for h in groups['all'] %}{% if 'netdata' in hostvars[h]['ansible_facts']
          %}{% set n.c = n.c + 1 %}{% endif %}{% endfor %}{{ n.c }}
"""
# Loads facts with the installed ansible-core's own cache plugin (its on-disk format is
# version-specific), a slice of hosts per process: ansible-core's BaseFileCacheModule.set()
# leaves the temp file's descriptor open, so one process cannot write more hosts than its
# open-file limit.
LOADER = r"""
import json, sys
from ansible.plugins.loader import cache_loader, init_plugin_loader
init_plugin_loader()
cache = cache_loader.get(sys.argv[1])
facts = json.load(open(sys.argv[2]))
for host in sorted(facts)[int(sys.argv[3]):int(sys.argv[4])]:
    cache.set(host, facts[host])
"""


def synthetic_fleet(n: int, seed: int = 11) -> dict[str, dict]:
    rng = random.Random(seed)
    # Netdata agents in containers on about one host in eight (1 or 2 each, some opted out
    # only until re-created), drawn from an rng of their own: the hosts' classes are those
    # of the fleet without them.
    crng = random.Random(seed + 7919)
    now = int(time.time())
    fleet = {}
    for i in range(n):
        host = "node%05d.dc%d.example" % (i, i % 4)
        if rng.random() < 0.03:
            continue  # never gathered: "no facts"
        mode = rng.choices(["out", "in", "partial", "absent"], [60, 10, 20, 10])[0]
        containers = crng.choice([0] * 14 + [1, 2]) if mode != "absent" else 0
        facts = synthetic_facts(rng, mode, drift=mode != "absent" and rng.random() < 0.05,
                                containers=containers, until_recreated=crng.choice([0, 0, 1]),
                                container_rng=crng)
        # most gathered within the day, some days ago (stale under the default limit)
        facts["collected_at"] = now - (rng.randint(60, 20 * 3600) if rng.random() < 0.9
                                       else rng.randint(2 * 86400, 9 * 86400))
        fleet[host] = {"netdata": facts}
    return fleet


def write_inventory(path: Path, n: int) -> None:
    with path.open("w") as f:
        f.write("[fleet]\n")
        for i in range(n):
            f.write("node%05d.dc%d.example ansible_host=10.%d.%d.%d\n" % (i, i % 4, i // 65536, i // 256 % 256, i % 256))


def load_cache(plugin: str, env: dict, facts_file: Path, n: int, per_process: int = 4000) -> float:
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-c", LOADER, plugin, str(facts_file), str(a), str(a + per_process)],
                              env=env) for a in range(0, n, per_process)]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit(f"loading the {plugin} cache failed")
    return time.monotonic() - start


class TreeRss:
    """Peak RSS summed over a process and its descendants, and each one's CPU seconds,
    sampled (the CPU a process spends after the last sample before it exits is missed)."""

    def __init__(self, root_pid: int, interval: float = 0.05):
        self.root, self.interval, self.peak = root_pid, interval, 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _table():
        out = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                out[int(d)] = (int(fields[1]), int(fields[21]) * os.sysconf("SC_PAGE_SIZE"),
                               (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
            except (OSError, IndexError, ValueError):
                continue
        return out

    def _run(self):
        while not self._stop.is_set():
            table = self._table()
            tree, total, todo = set(), 0, [self.root]
            while todo:
                pid = todo.pop()
                if pid in tree or pid not in table:
                    continue
                tree.add(pid)
                total += table[pid][1]
                self.cpu[pid] = table[pid][2]
                todo.extend(p for p, entry in table.items() if entry[0] == pid)
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def measured(argv: list[str], env: dict) -> dict:
    """Run argv in a fresh wrapper process: wall, CPU and RSS of that run only."""
    wrapper = ("import json, resource, subprocess, sys\n"
               "r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)\n"
               "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(json.dumps({'rc': r.returncode, 'cpu': u.ru_utime + u.ru_stime, 'maxrss_kb': u.ru_maxrss,"
               " 'tail': r.stdout[-1500:]}))\n")
    load = os.getloadavg()[0]  # other work on the machine: read the seconds with it
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", wrapper, *argv], env=env, stdout=subprocess.PIPE, text=True,
                            cwd=str(REPO))
    sampler = TreeRss(proc.pid)
    out, _err = proc.communicate()
    wall = time.monotonic() - start
    peak = sampler.stop()
    result = json.loads(out)
    if result["rc"] != 0:
        raise SystemExit(f"{argv[0]} failed:\n{result['tail']}")
    # the busiest processes of the run (ansible-playbook, its worker, the worker's forks)
    top = sorted((cpu for pid, cpu in sampler.cpu.items() if pid != proc.pid), reverse=True)[:3]
    return {"wall": wall, "cpu": result["cpu"], "max_process_rss_mb": result["maxrss_kb"] / 1024,
            "tree_rss_peak_mb": peak / 2 ** 20, "busiest_processes_cpu": top, "load": load}


def start_redis(work: Path):
    exe = shutil.which("redis-server")
    if not exe:
        return None, "redis-server not installed"
    try:
        __import__("redis")
    except ImportError:
        return None, "the redis Python package is not installed"
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(work), "--logfile", ""], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    for _attempt in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                c.sendall(b"PING\r\n")
                if c.recv(16).startswith(b"+PONG"):
                    return (proc, port), None
        except OSError:
            time.sleep(0.05)
    proc.kill()
    return None, "redis-server did not answer"


def bench_cache(name: str, plugin: str, connection: str, n: int, repeat: int, work: Path, facts_file: Path,
                inventory: Path, hostvars: bool = False) -> dict:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"),
        "ANSIBLE_CACHE_PLUGIN": plugin,
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": connection,
        "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "0",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
    })
    load = load_cache(plugin, env, facts_file, n)
    trivial_pb = work / "trivial.yml"
    trivial_pb.write_text(TRIVIAL_PLAY)
    playbook = str(VENV_BIN / "ansible-playbook")
    baseline = measured([playbook, "-i", str(inventory), str(trivial_pb)], env)
    runs = []
    facts = json.loads(facts_file.read_text())
    agents = sum(1 for f in facts.values() for i in f["netdata"].get("installs") or [] if i["kind"] == "container")
    del facts
    for i in range(repeat):
        out = work / f"{name}-out-{i}"
        runs.append(measured([playbook, "-i", str(inventory), str(REPO / "playbooks" / "report.yml"),
                              "-e", json.dumps({"netdata_inventory_dir": str(out)})], env))
        records = json.loads((out / "inventory.json").read_text())
        names = [r["hostname"] for r in records]
        assert len(names) == n == len(set(names)), (len(names), n)
        with (out / "inventory.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        # the report shows every container agent (a version without the column: None)
        in_csv = sum(int(r["container_agent_count"] or 0) for r in rows) if "container_agent_count" in rows[0] else None
        assert in_csv in (None, agents), (in_csv, agents)
    via_hostvars = None
    if hostvars:
        hostvars_pb = work / "hostvars.yml"
        hostvars_pb.write_text(HOSTVARS_PLAY)
        via_hostvars = measured([playbook, "-i", str(inventory), str(hostvars_pb)], env)
    statuses: dict[str, int] = {}
    for r in records:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "busiest_processes_cpu"}
    print(f"\n{name} fact cache ({plugin}), {n} hosts (loaded in {load:.1f} s):")
    print(f"  ansible-core alone, same inventory : wall {baseline['wall']:.2f} s, CPU {baseline['cpu']:.2f} s, "
          f"max process RSS {baseline['max_process_rss_mb']:.0f} MB")
    for i, r in enumerate(runs):
        print(f"  report.yml run {i + 1}                   : wall {r['wall']:.2f} s, CPU {r['cpu']:.2f} s "
              f"(busiest processes {', '.join('%.1f' % c for c in r['busiest_processes_cpu'])}), "
              f"max process RSS {r['max_process_rss_mb']:.0f} MB, process tree RSS peak {r['tree_rss_peak_mb']:.0f} MB, "
              f"load {r['load']:.1f}")
    print(f"  report.yml median                  : wall {med['wall']:.2f} s, CPU {med['cpu']:.2f} s, "
          f"process tree RSS peak {med['tree_rss_peak_mb']:.0f} MB, load {med['load']:.1f} "
          f"(report beyond ansible-core alone: wall {med['wall'] - baseline['wall']:.2f} s)")
    if via_hostvars:
        print(f"  (reading the same facts through hostvars, no report: wall {via_hostvars['wall']:.2f} s, "
              f"CPU {via_hostvars['cpu']:.2f} s)")
    print(f"  every host once: {len(names)} records; {json.dumps(dict(sorted(statuses.items())))}")
    print(f"  container agents in the facts: {agents}, in inventory.csv: "
          f"{'(no such column)' if in_csv is None else in_csv}")
    return {"hosts": n, "load_seconds": load, "baseline": baseline, "runs": runs, "median": med,
            "statuses": statuses, "hostvars": via_hostvars, "container_agents": agents,
            "container_agents_in_csv": in_csv}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-redis", action="store_true")
    parser.add_argument("--no-hostvars", action="store_true", help="skip the hostvars comparison")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-report-cache-"))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; work dir {work}")
    try:
        facts = synthetic_fleet(args.hosts)
        facts_file = work / "facts.json"
        facts_file.write_text(json.dumps(facts))
        del facts
        inventory = work / "hosts.ini"
        write_inventory(inventory, args.hosts)
        results = {"jsonfile": bench_cache("jsonfile", "jsonfile", str(work / "jsonfile-cache"), args.hosts,
                                           args.repeat, work, facts_file, inventory,
                                           hostvars=not args.no_hostvars)}
        if not args.no_redis:
            server, why = start_redis(work)
            if server is None:
                print(f"\nredis: skipped ({why})")
                results["redis"] = {"skipped": why}
            else:
                proc, port = server
                try:
                    results["redis"] = bench_cache("redis", "community.general.redis", f"127.0.0.1:{port}:0",
                                                   args.hosts, args.repeat, work, facts_file, inventory)
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)
        print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
        results_dir = REPO / "bench" / "results"
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / time.strftime("report-cache-%Y%m%d-%H%M%S.json")
        path.write_text(json.dumps(results, indent=2))
        print(f"results: {path}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
