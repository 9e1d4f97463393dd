# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CPU the whole machine spent during a run: the controller, its workers and SSH, and
every lab host's sshd and modules (the hosts are namespaces of this machine).

It is the cost a fleet pays for a run, counted once on one machine, apart from how long
16 forks and 16 hosts queued for two cores. It is no steadier than the wall time here
(the same `ansible -m ping` took 8.9 to 11.8 CPU seconds across the rounds of one run:
the machine itself runs faster and slower), so the benches still alternate their variants
and compare them round by round. Read from /proc/stat: whatever else runs counts too.
"""
from __future__ import annotations

import os
import subprocess
import time

_TICK = os.sysconf("SC_CLK_TCK")


def busy_seconds() -> float:
    """CPU seconds the machine spent not idle since boot (user, nice, system, irq, softirq,
    steal; guest time is already in user)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()
    if fields[0] != "cpu":
        raise RuntimeError("/proc/stat does not start with the cpu line")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICK


def run_measured(argv, **kwargs) -> tuple[float, float, subprocess.CompletedProcess]:
    """``(wall seconds, machine CPU seconds, result)`` of ``subprocess.run(argv, **kwargs)``."""
    cpu0, wall0 = busy_seconds(), time.perf_counter()
    done = subprocess.run(argv, check=False, **kwargs)
    return time.perf_counter() - wall0, busy_seconds() - cpu0, done
