# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The optout role and playbooks/enforce_optout.yml on a mixed lab fleet.

Judged by Netdata itself: its own anonymous-statistics.sh (fake curl first on PATH) run
with the environment the service would start the agent with (the lab's systemd stand-in
folds the unit and drop-ins exactly as it does when it starts the daemon), and the real
1.37.1 daemon's registry hello. Tests run in file order on one module-scoped fleet.
"""
from __future__ import annotations

import json
import re
import shlex
import time

import pytest

from tests.lab import Fleet, HostSpec, play_recap, snippets
from tests.lab.fleet import IN_HOST_COMMON, IN_HOST_FAKEBIN, SYSTEM_PATH

PLAYBOOK = "playbooks/enforce_optout.yml"
DROPIN_DIR = "/etc/systemd/system/netdata.service.d"
DROPIN = f"{DROPIN_DIR}/zz-netdata-fleet-telemetry.conf"
OPTOUT = ".opt-out-from-anonymous-statistics"
STATIC_CONF = "/opt/netdata/etc/netdata"
HOSTILE_CONF = (b"# my settings\r\n[global]\r\n\trun as user = netdata\r\n\r\n[web]\r\n"
                b"  crash reports = off\r\n  default port = 19999\r\n[global]\r\n  history = 3600\r\n")
USER_DROPIN = "[Service]\nEnvironment=DO_NOT_TRACK=1\n"

DAEMON, DEB, ENVONLY, DNT0, DNTEMPTY = "r-daemon", "r-deb", "r-envonly", "r-dnt0", "r-dntempty"
NONE, STATIC, CLAIMED, HOSTILE = "r-none", "r-static", "r-claimed", "r-hostile"
SYMLINK, READONLY = "r-symlink", "r-readonly"
# host -> config dir of its (only) install, None without Netdata
GOOD = {DAEMON: "/etc/netdata", DEB: "/etc/netdata", ENVONLY: "/etc/netdata",
        DNT0: "/etc/netdata", DNTEMPTY: "/etc/netdata", NONE: None, STATIC: STATIC_CONF,
        CLAIMED: STATIC_CONF, HOSTILE: "/etc/netdata"}
BAD = (SYMLINK, READONLY)
# kickstart-static installs its own unit; without one nothing tells what environment the
# agent would start with (the facts then call an opt-in unprovable).
STATIC_UNIT = snippets.write_file(
    "/lib/systemd/system/netdata.service",
    "[Unit]\nDescription=Netdata (static)\n[Service]\nType=simple\n"
    "ExecStart=/opt/netdata/usr/sbin/netdata -P /run/netdata/netdata.pid -D\n")


@pytest.fixture(scope="module")
def fleet(lab_fleet_factory) -> Fleet:
    return lab_fleet_factory([
        HostSpec.clean(DAEMON, daemon=True),
        HostSpec.debian_default(DEB),
        HostSpec.clean(ENVONLY, setup=snippets.systemd_dropin(USER_DROPIN, "10-user.conf")),
        HostSpec.clean(DNT0, setup=snippets.systemd_dropin(
            "[Service]\nEnvironment=DO_NOT_TRACK=0\n", "10-user.conf")),
        HostSpec.clean(DNTEMPTY, setup=snippets.systemd_dropin(
            "[Service]\nEnvironment=DO_NOT_TRACK=\n", "10-user.conf")),
        HostSpec.no_netdata(NONE),
        HostSpec.static_install(STATIC, version="2.3.1", setup=STATIC_UNIT),
        HostSpec.static_install(CLAIMED, version="2.6.0", setup=STATIC_UNIT + snippets.cloud_conf(
            "[global]\n  enabled = yes\n  claimed_id = 6e1b2b4e-0a6b-4b59-9d0a-6f2f1d1c1e11\n",
            "/opt/netdata/var/lib/netdata")),
        HostSpec.clean(HOSTILE, setup="printf '" + HOSTILE_CONF.decode().replace("\r", "\\r")
                       .replace("\n", "\\n").replace("\t", "\\t") + "' > /etc/netdata/netdata.conf\n"),
        HostSpec.clean(SYMLINK, setup="echo precious > /root/victim\nmkdir -p " + DROPIN_DIR
                       + "\nln -s /root/victim " + DROPIN + "\n"),
        # A read-only config dir: a read-only bind mount of it onto itself, in the host's
        # own mount namespace (chattr +i needs a file system that supports it).
        HostSpec.clean(READONLY, setup="mount --bind /etc/netdata /etc/netdata\n"
                       "mount -o remount,bind,ro /etc/netdata\n"),
    ])


# ---------------------------------------------------------------- helpers

def play(fleet: Fleet, check=False, limit=None, **extra):
    r = fleet.ansible_playbook(PLAYBOOK, extra_vars=extra or None, check=check, limit=limit)
    return r, play_recap(r.stdout)


def statistics_would_send(fleet: Fleet, host: str, config_dir: str) -> bool:
    """Run Netdata's anonymous-statistics.sh as the agent would (its service environment,
    fake curl first on PATH); True when it called curl. Debian's script tests
    /etc/netdata; for a static install its own build tests <prefix>/etc/netdata, so a
    copy with that path is run."""
    src = f"{IN_HOST_COMMON}/netdata-scripts/anonymous-statistics.sh"
    script = "/tmp/judge-anonymous-statistics.sh"
    log = "/tmp/judge-curl.log"
    env = fleet.service_env(host)
    env_args = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    cmd = (f"sed 's#/etc/netdata/{OPTOUT}#{config_dir}/{OPTOUT}#' {src} > {script} && rm -f {log} && "
           f"env FAKE_CURL_LOG={log} {env_args} /bin/sh {script} START SUCCESS '' >/dev/null 2>&1; "
           f"cat {log} 2>/dev/null; true")
    r = fleet.run(host, cmd, path=f"{IN_HOST_FAKEBIN}:{SYSTEM_PATH}")
    calls = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    return any("posthog" in u or "netdata" in u for c in calls for u in c["urls"])


HASH_TREE = r"""
import hashlib, os, stat, sys
h = hashlib.sha256()
for top in ("/etc", "/opt", "/root/victim"):
    for d, dirs, files in os.walk(top):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(d, n)
            st = os.lstat(p)
            h.update(("%s %o %d %d\n" % (p, st.st_mode, st.st_uid, st.st_gid)).encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(p).encode())
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    h.update(f.read())
print(h.hexdigest())
"""


def tree_hashes(fleet: Fleet, host: str) -> str:
    """One digest of every path, mode, owner and content under /etc and /opt (all the
    role may write) in the host."""
    return fleet.run(host, "python3 -", input=HASH_TREE, check=True).stdout.strip()


def daemon_start_events(fleet: Fleet, host: str, wait: float = 15.0) -> list:
    """The fake-curl calls the running daemon's own statistics script made since the log
    was cleared (it runs the script at start, asynchronously)."""
    deadline = time.monotonic() + wait
    while True:
        calls = [c for c in fleet.curl_calls(host) if any("posthog" in u for u in c["urls"])]
        if calls or time.monotonic() > deadline:
            return calls
        time.sleep(0.5)


# ---------------------------------------------------------------- before

def test_starting_point(fleet):
    assert fleet.hello(DAEMON)["anonymous_statistics"] is True
    for host in (DAEMON, ENVONLY, DNTEMPTY, STATIC, CLAIMED, HOSTILE):
        assert statistics_would_send(fleet, host, GOOD[host]) is (host not in (ENVONLY,)), host
    assert statistics_would_send(fleet, DNT0, "/etc/netdata") is False  # any non-empty value
    assert statistics_would_send(fleet, DEB, "/etc/netdata") is False


def test_check_mode_is_an_audit_that_changes_no_byte(fleet):
    before = {h: tree_hashes(fleet, h) for h in fleet.names}
    r, rc = play(fleet, check=True)
    after = {h: tree_hashes(fleet, h) for h in fleet.names}
    assert before == after, "--check changed bytes"
    assert r.returncode != 0, "the audit must fail when hosts are not compliant"
    assert "(audit, --check: nothing changed)" in r.stdout
    # hosts already compliant pass; the others fail with the audit's reasons
    assert rc[DEB]["failed"] == 0 and rc[NONE]["failed"] == 0, rc
    assert all(rc[h]["failed"] == 1 for h in (DAEMON, DNT0, STATIC, CLAIMED, SYMLINK, READONLY)), rc
    assert "Netdata telemetry not compliant (audit)" in r.stdout
    assert all(rc[h]["changed"] == 1 for h in (DAEMON, DNT0, STATIC)), rc  # "would change"


def test_deferred_restart_is_reported_as_drift(fleet):
    fleet.clear_curl_calls(DAEMON)
    r, rc = play(fleet, limit=DAEMON, netdata_telemetry_restart=False)
    assert rc[DAEMON]["failed"] == 1, r.stdout
    assert "(drift: the running agent differs from its configuration until it restarts)" in r.stdout
    assert fleet.hello(DAEMON)["anonymous_statistics"] is True  # not restarted


# ---------------------------------------------------------------- opt-out

def test_optout_first_run(fleet):
    fleet.clear_curl_calls(DAEMON)
    r, rc = play(fleet)
    out = r.stdout + r.stderr
    assert r.returncode != 0  # the two bad hosts fail
    for host in GOOD:
        assert rc[host]["failed"] == 0 and rc[host]["unreachable"] == 0, (host, out)
    assert rc[SYMLINK]["failed"] == 1 and rc[READONLY]["failed"] == 1, out
    assert "is a symlink; refusing" in out
    assert re.search(r"config dir /etc/netdata is (read-only file system|not writable)", out), out
    summary = out[out.index("Compliance summary"):]
    assert re.search(r"failed:\s+2\s+r-symlink, r-readonly", summary), summary
    assert re.search(r"NOT COMPLIANT:\s+2\s+r-symlink, r-readonly", summary), summary
    assert re.search(r"opted out:\s+8\s", summary) and re.search(r"no Netdata:\s+1\s+r-none", summary), summary


def test_real_daemon_restarted_and_quiet(fleet):
    assert fleet.hello(DAEMON)["anonymous_statistics"] is False
    assert daemon_start_events(fleet, DAEMON, wait=8) == []
    assert fleet.service_env(DAEMON) == {"DO_NOT_TRACK": "1", "DISABLE_TELEMETRY": "1"}


def test_statistics_script_quiet_everywhere(fleet):
    for host, config_dir in GOOD.items():
        if config_dir is None:
            continue
        assert statistics_would_send(fleet, host, config_dir) is False, host
        assert fleet.exists(host, f"{config_dir}/{OPTOUT}"), host


def test_files_written_safely(fleet):
    r = fleet.run(DEB, f"stat -c '%a %u %g %s' {DROPIN} /etc/netdata/{OPTOUT}", check=True)
    assert r.stdout.split("\n")[0].startswith("644 0 0")
    text = fleet.read_file(DEB, DROPIN)
    assert "Environment=DO_NOT_TRACK=1" in text and "Environment=DISABLE_TELEMETRY=1" in text
    # the user's own drop-in is kept
    assert fleet.read_file(ENVONLY, f"{DROPIN_DIR}/10-user.conf") == USER_DROPIN
    # v2 crash reports off on the static installs (claimed or not)
    for host in (STATIC, CLAIMED):
        assert "crash reports = off" in fleet.read_file(host, f"{STATIC_CONF}/netdata.conf")


def test_hostile_conf_keeps_every_user_line(fleet):
    r = fleet.run(HOSTILE, "cat /etc/netdata/netdata.conf | od -An -c | tr -s ' '", check=True)
    raw = fleet.run(HOSTILE, "base64 -w0 /etc/netdata/netdata.conf", check=True).stdout
    import base64
    data = base64.b64decode(raw)
    for line in HOSTILE_CONF.split(b"\r\n"):
        assert line in data.split(b"\r\n"), (line, data)
    assert b"crash reports = off\r\n" in data.split(b"[web]")[0], data  # in the first [global]
    assert r.returncode == 0


def test_symlink_not_followed_and_readonly_untouched(fleet):
    assert fleet.read_file(SYMLINK, "/root/victim") == "precious\n"
    assert fleet.run(SYMLINK, f"test -L {DROPIN}").returncode == 0
    # the plan failed before anything was written on that host
    assert not fleet.exists(SYMLINK, f"/etc/netdata/{OPTOUT}")
    assert not fleet.exists(READONLY, f"/etc/netdata/{OPTOUT}")


def test_optout_second_run_changes_nothing(fleet):
    r, rc = play(fleet)
    for host in GOOD:
        assert rc[host]["changed"] == 0 and rc[host]["failed"] == 0, (host, r.stdout)


def test_optout_check_mode_when_converged(fleet):
    before = {h: tree_hashes(fleet, h) for h in GOOD}
    r, rc = play(fleet, check=True, limit=",".join(GOOD))
    assert r.returncode == 0, r.stdout
    assert all(rc[h]["changed"] == 0 for h in GOOD), rc
    assert before == {h: tree_hashes(fleet, h) for h in GOOD}


# ---------------------------------------------------------------- opt-in

def test_optin(fleet):
    fleet.clear_curl_calls(DAEMON)
    r, rc = play(fleet, limit=",".join(GOOD), netdata_telemetry_opt_out=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"opted in:\s+8\s", r.stdout), r.stdout
    assert fleet.hello(DAEMON)["anonymous_statistics"] is True
    assert daemon_start_events(fleet, DAEMON), "the restarted daemon's START event was not sent"


def test_statistics_script_sends_after_optin(fleet):
    for host, config_dir in GOOD.items():
        if config_dir is None:
            continue
        assert statistics_would_send(fleet, host, config_dir) is True, (host, fleet.service_env(host))


def test_optin_neutralises_without_deleting_user_files(fleet):
    for host in (ENVONLY, DNT0):
        assert fleet.exists(host, f"{DROPIN_DIR}/10-user.conf"), host
        text = fleet.read_file(host, DROPIN)
        assert "Environment=DO_NOT_TRACK=\n" in text, host
    for host in (DEB, DNTEMPTY, DAEMON):  # nothing to neutralise: the managed drop-in is gone
        assert not fleet.exists(host, DROPIN), host
    raw = fleet.run(HOSTILE, "base64 -w0 /etc/netdata/netdata.conf", check=True).stdout
    import base64
    assert base64.b64decode(raw) == HOSTILE_CONF


def test_optin_second_run_changes_nothing(fleet):
    r, rc = play(fleet, limit=",".join(GOOD), netdata_telemetry_opt_out=False)
    assert r.returncode == 0
    for host in GOOD:
        assert rc[host]["changed"] == 0, (host, r.stdout)


def test_unreachable_host_is_counted(fleet, tmp_path):
    """A host nobody answers for is listed as unreachable, not as compliant."""
    ghost = tmp_path / "ghost.ini"
    ghost.write_text(f"[lab]\nr-ghost ansible_host={fleet.addr_base}250\n")
    r, rc = play_with(fleet, "-i", str(ghost), "--limit", ",".join([*GOOD, "r-ghost"]),
                      extra={"netdata_telemetry_opt_out": False})
    assert rc["r-ghost"]["unreachable"] == 1, r.stdout
    assert re.search(r"unreachable:\s+1\s+r-ghost", r.stdout), r.stdout
    assert r.returncode != 0
    assert all(rc[h]["failed"] == 0 for h in GOOD), rc


def play_with(fleet: Fleet, *args, extra=None):
    r = fleet.ansible_playbook(PLAYBOOK, *args, extra_vars=extra)
    return r, play_recap(r.stdout)


def test_role_on_its_own_fails_the_host_with_a_clear_message(fleet, tmp_path):
    """Without the playbook (no deferred failure): a deferred restart fails the host
    naming the drifting channels; a planted symlink fails it naming the path."""
    pb = tmp_path / "role.yml"
    pb.write_text("- hosts: all\n  gather_facts: false\n  roles:\n"
                  "    - role: netdata_fleet.telemetry.optout\n")
    r = fleet.ansible_playbook(pb, limit=f"{DAEMON},{SYMLINK}",
                               extra_vars={"netdata_telemetry_restart": False})
    rc = play_recap(r.stdout)
    assert rc[DAEMON]["failed"] == 1 and rc[SYMLINK]["failed"] == 1, r.stdout
    assert "Netdata telemetry is not opted out on this host" in r.stdout
    assert "daemon_analytics: on (drift" in r.stdout, r.stdout
    assert f"{DROPIN} is a symlink; refusing" in r.stdout
    assert fleet.hello(DAEMON)["anonymous_statistics"] is True  # restart deferred
