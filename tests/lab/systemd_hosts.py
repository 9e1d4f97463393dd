# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lab hosts that boot real systemd as PID 1 (see README.md, "Systemd hosts").

One host = `systemd-nspawn -b` on a copy-on-write overlay of the cached bookworm rootfs
(rootfs.py), started from a wrapper that:
  - runs in its own mount namespace (`unshare --mount`): the host's overlay is mounted
    there only, so it disappears with the host even when the controller is SIGKILLed;
  - joins cgroup dirs of its own (this machine has no systemd as PID 1 and hybrid
    cgroups: without them every `--keep-unit` container would share one cgroup);
  - writes the host's identity (hostname, per-run SSH keys) and runs the spec's setup in
    a chroot without network, then execs
    `systemd-nspawn --private-network --register=no --keep-unit`.
A host's only network interface is its own loopback. The controller reaches its sshd and
its Netdata web port through socat forwards on `<addr>:2222` and `<addr>:19999`
(127.x.y.z, loopback only) that enter the host's network namespace per connection.
Because nothing in a host has a route out, the hosts run Netdata's real curl (no recording
fakes as in fleet.py); what Netdata sends lands in the host's own sink (rootfs.py, sink.py).

    from tests.lab.systemd_hosts import SystemdFleet, SystemdHostSpec as S
    with SystemdFleet([S.debian_clean("a"), S.debian_default("b"), S.v2("c")]) as fleet:
        fleet.hello("a")["anonymous_statistics"]
        fleet.systemctl("c", "restart", "netdata")
        fleet.ansible_playbook("playbooks/enforce_optout.yml")
"""
from __future__ import annotations

import base64
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
from pathlib import Path
from typing import Iterable, Mapping

from . import netdata_daemon, procs, rootfs
from .fleet import SSH_PORT, Fleet, LabAddressInUse, LabError, _set_pdeathsig, inventory_text, port_free
from .netdata_daemon import NETDATA_PORT

DEFAULT_ADDR_BASE = "127.32.0."
CGROUP_ROOTS = ("/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified")  # hybrid (this VM)
CGROUP_V2 = "/sys/fs/cgroup"                                           # unified-only machines
CGROUP_PARENT = "netdata-lab"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
OPT_OUT = ".opt-out-from-anonymous-statistics"
DEBIAN_CONFDIR = "/etc/netdata"
V2_PREFIX = "/opt/netdata"
V2_CONFDIR = f"{V2_PREFIX}/etc/netdata"
# Environment variables that make Netdata v2 believe it runs under CI and skip its
# status post (src/libnetdata/os/ci.c at v2.10.4, nd_is_running_under_ci()).
CI_ENV_VARS = ("CI", "CONTINUOUS_INTEGRATION", "BUILD_NUMBER", "RUN_ID", "TRAVIS",
               "GITHUB_ACTIONS", "GITHUB_TOKEN", "GITLAB_CI", "CIRCLECI", "APPVEYOR",
               "BITBUCKET_BUILD_NUMBER", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI", "TF_BUILD",
               "BAMBOO_BUILDKEY", "GO_PIPELINE_NAME", "HUDSON_URL", "TEAMCITY_VERSION",
               "CI_NAME", "CI_WORKER", "CI_SERVER", "HEROKU_TEST_RUN_ID", "BUILDKITE",
               "DRONE", "SEMAPHORE", "NETLIFY", "NOW_BUILDER")
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")

# Appended to the host's netdata.conf (lean=True): keeps several daemons light on a
# 2-core machine. Nothing here touches telemetry: no [global] keys, so `crash reports`
# stays at its default and the opt-out file alone decides; `[logs] level = info` makes
# v2 log "Posted last status to agent-events ..." (src/daemon/status-file.c at v2.10.4).
LEAN_CONF = """
# --- netdata-lab: light daemon for a lab host (no telemetry setting here) ---
[db]
\tmode = ram
[health]
\tenabled = no
[ml]
\tenabled = no
[statsd]
\tenabled = no
[plugins]
\tenable running new plugins = no
\tcgroups = no
\ttc = no
\tidlejitter = no
[logs]
\tlevel = info
"""


def systemd_lab_prerequisites() -> str | None:
    """None when systemd lab hosts can run here, else the reason."""
    if os.geteuid() != 0:
        return "systemd lab hosts need root (systemd-nspawn, overlayfs, cgroups)"
    for tool in ("systemd-nspawn", "socat", "nsenter", "unshare", "ssh", "ssh-keygen", "mount"):
        if not shutil.which(tool):
            return (f"`{tool}` not found (scripts/bootstrap.sh test installs "
                    "systemd-container debootstrap socat)")
    if not _cached_base_exists():
        reason = rootfs.rootfs_prerequisites()
        if reason:
            return reason
    if not _cgroup_roots():
        return "no writable cgroup hierarchy for the hosts (/sys/fs/cgroup)"
    return None


def _cached_base_exists() -> bool:
    return (rootfs.CACHE_DIR / f"{rootfs.SUITE}-base-{rootfs.base_key()}" / "manifest.json").exists()


def _cgroup_roots() -> list[str]:
    """Hierarchies in which each host gets a dir: name=systemd + unified (hybrid), or the
    unified root alone (pure cgroup v2)."""
    if all(os.path.isdir(r) and os.access(r, os.W_OK) for r in CGROUP_ROOTS):
        return list(CGROUP_ROOTS)
    if os.path.exists(f"{CGROUP_V2}/cgroup.controllers") and os.access(CGROUP_V2, os.W_OK):
        return [CGROUP_V2]
    return []


# ------------------------------------------------------------------------ specs
@dataclasses.dataclass
class SystemdHostSpec:
    """What one systemd host looks like.

    name        inventory name and hostname ([a-z0-9-]).
    netdata_v2  False: Debian's netdata 1.37.1 as packaged (/etc/netdata, netdata.service
                from the package). True: Debian's package purged, Netdata v2.10.4 as a
                static-style install under /opt/netdata with the tarball's own unit.
    opted_out   the opt-out file in the install's config dir: True present, False absent,
                None as installed (Debian's package ships it; v2 installs none).
    setup       bash run as root in the host's root before boot (chroot, no network,
                set -e); tests/lab/snippets.py pieces work here.
    lean        append LEAN_CONF to the install's netdata.conf (v2: create it).
    netdata     netdata.service enabled at boot (False: installed but not started).
    groups      extra inventory groups (every host is in `lab`).
    hostvars    extra inventory variables.
    """
    name: str
    netdata_v2: bool = False
    opted_out: bool | None = None
    setup: str = ""
    lean: bool = True
    netdata: bool = True
    groups: tuple[str, ...] = ()
    hostvars: dict[str, object] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if not _NAME_RE.match(self.name):
            raise ValueError(f"host name {self.name!r}: use [a-z0-9-], at most 32 chars")

    @property
    def confdir(self) -> str:
        return V2_CONFDIR if self.netdata_v2 else DEBIAN_CONFDIR

    @classmethod
    def debian_default(cls, name: str, **kw) -> "SystemdHostSpec":
        """Debian's 1.37.1 as packaged: opt-out file present."""
        return cls(name, opted_out=True, **kw)

    @classmethod
    def debian_clean(cls, name: str, **kw) -> "SystemdHostSpec":
        """Debian's 1.37.1 with the opt-out file removed: statistics would be sent."""
        return cls(name, opted_out=False, **kw)

    @classmethod
    def v2(cls, name: str, opted_out: bool = False, **kw) -> "SystemdHostSpec":
        """Netdata v2.10.4, static-style install under /opt/netdata, as kickstart leaves it
        (no opt-out file unless opted_out)."""
        return cls(name, netdata_v2=True, opted_out=opted_out, **kw)

    @classmethod
    def no_netdata(cls, name: str, **kw) -> "SystemdHostSpec":
        """Debian's packages purged before boot: no Netdata at all."""
        setup = ("dpkg --purge netdata netdata-web netdata-plugins-bash netdata-core >/dev/null\n"
                 "rm -rf /etc/netdata /var/lib/netdata /var/cache/netdata /var/log/netdata\n")
        return cls(name, netdata=False, setup=setup + kw.pop("setup", ""), **kw)

    def lab_setup(self) -> str:
        """The lab's own pre-boot part for this spec (before `setup`)."""
        conf = f"{self.confdir}/netdata.conf"
        s = ""
        if self.lean:
            s += f"cat >> {conf} <<'LAB_EOF'\n{LEAN_CONF}LAB_EOF\n"
        if self.opted_out is True:
            s += f"touch {self.confdir}/{OPT_OUT}\n"
        elif self.opted_out is False:
            s += f"rm -f {self.confdir}/{OPT_OUT}\n"
        if not self.netdata:
            s += "systemctl disable netdata.service >/dev/null 2>&1 || true\n"
        return s


# The session's standard fleet (tests/lab_integration/conftest.py `systemd_fleet`): Debian's
# 1.37.1 without and with the opt-out file, and v2.10.4 as kickstart-static leaves it.
STANDARD_SPECS = (
    SystemdHostSpec.debian_clean("sd-clean"),
    SystemdHostSpec.debian_default("sd-default"),
    SystemdHostSpec.v2("sd-v2"),
)


# ------------------------------------------------------------------------ runtime
@dataclasses.dataclass
class SystemdHost:
    spec: SystemdHostSpec
    addr: str
    dir: Path
    proc: subprocess.Popen | None = None      # unshare (PID namespace of its own)
    nspawn: int | None = None                  # systemd-nspawn (unshare's child), machine's view
    leader: int | None = None                  # the host's PID 1 (systemd), machine's view
    pidns: str | None = None
    forwards: list = dataclasses.field(default_factory=list)
    cgroups: list = dataclasses.field(default_factory=list)
    started_at: float = 0.0
    boot_seconds: float | None = None          # spawn -> is-system-running running/degraded
    ready_seconds: float | None = None         # spawn -> ssh + netdata answered
    system_state: str | None = None
    failed_units: list = dataclasses.field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def console(self) -> Path:
        return self.dir / "console.log"


class SystemdFleet:
    """SystemdFleet(specs, addr_base=None, workdir=None) -- context manager or
    start()/stop(). Host i (0-based, in spec order) is reached on <addr_base><i+1>:2222
    (ssh) and :19999 (Netdata)."""

    # Same SSH/Ansible plumbing as the namespace lab (they only need hosts[n].addr,
    # key_path, known_hosts, inventory_path, control_dir, workdir and run()).
    ssh_command = Fleet.ssh_command
    ssh = Fleet.ssh
    read_file = Fleet.read_file
    write_file = Fleet.write_file
    exists = Fleet.exists
    ansible_env = Fleet.ansible_env
    _ansible_bin = staticmethod(Fleet._ansible_bin)
    ansible_playbook = Fleet.ansible_playbook
    ansible = Fleet.ansible
    netdata_facts = Fleet.netdata_facts
    _ssh_common_args = Fleet._ssh_common_args
    __getitem__ = Fleet.__getitem__
    names = Fleet.names
    addr = Fleet.addr

    def __init__(self, specs: Iterable[SystemdHostSpec], addr_base: str | None = None,
                 workdir: str | os.PathLike | None = None, boot_timeout: float = 120.0,
                 keep_workdir: bool | None = None):
        specs = list(specs)
        if not specs:
            raise ValueError("a fleet needs at least one host")
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate host names: {names}")
        if len(specs) > 254:
            raise ValueError("at most 254 hosts per address base")
        base = addr_base or os.environ.get("LAB_SYSTEMD_ADDR_BASE") or DEFAULT_ADDR_BASE
        if not base.endswith("."):
            base += "."
        octets = base.split(".")[:-1]
        if (len(octets) != 3 or octets[0] != "127"
                or not all(o.isdigit() and 0 <= int(o) <= 255 for o in octets)):
            raise ValueError(f"addr_base must look like '127.B.C.' (loopback), not {base!r}")
        self.addr_base = base
        self.netdata_port = NETDATA_PORT
        self.boot_timeout = boot_timeout
        self.keep_workdir = (os.environ.get("LAB_KEEP") == "1") if keep_workdir is None else keep_workdir
        self._own_workdir = workdir is None
        if workdir is None:
            reap_stale_runs()
        self.workdir = Path(workdir) if workdir else Path(
            tempfile.mkdtemp(prefix=f"netdata-sdlab-{os.getpid()}-", dir="/tmp"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        self.run_id = self.workdir.name
        self.common = self.workdir / "common"
        self.key_path = self.common / "id_ed25519"
        self.known_hosts = self.common / "known_hosts"
        self.control_dir = self.workdir / "cp"
        self.inventory_path = self.workdir / "inventory.ini"
        self.hosts: dict[str, SystemdHost] = {
            s.name: SystemdHost(s, f"{base}{i + 1}", self.workdir / "hosts" / s.name)
            for i, s in enumerate(specs)}
        self.started = False
        self.timings: dict[str, float] = {}
        self._prepare()

    # ---- preparation -------------------------------------------------------------
    def _prepare(self) -> None:
        self.common.mkdir(parents=True, exist_ok=True)
        self.control_dir.mkdir(exist_ok=True)
        for key, comment in ((self.key_path, "lab-client"),
                             (self.common / "ssh_host_ed25519_key", "lab-host")):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
                            "-f", str(key)], check=True, stdin=subprocess.DEVNULL)
        shutil.copy2(f"{self.key_path}.pub", self.common / "authorized_keys")
        # This run's host key pinned for every address (see Fleet: a stale or racing
        # lab on the same address fails ssh instead of answering for this host).
        host_pub = " ".join((self.common / "ssh_host_ed25519_key.pub").read_text().split()[:2])
        self.known_hosts.write_text("".join(f"[{h.addr}]:{SSH_PORT} {host_pub}\n"
                                            for h in self.hosts.values()))
        for h in self.hosts.values():
            for d in ("upper", "work", "merged"):
                (h.dir / d).mkdir(parents=True, exist_ok=True)
            (h.dir / "setup.sh").write_text(h.spec.lab_setup() + (h.spec.setup or ""))
        self.inventory_path.write_text(self._inventory())

    def _inventory(self) -> str:
        def hostvars(h: SystemdHost) -> dict:
            hv = dict(h.spec.hostvars)
            hv.setdefault("lab_netdata_install", "static" if h.spec.netdata_v2 else "native")
            return hv
        return inventory_text(self, hostvars, ["lab_systemd=true"])

    # ---- lifecycle ---------------------------------------------------------------
    def __enter__(self) -> "SystemdFleet":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "SystemdFleet":
        """Boot every host in parallel; return when each one's systemd is up, its sshd
        answers `hostname` with its name over the forward, and (netdata=True) its
        Netdata answers registry?action=hello. On any failure everything is stopped.
        Call from the main thread (PR_SET_PDEATHSIG fires when the spawning thread ends)."""
        if self.started:
            return self
        reason = systemd_lab_prerequisites()
        if reason:
            raise LabError(reason)
        busy = [f"{h.addr}:{p}" for h in self.hosts.values() for p in (SSH_PORT, self.netdata_port)
                if not port_free(h.addr, p)]
        if busy:
            raise LabAddressInUse(f"already in use (another lab? set LAB_SYSTEMD_ADDR_BASE): "
                                  f"{', '.join(busy)}")
        t0 = time.monotonic()
        base = rootfs.ensure_base()
        lowers = {False: str(base)}
        if any(h.spec.netdata_v2 for h in self.hosts.values()):
            lowers[True] = f"{rootfs.ensure_v2_layer(base)}:{base}"
        self.timings["rootfs_seconds"] = round(time.monotonic() - t0, 2)
        self.started = True
        try:
            t1 = time.monotonic()
            for h in self.hosts.values():
                self._spawn(h, lowers[h.spec.netdata_v2])
            self._wait_booted()
            self.timings["boot_all_seconds"] = round(time.monotonic() - t1, 2)
            for h in self.hosts.values():
                self._forward(h)
            with concurrent.futures.ThreadPoolExecutor(max_workers=len(self.hosts)) as ex:
                list(ex.map(self._wait_ready, self.hosts.values()))
            self.timings["ready_all_seconds"] = round(time.monotonic() - t1, 2)
        except BaseException:
            self.stop()
            raise
        return self

    def _cgroup_dirs(self, h: SystemdHost) -> list[Path]:
        return [Path(r) / CGROUP_PARENT / self.run_id / h.name for r in _cgroup_roots()]

    def _machine_name(self, h: SystemdHost) -> str:
        return f"{h.name}-{hashlib.sha1(self.run_id.encode()).hexdigest()[:8]}"

    def _spawn(self, h: SystemdHost, lowerdir: str) -> None:
        h.cgroups = self._cgroup_dirs(h)
        for d in h.cgroups:
            for attempt in range(3):  # another run's stop() may rmdir the shared parent
                try:
                    d.mkdir(parents=True, exist_ok=True)
                    break
                except FileNotFoundError:
                    if attempt == 2:
                        raise
        # The machine name must be unique on the machine (nspawn keeps per-name state
        # under /run/systemd/nspawn); the hostname is the spec's name.
        nspawn = ["systemd-nspawn", "-q", "-D", str(h.dir / "merged"), "-M", self._machine_name(h),
                  f"--hostname={h.name}", "-b",
                  "--register=no", "--keep-unit", "--private-network",
                  "--console=read-only", "--link-journal=no", "--resolv-conf=off",
                  "--timezone=off"]
        # The wrapper: private mount namespace (the overlay dies with it), identity and
        # setup before boot, then into the host's cgroups and exec nspawn (keeps the PID,
        # hence the PR_SET_PDEATHSIG set below).
        wrapper = "\n".join([
            "set -e",
            f"R={shlex.quote(str(h.dir / 'merged'))}",
            f"mount -t overlay netdata-lab -o lowerdir={lowerdir},"
            f"upperdir={h.dir / 'upper'},workdir={h.dir / 'work'} \"$R\"",
            f"echo {h.name} > \"$R/etc/hostname\"",
            f"install -m 0600 {self.common}/ssh_host_ed25519_key \"$R/etc/ssh/ssh_host_ed25519_key\"",
            f"install -m 0644 {self.common}/ssh_host_ed25519_key.pub \"$R/etc/ssh/ssh_host_ed25519_key.pub\"",
            "install -d -m 0700 \"$R/root/.ssh\"",
            f"install -m 0600 {self.common}/authorized_keys \"$R/root/.ssh/authorized_keys\"",
            f"cp {shlex.quote(str(h.dir / 'setup.sh'))} \"$R/run/netdata-lab-setup.sh\"",
            # maintainer scripts run by a setup (dpkg --purge ...) must not start services
            "planted=; [ -e \"$R/usr/sbin/policy-rc.d\" ] || { printf '#!/bin/sh\\nexit 101\\n' "
            "> \"$R/usr/sbin/policy-rc.d\"; chmod 0755 \"$R/usr/sbin/policy-rc.d\"; planted=1; }",
            "mount -t proc proc \"$R/proc\"",
            # setup runs without network (private netns), in the host's root
            "unshare --net chroot \"$R\" /usr/bin/env -i PATH=" + SYSTEM_PATH +
            " LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/bash -e /run/netdata-lab-setup.sh"
            " || { umount \"$R/proc\"; echo 'netdata-lab: host setup failed' >&2; exit 3; }",
            "umount \"$R/proc\"",
            "rm -f \"$R/run/netdata-lab-setup.sh\"",
            "[ -z \"$planted\" ] || rm -f \"$R/usr/sbin/policy-rc.d\"",
            *[f"echo $$ > {d}/cgroup.procs" for d in h.cgroups],
            "exec " + " ".join(shlex.quote(a) for a in nspawn),
        ])
        (h.dir / "wrapper.sh").write_text(wrapper + "\n")
        console = open(h.console, "ab")
        h.started_at = time.monotonic()
        # A minimal environment: nothing of the controller's (CI=..., proxies) reaches
        # nspawn, hence neither the host's PID 1 nor its services.
        # unshare --pid --kill-child: nspawn runs as PID 1 of a PID namespace of its own,
        # which contains the host's (nested) one. If the controller dies, unshare gets
        # SIGKILL (PDEATHSIG), --kill-child kills nspawn and the kernel kills everything in
        # that namespace, the host included (a bare nspawn killed with SIGKILL leaves its
        # container running, orphaned).
        h.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child",
             "--mount-proc", "/bin/sh", str(h.dir / "wrapper.sh")],
            env={"PATH": SYSTEM_PATH, "LANG": "C.UTF-8"}, stdin=subprocess.DEVNULL,
            stdout=console, stderr=console, start_new_session=True,
            preexec_fn=_set_pdeathsig, cwd="/")
        console.close()

    def _find_leader(self, h: SystemdHost) -> int | None:
        """The host's PID 1 (machine's view): the child of nspawn (unshare's child) that
        lives in yet another PID namespace. Sets h.nspawn on the way."""
        try:
            if h.nspawn is None:
                kids = procs.children(h.proc.pid)
                if not kids or "systemd-nspawn" not in Path(f"/proc/{kids[0]}/cmdline").read_text():
                    return None
                h.nspawn = kids[0]
            own = os.readlink(f"/proc/{h.nspawn}/ns/pid")
            for kid in procs.children(h.nspawn):
                if os.readlink(f"/proc/{kid}/ns/pid") != own:
                    return kid
        except OSError:
            return None
        return None

    def _console_tail(self, h: SystemdHost, n: int = 25) -> str:
        try:
            return "\n".join(h.console.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def _wait_booted(self) -> None:
        deadline = time.monotonic() + self.boot_timeout
        pending = dict(self.hosts)
        while pending:
            for name, h in list(pending.items()):
                if h.proc.poll() is not None:
                    raise LabError(f"host {name} exited with {h.proc.returncode} while booting:\n"
                                   f"{self._console_tail(h)}")
                if h.leader is None:
                    h.leader = self._find_leader(h)
                    if h.leader is None:
                        continue
                    h.pidns = os.readlink(f"/proc/{h.leader}/ns/pid")
                r = self.run(name, "systemctl is-system-running", timeout=10)
                state = r.stdout.strip()
                if state in ("running", "degraded"):
                    h.system_state = state
                    h.boot_seconds = round(time.monotonic() - h.started_at, 2)
                    if state == "degraded":
                        h.failed_units = self.run(
                            name, "systemctl list-units --failed --plain --no-legend | cut -d' ' -f1"
                        ).stdout.split()
                    del pending[name]
            if pending and time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}:\n{self._console_tail(h)}" for n, h in pending.items())
                raise LabError(f"hosts not booted after {self.boot_timeout:.0f}s: "
                               f"{', '.join(pending)}\n{tails}")
            if pending:
                time.sleep(0.1)

    def _forward(self, h: SystemdHost) -> None:
        """socat on <addr>:2222 and <addr>:19999 (loopback) -> the host's own loopback,
        one `nsenter -n` per connection: the host itself never gets a route out."""
        log = open(h.dir / "forward.log", "ab")
        for listen, inner in ((SSH_PORT, 22), (self.netdata_port, NETDATA_PORT)):
            inner_cmd = f"nsenter -t {h.leader} -n socat STDIO TCP:127.0.0.1:{inner}"
            p = subprocess.Popen(
                ["socat", f"TCP-LISTEN:{listen},bind={h.addr},reuseaddr,fork",
                 f"EXEC:{inner_cmd.replace(':', chr(92) + ':')}"],
                env={"PATH": SYSTEM_PATH}, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, preexec_fn=_set_pdeathsig, cwd="/")
            h.forwards.append(p)
        log.close()
        deadline = time.monotonic() + 5
        while not all(not port_free(h.addr, p) for p in (SSH_PORT, self.netdata_port)):
            if any(p.poll() is not None for p in h.forwards):
                raise LabAddressInUse(f"socat forward on {h.addr} exited: "
                                      f"{(h.dir / 'forward.log').read_text()[-500:]}")
            if time.monotonic() > deadline:
                raise LabError(f"socat forwards on {h.addr} not listening")
            time.sleep(0.02)

    def _wait_ready(self, h: SystemdHost) -> None:
        deadline = time.monotonic() + self.boot_timeout
        while True:
            r = self.ssh(h.name, "hostname", timeout=15)
            if r.returncode == 0:
                if r.stdout.strip() != h.name:
                    raise LabAddressInUse(f"{h.addr}:{SSH_PORT} answers as {r.stdout.strip()!r}")
                break
            if "Host key verification failed" in r.stderr or "IDENTIFICATION HAS CHANGED" in r.stderr:
                raise LabAddressInUse(f"{h.addr}:{SSH_PORT}: another lab's sshd: {r.stderr.strip()}")
            if time.monotonic() > deadline:
                raise LabError(f"ssh to {h.name} ({h.addr}:{SSH_PORT}) failed: {r.stderr.strip()}")
            time.sleep(0.2)
        if h.spec.netdata:
            try:
                self.wait_hello(h.name, timeout=max(5.0, deadline - time.monotonic()))
            except TimeoutError as e:
                raise LabError(f"{e}\n{self.systemctl(h.name, 'status', 'netdata', '--no-pager').stdout}"
                               f"\n{self.daemon_log(h.name)[-3000:]}") from None
        h.ready_seconds = round(time.monotonic() - h.started_at, 2)

    def stop(self, timeout: float = 20.0) -> None:
        """Power every host off (SIGTERM to nspawn = clean systemd shutdown), then kill
        whatever is left: forwards, nspawn's process group, everything in the host's
        cgroups; remove the cgroup dirs; remove the work dir (LAB_KEEP=1 keeps it).
        The overlays lived in the wrappers' mount namespaces and are gone with them."""
        for h in self.hosts.values():
            for p in h.forwards:
                procs.killpg(p, signal.SIGKILL)
        for h in self.hosts.values():
            # nspawn turns SIGTERM into SIGRTMIN+3 for the host's systemd: a clean poweroff.
            if h.proc is not None and h.proc.poll() is None and h.nspawn and procs.alive(h.nspawn):
                try:
                    os.kill(h.nspawn, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for h in self.hosts.values():
            if h.proc is not None:
                try:
                    h.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        for h in self.hosts.values():
            if h.proc is not None and h.proc.poll() is None:
                procs.killpg(h.proc, signal.SIGKILL)
            if h.leader and procs.alive(h.leader) and h.pidns and procs.pidns_of(h.leader) == h.pidns:
                os.kill(h.leader, signal.SIGKILL)  # takes the whole PID namespace
            for p in h.forwards:
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            if h.proc is not None:
                try:
                    h.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        for h in self.hosts.values():
            _remove_cgroup_dirs(h.cgroups or self._cgroup_dirs(h))
        for r in _cgroup_roots():
            for d in (Path(r) / CGROUP_PARENT / self.run_id, Path(r) / CGROUP_PARENT):
                try:
                    os.rmdir(d)  # the parent only when no other run uses it
                except OSError:
                    pass
        deadline = time.monotonic() + 10
        while self.leftover_processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.started = False
        if self._own_workdir and not self.keep_workdir and self.workdir.exists() \
                and not self.leftover_mounts():
            shutil.rmtree(self.workdir, ignore_errors=True)

    def leftover_processes(self) -> list[tuple[int, str]]:
        """Processes of this lab still on the machine: in a host's PID namespace or
        cgroups, the wrappers/nspawn, the forwards, ssh clients on its control dir."""
        in_cgroups: set[int] = set()
        for h in self.hosts.values():
            in_cgroups |= procs.cgroup_pids(h.cgroups)
        return procs.lab_leftovers(
            {h.pidns for h in self.hosts.values() if h.pidns},
            {p.pid for h in self.hosts.values() for p in [h.proc, *h.forwards] if p is not None},
            str(self.workdir), in_cgroups)

    @property
    def inventory(self) -> Path:
        """The inventory file (same as inventory_path)."""
        return self.inventory_path

    def leftover_mounts(self) -> list[str]:
        """Mounts anywhere on the machine whose source or target is in this run's workdir."""
        return _mounts_under(self.workdir)

    def ports_free(self) -> bool:
        return all(port_free(h.addr, p) for h in self.hosts.values()
                   for p in (SSH_PORT, self.netdata_port))

    # ---- running things in hosts ---------------------------------------------------
    def run(self, host: str, cmd: str, env: Mapping[str, str] | None = None,
            check: bool = False, timeout: float = 60, input: str | None = None) -> subprocess.CompletedProcess:
        """`sh -c cmd` as root inside the host (all its namespaces, via nsenter; no SSH)
        with a clean environment (PATH, HOME=/root, LANG) plus `env`."""
        h = self.hosts[host]
        if h.leader is None:
            raise LabError(f"host {host} is not running")
        e = {"PATH": SYSTEM_PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb", "USER": "root"}
        e.update(env or {})
        argv = ["nsenter", "-t", str(h.leader), "-a", "--",
                "env", "-i", *[f"{k}={v}" for k, v in e.items()], "/bin/sh", "-c", f"cd / && {cmd}"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL, check=False)
        if check and r.returncode != 0:
            raise LabError(f"[{host}] `{cmd}` exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    def systemctl(self, host: str, *args: str, check: bool = False,
                  timeout: float = 120) -> subprocess.CompletedProcess:
        """systemctl in the host (its own systemd), e.g. systemctl(h, "restart", "netdata")."""
        return self.run(host, "systemctl " + " ".join(shlex.quote(a) for a in args),
                        check=check, timeout=timeout)

    def service_env(self, host: str, unit: str = "netdata") -> dict[str, str]:
        """`systemctl show -p Environment <unit>` parsed: what systemd itself computed from
        the unit and its drop-ins (Environment= only; EnvironmentFile= is read at start)."""
        r = self.systemctl(host, "show", "-p", "Environment", "--value", unit, check=True)
        return parse_systemd_environment(r.stdout.strip())

    def main_pid(self, host: str, unit: str = "netdata") -> int:
        r = self.systemctl(host, "show", "-p", "MainPID", "--value", unit, check=True)
        return int(r.stdout.strip() or 0)

    def daemon_environ(self, host: str, unit: str = "netdata", via_ssh: bool = True) -> dict[str, str]:
        """The running daemon's /proc/<MainPID>/environ (read over SSH, like Ansible would)."""
        pid = self.main_pid(host, unit)
        if not pid:
            raise LabError(f"[{host}] {unit} has no main PID (not running)")
        cmd = f"cat /proc/{pid}/environ | base64 -w0"
        r = self.ssh(host, cmd) if via_ssh else self.run(host, cmd)
        if r.returncode != 0:
            raise LabError(f"[{host}] reading /proc/{pid}/environ failed: {r.stderr}")
        raw = base64.b64decode(r.stdout.strip())
        return dict(kv.split("=", 1) for kv in raw.decode(errors="replace").split("\0") if "=" in kv)

    def daemon_log(self, host: str, lines: int = 300) -> str:
        """netdata.service's journal (any journal namespace: v2's unit logs to `netdata`)."""
        return self.run(host, f"journalctl --namespace='*' -u netdata --no-pager -o short-monotonic "
                              f"-n {lines}", timeout=30).stdout

    def hello(self, host: str, timeout: float = 3.0) -> dict:
        """registry?action=hello of the host's Netdata (through the forward)."""
        return netdata_daemon.hello(self.addr(host), self.netdata_port, timeout=timeout)

    def wait_hello(self, host: str, timeout: float = 60.0) -> dict:
        return netdata_daemon.wait_hello(self.addr(host), self.netdata_port, timeout=timeout)

    def api(self, host: str, path: str, timeout: float = 3.0):
        return netdata_daemon.api_get(self.addr(host), path, self.netdata_port, timeout=timeout)

    def restart_netdata(self, host: str, timeout: float = 60.0) -> dict:
        """`systemctl restart netdata` in the host, then wait for hello; returns it."""
        self.systemctl(host, "restart", "netdata", check=True)
        deadline = time.monotonic() + timeout
        while True:  # the old daemon may answer for a moment while it stops
            try:
                return self.wait_hello(host, timeout=max(1.0, deadline - time.monotonic()))
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise

    # ---- the sink: what Netdata sent ------------------------------------------------
    def sink_posts(self, host: str, host_header: str | None = None) -> list[dict]:
        """Requests the host's sink recorded (one dict per request: t, port, method, host,
        path, user_agent, headers, body), optionally only those whose Host header starts
        with host_header (e.g. "agent-events.netdata.cloud")."""
        text = self.read_file(host, rootfs.SINK_LOG) or ""
        recs = [json.loads(l) for l in text.splitlines() if l.strip()]
        if host_header:
            recs = [r for r in recs if (r.get("host") or "").split(":")[0] == host_header]
        return recs

    def crash_reports(self, host: str) -> list[dict]:
        """v2's status posts (POST https://agent-events.netdata.cloud/agent-events)."""
        return [r for r in self.sink_posts(host, "agent-events.netdata.cloud")
                if r["method"] == "POST" and r["path"] == "/agent-events"]

    def wait_sink(self, host: str, pred, timeout: float = 20.0) -> list[dict]:
        """Poll sink_posts until pred(records) is true; returns the records (or the last
        seen ones when the timeout passes)."""
        deadline = time.monotonic() + timeout
        while True:
            recs = self.sink_posts(host)
            if pred(recs) or time.monotonic() > deadline:
                return recs
            time.sleep(0.25)

    def clear_sink(self, host: str) -> None:
        self.run(host, f": > {rootfs.SINK_LOG}", check=True)

    # ---- measurements ----------------------------------------------------------------
    def memory(self, host: str) -> dict[str, int]:
        """Memory of everything in the host's cgroup (its systemd and all services),
        from the machine: PSS and RSS summed over the processes, in kB."""
        return procs.memory_of(procs.cgroup_pids(self.hosts[host].cgroups))

    def report(self) -> dict:
        """Timings and memory per host (for logs and the smoke test)."""
        return {"timings": dict(self.timings),
                "hosts": {n: {"addr": h.addr, "v2": h.spec.netdata_v2,
                              "boot_seconds": h.boot_seconds, "ready_seconds": h.ready_seconds,
                              "state": h.system_state, "failed_units": h.failed_units,
                              **(self.memory(n) if h.leader else {})}
                          for n, h in self.hosts.items()}}


# ------------------------------------------------------------------------ helpers
_C_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a",
              "b": "\b", "f": "\f", "v": "\v", "s": " "}


def parse_systemd_environment(value: str) -> dict[str, str]:
    """`systemctl show -p Environment --value` -> {name: value}. systemd prints each
    assignment as one word, double-quoted with C escapes when it holds a space or
    special character (strv_join_full/shell_maybe_quote style): "A=x y" B=1."""
    words: list[str] = []
    cur: list[str] = []
    in_word = quoted = False
    i = 0
    while i < len(value):
        c = value[i]
        if quoted:
            if c == "\\" and i + 1 < len(value):
                n = value[i + 1]
                if n == "x" and i + 3 < len(value):
                    cur.append(chr(int(value[i + 2:i + 4], 16)))
                    i += 4
                    continue
                cur.append(_C_ESCAPES.get(n, n))
                i += 2
                continue
            if c == '"':
                quoted = False
            else:
                cur.append(c)
        elif c == '"':
            quoted = in_word = True
        elif c == "\\" and i + 1 < len(value):
            cur.append(_C_ESCAPES.get(value[i + 1], value[i + 1]))
            in_word = True
            i += 2
            continue
        elif c.isspace():
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
        else:
            cur.append(c)
            in_word = True
        i += 1
    if in_word:
        words.append("".join(cur))
    return dict(w.split("=", 1) for w in words if "=" in w)


def _remove_cgroup_dirs(dirs, timeout: float = 10.0) -> None:
    """Kill what is still in the dirs, then rmdir them bottom-up."""
    deadline = time.monotonic() + timeout
    for d in dirs:
        d = Path(d)
        while d.exists():
            for pid in procs.cgroup_pids([d]):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            for root, subdirs, _files in sorted(os.walk(d), key=lambda t: -t[0].count("/")):
                try:
                    os.rmdir(root)
                except OSError:
                    pass
            if not d.exists() or time.monotonic() > deadline:
                break
            time.sleep(0.05)


def _mounts_under(path: Path) -> list[str]:
    """Mount points (any mount namespace on the machine) inside `path`."""
    p = str(path)
    found = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/mountinfo") as f:
                for line in f:
                    parts = line.split()
                    if parts[4].startswith(p) or p in line.split(" - ", 1)[-1]:
                        found.add(parts[4])
        except OSError:
            continue
    return sorted(found)


def reap_stale_runs() -> None:
    """Clean up after runs whose controller died before stop(): kill what is left in
    their cgroups, remove the cgroup dirs and their work dirs (/tmp/netdata-sdlab-<pid>-*)."""
    reap_dead_controllers_runs(_cgroup_roots(), CGROUP_PARENT, "netdata-sdlab-")


def reap_dead_controllers_runs(cgroup_roots: Iterable[str], cgroup_parent: str, prefix: str) -> None:
    """The runs named ``<prefix><controller pid>-*`` whose controller is gone: their cgroup
    dirs under ``cgroup_parent`` (what is left in them is killed) and their work dirs in /tmp
    (unless something is still mounted there)."""
    run_name = re.compile(re.escape(prefix) + r"(\d+)-")

    def dead(name: str) -> bool:
        m = run_name.match(name)
        return bool(m) and not os.path.exists(f"/proc/{m.group(1)}")

    for r in cgroup_roots:
        parent = Path(r) / cgroup_parent
        if not parent.is_dir():
            continue
        for run in parent.iterdir():
            if run.is_dir() and dead(run.name):
                _remove_cgroup_dirs([p for p in run.iterdir() if p.is_dir()])
                for d in (run, parent):
                    try:
                        os.rmdir(d)
                    except OSError:
                        pass
    for p in Path("/tmp").glob(f"{prefix}*-*"):
        if p.is_dir() and dead(p.name) and not _mounts_under(p):
            shutil.rmtree(p, ignore_errors=True)
