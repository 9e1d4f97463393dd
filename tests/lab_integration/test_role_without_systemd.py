# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The optout role on hosts that systemd does not run (every lab host: PID 1 is sshd).

Such hosts still have /etc/systemd/system (Debian's netdata package ships its unit), which
is how the role used to mistake them for systemd hosts and fail at `daemon-reload`. Here
the role must converge wherever no restart is due, restart a running agent through the
host's own service manager (an OpenRC-style host: `rc-service`), and fail with a clear
message, never silently, where a restart is due and nothing can do it. Judged by the real
1.37.1 daemon's registry hello. Tests run in file order on one module-scoped fleet.

On the OpenRC-style host the agent's start environment is OpenRC's: the role writes
`export DO_NOT_TRACK=1` / `export DISABLE_TELEMETRY=1` in a managed block of
/etc/conf.d/netdata (no systemd drop-in there), the facts read it back as the install's
`start`, and the lab's service stand-in starts the daemon with what openrc-run's shell
exports after sourcing that file; the daemon's own /proc/PID/environ and hello judge.
"""
from __future__ import annotations

import json

import pytest

from tests.lab import Fleet, HostSpec, play_recap, snippets

IDLE, RUNNING, OPENRC = "ns-idle", "ns-running", "ns-openrc"
PLAYBOOK = "playbooks/enforce_optout.yml"
OPTOUT_FILE = "/etc/netdata/.opt-out-from-anonymous-statistics"
# No restart command: the role must find the host's own way (or say there is none).
NO_COMMAND = {"netdata_telemetry_restart_command": ""}
CONF_D = "/etc/conf.d/netdata"
DROPIN = "/etc/systemd/system/netdata.service.d/zz-netdata-fleet-telemetry.conf"
USER_LINES = 'NETDATA_OWNER="netdata:netdata"\n# kept as written\nNETDATA_WAIT_EXIT_TIMEOUT=60\n'
OFF = {"DO_NOT_TRACK": "1", "DISABLE_TELEMETRY": "1"}
UNSET = {"DO_NOT_TRACK": None, "DISABLE_TELEMETRY": None}


@pytest.fixture(scope="module")
def fleet(lab_fleet_factory) -> Fleet:
    return lab_fleet_factory([
        HostSpec.clean(IDLE),
        HostSpec.clean(RUNNING, daemon=True),
        HostSpec.clean(OPENRC, daemon=True, setup=snippets.openrc_layout(conf_d=USER_LINES)),
    ])


def play(fleet: Fleet, limit: str, check=False, verbose=False, **extra):
    # -v shows the module's result (its notes) in the output
    r = fleet.ansible_playbook(PLAYBOOK, *(["-v"] if verbose else []), extra_vars={**NO_COMMAND, **extra},
                               check=check, limit=limit)
    return r, play_recap(r.stdout)


def test_hosts_are_not_run_by_systemd(fleet, tmp_path):
    for host in (IDLE, RUNNING):
        assert fleet.exists(host, "/etc/systemd/system")
        assert not fleet.exists(host, "/run/systemd/system")
    facts = fleet.netdata_facts(tmp_path, subset=("telemetry",))
    assert facts[IDLE]["service_manager"] == "none"
    assert facts[RUNNING]["service_manager"] == "none"
    assert facts[OPENRC]["service_manager"] == "openrc"
    # no manager runs them: Debian's unit is what starts the agent once systemd boots them
    assert facts[IDLE]["installs"][0]["start"]["mechanism"] == "systemd"
    start = facts[OPENRC]["installs"][0]["start"]
    assert start["mechanism"] == "openrc", start
    assert start["files"] == [CONF_D, "/etc/init.d/netdata"], start
    assert start["environment"] == UNSET and start["starts_this_install"] is True, start
    assert start["command"] == "/usr/sbin/netdata"


def running_env(fleet: Fleet, host: str) -> dict:
    """DO_NOT_TRACK / DISABLE_TELEMETRY of the running daemon, from its /proc/PID/environ."""
    status = json.loads(fleet.run(host, "/usr/local/sbin/netdata-lab-service status").stdout)
    assert len(status["pids"]) == 1, status
    raw = fleet.run(host, f"cat /proc/{status['pids'][0]}/environ", check=True).stdout
    env = dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)
    return {name: env.get(name) for name in ("DO_NOT_TRACK", "DISABLE_TELEMETRY")}


def daemon_pid(fleet: Fleet, host: str) -> int:
    return json.loads(fleet.run(host, "/usr/local/sbin/netdata-lab-service status").stdout)["pids"][0]


def test_no_restart_due_converges_without_systemctl(fleet):
    r, rc = play(fleet, IDLE)
    assert rc[IDLE]["failed"] == 0, r.stdout + r.stderr
    assert "daemon-reload" not in r.stdout + r.stderr
    assert fleet.exists(IDLE, OPTOUT_FILE)
    r, rc = play(fleet, IDLE)
    assert rc[IDLE] == {**rc[IDLE], "failed": 0, "changed": 0}, r.stdout


def test_due_restart_without_a_manager_fails_clearly(fleet):
    assert fleet.hello(RUNNING)["anonymous_statistics"] is True
    r, rc = play(fleet, RUNNING)
    out = r.stdout + r.stderr
    assert rc[RUNNING]["failed"] == 1, out
    assert "no service manager the role can drive runs this host (service manager: none)" in out
    assert "netdata_telemetry_restart_command" in out
    assert "System has not been booted with systemd" not in out
    # the files are in place, but the agent still runs on its old settings and says so
    assert fleet.exists(RUNNING, OPTOUT_FILE)
    assert fleet.hello(RUNNING)["anonymous_statistics"] is True


def test_restart_command_then_converges(fleet):
    r, rc = play(fleet, RUNNING, netdata_telemetry_restart_command="/usr/local/sbin/netdata-lab-restart")
    assert rc[RUNNING]["failed"] == 0, r.stdout + r.stderr
    assert fleet.hello(RUNNING)["anonymous_statistics"] is False


def test_openrc_host_optout_goes_to_conf_d(fleet, tmp_path):
    assert fleet.hello(OPENRC)["anonymous_statistics"] is True
    assert running_env(fleet, OPENRC) == UNSET
    pid = daemon_pid(fleet, OPENRC)
    r, rc = play(fleet, OPENRC, verbose=True)
    out = r.stdout + r.stderr
    assert rc[OPENRC]["failed"] == 0 and rc[OPENRC]["changed"] >= 1, out
    # the user's lines stay as written; the block comes last, so its exports win
    conf = fleet.read_file(OPENRC, CONF_D)
    assert conf.startswith(USER_LINES), conf
    assert conf[len(USER_LINES):].splitlines()[1:3] == ["export DO_NOT_TRACK=1", "export DISABLE_TELEMETRY=1"], conf
    # no systemd drop-in where OpenRC runs the host
    assert not fleet.exists(OPENRC, DROPIN)
    assert "systemd drop-in not applicable: openrc runs this host" in out
    # restarted through the host's own manager, with what openrc-run's shell exports
    calls = fleet.read_file(OPENRC, "/run/netdata-lab/rc-service.calls").split("\n")
    assert "netdata restart" in calls, calls
    assert daemon_pid(fleet, OPENRC) != pid
    assert running_env(fleet, OPENRC) == OFF
    assert fleet.hello(OPENRC)["anonymous_statistics"] is False
    start = fleet.netdata_facts(tmp_path, subset=("telemetry",))[OPENRC]["installs"][0]["start"]
    assert start["environment"] == OFF, start


def test_openrc_host_second_run_changes_nothing(fleet):
    before = fleet.read_file(OPENRC, CONF_D)
    pid = daemon_pid(fleet, OPENRC)
    r, rc = play(fleet, OPENRC)
    assert rc[OPENRC]["failed"] == 0 and rc[OPENRC]["changed"] == 0, r.stdout
    r, rc = play(fleet, OPENRC, check=True)
    assert r.returncode == 0 and rc[OPENRC]["changed"] == 0, r.stdout
    assert fleet.read_file(OPENRC, CONF_D) == before and daemon_pid(fleet, OPENRC) == pid


def test_optin_on_openrc_host(fleet):
    r, rc = play(fleet, OPENRC, netdata_telemetry_opt_out=False)
    assert rc[OPENRC]["failed"] == 0, r.stdout + r.stderr
    assert fleet.read_file(OPENRC, CONF_D) == USER_LINES
    assert running_env(fleet, OPENRC) == UNSET
    assert fleet.hello(OPENRC)["anonymous_statistics"] is True
    r, rc = play(fleet, OPENRC, netdata_telemetry_opt_out=False)
    assert rc[OPENRC]["failed"] == 0 and rc[OPENRC]["changed"] == 0, r.stdout


def test_optin_neutralises_the_users_own_export(fleet, tmp_path):
    fleet.write_file(OPENRC, CONF_D, USER_LINES + "export DO_NOT_TRACK=1\n")
    fleet.restart_daemon(OPENRC)
    assert running_env(fleet, OPENRC)["DO_NOT_TRACK"] == "1"
    r, rc = play(fleet, OPENRC, verbose=True, netdata_telemetry_opt_out=False)
    out = r.stdout + r.stderr
    assert rc[OPENRC]["failed"] == 0, out
    conf = fleet.read_file(OPENRC, CONF_D)
    assert conf.startswith(USER_LINES + "export DO_NOT_TRACK=1\n") and "unset DO_NOT_TRACK DISABLE_TELEMETRY" in conf
    assert "neutralised" in out
    assert running_env(fleet, OPENRC) == UNSET
    start = fleet.netdata_facts(tmp_path, subset=("telemetry",))[OPENRC]["installs"][0]["start"]
    assert start["environment"] == UNSET, start
    r, rc = play(fleet, OPENRC, netdata_telemetry_opt_out=False)
    assert rc[OPENRC]["failed"] == 0 and rc[OPENRC]["changed"] == 0, r.stdout


def test_restart_stops_only_this_hosts_daemon(fleet):
    # A process whose executable is a "netdata" but that runs in a mount namespace of its
    # own (as a container's agent does): the host's service must leave it alone.
    fleet.run(OPENRC, "mkdir -p /tmp/decoy && cp /usr/bin/sleep /tmp/decoy/netdata", check=True)
    fleet.run(OPENRC, "setsid unshare --mount --propagation private /tmp/decoy/netdata 300 "
                      ">/dev/null 2>&1 < /dev/null & echo $! > /tmp/decoy/pid", check=True)
    decoy = fleet.run(OPENRC, "sleep 0.5; pgrep -f '^/tmp/decoy/netdata 300'", check=True).stdout.split()
    assert decoy, "the decoy did not start"
    fleet.restart_daemon(OPENRC)
    assert fleet.run(OPENRC, f"kill -0 {decoy[0]}").returncode == 0, "the restart killed another namespace's netdata"
    fleet.run(OPENRC, f"kill {decoy[0]}")
