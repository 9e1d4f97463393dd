# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The live analytics flag of real daemons, before and after the role.

Three hosts run Debian's real 1.37.1 daemon: a clean one, one opted out by the file
only, and one opted out by the environment only (DO_NOT_TRACK=1 from a drop-in, which
a 1.37 daemon ignores). Before the role, netdata_facts' daemon_analytics.live must be
what each daemon answers on registry?action=hello; after opt-out every daemon must
answer false (the role restarts them), after opt-in true, and the facts must agree.
"""
from __future__ import annotations

import pytest

from tests.lab import Fleet, HostSpec, snippets, play_recap

PLAYBOOK = "playbooks/enforce_optout.yml"
CLEAN, FILE_ONLY, ENV_ONLY = "rd-clean", "rd-file", "rd-env"
HOSTS = (CLEAN, FILE_ONLY, ENV_ONLY)


@pytest.fixture(scope="module")
def fleet(lab_fleet_factory) -> Fleet:
    return lab_fleet_factory([
        HostSpec.clean(CLEAN, daemon=True),
        HostSpec.debian_default(FILE_ONLY, daemon=True),
        HostSpec.clean(ENV_ONLY, daemon=True, setup=snippets.systemd_dropin(
            "[Service]\nEnvironment=DO_NOT_TRACK=1\n", "10-user.conf")),
    ])


def live_flags(fleet: Fleet, tmp_path) -> dict[str, tuple]:
    """host -> (the daemon's own answer, what netdata_facts reports as live, host state)."""
    facts = fleet.netdata_facts(tmp_path, subset=["telemetry"])
    out = {}
    for host in HOSTS:
        analytics = facts[host]["installs"][0]["telemetry"]["channels"]["daemon_analytics"]
        out[host] = (fleet.hello(host)["anonymous_statistics"], analytics["live"], facts[host]["telemetry"]["state"])
    return out


def test_before_the_role_live_is_the_daemons_answer(fleet, tmp_path):
    flags = live_flags(fleet, tmp_path)
    assert {h: answer for h, (answer, _live, _state) in flags.items()} == {
        CLEAN: True, FILE_ONLY: False, ENV_ONLY: True}  # 1.37 ignores DO_NOT_TRACK
    assert all(answer is live for answer, live, _state in flags.values()), flags
    assert flags[ENV_ONLY][2] == "partial"  # the script is off, the daemon's flag is not


def test_after_optout_every_daemon_says_false(fleet, tmp_path):
    r = fleet.ansible_playbook(PLAYBOOK)
    assert r.returncode == 0, r.stdout[-4000:]
    flags = live_flags(fleet, tmp_path)
    assert flags == {h: (False, False, "opted_out") for h in HOSTS}, flags


def test_after_optin_every_daemon_says_true(fleet, tmp_path):
    r = fleet.ansible_playbook(PLAYBOOK, extra_vars={"netdata_telemetry_opt_out": False})
    assert r.returncode == 0, r.stdout[-4000:]
    flags = live_flags(fleet, tmp_path)
    assert flags == {h: (True, True, "opted_in") for h in HOSTS}, flags
    again = fleet.ansible_playbook(PLAYBOOK, extra_vars={"netdata_telemetry_opt_out": False})
    assert again.returncode == 0, again.stdout[-4000:]
    assert all(play_recap(again.stdout)[h]["changed"] == 0 for h in HOSTS), again.stdout[-3000:]
