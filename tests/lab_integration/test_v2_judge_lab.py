# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netdata's real v2.10.4 daemon judges the collection's v2 rules (docs/dev/telemetry-rules.md).

Five hosts boot real systemd 252 in parallel, each with v2.10.4 as a static install under
/opt/netdata and an HTTPS sink that records what the daemon sends. Each host goes through
three cases, one per step (pre-boot `setup` for the first, then an edit and a restart; all
hosts move at once and one netdata_facts run judges them all):

  host      step 1                          step 2                          step 3
  vj-env    1 defaults                      3 DISABLE_TELEMETRY=1 drop-in   4 DO_NOT_TRACK=1 drop-in
  vj-file   2 opt-out file (0644)           5 file + crash reports = all    6 crash reports = off,
                                                                              no file (analytics on)
  vj-claim  8 claimed (cloud.d/claimed_id)  8 the same, second start        unclaimed since (claimed_id
            + opt-out file, first start                                     removed), opt-out file
  vj-crash  7 crash reports = crashes       7 crashes, start after kill -9  crash reports = yes
  vj-hand   9 no unit, started by hand      9 by hand, DO_NOT_TRACK=1       9 by hand, DISABLE_TELEMETRY=1
            (systemd-run: a transient unit,
            not netdata.service)

then every host restarts with its step-3 configuration unchanged (the facts' "next start"),
the role (`playbooks/enforce_optout.yml`) opts all five out and the unit hosts back in,
and the facts are judged again after each run.

Proven by the real daemon here:
- daemon_analytics live/running/enabled = its `registry?action=hello` answer, and
  configured = the hello of the next start (step 3 -> restart, and each role restart);
- crash_reports running = whether this start posted a status report to agent-events
  (`crashes`: on, no post at a clean start, a post at the start after `kill -9`);
- crash_reports configured/enabled = whether the next start posts: step 1 -> 2 of the
  claimed node (the claim id counts through the previous session's status file: no post at
  its first start, a post at its second), step 3 -> restart for every case (an unclaimed
  node posts once more, then not), and the role's restarts (none posts after opt-out);
- the host verdict: opted_out only where hello is false and the next start does not post;
  opted_in only where both are on and nothing says no;
- statistics_script does not apply: no host sent anything to posthog.
By source reading only: `configured` at steps 1 and 2 whose next start came with a changed
configuration (the same rules over unchanged inputs, cited in `_rules/channels.py`), and
the installer channel (packaging/installer/kickstart.sh).

Tests run in file order on one module-scoped fleet. Skipped with the reason when the
v2.10.4 tarball (tests/lab/rootfs.py V2_TARBALL) or the systemd lab is missing.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import time

import pytest

from tests.lab import play_recap, rootfs
from tests.lab.systemd_hosts import V2_CONFDIR, V2_PREFIX, SystemdHostSpec

pytestmark = pytest.mark.skipif(bool(rootfs.v2_available()), reason=str(rootfs.v2_available()))

ENV, FILE, CLAIM, CRASH, HAND = "vj-env", "vj-file", "vj-claim", "vj-crash", "vj-hand"
HOSTS = (ENV, FILE, CLAIM, CRASH, HAND)
UNITS = (ENV, FILE, CLAIM, CRASH)
PLAYBOOK = "playbooks/enforce_optout.yml"
CONF = f"{V2_CONFDIR}/netdata.conf"
OPT_OUT = f"{V2_CONFDIR}/.opt-out-from-anonymous-statistics"
LIB = f"{V2_PREFIX}/var/lib/netdata"
CLAIM_ID = "7d3a4c5e-8f1b-4e2a-9c6d-0b1e2f3a4b5c"
DROPIN = "/etc/systemd/system/netdata.service.d/10-lab.conf"
DAEMON = f"{V2_PREFIX}/usr/sbin/netdata"
KILL = "systemctl kill --signal=SIGKILL netdata; while systemctl is-active -q netdata; do sleep 0.1; done"


@dataclasses.dataclass(frozen=True)
class Case:
    """What the daemon does in one case (lab README, src/daemon/status-file.c v2.10.4)."""
    title: str
    hello: bool          # registry?action=hello anonymous_statistics
    posts: bool          # a status POST to agent-events at this start
    crash_running: bool  # what this start decided for crash reports
    crash_next: bool     # what the next start decides
    state: str           # the host verdict


STEPS = {
    ENV: (Case("1 defaults", True, True, True, True, "opted_in"),
          Case("3 DISABLE_TELEMETRY=1 in a unit drop-in", False, False, False, False, "opted_out"),
          Case("4 DO_NOT_TRACK=1 only", True, True, True, True, "partial")),
    FILE: (Case("2 opt-out file (0644) only", False, False, False, False, "opted_out"),
           Case("5 opt-out file + crash reports = all", False, True, True, True, "partial"),
           Case("6 crash reports = off, analytics on", True, False, False, False, "partial")),
    CLAIM: (Case("8 claimed + opt-out file, first start", False, False, False, True, "partial"),
            Case("8 claimed + opt-out file, second start", False, True, True, True, "partial"),
            # this start read the old claim id from the status file; this session keeps none
            Case("unclaimed since, opt-out file", False, True, True, False, "opted_out")),
    CRASH: (Case("7 crash reports = crashes, clean start", True, False, True, True, "opted_in"),
            Case("7 crash reports = crashes, start after kill -9", True, True, True, True, "opted_in"),
            Case("crash reports = yes (not exactly all/crashes)", True, False, False, False, "partial")),
    HAND: (Case("9 by hand, defaults", True, True, True, True, "opted_in"),
           Case("9 by hand, DO_NOT_TRACK=1", True, True, True, True, "partial"),
           Case("9 by hand, DISABLE_TELEMETRY=1", False, False, False, False, "opted_out")),
}
HAND_ENV = ("", "-E DO_NOT_TRACK=1", "-E DISABLE_TELEMETRY=1")

# The edit that moves each unit host from step k-1 to step k (then `systemctl restart`).
EDITS = {
    ENV: (None,
          f"mkdir -p {DROPIN.rsplit('/', 1)[0]} && printf '[Service]\\nEnvironment=DISABLE_TELEMETRY=1\\n' > {DROPIN}"
          " && systemctl daemon-reload",
          f"printf '[Service]\\nEnvironment=DO_NOT_TRACK=1\\n' > {DROPIN} && systemctl daemon-reload"),
    FILE: (None,
           f"printf '[global]\\n\\tcrash reports = all\\n' >> {CONF}",
           f"rm {OPT_OUT} && sed -i 's/crash reports = all/crash reports = off/' {CONF}"),
    CLAIM: (None, None, f"rm {LIB}/cloud.d/claimed_id"),
    CRASH: (None, KILL, f"sed -i 's/crash reports = crashes/crash reports = yes/' {CONF}"),
}

# Pre-boot setup (chroot, before the first start).
SETUP = {
    FILE: f"chmod 0644 {OPT_OUT}\n",
    # the claim id where v2.10.4 reads it (claimed_id_load_from_file in src/claim/claim.c)
    CLAIM: (f"mkdir -p {LIB}/cloud.d && echo {CLAIM_ID} > {LIB}/cloud.d/claimed_id\n"
            f"chown -R netdata:netdata {LIB}/cloud.d\n"),
    CRASH: f"printf '[global]\\n\\tcrash reports = crashes\\n' >> {CONF}\n",
    # No unit at all: netdata.service disabled and removed (the lab's v2 layer installs it
    # in /usr/lib/systemd/system, where install-service.sh puts it on Debian 12).
    HAND: "rm -f /usr/lib/systemd/system/netdata.service /lib/systemd/system/netdata.service\n",
}

_failed: list[str] = []
_timings: dict[str, float] = {}
_step3: dict[str, dict] = {}
_hand = {"unit": 0}


@pytest.fixture(scope="module")
def fleet(systemd_fleet_factory):
    t = time.monotonic()
    specs = [SystemdHostSpec.v2(ENV),
             SystemdHostSpec.v2(FILE, opted_out=True, setup=SETUP[FILE]),
             SystemdHostSpec.v2(CLAIM, opted_out=True, setup=SETUP[CLAIM]),
             SystemdHostSpec.v2(CRASH, setup=SETUP[CRASH]),
             SystemdHostSpec.v2(HAND, netdata=False, setup=SETUP[HAND])]
    fleet = systemd_fleet_factory(specs)
    start_by_hand(fleet, HAND_ENV[0])
    for host in HOSTS:
        fleet.wait_hello(host)
    _timings["boot"] = time.monotonic() - t
    yield fleet
    # Five hosts are not kept for the rest of the session (memory, inotify instances).
    t = time.monotonic()
    fleet.stop()
    _timings["stop"] = time.monotonic() - t
    # what the module cost (CI runs it on 2 cores); shown with -s
    print("\ntest_v2_judge_lab timings (s):", {k: round(v, 1) for k, v in _timings.items()})


def need(what):
    if _failed:
        pytest.skip(f"{_failed[0]} failed: the hosts are not in the cases {what} expects")


def start_by_hand(fleet, env_args):
    """Stop the hand host's daemon, start a new one as an admin would by hand, with no
    unit the collection knows: a transient systemd-run unit (by-hand-N), which also gives
    it systemd's clean environment (no CI variable, which would stop v2's post)."""
    n = _hand["unit"]
    if fleet.run(HAND, f"systemctl is-active -q by-hand-{n - 1}").returncode == 0:
        fleet.run(HAND, f"systemctl stop by-hand-{n - 1}", check=True, timeout=180)
    fleet.run(HAND, f"systemd-run --unit=by-hand-{n} {env_args} {DAEMON} -D", check=True)
    _hand["unit"] = n + 1
    return fleet.wait_hello(HAND)


def daemon_pid(fleet, host):
    if host != HAND:
        return fleet.main_pid(host)
    r = fleet.run(HAND, f"systemctl show -p MainPID --value by-hand-{_hand['unit'] - 1}", check=True)
    return int(r.stdout.strip())


def parallel(fn, hosts):
    with concurrent.futures.ThreadPoolExecutor(len(hosts)) as pool:
        return dict(zip(hosts, pool.map(fn, hosts)))


def facts(fleet, tmp_path, limit=None):
    t = time.monotonic()
    got = fleet.netdata_facts(tmp_path, subset=("telemetry",), limit=limit)
    _timings["facts runs"] = _timings.get("facts runs", 0.0) + time.monotonic() - t
    return got


def only_install(host_facts):
    installs = host_facts["installs"]
    assert len(installs) == 1, installs
    return installs[0]


def observe(fleet, host):
    """What the daemon says now: its hello, whether its start posted (the sink's records
    since the last clear: v2 posts synchronously while it starts, before it serves hello)
    and why, and whether anything went to posthog."""
    reports = fleet.crash_reports(host)
    return {"hello": fleet.hello(host)["anonymous_statistics"], "posted": bool(reports),
            "causes": [json.loads(r["body"]).get("exit_cause") for r in reports],
            "posthog": len(fleet.sink_posts(host, "posthog.netdata.cloud"))}


def judge(fleet, host, host_facts, case):
    """Mismatches between the facts, the daemon and the case (empty: all agree)."""
    bad = []

    def check(what, got, want):
        if got != want:
            bad.append(f"{host} [{case.title}] {what}: {got!r} != {want!r}")

    seen = observe(fleet, host)
    install = only_install(host_facts)
    check("daemon pid", install["daemon"]["pid"], daemon_pid(fleet, host))
    check("version", install["version"], "2.10.4")
    # the daemon is in the case the step set up
    check("daemon: hello", seen["hello"], case.hello)
    check(f"daemon: posted at this start (exit causes {seen['causes']})", seen["posted"], case.posts)
    check("daemon: requests to posthog (no statistics script in v2.6+)", seen["posthog"], 0)
    ch = install["telemetry"]["channels"]
    da, cr = ch["daemon_analytics"], ch["crash_reports"]

    def why(channel):
        return "; ".join(channel["reasons"])
    # the facts say what the daemon says
    for key in ("live", "running", "enabled"):
        check(f"daemon_analytics.{key} vs hello ({why(da)})", da[key], seen["hello"])
    check(f"daemon_analytics.configured ({why(da)})", da["configured"], case.hello)
    check("daemon_analytics.drift", da["drift"], False)
    check(f"crash_reports.running ({why(cr)})", cr["running"], case.crash_running)
    if case.crash_running != seen["posted"]:  # on, yet no post: only `crashes` at a clean start
        check("crash reports = crashes", install["netdata_conf"]["crash_reports"], "crashes")
    check(f"crash_reports.enabled/configured ({why(cr)})", (cr["enabled"], cr["configured"]),
          (case.crash_next, case.crash_next))
    check("statistics_script.applies", ch["statistics_script"]["applies"], False)
    check("installer.enabled", ch["installer"]["enabled"], True)
    check(f"host state ({host_facts['telemetry']['reasons']})", host_facts["telemetry"]["state"], case.state)
    # the verdict follows from what the daemon does now and at its next start
    if host_facts["telemetry"]["opted_out"]:
        check("opted out: hello", seen["hello"], False)
        check("opted out: the next start posts", cr["configured"], False)
    return bad


@pytest.mark.parametrize("step", [0, 1, 2], ids=["step1", "step2", "step3"])
def test_facts_match_the_daemon(fleet, tmp_path, step):
    need(f"step{step + 1}")
    _failed.append(f"step{step + 1}")
    t = time.monotonic()
    if step:
        parallel(fleet.clear_sink, HOSTS)

        def move(host):
            if host == HAND:
                return start_by_hand(fleet, HAND_ENV[step])
            if EDITS[host][step]:
                fleet.run(host, EDITS[host][step], check=True, timeout=120)
            return fleet.restart_netdata(host)
        parallel(move, HOSTS)
    _timings[f"step{step + 1} moves"] = time.monotonic() - t
    got = facts(fleet, tmp_path)
    _step3.update(got)
    problems = []
    for host in HOSTS:
        problems += judge(fleet, host, got[host], STEPS[host][step])
    assert not problems, "\n".join(problems)
    _failed.pop()


def test_next_start_does_what_the_facts_said(fleet):
    """Every host restarts with its step-3 configuration unchanged (the hand-started one
    by hand, with the same environment): its hello is the facts' daemon_analytics
    configured, its post the facts' crash_reports configured."""
    need("the next start")
    parallel(fleet.clear_sink, HOSTS)
    t = time.monotonic()
    parallel(lambda h: start_by_hand(fleet, HAND_ENV[2]) if h == HAND else fleet.restart_netdata(h), HOSTS)
    _timings["next starts"] = time.monotonic() - t
    problems = []
    for host in HOSTS:
        channels = only_install(_step3[host])["telemetry"]["channels"]
        seen = observe(fleet, host)
        said = (channels["daemon_analytics"]["configured"], channels["crash_reports"]["configured"])
        if (seen["hello"], seen["posted"]) != said:
            problems.append(f"{host} [{STEPS[host][2].title}] next start: hello {seen['hello']}, posted "
                            f"{seen['posted']} {seen['causes']}; the facts said {said}")
    assert not problems, "\n".join(problems)


def play(fleet, limit=None, **extra):
    t = time.monotonic()
    r = fleet.ansible_playbook(PLAYBOOK, extra_vars=extra or None, limit=limit)
    _timings["role runs"] = _timings.get("role runs", 0.0) + time.monotonic() - t
    return r, play_recap(r.stdout)


def test_role_optout_then_facts_match_the_daemons(fleet, tmp_path):
    need("the opt-out")
    parallel(fleet.clear_sink, HOSTS)
    pids = {h: daemon_pid(fleet, h) for h in HOSTS}
    r, rc = play(fleet)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert all(rc[h]["failed"] == 0 for h in HOSTS), rc
    got = facts(fleet, tmp_path)
    problems = []
    for host in HOSTS:
        # restarted where a channel of the running daemon was on (vj-env: DO_NOT_TRACK=1
        # does not stop v2; vj-file, vj-crash: analytics on); vj-claim and the hand-started
        # one were off on every channel: the next start reads the new files anyway
        restarted = daemon_pid(fleet, host) != pids[host]
        if restarted != (host in (ENV, FILE, CRASH)):
            problems.append(f"{host}: restarted {restarted}")
        problems += judge(fleet, host, got[host], Case("after the opt-out", False, False, False, False, "opted_out"))
    assert not problems, "\n".join(problems)


def test_role_optin_then_facts_match_the_daemons(fleet, tmp_path):
    """Opt-in on the unit hosts (a hand-started daemon has no unit the role can restart).
    A user's own `crash reports = off` (vj-file) stays and fails that host; the role had
    made vj-crash's `yes` its own managed `off` and removes it (default: all)."""
    need("the opt-in")
    parallel(fleet.clear_sink, UNITS)
    r, rc = play(fleet, limit=",".join(UNITS), netdata_telemetry_opt_out=False)
    assert r.returncode != 0 and rc[FILE]["failed"] == 1, r.stdout[-4000:]
    assert all(rc[h]["failed"] == 0 for h in UNITS if h != FILE), r.stdout[-4000:]
    assert "crash reports" in r.stdout
    got = facts(fleet, tmp_path, limit=",".join(UNITS))
    on = Case("after the opt-in", True, True, True, True, "opted_in")
    expected = {ENV: on, CLAIM: on, CRASH: on,
                FILE: Case("after the opt-in, the user's crash reports = off", True, False, False, False,
                           "partial")}
    problems = []
    for host in UNITS:
        problems += judge(fleet, host, got[host], expected[host])
    assert not problems, "\n".join(problems)
