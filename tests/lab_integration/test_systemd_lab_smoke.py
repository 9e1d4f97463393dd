# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke tests of the systemd lab (tests/lab/systemd_hosts.py): hosts whose PID 1 is real
systemd, Debian's real netdata 1.37.1 and Netdata's real v2.10.4 under their own units.

Uses the session's standard fleet (booted once, in parallel): sd-clean (1.37.1, opt-out
file removed), sd-default (1.37.1 as packaged) and sd-v2 (v2.10.4 static-style under
/opt/netdata, defaults). Tests that change a host put it back. Timings and memory go to
tests/output/systemd-lab-report.json."""
from __future__ import annotations

import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.lab import rootfs
from tests.lab.fleet import SSH_PORT, port_free
from tests.lab.systemd_hosts import (CI_ENV_VARS, SystemdFleet, SystemdHostSpec,
                                     parse_systemd_environment, reap_stale_runs)

CLEAN, DEFAULT, V2 = "sd-clean", "sd-default", "sd-v2"
DEBIAN_OPT_OUT = "/etc/netdata/.opt-out-from-anonymous-statistics"
V2_OPT_OUT = "/opt/netdata/etc/netdata/.opt-out-from-anonymous-statistics"
REPORT = Path(__file__).resolve().parents[1] / "output" / "systemd-lab-report.json"
_T0 = time.monotonic()


@pytest.fixture(scope="module")
def fleet(systemd_fleet) -> SystemdFleet:
    return systemd_fleet


def need_v2(fleet: SystemdFleet) -> None:
    if V2 not in fleet.hosts:
        pytest.skip(rootfs.v2_available() or "no v2 host in this fleet")


def test_pid1_is_systemd_and_the_system_is_up(fleet):
    for name, h in fleet.hosts.items():
        assert fleet.run(name, "readlink /proc/1/exe").stdout.strip() == "/usr/lib/systemd/systemd"
        r = fleet.ssh(name, "cat /proc/1/comm; systemctl is-system-running; hostname")
        assert r.returncode in (0, 1), r.stderr  # is-system-running exits 1 when degraded
        comm, state, hostname = r.stdout.split()
        assert (comm, hostname) == ("systemd", name)
        assert state in ("running", "degraded"), fleet.systemctl(name, "--failed").stdout
        assert h.system_state == "running", f"{name} booted degraded: {h.failed_units}"
    # each host is a machine of its own: own boot, own machine id, only its loopback
    ids = {fleet.run(n, "cat /etc/machine-id").stdout.strip() for n in fleet.names}
    assert len(ids) == len(fleet.names)
    for name in fleet.names:
        links = fleet.run(name, "ip -o link show").stdout.splitlines()
        assert [line.split(":")[1].strip() for line in links] == ["lo"]
        assert fleet.run(name, "ip route show; ip -6 route show | grep -v '^::1 '").stdout.strip() == ""


def test_netdata_is_active_under_its_own_unit(fleet):
    for name in fleet.names:
        assert fleet.systemctl(name, "is-active", "netdata").stdout.strip() == "active"
        pid = fleet.main_pid(name)
        exe = fleet.run(name, f"readlink /proc/{pid}/exe").stdout.strip()
        v2 = fleet.hosts[name].spec.netdata_v2
        assert exe == ("/opt/netdata/usr/sbin/netdata" if v2 else "/usr/sbin/netdata")
        unit = fleet.systemctl(name, "show", "-p", "FragmentPath", "--value", "netdata").stdout.strip()
        assert unit in ("/lib/systemd/system/netdata.service", "/usr/lib/systemd/system/netdata.service")
        assert fleet.systemctl(name, "is-active", "netdata-lab-sink").stdout.strip() == "active"
    for name in (CLEAN, DEFAULT):
        assert fleet.run(name, "dpkg-query -W -f '${Version}' netdata-core").stdout.startswith("1.37.1")


def test_v2_host_is_a_static_install_without_the_debian_package(fleet):
    need_v2(fleet)
    assert fleet.run(V2, "/opt/netdata/usr/sbin/netdata -v").stdout.strip() == "netdata v2.10.4"
    assert "INSTALL_TYPE='kickstart-static'" in fleet.read_file(V2, "/opt/netdata/etc/netdata/.install-type")
    assert fleet.run(V2, "dpkg-query -W 'netdata*'").returncode != 0
    for gone in ("/etc/netdata", "/usr/sbin/netdata", "/usr/lib/netdata"):
        assert not fleet.exists(V2, gone)
    assert not fleet.exists(V2, V2_OPT_OUT)  # kickstart without --disable-telemetry
    assert fleet.run(V2, "id -un netdata").stdout.strip() == "netdata"


def test_hello_follows_the_opt_out_file(fleet):
    clean, default = fleet.hello(CLEAN), fleet.hello(DEFAULT)
    assert (clean["hostname"], default["hostname"]) == (CLEAN, DEFAULT)
    assert clean["machine_guid"] != default["machine_guid"]
    assert clean["anonymous_statistics"] is True
    assert default["anonymous_statistics"] is False
    assert fleet.exists(DEFAULT, DEBIAN_OPT_OUT) and not fleet.exists(CLEAN, DEBIAN_OPT_OUT)


def test_debian_daemons_statistics_reach_only_the_hosts_sink(fleet):
    """The clean 1.37.1 daemon runs anonymous-statistics.sh at start with the real curl;
    the post lands in the host's own sink. The opted-out one sends nothing."""
    recs = fleet.wait_sink(CLEAN, lambda rs: any('"event": "START -"' in r["body"] for r in rs))
    events = [json.loads(r["body"])["event"] for r in recs if r["host"] == "posthog.netdata.cloud"]
    assert "START -" in events, recs
    assert fleet.sink_posts(DEFAULT) == []


def test_v2_defaults_post_a_crash_report_to_the_sink(fleet):
    """Defaults (no opt-out file, no env, no `crash reports` setting): hello true and a
    status POST to agent-events at start, because `crash reports` defaults to `all` when
    analytics is on (check_crash_reports_config() in src/daemon/status-file.c at v2.10.4)."""
    need_v2(fleet)
    assert fleet.hello(V2)["anonymous_statistics"] is True
    recs = fleet.wait_sink(V2, lambda rs: any(r["host"] == "agent-events.netdata.cloud" for r in rs))
    posts = fleet.crash_reports(V2)
    assert posts, recs
    body = json.loads(posts[0]["body"])  # the first start's (later restarts may add more)
    assert body["agent_version_now"] == "v2.10.4"
    assert body["exit_cause"] == "no last status"  # first start of a fresh install
    assert body["agent"]["install_type"] == "kickstart-static"
    assert "Posted last status to agent-events successfully." in fleet.daemon_log(V2)
    conf = fleet.api(V2, "/netdata.conf")
    assert "# crash reports = all" in conf  # defaulted, not set


def test_ansible_ping_over_the_inventory(fleet):
    r = fleet.ansible("lab", "ping")
    assert r.returncode == 0, r.stdout + r.stderr
    for name in fleet.names:
        assert f"{name} | SUCCESS" in r.stdout
    assert r.stdout.count('"ping": "pong"') == len(fleet.names)
    inv = fleet.inventory_path.read_text()
    assert "ansible_python_interpreter=/usr/bin/python3" in inv
    for name in fleet.names:
        with socket.create_connection((fleet.addr(name), SSH_PORT), timeout=3) as s:
            assert s.recv(64).startswith(b"SSH-2.0-")


def test_restart_and_the_new_daemons_environment_over_ssh(fleet):
    """systemctl restart (over SSH, as a role would) starts a new daemon whose
    /proc/PID/environ is what the unit says; nothing of the controller's CI leaks in.
    Hosts in parallel: a restart soon after a start waits for the daemon's init (10-15 s)."""
    dropin = "/etc/systemd/system/netdata.service.d/50-lab-smoke.conf"

    def check(name: str) -> None:
        old = fleet.main_pid(name)
        fleet.write_file(name, dropin, '[Service]\nEnvironment=DO_NOT_TRACK=1 "LAB_SMOKE=a b"\n')
        try:
            r = fleet.ssh(name, "systemctl daemon-reload && systemctl restart netdata")
            assert r.returncode == 0, r.stderr
            fleet.wait_hello(name, timeout=60)
            new = fleet.main_pid(name)
            assert new not in (0, old)
            env = fleet.daemon_environ(name)  # read over ssh
            unit_env = fleet.service_env(name)
            assert unit_env["DO_NOT_TRACK"] == "1" and unit_env["LAB_SMOKE"] == "a b"
            for k, v in unit_env.items():
                assert env.get(k) == v, (k, env)
            assert not [k for k in CI_ENV_VARS if k in env], env
            if fleet.hosts[name].spec.netdata_v2:
                assert env["LOG_NAMESPACE"] == "netdata"
            else:
                assert env["netdata_LOG_LOCATION"] == "/var/log/netdata/log"
        finally:
            fleet.run(name, f"rm -f {dropin} && systemctl daemon-reload", check=True)
            fleet.restart_netdata(name)
        assert "DO_NOT_TRACK" not in fleet.service_env(name)
        assert "DO_NOT_TRACK" not in fleet.daemon_environ(name, via_ssh=False)

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(fleet.names)) as ex:
        for f in [ex.submit(check, n) for n in fleet.names]:
            f.result()
    # the states the other tests rely on are back
    assert fleet.hello(CLEAN)["anonymous_statistics"] is True
    assert fleet.hello(DEFAULT)["anonymous_statistics"] is False


def test_parse_systemd_environment():
    assert parse_systemd_environment('A=1 "B=x y" C=\\"q\\" "D=tab\\there"') == {
        "A": "1", "B": "x y", "C": '"q"', "D": "tab\there"}
    assert parse_systemd_environment("") == {}


def test_a_stopped_fleet_leaves_nothing_behind(systemd_fleet_factory, fleet):
    """A fleet of its own (the shared one keeps running): stop removes every process,
    mount, cgroup dir, forward and the work dir."""
    own = systemd_fleet_factory([SystemdHostSpec.debian_clean("sd-stop")])
    h = own.hosts["sd-stop"]
    assert own.hello("sd-stop")["hostname"] == "sd-stop"
    pidns, workdir, cgroups = h.pidns, own.workdir, list(h.cgroups)
    assert all(c.is_dir() for c in cgroups)
    t = time.monotonic()
    own.stop()
    stop_seconds = time.monotonic() - t
    assert own.leftover_processes() == []
    assert own.leftover_mounts() == []
    assert not [c for c in cgroups if c.exists()]
    assert _pids_in(pidns) == []
    assert own.ports_free()
    assert not workdir.exists()
    _report(fleet, stop_seconds=round(stop_seconds, 2))


_KILLED_CONTROLLER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from tests.lab.systemd_hosts import SystemdFleet, SystemdHostSpec
f = SystemdFleet([SystemdHostSpec.debian_clean("sd-orphan")], addr_base=sys.argv[2])
f.start()
h = f.hosts["sd-orphan"]
print(json.dumps({"leader": h.leader, "nspawn": h.nspawn, "pidns": h.pidns, "workdir": str(f.workdir),
                  "cgroups": [str(c) for c in h.cgroups]}), flush=True)
time.sleep(300)
"""


def test_a_killed_controller_leaves_no_host_running(fleet):
    """SIGKILL the process that booted a host (pytest killed by a CI timeout): the host
    dies with it, and the next fleet removes its cgroup dirs and work dir."""
    base = next(f"127.42.{k}." for k in range(200, 255) if port_free(f"127.42.{k}.1", SSH_PORT))
    repo = str(Path(__file__).resolve().parents[2])
    p = subprocess.Popen([sys.executable, "-c", _KILLED_CONTROLLER, repo, base],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(p.stdout.readline() or "null") or pytest.fail(p.stderr.read())
    finally:
        p.kill()
        p.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _pids_in(info["pidns"]):
        time.sleep(0.1)
    assert _pids_in(info["pidns"]) == []
    for pid in (info["leader"], info["nspawn"]):
        assert not os.path.exists(f"/proc/{pid}") or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    assert port_free(f"{base}1", SSH_PORT)
    reap_stale_runs()
    assert not Path(info["workdir"]).exists()
    assert not [c for c in info["cgroups"] if os.path.exists(c)]


def _pids_in(pidns: str) -> list[str]:
    out = []
    for d in os.listdir("/proc"):
        try:
            if d.isdigit() and os.readlink(f"/proc/{d}/ns/pid") == pidns:
                out.append(d)
        except OSError:
            pass
    return out


def _report(fleet: SystemdFleet, **extra) -> None:
    """Timings and memory of the session's fleet, for the record."""
    data = fleet.report()
    data["rootfs"] = [{k: m.get(k) for k in ("name", "build_seconds", "download_seconds",
                                             "install_seconds", "built_at")}
                      for m in rootfs.cached_builds()]
    data["smoke_module_seconds"] = round(time.monotonic() - _T0, 1)
    data.update(extra)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(data, indent=1) + "\n")
    print(json.dumps(data, indent=1))
