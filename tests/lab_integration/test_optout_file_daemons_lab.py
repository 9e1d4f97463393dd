# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The opt-out file as Debian's real 1.37.1 daemon checks it, before and after the role.

The daemon decides its analytics flag with access(<config dir>/.opt-out-..., R_OK) after
switching to its run-as user (netdata), in the config dir its own netdata.conf names:

- rd-0600: the file is 0600 root:root (what `touch` gives under umask 077): the daemon
  cannot read it and answers "anonymous_statistics": true;
- rd-dirs: /etc/netdata/netdata.conf says `[directories] config = /srv/nd-config`; the file
  sits in /etc/netdata only: the daemon looks in /srv/nd-config and answers true;
- rd-c: the daemon runs with `-c /srv/nd/netdata.conf`, whose `[directories] config` is
  /srv/nd; the file sits in /etc/netdata only: true.

Before the role, netdata_facts must say what each daemon says (live and configured) and
not call any of them opted out. After the role (which writes the file 0644 where the
daemon looks, fixes the mode of an existing one, writes `crash reports = off` into the
netdata.conf the daemon reads, and restarts), every daemon answers false, the facts
agree, and a second run changes nothing.
"""
from __future__ import annotations

import pytest

from tests.lab import Fleet, HostSpec, play_recap, snippets

PLAYBOOK = "playbooks/enforce_optout.yml"
MODE, DIRS, DASH_C = "rd-0600", "rd-dirs", "rd-c"
HOSTS = (MODE, DIRS, DASH_C)
OPTOUT = ".opt-out-from-anonymous-statistics"


@pytest.fixture(scope="module")
def fleet(lab_fleet_factory) -> Fleet:
    return lab_fleet_factory([
        HostSpec.clean(MODE, daemon=True, setup=(
            f"touch /etc/netdata/{OPTOUT}\nchown root:root /etc/netdata/{OPTOUT}\n"
            f"chmod 0600 /etc/netdata/{OPTOUT}\n")),
        HostSpec.clean(DIRS, daemon=True, setup=(
            "mkdir -p /srv/nd-config\n"
            "printf '[directories]\\n\\tconfig = /srv/nd-config\\n' >> /etc/netdata/netdata.conf\n"
            + snippets.opt_out_file(True))),
        # Only what the test needs in the -c file: the lab's safety settings and its
        # address stay on the daemon's command line.
        HostSpec.clean(DASH_C, daemon=True, netdata_args=["-c", "/srv/nd/netdata.conf"], setup=(
            snippets.write_file("/srv/nd/netdata.conf",
                                "[global]\n\trun as user = netdata\n[directories]\n\tconfig = /srv/nd\n")
            + snippets.opt_out_file(True))),
    ])


def judged(fleet: Fleet, tmp_path) -> dict[str, tuple]:
    """host -> (hello answer, facts' live, facts' configured, host state)."""
    facts = fleet.netdata_facts(tmp_path, subset=["telemetry"])
    out = {}
    for host in HOSTS:
        analytics = facts[host]["installs"][0]["telemetry"]["channels"]["daemon_analytics"]
        out[host] = (fleet.hello(host)["anonymous_statistics"], analytics["live"],
                     analytics["configured"], facts[host]["telemetry"]["state"])
    return out, facts


def test_before_the_role_facts_say_what_the_daemons_say(fleet, tmp_path):
    flags, facts = judged(fleet, tmp_path)
    # The real daemon: none of these files opts it out.
    assert flags == {h: (True, True, True, "partial") for h in HOSTS}, flags
    f = facts[MODE]["installs"][0]["optout_file"]
    assert (f["exists"], f["readable_by_agent"], f["agent_user"]) == (True, False, "netdata"), f
    assert "user netdata cannot read" in f["reason"]
    assert facts[DIRS]["installs"][0]["optout_file"]["path"] == f"/srv/nd-config/{OPTOUT}"
    conf = facts[DASH_C]["installs"][0]["netdata_conf"]
    assert (conf["path"], conf["source"], conf["config_dir"]) == ("/srv/nd/netdata.conf", "daemon", "/srv/nd")


def test_after_the_role_every_daemon_says_false_and_it_converges(fleet, tmp_path):
    r = fleet.ansible_playbook(PLAYBOOK)
    assert r.returncode == 0, r.stdout[-4000:]
    flags, facts = judged(fleet, tmp_path)
    assert flags == {h: (False, False, False, "opted_out") for h in HOSTS}, flags
    mode = fleet.run(MODE, f"stat -c %a:%U:%G /etc/netdata/{OPTOUT}", check=True).stdout.strip()
    assert mode == "644:root:root"
    assert fleet.exists(DIRS, f"/srv/nd-config/{OPTOUT}")
    assert fleet.exists(DASH_C, f"/srv/nd/{OPTOUT}")
    assert "crash reports = off" in fleet.read_file(DASH_C, "/srv/nd/netdata.conf")
    assert all(facts[h]["installs"][0]["optout_file"]["readable_by_agent"] is True for h in HOSTS)
    again = fleet.ansible_playbook(PLAYBOOK)
    assert again.returncode == 0, again.stdout[-4000:]
    assert all(play_recap(again.stdout)[h]["changed"] == 0 for h in HOSTS), again.stdout[-3000:]
