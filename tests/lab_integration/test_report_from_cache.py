# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fleets bigger than one run: job slices, then one report from the fact cache.

A real Redis (Debian's redis-server, on 127.0.0.1, a free port, no persistence) is the
fact cache, through community.general's redis cache plugin, as a fleet run from AWX/AAP
with job slicing or from several controllers would have it. Three ansible-playbook
processes run playbooks/inventory.yml at the same time over disjoint --limit slices of a
lab fleet (real SSH hosts, real netdata_facts); each writes a report of its own slice
only. Then playbooks/report.yml, contacting no host (every address of its inventory
answers nothing; later the fleet is stopped), reports every host exactly once, with a
host that was never reached as "no facts", a host whose facts are old as "stale", and
publishes the counts with set_stats. The same report from `ansible ... --tree DIR`.
stats_event over concurrent slices sends exactly one event per opted-in host to a loopback
collector. Tests run in file order on one module-scoped fleet.
"""
from __future__ import annotations

import concurrent.futures
import csv
import importlib.util
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.lab import SSH_PORT, Fleet, HostSpec, snippets
from tests.lab.synthetic import LOOPBACK_GUARD_ENV

REPO = Path(__file__).resolve().parents[2]
INVENTORY_PB = REPO / "playbooks" / "inventory.yml"
REPORT_PB = REPO / "playbooks" / "report.yml"
SEND_PB = REPO / "playbooks" / "send_event.yml"
ENFORCE_PB = REPO / "playbooks" / "enforce_optout.yml"
VENV_BIN = Path(sys.executable).parent
DAY = 86400

OUT1, OUT2, IN1, IN2, PART, NONE, STATIC, DEAD = (
    "rc-out1", "rc-out2", "rc-in1", "rc-in2", "rc-part", "rc-none", "rc-static", "rc-dead")
LAB_HOSTS = [OUT1, OUT2, IN1, IN2, PART, NONE, STATIC]
ALL_HOSTS = LAB_HOSTS + [DEAD]
SLICES = [[OUT1, IN1, NONE], [OUT2, IN2, DEAD], [PART, STATIC]]  # disjoint, all hosts
EXPECTED = {OUT1: "opted_out", OUT2: "opted_out", IN1: "opted_in", IN2: "opted_in",
            PART: "partial", NONE: "absent", STATIC: "partial"}


def _required() -> bool:
    return os.environ.get("LAB_REQUIRED") == "1" or os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing_or_skip(reason: str) -> None:
    if _required():
        pytest.fail(f"{reason} (LAB_REQUIRED/CI: scripts/bootstrap.sh test installs it)")
    pytest.skip(reason)


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Redis:
    """Debian's redis-server on 127.0.0.1:<free port>: no RDB, no AOF, its own directory."""

    def __init__(self, workdir: Path):
        exe = shutil.which("redis-server")
        if not exe:
            _missing_or_skip("redis-server is not installed (Debian package redis-server)")
        self.port = _free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--daemonize", "no", "--protected-mode", "yes", "--logfile", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.ping():
                return
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited {self.proc.returncode}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not answer PING")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# ------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    if importlib.util.find_spec("redis") is None:
        _missing_or_skip("the redis Python package is not installed (requirements-dev.txt)")
    if not (importlib.util.find_spec("ansible_collections.community.general") or
            (REPO / ".build" / "collections" / "ansible_collections" / "community" / "general").is_dir()):
        _missing_or_skip("community.general (its redis cache plugin) is not installed (requirements-dev.txt: ansible)")
    server = Redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def cache_env(redis) -> dict[str, str]:
    """Ansible's fact cache in that Redis, as each slice, controller and report sees it."""
    return {
        "ANSIBLE_CACHE_PLUGIN": "community.general.redis",
        "ANSIBLE_CACHE_PLUGIN_CONNECTION": f"127.0.0.1:{redis.port}:0",
        "ANSIBLE_CACHE_PLUGIN_PREFIX": f"netdata_report_test_{uuid.uuid4().hex[:8]}_",
        "ANSIBLE_CACHE_PLUGIN_TIMEOUT": "0",
    }


@pytest.fixture(scope="module")
def fleet(lab_fleet_factory) -> Fleet:
    return lab_fleet_factory([
        HostSpec.debian_default(OUT1),
        HostSpec.debian_default(OUT2, setup=snippets.os_release(**snippets.ROCKY_9)),
        # opted in, with a machine GUID each (an event needs one)
        HostSpec.clean(IN1, setup=snippets.os_release(**snippets.UBUNTU_2204)
                       + snippets.machine_guid(str(uuid.uuid4()))),
        HostSpec.clean(IN2, daemon=True, setup=snippets.machine_guid(str(uuid.uuid4()))),
        # Debian's install opted in, a static one opted out: half-way; a lone static 2.3
        # install is half-way too (its crash reports are on)
        HostSpec.static_install(PART, version="2.3.1", opted_out=True, keep_debian=True,
                                setup=snippets.opt_out_file(False)),
        HostSpec.no_netdata(NONE, container="docker"),
        HostSpec.static_install(STATIC, version="2.3.1"),
    ])


@pytest.fixture(scope="module")
def dead_inventory(fleet, tmp_path_factory) -> Path:
    """One more host, in no slice's reach: its address answers nothing (port 1)."""
    path = tmp_path_factory.mktemp("inv") / "dead.ini"
    path.write_text(f"[lab]\n{DEAD} ansible_host={fleet.addr_base}254 ansible_port=1 ansible_ssh_timeout=5\n")
    return path


@pytest.fixture(scope="module")
def down_inventory(fleet, tmp_path_factory) -> Path:
    """The same host names, every address dead: a report that contacted any host would
    find it unreachable."""
    path = tmp_path_factory.mktemp("inv") / "down.ini"
    lines = ["[lab]"] + [f"{h} ansible_host={fleet.addr_base}254 ansible_port=1 ansible_ssh_timeout=3"
                         for h in ALL_HOSTS]
    path.write_text("\n".join(lines) + "\n")
    return path


def ansible_playbook(fleet: Fleet, inventories, playbook, *args, extra_vars=None, env=None, timeout=900):
    argv = [str(VENV_BIN / "ansible-playbook")]
    for inv in inventories:
        argv += ["-i", str(inv)]
    argv.append(str(playbook))
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    argv += list(args)
    e = fleet.ansible_env()
    e.pop("ANSIBLE_INVENTORY", None)
    e.update(env or {})
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=e, cwd=str(REPO),
                          stdin=subprocess.DEVNULL, check=False)


def concurrently(calls):
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def custom_stats(stdout: str) -> dict:
    """What set_stats published (ANSIBLE_SHOW_CUSTOM_STATS=1): the default callback's RUN line."""
    match = re.search(r"^\tRUN: (.*)$", stdout, re.M)
    assert match, stdout[-3000:]
    return json.loads(match.group(1))


def read_report(outdir: Path):
    records = json.loads((outdir / "inventory.json").read_text())
    rows = list(csv.DictReader(io.StringIO((outdir / "inventory.csv").read_text())))
    return records, rows, (outdir / "report.html").read_text()


@pytest.fixture(scope="module")
def slices(fleet, dead_inventory, cache_env, tmp_path_factory):
    """Three inventory.yml processes at once, one per slice, sharing the Redis fact cache."""
    work = tmp_path_factory.mktemp("slices")

    def run(i, hosts):
        return lambda: ansible_playbook(
            fleet, [fleet.inventory_path, dead_inventory], INVENTORY_PB, "--limit", ",".join(hosts),
            extra_vars={"netdata_inventory_dir": str(work / f"slice{i}")}, env=cache_env)
    results = concurrently([run(i, hosts) for i, hosts in enumerate(SLICES)])
    for r in results:
        assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-3000:]
    return work


@pytest.fixture(scope="module")
def report(fleet, slices, down_inventory, cache_env, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "netdata-inventory"
    start = time.monotonic()
    r = ansible_playbook(fleet, [down_inventory], REPORT_PB,
                         extra_vars={"netdata_inventory_dir": str(out), "netdata_report_max_age": DAY},
                         env={**cache_env, "ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    elapsed = time.monotonic() - start
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-3000:]
    return out, r, elapsed


# ------------------------------------------------------------------------ tests
def test_each_slice_alone_reports_only_its_slice(slices):
    for i, hosts in enumerate(SLICES):
        records, _rows, _page = read_report(slices / f"slice{i}")
        assert sorted(r["hostname"] for r in records) == sorted(hosts)


def test_report_from_cache_counts_every_host_exactly_once(fleet, report, slices):
    out, r, _elapsed = report
    records, rows, page = read_report(out)
    assert [rec["hostname"] for rec in records] == ALL_HOSTS
    assert [row["hostname"] for row in rows] == ALL_HOSTS
    for host in ALL_HOSTS:
        assert page.count(f"<td>{host}</td>") == 1, host
    by = {rec["hostname"]: rec for rec in records}
    assert {h: by[h]["status"] for h in LAB_HOSTS} == EXPECTED
    # the host no slice could reach has nothing in the cache
    assert by[DEAD]["status"] == "no_facts" and "fact cache" in by[DEAD]["error"]
    # each record is what its slice gathered: same machine GUIDs, versions, OS
    sliced = {}
    for i in range(len(SLICES)):
        sliced.update({rec["hostname"]: rec for rec in read_report(slices / f"slice{i}")[0]})
    for host in LAB_HOSTS:
        assert by[host]["netdata"] == sliced[host]["netdata"], host
        assert by[host]["age"] is not None and 0 <= by[host]["age"] < 900
    assert by[OUT2]["system"]["os"] == "Rocky Linux"
    # the address is the inventory's (this report's inventory: every host at a dead one)
    assert {rec["address"] for rec in records} == {f"{fleet.addr_base}254"}
    assert f"{out}/report.html - 8 hosts: 2 opted out, 2 opted in, 2 partial (half-way), 1 no agent, 1 no facts" \
        in r.stdout


def test_report_contacted_no_host(report):
    _out, r, _elapsed = report
    recap = re.findall(r"^(\S+)\s+: ok=", r.stdout, re.M)
    assert recap == ["localhost"], r.stdout[-2000:]
    assert "UNREACHABLE" not in r.stdout


def test_report_publishes_counts_and_path_with_set_stats(report):
    out, r, _elapsed = report
    stats = custom_stats(r.stdout)
    published = stats["netdata_report"]
    assert published["path"] == f"{out}/report.html" and published["total"] == 8
    assert sum(published["statuses"].values()) == 8
    # opt-out asked: opted in, partial and "no facts" hosts are not compliant
    assert (published["compliant"], published["not_compliant"]) == (3, 5)
    assert stats["netdata_not_compliant"] is True


def test_old_facts_are_stale_with_their_age(fleet, report, down_inventory, cache_env, tmp_path):
    # facts gathered three days ago: write them back into the cache as Ansible would
    # (set_fact cacheable), contacting no host either
    old = int(time.time()) - 3 * DAY
    pb = tmp_path / "age.yml"
    pb.write_text(json.dumps([{"hosts": OUT2, "gather_facts": False, "tasks": [{
        "ansible.builtin.set_fact": {
            "netdata": "{{ ansible_facts['netdata'] | combine({'collected_at': %d}) }}" % old,
            "cacheable": True}}]}]))
    r = ansible_playbook(fleet, [down_inventory], pb, env=cache_env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    out = tmp_path / "out"
    r = ansible_playbook(fleet, [down_inventory], REPORT_PB,
                         extra_vars={"netdata_inventory_dir": str(out), "netdata_report_max_age": DAY},
                         env=cache_env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    records, rows, page = read_report(out)
    by = {rec["hostname"]: rec for rec in records}
    assert by[OUT2]["status"] == "stale" and by[OUT2]["state"] == "opted_out"
    assert 3 * DAY <= by[OUT2]["age"] < 3 * DAY + 900
    assert {r["hostname"]: r["status"] for r in rows}[OUT2] == "stale"
    assert "last known: opted out" in page and ">3 d 0 h</td>" in page
    assert "1 stale facts" in r.stdout
    # without a limit the same facts count as what they say
    r = ansible_playbook(fleet, [down_inventory], REPORT_PB,
                         extra_vars={"netdata_inventory_dir": str(out), "netdata_report_max_age": 0},
                         env=cache_env)
    assert json.loads((out / "inventory.json").read_text())[1]["status"] == "opted_out"


def test_report_from_an_ansible_tree_directory(fleet, dead_inventory, tmp_path):
    tree = tmp_path / "tree"
    argv = [str(VENV_BIN / "ansible"), "-i", str(fleet.inventory_path), "-i", str(dead_inventory), "all",
            "-m", "netdata_fleet.telemetry.netdata_facts", "--tree", str(tree)]
    e = fleet.ansible_env()
    e.pop("ANSIBLE_INVENTORY", None)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=e, cwd=str(REPO),
                       stdin=subprocess.DEVNULL, check=False)
    assert sorted(os.listdir(tree)) == sorted(ALL_HOSTS), r.stdout[-3000:] + r.stderr[-2000:]
    out = tmp_path / "out"
    # no inventory of its own: the tree's hosts are the report's
    r = ansible_playbook(fleet, [], REPORT_PB,
                         extra_vars={"netdata_inventory_dir": str(out), "netdata_report_tree": str(tree)})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    records, _rows, _page = read_report(out)
    by = {rec["hostname"]: rec for rec in records}
    assert sorted(by) == sorted(ALL_HOSTS)
    assert {h: by[h]["status"] for h in LAB_HOSTS} == EXPECTED, (tree / PART).read_text()[:3000]
    assert by[DEAD]["status"] == "unreachable" and by[DEAD]["reachable"] is False


def test_stats_event_over_concurrent_slices_sends_once_per_opted_in_host(fleet, report, dead_inventory, tmp_path):
    werkzeug = pytest.importorskip("werkzeug")
    from pytest_httpserver import HTTPServer
    bodies = []

    def handler(request):
        bodies.append(json.loads(request.get_data()))
        return werkzeug.wrappers.Response("", 200)

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/capture/", method="POST").respond_with_handler(handler)
    server.start()
    run_id = uuid.uuid4().hex  # AWX gives every slice the same extra vars

    def run(i, hosts):
        return lambda: ansible_playbook(
            fleet, [fleet.inventory_path, dead_inventory], SEND_PB, "--limit", ",".join(hosts),
            extra_vars={"stats_endpoint": f"http://127.0.0.1:{server.port}/capture/", "stats_run_id": run_id,
                        "stats_spool": str(tmp_path / f"spool{i}.jsonl")},
            env={LOOPBACK_GUARD_ENV: "1"})
    try:
        results = concurrently([run(i, hosts) for i, hosts in enumerate(SLICES)])
    finally:
        server.stop()
    for hosts, r in zip(SLICES, results):
        # ansible-playbook says 4 when a host was unreachable (the dead one's slice)
        assert r.returncode == (4 if DEAD in hosts else 0), r.stdout[-3000:] + r.stderr[-2000:]
    out, _r, _elapsed = report
    records = json.loads((out / "inventory.json").read_text())
    opted_in = sorted(i["machine_guid"] for rec in records if rec["status"] == "opted_in"
                      for i in rec["installs"])
    sent = sorted(b["properties"]["distinct_id"] for b in bodies)
    assert len(opted_in) == 2
    assert sent == opted_in  # each opted-in host once, no other host, no duplicate
    assert len({b["uuid"] for b in bodies}) == len(bodies)


def test_enforce_audit_publishes_compliance_counts(fleet, dead_inventory):
    # no fact cache here: the audit's telemetry-only facts would replace the cached ones
    r = ansible_playbook(fleet, [fleet.inventory_path, dead_inventory], ENFORCE_PB, "--check",
                         extra_vars={"enforce_optout_fail_on_noncompliance": False},
                         env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"})
    assert r.returncode == 4, r.stdout[-4000:] + r.stderr[-2000:]  # 4: the dead host
    stats = custom_stats(r.stdout)
    assert stats["netdata_compliance_hosts"] == 8
    assert (stats["netdata_compliance_opted_out"], stats["netdata_compliance_opted_in"],
            stats["netdata_compliance_partial"], stats["netdata_compliance_absent"],
            stats["netdata_compliance_unreachable"]) == (2, 2, 2, 1, 1)
    assert stats["netdata_compliance_not_compliant"] == 5 and stats["netdata_not_compliant"] is True
    lines = "\n".join(re.findall(r"NOT COMPLIANT:\s+(\d+)", r.stdout))
    assert lines == "5"


def test_report_works_with_the_whole_fleet_down(fleet, report, cache_env, dead_inventory, tmp_path):
    inventory = tmp_path / "fleet.ini"  # the lab's own inventory goes with the lab
    inventory.write_text(Path(fleet.inventory_path).read_text())
    fleet.stop()
    for host in LAB_HOSTS:  # nobody answers on the hosts' SSH ports any more
        with pytest.raises(OSError):
            socket.create_connection((fleet.addr(host), SSH_PORT), timeout=2).close()
    out = tmp_path / "out"
    r = ansible_playbook(fleet, [inventory, dead_inventory], REPORT_PB,
                         extra_vars={"netdata_inventory_dir": str(out), "netdata_report_max_age": 0},
                         env=cache_env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    records = json.loads((out / "inventory.json").read_text())
    assert [rec["hostname"] for rec in records] == ALL_HOSTS
    assert {rec["hostname"]: rec["status"] for rec in records} == dict(EXPECTED, **{DEAD: "no_facts"})


def test_a_cache_that_cannot_be_read_fails_the_report_clearly(fleet, redis, cache_env, down_inventory, tmp_path):
    redis.stop()
    r = ansible_playbook(fleet, [down_inventory], REPORT_PB,
                         extra_vars={"netdata_inventory_dir": str(tmp_path / "out")}, env=cache_env)
    # ansible-core itself reads the cache for the play's host (localhost) and stops first,
    # with its own "Unexpected Exception" (and redis-py's traceback): the cause is named,
    # and no report of a fleet of "no facts" is written. (A cache that goes away during
    # the task fails it with "reading the fact cache ... failed": the unit tests.)
    assert r.returncode != 0
    assert "Connection refused" in r.stdout + r.stderr
    assert not (tmp_path / "out").exists()
