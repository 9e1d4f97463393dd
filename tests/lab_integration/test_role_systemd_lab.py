# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The optout role and netdata_facts on hosts that boot real systemd 252 as PID 1.

Each host runs its agent under its own unit, sandboxed by it (ProtectSystem=,
PrivateTmp=: a mount namespace of its own): Debian's 1.37.1 without the opt-out file
(sends), as packaged (file present), and Netdata's v2.10.4 as a static install (sends,
and posts a crash/restart report at each start). Judged by each daemon's own
registry?action=hello and, for v2, by the posts its host's sink did or did not receive:

- before the role, the facts see the running agent and say what its hello says;
- `--check` changes no byte;
- the role's drop-in reaches the unit (`systemctl show -p Environment`), an agent is
  restarted by systemd only when one of its channels needs it, and the restarted
  daemon's hello (and v2's silence) is what the facts said;
- a second run changes nothing and restarts nothing; opt-in undoes it all.

Tests run in file order on one module-scoped fleet (its own, not the session's
standard one: these tests change the hosts).
"""
from __future__ import annotations

import hashlib

import pytest

from tests.lab import play_recap, rootfs
from tests.lab.systemd_hosts import SystemdFleet, SystemdHostSpec

CLEAN, PACKAGED, V2 = "sr-clean", "sr-packaged", "sr-v2"
PLAYBOOK = "playbooks/enforce_optout.yml"
DROPIN = "/etc/systemd/system/netdata.service.d/zz-netdata-fleet-telemetry.conf"
WATCHED = ("/etc/netdata", "/opt/netdata/etc/netdata", "/etc/systemd/system")


@pytest.fixture(scope="module")
def fleet(systemd_fleet_factory) -> SystemdFleet:
    specs = [SystemdHostSpec.debian_clean(CLEAN), SystemdHostSpec.debian_default(PACKAGED)]
    if not rootfs.v2_available():
        specs.append(SystemdHostSpec.v2(V2))
    return systemd_fleet_factory(specs)


def hosts(fleet):
    return [h for h in (CLEAN, PACKAGED, V2) if h in fleet.hosts]


def need_v2(fleet):
    if V2 not in fleet.hosts:
        pytest.skip(rootfs.v2_available() or "no v2 host")


def play(fleet, check=False, **extra):
    r = fleet.ansible_playbook(PLAYBOOK, extra_vars=extra or None, check=check)
    return r, play_recap(r.stdout)


def tree_hashes(fleet, host):
    cmd = ("find %s -xdev \\( -type f -o -type l \\) 2>/dev/null | sort | "
           "while read -r f; do printf '%%s ' \"$f\"; stat -c '%%a %%u %%g' \"$f\" | tr '\\n' ' ';"
           " if [ -L \"$f\" ]; then readlink \"$f\"; else sha256sum < \"$f\"; fi; done" % " ".join(WATCHED))
    return hashlib.sha256(fleet.run(host, cmd).stdout.encode()).hexdigest()


def facts(fleet, tmp_path):
    return fleet.netdata_facts(tmp_path, subset=("telemetry",))


def only_install(host_facts):
    installs = host_facts["installs"]
    assert len(installs) == 1, installs
    return installs[0]


def test_facts_see_the_sandboxed_agent_and_agree_with_its_hello(fleet, tmp_path):
    got = facts(fleet, tmp_path)
    for host in hosts(fleet):
        assert got[host]["service_manager"] == "systemd"
        install = only_install(got[host])
        # the daemon runs in its unit's own mount namespace, yet it is this host's agent
        ns_daemon = fleet.run(host, f"readlink /proc/{fleet.main_pid(host)}/ns/mnt").stdout.strip()
        assert ns_daemon != fleet.run(host, "readlink /proc/self/ns/mnt").stdout.strip()
        assert install["daemon"]["running"] is True, install
        assert install["daemon"]["pid"] == fleet.main_pid(host)
        hello = fleet.hello(host)["anonymous_statistics"]
        channel = install["telemetry"]["channels"]["daemon_analytics"]
        assert channel["running"] is hello, (host, channel)
    assert only_install(got[CLEAN])["telemetry"]["opted_out"] is False
    assert only_install(got[PACKAGED])["telemetry"]["opted_out"] is True


def test_v2_facts_match_what_the_daemon_posted(fleet, tmp_path):
    need_v2(fleet)
    posts = fleet.wait_sink(V2, lambda recs: any(r["path"] == "/agent-events" for r in recs))
    assert [r for r in posts if r["path"] == "/agent-events"], "v2 with defaults posts a status report"
    install = only_install(facts(fleet, tmp_path)[V2])
    assert install["version"] == "2.10.4"
    crash = install["telemetry"]["channels"]["crash_reports"]
    assert crash["enabled"] is True, crash  # it did post
    assert install["telemetry"]["opted_out"] is False


def test_check_mode_changes_no_byte(fleet):
    before = {h: tree_hashes(fleet, h) for h in hosts(fleet)}
    pids = {h: fleet.main_pid(h) for h in hosts(fleet)}
    r, rc = play(fleet, check=True)
    assert r.returncode != 0, "the audit fails: hosts are not compliant"
    assert {h: tree_hashes(fleet, h) for h in hosts(fleet)} == before
    assert {h: fleet.main_pid(h) for h in hosts(fleet)} == pids


def test_optout_reaches_the_unit_and_restarts_only_where_needed(fleet):
    pids = {h: fleet.main_pid(h) for h in hosts(fleet)}
    if V2 in fleet.hosts:
        fleet.clear_sink(V2)
    r, rc = play(fleet)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    for host in hosts(fleet):
        assert rc[host]["failed"] == 0, r.stdout
        env = fleet.service_env(host)
        assert (env.get("DO_NOT_TRACK"), env.get("DISABLE_TELEMETRY")) == ("1", "1"), (host, env)
        assert fleet.hello(host)["anonymous_statistics"] is False, host
    # the agent that was sending restarted (systemd's MainPID changed) and runs with the
    # drop-in's environment; the packaged one was already off on every channel: untouched
    assert fleet.main_pid(CLEAN) != pids[CLEAN]
    environ = fleet.daemon_environ(CLEAN)
    assert (environ.get("DO_NOT_TRACK"), environ.get("DISABLE_TELEMETRY")) == ("1", "1")
    assert fleet.main_pid(PACKAGED) == pids[PACKAGED]
    if V2 in fleet.hosts:
        assert fleet.main_pid(V2) != pids[V2]
        assert fleet.crash_reports(V2) == [], "opted out: the restarted v2 agent posts nothing"


def test_facts_after_optout_match_the_daemons(fleet, tmp_path):
    got = facts(fleet, tmp_path)
    for host in hosts(fleet):
        install = only_install(got[host])
        assert install["telemetry"]["opted_out"] is True, (host, install["telemetry"])
        assert install["telemetry"]["drift"] is False
        assert install["telemetry"]["channels"]["daemon_analytics"]["running"] is False


def test_second_run_changes_and_restarts_nothing(fleet):
    pids = {h: fleet.main_pid(h) for h in hosts(fleet)}
    before = {h: tree_hashes(fleet, h) for h in hosts(fleet)}
    r, rc = play(fleet)
    assert r.returncode == 0, r.stdout[-3000:]
    assert all(rc[h]["changed"] == 0 for h in hosts(fleet)), rc
    assert {h: fleet.main_pid(h) for h in hosts(fleet)} == pids
    assert {h: tree_hashes(fleet, h) for h in hosts(fleet)} == before
    r, rc = play(fleet, check=True)
    assert r.returncode == 0 and all(rc[h]["changed"] == 0 for h in hosts(fleet)), r.stdout[-3000:]


def test_optin_undoes_it(fleet):
    if V2 in fleet.hosts:
        fleet.clear_sink(V2)
    r, rc = play(fleet, netdata_telemetry_opt_out=False)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    for host in hosts(fleet):
        env = fleet.service_env(host)
        assert not env.get("DO_NOT_TRACK") and not env.get("DISABLE_TELEMETRY"), (host, env)
        assert fleet.hello(host)["anonymous_statistics"] is True, host
    if V2 in fleet.hosts:
        posts = fleet.wait_sink(V2, lambda recs: any(r["path"] == "/agent-events" for r in recs))
        assert [r for r in posts if r["path"] == "/agent-events"], "opted in: v2 posts again"
    pids = {h: fleet.main_pid(h) for h in hosts(fleet)}
    r, rc = play(fleet, netdata_telemetry_opt_out=False)
    assert r.returncode == 0 and all(rc[h]["changed"] == 0 for h in hosts(fleet)), r.stdout[-3000:]
    assert {h: fleet.main_pid(h) for h in hosts(fleet)} == pids
