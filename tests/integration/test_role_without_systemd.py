"""The optout role on hosts that systemd does not run (every lab host: PID 1 is sshd).

Such hosts still have /etc/systemd/system (Debian's netdata package ships its unit), which
is how the role used to mistake them for systemd hosts and fail at `daemon-reload`. Here
the role must converge wherever no restart is due, restart a running agent through the
host's own service manager (an OpenRC-style host: `rc-service`), and fail with a clear
message, never silently, where a restart is due and nothing can do it. Judged by the real
1.37.1 daemon's registry hello. Tests run in file order on one module-scoped fleet.
"""
from __future__ import annotations

import pytest

from tests.lab import Fleet, HostSpec, play_recap, snippets

IDLE, RUNNING, OPENRC = "ns-idle", "ns-running", "ns-openrc"
PLAYBOOK = "playbooks/enforce_optout.yml"
OPTOUT_FILE = "/etc/netdata/.opt-out-from-anonymous-statistics"
# No restart command: the role must find the host's own way (or say there is none).
NO_COMMAND = {"netdata_telemetry_restart_command": ""}


@pytest.fixture(scope="module")
def fleet(lab_fleet_factory) -> Fleet:
    return lab_fleet_factory([
        HostSpec.clean(IDLE),
        HostSpec.clean(RUNNING, daemon=True),
        HostSpec.clean(OPENRC, daemon=True, setup=snippets.openrc_layout()),
    ])


def play(fleet: Fleet, limit: str, check=False, **extra):
    r = fleet.ansible_playbook(PLAYBOOK, extra_vars={**NO_COMMAND, **extra}, check=check, limit=limit)
    return r, play_recap(r.stdout)


def test_hosts_are_not_run_by_systemd(fleet, tmp_path):
    for host in (IDLE, RUNNING):
        assert fleet.exists(host, "/etc/systemd/system")
        assert not fleet.exists(host, "/run/systemd/system")
    facts = fleet.netdata_facts(tmp_path, subset=("telemetry",))
    assert facts[IDLE]["service_manager"] == "none"
    assert facts[RUNNING]["service_manager"] == "none"
    assert facts[OPENRC]["service_manager"] == "openrc"


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


def test_openrc_host_restarts_through_rc_service(fleet):
    assert fleet.hello(OPENRC)["anonymous_statistics"] is True
    r, rc = play(fleet, OPENRC)
    out = r.stdout + r.stderr
    assert rc[OPENRC]["failed"] == 0 and rc[OPENRC]["changed"] >= 1, out
    calls = fleet.read_file(OPENRC, "/run/netdata-lab/rc-service.calls").split("\n")
    assert "netdata restart" in calls, calls
    assert fleet.hello(OPENRC)["anonymous_statistics"] is False
    r, rc = play(fleet, OPENRC)
    assert rc[OPENRC]["failed"] == 0 and rc[OPENRC]["changed"] == 0, r.stdout
    r, rc = play(fleet, OPENRC, check=True)
    assert r.returncode == 0 and rc[OPENRC]["changed"] == 0, r.stdout


def test_optin_on_openrc_host(fleet):
    r, rc = play(fleet, OPENRC, netdata_telemetry_opt_out=False)
    assert rc[OPENRC]["failed"] == 0, r.stdout + r.stderr
    assert fleet.hello(OPENRC)["anonymous_statistics"] is True
    r, rc = play(fleet, OPENRC, netdata_telemetry_opt_out=False)
    assert rc[OPENRC]["failed"] == 0 and rc[OPENRC]["changed"] == 0, r.stdout
