# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The machine's processes as the labs see them: which belong to a lab (for stop() and
the leak checks), what a cgroup or a PID namespace holds, what they cost in memory.

One place for every lab (fleet.py's namespace hosts, systemd_hosts.py's nspawn hosts,
containers.py's runtime hosts), so "is anything of this lab still running" means the same
for all of them."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Iterable, Iterator


def process_table() -> Iterator[tuple[int, str, str | None, str]]:
    """(pid, command line, PID namespace, state letter) of every process still readable."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace").strip()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        yield pid, cmd, pidns_of(pid), state


def lab_leftovers(pidnss: Iterable[str], own_pids: Iterable[int], marker: str | None,
                  more_pids: Iterable[int] = ()) -> list[tuple[int, str]]:
    """Processes that belong to a lab: in one of its PID namespaces, started by it
    (``own_pids``; their zombies are the lab's to reap, not leftovers), named in
    ``more_pids`` (a cgroup's members), or with the lab's ``marker`` (its work dir) on
    their command line (ssh clients on its control dir, unshare wrappers)."""
    pidnss, own, more = set(pidnss), set(own_pids), set(more_pids)
    out = []
    for pid, cmd, pidns, state in process_table():
        if pid in own and state == "Z":
            continue
        if pidns in pidnss or pid in own or pid in more or (marker and marker in cmd):
            out.append((pid, cmd))
    return out


def pidns_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def pids_in_pidns(pidns: str) -> list[int]:
    return [pid for pid, _cmd, ns, _state in process_table() if ns == pidns]


def cgroup_pids(dirs: Iterable[str | os.PathLike]) -> set[int]:
    """Every process in the cgroup directories and their subgroups."""
    pids: set[int] = set()
    for d in dirs:
        for root, _dirs, files in os.walk(d):
            if "cgroup.procs" in files:
                try:
                    pids |= {int(x) for x in Path(root, "cgroup.procs").read_text().split()}
                except OSError:
                    pass
    return pids


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        out += [int(k) for k in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return out


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def killpg(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the process group a lab started (each lab process leads its own group)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass


def memory_of(pids: Iterable[int]) -> dict[str, int]:
    """PSS and RSS (kB) summed over the processes, and how many could be read."""
    pss = rss = count = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        count += 1
        for line in text.splitlines():
            if line.startswith("Pss:"):
                pss += int(line.split()[1])
            elif line.startswith("Rss:"):
                rss += int(line.split()[1])
    return {"pss_kb": pss, "rss_kb": rss, "processes": count}
