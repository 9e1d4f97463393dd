#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bench of the fleet inventory.

1. playbooks/inventory.yml on a lab fleet of N hosts (default 16) against a play that runs
   ansible.builtin.setup on the same hosts, alternated in one run, same settings for both
   (the lab's: SSH with ControlPersist, pipelining on, ansible_python_interpreter set, so no
   interpreter discovery; forks = Ansible's default 5 unless --forks). Prints medians and
   the ratio inventory / setup.
2. Aggregation and rendering of 10,000 synthetic host records (records from results,
   summary, HTML page, CSV, JSON), best and median of several repeats.

    .venv/bin/python bench/bench_inventory.py [--hosts 16] [--repeat 3] [--synthetic-only]

Two cores: read the ratio, not the seconds; absolute times move from run to run.
Results also go to bench/results/inventory-<time>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / ".build" / "collections"))
sys.path.insert(0, str(REPO / "tests" / "unit" / "plugins" / "plugin_utils"))

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report import (  # noqa: E402
    records_from_results, render_csv, render_html, render_json, summarize,
)
from test_inventory_report_synthetic import synthetic_results  # noqa: E402

SETUP_PLAY = """- name: Baseline, ansible.builtin.setup
  hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.setup:
      ignore_unreachable: true
"""


def _timed(fn, clock=time.perf_counter):
    start = clock()
    value = fn()
    return clock() - start, value


def _cpu(fn):
    # CPU seconds of this process: on a shared two-core machine the wall clock mostly
    # measures the neighbours; the page's cost is its CPU time (single-threaded).
    return _timed(fn, time.process_time)


def bench_synthetic(count: int, repeat: int) -> dict:
    hosts, results = synthetic_results(count)
    render_html([], None)  # compile the template outside the measurement
    phases = {"records": [], "summary": [], "html": [], "csv": [], "json": [], "total": []}
    for _repeat in range(repeat):
        t_rec, records = _cpu(lambda: records_from_results(hosts, results))
        t_sum, summary = _cpu(lambda: summarize(records))
        t_html, page = _cpu(lambda: render_html(records, summary))
        t_csv, _csv = _cpu(lambda: render_csv(records))
        t_json, _json = _cpu(lambda: render_json(records))
        for key, value in (("records", t_rec), ("summary", t_sum), ("html", t_html),
                           ("csv", t_csv), ("json", t_json)):
            phases[key].append(value)
        phases["total"].append(t_rec + t_sum + t_html + t_csv + t_json)
    out = {k: {"best": min(v), "median": statistics.median(v)} for k, v in phases.items()}
    out["aggregation"] = {"best": min(a + b for a, b in zip(phases["records"], phases["summary"]))}
    out["html_bytes"] = len(page)
    print(f"\n10,000-record fleet ({count} hosts, {repeat} repeats; CPU seconds, best / median)")
    for key in ("records", "summary", "html", "csv", "json", "total"):
        print(f"  {key:<8} {out[key]['best']:.3f} / {out[key]['median']:.3f}")
    print(f"  aggregation (records + summary), best: {out['aggregation']['best']:.3f} s; "
          f"report.html {len(page) / 1e6:.1f} MB")
    return out


def _specs(n: int):
    from tests.lab import HostSpec, snippets
    kinds = [
        HostSpec.debian_default,
        lambda name: HostSpec.clean(name, setup=snippets.os_release(**snippets.UBUNTU_2204)),
        lambda name: HostSpec.no_netdata(name, container="docker"),
        lambda name: HostSpec.static_install(name, version="2.3.1"),
        lambda name: HostSpec.debian_default(name, setup=snippets.os_release(**snippets.ROCKY_9)),
    ]
    return [kinds[i % len(kinds)](f"bench{i + 1:02d}") for i in range(n)]


def bench_fleet(n: int, repeat: int, forks: int | None) -> dict:
    from tests.lab import Fleet, lab_prerequisites
    reason = lab_prerequisites()
    if reason:
        print(f"lab fleet unavailable, skipping the playbook bench: {reason}")
        return {"skipped": reason}
    work = Path(tempfile.mkdtemp(prefix="bench-inventory-"))
    setup_pb = work / "setup.yml"
    setup_pb.write_text(SETUP_PLAY)
    extra = ["--forks", str(forks)] if forks else []
    times = {"inventory": [], "setup": []}
    with Fleet(_specs(n), addr_base=os.environ.get("LAB_ADDR_BASE", "127.45.1.")) as fleet:
        # warm-up: SSH control masters, page cache
        fleet.ansible_playbook(setup_pb, *extra)
        for i in range(repeat):
            for name in (("inventory", "setup") if i % 2 == 0 else ("setup", "inventory")):
                if name == "inventory":
                    outdir = work / f"out-{i}"
                    t, r = _timed(lambda: fleet.ansible_playbook(
                        REPO / "playbooks" / "inventory.yml", *extra,
                        extra_vars={"netdata_inventory_dir": str(outdir)}))
                else:
                    t, r = _timed(lambda: fleet.ansible_playbook(setup_pb, *extra))
                if r.returncode != 0:
                    raise SystemExit(f"{name} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
                times[name].append(t)
        recorded = len(json.loads((work / "out-0" / "inventory.json").read_text()))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["inventory"] / med["setup"]
    print(f"\n{n}-host lab fleet, {repeat} alternated runs each (wall seconds, ansible-playbook "
          f"process; pipelining on, ControlPersist, interpreter set, forks {forks or 5}):")
    print(f"  inventory.yml (netdata_facts all + 3 files): median {med['inventory']:.2f}  "
          f"runs {', '.join('%.2f' % t for t in times['inventory'])}")
    print(f"  ansible.builtin.setup                      : median {med['setup']:.2f}  "
          f"runs {', '.join('%.2f' % t for t in times['setup'])}")
    print(f"  ratio inventory / setup = {ratio:.2f}  ({recorded} hosts in inventory.json)")
    return {"hosts": n, "runs": times, "median": med, "ratio": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--forks", type=int, default=None)
    parser.add_argument("--records", type=int, default=10000)
    parser.add_argument("--synthetic-only", action="store_true")
    args = parser.parse_args()
    result = {"synthetic": bench_synthetic(args.records, max(args.repeat, 3))}
    if not args.synthetic_only:
        result["fleet"] = bench_fleet(args.hosts, args.repeat, args.forks)
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / time.strftime("inventory-%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(result, indent=2))
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
