# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netdata agents in real containers (Docker and Podman) for the lab (see README.md,
"Container hosts").

Layout: a *container host* is a namespace lab host (fleet.py: `unshare` with its own
mount, UTS and PID namespaces, a copy-on-write overlay of the machine's root, sshd as
PID 1) that also has
  - its own network namespace: only its loopback; the controller reaches its sshd (and
    its own Netdata, daemon=True) through socat forwards on <addr>:2222/:19999 that enter
    that namespace per connection. Nothing in the host, its runtimes or its containers
    has a route out, whatever `docker run --network ...` someone types in it;
  - its own cgroup namespace rooted at a cgroup dir of its own
    (`<hierarchy>/netdata-ctlab/<run>/<host>`, in every hierarchy): inside, the cgroup
    tree is remounted, so the runtimes' default cgroups appear as on a real machine
    without systemd (`/docker/<id>`, `/libpod_parent/libpod-<id>`), everything the host
    starts stays below its dir, and stop() removes the dir;
  - the real runtimes of the machine's packages: `dockerd` (Debian's docker.io, runc,
    cgroupfs driver, no bridge/iptables/NAT/ip_forward) and `podman` (crun, cgroupfs,
    default network `none`), storage on a tmpfs of the host, with their default sockets,
    configs and storage paths, so `docker ps -a` / `podman ps -a` over SSH just work.
The product's module then runs on the host over SSH and sees the containers' processes in
its /proc (they live in PID namespaces nested in the host's), their roots under
/proc/<pid>/root, and the runtimes through their CLIs: the layout the product meets on a
VM that runs Docker or Podman.

Images (no registry): the root filesystem of the cached lab rootfs (rootfs.py: Debian
bookworm with Debian's netdata 1.37.1; with the v2.10.4 layer for the 2.10.4 image) is
made into an image tar once and cached under .build/lab-containers/, keyed like rootfs;
docker imports it the first time a container needs it (once per session), podman reads
it from a shared read-only image store built once (ensure_podman_store). The entrypoint
is the lab's own (files/netdata-container-entrypoint.sh, at the official image's path
/usr/sbin/run.sh): it creates the opt-out file from DO_NOT_TRACK /
DISABLE_TELEMETRY at every start with the image version's rule, then execs netdata in
the foreground. Every container runs with `--network none`; its Netdata web port is
reached through a loopback forward <addr>:19999 (one address per container name).

    from tests.lab.containers import ContainerFleet, ContainerHostSpec
    with ContainerFleet([ContainerHostSpec.no_netdata("ctr")]) as fleet:
        docker = fleet.runtime("ctr", "docker")
        docker.run_netdata("nd1", "1.37.1", env={"DO_NOT_TRACK": "1"}, config_volume="volume")
        docker.hello("nd1")["anonymous_statistics"]        # False
        fleet.ssh("ctr", "docker ps -a")                   # the host as Ansible sees it
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from . import netdata_daemon, procs, rootfs, snippets
from .fleet import (SSH_PORT, SYSTEM_PATH, Fleet, Host, HostSpec, LabAddressInUse, LabError,
                    _set_pdeathsig, lab_prerequisites, port_free)
from .netdata_daemon import NETDATA_PORT
from .systemd_hosts import _mounts_under, _remove_cgroup_dirs, reap_dead_controllers_runs

LAB_DIR = Path(__file__).resolve().parent
# Where a repository under /tmp keeps its container cache: every lab host mounts a /tmp of
# its own, which would hide the podman image store its containers are created from.
SHARED_CACHE_DIR = Path("/var/tmp/netdata-fleet-telemetry-lab/lab-containers")


def default_cache_dir(repo_root: Path = rootfs.REPO_ROOT) -> Path:
    """.build/lab-containers in the repository, unless that is under /tmp: then
    SHARED_CACHE_DIR (entries are keyed by what they are built from, so clones can share)."""
    in_repo = repo_root / ".build" / "lab-containers"
    return SHARED_CACHE_DIR if in_repo.resolve().is_relative_to("/tmp") else in_repo


CACHE_DIR = Path(os.environ.get("LAB_CONTAINER_CACHE") or default_cache_dir())
ENTRYPOINT = LAB_DIR / "files" / "netdata-container-entrypoint.sh"
DEFAULT_ADDR_BASE = "127.44.0."
CGROUP_PARENT = "netdata-ctlab"
WORKDIR_PREFIX = "netdata-ctlab-"
# Container forwards use <addr_base><CONTAINER_ADDR_OFFSET + k>; hosts <addr_base>1...
CONTAINER_ADDR_OFFSET = 100
RUNTIMES = ("docker", "podman")
CLI = {"docker": "/usr/bin/docker", "podman": "/usr/bin/podman"}
IMAGE_REPO = "localhost/netdata-lab"
V1, V2 = "1.37.1", rootfs.V2_VERSION
VERSIONS = (V1, V2)
CONFIG_DIR = "/etc/netdata"
OPT_OUT = f"{CONFIG_DIR}/.opt-out-from-anonymous-statistics"
SINK_LOG = "/var/lib/netdata-lab/sink.jsonl"
IN_IMAGE_LAB = "/usr/local/lib/netdata-lab"
# Cap of each runtime's storage tmpfs in a host (memory is used only as filled: ~200 MB per
# image docker imported, plus the containers' own layers).
STORAGE_TMPFS_SIZE = os.environ.get("LAB_CONTAINER_STORAGE_SIZE", "4g")

# What the image's entrypoint reproduces of the official packaging/docker/run.sh (see
# files/netdata-container-entrypoint.sh): the v1.37.1 rules, or those of v2.8.2+/v2.9.0+.
ENTRYPOINT_RULES = {
    V1: {"NETDATA_LAB_TELEMETRY_RULE": "nonempty", "NETDATA_LAB_STOCK_COPY": "if-empty",
         "NETDATA_LAB_HOSTNAME_FILE": "no"},
    V2: {"NETDATA_LAB_TELEMETRY_RULE": "nonzero", "NETDATA_LAB_STOCK_COPY": "no-clobber",
         "NETDATA_LAB_HOSTNAME_FILE": "yes"},
}
# The images' CMD (the entrypoint passes it to netdata): a light agent for a 2-core
# machine, on the command line so no edit of netdata.conf can undo it (as the namespace
# lab's service stand-in does). Nothing here touches telemetry.
_LEAN = [("db", "mode", "ram"), ("plugins", "enable running new plugins", "no"),
         ("plugins", "tc", "no"), ("plugins", "idlejitter", "no"), ("plugins", "cgroups", "no"),
         ("plugins", "statsd", "no"), ("health", "enabled", "no"), ("ml", "enabled", "no"),
         ("statsd", "enabled", "no")]
LEAN_ARGS = {
    V1: [a for s in [("global", "memory mode", "ram"), *_LEAN] for a in ("-W", "set", *s)],
    V2: [a for s in [*_LEAN, ("logs", "level", "info")] for a in ("-W", "set", *s)],
}
# What each agent logs when its start is complete (1.37.1: daemon/main.c, then
# send_statistics("START") decides `anonymous_statistics`; v2.10.4: src/daemon/main.c,
# then analytics_check_enabled()). Until then registry?action=hello reports the initial
# value (true) whatever the opt-out file says, so the lab waits for this line first.
READY_MARKERS = {V1: "netdata initialization completed", V2: "NETDATA STARTUP: completed"}
# The official images' environment (packaging/docker/Dockerfile at v1.37.1 / v2.10.4),
# which `inspect` shows in Config.Env next to what the container was run with.
IMAGE_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "DOCKER_GRP=netdata", "DOCKER_USR=netdata", "NETDATA_LISTENER_PORT=19999"]
# Options of `run` the lab refuses: a container never gets a network of its own.
_NETWORK_OPTS = ("--network", "--net", "-p", "--publish", "-P", "--publish-all", "--ip",
                 "--ip6", "--mac-address", "--network-alias", "--dns")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,62}$")  # docker: 2 chars at least


def _log(msg: str) -> None:
    print(f"[container-lab] {msg}", flush=True)


# ------------------------------------------------------------------------ prerequisites
def runtime_unavailable(kind: str) -> str | None:
    """None when the runtime's programs are installed on the machine, else why not."""
    if kind == "docker":
        need = ("/usr/bin/docker", "/usr/sbin/dockerd", "/usr/bin/containerd", "/usr/sbin/runc")
    elif kind == "podman":
        need = ("/usr/bin/podman", "/usr/bin/crun")
    else:
        return f"unknown container runtime {kind!r} (use {', '.join(RUNTIMES)})"
    missing = [p for p in need if not os.access(p, os.X_OK)]
    if missing:
        return (f"{kind}: {', '.join(missing)} not installed (scripts/bootstrap.sh test installs "
                "podman crun docker.io)")
    return None


def container_lab_prerequisites(runtimes: Iterable[str] = RUNTIMES) -> str | None:
    """None when container hosts with all of `runtimes` can run here, else the reason."""
    reason = lab_prerequisites()
    if reason:
        return reason
    for tool in ("socat", "ip", "tar"):
        if not shutil.which(tool):
            return f"`{tool}` not found (scripts/bootstrap.sh test)"
    for kind in runtimes:
        reason = runtime_unavailable(kind)
        if reason:
            return reason
    try:
        _cgroup_layout()
    except LabError as e:
        return str(e)
    if not (rootfs.CACHE_DIR / f"{rootfs.SUITE}-base-{rootfs.base_key()}" / "manifest.json").exists():
        reason = rootfs.rootfs_prerequisites()
        if reason:
            return f"no cached lab rootfs to make images from, and {reason}"
    return None


# ------------------------------------------------------------------------ cgroups
@dataclasses.dataclass(frozen=True)
class CgroupLayout:
    """The machine's cgroup hierarchies. mode "v1": v1 hierarchies (and perhaps a cgroup2
    at /sys/fs/cgroup/unified: hybrid); "v2": only cgroup2 at /sys/fs/cgroup."""
    mode: str
    v1: tuple[tuple[str, str], ...]   # (mount point, mount options: "cpu", "none,name=systemd")
    v2: str | None                    # cgroup2 mount point, if any
    links: tuple[tuple[str, str], ...] = ()  # symlinks in /sys/fs/cgroup (cpu -> cpu,cpuacct)

    @property
    def roots(self) -> list[str]:
        """Every hierarchy the host gets a dir in (v1 ones and the cgroup2 one)."""
        return [mount for mount, _controllers in self.v1] + ([self.v2] if self.v2 else [])


def _cgroup_layout() -> CgroupLayout:
    try:
        controllers = {l.split()[0] for l in Path("/proc/cgroups").read_text().splitlines()[1:] if l}
    except OSError:
        controllers = set()
    v1, v2 = [], None
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        pre, _sep, post = line.partition(" - ")
        fields, post = pre.split(), post.split()
        if len(post) < 3 or not fields[4].startswith("/sys/fs/cgroup"):
            continue
        mnt, fstype, sopts = fields[4], post[0], post[2].split(",")
        if fstype == "cgroup":
            opts = [o for o in sopts if o in controllers or o.startswith("name=")]
            if any(o.startswith("name=") for o in opts) and not any(o in controllers for o in opts):
                opts = ["none", *opts]
            v1.append((mnt, ",".join(opts)))
        elif fstype == "cgroup2":
            v2 = mnt
    links = []
    if os.path.isdir("/sys/fs/cgroup"):
        for e in sorted(os.listdir("/sys/fs/cgroup")):
            p = f"/sys/fs/cgroup/{e}"
            if os.path.islink(p):
                links.append((e, os.readlink(p)))
    forced = os.environ.get("LAB_CONTAINER_CGROUPS", "")
    if forced not in ("", "v1", "v2"):
        raise LabError(f"LAB_CONTAINER_CGROUPS={forced!r}: use v1 or v2")
    if forced == "v2" and v2:
        # The hosts get only the cgroup2 hierarchy (on a hybrid machine: its unified one),
        # i.e. they look like pure cgroup v2 machines; tries the v2 path on a v1 machine.
        layout = CgroupLayout("v2", (), v2)
    elif v1:
        layout = CgroupLayout("v1", tuple(v1), v2, tuple(links))
    elif v2 == "/sys/fs/cgroup":
        layout = CgroupLayout("v2", (), v2)
    else:
        raise LabError("no usable cgroup hierarchy under /sys/fs/cgroup")
    for r in layout.roots:
        if not os.access(r, os.W_OK):
            raise LabError(f"cgroup hierarchy {r} is not writable (container hosts need root "
                           "and writable cgroups)")
    return layout


def _make_cgroup_dir(root: str, rel: str) -> Path:
    """mkdir -p <root>/<rel>; a new v1 cpuset dir gets its parent's cpus/mems (else no
    process can join it); on cgroup2 the levels above the last delegate the controllers
    they have (best effort: they hold no process)."""
    d = Path(root)
    parts = rel.split("/")
    for i, part in enumerate(parts):
        if i and (d / "cgroup.subtree_control").exists():
            try:
                ctl = (d / "cgroup.controllers").read_text().split()
                if ctl:
                    (d / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in ctl))
            except OSError:
                pass
        d = d / part
        for attempt in range(3):  # another run's stop() may rmdir a shared parent
            try:
                d.mkdir(exist_ok=True)
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
        for f in ("cpuset.cpus", "cpuset.mems"):
            p = d / f
            if p.exists() and not p.read_text().strip():
                p.write_text((d.parent / f).read_text())
    return d


def _host_setup(layout: CgroupLayout, ulimits: tuple[int, int],
                podman_store: Path | None = None) -> str:
    """Bash run inside a container host (after the namespace lab's own setup, before the
    spec's setup and sshd): loopback up, cgroup tree of the host's cgroup namespace,
    runtime storage on the machine's disk, runtime configs."""
    s = ["# --- netdata-ctlab: container host (tests/lab/containers.py) ---",
         "ip link set lo up",
         "# The cgroup tree as the host's own cgroup namespace sees it (rooted at its dir)."]
    if layout.mode == "v1":
        s.append("mount -t tmpfs -o mode=0755,nosuid,nodev,noexec cgroup /sys/fs/cgroup")
        for mnt, opts in layout.v1:
            s += [f"mkdir -p {shlex.quote(mnt)}",
                  f"mount -t cgroup -o {shlex.quote(opts)} cgroup {shlex.quote(mnt)}"]
        for name, target in layout.links:
            s.append(f"ln -sfn {shlex.quote(target)} /sys/fs/cgroup/{shlex.quote(name)}")
        # A cgroup2 next to v1 (hybrid) is left out on purpose: crun refuses hybrid setups
        # whose cgroup2 has controllers ("cgroups in hybrid mode not supported"), and the
        # host then looks like a plain cgroup v1 machine to every runtime.
    else:
        # Pure cgroup v2 (as docker-in-docker does it): the namespace root may not hold
        # processes once controllers are delegated, so they move to /init.
        s += ["mount -t cgroup2 cgroup2 /sys/fs/cgroup",
              "mkdir -p /sys/fs/cgroup/init",
              "for p in $(cat /sys/fs/cgroup/cgroup.procs); do "
              "echo $p > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || :; done",
              "sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers "
              "> /sys/fs/cgroup/cgroup.subtree_control || :"]
    nofile, nproc = ulimits
    s += [
        "# Runtime storage on tmpfs: overlayfs cannot use the host's own overlay root as an",
        "# upper layer, and on this VM's disk (mounted with discard) removing a docker data",
        "# root with two images took 20 s; a tmpfs dies with the host's mount namespace.",
        "mkdir -p /var/lib/docker /var/lib/containers",
        f"mount -t tmpfs -o mode=0711,size={STORAGE_TMPFS_SIZE} netdata-ctlab-docker /var/lib/docker",
        f"mount -t tmpfs -o mode=0700,size={STORAGE_TMPFS_SIZE} netdata-ctlab-containers "
        "/var/lib/containers",
        "mkdir -p /etc/docker /etc/containers",
        # dockerd: no bridge, no iptables/NAT, no ip_forward: it touches no network at all
        # (and the host's only interface is its loopback anyway).
        snippets.write_file("/etc/docker/daemon.json", json.dumps({
            "bridge": "none", "iptables": False, "ip6tables": False, "ip-forward": False,
            "ip-masq": False, "userland-proxy": False, "storage-driver": "overlay2",
            "exec-opts": ["native.cgroupdriver=cgroupfs"], "log-driver": "json-file",
            "log-level": "warn"}, indent=1) + "\n").rstrip("\n"),
        # podman: crun with cgroupfs; no network unless asked (and none is offered). The
        # ulimits are the machine's hard limits: without CAP_SYS_RESOURCE (this VM) crun
        # cannot raise them ("setrlimit RLIMIT_NOFILE: Operation not permitted").
        snippets.write_file("/etc/containers/containers.conf", "\n".join([
            "# netdata-ctlab", "[containers]", 'netns = "none"',
            f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]',
            "[engine]", 'cgroup_manager = "cgroupfs"', 'runtime = "crun"',
            'events_logger = "file"', ""])).rstrip("\n"),
        snippets.write_file("/etc/containers/storage.conf", "\n".join([
            "# netdata-ctlab", "[storage]", 'driver = "overlay"',
            'graphroot = "/var/lib/containers/storage"', 'runroot = "/run/containers/storage"',
            *(["[storage.options]", f'additionalimagestores = ["{podman_store}"]']
              if podman_store else []), ""])).rstrip("\n"),
        # The lab's images for podman: the shared store, read-only in the host.
        *([f"mount --bind {shlex.quote(str(podman_store))} {shlex.quote(str(podman_store))}",
           f"mount -o remount,bind,ro {shlex.quote(str(podman_store))}"] if podman_store else []),
        "rm -f /etc/containers/libpod.conf",
        # Some machines have another `docker` first on PATH (/usr/local/bin): in the host,
        # `docker` is the docker.io CLI that talks to its dockerd, as on a Debian machine.
        "if [ -x /usr/bin/docker ]; then rm -f /usr/local/bin/docker; fi",
        "# --- end of netdata-ctlab setup ---", ""]
    return "\n".join(s)


def _ulimits() -> tuple[int, int]:
    """nofile, nproc for podman's containers: the machine's hard limits (capped)."""
    def hard(res: int, cap: int) -> int:
        h = resource.getrlimit(res)[1]
        return cap if h == resource.RLIM_INFINITY else min(h, cap)
    return hard(resource.RLIMIT_NOFILE, 1048576), hard(resource.RLIMIT_NPROC, 32768)


# ------------------------------------------------------------------------ images
def _entrypoint_conf(version: str) -> str:
    return ("# netdata-lab: entrypoint behaviour of this image (tests/lab/containers.py)\n"
            f"NETDATA_LAB_IMAGE_VERSION={version}\n"
            + "".join(f"{k}={v}\n" for k, v in ENTRYPOINT_RULES[version].items()))


def image_changes(version: str) -> list[str]:
    """The image config (Dockerfile-style instructions for `import --change`)."""
    return ['ENTRYPOINT ["/usr/sbin/run.sh"]', f"CMD {json.dumps(LEAN_ARGS[version])}",
            *[f"ENV {e}" for e in IMAGE_ENV], "EXPOSE 19999/tcp", "WORKDIR /"]


def image_ref(version: str) -> str:
    return f"{IMAGE_REPO}:{version}"


# Run chrooted in the image's root (an overlay on the lab rootfs, no network). $1 = version.
_CONFIGURE_IMAGE = r"""
set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
V=$1
if [ "$V" != 1.37.1 ]; then
  # The v2 layer is a static install under /opt/netdata (compiled-in paths). The official
  # image keeps config, state and logs at /etc/netdata, /var/lib/netdata ... and the agent
  # at /usr/sbin/netdata: move them there and leave symlinks at the compiled-in paths.
  N=/opt/netdata
  for d in etc/netdata var/lib/netdata var/cache/netdata var/log/netdata; do
    rm -rf "/$d"; mv "$N/$d" "/$d"; ln -s "/$d" "$N/$d"
  done
  for d in usr/lib/netdata usr/libexec/netdata usr/share/netdata; do
    rm -rf "/$d"; ln -s "$N/$d" "/$d"
  done
  for f in "$N"/usr/sbin/*; do
    b=$(basename "$f"); mv "$f" "/usr/sbin/$b"; ln -s "/usr/sbin/$b" "$f"
  done
  rm -f /usr/lib/systemd/system/netdata.service /etc/systemd/system/multi-user.target.wants/netdata.service
else
  rm -f /lib/systemd/system/netdata.service /etc/systemd/system/multi-user.target.wants/netdata.service \
    /etc/init.d/netdata
fi
# As the official image: no opt-out file (Debian's package ships one), INSTALL_TYPE 'oci',
# logs to the container's stdout/stderr, a stock copy of the config dir.
rm -f /etc/netdata/.opt-out-from-anonymous-statistics
printf "INSTALL_TYPE='oci'\nPREBUILT_ARCH='x86_64'\n" > /etc/netdata/.install-type
mkdir -p /var/log/netdata
for l in access.log aclk.log debug.log collector.log health.log; do ln -sf /dev/stdout "/var/log/netdata/$l"; done
for l in error.log daemon.log; do ln -sf /dev/stderr "/var/log/netdata/$l"; done
rm -rf /var/lib/netdata/registry/* /var/cache/netdata/* /etc/netdata.stock
cp -a /etc/netdata /etc/netdata.stock
id netdata >/dev/null
/usr/sbin/netdata -v
"""
_TAR_EXCLUDES = ("./usr/share/doc/*", "./usr/share/man/*", "./usr/share/locale/*",
                 "./usr/share/info/*", "./var/cache/apt/*", "./var/lib/apt/lists/*",
                 "./var/log/journal/*", "./etc/ssh/ssh_host_*")


def image_key(version: str, base: Path, layer: Path | None) -> str:
    """Hash of what the image is made of: its base (and layer) build, the build script,
    the image config and the entrypoint (not the rest of this file)."""
    return rootfs._file_hash(version.encode(), base.parent.name.encode(),
                             (layer.parent.name if layer else "").encode(),
                             _CONFIGURE_IMAGE.encode(), " ".join(_TAR_EXCLUDES).encode(),
                             json.dumps(image_changes(version)).encode(),
                             _entrypoint_conf(version).encode(), _hosts_lines().encode(),
                             ENTRYPOINT.read_bytes())


def _hosts_lines() -> str:
    return "".join(f"127.0.0.1\t{n}\n" for n in rootfs.NETDATA_ENDPOINTS)


def ensure_image(version: str, cache: Path | None = None) -> Path:
    """Directory of the cached image (rootfs.tar + manifest.json) for `version`; built
    once from the lab rootfs (and the v2 layer for v2)."""
    if version not in VERSIONS:
        raise ValueError(f"image version {version!r}: use one of {VERSIONS}")
    base = rootfs.ensure_base()
    layer = None
    if version == V2:
        reason = rootfs.v2_available()
        if reason:
            raise rootfs.RootfsError(reason)
        layer = rootfs.ensure_v2_layer(base)
    key = image_key(version, base, layer)
    return rootfs._cached(f"netdata-image-{version}", key,
                          lambda tmp: _build_image(tmp, version, base, layer), cache or CACHE_DIR)


def _build_image(tmp: Path, version: str, base: Path, layer: Path | None) -> dict:
    upper, work, merged = tmp / "upper", tmp / "work", tmp / "merged"
    for d in (upper, work, merged):
        d.mkdir()
    lab = upper / IN_IMAGE_LAB.lstrip("/")
    lab.mkdir(parents=True)
    (lab / "entrypoint.conf").write_text(_entrypoint_conf(version))
    (lab / "hosts").write_text(_hosts_lines())
    (upper / "usr/sbin").mkdir(parents=True)
    shutil.copy2(ENTRYPOINT, upper / "usr/sbin/run.sh")
    os.chmod(upper / "usr/sbin/run.sh", 0o755)
    lowers = f"{layer}:{base}" if layer else str(base)
    excludes = " ".join(f"--exclude={shlex.quote(e)}" for e in _TAR_EXCLUDES)
    out = tmp / "rootfs.tar"
    # The overlay exists only in this private mount namespace; the chroot has no network.
    script = (f"set -e; mount -t overlay netdata-ctlab-img -o lowerdir={lowers},upperdir={upper},"
              f"workdir={work} {merged}; unshare --net chroot {merged} /bin/bash -c \"$1\" configure "
              f"{version}; rc=0; tar -C {merged} --numeric-owner --xattrs --xattrs-include='*' "
              f"--warning=no-file-changed {excludes} -cf {out} . || rc=$?; [ $rc -le 1 ]")
    # (exit 1 = "file changed as we read it": directories of a fresh overlay report new
    # ctimes while tar reads them; nothing writes to the tree then.)
    r = rootfs._run(["unshare", "--mount", "--propagation", "private", "--fork", "/bin/sh", "-c",
                     script, "sh", _CONFIGURE_IMAGE], timeout=900)
    for d in (upper, work):
        shutil.rmtree(d, ignore_errors=True)
    merged.rmdir()
    return {"version": version, "netdata_v": r.stdout.strip().splitlines()[-1],
            "base": base.parent.name, "layer": layer.parent.name if layer else None,
            "ref": image_ref(version), "changes": image_changes(version),
            "tar_bytes": out.stat().st_size,
            "entrypoint_sha256": hashlib.sha256(ENTRYPOINT.read_bytes()).hexdigest()}


# Podman's copy of the images, built once per set of image builds and shared read-only by
# every container host (an "additional image store" in its storage.conf): podman then
# needs no import per session (an import took 5-30 s per image here).
_PODMAN_STORE_CONF = """[storage]
driver = "overlay"
graphroot = "{store}"
runroot = "/run/netdata-ctlab-store"
"""


def ensure_podman_store(cache: Path | None = None) -> Path:
    """Directory of a podman image store holding every lab image that can be built here."""
    dirs = [ensure_image(v, cache) for v, why in images_available().items() if why is None]
    key = rootfs._file_hash(*[d.name.encode() for d in dirs], _PODMAN_STORE_CONF.encode())
    return rootfs._cached("podman-store", key, lambda tmp: _build_podman_store(tmp, dirs),
                          cache or CACHE_DIR) / "store"


def _build_podman_store(tmp: Path, dirs: list[Path]) -> dict:
    store = tmp / "store"
    store.mkdir()
    (tmp / "storage.conf").write_text(_PODMAN_STORE_CONF.format(store=store))
    imports = []
    for d in dirs:
        m = json.loads((d / "manifest.json").read_text())
        changes = " ".join(f"--change {shlex.quote(c)}" for c in m["changes"])
        imports.append(f"{CLI['podman']} import -q {changes} {d / 'rootfs.tar'} {m['ref']}")
    # In a private mount namespace whose /var/lib and /run are empty tmpfs: podman's
    # caches and run state never touch the machine's; no network.
    script = "set -e; mount -t tmpfs none /run; mount -t tmpfs none /var/lib; " + "; ".join(imports)
    rootfs._run(["unshare", "--mount", "--propagation", "private", "--net", "--fork", "/bin/sh",
                 "-c", script], timeout=1800,
                env={"PATH": SYSTEM_PATH, "CONTAINERS_STORAGE_CONF": str(tmp / "storage.conf"),
                     "HOME": "/root"})
    (tmp / "storage.conf").unlink()
    return {"images": [d.name for d in dirs]}


def images_available() -> dict[str, str | None]:
    """version -> None when the image can be built (or is cached), else why not."""
    return {V1: None, V2: rootfs.v2_available()}


# ------------------------------------------------------------------------ specs
@dataclasses.dataclass
class ContainerHostSpec(HostSpec):
    """A namespace lab host (HostSpec: setup, daemon, container, groups, hostvars ...) that
    runs container runtimes. `runtimes`: which are started with the host (docker: dockerd
    up; podman: ready to use); both CLIs are installed either way."""
    runtimes: tuple[str, ...] = RUNTIMES

    def __post_init__(self):
        super().__post_init__()
        self.runtimes = tuple(self.runtimes)
        for r in self.runtimes:
            if r not in RUNTIMES:
                raise ValueError(f"runtime {r!r}: use {RUNTIMES}")


# The session's standard container host (tests/lab_integration/conftest.py `container_fleet`):
# no Netdata of its own, so only the containers' agents are installs on it.
STANDARD_SPECS = (ContainerHostSpec.no_netdata("ctr"),)


# ------------------------------------------------------------------------ containers
@dataclasses.dataclass
class Container:
    """What the lab ran: enough to re-create it (recreate()) with the same arguments."""
    name: str
    runtime: str
    host: str
    image: str
    version: str | None
    env: dict[str, str]
    config_volume: str | None
    argv: list[str]            # arguments of `<cli> run` (after "run")
    addr: str                  # loopback address of its web port forward (:19999)
    forward: subprocess.Popen | None = None


class Runtime:
    """One runtime (docker or podman) of one container host. Container operations take
    the container's name; commands run inside the host (its namespaces and cgroup)."""

    def __init__(self, fleet: "ContainerFleet", host: str, kind: str):
        if kind not in RUNTIMES:
            raise ValueError(f"runtime {kind!r}: use {RUNTIMES}")
        self.fleet, self.host, self.kind = fleet, host, kind
        self.cli_path = CLI[kind]
        self._image_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Runtime({self.host!r}, {self.kind!r})"

    # ---- the runtime itself ------------------------------------------------------
    def cli(self, *args: str, check: bool = False, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess:
        """`docker|podman <args>` as root in the host."""
        cmd = " ".join(shlex.quote(a) for a in (self.cli_path, *args))
        r = self.fleet.run(self.host, cmd, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise LabError(f"[{self.host}] {self.kind} {' '.join(args)[:300]} exited "
                           f"{r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        return r

    def running(self) -> bool:
        """dockerd answers (docker); podman has no daemon: True when its CLI works."""
        return self.cli("version", "--format", "{{.Server.Version}}" if self.kind == "docker"
                        else "{{.Client.Version}}", timeout=30).returncode == 0

    def up(self, timeout: float | None = None) -> float:
        """Start the runtime (dockerd, detached, in the host; podman: check it works).
        Returns the seconds it took."""
        t0 = time.monotonic()
        timeout = timeout or self.fleet.runtime_timeout
        if self.kind == "docker" and not self.running():
            self.fleet.run(self.host, "setsid -f env -i PATH=" + SYSTEM_PATH +
                           " LANG=C.UTF-8 HOME=/root /usr/sbin/dockerd --pidfile /run/docker.pid"
                           " >> /run/netdata-lab/dockerd.log 2>&1 < /dev/null", check=True)
        deadline = time.monotonic() + timeout
        while not self.running():
            if time.monotonic() > deadline:
                log = self.fleet.read_file(self.host, "/run/netdata-lab/dockerd.log") or ""
                raise LabError(f"[{self.host}] {self.kind} did not come up in {timeout:.0f}s:\n"
                               f"{self.cli('info').stderr[-1500:]}\n{log[-2500:]}")
            time.sleep(0.2)
        if self.kind == "podman":
            self.cli("info", "--format", "{{.Host.CgroupManager}}", check=True)
        took = round(time.monotonic() - t0, 2)
        self.fleet.timings.setdefault("runtime_up", {})[f"{self.host}/{self.kind}"] = took
        return took

    def down(self, timeout: float = 40.0) -> None:
        """docker: stop dockerd (SIGTERM; it stops its containers first) and wait for it;
        podman (no daemon): stop every container."""
        if self.kind == "podman":
            self.cli("stop", "-a", "-t", "5", timeout=timeout + 10)
            return
        self.fleet.run(self.host, "[ -f /run/docker.pid ] && kill -TERM $(cat /run/docker.pid) || :")
        deadline = time.monotonic() + timeout
        while self.fleet.run(self.host, "[ -f /run/docker.pid ] && kill -0 $(cat /run/docker.pid)"
                             ).returncode == 0:
            if time.monotonic() > deadline:
                raise LabError(f"[{self.host}] dockerd did not stop in {timeout:.0f}s")
            time.sleep(0.2)

    def ensure_image(self, version: str) -> str:
        """Import the lab image for `version` into this runtime unless it has it; returns
        its reference. The tar is read through the host's root (the machine's file)."""
        ref = image_ref(version)
        with self._image_lock:
            if self.cli("image", "inspect", ref, timeout=60).returncode == 0:
                return ref
            t0 = time.monotonic()
            d = ensure_image(version)
            manifest = json.loads((d / "manifest.json").read_text())
            args = ["import"]
            for c in manifest["changes"]:
                args += ["--change", c]
            self.cli(*args, str(d / "rootfs.tar"), ref, check=True, timeout=600)
            self.fleet.timings.setdefault("image_import", {})[
                f"{self.host}/{self.kind}/{version}"] = round(time.monotonic() - t0, 2)
        return ref

    # ---- containers --------------------------------------------------------------
    def run_netdata(self, name: str, image: str = V1, env: Mapping[str, str] | None = None,
                    config_volume: str | None = None, args: Sequence[str] = (),
                    run_args: Sequence[str] = (), wait: bool = True,
                    timeout: float = 60.0) -> Container:
        """`<cli> run -d --name NAME --network none [-e K=V]... [-v CONFIG:/etc/netdata]
        [run_args] IMAGE [args]` in the host, then (wait) until its agent answers hello
        through the forward. image: a version in VERSIONS (the lab's image, imported on
        first use) or any reference the runtime has. config_volume: None (the config dir
        is in the container's layer), "volume" (named volume `<name>-config`),
        "volume:<name>", or "bind:<path in the host>" (created when missing).
        args replace the image's CMD (the lean `-W set` options) when given."""
        if not _NAME_RE.match(name):
            raise ValueError(f"container name {name!r}: use [a-z0-9][a-z0-9_.-]*")
        for a in run_args:
            if a.split("=", 1)[0] in _NETWORK_OPTS:
                raise ValueError(f"run_args {a!r}: lab containers run with --network none only")
        version = image if image in VERSIONS else None
        ref = self.ensure_image(image) if version else image
        argv = ["-d", "--name", name, "--network", "none"]
        for k, v in (env or {}).items():
            argv += ["-e", f"{k}={v}"]
        if config_volume:
            argv += ["-v", f"{self._config_source(name, config_volume)}:{CONFIG_DIR}"]
        argv += [*run_args, ref, *args]
        key = (self.host, self.kind, name)
        c = self.fleet.containers.get(key)
        addr = c.addr if c else self.fleet._container_addr(key)
        c = Container(name, self.kind, self.host, ref, version, dict(env or {}), config_volume,
                      argv, addr, c.forward if c else None)
        self.fleet.containers[key] = c
        self._create(c)
        if c.forward is None or c.forward.poll() is not None:
            c.forward = self.fleet._forward_container(self, c)
        if wait:
            self.wait_ready(name, 1, timeout=timeout)
        return c

    def _config_source(self, name: str, spec: str) -> str:
        if spec == "volume":
            return f"{name}-config"
        if spec.startswith("volume:") and _NAME_RE.match(spec[7:]):
            return spec[7:]
        if spec.startswith("bind:/"):
            path = spec[5:]
            self.fleet.run(self.host, f"mkdir -p {shlex.quote(path)}", check=True)
            return path
        raise ValueError(f"config_volume {spec!r}: use None, 'volume', 'volume:<name>' or "
                         "'bind:<absolute path in the host>'")

    def _create(self, c: Container) -> None:
        t0 = time.monotonic()
        self.fleet.created.append((self.host, self.kind, c.name))  # even if `run` fails half-way
        r = self.cli("run", *c.argv, timeout=120)
        if r.returncode != 0:
            raise LabError(f"[{self.host}] {self.kind} run {c.name} failed ({r.returncode}):\n"
                           f"{r.stderr[-3000:]}")
        self.fleet.timings.setdefault("container_create", []).append(round(time.monotonic() - t0, 2))

    def container(self, name: str) -> Container:
        try:
            return self.fleet.containers[(self.host, self.kind, name)]
        except KeyError:
            raise LabError(f"[{self.host}] {self.kind}: no container {name!r} run by the lab") from None

    def recreate(self, name: str, wait: bool = True, timeout: float = 60.0) -> Container:
        """Remove the container (not its volumes) and run it again with the same arguments
        (same env, same mounts): what `docker compose up` does after a change."""
        c = self.container(name)
        self.rm(name)
        self._create(c)
        if wait:
            self.wait_ready(name, 1, timeout=timeout)
        return c

    def stop(self, name: str, timeout: int = 10) -> None:
        self.cli("stop", "-t", str(timeout), name, check=True, timeout=timeout + 60)

    def start(self, name: str, wait: bool = True, timeout: float = 60.0) -> dict | None:
        """`<cli> start NAME`; returns hello (after the agent's start completed) when wait."""
        starts = self.starts(name)
        self.cli("start", name, check=True)
        return self.wait_ready(name, starts + 1, timeout=timeout) if wait else None

    def restart(self, name: str, wait: bool = True, timeout: float = 60.0) -> dict | None:
        """`<cli> restart NAME` (the entrypoint runs again); returns hello (after the new
        agent's start completed) when wait."""
        starts = self.starts(name)
        self.cli("restart", "-t", "10", name, check=True, timeout=90)
        return self.wait_ready(name, starts + 1, timeout=timeout) if wait else None

    def rm(self, name: str, volumes: bool = False) -> None:
        """Remove the container (force); volumes=True also removes its anonymous volumes
        and a named config volume the lab created for it."""
        # podman's `rm -f` stops with the stop timeout first; docker's kills at once
        self.cli("rm", "-f", *(["-t", "0"] if self.kind == "podman" else []),
                 *(["-v"] if volumes else []), name, check=True, timeout=90)
        c = self.fleet.containers.get((self.host, self.kind, name))
        if volumes and c and c.config_volume and c.config_volume.startswith("volume"):
            self.cli("volume", "rm", "-f", self._config_source(name, c.config_volume))

    def inspect(self, name: str) -> dict:
        r = self.cli("inspect", "--type", "container", name, timeout=60)
        if r.returncode != 0:
            raise LabError(f"[{self.host}] {self.kind} inspect {name}: {r.stderr.strip()}")
        return json.loads(r.stdout)[0]

    def env(self, name: str) -> dict[str, str]:
        """The container's Config.Env (the image's ENV plus what it was run with)."""
        return dict(e.split("=", 1) for e in self.inspect(name)["Config"]["Env"] or [] if "=" in e)

    def state(self, name: str) -> str:
        return self.inspect(name)["State"]["Status"]

    def host_pid(self, name: str) -> int:
        """PID of the container's init (the agent) in the host's PID namespace, as the
        host's /proc shows it (State.Pid); 0 when not running."""
        return int(self.inspect(name)["State"]["Pid"] or 0)

    def machine_pid(self, name: str) -> int | None:
        """The same process as the machine (controller) sees it, or None."""
        hp = self.host_pid(name)
        if not hp:
            return None
        ns = self.fleet.run(self.host, f"readlink /proc/{hp}/ns/pid").stdout.strip()
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                if os.readlink(f"/proc/{d}/ns/pid") != ns:
                    continue
                for line in Path(f"/proc/{d}/status").read_text().splitlines():
                    if line.startswith("NSpid:") and line.split()[-1] == "1":
                        return int(d)
            except OSError:
                continue
        return None

    def ps_all(self) -> list[dict]:
        """`ps -a` of the runtime: [{name, id, image, state, status}] (stopped ones too)."""
        if self.kind == "docker":
            r = self.cli("ps", "-a", "--no-trunc", "--format", "{{json .}}", check=True)
            rows = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
            return [{"name": x["Names"], "id": x["ID"], "image": x["Image"],
                     "state": x.get("State", ""), "status": x["Status"]} for x in rows]
        r = self.cli("ps", "-a", "--format", "json", check=True)
        rows = json.loads(r.stdout or "[]")
        return [{"name": (x["Names"] or [""])[0], "id": x["Id"], "image": x["Image"],
                 "state": x["State"], "status": x["Status"]} for x in rows]

    def logs(self, name: str) -> str:
        r = self.cli("logs", name, timeout=60)
        return r.stdout + r.stderr

    def config_mount(self, name: str) -> dict | None:
        """inspect's Mounts entry for /etc/netdata (Type volume|bind, Source = its path in
        the host, Name for volumes), or None when the config dir is in the layer."""
        for m in self.inspect(name).get("Mounts") or []:
            if m.get("Destination") == CONFIG_DIR:
                return m
        return None

    # ---- files inside (running or stopped: through `<cli> cp`) ----------------------
    def _tmp(self) -> str:
        return f"/tmp/netdata-ctlab-cp-{uuid.uuid4().hex}"

    def read_file(self, name: str, path: str) -> str | None:
        """A file's text inside the container (None when missing); works when it is
        stopped too."""
        tmp = self._tmp()
        try:
            r = self.cli("cp", f"{name}:{path}", tmp, timeout=60)
            if r.returncode != 0:
                if re.search(r"no such file|could not find|not found|no such container:path", r.stderr, re.I):
                    return None
                raise LabError(f"[{self.host}] {self.kind} cp {name}:{path}: {r.stderr.strip()}")
            got = self.fleet.run(self.host, f"cat -- {tmp}")
            if got.returncode != 0:
                raise LabError(f"[{self.host}] {name}:{path} is not a readable file: {got.stderr}")
            return got.stdout
        finally:
            self.fleet.run(self.host, f"rm -rf -- {tmp}")

    def exists(self, name: str, path: str) -> bool:
        tmp = self._tmp()
        try:
            return self.cli("cp", f"{name}:{path}", tmp, timeout=60).returncode == 0
        finally:
            self.fleet.run(self.host, f"rm -rf -- {tmp}")

    def write_file(self, name: str, path: str, text: str, mode: str = "0644") -> None:
        """Write a file inside the container (its parent dir must exist), running or not."""
        tmp = self._tmp()
        try:
            self.fleet.write_file(self.host, tmp, text, mode=mode)
            self.cli("cp", tmp, f"{name}:{path}", check=True, timeout=60)
        finally:
            self.fleet.run(self.host, f"rm -f -- {tmp}")

    def exec(self, name: str, cmd: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """`<cli> exec NAME sh -c CMD` (running containers only)."""
        return self.cli("exec", name, "/bin/sh", "-c", cmd, timeout=timeout)

    # ---- the agent -----------------------------------------------------------------
    def addr(self, name: str) -> str:
        return self.container(name).addr

    def hello(self, name: str, timeout: float = 3.0) -> dict:
        """registry?action=hello of the container's agent, through its forward."""
        return netdata_daemon.hello(self.addr(name), NETDATA_PORT, timeout=timeout)

    def starts(self, name: str) -> int:
        """How many starts of the lab image's agent completed in this container (its
        READY_MARKERS line in the container's log); -1 for other images."""
        c = self.fleet.containers.get((self.host, self.kind, name))
        if not c or c.version not in READY_MARKERS:
            return -1
        r = self.fleet.run(self.host, f"{self.cli_path} logs {shlex.quote(name)} 2>&1 | "
                                      f"grep -cF {shlex.quote(READY_MARKERS[c.version])} || :", timeout=60)
        return int(r.stdout.strip() or 0)

    def wait_ready(self, name: str, starts: int = 1, timeout: float = 60.0) -> dict:
        """Wait until the agent completed its `starts`-th start (lab images: the log line;
        until then hello shows the initial value), then until hello answers; returns it."""
        deadline = time.monotonic() + timeout
        while 0 <= self.starts(name) < starts:
            if time.monotonic() > deadline:
                raise LabError(f"[{self.host}] {self.kind} {name}: start #{starts} of the agent not "
                               f"complete after {timeout:.0f}s:\n{self.logs(name)[-3000:]}")
            time.sleep(0.2)
        return self.wait_hello(name, timeout=max(1.0, deadline - time.monotonic()))

    def wait_hello(self, name: str, timeout: float = 60.0) -> dict:
        try:
            return netdata_daemon.wait_hello(self.addr(name), NETDATA_PORT, timeout=timeout)
        except TimeoutError as e:
            raise LabError(f"{e}\n[{self.host}] {self.kind} {name}: "
                           f"{self.cli('ps', '-a').stdout[-1500:]}\n{self.logs(name)[-3000:]}") from None

    def api(self, name: str, path: str, timeout: float = 3.0):
        return netdata_daemon.api_get(self.addr(name), path, NETDATA_PORT, timeout=timeout)

    def sink_posts(self, name: str, host_header: str | None = None) -> list[dict]:
        """What the container's agent sent (the in-container sink's records, see the
        entrypoint), optionally only requests whose Host starts with host_header."""
        text = self.read_file(name, SINK_LOG) or ""
        recs = [json.loads(l) for l in text.splitlines() if l.strip()]
        if host_header:
            recs = [r for r in recs if (r.get("host") or "").split(":")[0] == host_header]
        return recs

    def memory(self, name: str) -> dict[str, int]:
        """PSS/RSS (kB) of every process in the container (its PID namespace)."""
        mp = self.machine_pid(name)
        if mp is None:
            return {"pss_kb": 0, "rss_kb": 0, "processes": 0}
        return procs.memory_of(procs.pids_in_pidns(os.readlink(f"/proc/{mp}/ns/pid")))


# ------------------------------------------------------------------------ the fleet
_FORWARD_SH = r"""#!/bin/sh
# netdata-ctlab: one forwarded connection (socat EXEC, see containers.py).
#   host HOSTPID ADDR PORT            -> ADDR:PORT in the host's network namespace
#   container HOSTPID CLI NAME PORT   -> 127.0.0.1:PORT in the container NAME's network
#                                        namespace (its PID asked from the runtime at each
#                                        connection, so restarts and re-creations follow)
set -eu
mode=$1 pid=$2; shift 2
# Never connect from the machine's own network namespace (the forward's own address).
[ "$(readlink /proc/$pid/ns/net)" != "$(readlink /proc/self/ns/net)" ] || exit 1
case $mode in
  host) exec nsenter -t "$pid" -n socat STDIO "TCP:$1:$2" ;;
  container)
    exec nsenter -t "$pid" -m -u -p -n -C -- /bin/sh -c '
      p=$("$0" inspect -f "{{.State.Pid}}" "$1" 2>/dev/null) || exit 1
      [ "${p:-0}" -gt 0 ] || exit 1
      exec nsenter -t "$p" -n socat STDIO "TCP:127.0.0.1:$2"' "$1" "$2" "$3" ;;
esac
exit 2
"""


class ContainerFleet(Fleet):
    """ContainerFleet(specs, addr_base=None, workdir=None, ...) -- context manager or
    start()/stop(); a Fleet (SSH, Ansible, run/read_file/write_file ...) whose hosts run
    container runtimes (see the module docstring). Host i is <addr_base><i+1> (ssh :2222);
    container forwards use <addr_base>101, 102, ... (:19999), one per container name."""

    def __init__(self, specs: Iterable[ContainerHostSpec], addr_base: str | None = None,
                 workdir: str | os.PathLike | None = None, start_timeout: float = 60.0,
                 keep_workdir: bool | None = None, runtime_timeout: float = 60.0):
        specs = list(specs)
        for s in specs:
            if not isinstance(s, ContainerHostSpec):
                raise TypeError(f"{s!r}: use ContainerHostSpec")
        if len(specs) >= CONTAINER_ADDR_OFFSET:
            raise ValueError(f"at most {CONTAINER_ADDR_OFFSET - 1} container hosts per fleet")
        specs = [dataclasses.replace(s, hostvars={
            "lab_container_host": True, "lab_container_runtimes": list(s.runtimes),
            **s.hostvars}) for s in specs]
        self.cgroups = _cgroup_layout()
        self.ulimits = _ulimits()
        self.runtime_timeout = runtime_timeout
        own = workdir is None
        if own:
            reap_stale_runs()
            workdir = tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-", dir="/tmp")
        self.timings: dict = {}
        self.host_forwards: dict[str, list[subprocess.Popen]] = {}
        self.containers: dict[tuple[str, str, str], Container] = {}
        self.created: list[tuple[str, str, str]] = []  # every `run` the lab did, in order
        self._addrs: dict[tuple[str, str, str], str] = {}
        self._addr_lock = threading.Lock()
        self.podman_store: Path | None = None
        base = addr_base or os.environ.get("LAB_CONTAINER_ADDR_BASE") or DEFAULT_ADDR_BASE
        super().__init__(specs, addr_base=base, workdir=workdir, start_timeout=start_timeout,
                         keep_workdir=keep_workdir)
        self._own_workdir = own
        self.run_id = self.workdir.name
        self._runtimes = {(h, k): Runtime(self, h, k) for h in self.hosts for k in RUNTIMES}

    # ---- preparation (Fleet hooks) ------------------------------------------------
    def _prepare(self) -> None:
        super()._prepare()
        shutil.copy2(LAB_DIR / "files" / "netdata-container-entrypoint.sh", self.common / "entrypoint.sh")
        (self.common / "forward.sh").write_text(_FORWARD_SH)
        os.chmod(self.common / "forward.sh", 0o755)
        self._write_setups(None)

    def _write_setups(self, podman_store: Path | None) -> None:
        setup = _host_setup(self.cgroups, self.ulimits, podman_store)
        for h in self.hosts.values():
            (h.share / "setup.sh").write_text(setup + (h.spec.setup or ""))

    def cgroup_dirs(self, host: str) -> list[Path]:
        """The host's cgroup dirs on the machine, one per hierarchy."""
        return [Path(r) / CGROUP_PARENT / self.run_id / host for r in self.cgroups.roots]

    def _join_dirs(self, host: str) -> list[Path]:
        """Where processes the lab runs in the host go (v2: the /init leaf, see _host_setup)."""
        dirs = self.cgroup_dirs(host)
        return [d / "init" for d in dirs] if self.cgroups.mode == "v2" else dirs

    def _spawn(self, h: Host) -> None:
        env = {
            "PATH": SYSTEM_PATH, "LANG": "C.UTF-8",
            "LAB_HOSTNAME": h.name, "LAB_ADDR": h.addr,
            "LAB_STATE": str(h.dir / "state"), "LAB_COMMON": str(self.common),
            "LAB_SHARE": str(h.share), "LAB_CONTAINER": h.spec.container or "",
        }
        joins = []
        for r, d in zip(self.cgroups.roots, self.cgroup_dirs(h.name)):
            _make_cgroup_dir(r, str(d.relative_to(r)))
            joins.append(f"echo $$ > {shlex.quote(str(d))}/cgroup.procs")
        # Into the host's cgroup dirs first, then unshare: the new cgroup namespace is
        # rooted there. The namespace lab's host_init.sh does the rest; --net gives the
        # host a network namespace with nothing but its loopback.
        wrapper = " && ".join(joins) + " && exec unshare --kill-child --mount --uts --pid --fork " \
            f"--mount-proc --net --cgroup /bin/sh {shlex.quote(str(self.common / 'host_init.sh'))}"
        console = open(h.console, "ab")
        h.proc = subprocess.Popen(["/bin/sh", "-c", wrapper], env=env, stdin=subprocess.DEVNULL,
                                  stdout=console, stderr=console, start_new_session=True,
                                  preexec_fn=_set_pdeathsig, cwd="/")
        console.close()

    def _ns_init_pid(self, h: Host) -> int | None:
        """Fleet's wait loop asks this for the host's PID 1; the forwards to its sshd (and
        Netdata) start as soon as its network namespace exists."""
        pid = Fleet._ns_init_pid(h)
        if pid is None:
            return None
        try:
            if os.readlink(f"/proc/{pid}/ns/net") == os.readlink("/proc/self/ns/net"):
                return None
        except OSError:
            return None
        if h.name not in self.host_forwards:
            ports = [SSH_PORT] + ([self.netdata_port] if h.spec.daemon else [])
            self.host_forwards[h.name] = [
                self._socat(h.addr, port, ["host", str(pid), h.addr, str(port)], h.dir / "forward.log")
                for port in ports]
        return pid

    def _socat(self, addr: str, port: int, fwd_args: list[str], log: Path) -> subprocess.Popen:
        exec_arg = "EXEC:" + " ".join([str(self.common / "forward.sh"), *fwd_args]).replace(":", "\\:")
        with open(log, "ab") as f:
            p = subprocess.Popen(["socat", f"TCP-LISTEN:{port},bind={addr},reuseaddr,fork", exec_arg],
                                 env={"PATH": SYSTEM_PATH}, stdin=subprocess.DEVNULL, stdout=f,
                                 stderr=f, start_new_session=True, preexec_fn=_set_pdeathsig, cwd="/")
        deadline = time.monotonic() + 5
        while port_free(addr, port):
            if p.poll() is not None:
                raise LabAddressInUse(f"socat forward on {addr}:{port} exited: "
                                      f"{log.read_text(errors='replace')[-500:]}")
            if time.monotonic() > deadline:
                raise LabError(f"socat forward on {addr}:{port} not listening")
            time.sleep(0.02)
        return p

    def _container_addr(self, key: tuple[str, str, str]) -> str:
        with self._addr_lock:
            if key not in self._addrs:
                k = CONTAINER_ADDR_OFFSET + 1 + len(self._addrs)
                if k > 254:
                    raise LabError("no container addresses left in this fleet's /24")
                self._addrs[key] = f"{self.addr_base}{k}"
            return self._addrs[key]

    def _forward_container(self, rt: Runtime, c: Container) -> subprocess.Popen:
        h = self.hosts[rt.host]
        if not port_free(c.addr, NETDATA_PORT):
            raise LabAddressInUse(f"{c.addr}:{NETDATA_PORT} already in use")
        return self._socat(c.addr, NETDATA_PORT,
                           ["container", str(h.pid), rt.cli_path, c.name, str(NETDATA_PORT)],
                           h.dir / "forward.log")

    # ---- lifecycle -------------------------------------------------------------------
    def start(self) -> "ContainerFleet":
        """Start the hosts (Fleet.start: in parallel, each answering ssh with its name),
        then each host's runtimes. On any failure everything is stopped."""
        if self.started:
            return self
        reason = container_lab_prerequisites({r for h in self.hosts.values() for r in h.spec.runtimes})
        if reason:
            raise LabError(reason)
        t0 = time.monotonic()
        if any("podman" in h.spec.runtimes for h in self.hosts.values()):
            self.podman_store = ensure_podman_store()
            self._write_setups(self.podman_store)
            self.timings["podman_store_seconds"] = round(time.monotonic() - t0, 2)
        t1 = time.monotonic()
        super().start()
        self.timings["hosts_ready_seconds"] = round(time.monotonic() - t1, 2)
        try:
            jobs = [self.runtime(h.name, k) for h in self.hosts.values() for k in h.spec.runtimes]
            if jobs:
                with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs)) as ex:
                    list(ex.map(lambda rt: rt.up(), jobs))
            self.timings["ready_seconds"] = round(time.monotonic() - t0, 2)
        except BaseException:
            self.stop()
            raise
        return self

    def runtime(self, host: str, kind: str) -> Runtime:
        return self._runtimes[(host, kind)]

    @property
    def docker(self) -> Runtime:
        """docker of the first host that runs it."""
        return self._first("docker")

    @property
    def podman(self) -> Runtime:
        return self._first("podman")

    def _first(self, kind: str) -> Runtime:
        for h in self.hosts.values():
            if kind in h.spec.runtimes:
                return self.runtime(h.name, kind)
        raise LabError(f"no host of this fleet runs {kind}")

    def start_runtime(self, host: str, kind: str) -> float:
        return self.runtime(host, kind).up()

    def stop_runtime(self, host: str, kind: str) -> None:
        self.runtime(host, kind).down()

    def stop(self) -> None:
        """Kill the forwards and every host (its PID namespace: sshd, dockerd, containerd,
        conmon, every container), kill what is left in the hosts' cgroup dirs and remove
        them, remove the work dir (runtime storage included; LAB_KEEP=1 keeps it)."""
        forwards = [p for ps in self.host_forwards.values() for p in ps] + \
            [c.forward for c in self.containers.values() if c.forward is not None]
        for p in forwards:
            procs.killpg(p)
        for p in forwards:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        try:
            super().stop()
        finally:
            for h in self.hosts:
                _remove_cgroup_dirs(self.cgroup_dirs(h))
            for r in self.cgroups.roots:
                for d in (Path(r) / CGROUP_PARENT / self.run_id, Path(r) / CGROUP_PARENT):
                    try:
                        os.rmdir(d)  # the parent only when no other run uses it
                    except OSError:
                        pass
            self.host_forwards.clear()
            for c in self.containers.values():
                c.forward = None

    def leftover_processes(self) -> list[tuple[int, str]]:
        """Fleet's (host PID namespaces, unshares, ssh on the control dir) plus the forwards
        and anything in the hosts' cgroup dirs."""
        out = dict(super().leftover_processes())
        ours = {p.pid for ps in self.host_forwards.values() for p in ps} | \
            {c.forward.pid for c in self.containers.values() if c.forward is not None}
        for h in self.hosts:
            ours |= procs.cgroup_pids(self.cgroup_dirs(h))
        out.update(procs.lab_leftovers((), ours, None))
        return sorted(out.items())

    def leftover_cgroups(self) -> list[str]:
        return [str(d) for r in self.cgroups.roots
                for d in [Path(r) / CGROUP_PARENT / self.run_id] if d.exists()]

    def leftover_mounts(self) -> list[str]:
        """Mount points (any mount namespace on the machine) inside this run's workdir."""
        return _mounts_under(self.workdir)

    # ---- running things in hosts (overrides Fleet.run: all the host's namespaces) ----
    def run(self, host: str, cmd: str, env: Mapping[str, str] | None = None,
            check: bool = False, timeout: float = 60, input: str | None = None,
            path: str = SYSTEM_PATH) -> subprocess.CompletedProcess:
        """`sh -c cmd` as root inside the host: its mount, UTS, PID, network and cgroup
        namespaces and its cgroup dir (what it starts stays in the host), clean env."""
        h = self.hosts[host]
        if h.pid is None:
            raise LabError(f"host {host} is not running")
        e = {"PATH": path, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb", "USER": "root"}
        e.update(env or {})
        joins = "; ".join(f"echo $$ > {shlex.quote(str(d))}/cgroup.procs" for d in self._join_dirs(host))
        inner = " ".join(shlex.quote(a) for a in [
            "nsenter", "-t", str(h.pid), "-m", "-u", "-p", "-n", "-C", "--",
            "env", "-i", *[f"{k}={v}" for k, v in e.items()], "/bin/sh", "-c", f"cd / && {cmd}"])
        argv = ["/bin/sh", "-c", f"{joins}; exec {inner}"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL, check=False,
                           env={"PATH": SYSTEM_PATH})
        if check and r.returncode != 0:
            raise LabError(f"[{host}] `{cmd}` exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    # ---- measurements ------------------------------------------------------------------
    def memory(self, host: str) -> dict[str, int]:
        """PSS/RSS (kB) of everything in the host's cgroup dirs: sshd, the runtimes, every
        container."""
        return procs.memory_of(procs.cgroup_pids(self.cgroup_dirs(host)))

    def storage_kb(self, host: str) -> dict[str, int]:
        """kB used in the host's runtime storage tmpfs (memory not counted in memory())."""
        r = self.run(host, "df -k --output=used /var/lib/docker /var/lib/containers | tail -n 2")
        used = [int(x) for x in r.stdout.split()] if r.returncode == 0 else [0, 0]
        return {"docker_kb": used[0], "podman_kb": used[1]}

    def report(self) -> dict:
        return {"timings": self.timings, "cgroups": self.cgroups.mode,
                "hosts": {n: {"addr": h.addr, "runtimes": list(h.spec.runtimes),
                              **(self.memory(n) if h.pid else {}),
                              **(self.storage_kb(n) if h.pid else {})}
                          for n, h in self.hosts.items()},
                "containers": {f"{k[0]}/{k[1]}/{k[2]}": c.addr for k, c in self.containers.items()}}


def reap_stale_runs() -> None:
    """Clean up after runs whose controller died before stop(): their cgroup dirs (what is
    left in them is killed) and work dirs (/tmp/netdata-ctlab-<pid>-*)."""
    try:
        layout = _cgroup_layout()
    except LabError:
        return
    reap_dead_controllers_runs(layout.roots, CGROUP_PARENT, WORKDIR_PREFIX)


if __name__ == "__main__":  # python -m tests.lab.containers: build (or show) the image cache
    import sys
    for v in VERSIONS:
        reason = images_available()[v]
        if reason:
            print(f"{v}: {reason}", file=sys.stderr)
            continue
        t = time.monotonic()
        print(f"{v}: {ensure_image(v)} ({time.monotonic() - t:.1f}s)")
