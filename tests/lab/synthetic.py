# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Synthetic hosts for controller-side plugins: local-connection hosts whose
``ansible_facts`` are pre-loaded into Ansible's own jsonfile fact cache, so a plugin that
reads facts (stats_event) can be driven over hundreds of hosts without SSH."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping

REPO_ROOT = Path(__file__).resolve().parents[2]
# stats_event refuses any non-loopback endpoint while this is set (a test-only guard).
LOOPBACK_GUARD_ENV = "NETDATA_FLEET_TELEMETRY_LOOPBACK_ONLY"


def write_fact_cache(cache_dir: Path, facts_by_host: Mapping[str, dict]) -> None:
    """Pre-load facts with Ansible's own jsonfile cache plugin (its on-disk format changes
    between ansible-core versions, so let the installed version write it)."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    src = cache_dir / "facts.json"
    src.write_text(json.dumps(dict(facts_by_host)))
    code = (
        "import json, sys\n"
        "from ansible.plugins.loader import cache_loader\n"
        "c = cache_loader.get('jsonfile')\n"
        "for h, f in json.load(open(sys.argv[1])).items():\n"
        "    c.set(h, f)\n"
    )
    env = dict(os.environ, ANSIBLE_CACHE_PLUGIN_CONNECTION=str(cache_dir))
    subprocess.run([sys.executable, "-c", code, str(src)], check=True, env=env)


def synthetic_ansible_env(cache_dir: Path, tmp_dir: Path, extra: Mapping[str, str] | None = None) -> dict:
    """Environment for ansible-playbook over synthetic hosts: the checkout's collection,
    the pre-loaded fact cache, the loopback guard on, and no DO_NOT_TRACK /
    DISABLE_TELEMETRY inherited from the caller (they would suppress every event)."""
    env = dict(os.environ)
    for name in ("DO_NOT_TRACK", "DISABLE_TELEMETRY"):
        env.pop(name, None)
    env.update({
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / ".build" / "collections"),
        "ANSIBLE_CACHE_PLUGIN": "jsonfile",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(cache_dir),
        "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "0",
        "ANSIBLE_LOCAL_TEMP": str(Path(tmp_dir) / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        LOOPBACK_GUARD_ENV: "1",
    })
    env.update(extra or {})
    return env
