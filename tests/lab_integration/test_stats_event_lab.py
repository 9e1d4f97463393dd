# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""stats_event end to end: real ansible-playbook runs, a real HTTP collector on loopback.

Part 1 uses synthetic hosts (ansible_connection=local, facts pre-loaded in a jsonfile fact
cache) so every delivery failure mode is cheap to play: mixed fact shapes, collector
down, slow, 500 then 200, 429 with Retry-After, connection reset, spool then flush,
controller DO_NOT_TRACK, check mode.

Part 2 runs playbooks/send_event.yml over the lab fleet (real SSH hosts, real
netdata_facts) with many mixed opt-out states and matches every request the collector got
to a host by its machine GUID.

Safety: every endpoint is 127.0.0.1; the plugin's test guard
(NETDATA_FLEET_TELEMETRY_LOOPBACK_ONLY=1) makes any other endpoint an error.
"""
from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.lab.synthetic import LOOPBACK_GUARD_ENV, synthetic_ansible_env, write_fact_cache

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
GUARD_ENV = LOOPBACK_GUARD_ENV

werkzeug = pytest.importorskip("werkzeug")
from pytest_httpserver import HTTPServer  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402


# ------------------------------------------------------------------------ collector
class Collector:
    """A real HTTP collector on 127.0.0.1 (pytest-httpserver); records every POST body.

    `behaviour(body, n)` -> Response, where n counts earlier requests for the same GUID."""

    def __init__(self, port=0, behaviour=None):
        self.server = HTTPServer(host="127.0.0.1", port=port)
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        self.behaviour = behaviour or (lambda body, n: Response("", 200))
        self.server.expect_request("/capture/", method="POST").respond_with_handler(self._handle)
        self.server.start()

    def _handle(self, request):
        body = json.loads(request.get_data())
        with self.lock:
            guid = body.get("properties", {}).get("distinct_id")
            n = sum(1 for b in self.bodies if b.get("properties", {}).get("distinct_id") == guid)
            self.bodies.append(body)
        return self.behaviour(body, n)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.port}/capture/"

    def guids(self):
        return sorted(b["properties"]["distinct_id"] for b in self.bodies)

    def stop(self):
        if self.server.is_running():
            self.server.stop()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ResettingServer:
    """A raw TCP server on 127.0.0.1: resets every connection (RST) while `reset` is true,
    then answers 200 and records bodies (so a flush can go to the same endpoint)."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.count = 0
        self.reset = True
        self.bodies: list[dict] = []
        self.stopped = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stopped:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.count += 1
            try:
                if self.reset:
                    conn.recv(1024)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    self._answer(conn)
            except OSError:
                pass
            finally:
                conn.close()

    def _answer(self, conn):
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _sep, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        while len(body) < length:
            body += conn.recv(65536)
        self.bodies.append(json.loads(body))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def guids(self):
        return sorted(b["properties"]["distinct_id"] for b in self.bodies)

    def stop(self):
        self.stopped = True
        self.sock.close()


# ------------------------------------------------------------------------ synthetic fleet
def channel(on, applies=True):
    return {"applies": applies, "enabled": on, "configured": on, "running": None, "drift": False,
            "counted": True, "reasons": []}


def synthetic_netdata(guid, state="opted_in"):
    on = state == "opted_in"
    off = state == "opted_out"
    return {
        "gather_subset": ["system", "telemetry"], "installed": True,
        "installs": [{
            "config_dir": "/etc/netdata", "version": "1.37.1", "version_string": "netdata v1.37.1",
            "install_type": None, "machine_guid": guid, "claimed": False,
            "telemetry": {"opted_out": off, "opted_in": on, "drift": False, "reasons": [],
                          "channels": {"statistics_script": channel(on), "daemon_analytics": channel(on),
                                       "crash_reports": channel(None, applies=False), "installer": channel(True)}},
        }],
        "telemetry": {"state": state, "opted_out": off, "opted_in": on, "drift": False, "reasons": []},
        "system_info": {"host_os_name": "Debian GNU/Linux", "host_os_id": "debian", "system_total_ram": 1024},
    }


class SyntheticFleet:
    def __init__(self, tmp: Path, facts_by_host: dict):
        """facts_by_host: name -> ansible_facts dict ({} = no facts at all)."""
        self.tmp = tmp
        self.cache = tmp / "factcache"
        self.hosts = list(facts_by_host)
        write_fact_cache(self.cache, {h: f for h, f in facts_by_host.items() if f})
        inv = {"all": {"hosts": {h: {"ansible_connection": "local",
                                     "ansible_python_interpreter": sys.executable} for h in self.hosts}}}
        self.inventory = tmp / "inventory.json"
        self.inventory.write_text(json.dumps(inv))

    def env(self, extra=None):
        return synthetic_ansible_env(self.cache, self.tmp, extra)

    def run_task(self, task_args: dict, check=False, env=None, timeout=300):
        """One play over every host, one run_once stats_event task; returns its result."""
        pb = self.tmp / f"pb-{uuid.uuid4().hex[:8]}.yml"
        args = dict(task_args)
        args.setdefault("hosts", "{{ ansible_play_hosts_all }}")
        dump = pb.with_suffix(".json")
        pb.write_text(json.dumps([{
            "hosts": "all", "gather_facts": False,
            "tasks": [{"name": "stats", "netdata_fleet.telemetry.stats_event": args,
                       "run_once": True, "register": "r", "ignore_errors": True},
                      {"ansible.builtin.copy": {"content": "{{ r | to_json }}", "dest": str(dump)},
                       "delegate_to": "localhost", "run_once": True,
                       "vars": {"ansible_connection": "local"}, "check_mode": False}],
        }]))
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(self.inventory), str(pb)]
        if check:
            argv.append("--check")
        p = subprocess.run(argv, capture_output=True, text=True, env=self.env(env), timeout=timeout,
                           cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, check=False)
        try:
            return json.loads(dump.read_text()), p
        except (OSError, ValueError):
            raise AssertionError(f"rc={p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")


GUID = {}


def guid_of(name):
    return GUID.setdefault(name, str(uuid.uuid4()))


def mixed_facts():
    """Hosts named after what they are; only in-* hosts may ever be sent."""
    f = {}
    for i in range(6):
        f[f"in-{i}"] = {"netdata": synthetic_netdata(guid_of(f"in-{i}"))}
    f["out-file"] = {"netdata": synthetic_netdata(guid_of("out-file"), "opted_out")}
    f["out-partial"] = {"netdata": synthetic_netdata(guid_of("out-partial"), "partial")}
    n = synthetic_netdata(guid_of("out-string-true"))
    n["telemetry"]["opted_in"] = "true"
    f["out-string-true"] = {"netdata": n}
    n = synthetic_netdata(guid_of("out-no-guid"))
    n["installs"][0]["machine_guid"] = None
    f["out-no-guid"] = {"netdata": n}
    n = synthetic_netdata(guid_of("out-channel-unknown"))
    n["installs"][0]["telemetry"]["channels"]["daemon_analytics"]["enabled"] = None
    f["out-channel-unknown"] = {"netdata": n}
    n = synthetic_netdata(guid_of("out-drift"))
    n["telemetry"]["drift"] = True
    f["out-drift"] = {"netdata": n}
    f["out-absent"] = {"netdata": {"installed": False, "installs": [],
                                   "telemetry": {"state": "absent", "opted_out": True, "opted_in": False}}}
    f["out-nofacts"] = {}
    f["out-other-facts-only"] = {"some_other_fact": 1}
    f["out-malformed"] = {"netdata": "opted_in"}
    return f


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return SyntheticFleet(tmp_path_factory.mktemp("stats-synth"), mixed_facts())


def in_guids():
    return sorted(guid_of(f"in-{i}") for i in range(6))


def test_mixed_fact_shapes_only_opted_in_hosts_sent_once(synth):
    c = Collector()
    try:
        r, _p = synth.run_task({"event": "START", "endpoint": c.url, "retries": 0})
    finally:
        c.stop()
    assert c.guids() == in_guids()  # each opted-in host exactly once, nothing else
    assert sorted(r["sent"]) == sorted(f"in-{i}" for i in range(6))
    assert all(h.startswith("out-") for h in r["suppressed"]) and len(r["suppressed"]) == 10
    assert r["failed_hosts"] == [] and r["changed"] is True
    for body in c.bodies:
        assert body["api_key"] and body["event"] == "START -"
        assert body["properties"]["netdata_machine_guid"] == body["properties"]["distinct_id"]
        assert set(body) == {"api_key", "uuid", "timestamp", "event", "properties"}
    assert r["results"]["out-nofacts"]["reason"].startswith("facts missing")
    assert r["results"]["out-file"]["reason"] == "opted out"


def test_controller_do_not_track_sends_nothing(synth):
    c = Collector()
    try:
        for env in ({"DO_NOT_TRACK": "1"}, {"DISABLE_TELEMETRY": "0"}):
            r, _p = synth.run_task({"event": "START", "endpoint": c.url}, env=env)
            assert r["sent"] == [] and len(r["suppressed"]) == len(synth.hosts)
    finally:
        c.stop()
    assert c.bodies == []


def test_check_mode_sends_nothing(synth, tmp_path):
    c = Collector()
    spool = tmp_path / "spool.jsonl"
    try:
        r, _p = synth.run_task({"event": "START", "endpoint": c.url, "spool": str(spool),
                                "api_key": "do-not-show-me"}, check=True)
    finally:
        c.stop()
    assert c.bodies == [] and not spool.exists()
    assert sorted(w["payload"]["properties"]["distinct_id"] for w in r["would_send"]) == in_guids()
    assert "do-not-show-me" not in json.dumps(r)


def test_collector_down_spool_then_flush_delivers_exactly_once(synth, tmp_path):
    port = free_port()  # nothing listens: connection refused
    url = f"http://127.0.0.1:{port}/capture/"
    spool = tmp_path / "spool.jsonl"
    r, _p = synth.run_task({"event": "EXIT", "result": "OK", "endpoint": url, "retries": 1, "backoff": 0.01,
                            "spool": str(spool)})
    assert r["sent"] == [] and sorted(r["failed_hosts"]) == sorted(f"in-{i}" for i in range(6))
    assert r["spooled"] == 6 and r["changed"] is False
    assert oct(spool.stat().st_mode & 0o777) == "0o600"
    assert "api_key" not in spool.read_text()
    ids = sorted(r["results"][h]["event_id"] for h in r["failed_hosts"])

    c = Collector(port=port)
    try:
        r2, _p = synth.run_task({"mode": "flush", "endpoint": url, "spool": str(spool)})
        r3, _p = synth.run_task({"mode": "flush", "endpoint": url, "spool": str(spool)})
    finally:
        c.stop()
    assert sorted(b["uuid"] for b in c.bodies) == ids  # the ids of the first run, once each
    assert c.guids() == in_guids()
    assert r2["spool_pending"] == 0 and not spool.exists()
    assert r3["sent"] == []


def test_slow_collector_times_out_and_is_spooled(synth, tmp_path):
    def slow(body, n):
        time.sleep(1.5)
        return Response("", 200)
    c = Collector(behaviour=slow)
    spool = tmp_path / "spool.jsonl"
    try:
        t0 = time.monotonic()
        r, _p = synth.run_task({"event": "START", "endpoint": c.url, "timeout": 0.3, "retries": 1,
                                "backoff": 0.01, "spool": str(spool)})
        elapsed = time.monotonic() - t0
    finally:
        c.stop()
    assert r["sent"] == [] and len(r["failed_hosts"]) == 6
    assert all(r["results"][h]["attempts"] == 2 for h in r["failed_hosts"])
    assert all("timeout" in r["results"][h]["reason"] for h in r["failed_hosts"])
    assert len(spool.read_text().splitlines()) == 6
    assert elapsed < 60


def test_500_then_200_is_retried(synth):
    c = Collector(behaviour=lambda body, n: Response("", 500 if n == 0 else 200))
    try:
        r, _p = synth.run_task({"event": "START", "endpoint": c.url, "retries": 2, "backoff": 0.01})
    finally:
        c.stop()
    assert len(r["sent"]) == 6 and r["failed_hosts"] == []
    assert all(r["results"][h]["attempts"] == 2 for h in r["sent"])
    assert len(c.bodies) == 12  # each event twice: one 500, one 200; same uuid both times
    by_guid = {}
    for b in c.bodies:
        by_guid.setdefault(b["properties"]["distinct_id"], set()).add(b["uuid"])
    assert all(len(v) == 1 for v in by_guid.values())


def test_429_with_retry_after_is_honoured(synth):
    c = Collector(behaviour=lambda body, n: Response("", 429, headers={"Retry-After": "1"}) if n == 0
                  else Response("", 200))
    try:
        r, _p = synth.run_task({"event": "START", "endpoint": c.url, "retries": 1, "backoff": 0.01,
                                "max_backoff": 5})
    finally:
        c.stop()
    assert len(r["sent"]) == 6 and all(r["results"][h]["attempts"] == 2 for h in r["sent"])
    assert len(c.bodies) == 12  # one 429 and one 200 per event


def test_429_retry_after_delay_measured(tmp_path):
    """One host, so the wall time shows the wait: Retry-After 1 s (backoff alone would be 10 ms)."""
    fleet = SyntheticFleet(tmp_path, {"only": {"netdata": synthetic_netdata(str(uuid.uuid4()))}})
    times = []

    def behaviour(body, n):
        times.append(time.monotonic())
        return Response("", 429, headers={"Retry-After": "1"}) if n == 0 else Response("", 200)
    c = Collector(behaviour=behaviour)
    try:
        r, _p = fleet.run_task({"event": "START", "endpoint": c.url, "retries": 1, "backoff": 0.01})
    finally:
        c.stop()
    assert r["sent"] == ["only"] and len(times) == 2
    assert times[1] - times[0] >= 0.95


def test_connection_reset_then_flush(synth, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/capture/"
    spool = tmp_path / "spool.jsonl"
    rs = ResettingServer(port)
    try:
        r, _p = synth.run_task({"event": "START", "endpoint": url, "retries": 1, "backoff": 0.01,
                                "spool": str(spool)})
        assert r["sent"] == [] and len(r["failed_hosts"]) == 6 and rs.count >= 12
        reasons = {r["results"][h]["reason"] for h in r["failed_hosts"]}
        assert all("reset" in x.lower() or "aborted" in x.lower() or "closed" in x.lower() for x in reasons), reasons
        assert all(r["results"][h]["attempts"] == 2 for h in r["failed_hosts"])
        rs.reset = False
        r2, _p = synth.run_task({"mode": "flush", "endpoint": url, "spool": str(spool)})
    finally:
        rs.stop()
    assert rs.guids() == in_guids() and r2["spool_pending"] == 0


def test_bad_input_fails_the_task_clearly(synth):
    for args, fragment in (({"endpoint": "file:///etc/passwd"}, "unsupported scheme"),
                           ({"endpoint": "http://192.0.2.1/capture/"}, "plain http"),
                           ({"endpoint": "https://posthog.netdata.cloud/capture/"}, GUARD_ENV),
                           ({"timeout": -1}, "timeout")):
        r, p = synth.run_task(dict({"event": "START", "endpoint": "http://127.0.0.1:9/capture/"}, **args))
        assert r.get("failed") is True and fragment in r["msg"], r


def run_tasks(fleet, tasks_args, env=None, verbosity=4, timeout=300):
    """One play, one run_once stats_event task per item of `tasks_args` (errors ignored);
    returns (their results in order, the completed process) - output at -vvvv by default."""
    pb = fleet.tmp / f"pb-{uuid.uuid4().hex[:8]}.yml"
    dump = pb.with_suffix(".json")
    tasks = []
    for i, args in enumerate(tasks_args):
        tasks.append({"name": f"stats {i}", "netdata_fleet.telemetry.stats_event": dict(args),
                      "run_once": True, "register": f"r{i}", "ignore_errors": True})
    content = "{{ [" + ", ".join(f"r{i}" for i in range(len(tasks_args))) + "] | to_json }}"
    tasks.append({"ansible.builtin.copy": {"content": content, "dest": str(dump)},
                  "delegate_to": "localhost", "run_once": True,
                  "vars": {"ansible_connection": "local"}, "check_mode": False})
    pb.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "tasks": tasks}]))
    argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(fleet.inventory), str(pb)]
    if verbosity:
        argv.append("-" + "v" * verbosity)
    p = subprocess.run(argv, capture_output=True, text=True, env=fleet.env(env), timeout=timeout,
                       cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, check=False)
    try:
        return json.loads(dump.read_text()), p
    except (OSError, ValueError):
        raise AssertionError(f"rc={p.returncode}\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")


PASSWORD = "pw-Hunter2-NEVER-SHOWN"


def test_bad_arguments_fail_before_anything_is_sent_and_show_no_secret(synth, tmp_path):
    """A table of bad values, each its own task of one -vvvv run: every task fails with a
    clear message, the real collector gets nothing, nothing is spooled, and the password
    (in the URL or as api_key) is nowhere in the results or the output."""
    c = Collector()
    c.behaviour = lambda body, n: Response("", 500)  # were anything sent, it would be spooled
    spool = tmp_path / "spool" / "spool.jsonl"
    (tmp_path / "adir").mkdir()
    port = c.server.port
    rows = [
        ({"backoff": "nan"}, "backoff must be a finite number"),
        ({"max_backoff": "inf"}, "max_backoff must be a finite number"),
        ({"timeout": "inf"}, "timeout must be a finite number"),
        ({"timeout": 0}, "timeout must be > 0"),
        ({"retries": 1000000000}, "retries must be >= 0 and at most 20"),
        ({"workers": 0}, "workers"),
        ({"endpoint": f"http://user:{PASSWORD}@127.0.0.1:99999/capture/"}, "not a valid URL"),
        ({"endpoint": f"ftp://user:{PASSWORD}@127.0.0.1:{port}/capture/"}, "unsupported scheme"),
        ({"endpoint": f"http://user:{PASSWORD}@127.0.0.1:{port} /capture/"}, "whitespace"),
        ({"endpoint": f"http://user:{PASSWORD}@[::1/capture/"}, "not a valid URL"),
        ({"endpoint": f"http://user:{PASSWORD}@127.0.0.1:{port}/capture/"}, "credentials in the URL"),
        ({"endpoint": [c.url.replace("//", f"//user:{PASSWORD}@")]}, "endpoint must be a string"),
        ({"api_key": ""}, "api_key must not be empty"),
        ({"api_key": {"k": PASSWORD}}, "api_key must be a string"),
        ({"result": "O\u0000K"}, "result contains a NUL byte"),
        ({"hosts": ["in-0", None]}, "hosts: every item must be a host name"),
        ({"spool": str(tmp_path / "adir")}, "not a regular file"),
        ({"mode": "flush", "spool": str(tmp_path / "adir")}, "not a regular file"),
    ]
    tasks = []
    for args, _fragment in rows:
        t = {"event": "START", "endpoint": c.url, "api_key": PASSWORD, "retries": 1, "backoff": 0.01,
             "spool": str(spool), "hosts": "{{ ansible_play_hosts_all }}"}
        t.update(args)
        tasks.append(t)
    try:
        results, p = run_tasks(synth, tasks)
    finally:
        c.stop()
    assert len(results) == len(rows)
    for (args, fragment), r in zip(rows, results):
        assert r.get("failed") is True, (args, r)
        assert fragment in r["msg"], (args, r["msg"])
        assert "Traceback" not in r["msg"] and "Traceback" not in str(r.get("exception")), (args, r)
    assert c.bodies == [] and len(c.server.log) == 0
    assert not spool.exists() and not spool.parent.exists()
    assert PASSWORD not in json.dumps(results)
    assert PASSWORD not in p.stdout + p.stderr
    assert "pw-Hunter2" not in p.stdout + p.stderr


def test_flush_without_facts_sends_nothing_and_keeps_the_events(tmp_path):
    """Spool 4 events (collector down), then flush: in a flush-only play whose fact cache has
    expired (nothing sent, all kept), with two hosts gone from the inventory (only the
    others sent), then with facts saying one host opted out since (dropped, never sent)."""
    names = [f"in-{i}" for i in range(4)]
    guids = {h: str(uuid.uuid4()) for h in names}
    facts = {h: {"netdata": synthetic_netdata(guids[h])} for h in names}
    fleet = SyntheticFleet(tmp_path / "all", facts)
    port = free_port()
    url = f"http://127.0.0.1:{port}/capture/"
    spool = tmp_path / "spool.jsonl"
    r, _p = fleet.run_task({"event": "START", "endpoint": url, "retries": 0, "spool": str(spool)})
    assert r["spooled"] == 4, r
    ids = {h: r["results"][h]["event_id"] for h in names}
    spooled = spool.read_text()

    c = Collector(port=port)
    try:
        # 1. a flush-only play with an expired fact cache: the facts are gone, nothing is sent
        time.sleep(1.5)
        r1, _p = fleet.run_task({"mode": "flush", "endpoint": url, "spool": str(spool)},
                                env={"ANSIBLE_CACHE_PLUGIN_TIMEOUT": "1"})
        assert c.bodies == [] and len(c.server.log) == 0, r1
        assert spool.read_text() == spooled and r1["spool_pending"] == 4
        assert sorted(r1["kept_hosts"]) == names and r1["sent"] == [] and r1["changed"] is False
        for h in names:
            assert r1["per_host"][h]["kept"] == 1
            assert list(r1["per_host"][h]["reasons"]) == ["not checked: facts missing"], r1["per_host"][h]

        # 2. in-2 and in-3 are gone from the inventory: kept; in-0 and in-1 delivered
        write_fact_cache(fleet.cache, facts)
        part = SyntheticFleet(tmp_path / "part", {h: facts[h] for h in names[:2]})
        r2, _p = part.run_task({"mode": "flush", "endpoint": url, "spool": str(spool)})
        assert sorted(r2["sent"]) == names[:2] and sorted(r2["kept_hosts"]) == names[2:]
        assert all(r2["per_host"][h]["reasons"] == {"not checked: not in inventory": 1} for h in names[2:])
        assert sorted(b["uuid"] for b in c.bodies) == sorted(ids[h] for h in names[:2])

        # 3. the full inventory again, but in-3 opted out since: in-2 sent, in-3 dropped
        facts["in-3"] = {"netdata": synthetic_netdata(guids["in-3"], "opted_out")}
        write_fact_cache(fleet.cache, facts)
        r3, _p = fleet.run_task({"mode": "flush", "endpoint": url, "spool": str(spool)})
        assert r3["sent"] == ["in-2"] and r3["suppressed"] == ["in-3"], r3
        assert r3["per_host"]["in-3"] == {"sent": 0, "failed": 0, "kept": 0, "dropped": 1, "would_send": 0,
                                          "reasons": {"opted out": 1}}
    finally:
        c.stop()
    assert c.guids() == sorted(guids[h] for h in names[:3])  # each once; in-3 never
    assert not spool.exists()


def test_send_event_playbook_over_synthetic_hosts(synth, tmp_path):
    c = Collector()
    try:
        argv = [str(VENV_BIN / "ansible-playbook"), "-i", str(synth.inventory),
                str(REPO_ROOT / "playbooks" / "send_event.yml"),
                "-e", json.dumps({"stats_gather_facts": False, "stats_endpoint": c.url,
                                  "stats_spool": str(tmp_path / "spool.jsonl")})]
        env = synth.env()
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, cwd=str(REPO_ROOT),
                           check=False)
    finally:
        c.stop()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "send: sent 6, suppressed 10, failed 0" in " ".join(p.stdout.split())
    assert c.guids() == in_guids()


# ------------------------------------------------------------------------ the lab fleet
def _lab_specs():
    from tests.lab import HostSpec, snippets
    g = {}

    def guid(name, libdir="/var/lib/netdata"):
        g[name] = str(uuid.uuid4())
        return snippets.machine_guid(g[name], libdir)

    dropin = snippets.systemd_dropin
    static_lib = "/opt/netdata/var/lib/netdata"
    specs = [
        HostSpec.clean("in-clean", setup=guid("in-clean")),
        HostSpec.clean("in-daemon", daemon=True, setup=guid("in-daemon")),
        HostSpec.clean("in-clean2", setup=guid("in-clean2") + snippets.os_release(**snippets.ROCKY_9)),
        HostSpec.debian_default("out-file", setup=guid("out-file")),
        HostSpec.debian_default("out-file-daemon", daemon=True, setup=guid("out-file-daemon")),
        HostSpec.clean("out-env-dnt1", setup=guid("out-env-dnt1")
                       + dropin("[Service]\nEnvironment=DO_NOT_TRACK=1\n")),
        HostSpec.clean("out-env-dnt0", setup=guid("out-env-dnt0")
                       + dropin("[Service]\nEnvironment=DO_NOT_TRACK=0\n")),
        HostSpec.clean("out-env-disable", setup=guid("out-env-disable")
                       + dropin("[Service]\nEnvironment=DISABLE_TELEMETRY=1\n")),
        HostSpec.clean("out-daemon-env", daemon=True, daemon_env={"DO_NOT_TRACK": "1"},
                       setup=guid("out-daemon-env")),
        HostSpec.clean("out-installer-env", setup=guid("out-installer-env")
                       + snippets.environment_file("DO_NOT_TRACK=1\n")),
        HostSpec.no_netdata("out-none"),
        HostSpec.static_install("out-static-claimed", version="2.3.1", opted_out=True,
                                setup=guid("out-static-claimed", static_lib)
                                + snippets.cloud_conf("[global]\n  enabled = yes\n  claimed_id = "
                                                      "11111111-2222-3333-4444-555555555555\n", static_lib)),
        HostSpec.static_install("out-partial-two-installs", version="2.3.1", opted_out=True, keep_debian=True,
                                setup=guid("out-partial-two-installs")
                                + snippets.opt_out_file(False)  # Debian's install opted in, static one out
                                + snippets.machine_guid(str(uuid.uuid4()), static_lib)),
        HostSpec.clean("out-file-after-start", daemon=True, setup=guid("out-file-after-start")),
        HostSpec.clean("out-no-guid", setup=snippets.remove("/var/lib/netdata/registry/netdata.public.unique.id")),
    ]
    return specs, g


@pytest.fixture(scope="module")
def lab(lab_fleet_factory):
    specs, guids = _lab_specs()
    fleet = lab_fleet_factory(specs)
    return fleet, guids


def _lab_send(fleet, tmp_path, collector, check=False, env=None, extra=None):
    spool = tmp_path / "spool.jsonl"
    ev = {"stats_hosts": "lab", "stats_endpoint": collector.url, "stats_spool": str(spool),
          "stats_run_id": uuid.uuid4().hex}
    ev.update(extra or {})
    e = {GUARD_ENV: "1"}
    e.update(env or {})
    dump = tmp_path / f"out-{uuid.uuid4().hex[:8]}.json"
    wrapper = tmp_path / f"wrap-{uuid.uuid4().hex[:8]}.yml"
    wrapper.write_text(json.dumps([
        {"import_playbook": str(REPO_ROOT / "playbooks" / "send_event.yml")},
        {"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": [
            {"ansible.builtin.copy": {
                "dest": str(dump), "content": "{{ {'stats': hostvars[groups['lab'][0]]['stats_event_result'], "
                "'facts': dict(groups['lab'] | zip(groups['lab'] | map('extract', hostvars) "
                "| map(attribute='ansible_facts') | map(attribute='netdata', default=None)))} | to_json }}"},
             "check_mode": False}]},
    ]))
    p = fleet.ansible_playbook(wrapper, extra_vars=ev, check=check, env=e)
    try:
        out = json.loads(dump.read_text())
    except (OSError, ValueError):
        raise AssertionError(f"rc={p.returncode}\n{p.stdout[-4000:]}\n{p.stderr[-3000:]}")
    return out["stats"], out["facts"], p


def test_lab_mixed_opt_out_states(lab, tmp_path, monkeypatch):
    fleet, guids = lab
    # a file created while the 1.37 daemon runs: its analytics flag stays on until a
    # restart, but the script channel is off at once, so the host must stay silent
    fleet.run("out-file-after-start", "touch /etc/netdata/.opt-out-from-anonymous-statistics", check=True)
    c = Collector()
    try:
        stats, facts, p = _lab_send(fleet, tmp_path, c)
    finally:
        c.stop()
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    for h in sorted(stats["results"]):
        print(f"{h:28} {stats['results'][h]['status']:10} {stats['results'][h]['reason']}")
    got = c.guids()
    assert len(got) == len(set(got)), "an event was sent twice"
    by_guid = {v: k for k, v in guids.items()}
    sent_hosts = sorted(by_guid.get(x, "<unknown guid %s>" % x) for x in got)
    # not one request for a host whose name says it must stay silent
    assert not [h for h in sent_hosts if not h.startswith("in-")], sent_hosts
    # every host the facts call opted in: exactly once; the others: never
    facts_in = sorted(h for h, f in facts.items()
                      if isinstance(f, dict) and f.get("telemetry", {}).get("opted_in") is True)
    assert sent_hosts == sorted(set(facts_in) & set(sent_hosts))
    assert sorted(stats["sent"]) == sent_hosts
    assert sent_hosts == ["in-clean", "in-clean2", "in-daemon"], (stats["results"], facts_in)
    assert stats["results"]["out-partial-two-installs"]["reason"].startswith("partial"), stats["results"]
    for h in fleet.names:
        if h.startswith("out-"):
            assert h in stats["suppressed"], (h, stats["results"].get(h))
    assert stats["failed_hosts"] == []


def test_lab_check_mode_and_controller_dnt_send_nothing(lab, tmp_path):
    fleet, _guids = lab
    c = Collector()
    try:
        stats, _facts, p = _lab_send(fleet, tmp_path, c, check=True)
        assert p.returncode == 0, p.stdout[-2000:]
        assert stats["would_send"]
        stats2, _facts, p2 = _lab_send(fleet, tmp_path, c, env={"DO_NOT_TRACK": "1"})
        assert p2.returncode == 0 and stats2["sent"] == []
    finally:
        c.stop()
    assert c.bodies == []
