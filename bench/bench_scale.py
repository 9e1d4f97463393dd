#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the collection's cost grows with the fleet: the same jobs at 16, 64 and 128 lab hosts.

    .venv/bin/python bench/bench_scale.py [--sizes 16,64,128] [--rounds 3] [--forks 25]

For each fleet size, one lab fleet (the lab's SSH hosts, Debian's Netdata 1.37.1 on most of
them, a static v2 layout and hosts without Netdata on the others; settings as a user runs
them: pipelining on, SSH ControlPersist, the interpreter set, the same --forks at every size)
times, in alternating rounds:

  ping        ansible all -m ansible.builtin.ping          (the floor of a module round trip)
  setup       ansible all -m ansible.builtin.setup         (what users compare facts with)
  telemetry   netdata_facts gather_subset=telemetry         (what audits and stats_event pay)
  all         netdata_facts                                 (telemetry + system_info)
  role        playbooks/enforce_optout.yml on converged hosts (one module round trip per host)
  inventory   playbooks/inventory.yml                       (facts + the three report files)

and prints, per size, the median wall time, its ratio to ping (the ratios should stay flat
as the fleet grows) and the controller's CPU per host (user + system seconds of the
ansible process and everything it forks: the controller side; the lab's targets run under
their own sshd, outside it), which must not grow with the fleet either.

Everything runs on this machine: targets and controller share its cores, so absolute times
mean little; ratios and per-host CPU measured in the same run are the figures.
Results are saved to bench/results/scale-<time>.json (git-ignored).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.lab import Fleet, HostSpec, lab_prerequisites  # noqa: E402

AD_HOC = {
    "ping": ("ansible.builtin.ping", None),
    "setup": ("ansible.builtin.setup", None),
    "telemetry": ("netdata_fleet.telemetry.netdata_facts", "gather_subset=telemetry"),
    "all": ("netdata_fleet.telemetry.netdata_facts", None),
}
JOBS = ("ping", "setup", "telemetry", "all", "role", "inventory")


def specs(n: int) -> list[HostSpec]:
    kinds = (
        HostSpec.debian_default,
        HostSpec.clean,
        lambda name: HostSpec.static_install(name, version="2.3.1"),
        HostSpec.debian_default,
        HostSpec.no_netdata,
    )
    return [kinds[i % len(kinds)](f"s{i:03d}") for i in range(n)]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_job(fleet: Fleet, job: str, forks: int, outdir: Path):
    extra = ("--forks", str(forks))
    if job in AD_HOC:
        module, args = AD_HOC[job]
        return fleet.ansible("all", module, args, *extra, timeout=3600)
    if job == "role":
        return fleet.ansible_playbook(REPO / "playbooks" / "enforce_optout.yml", *extra, timeout=3600)
    return fleet.ansible_playbook(REPO / "playbooks" / "inventory.yml", *extra, timeout=3600,
                                  extra_vars={"netdata_inventory_dir": str(outdir)})


def measure(fleet: Fleet, job: str, forks: int, outdir: Path) -> tuple[float, float]:
    cpu0, wall0 = children_cpu(), time.perf_counter()
    result = run_job(fleet, job, forks, outdir)
    wall, cpu = time.perf_counter() - wall0, children_cpu() - cpu0
    if result.returncode != 0:
        raise SystemExit(f"{job} failed at {len(fleet.names)} hosts:\n"
                         f"{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    return wall, cpu


def bench_size(n: int, rounds: int, forks: int, addr_base: str, work: Path) -> dict:
    wall: dict[str, list[float]] = {job: [] for job in JOBS}
    cpu: dict[str, list[float]] = {job: [] for job in JOBS}
    started = time.perf_counter()
    with Fleet(specs(n), addr_base=addr_base) as fleet:
        boot = time.perf_counter() - started
        for job in JOBS:  # warm-up: SSH control masters, page cache; converges the role
            measure(fleet, job, forks, work / f"warm-{n}")
        for r in range(rounds):
            order = JOBS if r % 2 == 0 else tuple(reversed(JOBS))
            for job in order:
                w, c = measure(fleet, job, forks, work / f"out-{n}-{r}")
                wall[job].append(w)
                cpu[job].append(c)
    med = {job: statistics.median(v) for job, v in wall.items()}
    cpu_per_host = {job: statistics.median(v) / n for job, v in cpu.items()}
    return {"hosts": n, "forks": forks, "rounds": rounds, "boot_s": boot, "wall": wall,
            "cpu": cpu, "median_s": med, "ratio_to_ping": {j: med[j] / med["ping"] for j in JOBS},
            "controller_cpu_ms_per_host": {j: 1000 * v for j, v in cpu_per_host.items()}}


def print_table(results: list[dict]) -> None:
    sizes = [r["hosts"] for r in results]
    print("\nmedian wall seconds (ratio to ping) / controller CPU ms per host")
    print(f"  {'job':<10}" + "".join(f"{n:>28}" for n in sizes))
    for job in JOBS:
        cells = [f"{r['median_s'][job]:7.2f} s ({r['ratio_to_ping'][job]:4.2f}x) "
                 f"{r['controller_cpu_ms_per_host'][job]:6.0f} ms" for r in results]
        print(f"  {job:<10}" + "".join(f"{c:>28}" for c in cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="16,64,128")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--forks", type=int, default=25)
    parser.add_argument("--addr-net", default="127.62.")
    opts = parser.parse_args()
    reason = lab_prerequisites()
    if reason:
        print(f"lab fleet unavailable: {reason}", file=sys.stderr)
        return 2
    sizes = [int(s) for s in opts.sizes.split(",") if s.strip()]
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    results = []
    for k, n in enumerate(sizes, start=1):
        load = os.getloadavg()[0]
        result = bench_size(n, opts.rounds, opts.forks, f"{opts.addr_net}{k}.", work)
        result["load_before"] = load
        results.append(result)
        print(f"{n} hosts: fleet up in {result['boot_s']:.0f} s, load before {load:.1f}", flush=True)
        print_table(results)
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scale-{int(time.time())}.json"
    path.write_text(json.dumps(results, indent=1))
    print(f"\nsaved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
