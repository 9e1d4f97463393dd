#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/enforce_optout.yml of two revisions of the collection, on one lab fleet.

    .venv/bin/python bench/bench_role_revisions.py --baseline REV [--candidate HEAD] [--hosts 16] [--rounds 5]

Each revision is taken from git (``git archive``) into a collection tree of its own; on
the same fleet (bench_enforce_optout.py's hosts: Debian's package, a static v2.3.1, a
user's DO_NOT_TRACK drop-in, no Netdata), rounds alternate `ansible -m ping` and, for
each revision in turn (the order flips every round), the role converged and its first run
(after an opt-in run, not timed). For each, the wall time and the machine's CPU seconds
(machine_cpu.py: the controller and every lab host together). Medians, their ratios to
ping and the median of each round's ratio are printed and saved to bench/results/. What a
change did to the role's cost, measured in one run.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_enforce_optout import specs  # noqa: E402
from machine_cpu import run_measured  # noqa: E402
from tests.lab import Fleet  # noqa: E402

OPT_IN = ["-e", '{"netdata_telemetry_opt_out": false}']


def collection_of(rev: str, into: Path) -> Path:
    tree = into / rev.replace("/", "_") / "ansible_collections" / "netdata_fleet" / "telemetry"
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree.parents[2]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--baseline", required=True, help="git revision measured against")
    ap.add_argument("--candidate", default="HEAD")
    ap.add_argument("--hosts", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--addr-base", default="127.90.5.")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-role-revisions-"))
    trees = {"baseline": collection_of(args.baseline, work), "candidate": collection_of(args.candidate, work)}
    with Fleet(specs(args.hosts, False), addr_base=args.addr_base) as fleet:
        base = fleet.ansible_env()
        base["ANSIBLE_FORKS"] = str(args.hosts)
        inventory = str(fleet.inventory_path)

        def timed(argv, env, must_pass=True) -> tuple[float, float]:
            wall, cpu, done = run_measured(argv, env=env, capture_output=True, text=True, cwd=str(work))
            if must_pass and done.returncode != 0:  # a failed run is no figure
                raise SystemExit(f"{' '.join(argv[-3:])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
            return wall, cpu

        def role(which: str, *extra: str, must_pass: bool = True) -> tuple[float, float]:
            playbook = trees[which] / "ansible_collections/netdata_fleet/telemetry/playbooks/enforce_optout.yml"
            env = dict(base, ANSIBLE_COLLECTIONS_PATH=str(trees[which]))
            return timed([fleet._ansible_bin("ansible-playbook"), "-i", inventory, str(playbook), *extra], env,
                         must_pass)

        for which in trees:  # warm up: SSH control masters, converge once
            role(which)
        samples: dict[str, list[tuple[float, float]]] = {"ping": []}
        for which in trees:
            samples[f"{which} converged"], samples[f"{which} first"] = [], []
        for n in range(args.rounds):
            samples["ping"].append(timed([fleet._ansible_bin("ansible"), "-i", inventory, "all", "-m", "ping"], base))
            for which in (list(trees) if n % 2 == 0 else list(reversed(trees))):
                samples[f"{which} converged"].append(role(which))
                # back to opted in, not timed; it fails on the host nothing starts (its
                # static install cannot be proven opted in), as it should
                role(which, *OPT_IN, must_pass=False)
                samples[f"{which} first"].append(role(which))
            print(f"round {n + 1}: " + ", ".join(f"{k}={v[-1][0]:.2f}s/{v[-1][1]:.2f}cpu" for k, v in samples.items()),
                  flush=True)
    med, per_round = {}, {}
    for k, v in samples.items():
        for axis, name in ((0, "wall"), (1, "cpu")):
            med[f"{k} {name}"] = statistics.median(s[axis] for s in v)
            per_round[f"{k} {name}"] = statistics.median(s[axis] / p[axis] for s, p in zip(v, samples["ping"]))
    print(f"\n{args.hosts} hosts, {args.rounds} rounds; baseline {args.baseline}, candidate {args.candidate}; "
          "medians, their ratio to `ansible -m ping`, the median of the per-round ratios:")
    print(f"  {'':20s} {'wall':>7s} {'x ping':>7s} {'rounds':>7s}   {'CPU':>7s} {'x ping':>7s} {'rounds':>7s}")
    for k in samples:
        cells = []
        for name in ("wall", "cpu"):
            key = f"{k} {name}"
            cells.append(f"{med[key]:6.2f}s {med[key] / med[f'ping {name}']:6.2f}x {per_round[key]:6.2f}x")
        print(f"  {k:20s} {cells[0]}   {cells[1]}")
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"role-revisions-{int(time.time())}.json").write_text(json.dumps(
        {"baseline": args.baseline, "candidate": args.candidate, "hosts": args.hosts,
         "samples": samples, "median": med, "median_of_round_ratios": per_round}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
