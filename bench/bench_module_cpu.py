#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a module run spends its CPU beyond ping's: the AnsiballZ payloads themselves.

    .venv/bin/python bench/bench_module_cpu.py [--runs 20] [--python /usr/bin/python3]

Ansible builds the payload it would send to a host (ANSIBLE_KEEP_REMOTE_FILES on a
local connection) for ping, netdata_facts (telemetry; all) and netdata_optout in check
mode, the telemetry payload with ``bytecode_cache=false`` (``telemetry, compiled``: every
module compiled once per run), and a copy of the telemetry payload whose module leaves
Python's zipimport as it is (``telemetry, zipimport``: every module compiled twice, no
cache; see ``_common/payload_import.py``); each is then run --runs times on this machine,
alternating, and the CPU (user + system, the payload process and its children) of each
run is measured. The payloads' bytecode caches are in the bench's own remote_tmp, filled
by an untimed first run, as on a target the collection has run on before. Printed: the
payload's size, the median CPU per run and its ratio to ping's, and how much of it is
Python importing the collection's code (``-X importtime`` of the same payload).

This is the target side of a round trip only: no SSH, no controller. On this machine a
run also sees its own processes and files (no Netdata daemon runs here); the container
runtimes' CLIs are left out (``containers=false``), as on a host without them. Every run,
and Ansible's own when it builds the payloads, is in a network namespace of its own.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The modules run here, on this machine, and run `netdata -v` of its installs: in a network
# namespace of their own (no interface but a down loopback), so nothing Netdata's can reach
# anything, whatever the module asks.
NO_NETWORK = ("unshare", "--net", "--")
MODULES = {
    "ping": ("ansible.builtin.ping", ""),
    "telemetry": ("netdata_fleet.telemetry.netdata_facts", "gather_subset=telemetry containers=false"),
    "telemetry, compiled": ("netdata_fleet.telemetry.netdata_facts",
                            "gather_subset=telemetry containers=false bytecode_cache=false"),
    "all": ("netdata_fleet.telemetry.netdata_facts", "containers=false"),
    "optout-check": ("netdata_fleet.telemetry.netdata_optout", "containers=false"),
}


def build_payload(name: str, module: str, args: str, python: str, keep: Path) -> Path:
    tmp = keep / name.replace(", ", "-")
    tmp.mkdir()
    env = dict(os.environ, ANSIBLE_KEEP_REMOTE_FILES="1", ANSIBLE_REMOTE_TMP=str(tmp),
               ANSIBLE_COLLECTIONS_PATH=str(REPO / ".build" / "collections"),
               ANSIBLE_CONFIG=str(REPO / "ansible.cfg"))
    argv = [*NO_NETWORK, str(REPO / ".venv" / "bin" / "ansible"), "localhost", "-c", "local", "-i", "localhost,",
            "-e", f"ansible_python_interpreter={python}", "-m", module]
    if args:
        argv += ["-a", args]
    if module.endswith("netdata_optout"):
        argv.append("--check")
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    found = list(tmp.glob("*/AnsiballZ_*.py"))
    if len(found) != 1:
        raise SystemExit(f"{name}: no payload kept under {tmp}")
    return found[0]


def without_compile_once(payload: Path) -> Path:
    """A copy of *payload* whose module does not call ``compile_sources_once()``: the same
    code imported as Python's zipimport does it (every module compiled twice), measured in
    the same run as the real payload."""
    text = payload.read_text()
    match = re.search(r"^zip_data='([A-Za-z0-9+/=]+)'", text, re.M)
    if not match:
        raise SystemExit(f"{payload}: no zip_data")
    src, out = io.BytesIO(base64.b64decode(match.group(1))), io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("/plugins/modules/netdata_facts.py"):
                call = b"\ncompile_sources_once()\n"
                if call not in data:
                    raise SystemExit("netdata_facts.py does not call compile_sources_once()")
                data = data.replace(call, b"\n")
            zout.writestr(info, data)
    copy_dir = payload.parent.parent.parent / "telemetry-zipimport"
    copy_dir.mkdir()
    copy = copy_dir / payload.name
    copy.write_text(text[:match.start(1)] + base64.b64encode(out.getvalue()).decode() + text[match.end(1):])
    return copy


def cpu_of_run(python: str, payload: Path, *flags: str) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([*NO_NETWORK, python, *flags, str(payload)], cwd=str(payload.parent),
                          capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0 or '"failed": true' in done.stdout:
        raise SystemExit(f"{payload.name} failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")
    return cpu, done.stderr


def import_ms(python: str, payload: Path) -> tuple[float, float]:
    """(every import, the collection's own modules alone) in ms, from ``-X importtime``:
    the sum of the top-level imports' cumulative times, and of the self times of
    ``ansible_collections.netdata_fleet.*`` (reading, compiling and running our code; the
    payload is a zip, so nothing is cached as bytecode)."""
    _cpu, stderr = cpu_of_run(python, payload, "-X", "importtime")
    every = ours = 0
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if not m:
            continue
        if len(m.group(3)) == 1:  # top level: one space after the bar
            every += int(m.group(2))
        if m.group(4).startswith("ansible_collections.netdata_fleet"):
            ours += int(m.group(1))
    return every / 1000, ours / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--python", default="/usr/bin/python3")
    opts = parser.parse_args()
    keep = Path(tempfile.mkdtemp(prefix="bench-module-cpu-"))
    payloads = {name: build_payload(name, m, a, opts.python, keep) for name, (m, a) in MODULES.items()}
    payloads["telemetry, zipimport"] = without_compile_once(payloads["telemetry"])
    cpu: dict[str, list[float]] = {name: [] for name in payloads}
    for name, payload in payloads.items():  # warm the page cache
        cpu_of_run(opts.python, payload)
    for _round in range(opts.runs):
        for name, payload in payloads.items():
            cpu[name].append(cpu_of_run(opts.python, payload)[0])
    med = {name: statistics.median(v) for name, v in cpu.items()}
    imports = {}
    for name, payload in payloads.items():
        runs = [import_ms(opts.python, payload) for _run in range(5)]
        imports[name] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
    print(f"\npayload CPU per run on this machine ({opts.runs} alternating runs, {opts.python}; "
          f"load {os.getloadavg()[0]:.1f})")
    print(f"  {'module':<22}{'payload':>10}{'CPU ms':>9}{'x ping':>8}{'imports ms':>12}{'of which ours':>15}")
    for name in payloads:
        print(f"  {name:<22}{payloads[name].stat().st_size / 1024:>8.0f}kB{1000 * med[name]:>9.0f}"
              f"{med[name] / med['ping']:>8.2f}{imports[name][0]:>12.0f}{imports[name][1]:>15.0f}")
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"module-cpu-{int(__import__('time').time())}.json"
    path.write_text(json.dumps({"cpu": cpu, "median": med, "imports_ms": imports,
                                "payload_bytes": {n: p.stat().st_size for n, p in payloads.items()}}, indent=1))
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
