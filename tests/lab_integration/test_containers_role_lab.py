# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The optout role on a host whose Netdata agents run in real containers (docker and podman
in a container-lab host, tests/lab/containers.py), next to the host's own agent.

Judges: each agent's own `registry?action=hello` before the role, after it, and after the
container is re-created from the same run arguments (what `docker compose up` does after
an image update); the module's facts must agree with every answer, and the summary of
enforce_optout.yml must count a host whose opt-out lasts only until re-creation in its
own class.

Containers (image version, environment, config dir):
  docker  dnt1     1.37.1  DO_NOT_TRACK=1   layer    opted out by the image's entrypoint
  docker  layer    1.37.1  -                layer    the role's file: until re-created
  docker  vol      2.10.4  -                volume   the role's file: lasts
  docker  stopped  1.37.1  -                volume   stopped: the role writes its volume
  podman  dnt0v1   1.37.1  DO_NOT_TRACK=0   layer    up to v2.8.1 "0" opts out too
  podman  dnt0v2   2.10.4  DO_NOT_TRACK=0   layer    from v2.8.2 it does not: until re-created
  podman  bind     1.37.1  -                bind     lasts
and the host's own Debian 1.37.1 agent, as Debian packages it (its opt-out file present:
already off, so the role does not restart it. The lab's stand-in for its service manager,
tests/lab/bin/netdata-lab-service, stops every `netdata` process it sees in the host's
/proc, the containers' agents included, where systemd would restart only the unit's
cgroup: a restart of the host's agent here would stop the containers' agents too).
"""
from __future__ import annotations

import ansible
import json
import re
import time
from pathlib import Path

import pytest

from tests.lab import containers as ct
from tests.lab.fleet import play_recap

HOST = "crl"
PLAYBOOK = "playbooks/enforce_optout.yml"
# name -> (runtime, image, env, config volume)
CONTAINERS = {
    "dnt1": ("docker", ct.V1, {"DO_NOT_TRACK": "1"}, None),
    "layer": ("docker", ct.V1, {}, None),
    "vol": ("docker", ct.V2, {}, "volume"),
    "stopped": ("docker", ct.V1, {}, "volume"),
    "dnt0v1": ("podman", ct.V1, {"DO_NOT_TRACK": "0"}, None),
    "dnt0v2": ("podman", ct.V2, {"DO_NOT_TRACK": "0"}, None),
    "bind": ("podman", ct.V1, {}, "bind:/srv/netdata-bind"),
}
RUNNING = [n for n in CONTAINERS if n != "stopped"]
# what each agent answers (anonymous_statistics) before the role, after it, after re-creation
BEFORE = {"dnt1": False, "layer": True, "vol": True, "dnt0v1": False, "dnt0v2": True, "bind": True}
AFTER_RECREATE = {"dnt1": False, "layer": True, "vol": False, "stopped": False, "dnt0v1": False,
                  "dnt0v2": True, "bind": False}
UNTIL_RECREATED = {"layer", "dnt0v2"}
REPORT = Path(__file__).resolve().parents[1] / "output" / "container-role-lab-report.json"
_REPORT: dict = {}


def report(**items) -> None:
    _REPORT.update(items)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(_REPORT, indent=1, sort_keys=True))


@pytest.fixture(scope="module")
def lab(container_fleet_factory):
    for kind in ("docker", "podman"):
        reason = ct.runtime_unavailable(kind)
        if reason:
            pytest.skip(reason)
    reason = ct.images_available()[ct.V2]
    if reason:
        pytest.skip(reason)
    fleet = container_fleet_factory([ct.ContainerHostSpec.debian_default(HOST, daemon=True)])
    for name, (kind, image, env, volume) in CONTAINERS.items():
        fleet.runtime(HOST, kind).run_netdata(name, image, env=env, config_volume=volume)
    fleet.runtime(HOST, "docker").stop("stopped")
    yield fleet
    for name, (kind, _i, _e, _v) in CONTAINERS.items():
        try:
            fleet.runtime(HOST, kind).rm(name, volumes=True)
        except Exception:
            pass


def rt(fleet, name):
    return fleet.runtime(HOST, CONTAINERS[name][0])


def answers(fleet, names):
    """Each agent's own answer; one its runtime just restarted is waited for (the role does
    not wait for a restarted agent to listen again, no more than for a restarted service)."""
    return {n: rt(fleet, n).wait_hello(n, timeout=60)["anonymous_statistics"] for n in names}


def container_facts(fleet, tmp_path) -> tuple[dict, dict]:
    facts = fleet.netdata_facts(tmp_path, subset=["telemetry"], limit=HOST)[HOST]
    by_name = {i["container"]["name"]: i for i in facts["installs"] if i["kind"] == "container"}
    return facts, by_name


def test_1_before_the_role_the_facts_agree_with_every_agent(lab, tmp_path):
    fleet = lab
    assert answers(fleet, RUNNING) == BEFORE
    assert fleet.hello(HOST)["anonymous_statistics"] is False
    facts, by_name = container_facts(fleet, tmp_path)
    assert facts["container_errors"] == []
    assert sorted(by_name) == sorted(CONTAINERS)
    native = [i for i in facts["installs"] if i["kind"] == "native"]
    assert len(native) == 1 and native[0]["telemetry"]["channels"]["daemon_analytics"]["live"] is False
    assert native[0]["telemetry"]["opted_out"] is True
    for name, (kind, image, env, volume) in CONTAINERS.items():
        install = by_name[name]
        c = install["container"]
        assert (c["runtime"], c["name"], c["image"]) == (kind, name, ct.image_ref(image)), name
        assert install["version"] == image and c["version_source"] == "binary", name
        assert c["config_persistence"] == ({None: "layer", "volume": "volume"}.get(volume) or "bind"), name
        assert {k: v for k, v in c["environment"].items() if v is not None} == env, name
        assert c["entrypoint_creates_optout"] is True, name
        if name == "stopped":
            assert (c["running"], c["view_root"], install["daemon"]["running"]) == (False, None, False)
            assert install["telemetry"]["opted_out"] is False
            continue
        assert c["host_pid"] == rt(fleet, name).host_pid(name), name
        live = install["telemetry"]["channels"]["daemon_analytics"]["live"]
        assert live is BEFORE[name], (name, install["telemetry"]["reasons"])
        assert install["telemetry"]["opted_out"] is (name in ("dnt1", "dnt0v1")), (name, install["telemetry"]["reasons"])
    # not opted out anywhere: the host is partial
    assert facts["telemetry"]["state"] == "partial"
    report(before={"answers": answers(fleet, RUNNING), "host": False})


GATHER = r"""
import json, sys, time
sys.path[:0] = %r
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import gather_telemetry
out = {}
for cli in (True, False):
    best = None
    for _ in range(3):
        t = time.monotonic()
        f = gather_telemetry(containers=cli)
        took = time.monotonic() - t
        best = took if best is None else min(best, took)
    out["with_cli" if cli else "proc_only"] = {"seconds": round(best, 3), "installs": len(f["installs"])}
print(json.dumps(out))
"""


def test_1a_how_long_the_facts_take_on_this_host(lab):
    """The gatherer itself on the host (no Ansible round trip), best of three: with the
    runtimes' CLIs, and from /proc alone (the stopped container is then not seen)."""
    collections = str(Path(__file__).resolve().parents[2] / ".build" / "collections")
    # module_utils import ansible.module_utils, as on a real target (Ansible ships it in
    # the payload): the controller's ansible-core gives it here
    ansible_parent = str(Path(ansible.__file__).resolve().parents[1])
    lab.write_file(HOST, "/tmp/gather.py", GATHER % [collections, ansible_parent])
    r = lab.ssh(HOST, "python3 /tmp/gather.py", timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    timing = json.loads(r.stdout.strip().splitlines()[-1])
    report(gather=timing)
    assert timing["with_cli"]["installs"] == len(CONTAINERS) + 1
    assert timing["proc_only"]["installs"] == len(RUNNING) + 1


def test_1b_an_audit_changes_nothing_and_fails_the_host(lab, tmp_path):
    fleet = lab
    r = fleet.ansible_playbook(PLAYBOOK, check=True, limit=HOST)
    assert r.returncode == 2, r.stdout[-4000:]
    summary = r.stdout[r.stdout.index("Compliance summary"):]
    assert "NOT COMPLIANT:    1  %s" % HOST in summary
    assert answers(fleet, RUNNING) == BEFORE
    _facts, by_name = container_facts(fleet, tmp_path)
    assert all(by_name[n]["optout_file"]["exists"] is (n in ("dnt1", "dnt0v1")) for n in CONTAINERS), \
        {n: by_name[n]["optout_file"]["exists"] for n in CONTAINERS}


def test_2_the_role_opts_every_agent_out_and_restarts_containers_through_their_runtime(lab, tmp_path):
    fleet = lab
    t0 = time.monotonic()
    r = fleet.ansible_playbook(PLAYBOOK, "-v", limit=HOST)
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stdout[-6000:]
    out = r.stdout
    # restarted through their runtimes: each agent that read a new file or netdata.conf only
    # at start and still had a channel on; not those their environment had already opted out
    handler = out[out.index("RUNNING HANDLER [netdata_fleet.telemetry.optout : Restart Netdata containers"):]
    handler = handler[:handler.index("RUNNING HANDLER", 10)]
    restarted = sorted(set(re.findall(r"\(item=\w+:(\w+):/etc/netdata\)", handler)))
    assert restarted == ["bind", "dnt0v2", "layer", "vol"], handler[:3000]
    summary = out[out.index("Compliance summary"):]
    assert "opted out until re-created:   1  %s" % HOST in summary, summary[:3000]
    for name in UNTIL_RECREATED:
        assert "%s:%s:/etc/netdata: opted out until re-created" % (CONTAINERS[name][0], name) in summary
    assert "NOT COMPLIANT:    0" in summary

    # the host's own agent was already off: not restarted (see the module's doc)
    host_restart = re.search(r"RUNNING HANDLER \[[^\]]*Restart netdata with the given command\][^\n]*\n(.*?)"
                             r"(?=\n(?:RUNNING HANDLER|TASK) )", out, re.S)
    assert host_restart is None or "skipping: [%s]" % HOST in host_restart.group(1), host_restart.group(1)
    after = answers(fleet, RUNNING)
    assert after == {n: False for n in RUNNING}, after
    assert fleet.hello(HOST)["anonymous_statistics"] is False
    facts, by_name = container_facts(fleet, tmp_path)
    for name in RUNNING:
        assert by_name[name]["telemetry"]["opted_out"] is True, (name, by_name[name]["telemetry"]["reasons"])
        assert by_name[name]["container"]["opted_out_until_recreated"] is (name in UNTIL_RECREATED), name
    # the stopped one: its volume got the file; it starts opted out
    assert by_name["stopped"]["telemetry"]["opted_out"] is True
    assert rt(fleet, "stopped").state("stopped") == "exited"
    lines = summary.split("msg", 1)[-1]
    report(role_seconds=round(took, 1), after={"answers": after, "host": False}, restarted=restarted,
           summary=[l.strip().strip('",') for l in lines.splitlines()
                    if l.strip().startswith('"') and ("opted" in l or "COMPLIANT" in l)][:12])


def test_3_a_second_run_changes_nothing(lab):
    r = lab.ansible_playbook(PLAYBOOK, limit=HOST)
    assert r.returncode == 0, r.stdout[-4000:]
    assert play_recap(r.stdout)[HOST]["changed"] == 0, r.stdout[-4000:]


def test_4_the_stopped_container_starts_opted_out(lab):
    rt(lab, "stopped").start("stopped")
    assert rt(lab, "stopped").hello("stopped")["anonymous_statistics"] is False


def test_5_after_re_creation_only_what_lasts_stays_opted_out(lab, tmp_path):
    fleet = lab
    for name in CONTAINERS:
        rt(fleet, name).recreate(name)
    got = answers(fleet, list(CONTAINERS))
    report(after_recreate=got)
    assert got == AFTER_RECREATE, got
    facts, by_name = container_facts(fleet, tmp_path)
    for name, expected in AFTER_RECREATE.items():
        telemetry = by_name[name]["telemetry"]
        assert telemetry["channels"]["daemon_analytics"]["live"] is expected, name
        assert telemetry["opted_out"] is (not expected), (name, telemetry["reasons"])
