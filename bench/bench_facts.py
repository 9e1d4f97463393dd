#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bench of netdata_facts on one lab fleet, in one run.

Times, over the same N hosts (default 16) and the same settings (the lab's: SSH with a
per-run ControlPersist socket, pipelining on, ansible_python_interpreter set so no
interpreter discovery, Ansible's default forks):

  ping        ansible all -m ansible.builtin.ping          (the floor of a module round trip)
  telemetry   netdata_facts gather_subset=telemetry
  telemetry, compiled   the same with bytecode_cache=false (every run compiles the
              collection's code; the warm-up run fills the others' cache, as any earlier
              run on a host does)
  all         netdata_facts (telemetry + system_info)
  setup       ansible.builtin.setup

Rounds alternate the five so drift on a shared two-core machine hits each alike; the
medians and their ratios to ping are printed. Hosts run no daemon unless --daemons N,
so the figure shows that the live query costs nothing where no daemon runs.

    .venv/bin/python bench/bench_facts.py [--hosts 16] [--rounds 5] [--daemons 0]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.lab import Fleet, HostSpec  # noqa: E402

COMMANDS = {
    "ping": ("ansible.builtin.ping", None),
    "telemetry": ("netdata_fleet.telemetry.netdata_facts", "gather_subset=telemetry"),
    "telemetry, compiled": ("netdata_fleet.telemetry.netdata_facts", "gather_subset=telemetry bytecode_cache=false"),
    "all": ("netdata_fleet.telemetry.netdata_facts", None),
    "setup": ("ansible.builtin.setup", None),
}


def timed(fleet: Fleet, module: str, args: str | None) -> float:
    start = time.perf_counter()
    r = fleet.ansible("all", module, args)
    elapsed = time.perf_counter() - start
    if r.returncode != 0:
        raise SystemExit(f"{module} failed:\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--daemons", type=int, default=0, help="hosts that run the real daemon")
    parser.add_argument("--addr-base", default="127.61.0.")
    opts = parser.parse_args()

    specs = [HostSpec.clean(f"b{i:02d}", daemon=i < opts.daemons) if i % 2 else
             HostSpec.debian_default(f"b{i:02d}", daemon=i < opts.daemons) for i in range(opts.hosts)]
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    with Fleet(specs, addr_base=opts.addr_base) as fleet:
        for name, (module, args) in COMMANDS.items():  # warm up: ControlPersist sockets, caches
            timed(fleet, module, args)
        for _round in range(opts.rounds):
            for name, (module, args) in COMMANDS.items():
                times[name].append(timed(fleet, module, args))

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"\nnetdata_facts on {opts.hosts} lab hosts ({opts.daemons} running a daemon), "
          f"{opts.rounds} alternating rounds, median wall seconds")
    print(f"  {'':<20} {'median':>8}   {'x ping':>6}   {'each round x ping, median':>25}")
    for name, value in medians.items():
        per_round = statistics.median(t / p for t, p in zip(times[name], times["ping"]))
        print(f"  {name:<20} {value:6.2f} s   {value / medians['ping']:5.2f}x   {per_round:25.2f}")
    print(f"  goal: telemetry <= 1.10x and all <= 1.15x ping, well under setup "
          f"(setup is {medians['setup'] / medians['ping']:.2f}x ping)")
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"facts-{int(time.time())}.json").write_text(json.dumps(
        {"hosts": opts.hosts, "daemons": opts.daemons, "times": times, "medians": medians}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
