#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wall time of playbooks/enforce_optout.yml against `ansible -m ping`, on one lab fleet.

    .venv/bin/python bench/bench_enforce_optout.py [--hosts 16] [--repeat 3] [--daemon]

Measured in one run, on the same fleet and the same settings (pipelining on, SSH
ControlPersist 30 s, ansible_python_interpreter set, forks = hosts), alternating the
variants so machine noise spreads over all of them:

- ping:            `ansible all -m ping` (the baseline);
- ping-playbook:   a playbook with one ping task (same per-play overhead as ours);
- role-first:      the role (one-pass module) on hosts not yet opted out (an opt-in run,
                   not timed, puts them back before each sample);
- role-converged:  the role again on converged hosts (one module round trip per host);
- builtin-first / builtin-converged: the same job with builtin modules only
                   (netdata_facts to find installs, file, copy, lineinfile, and
                   netdata_facts again to verify) - what the role would cost without
                   its one-pass module.

Medians and ratios to `ping` are printed and saved to bench/results/ (git-ignored).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.lab import Fleet, HostSpec, snippets  # noqa: E402

BUILTIN_PLAYBOOK = r"""
- name: Opt out with builtin modules only (for comparison)
  hosts: all
  gather_facts: false
  tasks:
    - name: Find installs
      netdata_fleet.telemetry.netdata_facts:
        gather_subset: [telemetry]
    - name: Opt-out file
      ansible.builtin.file:
        path: "{{ item.config_dir }}/.opt-out-from-anonymous-statistics"
        state: touch
        mode: "0644"
        modification_time: preserve
        access_time: preserve
      loop: "{{ ansible_facts['netdata']['installs'] }}"
      loop_control: {label: "{{ item.config_dir }}"}
    - name: Drop-in dir
      ansible.builtin.file:
        path: /etc/systemd/system/netdata.service.d
        state: directory
        mode: "0755"
      when: ansible_facts['netdata']['installs'] | length > 0
    - name: Drop-in
      ansible.builtin.copy:
        dest: /etc/systemd/system/netdata.service.d/zz-netdata-fleet-telemetry.conf
        content: "[Service]\nEnvironment=DO_NOT_TRACK=1\nEnvironment=DISABLE_TELEMETRY=1\n"
        mode: "0644"
      when: ansible_facts['netdata']['installs'] | length > 0
    - name: crash reports = off
      ansible.builtin.lineinfile:
        path: "{{ item.config_dir }}/netdata.conf"
        line: "    crash reports = off"
        regexp: '^\s*crash reports\s*='
        insertafter: '^\[global\]'
        create: true
        mode: "0644"
      loop: "{{ ansible_facts['netdata']['installs'] }}"
      loop_control: {label: "{{ item.config_dir }}"}
    - name: Mark the line as managed (as the role does, so opt-in removes it)
      ansible.builtin.lineinfile:
        path: "{{ item.config_dir }}/netdata.conf"
        line: "    # managed by netdata_fleet.telemetry: crash reports (removed on opt-in)"
        insertbefore: '^\s*crash reports\s*='
      loop: "{{ ansible_facts['netdata']['installs'] }}"
      loop_control: {label: "{{ item.config_dir }}"}
    - name: Verify
      netdata_fleet.telemetry.netdata_facts:
        gather_subset: [telemetry]
"""

PING_PLAYBOOK = """
- name: ping
  hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.ping:
"""


def specs(n: int, daemon: bool) -> list[HostSpec]:
    kinds = [
        HostSpec.clean,
        HostSpec.debian_default,
        lambda name: HostSpec.clean(name, setup=snippets.systemd_dropin(
            "[Service]\nEnvironment=DO_NOT_TRACK=1\n", "10-user.conf")),
        HostSpec.no_netdata,
        lambda name: HostSpec.static_install(name, version="2.3.1"),
    ]
    out = []
    for i in range(n):
        name = f"b{i + 1:02d}"
        if daemon and i == 0:
            out.append(HostSpec.clean(name, daemon=True))
        else:
            out.append(kinds[i % len(kinds)](name))
    return out


def timed(argv, env) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=str(REPO),
                       stdin=subprocess.DEVNULL, timeout=900, check=False)
    return time.perf_counter() - t, r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--hosts", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--daemon", action="store_true", help="run the real daemon on the first host")
    ap.add_argument("--addr-base", default=os.environ.get("LAB_ADDR_BASE", "127.90.1."))
    args = ap.parse_args()
    # Stop the fleet on SIGTERM too (a background run ignores SIGINT).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    fleet = Fleet(specs(args.hosts, args.daemon), addr_base=args.addr_base)
    fleet.start()
    tmp = Path(tempfile.mkdtemp(prefix="bench-optout-"))
    try:
        env = fleet.ansible_env()
        env["ANSIBLE_FORKS"] = str(args.hosts)
        inv = str(fleet.inventory_path)
        pb = fleet._ansible_bin("ansible-playbook")
        adhoc = fleet._ansible_bin("ansible")
        (tmp / "builtin.yml").write_text(BUILTIN_PLAYBOOK)
        (tmp / "ping.yml").write_text(PING_PLAYBOOK)
        role = [pb, "-i", inv, "playbooks/enforce_optout.yml"]
        optin = role + ["-e", '{"netdata_telemetry_opt_out": false}']
        cmds = {
            "ping": [adhoc, "-i", inv, "all", "-m", "ping"],
            "ping-playbook": [pb, "-i", inv, str(tmp / "ping.yml")],
            "role-converged": role,
            "builtin-converged": [pb, "-i", inv, str(tmp / "builtin.yml")],
        }
        samples: dict[str, list[float]] = {k: [] for k in
                                           ["ping", "ping-playbook", "role-first", "role-converged",
                                            "builtin-first", "builtin-converged"]}
        # warm up SSH control masters and caches, and converge once
        timed(cmds["ping"], env)
        timed(role, env)
        for rep in range(args.repeat):
            for name in ("ping", "ping-playbook"):
                samples[name].append(timed(cmds[name], env)[0])
            timed(optin, env)  # back to not opted out (not timed)
            secs, r = timed(role, env)
            samples["role-first"].append(secs)
            for name in ("role-converged",):
                secs, r = timed(cmds[name], env)
                if r.returncode != 0:
                    print(r.stdout[-3000:], r.stderr[-2000:])
                    raise SystemExit(f"{name} failed")
                samples[name].append(secs)
            timed(optin, env)
            secs, r = timed(cmds["builtin-converged"], env)
            samples["builtin-first"].append(secs)
            secs, r = timed(cmds["builtin-converged"], env)
            samples["builtin-converged"].append(secs)
            timed(role, env)  # leave converged for the next round
            print(f"round {rep + 1}: " + ", ".join(f"{k}={v[-1]:.2f}s" for k, v in samples.items()),
                  flush=True)
        med = {k: statistics.median(v) for k, v in samples.items()}
        base = med["ping"]
        print(f"\n{args.hosts} hosts, {args.repeat} rounds, pipelining on, ControlPersist 30s, "
              f"forks={args.hosts}; medians (ratio to `ansible -m ping`, to a one-task ping playbook):")
        for k, v in med.items():
            print(f"  {k:18s} {v:6.2f}s  {v / base:5.2f}x  {v / med['ping-playbook']:5.2f}x")
        out = REPO / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"enforce_optout-{int(time.time())}.json").write_text(json.dumps(
            {"hosts": args.hosts, "repeat": args.repeat, "daemon": args.daemon,
             "samples": samples, "median": med}, indent=1))
    finally:
        fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
