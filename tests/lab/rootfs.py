# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cached root filesystems for the systemd lab hosts (see systemd_hosts.py, README.md).

`ensure_base()` -> a Debian bookworm root built once with debootstrap from the Debian
archive this machine's apt already uses: real systemd (PID 1 of every host), sshd,
python3 (Ansible), Debian's netdata 1.37.1 (netdata netdata-core netdata-plugins-bash
netdata-web) enabled as packaged, and the libraries Netdata's v2.10.4 daemon needs.
`ensure_v2_layer(base)` -> an overlay layer on top of it that turns the Debian install
into a static-style v2.10.4 install under /opt/netdata (see build_v2_layer).

Both live under <repo>/.build/lab-rootfs/ (gitignored, excluded from galaxy builds),
named by a hash of the package list and of this file (the build script), and are built
once: a file lock makes a second test process wait for the first build instead of
building twice, and the next run reuses the result.

Safety (every host runs with `systemd-nspawn --private-network`, so its only interface
is its own loopback; nothing in a host has a route out, which is why the hosts run
Netdata's real curl instead of the recording fakes of tests/lab/fakebin):
- Netdata's endpoints resolve to 127.0.0.1 through /etc/hosts, and /etc/resolv.conf
  names 127.0.0.1 (nothing listens on :53), so a name outside the list fails at once.
- The CA bundle (/etc/ssl/certs/ca-certificates.crt) holds only the lab's own CA, whose
  certificate for those names is served by the lab sink (netdata-lab-sink.service,
  127.0.0.1:443 and :80 inside the host) that records each request to a file.
- Timers that would fetch anything (apt-daily...) are masked; the build itself runs the
  packages' maintainer scripts in a chroot inside `unshare --net` with a policy-rc.d
  that refuses service starts, so no daemon ever starts on this machine's network.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

LAB_DIR = Path(__file__).resolve().parent
REPO_ROOT = LAB_DIR.parents[1]
CACHE_DIR = Path(os.environ.get("LAB_ROOTFS_CACHE") or REPO_ROOT / ".build" / "lab-rootfs")
SUITE = "bookworm"
# The v2 daemon's tarball (built from Netdata's own source, tag v2.10.4), kept next to
# the repository, not in it.
V2_TARBALL = Path(os.environ.get("LAB_NETDATA_V2_TARBALL") or
                  REPO_ROOT.parent / "shared" / "netdata-v2" / "netdata-v2.10.4-debian12-amd64.tar.gz")
V2_VERSION = "2.10.4"

DEBIAN_NETDATA = ("netdata", "netdata-core", "netdata-plugins-bash", "netdata-web")
# Runtime libraries of the v2.10.4 daemon (ldd of /opt/netdata/usr/sbin/netdata).
V2_RUNTIME = ("libc6", "libstdc++6", "libgcc-s1", "libsystemd0", "libjson-c5", "libyaml-0-2",
              "zlib1g", "liblz4-1", "libzstd1", "libbrotli1", "libuuid1", "libuv1", "libssl3",
              "libcurl4", "bash")
PACKAGES = tuple(sorted(set((
    "systemd", "systemd-sysv", "dbus", "openssh-server", "python3", "iproute2", "procps",
    "curl") + DEBIAN_NETDATA + V2_RUNTIME)))

# Names Netdata (1.37.1 and v2.10.4) and its scripts/updater talk to: all resolve to the
# host's own loopback, where the sink answers. (Binary strings of both daemons, and
# anonymous-statistics.sh / system-info.sh / netdata-updater.sh of both.)
NETDATA_ENDPOINTS = (
    "agent-events.netdata.cloud", "app.netdata.cloud", "api.netdata.cloud",
    "mqtt.netdata.cloud", "netdata.cloud", "www.netdata.cloud", "learn.netdata.cloud",
    "posthog.netdata.cloud", "us-east1-netdata-analytics-bi.cloudfunctions.net",
    "registry.my-netdata.io", "my-netdata.io", "repo.netdata.cloud",
    "packages.netdata.cloud", "repository.netdata.cloud", "get.netdata.cloud",
    "github.com", "api.github.com", "raw.githubusercontent.com", "objects.githubusercontent.com",
)
# Timers/units that fetch from the network or only cost CPU in a lab host.
MASKED_UNITS = ("apt-daily.timer", "apt-daily-upgrade.timer", "apt-daily.service",
                "apt-daily-upgrade.service", "dpkg-db-backup.timer", "e2scrub_all.timer",
                "fstrim.timer", "man-db.timer", "console-getty.service",
                "systemd-networkd-wait-online.service")

IN_HOST_LAB = "/usr/local/lib/netdata-lab"
SINK_LOG = "/var/lib/netdata-lab/sink.jsonl"


class RootfsError(RuntimeError):
    pass


def rootfs_prerequisites() -> str | None:
    """None when a rootfs can be built (or is cached) here, else why not."""
    if os.geteuid() != 0:
        return "building the lab's rootfs needs root (debootstrap, chroot, mount)"
    for tool in ("debootstrap", "chroot", "unshare", "mount", "openssl"):
        if not shutil.which(tool):
            return (f"`{tool}` not found (scripts/bootstrap.sh test installs "
                    "systemd-container debootstrap socat)")
    return None


def debian_mirror() -> str:
    """The Debian archive this machine's apt already uses ($LAB_DEBIAN_MIRROR wins)."""
    env = os.environ.get("LAB_DEBIAN_MIRROR")
    if env:
        return env
    p = Path("/etc/apt/sources.list.d/debian.sources")
    if p.exists():
        for line in p.read_text().splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    p = Path("/etc/apt/sources.list")
    if p.exists():
        for line in p.read_text().splitlines():
            m = re.match(r"\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+" + SUITE + r"\s", line)
            if m:
                return m.group(1)
    raise RootfsError("no Debian mirror found in apt's sources (set LAB_DEBIAN_MIRROR)")


def _file_hash(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()[:16]


def base_key() -> str:
    """Hash of what the base is made of: suite, package list and this build script
    (this file and the sink it installs)."""
    return _file_hash(SUITE.encode(), "\n".join(PACKAGES).encode(),
                      Path(__file__).read_bytes(), (LAB_DIR / "sink.py").read_bytes())


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _log(msg: str) -> None:
    print(f"[lab-rootfs] {msg}", flush=True)


def _run(argv, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False, **kw)
    if r.returncode != 0:
        raise RootfsError(f"{' '.join(map(str, argv))[:300]} exited {r.returncode}:\n"
                          f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


@contextlib.contextmanager
def _locked(lock_path: Path):
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _log(f"waiting for another process building {lock_path.stem} ...")
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _reap_tmp(cache: Path) -> None:
    """Remove half-built trees of builders that died (their pid is in the name)."""
    for p in cache.glob(".tmp-*"):
        m = re.search(r"-(\d+)$", p.name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            _log(f"removing stale partial build {p}")
            shutil.rmtree(p, ignore_errors=True)


def _cached(name: str, key: str, build, cache: Path | None = None) -> Path:
    """<cache>/<name>-<key>/ with manifest.json, built by build(tmpdir) once."""
    cache = cache or CACHE_DIR
    final = cache / f"{name}-{key}"
    if (final / "manifest.json").exists():
        return final
    with _locked(cache / f"{name}-{key}.lock"):
        if (final / "manifest.json").exists():  # built by the process we waited for
            return final
        reason = rootfs_prerequisites()
        if reason:
            raise RootfsError(reason)
        _reap_tmp(cache)
        tmp = cache / f".tmp-{name}-{key}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        t0 = time.monotonic()
        try:
            manifest = build(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        manifest.update({"name": name, "key": key, "build_seconds": round(time.monotonic() - t0, 1),
                         "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
        if final.exists():  # an incomplete leftover (no manifest)
            shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        _log(f"{name} built in {manifest['build_seconds']}s: {final}")
        _prune(cache, name, keep=final)
        return final


def _in_use(path: Path) -> bool:
    """True when a mount anywhere on the machine refers to path (e.g. a running host's
    overlay has it as a lower layer)."""
    p = str(path)
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/mountinfo") as f:
                    if p in f.read():
                        return True
            except OSError:
                continue
    return False


def _prune(cache: Path, name: str, keep: Path) -> None:
    """Remove builds of `name` with another key (an older package list or build script),
    unless a running host still uses one."""
    for old in cache.glob(f"{name}-*"):
        if old.is_dir() and old != keep and not old.name.endswith(".lock") and not _in_use(old):
            _log(f"removing outdated {old.name}")
            shutil.rmtree(old, ignore_errors=True)
            (cache / f"{old.name}.lock").unlink(missing_ok=True)


# --------------------------------------------------------------------------- base
def ensure_base(cache: Path | None = None) -> Path:
    """Path of the cached base rootfs (the root is <path>/root); builds it if needed
    (cold: debootstrap downloads ~140 MB and installs; a few minutes on 2 cores)."""
    return _cached(f"{SUITE}-base", base_key(), _build_base, cache) / "root"


# Run in the new root (chroot, private network and mount namespaces) after debootstrap.
_CONFIGURE_BASE = r"""
set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
mount -t proc proc /proc
trap 'umount /proc' EXIT
# Each host gets its own identity: a transient machine id from nspawn's random UUID and
# per-run SSH host keys written by the lab before boot.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
# Nothing of a first daemon run may be inherited by every host (the build never starts
# it, but keep the state dirs empty as packaged).
rm -rf /var/lib/netdata/registry/* /var/cache/netdata/* /var/log/netdata/*
for u in $MASKED_UNITS; do ln -sf /dev/null /etc/systemd/system/$u; done
systemctl enable netdata-lab-sink.service >/dev/null 2>&1
systemctl is-enabled netdata.service ssh.service netdata-lab-sink.service
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log /var/log/apt/*
rm -f /usr/sbin/policy-rc.d
"""

_SSHD_DROPIN = """\
# netdata-lab: per-run host key and client key written by the lab before boot.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
# Ansible forks: many sessions at once.
MaxStartups 200
MaxSessions 200
"""

_SINK_UNIT = f"""\
[Unit]
Description=netdata-lab: loopback HTTPS sink standing in for Netdata's endpoints
Documentation=file://{IN_HOST_LAB}/sink.py
# Netdata's v2 daemon posts its status synchronously at start: the sink must listen first.
Before=netdata.service
DefaultDependencies=no
After=local-fs.target
Conflicts=shutdown.target
Before=shutdown.target

[Service]
Type=notify
ExecStart=/usr/bin/python3 {IN_HOST_LAB}/sink.py {SINK_LOG}
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""


def _make_certs(dest: Path) -> None:
    """A lab CA and a server certificate for every endpoint name (and 127.0.0.1)."""
    dest.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _run(["openssl", "req", "-x509", *ec, "-keyout", dest / "ca.key", "-out", dest / "ca.crt",
          "-days", "3650", "-subj", "/CN=netdata-lab sink CA",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    _run(["openssl", "req", *ec, "-keyout", dest / "srv.key", "-out", dest / "srv.csr",
          "-subj", "/CN=netdata-lab sink"])
    san = ",".join([f"DNS:{n}" for n in NETDATA_ENDPOINTS] + ["DNS:localhost", "IP:127.0.0.1"])
    (dest / "srv.ext").write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                                  "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    _run(["openssl", "x509", "-req", "-in", dest / "srv.csr", "-CA", dest / "ca.crt",
          "-CAkey", dest / "ca.key", "-CAcreateserial", "-out", dest / "srv.crt",
          "-days", "3650", "-extfile", dest / "srv.ext"])
    for f in ("ca.key", "srv.csr", "srv.ext", "ca.srl"):  # the CA signs nothing else
        (dest / f).unlink(missing_ok=True)
    os.chmod(dest / "srv.key", 0o600)


def _write(root: Path, path: str, text: str, mode: int = 0o644) -> None:
    p = root / path.lstrip("/")
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.is_symlink() or p.exists():
        p.unlink()
    p.write_text(text)
    os.chmod(p, mode)


def _build_base(tmp: Path) -> dict:
    root = tmp / "root"
    mirror = debian_mirror()
    t0 = time.monotonic()
    _log(f"debootstrap {SUITE} from {mirror} into {root} (first run only) ...")
    # Stage 1 (download + unpack) needs the mirror; nothing is configured or run yet.
    _run(["nice", "-n", "10", "debootstrap", "--foreign", "--variant=minbase",
          "--include=" + ",".join(PACKAGES), SUITE, root, mirror], timeout=1800)
    t_download = time.monotonic() - t0
    # Maintainer scripts must not start services (netdata, sshd) on this machine:
    # policy-rc.d refuses, and stage 2 runs with no network at all.
    _write(root, "/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755)
    _run(["unshare", "--net", "--mount", "--fork", "--pid", "nice", "-n", "10",
          "chroot", root, "/debootstrap/debootstrap", "--second-stage"], timeout=1800)
    t_install = time.monotonic() - t0 - t_download
    _write(root, "/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
           "# netdata-lab: Netdata's endpoints answer on the host's own loopback (the sink)\n"
           + "".join(f"127.0.0.1\t{n}\n" for n in NETDATA_ENDPOINTS))
    _write(root, "/etc/resolv.conf", "# netdata-lab: no DNS; names resolve through /etc/hosts\n"
           "nameserver 127.0.0.1\n")
    certs = root / IN_HOST_LAB.lstrip("/") / "tls"
    _make_certs(certs)
    # Only the lab's CA is trusted: whatever TLS client runs in a host (curl, libcurl in
    # the v2 daemon, python) can reach nothing but the sink.
    ssl_certs = root / "etc/ssl/certs"
    if ssl_certs.exists():
        for p in ssl_certs.iterdir():
            if p.is_symlink() or p.is_file():
                p.unlink()
    ssl_certs.mkdir(parents=True, exist_ok=True)
    shutil.copy2(certs / "ca.crt", ssl_certs / "ca-certificates.crt")
    os.chmod(ssl_certs / "ca-certificates.crt", 0o644)
    shutil.copy2(LAB_DIR / "sink.py", root / IN_HOST_LAB.lstrip("/") / "sink.py")
    _write(root, "/etc/systemd/system/netdata-lab-sink.service", _SINK_UNIT)
    _write(root, "/etc/ssh/sshd_config.d/netdata-lab.conf", _SSHD_DROPIN)
    r = _run(["unshare", "--net", "--mount", "--fork", "chroot", root, "/bin/bash", "-c",
              _CONFIGURE_BASE.replace("$MASKED_UNITS", " ".join(MASKED_UNITS))], timeout=600)
    versions = _run(["chroot", root, "dpkg-query", "-W", "-f", "${Package} ${Version}\n"]).stdout
    installed = dict(line.split(" ", 1) for line in versions.splitlines() if line)
    missing = [p for p in PACKAGES if p not in installed]
    if missing:
        raise RootfsError(f"packages missing after debootstrap: {missing}")
    if "1.37.1" not in installed.get("netdata-core", ""):
        raise RootfsError(f"expected Debian's netdata 1.37.1, got {installed.get('netdata-core')}")
    return {"suite": SUITE, "mirror": mirror, "packages": list(PACKAGES),
            "netdata": installed["netdata-core"], "systemd": installed["systemd"],
            "enabled": r.stdout.split(), "download_seconds": round(t_download, 1),
            "install_seconds": round(t_install, 1), "dpkg": installed}


# --------------------------------------------------------------------------- v2 layer
# Turns the Debian host into a static-style v2.10.4 host, as Netdata's kickstart-static
# installer leaves one (packaging/makeself/install-or-update.sh at v2.10.4): the native
# package is purged (kickstart refuses to install over a native package, and a host with
# both would look like two installs to anything that inventories them), the tree is
# unpacked at /opt/netdata, user/group `netdata` exist (its sysusers.d file), the state
# dirs belong to netdata (its tmpfiles.d file, installed so boot re-applies it), and the
# unit is the tarball's own netdata.service installed where install-service.sh puts it on
# Debian 12 (/usr/lib/systemd/system, the last writable UnitPath entry), enabled.
_CONFIGURE_V2 = r"""
set -eu
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
mount -t proc proc /proc
trap 'umount /proc' EXIT
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d
dpkg --purge netdata netdata-web netdata-plugins-bash netdata-core >/dev/null
rm -rf /etc/netdata /var/lib/netdata /var/cache/netdata /var/log/netdata /usr/lib/netdata
tar -C / -xzf /tmp/netdata-v2.tar.gz
rm -f /tmp/netdata-v2.tar.gz
N=/opt/netdata
S=$N/usr/lib/netdata/system/systemd
# the tarball's own probe helpers are not part of an install
rm -f $N/capture.py $N/run-probe.sh $N/README.probe.txt
systemd-sysusers $S/sysusers/netdata.conf
install -m 0644 $S/sysusers/netdata.conf /usr/lib/sysusers.d/netdata.conf
install -m 0644 $S/tmpfiles/netdata.conf /usr/lib/tmpfiles.d/netdata.conf
systemd-tmpfiles --create /usr/lib/tmpfiles.d/netdata.conf || true
install -p -m 0644 $S/netdata.service /usr/lib/systemd/system/netdata.service
install -d /usr/lib/systemd/system-preset
install -p -m 0644 $S/50-netdata.preset /usr/lib/systemd/system-preset/50-netdata.preset
install -d /etc/systemd/journald@netdata.conf.d
install -p -m 0644 $S/journald@netdata.conf /etc/systemd/journald@netdata.conf.d/netdata.conf 2>/dev/null || true
systemctl enable netdata.service >/dev/null 2>&1
systemctl is-enabled netdata.service
# As install-or-update.sh: the static install uses the system's TLS setup.
ln -sfn /etc/ssl $N/etc/ssl.lab-tmp && mv -T $N/etc/ssl.lab-tmp $N/etc/ssl 2>/dev/null || true
printf "INSTALL_TYPE='kickstart-static'\nPREBUILT_ARCH='x86_64'\n" > $N/etc/netdata/.install-type
chown -R root:netdata $N/usr/libexec/netdata/plugins.d
find $N -type d -exec chmod go+rx {} +
dpkg-query -W 'netdata*' 2>/dev/null && { echo "netdata still listed by dpkg" >&2; exit 1; } || true
rm -f /usr/sbin/policy-rc.d
$N/usr/sbin/netdata -v
"""


def v2_available() -> str | None:
    """None when the v2.10.4 tarball is here, else why not."""
    if not V2_TARBALL.exists():
        return f"Netdata v{V2_VERSION} tarball not found at {V2_TARBALL}"
    return None


def ensure_v2_layer(base: Path | None = None, cache: Path | None = None) -> Path:
    """Path of the cached overlay layer (an overlayfs upper dir: files plus whiteouts)
    that, stacked on the base, is a v2.10.4 static-style host."""
    reason = v2_available()
    if reason:
        raise RootfsError(reason)
    base = base or ensure_base(cache)
    key = _file_hash(base.parent.name.encode(), _sha256_file(V2_TARBALL).encode(),
                     Path(__file__).read_bytes())
    return _cached(f"netdata-v{V2_VERSION}-layer", key,
                   lambda tmp: _build_v2_layer(tmp, base), cache) / "upper"


def _build_v2_layer(tmp: Path, base: Path) -> dict:
    upper, work, merged = tmp / "upper", tmp / "work", tmp / "merged"
    for d in (upper, work, merged):
        d.mkdir()
    # The overlay is mounted inside a private mount namespace (gone with it); the chroot
    # has no network.
    script = (f"set -e; mount -t overlay lab-v2 -o lowerdir={base},upperdir={upper},workdir={work} "
              f"{merged}; cp {V2_TARBALL} {merged}/tmp/netdata-v2.tar.gz; "
              f"exec chroot {merged} /bin/bash -c \"$1\"")
    r = _run(["unshare", "--net", "--mount", "--fork", "/bin/sh", "-c", script, "sh", _CONFIGURE_V2],
             timeout=600)
    shutil.rmtree(work, ignore_errors=True)
    merged.rmdir()
    return {"tarball": str(V2_TARBALL), "tarball_sha256": _sha256_file(V2_TARBALL),
            "base": base.parent.name, "netdata_v": r.stdout.strip().splitlines()[-1]}


def cached_builds(cache: Path | None = None) -> list[dict]:
    """Manifests of what is cached (for reports and clean-up)."""
    cache = cache or CACHE_DIR
    out = []
    for m in sorted(cache.glob("*/manifest.json")):
        try:
            d = json.loads(m.read_text())
        except ValueError:
            continue
        d["path"] = str(m.parent)
        out.append(d)
    return out


if __name__ == "__main__":  # python -m tests.lab.rootfs: build (or show) the cache
    import sys
    t = time.monotonic()
    b = ensure_base()
    print(f"base: {b} ({time.monotonic() - t:.1f}s)")
    if v2_available() is None:
        t = time.monotonic()
        print(f"v2 layer: {ensure_v2_layer(b)} ({time.monotonic() - t:.1f}s)")
    else:
        print(v2_available(), file=sys.stderr)
