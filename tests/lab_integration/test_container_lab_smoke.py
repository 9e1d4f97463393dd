# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke tests of the container lab (tests/lab/containers.py): real dockerd and podman in a
namespace lab host (`ctr`, the session's standard container host), Netdata 1.37.1 and
v2.10.4 images imported from the lab rootfs, the lab's entrypoint applying the official
image's telemetry rule at every start.

Most tests run once per runtime (the `container_runtime` fixture: docker, then podman)
and remove what they ran. Judges: the agent's own `registry?action=hello` through the
loopback forward, the opt-out file as the container's process sees it, what the agent
posted to the in-container sink, and the host's view over SSH (what Ansible gets).
Timings and memory go to tests/output/container-lab-report.json."""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from tests.lab import containers as ct
from tests.lab.fleet import SSH_PORT, port_free
from tests.lab.netdata_daemon import NETDATA_PORT

HOST = ct.STANDARD_SPECS[0].name
OPT_OUT = ct.OPT_OUT
REPORT = Path(__file__).resolve().parents[1] / "output" / "container-lab-report.json"
POSTHOG = "posthog.netdata.cloud"
_T0 = time.monotonic()
# The machine's network before anything of this module runs: the lab must leave it alone.
_MACHINE_LINKS = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
_IP_FORWARD = Path("/proc/sys/net/ipv4/ip_forward").read_text()
_REPORT: dict = {"containers": {}}


def need_v2() -> None:
    reason = ct.images_available()[ct.V2]
    if reason:
        pytest.skip(reason)


def wait_for(pred, timeout: float = 20.0, step: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        got = pred()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(step)


def opted_out_in_proc(fleet, rt, name: str) -> bool:
    """The opt-out file as the agent's process sees it, read from the host over SSH
    through /proc/<pid>/root (as the product's module would)."""
    pid = rt.host_pid(name)
    assert pid > 0
    r = fleet.ssh(HOST, f"test -e /proc/{pid}/root{OPT_OUT}")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode == 0


def env_without_hostname(rt, name: str) -> dict:
    """Config.Env minus HOSTNAME (podman puts the container id there: new on re-creation)."""
    return {k: v for k, v in rt.env(name).items() if k != "HOSTNAME"}


def record(rt, name: str, **extra) -> None:
    _REPORT["containers"][f"{rt.kind}/{name}"] = {**rt.memory(name), **extra}


# ------------------------------------------------------------------------ the host
def test_host_is_a_machine_running_both_runtimes(container_fleet):
    fleet = container_fleet
    r = fleet.ssh(HOST, "hostname; readlink /proc/1/exe; ip -o link show | cut -d: -f2; "
                        "ip route show; ip -6 route show | grep -v '^::1 ' || :")
    lines = r.stdout.split()
    assert lines[:3] == [HOST, "/usr/sbin/sshd", "lo"], r.stdout  # only its loopback
    assert len(lines) == 3, f"routes in the host: {r.stdout}"
    for kind in fleet.hosts[HOST].spec.runtimes:
        # the CLIs on the host's PATH talk to its runtimes with their defaults
        cmd = {"docker": "docker info --format '{{.Driver}} {{.CgroupDriver}} {{.DockerRootDir}}'",
               "podman": "podman info --format '{{.Store.GraphDriverName}} {{.Host.CgroupManager}} "
                         "{{.Store.GraphRoot}}'"}[kind]
        r = fleet.ssh(HOST, cmd)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == {"docker": ["overlay2", "cgroupfs", "/var/lib/docker"],
                                    "podman": ["overlay", "cgroupfs", "/var/lib/containers/storage"]
                                    }[kind]
    assert fleet.ssh(HOST, "command -v docker podman").stdout.split() == ["/usr/bin/docker",
                                                                          "/usr/bin/podman"]
    # everything of the host lives below its own cgroup dir on the machine
    procs = fleet.cgroup_dirs(HOST)[0] / "cgroup.procs"
    assert procs.exists() and fleet.hosts[HOST].pid in {int(p) for p in procs.read_text().split()}


# ------------------------------------------------------------------------ telemetry env
def test_do_not_track_1_the_entrypoint_opts_out(container_fleet, container_runtime):
    fleet, rt = container_fleet, container_runtime
    c = rt.run_netdata("smoke-dnt1", ct.V1, env={"DO_NOT_TRACK": "1"})
    assert rt.hello("smoke-dnt1")["anonymous_statistics"] is False
    assert rt.exists("smoke-dnt1", OPT_OUT)
    assert opted_out_in_proc(fleet, rt, "smoke-dnt1")
    # The host sees the agent as a process of its own /proc, in the runtime's cgroup
    pid = rt.host_pid("smoke-dnt1")
    cid = rt.inspect("smoke-dnt1")["Id"]
    r = fleet.ssh(HOST, f"readlink /proc/{pid}/exe; tr '\\0' '\\n' < /proc/{pid}/environ; "
                        f"cat /proc/{pid}/cgroup")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == "/usr/sbin/netdata"
    assert "DO_NOT_TRACK=1" in out
    want = f"/docker/{cid}" if rt.kind == "docker" else f"/libpod_parent/libpod-{cid}"
    assert any(line.endswith(":" + want) for line in out), out
    assert rt.env("smoke-dnt1")["DO_NOT_TRACK"] == "1"
    assert c.argv[:5] == ["-d", "--name", "smoke-dnt1", "--network", "none"]
    assert rt.inspect("smoke-dnt1")["HostConfig"]["NetworkMode"] == "none"
    time.sleep(3)  # the clean agent posts its START event within ~1 s of starting
    assert rt.sink_posts("smoke-dnt1", POSTHOG) == []
    record(rt, "smoke-dnt1", env="DO_NOT_TRACK=1")


def test_unset_keeps_telemetry_on(container_fleet, container_runtime):
    rt = container_runtime
    rt.run_netdata("smoke-unset", ct.V1)
    assert rt.hello("smoke-unset")["anonymous_statistics"] is True
    assert not rt.exists("smoke-unset", OPT_OUT)  # the image ships none, unlike Debian's package
    assert not opted_out_in_proc(container_fleet, rt, "smoke-unset")
    assert "DO_NOT_TRACK" not in rt.env("smoke-unset")
    # what the agent sent: anonymous-statistics.sh START, through real curl, to the sink
    posts = wait_for(lambda: [p for p in rt.sink_posts("smoke-unset", POSTHOG)
                              if '"START"' in p["body"]], timeout=20)
    assert posts and posts[0]["method"] == "POST" and posts[0]["path"] == "/capture/"
    record(rt, "smoke-unset", env="")


def test_zero_follows_the_image_versions_rule(container_fleet, container_runtime):
    """DO_NOT_TRACK=0: v1.37.1's entrypoint opts out (any non-empty value), v2.10.4's does
    not (set and not "0")."""
    rt = container_runtime
    rt.run_netdata("smoke-zero-v1", ct.V1, env={"DO_NOT_TRACK": "0"})
    assert rt.hello("smoke-zero-v1")["anonymous_statistics"] is False
    assert rt.exists("smoke-zero-v1", OPT_OUT)
    need_v2()
    rt.run_netdata("smoke-zero-v2", ct.V2, env={"DO_NOT_TRACK": "0", "DISABLE_TELEMETRY": ""})
    assert rt.hello("smoke-zero-v2")["anonymous_statistics"] is True
    assert not rt.exists("smoke-zero-v2", OPT_OUT)
    rt.run_netdata("smoke-dnt1-v2", ct.V2, env={"DO_NOT_TRACK": "1"})
    assert rt.hello("smoke-dnt1-v2")["anonymous_statistics"] is False
    assert rt.exists("smoke-dnt1-v2", OPT_OUT)


def test_v2_agent_reads_disable_telemetry_itself(container_fleet, container_runtime):
    """DISABLE_TELEMETRY=0 on v2.10.4: the entrypoint creates no opt-out file ("0"), but
    the agent inherits the variable and any non-empty value turns its statistics off
    (analytics_check_enabled() in src/daemon/analytics.c at v2.10.4); DO_NOT_TRACK is
    not read by the agent."""
    need_v2()
    rt = container_runtime
    rt.run_netdata("smoke-dt0-v2", ct.V2, env={"DISABLE_TELEMETRY": "0"})
    assert not rt.exists("smoke-dt0-v2", OPT_OUT)
    assert rt.hello("smoke-dt0-v2")["anonymous_statistics"] is False
    pid = rt.host_pid("smoke-dt0-v2")
    environ = container_fleet.ssh(HOST, f"tr '\\0' '\\n' < /proc/{pid}/environ").stdout.split()
    assert "DISABLE_TELEMETRY=0" in environ
    time.sleep(2)
    assert rt.sink_posts("smoke-dt0-v2", "agent-events.netdata.cloud") == []  # no status post


def test_v2_image_is_netdata_2_10_4_like_the_official_layout(container_fleet, container_runtime):
    need_v2()
    rt = container_runtime
    rt.run_netdata("smoke-v2", ct.V2)
    assert rt.hello("smoke-v2")["anonymous_statistics"] is True
    assert rt.exec("smoke-v2", "/usr/sbin/netdata -v").stdout.strip() == "netdata v2.10.4"
    assert "INSTALL_TYPE='oci'" in rt.read_file("smoke-v2", "/etc/netdata/.install-type")
    pid = rt.host_pid("smoke-v2")
    r = container_fleet.ssh(HOST, f"readlink /proc/{pid}/exe /proc/{pid}/root/opt/netdata/etc/netdata")
    assert r.stdout.split() == ["/usr/sbin/netdata", "/etc/netdata"]
    # v2 posts its status to agent-events at start: it lands in the container's sink
    posts = wait_for(lambda: [p for p in rt.sink_posts("smoke-v2", "agent-events.netdata.cloud")
                              if p["method"] == "POST"], timeout=20)
    assert posts, rt.logs("smoke-v2")[-2000:]
    record(rt, "smoke-v2", env="")


def test_the_entrypoint_creates_the_file_at_every_start(container_fleet, container_runtime):
    rt = container_runtime
    rt.run_netdata("smoke-every-start", ct.V1, env={"DISABLE_TELEMETRY": "1"})
    assert rt.exec("smoke-every-start", f"rm {OPT_OUT}").returncode == 0
    assert not rt.exists("smoke-every-start", OPT_OUT)
    assert rt.restart("smoke-every-start")["anonymous_statistics"] is False
    assert rt.exists("smoke-every-start", OPT_OUT)


# ------------------------------------------------------------------------ persistence
def test_volume_keeps_the_opt_out_file_the_layer_loses_it(container_fleet, container_runtime):
    """The role's kind of fix (write the opt-out file, restart): it holds in both until the
    container is re-created; then only the config volume still has it."""
    rt = container_runtime
    rt.run_netdata("smoke-layer", ct.V1)
    rt.run_netdata("smoke-volume", ct.V1, config_volume="volume")
    assert rt.config_mount("smoke-layer") is None
    m = rt.config_mount("smoke-volume")
    assert m["Type"] == "volume" and m["Name"] == "smoke-volume-config"
    assert rt.exec("smoke-layer", "mountpoint -q /etc/netdata").returncode == 32  # not one
    assert rt.exec("smoke-volume", "mountpoint -q /etc/netdata").returncode == 0
    # the runtime copied the image's config into the fresh named volume
    assert rt.exists("smoke-volume", "/etc/netdata/netdata.conf")
    for name in ("smoke-layer", "smoke-volume"):
        assert rt.hello(name)["anonymous_statistics"] is True
        rt.write_file(name, OPT_OUT, "")
        rt.write_file(name, "/etc/netdata/lab-marker.txt", f"{name}\n")
        env_before = env_without_hostname(rt, name)
        assert rt.restart(name)["anonymous_statistics"] is False  # read at start
        mounts_before = rt.config_mount(name)
        rt.recreate(name)
        assert env_without_hostname(rt, name) == env_before  # same run arguments
        assert rt.config_mount(name) == mounts_before
    assert rt.read_file("smoke-layer", "/etc/netdata/lab-marker.txt") is None
    assert not rt.exists("smoke-layer", OPT_OUT)
    assert rt.hello("smoke-layer")["anonymous_statistics"] is True
    assert rt.read_file("smoke-volume", "/etc/netdata/lab-marker.txt") == "smoke-volume\n"
    assert rt.exists("smoke-volume", OPT_OUT)
    assert rt.hello("smoke-volume")["anonymous_statistics"] is False
    # the volume's files are on the host, where a stopped container's config is read
    src = rt.config_mount("smoke-volume")["Source"]
    assert container_fleet.ssh(HOST, f"test -e {src}/.opt-out-from-anonymous-statistics").returncode == 0


def test_bind_mounted_config_dir_per_image_version(container_fleet, container_runtime):
    """An empty bind-mounted config dir: v1.37.1's entrypoint copies the stock config
    only into an EMPTY dir, after creating the opt-out file, so DO_NOT_TRACK=1 leaves it
    with the opt-out file alone; v2.10.4 copies every missing stock file."""
    fleet, rt = container_fleet, container_runtime
    base = f"/srv/netdata-lab/{rt.kind}"
    fleet.run(HOST, f"rm -rf {base}", check=True)
    rt.run_netdata("smoke-bind", ct.V1, config_volume=f"bind:{base}/plain")
    assert rt.config_mount("smoke-bind")["Type"] == "bind"
    assert fleet.exists(HOST, f"{base}/plain/netdata.conf")
    assert not fleet.exists(HOST, f"{base}/plain/.opt-out-from-anonymous-statistics")
    assert rt.hello("smoke-bind")["anonymous_statistics"] is True
    rt.run_netdata("smoke-bind-dnt", ct.V1, env={"DO_NOT_TRACK": "1"},
                   config_volume=f"bind:{base}/dnt")
    assert fleet.run(HOST, f"ls -A {base}/dnt").stdout.split() == [".opt-out-from-anonymous-statistics"]
    assert rt.hello("smoke-bind-dnt")["anonymous_statistics"] is False
    need_v2()
    rt.run_netdata("smoke-bind-v2", ct.V2, env={"DO_NOT_TRACK": "1"}, config_volume=f"bind:{base}/v2")
    files = set(fleet.run(HOST, f"ls -A {base}/v2").stdout.split())
    assert {".opt-out-from-anonymous-statistics", ".install-type", ".container-hostname"} <= files
    assert rt.hello("smoke-bind-v2")["anonymous_statistics"] is False
    fleet.run(HOST, f"rm -rf {base}")


def test_a_stopped_container_is_listed_with_its_env(container_fleet, container_runtime):
    fleet, rt = container_fleet, container_runtime
    rt.run_netdata("smoke-stopped", ct.V1, env={"DO_NOT_TRACK": "1"}, config_volume="volume")
    rt.stop("smoke-stopped")
    assert rt.host_pid("smoke-stopped") == 0
    assert rt.state("smoke-stopped") == "exited"
    rows = {r["name"]: r for r in rt.ps_all()}
    assert rows["smoke-stopped"]["state"] == "exited"
    assert rows["smoke-stopped"]["image"].endswith("netdata-lab:1.37.1")
    assert rt.env("smoke-stopped")["DO_NOT_TRACK"] == "1"
    # over SSH, as Ansible sees the host
    r = fleet.ssh(HOST, f"{rt.kind} ps -a --format '{{{{.Names}}}}'; "
                        f"{rt.kind} inspect -f '{{{{json .Config.Env}}}}' smoke-stopped")
    assert r.returncode == 0, r.stderr
    names, env = r.stdout.splitlines()[:-1], json.loads(r.stdout.splitlines()[-1])
    assert "smoke-stopped" in names and "DO_NOT_TRACK=1" in env
    # files of a stopped container: through the runtime, and on the volume's host path
    assert rt.exists("smoke-stopped", OPT_OUT)
    with pytest.raises(Exception):
        rt.hello("smoke-stopped", timeout=1.0)
    rt.start("smoke-stopped")
    assert rt.hello("smoke-stopped")["anonymous_statistics"] is False


# ------------------------------------------------------------------------ safety, lifecycle
def test_nothing_has_a_route_out(container_fleet, container_runtime):
    rt = container_runtime
    rt.run_netdata("smoke-net", ct.V1, env={"DO_NOT_TRACK": "1"})
    r = rt.exec("smoke-net", "ip -o link show | cut -d: -f2; ip route show; ip -6 route show | "
                             "grep -v '^::1 ' || :")
    assert r.stdout.split() == ["lo"], r.stdout
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == _IP_FORWARD
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    new = {l.split(":")[1].strip() for l in links.splitlines()} - \
        {l.split(":")[1].strip() for l in _MACHINE_LINKS.splitlines()}
    assert not [n for n in new if re.match(r"(docker|cni|podman|veth|br-)", n)], new


def test_stop_leaves_nothing_behind(container_fleet_factory):
    """A fleet of its own (docker only, one container), stopped: no process, cgroup dir,
    mount, port or work dir of it remains."""
    if ct.runtime_unavailable("docker"):
        pytest.skip(ct.runtime_unavailable("docker"))
    fleet = container_fleet_factory([ct.ContainerHostSpec.no_netdata("ctr-stop", runtimes=("docker",))])
    fleet.docker.run_netdata("gone", ct.V1)
    assert fleet.leftover_processes() and fleet.leftover_cgroups()
    addrs = [fleet.addr("ctr-stop"), fleet.docker.addr("gone")]
    t0 = time.monotonic()
    fleet.stop()
    _REPORT["stop_seconds"] = round(time.monotonic() - t0, 2)
    assert fleet.leftover_processes() == []
    assert fleet.leftover_cgroups() == []
    assert fleet.leftover_mounts() == []
    assert not fleet.workdir.exists()
    assert port_free(addrs[0], SSH_PORT) and port_free(addrs[1], NETDATA_PORT)


def test_report(container_fleet):
    """Timings and memory (not a check: tests/output/container-lab-report.json)."""
    rep = container_fleet.report()
    rep["session_seconds_so_far"] = round(time.monotonic() - _T0, 1)
    rep["images"] = {m["version"]: {"tar_bytes": m["tar_bytes"], "build_seconds": m["build_seconds"]}
                     for m in map(json.loads, [p.read_text() for p in
                                               ct.CACHE_DIR.glob("netdata-image-*/manifest.json")])}
    rep.update(_REPORT)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(rep, indent=1) + "\n")
    assert rep["hosts"][HOST]["processes"] > 0
