# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fleet of real SSH hosts on this one machine (see README.md).

One host = `unshare --kill-child --mount --uts --pid --fork --mount-proc` running
host_init.sh, which gives the host its own hostname, a private copy-on-write overlay of
the whole root filesystem, its own /proc, /run and /tmp, runs the HostSpec's setup
snippet and then execs `sshd -D` on <addr>:2222. Linux only, root only.
"""
from __future__ import annotations

import concurrent.futures
import ctypes
import dataclasses
import errno
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from . import netdata_daemon, procs, snippets
from .netdata_daemon import NETDATA_PORT, SCRIPTS_DIR

LAB_DIR = Path(__file__).resolve().parent
REPO_ROOT = LAB_DIR.parents[1]
SSH_PORT = 2222
DEFAULT_ADDR_BASE = "127.31.0."
# Paths inside every host.
IN_HOST_COMMON = "/usr/local/lib/netdata-lab"
IN_HOST_SHARE = "/run/netdata-lab"
IN_HOST_FAKEBIN = f"{IN_HOST_COMMON}/fakebin"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
RESTART_COMMAND = "/usr/local/sbin/netdata-lab-restart"
SERVICE_COMMAND = "/usr/local/sbin/netdata-lab-service"
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")


class LabError(RuntimeError):
    pass


class LabAddressInUse(LabError):
    pass


# ------------------------------------------------------------------------ HostSpec
@dataclasses.dataclass
class HostSpec:
    """What one host looks like.

    name        inventory name and hostname ([a-z0-9-]).
    setup       bash text run as root inside the host (set -e) after the lab's base
                setup and before sshd starts; see snippets.py for ready-made pieces.
    daemon      start Netdata's real 1.37.1 daemon after setup (safe settings, see
                bin/netdata-lab-service).
    daemon_env  environment the daemon inherits (like a container's); systemd unit
                Environment= lines in the host are applied on top.
    container   None: the host looks like bare metal/VM (the machine's /.dockerenv is
                hidden); "docker": /.dockerenv present; any other name (lxc, podman,
                systemd-nspawn...): `container=<name>` in PID 1's environment and
                /run/systemd/container.
    groups      extra inventory groups (every host is also in group `lab`).
    hostvars    extra inventory variables for this host.
    netdata_args extra arguments for the daemon (e.g. ["-W", "set", "web", "x", "y"]).
    """
    name: str
    setup: str = ""
    daemon: bool = False
    daemon_env: dict[str, str] = dataclasses.field(default_factory=dict)
    container: str | None = None
    groups: tuple[str, ...] = ()
    hostvars: dict[str, object] = dataclasses.field(default_factory=dict)
    netdata_args: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        if not _NAME_RE.match(self.name):
            raise ValueError(f"host name {self.name!r}: use [a-z0-9-], at most 32 chars")

    def with_setup(self, *more: str) -> "HostSpec":
        """A copy with more setup text appended."""
        return dataclasses.replace(self, setup="\n".join([self.setup, *more]).strip("\n") + "\n")

    # ---- common states. Extra keyword arguments are HostSpec fields; `setup=` text is
    # appended after the state's own snippet.
    @classmethod
    def _make(cls, name: str, base: str, **kw) -> "HostSpec":
        extra = kw.pop("setup", "")
        return cls(name, setup="\n".join(s for s in (base, extra) if s), **kw)

    @classmethod
    def debian_default(cls, name: str, **kw) -> "HostSpec":
        """Debian's netdata 1.37.1 as packaged: the opt-out file is present."""
        return cls._make(name, snippets.opt_out_file(True), **kw)

    opted_out = debian_default

    @classmethod
    def clean(cls, name: str, **kw) -> "HostSpec":
        """Debian's netdata 1.37.1 with nothing opting out: no opt-out file, no env,
        no drop-ins. Statistics would be sent."""
        return cls._make(name, snippets.opt_out_file(False), **kw)

    @classmethod
    def no_netdata(cls, name: str, **kw) -> "HostSpec":
        """No Netdata at all: package files gone, dpkg does not list it."""
        if kw.get("daemon"):
            raise ValueError("a host without netdata cannot run the daemon")
        return cls._make(name, snippets.remove_netdata(), **kw)

    @classmethod
    def static_install(cls, name: str, version: str = "2.3.1", opted_out: bool = False,
                       keep_debian: bool = False, **kw) -> "HostSpec":
        """A stand-in static install under /opt/netdata (netdata -v prints
        `netdata v<version>`; .install-type says kickstart-static); the Debian package
        is removed unless keep_debian."""
        base = "" if keep_debian else snippets.remove_netdata()
        return cls._make(name, base + snippets.static_install(version, opted_out=opted_out), **kw)


# ------------------------------------------------------------------------ runtime
@dataclasses.dataclass
class Host:
    spec: HostSpec
    addr: str
    dir: Path
    proc: subprocess.Popen | None = None
    pid: int | None = None          # PID (machine view) of the host's PID 1 (sshd)
    pidns: str | None = None        # "pid:[inode]" of the host's PID namespace

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def share(self) -> Path:
        """Controller-side path of the host's /run/netdata-lab."""
        return self.dir / "share"

    @property
    def console(self) -> Path:
        return self.dir / "console.log"


class ScriptResult:
    """Result of run_netdata_script: unpacks as (rc, stdout, curl_calls)."""

    def __init__(self, rc: int, stdout: str, stderr: str, curl_calls: list[dict], script: str):
        self.rc, self.stdout, self.stderr = rc, stdout, stderr
        self.curl_calls, self.script = curl_calls, script

    @property
    def would_send(self) -> bool:
        return any(c["prog"] in ("curl", "wget") and
                   any("posthog" in u or "netdata.cloud" in u for u in c["urls"])
                   for c in self.curl_calls)

    def __iter__(self):
        return iter((self.rc, self.stdout, self.curl_calls))

    def __repr__(self):
        return (f"ScriptResult(script={self.script!r}, rc={self.rc}, "
                f"curl_calls={len(self.curl_calls)}, stderr={self.stderr[-300:]!r})")


def _set_pdeathsig():
    # If the controller dies (even SIGKILL), unshare gets SIGKILL and --kill-child takes
    # the host's PID 1, hence its whole PID namespace, with it.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def port_free(addr: str, port: int) -> bool:
    """True when nothing listens on addr:port (a bind with SO_REUSEADDR succeeds)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((addr, port))
        return True
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return False
        raise
    finally:
        s.close()


def _reap_stale_workdirs() -> None:
    """Remove /tmp/netdata-lab-<pid>-* left by runs whose process is gone (killed before
    stop()). Their mounts died with their namespaces, so plain removal is safe."""
    for p in Path("/tmp").glob("netdata-lab-*-*"):
        m = re.match(r"netdata-lab-(\d+)-", p.name)
        if m and p.is_dir() and not os.path.exists(f"/proc/{m.group(1)}"):
            shutil.rmtree(p, ignore_errors=True)


def lab_prerequisites() -> str | None:
    """None when the lab can run here, else the reason it cannot."""
    if sys.platform != "linux":
        return "the lab needs Linux namespaces"
    if os.geteuid() != 0:
        return "the lab needs root (unshare --mount/--pid, overlayfs)"
    for tool in ("unshare", "nsenter", "ssh", "ssh-keygen", "mount"):
        if not shutil.which(tool):
            return f"`{tool}` not found"
    if not os.access("/usr/sbin/sshd", os.X_OK):
        return "/usr/sbin/sshd not installed (apt-get install openssh-server)"
    return None


# ------------------------------------------------------------------------ Fleet
def inventory_text(fleet, hostvars_of, more_vars: Sequence[str]) -> str:
    """The INI inventory of a lab fleet (its hosts in [lab] and in their spec's groups),
    with the connection settings every lab shares and ``more_vars`` in [lab:vars]."""
    lines = ["[lab]"]
    groups: dict[str, list[str]] = {}
    for h in fleet.hosts.values():
        hv = " ".join(f"{k}={shlex.quote(json.dumps(v) if not isinstance(v, str) else v)}"
                      for k, v in hostvars_of(h).items())
        lines.append(f"{h.name} ansible_host={h.addr} {hv}".rstrip())
        for g in h.spec.groups:
            groups.setdefault(g, []).append(h.name)
    for g, members in groups.items():
        lines += ["", f"[{g}]", *members]
    lines += ["", "[lab:vars]",
              f"ansible_port={SSH_PORT}",
              "ansible_user=root",
              f"ansible_ssh_private_key_file={fleet.key_path}",
              f"ansible_ssh_common_args='{fleet._ssh_common_args()}'",
              "ansible_python_interpreter=/usr/bin/python3",
              *more_vars,
              f"lab_addr_base={fleet.addr_base}",
              f"lab_netdata_port={fleet.netdata_port}", ""]
    return "\n".join(lines)


class Fleet:
    """Fleet(specs, addr_base=None, workdir=None) -- use as a context manager or call
    start()/stop(). Host i (0-based, in spec order) listens on <addr_base><i+1>:2222."""

    def __init__(self, specs: Iterable[HostSpec], addr_base: str | None = None,
                 workdir: str | os.PathLike | None = None, start_timeout: float = 30.0,
                 keep_workdir: bool | None = None, netdata_port: int = NETDATA_PORT):
        specs = list(specs)
        if not specs:
            raise ValueError("a fleet needs at least one host")
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate host names: {names}")
        if len(specs) > 254:
            raise ValueError("at most 254 hosts per address base")
        base = addr_base or os.environ.get("LAB_ADDR_BASE") or DEFAULT_ADDR_BASE
        if not base.endswith("."):
            base += "."
        octets = base.split(".")[:-1]
        if len(octets) != 3 or octets[0] != "127" or not all(o.isdigit() and 0 <= int(o) <= 255 for o in octets):
            raise ValueError(f"addr_base must look like '127.B.C.' (loopback), not {base!r}")
        self.addr_base = base
        self.start_timeout = start_timeout
        self.netdata_port = netdata_port
        self.keep_workdir = (os.environ.get("LAB_KEEP") == "1") if keep_workdir is None else keep_workdir
        self._own_workdir = workdir is None
        if workdir is None:
            _reap_stale_workdirs()
        self.workdir = Path(workdir) if workdir else Path(
            tempfile.mkdtemp(prefix=f"netdata-lab-{os.getpid()}-", dir="/tmp"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.common = self.workdir / "common"
        self.key_path = self.common / "id_ed25519"
        self.control_dir = self.workdir / "cp"
        self.known_hosts = self.common / "known_hosts"
        self.inventory_path = self.workdir / "inventory.ini"
        self.hosts: dict[str, Host] = {}
        for i, spec in enumerate(specs):
            self.hosts[spec.name] = Host(spec, f"{base}{i + 1}", self.workdir / "hosts" / spec.name)
        self.started = False
        self._prepare()

    # ---- preparation -------------------------------------------------------------
    def _prepare(self) -> None:
        c = self.common
        for d in (c / "fakebin", c / "bin", c / "netdata-scripts", self.control_dir):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.workdir, 0o755)
        for f in ("curl", "wget"):
            shutil.copy2(LAB_DIR / "fakebin" / f, c / "fakebin" / f)
            os.chmod(c / "fakebin" / f, 0o755)
        shutil.copy2(LAB_DIR / "bin" / "netdata-lab-service", c / "bin" / "netdata-lab-service")
        os.chmod(c / "bin" / "netdata-lab-service", 0o755)
        os.symlink("netdata-lab-service", c / "bin" / "netdata-lab-restart")
        for s in netdata_daemon.NETDATA_SCRIPTS:  # for hosts that lack Netdata's own
            if os.path.exists(f"{SCRIPTS_DIR}/{s}"):
                shutil.copy2(f"{SCRIPTS_DIR}/{s}", c / "netdata-scripts" / s)
        shutil.copy2(LAB_DIR / "host_init.sh", c / "host_init.sh")
        shutil.copy2(LAB_DIR / "files" / "os-release", c / "os-release")
        for key, comment in ((self.key_path, "lab-client"), (c / "ssh_host_ed25519_key", "lab-host")):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
                            "-f", str(key)], check=True, stdin=subprocess.DEVNULL)
        shutil.copy2(f"{self.key_path}.pub", c / "authorized_keys")
        # This run's host key, pinned for every address: an ssh that reaches another
        # lab's sshd on the same address (a stale or racing run) fails instead of
        # silently talking to the wrong host.
        host_pub = " ".join((c / "ssh_host_ed25519_key.pub").read_text().split()[:2])
        self.known_hosts.write_text("".join(f"[{h.addr}]:{SSH_PORT} {host_pub}\n"
                                            for h in self.hosts.values()))
        for h in self.hosts.values():
            (h.share).mkdir(parents=True, exist_ok=True)
            (h.share / "calls").mkdir(exist_ok=True)
            # The daemon runs its scripts as user `netdata`: the fake curl must be able
            # to record from there.
            os.chmod(h.share / "calls", 0o1777)
            (h.share / "fake-curl.log").touch()
            os.chmod(h.share / "fake-curl.log", 0o666)
            (h.dir / "state").mkdir(exist_ok=True)
            (h.share / "setup.sh").write_text(h.spec.setup or "")
            (h.share / "sshd_config").write_text(self._sshd_config(h))
            (h.share / "daemon.json").write_text(json.dumps(netdata_daemon.daemon_config(
                h.addr, h.spec.daemon_env, h.spec.netdata_args, port=self.netdata_port), indent=1))
        self.inventory_path.write_text(self._inventory())

    def _sshd_config(self, h: Host) -> str:
        return "\n".join([
            f"ListenAddress {h.addr}:{SSH_PORT}",
            f"HostKey {IN_HOST_COMMON}/ssh_host_ed25519_key",
            f"AuthorizedKeysFile {IN_HOST_COMMON}/authorized_keys",
            "PidFile none", "UsePAM no", "StrictModes no", "UseDNS no",
            "MaxStartups 200", "MaxSessions 200",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PrintMotd no", "PrintLastLog no",
            "Subsystem sftp internal-sftp", "LogLevel ERROR", "",
        ])

    def _ssh_common_args(self) -> str:
        return (f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={self.known_hosts} "
                f"-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR "
                f"-o ControlPath={self.control_dir}/%C")

    def _inventory(self) -> str:
        return inventory_text(self, lambda h: h.spec.hostvars,
                              [f"netdata_telemetry_restart_command={RESTART_COMMAND}"])

    # ---- lifecycle ---------------------------------------------------------------
    def __enter__(self) -> "Fleet":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    @property
    def names(self) -> list[str]:
        return list(self.hosts)

    def addr(self, host: str) -> str:
        return self.hosts[host].addr

    def start(self) -> "Fleet":
        """Start every host (in parallel), check each answers `hostname` over SSH with
        its own name, then start the daemons of daemon=True hosts. On any failure
        everything started is stopped and LabError says why."""
        if self.started:
            return self
        reason = lab_prerequisites()
        if reason:
            raise LabError(reason)
        busy = [f"{h.addr}:{p}" for h in self.hosts.values()
                for p in ((SSH_PORT, self.netdata_port) if h.spec.daemon else (SSH_PORT,))
                if not port_free(h.addr, p)]
        if busy:
            raise LabAddressInUse(f"already in use (another lab? set LAB_ADDR_BASE): {', '.join(busy)}")
        self.started = True
        try:
            for h in self.hosts.values():
                self._spawn(h)
            self._wait_ready()
            daemons = [h for h in self.hosts.values() if h.spec.daemon]
            if daemons:
                with concurrent.futures.ThreadPoolExecutor(max_workers=len(daemons)) as ex:
                    list(ex.map(lambda h: self.start_daemon(h.name), daemons))
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, h: Host) -> None:
        env = {
            "PATH": SYSTEM_PATH, "LANG": "C.UTF-8",
            "LAB_HOSTNAME": h.name, "LAB_ADDR": h.addr,
            "LAB_STATE": str(h.dir / "state"), "LAB_COMMON": str(self.common),
            "LAB_SHARE": str(h.share), "LAB_CONTAINER": h.spec.container or "",
        }
        console = open(h.console, "ab")
        h.proc = subprocess.Popen(
            ["unshare", "--kill-child", "--mount", "--uts", "--pid", "--fork", "--mount-proc",
             "/bin/sh", str(self.common / "host_init.sh")],
            env=env, stdin=subprocess.DEVNULL, stdout=console, stderr=console,
            start_new_session=True, preexec_fn=_set_pdeathsig, cwd="/")
        console.close()

    def _console_tail(self, h: Host, n: int = 20) -> str:
        try:
            return "\n".join(h.console.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        pending = dict(self.hosts)
        while pending:
            for name, h in list(pending.items()):
                if h.proc.poll() is not None:
                    tail = self._console_tail(h)
                    cls = LabAddressInUse if ("Address already in use" in tail
                                              or "Cannot bind any address" in tail) else LabError
                    raise cls(f"host {name} ({h.addr}) exited with {h.proc.returncode} "
                              f"while starting:\n{tail}")
                if h.pid is None:
                    h.pid = self._ns_init_pid(h)
                    if h.pid is None:
                        continue
                if not (h.share / "setup.done").exists():
                    continue
                try:
                    with socket.create_connection((h.addr, SSH_PORT), timeout=0.5):
                        pass
                except OSError:
                    continue
                r = self.ssh(name, "hostname", timeout=10)
                got = r.stdout.strip()
                if r.returncode != 0:
                    if time.monotonic() > deadline:
                        hint = (" (another lab's sshd holds this address: its host key differs)"
                                if "Host key verification failed" in r.stderr
                                or "IDENTIFICATION HAS CHANGED" in r.stderr else "")
                        raise LabAddressInUse(f"ssh to {name} ({h.addr}:{SSH_PORT}) failed{hint}: "
                                              f"{r.stderr.strip()}") if hint else \
                            LabError(f"ssh to {name} ({h.addr}:{SSH_PORT}) failed: {r.stderr.strip()}")
                    continue
                if got != name:
                    raise LabAddressInUse(f"{h.addr}:{SSH_PORT} answers as {got!r}, expected {name!r}: "
                                          "a stale sshd from another lab run holds this address")
                h.pidns = os.readlink(f"/proc/{h.pid}/ns/pid")
                del pending[name]
            if pending and time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}:\n{self._console_tail(h)}" for n, h in pending.items())
                raise LabError(f"hosts not ready after {self.start_timeout:.0f}s: "
                               f"{', '.join(pending)}\n{tails}")
            if pending:
                time.sleep(0.05)

    @staticmethod
    def _ns_init_pid(h: Host) -> int | None:
        try:
            kids = Path(f"/proc/{h.proc.pid}/task/{h.proc.pid}/children").read_text().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None

    def stop(self) -> None:
        """Kill every host's process group (its PID 1 goes, and with it the whole PID
        namespace: sshd, netdata, sessions), wait until nothing of the lab remains,
        then remove the work dir (kept with keep_workdir / LAB_KEEP=1)."""
        for h in self.hosts.values():
            if h.proc is not None and h.proc.poll() is None:
                try:
                    os.killpg(h.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for h in self.hosts.values():
            if h.proc is not None:
                try:
                    h.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
        deadline = time.monotonic() + 10
        while self.leftover_processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.started = False
        if self._own_workdir and not self.keep_workdir and self.workdir.exists():
            shutil.rmtree(self.workdir, ignore_errors=True)

    def leftover_processes(self) -> list[tuple[int, str]]:
        """Processes on the machine that belong to this lab: anything in one of its
        PID namespaces, its unshare processes, ssh clients using its control dir."""
        return procs.lab_leftovers({h.pidns for h in self.hosts.values() if h.pidns},
                                   {h.proc.pid for h in self.hosts.values() if h.proc is not None},
                                   str(self.workdir))

    def ports_free(self) -> bool:
        return all(port_free(h.addr, p) for h in self.hosts.values() for p in (SSH_PORT, self.netdata_port))

    # ---- running things in hosts ---------------------------------------------------
    def ssh_command(self, host: str, cmd: str | None = None) -> list[str]:
        h = self.hosts[host]
        argv = ["ssh", "-i", str(self.key_path), "-p", str(SSH_PORT), "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "LogLevel=ERROR",
                "-o", "ConnectTimeout=5", "-F", "/dev/null", f"root@{h.addr}"]
        return argv + ([cmd] if cmd is not None else [])

    def ssh(self, host: str, cmd: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `cmd` over SSH as root (a login like Ansible's)."""
        return subprocess.run(self.ssh_command(host, cmd), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)

    def run(self, host: str, cmd: str, env: Mapping[str, str] | None = None,
            check: bool = False, timeout: float = 60, input: str | None = None,
            path: str = SYSTEM_PATH) -> subprocess.CompletedProcess:
        """Run `sh -c cmd` as root INSIDE the host's mount/UTS/PID namespaces (nsenter,
        no SSH), with a clean environment (PATH, HOME=/root, LANG) plus `env`."""
        h = self.hosts[host]
        if h.pid is None:
            raise LabError(f"host {host} is not running")
        e = {"PATH": path, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb", "USER": "root"}
        e.update(env or {})
        argv = ["nsenter", "-t", str(h.pid), "-m", "-u", "-p", "--",
                "env", "-i", *[f"{k}={v}" for k, v in e.items()], "/bin/sh", "-c", f"cd / && {cmd}"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL, check=False)
        if check and r.returncode != 0:
            raise LabError(f"[{host}] `{cmd}` exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    def read_file(self, host: str, path: str) -> str | None:
        """A file's text inside the host, None when it does not exist."""
        r = self.run(host, f"cat -- {shlex.quote(path)}")
        if r.returncode != 0:
            if self.run(host, f"test -e {shlex.quote(path)}").returncode != 0:
                return None
            raise LabError(f"[{host}] cannot read {path}: {r.stderr}")
        return r.stdout

    def write_file(self, host: str, path: str, text: str, mode: str = "0644") -> None:
        self.run(host, f"mkdir -p \"$(dirname {shlex.quote(path)})\" && cat > {shlex.quote(path)} "
                       f"&& chmod {mode} {shlex.quote(path)}", input=text, check=True)

    def exists(self, host: str, path: str) -> bool:
        return self.run(host, f"test -e {shlex.quote(path)} || test -L {shlex.quote(path)}").returncode == 0

    # ---- ansible -------------------------------------------------------------------
    def ansible_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for ansible/ansible-playbook against this fleet."""
        env = dict(os.environ if base is None else base)
        env.update({
            "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
            "ANSIBLE_INVENTORY": str(self.inventory_path),
            "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / ".build" / "collections"),
            "ANSIBLE_PIPELINING": "1",
            # True: the inventory pins this run's host key (see _prepare); with False
            # Ansible would put StrictHostKeyChecking=no first and ssh would accept
            # another lab's sshd on a reused address.
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(self.control_dir),
            "ANSIBLE_SSH_ARGS": "-C -o ControlMaster=auto -o ControlPersist=30s",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCAL_TEMP": str(self.workdir / "ansible-local"),
        })
        env.pop("ANSIBLE_VAULT_PASSWORD_FILE", None)
        return env

    @staticmethod
    def _ansible_bin(name: str) -> str:
        cand = Path(sys.executable).parent / name
        if cand.exists():
            return str(cand)
        venv = REPO_ROOT / ".venv" / "bin" / name
        if venv.exists():
            return str(venv)
        found = shutil.which(name)
        if not found:
            raise LabError(f"{name} not found (run scripts/bootstrap.sh test)")
        return found

    def ansible_playbook(self, playbook: str | os.PathLike, *args: str,
                         extra_vars: Mapping[str, object] | None = None, check: bool = False,
                         limit: str | None = None, timeout: float = 900,
                         env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
        argv = [self._ansible_bin("ansible-playbook"), "-i", str(self.inventory_path), str(playbook)]
        if extra_vars:
            argv += ["-e", json.dumps(dict(extra_vars))]
        if check:
            argv.append("--check")
        if limit:
            argv += ["--limit", limit]
        argv += list(args)
        e = self.ansible_env()
        e.update(env or {})
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env=e, cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL, check=False)

    def ansible(self, pattern: str, module: str, args: str | None = None, *extra: str,
                timeout: float = 300) -> subprocess.CompletedProcess:
        argv = [self._ansible_bin("ansible"), "-i", str(self.inventory_path), pattern, "-m", module]
        if args:
            argv += ["-a", args]
        argv += list(extra)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              env=self.ansible_env(), cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL,
                              check=False)

    def netdata_facts(self, workdir: str | os.PathLike, subset: Sequence[str] = ("all",),
                      limit: str | None = None) -> dict[str, dict]:
        """Run netdata_fleet.telemetry.netdata_facts over SSH on the fleet (or *limit*):
        host -> its ``ansible_facts['netdata']``, dumped through the controller."""
        out = Path(workdir) / "netdata-facts"
        out.mkdir(parents=True, exist_ok=True)
        playbook = Path(workdir) / "netdata-facts.yml"
        playbook.write_text(
            "- hosts: all\n  gather_facts: false\n  tasks:\n"
            "    - netdata_fleet.telemetry.netdata_facts:\n"
            f"        gather_subset: {json.dumps(list(subset))}\n"
            "    - ansible.builtin.copy:\n"
            "        content: \"{{ ansible_facts['netdata'] | to_json }}\"\n"
            f"        dest: \"{out}/{{{{ inventory_hostname }}}}.json\"\n"
            "        mode: '0600'\n"
            "      delegate_to: localhost\n")
        r = self.ansible_playbook(playbook, limit=limit)
        if r.returncode != 0:
            raise LabError(f"netdata_facts failed:\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}")
        return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}

    def service_env(self, host: str) -> dict[str, str]:
        """DO_NOT_TRACK / DISABLE_TELEMETRY as the service would start the agent: the unit
        and drop-ins folded by the lab's own systemd stand-in (independent of the
        collection's parser, so tests can use it as a judge)."""
        r = self.run(host, f"{SERVICE_COMMAND} env", check=True)
        env = json.loads(r.stdout)["env"]
        return {k: env[k] for k in ("DO_NOT_TRACK", "DISABLE_TELEMETRY") if k in env}

    # ---- the Netdata daemon ------------------------------------------------------
    def start_daemon(self, host: str, wait: bool = True) -> dict | None:
        """Start the real daemon in the host (no-op when it runs); returns hello."""
        r = self.run(host, f"{SERVICE_COMMAND} start" + ("" if wait else " --no-wait"), timeout=40)
        if r.returncode != 0:
            raise LabError(f"[{host}] netdata did not start ({r.returncode}): {r.stderr.strip()}\n"
                           f"{self.daemon_log(host)[-2000:]}")
        return self.hello(host) if wait else None

    def stop_daemon(self, host: str) -> None:
        self.run(host, f"{SERVICE_COMMAND} stop", check=True, timeout=40)

    def restart_daemon(self, host: str) -> dict:
        """Stop (if running) and start; returns hello."""
        r = self.run(host, f"{SERVICE_COMMAND} restart", timeout=60)
        if r.returncode != 0:
            raise LabError(f"[{host}] netdata restart failed: {r.stderr.strip()}")
        return self.hello(host)

    def daemon_running(self, host: str) -> bool:
        return self.run(host, f"{SERVICE_COMMAND} status").returncode == 0

    def set_daemon_env(self, host: str, env: Mapping[str, str]) -> None:
        """Replace the daemon's inherited environment (takes effect at next start)."""
        h = self.hosts[host]
        conf = json.loads((h.share / "daemon.json").read_text())
        conf["env"] = dict(env)
        (h.share / "daemon.json").write_text(json.dumps(conf, indent=1))

    def daemon_env(self, host: str) -> dict:
        """The environment (and unit files) the last start used."""
        return json.loads((self.hosts[host].share / "netdata.env.json").read_text())

    def daemon_log(self, host: str) -> str:
        """The daemon's stdout/stderr (controller side) followed by the host's
        /var/log/netdata/error.log (where 1.37 logs, e.g. each script it runs)."""
        p = self.hosts[host].share / "netdata.log"
        out = p.read_text(errors="replace") if p.exists() else ""
        err = self.read_file(host, "/var/log/netdata/error.log") if self.hosts[host].pid else None
        return out + ("\n--- /var/log/netdata/error.log\n" + err if err else "")

    def hello(self, host: str, timeout: float = 2.0) -> dict:
        return netdata_daemon.hello(self.addr(host), self.netdata_port, timeout=timeout)

    def api(self, host: str, path: str, timeout: float = 2.0):
        return netdata_daemon.api_get(self.addr(host), path, self.netdata_port, timeout=timeout)

    # ---- fake curl and Netdata's scripts -----------------------------------------
    def curl_calls(self, host: str) -> list[dict]:
        """Calls of the fake curl/wget made by the host's daemon (and anything else
        that used the default log)."""
        return self._read_calls(self.hosts[host].share / "fake-curl.log")

    def clear_curl_calls(self, host: str) -> None:
        p = self.hosts[host].share / "fake-curl.log"
        p.write_text("")
        os.chmod(p, 0o666)

    @staticmethod
    def _read_calls(p: Path) -> list[dict]:
        if not p.exists():
            return []
        return [json.loads(l) for l in p.read_text().splitlines() if l.strip()]

    def run_netdata_script(self, host: str, script: str, args: Sequence[str] = (),
                           env: Mapping[str, str] | None = None, timeout: float = 60) -> ScriptResult:
        """Run Netdata's <script> (from /usr/lib/netdata/plugins.d in the host, or the
        lab's copy of Debian's when the host has none) inside the host, with the fake
        curl/wget first on PATH and a clean environment plus `env`. The result unpacks
        as (rc, stdout, curl_calls); curl_calls are this run's calls only."""
        if "/" in script:
            raise ValueError("script is a file name in plugins.d")
        h = self.hosts[host]
        own = f"{SCRIPTS_DIR}/{script}"
        path = own if self.exists(host, own) else f"{IN_HOST_COMMON}/netdata-scripts/{script}"
        call_id = uuid.uuid4().hex
        e = {"FAKE_CURL_LOG": f"{IN_HOST_SHARE}/calls/{call_id}.log"}
        e.update(env or {})
        r = self.run(host, " ".join(shlex.quote(a) for a in ["/bin/sh", path, *args]), env=e,
                     timeout=timeout, path=f"{IN_HOST_FAKEBIN}:{SYSTEM_PATH}")
        calls_file = h.share / "calls" / f"{call_id}.log"
        calls = self._read_calls(calls_file)
        if calls_file.exists():
            calls_file.unlink()
        return ScriptResult(r.returncode, r.stdout, r.stderr, calls, path)

    def system_info(self, host: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """system-info.sh's NETDATA_* lines as {lowercase name without prefix: value};
        the fake curl answers like a timeout (28) so no cloud probe goes anywhere."""
        e = {"FAKE_CURL_EXIT": "28"}
        e.update(env or {})
        res = self.run_netdata_script(host, "system-info.sh", env=e)
        if res.rc != 0:
            raise LabError(f"[{host}] system-info.sh exited {res.rc}: {res.stderr[-1000:]}")
        return netdata_daemon.parse_system_info(res.stdout)


PLAY_RECAP_RE = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def play_recap(stdout: str) -> dict[str, dict[str, int]]:
    """host -> {ok, changed, unreachable, failed} from ansible-playbook's PLAY RECAP."""
    return {m.group(1): {"ok": int(m.group(2)), "changed": int(m.group(3)),
                         "unreachable": int(m.group(4)), "failed": int(m.group(5))}
            for m in PLAY_RECAP_RE.finditer(stdout)}
