# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke tests of the lab itself (tests/lab): real hosts, real sshd, real Netdata 1.37.1.

Tests run in file order on one module-scoped fleet; the last one stops it."""
from __future__ import annotations

import os
import socket
import uuid

import pytest

from tests.lab import Fleet, HostSpec, LabAddressInUse, snippets
from tests.lab.fleet import LAB_DIR, SSH_PORT

CLEAN, OPTOUT, BARE = "lab-clean", "lab-optout", "lab-nonetdata"
OPT_OUT_FILE = "/etc/netdata/.opt-out-from-anonymous-statistics"
LAB_OS_RELEASE = (LAB_DIR / "files" / "os-release").read_text()


@pytest.fixture(scope="module")
def fleet(lab_fleet_factory) -> Fleet:
    return lab_fleet_factory([
        HostSpec.clean(CLEAN, daemon=True, setup=snippets.os_release(**snippets.UBUNTU_2204)
                       + snippets.lsb_release(DISTRIB_ID="Ubuntu", DISTRIB_RELEASE="22.04",
                                              DISTRIB_CODENAME="jammy")),
        HostSpec.debian_default(OPTOUT, daemon=True, setup=snippets.os_release(**snippets.ROCKY_9)),
        HostSpec.no_netdata(BARE, container="docker"),
    ])


def test_each_address_answers_its_own_hostname(fleet):
    assert len({fleet.addr(n) for n in fleet.names}) == 3
    for name in fleet.names:
        r = fleet.ssh(name, "hostname")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == name
        # and a raw connection to that address reaches that host's sshd
        with socket.create_connection((fleet.addr(name), SSH_PORT), timeout=2) as s:
            assert s.recv(64).startswith(b"SSH-2.0-")


def test_ansible_ping_reaches_every_host(fleet):
    r = fleet.ansible("lab", "ping")
    assert r.returncode == 0, r.stdout + r.stderr
    for name in fleet.names:
        assert f"{name} | SUCCESS" in r.stdout, r.stdout
    assert r.stdout.count('"ping": "pong"') == 3


def test_ansible_facts_see_each_hosts_identity(fleet, tmp_path):
    pb = tmp_path / "facts.yml"
    pb.write_text(
        "- hosts: lab\n  gather_facts: true\n  tasks:\n"
        "    - ansible.builtin.debug:\n"
        "        msg: \"ID {{ inventory_hostname }}={{ ansible_facts.hostname }}/{{ ansible_facts.distribution }}\"\n")
    r = fleet.ansible_playbook(pb)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"ID {CLEAN}={CLEAN}/Ubuntu" in r.stdout
    assert f"ID {OPTOUT}={OPTOUT}/Rocky" in r.stdout
    assert f"ID {BARE}={BARE}/Debian" in r.stdout


def test_os_release_is_per_host(fleet):
    assert 'ID="ubuntu"' in fleet.read_file(CLEAN, "/etc/os-release")
    assert 'ID="rocky"' in fleet.read_file(OPTOUT, "/etc/os-release")
    assert "ID=debian" in fleet.read_file(BARE, "/etc/os-release")
    assert fleet.read_file(OPTOUT, "/etc/lsb-release") is None
    assert "DISTRIB_CODENAME" in fleet.read_file(CLEAN, "/etc/lsb-release")
    with open("/etc/os-release") as f:  # the machine's own is untouched
        machine_os_release = f.read()
    assert 'ID="ubuntu"' not in machine_os_release
    # Nothing of the machine's OS identity shows through: the hosts that set none get the
    # lab's (Debian 12, no /etc/lsb-release), whatever the machine has.
    assert fleet.read_file(BARE, "/etc/os-release") == LAB_OS_RELEASE
    assert fleet.read_file(BARE, "/usr/lib/os-release") == LAB_OS_RELEASE
    assert fleet.read_file(BARE, "/etc/lsb-release") is None
    # Netdata's own detection agrees (as host OS on the bare hosts, container OS on the
    # docker-looking one).
    clean = fleet.system_info(CLEAN)
    assert (clean["host_os_id"], clean["host_os_version_id"]) == ("ubuntu", "22.04")
    assert clean["host_os_detection"] == "/etc/os-release"  # complete: lsb-release not needed
    assert fleet.system_info(OPTOUT)["host_os_id"] == "rocky"
    info = fleet.system_info(BARE)
    assert info["container_os_id"] == "debian" and info["host_os_id"] == "unknown"


def test_container_or_bare_metal_as_system_info_sees_it(fleet):
    bare = fleet.system_info(CLEAN)
    assert bare["system_container"] == "none"
    # What the machine is (VM or bare metal) is the machine's; the host must say the same
    # as systemd's own detection inside it, whatever that is.
    detected = fleet.run(CLEAN, "systemd-detect-virt -v || true").stdout.strip()
    assert bare["system_virtualization"] == detected
    assert bare["instance_cloud_type"] == "unknown"  # fake curl: metadata probe timed out
    assert fleet.system_info(BARE)["system_container"] == "docker"
    assert fleet.exists(BARE, "/.dockerenv") and not fleet.exists(CLEAN, "/.dockerenv")


def test_no_container_runtime_shows_through_from_the_machine(fleet, tmp_path):
    """A fresh Debian host has used no container runtime, whatever the machine has run:
    the facts ask no runtime's CLI there (``podman ps`` costs every facts run). It fails
    on a machine whose own Podman was used, when the lab lets its storage through."""
    for host in (CLEAN, BARE):
        assert not fleet.exists(host, "/var/lib/containers/storage")
    facts = fleet.netdata_facts(tmp_path, subset=("telemetry",), limit=CLEAN)[CLEAN]
    assert facts["container_errors"] == []
    # Any podman call leaves its runroot in the host's own /run: none was made.
    assert not fleet.exists(CLEAN, "/run/containers")


CACHE = "/root/.ansible/tmp/netdata_fleet_telemetry_bytecode"


def test_the_modules_code_is_kept_on_the_host_and_loaded_next_time(fleet):
    """Over SSH with pipelining, as users run it: a module run leaves the code it compiled in
    root's remote_tmp, private to root; the next run loads it (no entry is written anew:
    the same inodes); with bytecode_cache=false a host gets none."""
    # a host starts without one, whatever the machine's own runs left in its ~/.ansible
    # (no module of this collection has run on BARE yet)
    assert not fleet.exists(BARE, CACHE)
    facts = ("netdata_fleet.telemetry.netdata_facts", "gather_subset=telemetry")
    r = fleet.ansible(CLEAN, *facts)
    assert r.returncode == 0, r.stdout + r.stderr
    listing = f"stat -c '%a %U %F' {CACHE} && stat -c '%i %a %U %n' {CACHE}/*"
    first = fleet.run(CLEAN, listing, check=True).stdout.splitlines()
    assert first[0] == "700 root directory", first
    entries = first[1:]
    assert any(".module_utils._rules.channels.cpython-" in line for line in entries), entries
    assert all(" 600 root " in line for line in entries), entries
    r = fleet.ansible(CLEAN, *facts)
    assert r.returncode == 0, r.stdout + r.stderr
    assert fleet.run(CLEAN, listing, check=True).stdout.splitlines() == first
    r = fleet.ansible(BARE, facts[0], facts[1] + " bytecode_cache=false")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not fleet.exists(BARE, CACHE)


def test_host_without_netdata(fleet):
    for path in ("/etc/netdata", "/usr/sbin/netdata", "/usr/lib/netdata"):
        assert not fleet.exists(BARE, path)
        assert fleet.exists(CLEAN, path)
        assert os.path.exists(path), f"the machine lost {path}"
    assert fleet.run(BARE, "dpkg-query -W netdata").returncode != 0
    assert fleet.run(CLEAN, "dpkg-query -W netdata").returncode == 0


def test_files_written_in_one_host_stay_there(fleet):
    marker = f"/etc/lab-marker-{uuid.uuid4().hex}"
    fleet.write_file(CLEAN, marker, "only here\n")
    r = fleet.ssh(CLEAN, f"cat {marker}")  # also visible to an SSH session of that host
    assert r.stdout == "only here\n"
    assert not fleet.exists(OPTOUT, marker)
    assert not fleet.exists(BARE, marker)
    assert not os.path.exists(marker)
    # deleting a file the machine has only hides it in that host
    fleet.run(OPTOUT, "rm /etc/hostname", check=True)
    assert not fleet.exists(OPTOUT, "/etc/hostname")
    assert fleet.exists(CLEAN, "/etc/hostname") and os.path.exists("/etc/hostname")


def test_processes_are_per_host(fleet):
    ps_clean = fleet.run(CLEAN, "ps -eo comm").stdout.split()
    ps_bare = fleet.run(BARE, "ps -eo comm").stdout.split()
    assert "netdata" in ps_clean and "sshd" in ps_clean
    assert "netdata" not in ps_bare and "sshd" in ps_bare


def test_registry_hello_follows_opt_out_file(fleet):
    clean, optout = fleet.hello(CLEAN), fleet.hello(OPTOUT)
    assert clean["hostname"] == CLEAN and optout["hostname"] == OPTOUT
    assert clean["machine_guid"] != optout["machine_guid"]
    assert clean["anonymous_statistics"] is True
    assert optout["anonymous_statistics"] is False
    assert fleet.exists(OPTOUT, OPT_OUT_FILE) and not fleet.exists(CLEAN, OPT_OUT_FILE)


def test_statistics_script_would_send_only_when_not_opted_out(fleet):
    rc, out, calls = fleet.run_netdata_script(CLEAN, "anonymous-statistics.sh", ["TEST", "lab", "-"])
    assert rc == 0
    assert [c["urls"] for c in calls] == [["https://posthog.netdata.cloud/capture/"]]
    assert '"event": "TEST lab"' in calls[0]["argv"][calls[0]["argv"].index("-d") + 1]
    res = fleet.run_netdata_script(OPTOUT, "anonymous-statistics.sh", ["TEST", "lab", "-"])
    assert res.rc == 0 and res.curl_calls == [] and not res.would_send
    res = fleet.run_netdata_script(CLEAN, "anonymous-statistics.sh", ["TEST", "lab", "-"],
                                   env={"DO_NOT_TRACK": "0"})  # any non-empty value opts out
    assert res.curl_calls == []
    # the clean daemon itself reported START through the fake; the opted-out one did not
    events = [c for c in fleet.curl_calls(CLEAN) if "posthog" in " ".join(c["urls"])]
    assert any('"event": "START -"' in " ".join(c["argv"]) for c in events)
    assert not [c for c in fleet.curl_calls(OPTOUT) if "posthog" in " ".join(c["urls"])]


def test_restart_through_the_roles_restart_command(fleet, tmp_path):
    """1.37 decides the analytics flag at start: the file needs a restart, and
    DO_NOT_TRACK alone does not turn the flag off."""
    pb = tmp_path / "optout.yml"
    pb.write_text(
        "- hosts: " + CLEAN + "\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.file: {path: " + OPT_OUT_FILE + ", state: touch}\n"
        "    - ansible.builtin.command: \"{{ netdata_telemetry_restart_command }}\"\n")
    before = fleet.hello(CLEAN)["machine_guid"]
    fleet.run(CLEAN, f"touch {OPT_OUT_FILE}", check=True)
    assert fleet.hello(CLEAN)["anonymous_statistics"] is True  # not yet restarted
    fleet.run(CLEAN, f"rm {OPT_OUT_FILE}", check=True)
    r = fleet.ansible_playbook(pb)
    assert r.returncode == 0, r.stdout + r.stderr
    after = fleet.hello(CLEAN)
    assert after["anonymous_statistics"] is False and after["machine_guid"] == before
    # restart with the file gone and DO_NOT_TRACK=1 in the daemon's environment
    fleet.run(CLEAN, f"rm {OPT_OUT_FILE}", check=True)
    fleet.set_daemon_env(CLEAN, {"DO_NOT_TRACK": "1"})
    try:
        assert fleet.restart_daemon(CLEAN)["anonymous_statistics"] is True
        assert fleet.daemon_env(CLEAN)["env"]["DO_NOT_TRACK"] == "1"
    finally:
        fleet.set_daemon_env(CLEAN, {})
    # the restart command is a no-op (exit 0) where no daemon runs
    assert fleet.ssh(BARE, "/usr/local/sbin/netdata-lab-restart").returncode == 0


def test_a_second_lab_on_the_same_addresses_is_refused(fleet):
    clash = Fleet([HostSpec.clean("clash")], addr_base=fleet.addr_base)
    try:
        with pytest.raises(LabAddressInUse):
            clash.start()
    finally:
        clash.stop()
    assert fleet.ssh(CLEAN, "hostname").stdout.strip() == CLEAN


def test_stop_leaves_nothing_behind(fleet):
    pidnss = {h.pidns for h in fleet.hosts.values()}
    addrs = [fleet.addr(n) for n in fleet.names]
    workdir = fleet.workdir
    fleet.stop()
    left = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            ns = os.readlink(f"/proc/{d}/ns/pid")
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if ns in pidnss or any(f"-i {a} " in cmd for a in addrs) or str(workdir) in cmd:
            left.append((d, cmd))
    assert left == []
    assert fleet.leftover_processes() == []
    for a in addrs:
        for port in (SSH_PORT, fleet.netdata_port):
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((a, port), timeout=1).close()
    assert fleet.ports_free()
    assert not workdir.exists()
