# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netdata agents in containers: which container a daemon runs in, what it sees, and
what its runtime says (``docs/dev/install-model.md``).

From ``/proc`` alone (no runtime needed):

- the runtime and container id, from the daemon's ``/proc/PID/cgroup``: the innermost
  path component that names a container (``docker-<id>.scope``, ``/docker/<id>``,
  ``libpod-<id>.scope``, ``/libpod_parent/libpod-<id>``, ``cri-containerd-<id>.scope``,
  ``crio-<id>.scope``, ``/kubepods/.../<id>``);
- the view root ``/proc/PID/root``: the container's files as its processes see them.
  An absolute symlink met below it is resolved by the kernel against *our* root, not
  the container's, so every path is first resolved here inside the view root
  (:func:`resolve_in_root`, what ``openat2(RESOLVE_IN_ROOT)`` does);
- whether the config dir survives re-creation: it does when it is a mount point in the
  container (a volume or a bind mount, ``/proc/PID/mountinfo``); otherwise it is the
  container's own layer, lost with the container;
- the version, without starting anything inside the container: the version string the
  build embeds in the daemon (``\\0v1.37.1\\0`` in Debian's 1.37.1, ``\\0v2.10.4\\0`` in
  v2.10.4; the one NUL-delimited ``vX.Y.Z`` string of each binary, see
  :func:`versions_in_binary`), read through ``/proc/PID/exe``; else the package
  database under the view root (dpkg, apk); else the image's
  ``org.opencontainers.image.version`` label;
- whether the image's entrypoint creates the opt-out file from the environment at
  every start (the official image's ``/usr/sbin/run.sh``, packaging/docker/run.sh).

From the runtime's CLI when it is there (``docker`` / ``podman``; a missing CLI or a
runtime that does not answer leaves ``/proc`` alone): names, images, the configured
environment (``Config.Env``), mounts (``Mounts``) and the stopped containers
(``ps -a``), whose verdict comes from the environment and mounts they will start with.

Parsers are pure (fixture text in tests); collectors take *root* and a *run_command*.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import stat
import struct

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import (
    host_path as _host, read_host_text)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.path_walk import (
    CANNOT_READ_LINK, CANNOT_STAT, MISSING, RESOLVED, TOO_MANY_LINKS, walk_path)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import (
    OPTOUT_FILE_NAME, TELEMETRY_VARS)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.versions import (
    format_version, parse_version)
# What the facts need even on hosts without containers lives in container_runtimes
# (a module run compiles every module it imports); named here for this module's users too.
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.container_runtimes import (  # noqa: F401 pylint: disable=unused-import
    CLI_DIRS, CLI_RUNTIMES, CLI_TIMEOUT, RUNTIME_TRACES, RUNTIMES, find_cli, install_label, runtime_in_use)

MAX_INSPECT = 500            # containers inspected in one call at most
MAX_BINARY_BYTES = 512 * 1024 * 1024
OFFICIAL_ENTRYPOINT = '/usr/sbin/run.sh'
# The official image keeps a copy of its config dir as built (packaging/docker/Dockerfile,
# `cp -va /etc/netdata /etc/netdata.stock`, v1.37.1 to v2.10.4): what a re-created
# container's layer starts with.
STOCK_CONFIG_DIR = '/etc/netdata.stock'
# Where images keep the agent: distribution packages and the official image, static
# (kickstart) installs.
AGENT_BINARIES = ('/usr/sbin/netdata', '/opt/netdata/bin/netdata', '/opt/netdata/usr/sbin/netdata')

_HEX_ID = r'[0-9a-f]{64}'
# (runtime, pattern on one cgroup path component)
_CGROUP_COMPONENTS = (
    ('docker', re.compile(r'\Adocker-(%s)\.scope\Z' % _HEX_ID)),
    ('podman', re.compile(r'\Alibpod-(%s)(?:\.scope)?\Z' % _HEX_ID)),
    ('containerd', re.compile(r'\Acri-containerd-(%s)\.scope\Z' % _HEX_ID)),
    ('unknown', re.compile(r'\Acrio-(%s)\.scope\Z' % _HEX_ID)),
)
_VERSION_IN_BINARY = re.compile(br'\x00v(\d{1,4}\.\d{1,4}\.\d{1,6}(?:-[0-9A-Za-z.+-]{1,40})?)(?=\x00)')
_CHUNK = 4 * 1024 * 1024
_OVERLAP = 64


# ---------------------------------------------------------------- parsers (pure)

def parse_cgroup_container(text):
    """``/proc/PID/cgroup`` text -> ``(runtime, id)``, or ``(None, None)`` outside a container.

    The innermost component that names a container wins (Docker in Docker: the inner
    one). Unified (``0::``) lines first, then every v1 hierarchy.
    """
    lines = [line for line in (text or '').splitlines() if line.count(':') >= 2]
    ordered = [l for l in lines if l.startswith('0::')] + [l for l in lines if not l.startswith('0::')]
    for line in ordered:
        path = line.split(':', 2)[2]
        parts = [p for p in path.split('/') if p]
        for index in range(len(parts) - 1, -1, -1):
            part = parts[index]
            if part.startswith('libpod-conmon-'):
                continue  # podman's monitor, not the container
            for runtime, pattern in _CGROUP_COMPONENTS:
                match = pattern.match(part)
                if match:
                    return runtime, match.group(1)
            parent = parts[index - 1] if index else ''
            if re.match(r'\A%s\Z' % _HEX_ID, part):
                if parent == 'docker':
                    return 'docker', part          # cgroupfs driver: /docker/<id>
                if parent.startswith('pod') or parent.startswith('kubepods') or 'kubepods' in parts:
                    return 'containerd', part      # /kubepods/<qos>/pod<uid>/<id>
    return None, None


def _unescape_mountinfo(field):
    """mountinfo escapes space, tab, newline and backslash as ``\\NNN`` (octal)."""
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text):
    """``/proc/PID/mountinfo`` text -> ``[{'mount_point', 'root', 'fstype', 'source',
    'dev'}]`` in file order (a later mount on the same point is on top)."""
    mounts = []
    for line in (text or '').splitlines():
        fields = line.split(' ')
        if '-' not in fields:
            continue
        sep = fields.index('-')
        if sep < 6 or len(fields) < sep + 3:
            continue
        mounts.append({
            'dev': fields[2],
            'root': _unescape_mountinfo(fields[3]),
            'mount_point': _unescape_mountinfo(fields[4]),
            'fstype': fields[sep + 1],
            'source': _unescape_mountinfo(fields[sep + 2]),
        })
    return mounts


def _covers(mount_point, path):
    mount_point = mount_point.rstrip('/') or '/'
    return mount_point == '/' or path == mount_point or path.startswith(mount_point + '/')


def mount_persistence(mounts, path):
    """Where *path* (a resolved path inside the container) lives:
    ``(persistence, mount)`` with persistence ``volume`` / ``bind`` (a mount point on the
    way: survives re-creation), ``tmpfs`` (lost at every stop), ``layer`` (the
    container's own root: lost on re-creation) or ``unknown`` (no mount table).

    The innermost mount covering *path* decides; between two on the same point, the
    later (on top). A named volume is a bind of ``.../volumes/<name>/_data`` (Docker's
    ``/var/lib/docker/volumes``, Podman's ``/var/lib/containers/storage/volumes``).
    """
    best = None
    for mount in mounts or []:
        point = mount['mount_point']
        if not _covers(point, path):
            continue
        if best is None or len(point.rstrip('/')) >= len(best['mount_point'].rstrip('/')):
            best = mount
    if best is None:
        return 'unknown', None
    if (best['mount_point'].rstrip('/') or '/') == '/':
        return 'layer', best
    if best['fstype'] == 'tmpfs':
        return 'tmpfs', best
    if re.search(r'/volumes/[^/]+/_data\Z', best['root'] or ''):
        return 'volume', best
    return 'bind', best


def inspect_mount_persistence(mounts, path):
    """The same from inspect's ``Mounts``: ``(persistence, mount)``; ``(None, None)``
    when no mount covers *path* (the layer, unless the mount table says otherwise)."""
    best = None
    for mount in mounts or []:
        dest = mount.get('destination')
        if not dest or not _covers(dest, path):
            continue
        if best is None or len(dest.rstrip('/')) >= len(best['destination'].rstrip('/')):
            best = mount
    if best is None:
        return None, None
    kind = best.get('type')
    return (kind if kind in ('volume', 'bind', 'tmpfs') else 'bind'), best


def env_list_to_dict(items, names=TELEMETRY_VARS):
    """``Config.Env`` (``["NAME=value", ...]``) -> ``{name: value or None}`` for *names*;
    the last assignment of a name wins, as the runtime passes it to ``execve``."""
    found = dict((name, None) for name in names)
    for item in items or []:
        if not isinstance(item, str) or '=' not in item:
            continue
        name, value = item.split('=', 1)
        if name in found:
            found[name] = value
    return found


def _entrypoint_words(value):
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and value:
        return value.split()
    return []


def normalize_inspect(data, runtime):
    """One ``docker inspect`` / ``podman inspect`` object -> the fields used here::

        {'id', 'name', 'image', 'status', 'running', 'pid', 'environment' (TELEMETRY_VARS),
         'env_known', 'mounts': [{'type', 'source', 'destination', 'name'}],
         'entrypoint': [words], 'command': [words], 'user', 'labels', 'layers':
         {'upper', 'lower': [dirs]} or None, 'compose': {...} or None}

    Docker names start with ``/``; Podman's ``Config.Entrypoint`` is a string in older
    versions and a list in newer ones.
    """
    if not isinstance(data, dict):
        return None
    config = data.get('Config') if isinstance(data.get('Config'), dict) else {}
    state = data.get('State') if isinstance(data.get('State'), dict) else {}
    cid = data.get('Id') or data.get('ID')
    if not isinstance(cid, str) or not cid:
        return None
    name = data.get('Name')
    if isinstance(name, str):
        name = name.lstrip('/') or None
    else:
        name = None
    image = config.get('Image') or data.get('ImageName') or None
    mounts = []
    for mount in data.get('Mounts') or []:
        if not isinstance(mount, dict):
            continue
        mounts.append({'type': mount.get('Type'), 'source': mount.get('Source') or None,
                       'destination': mount.get('Destination') or None,
                       'name': mount.get('Name') or None})
    env = config.get('Env')
    labels = config.get('Labels') if isinstance(config.get('Labels'), dict) else {}
    graph = data.get('GraphDriver') if isinstance(data.get('GraphDriver'), dict) else {}
    gdata = graph.get('Data') if isinstance(graph.get('Data'), dict) else {}
    layers = None
    if gdata.get('UpperDir'):
        lower = [d for d in (gdata.get('LowerDir') or '').split(':') if d]
        layers = {'upper': gdata['UpperDir'], 'lower': lower}
    pid = state.get('Pid')
    compose = None
    if labels.get('com.docker.compose.project'):
        compose = {'project': labels.get('com.docker.compose.project'),
                   'service': labels.get('com.docker.compose.service'),
                   'working_dir': labels.get('com.docker.compose.project.working_dir'),
                   'config_files': labels.get('com.docker.compose.project.config_files')}
    entrypoint = _entrypoint_words(config.get('Entrypoint'))
    if not entrypoint and isinstance(data.get('Path'), str) and data.get('Path'):
        entrypoint = [data['Path']]
    return {
        'runtime': runtime,
        'id': cid,
        'name': name,
        'image': image,
        'status': state.get('Status') or None,
        'running': state.get('Running') is True,
        'pid': pid if isinstance(pid, int) and pid > 0 else None,
        'environment': env_list_to_dict(env if isinstance(env, list) else []),
        'env_known': isinstance(env, list),
        'mounts': mounts,
        'entrypoint': entrypoint,
        'command': _entrypoint_words(config.get('Cmd')),
        'user': config.get('User') or None,
        'labels': labels,
        'layers': layers,
        'compose': compose,
    }


def parse_inspect_output(text, runtime):
    """``<cli> container inspect ID...`` output (a JSON array) -> ``(containers, error)``."""
    try:
        data = json.loads(text or '')
    except ValueError:
        return [], '%s inspect: output is not JSON' % runtime
    if not isinstance(data, list):
        return [], '%s inspect: output is not a JSON array' % runtime
    out = [c for c in (normalize_inspect(item, runtime) for item in data) if c is not None]
    return out, None


def parse_ps_ids(text):
    """``<cli> ps -a -q --no-trunc`` output -> ids (hex, in order, no duplicates)."""
    ids = []
    for line in (text or '').splitlines():
        word = line.strip()
        if re.match(r'\A[0-9a-f]{12,64}\Z', word) and word not in ids:
            ids.append(word)
    return ids


def looks_like_netdata(container):
    """Whether a container the runtime lists (running or not) is a Netdata agent, when no
    daemon of it was seen: its image's repository is ``netdata`` (``netdata/netdata``,
    ``docker.io/netdata/netdata:stable``, any ``*/netdata``), its image says so
    (``org.opencontainers.image.title`` = ``Netdata Agent``), or its entrypoint or
    command runs a ``netdata`` binary."""
    image = (container.get('image') or '').lower()
    repo = image.split('@', 1)[0]
    last = repo.rsplit('/', 1)[-1]
    if ':' in last:
        last = last.split(':', 1)[0]
    if last == 'netdata':
        return True
    title = (container.get('labels') or {}).get('org.opencontainers.image.title') or ''
    if isinstance(title, str) and title.strip().lower() == 'netdata agent':
        return True
    for word in (container.get('entrypoint') or [])[:1] + (container.get('command') or [])[:1]:
        if os.path.basename(word) == 'netdata':
            return True
    return False


def has_netdata_binary(root, container):
    """Whether a container's files hold a Netdata daemon binary (``AGENT_BINARIES``):
    through ``/proc/PID/root`` when it runs, else in its overlay layers. What the image
    is called does not matter (a private registry, a re-tagged or home-built image)."""
    pid = container.get('pid')
    layers = container.get('layers')
    if layers:  # host paths, as the runtime names them
        layers = {'upper': _host(root, layers['upper']), 'lower': [_host(root, d) for d in layers.get('lower') or []]}
    for path in AGENT_BINARIES:
        if container.get('running') and pid:
            view_root = _host(root, '/proc/%d/root' % pid)
            resolved, _err = resolve_in_root(view_root, path)
            if resolved is not None and os.path.isfile(_host(view_root, resolved)):
                return True
        elif layers is not None and overlay_lookup(layers, path) is not None:
            return True
    return False


def versions_in_binary_data(data):
    """Every distinct NUL-delimited ``vX.Y.Z[-suffix]`` string in *data* (bytes), in order."""
    found = []
    for match in _VERSION_IN_BINARY.finditer(data or b''):
        value = match.group(1).decode('ascii')
        if value not in found:
            found.append(value)
    return found


def pick_binary_version(candidates):
    """The daemon's version among the strings of :func:`versions_in_binary_data`:
    ``(version string or None, error or None)``. Netdata's own is the only one of
    major 1 to 9 in its builds; more than one such is ambiguous, never guessed."""
    netdata_like = [c for c in candidates if 1 <= int(c.split('.', 1)[0]) <= 9]
    if len(netdata_like) == 1:
        return netdata_like[0], None
    if not netdata_like:
        return None, 'no version string in the binary'
    return None, 'several version strings in the binary (%s)' % ', '.join(netdata_like[:5])


def parse_dpkg_status(text, packages=('netdata', 'netdata-core')):
    """``/var/lib/dpkg/status`` -> the installed version of the first of *packages*, or None."""
    found = {}
    for block in re.split(r'\n\s*\n', text or ''):
        fields = {}
        for line in block.splitlines():
            if ':' in line and not line.startswith((' ', '\t')):
                key, value = line.split(':', 1)
                fields[key.strip()] = value.strip()
        if fields.get('Package') in packages and 'installed' in (fields.get('Status') or '').split():
            found.setdefault(fields['Package'], fields.get('Version'))
    for name in packages:
        if found.get(name):
            return found[name]
    return None


def parse_apk_installed(text, package='netdata'):
    """``/lib/apk/db/installed`` -> the version of *package*, or None."""
    for block in re.split(r'\n\s*\n', text or ''):
        fields = dict((line[:1], line[2:]) for line in block.splitlines() if len(line) > 2 and line[1] == ':')
        if fields.get('P') == package and fields.get('V'):
            return fields['V']
    return None


def entrypoint_creates_optout(text):
    """Whether an entrypoint script's text creates the opt-out file from the environment
    (the official image's run.sh ``touch``\\ es it when DO_NOT_TRACK / DISABLE_TELEMETRY
    say so; which values count is the version's rule, ``_rules.channels``)."""
    if not text:
        return False
    return OPTOUT_FILE_NAME in text and ('DO_NOT_TRACK' in text or 'DISABLE_TELEMETRY' in text)


# ---------------------------------------------------------------- files inside a container

def resolve_in_root(view_root, path):
    """Resolve *path* (absolute, as the container names it) inside *view_root* the way
    the container's own processes would: absolute symlinks restart at the view root,
    ``..`` never climbs above it. Returns ``(resolved path inside the container, None)``
    or ``(None, error)``. A missing last component is fine (a file to be created); a
    missing directory on the way is not."""
    if not isinstance(path, str) or not path.startswith('/'):
        return None, '%r is not an absolute path' % (path,)
    walk = walk_path(view_root, path)
    if walk.outcome == RESOLVED or (walk.outcome == MISSING and walk.last):
        return walk.path, None
    if walk.outcome == MISSING:
        return None, '%s does not exist in the container' % walk.path
    if walk.outcome == CANNOT_STAT:
        return None, 'cannot stat %s in the container: %s' % (walk.path, walk.error.strerror or walk.error)
    if walk.outcome == TOO_MANY_LINKS:
        return None, '%s: too many levels of symbolic links' % path
    if walk.outcome == CANNOT_READ_LINK:
        return None, 'cannot read the link %s: %s' % (walk.path, walk.error.strerror or walk.error)
    return None, '%s is not a directory in the container' % walk.path


def symlink_on_the_way(view_root, path):
    """The first component of *path* below *view_root* that is a symlink, or None: a
    path resolved by :func:`resolve_in_root` has none, unless the container changed it
    since (writes refuse it then)."""
    current = ''
    for part in [p for p in path.split('/') if p]:
        current += '/' + part
        try:
            st = os.lstat(_host(view_root, current))
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode):
            return current
    return None


def overlay_lookup(layers, path):
    """Host path of *path* in a stopped container's overlay layers (``{'upper',
    'lower': [...]}``, top first), or None when absent. A whiteout (a 0:0 character
    device) or an opaque directory above hides what lies below."""
    if not layers:
        return None
    rel = path.lstrip('/')
    for layer in [layers.get('upper')] + list(layers.get('lower') or []):
        if not layer:
            continue
        candidate = os.path.join(layer, rel)
        try:
            st = os.lstat(candidate)
        except OSError:
            # a whiteout or an opaque dir on the way hides lower layers
            if _hidden_below(layer, rel):
                return None
            continue
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            return None
        return candidate
    return None


def _hidden_below(layer, rel):
    parts = rel.split('/')
    current = layer
    for part in parts[:-1]:
        current = os.path.join(current, part)
        try:
            st = os.lstat(current)
        except OSError:
            return False
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            return True
        try:
            if os.getxattr(current, 'trusted.overlay.opaque') == b'y':
                return True
        except (OSError, AttributeError):
            pass
    try:
        st = os.lstat(os.path.join(layer, rel))
        return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
    except OSError:
        return False


# ---------------------------------------------------------------- version without running anything

def elf_rodata(handle):
    """``(offset, size)`` of the ``.rodata`` section of the ELF file open in *handle*, or
    None (not ELF, no such section, truncated). Compiled-in strings such as the version
    live there: a 22 MB v2.10.4 daemon has 0.8 MB of it."""
    try:
        handle.seek(0)
        ident = handle.read(64)
        if len(ident) < 52 or ident[:4] != b'\x7fELF' or ident[4] not in (1, 2) or ident[5] not in (1, 2):
            return None
        end = '<' if ident[5] == 1 else '>'
        if ident[4] == 2:
            shoff, = struct.unpack(end + 'Q', ident[40:48])
            shentsize, shnum, shstrndx = struct.unpack(end + 'HHH', ident[58:64])
            fmt, name_at, off_at, size_at = end + 'IIQQQQIIQQ', 0, 4, 5
        else:
            shoff, = struct.unpack(end + 'I', ident[32:36])
            shentsize, shnum, shstrndx = struct.unpack(end + 'HHH', ident[46:52])
            fmt, name_at, off_at, size_at = end + 'IIIIIIIIII', 0, 4, 5
        if not shoff or shnum == 0 or shnum > 4096 or shstrndx >= shnum or shentsize < struct.calcsize(fmt):
            return None
        handle.seek(shoff)
        table = handle.read(shentsize * shnum)
        if len(table) < shentsize * shnum:
            return None
        sections = [struct.unpack(fmt, table[i * shentsize:i * shentsize + struct.calcsize(fmt)])
                    for i in range(shnum)]
        strtab = sections[shstrndx]
        handle.seek(strtab[off_at])
        names = handle.read(min(strtab[size_at], 1024 * 1024))
        for section in sections:
            start = section[name_at]
            if names[start:start + 8] == b'.rodata\0':
                return section[off_at], section[size_at]
    except (OSError, IOError, struct.error, ValueError):
        return None
    return None


def versions_in_binary(path, max_bytes=MAX_BINARY_BYTES):
    """``(candidates, error)``: :func:`versions_in_binary_data` over the file at *path*
    (``/proc/PID/exe`` opens the very binary a daemon runs): its ELF ``.rodata`` section
    when it has one, else the whole file, read in chunks."""
    found = []
    try:
        with open(path, 'rb') as handle:
            section = elf_rodata(handle)
            if section is not None:
                handle.seek(section[0])
                # the NUL before a string at the section's start is the previous section's
                max_bytes = min(max_bytes, section[1] + 1)
                handle.seek(max(section[0] - 1, 0))
            else:
                handle.seek(0)
            tail = b''
            total = 0
            while total < max_bytes:
                chunk = handle.read(min(_CHUNK, max_bytes - total))
                if not chunk:
                    break
                total += len(chunk)
                data = tail + chunk
                for value in versions_in_binary_data(data):
                    if value not in found:
                        found.append(value)
                tail = data[-_OVERLAP:]
    except (OSError, IOError) as exc:
        return [], 'cannot read %s: %s' % (path, exc.strerror or exc)
    return found, None


def image_version(view_root=None, binary_host_path=None, labels=None, host_files=None):
    """The agent's version from the image's files, nothing run: ``(version 'X.Y.Z' or
    None, source, shown string, errors)``; *source* ``binary``, ``dpkg``, ``apk``,
    ``label`` or None.

    *binary_host_path*: the daemon binary as a host path (``/proc/PID/exe``, or a
    stopped container's layer). *view_root*: where the package databases are read;
    *host_files* (stopped containers) maps a container path to a host path instead.
    """
    errors = []
    if binary_host_path:
        candidates, err = versions_in_binary(binary_host_path)
        value, why = pick_binary_version(candidates) if err is None else (None, err)
        if value is not None and parse_version(value) is not None:
            return format_version(parse_version(value)), 'binary', 'v' + value, errors
        errors.append('version from the binary: %s' % why)
    for path, parser, source in (('/var/lib/dpkg/status', parse_dpkg_status, 'dpkg'),
                                 ('/lib/apk/db/installed', parse_apk_installed, 'apk')):
        if host_files is not None:
            host = host_files(path)
            text, err = (read_host_text('/', host, max_bytes=16 * 1024 * 1024) if host else (None, None))
        elif view_root:
            text, err = read_host_text(view_root, path, max_bytes=16 * 1024 * 1024)
        else:
            text, err = None, None
        value = parser(text) if text else None
        if value and parse_version(value) is not None:
            return format_version(parse_version(value)), source, value, errors
    label = (labels or {}).get('org.opencontainers.image.version')
    if isinstance(label, str) and parse_version(label) is not None:
        return format_version(parse_version(label)), 'label', label, errors
    return None, None, None, errors


# ---------------------------------------------------------------- the runtime's CLI

def runtime_listing(runtime, cli, run_command, keep=None):
    """Ask one runtime for its containers: ``{'cli', 'containers': [normalized], 'errors'}``.

    ``ps -a -q --no-trunc`` then one ``container inspect`` of them all (running and
    stopped), each call within ``CLI_TIMEOUT``; *keep(container)* says which to keep
    (default: all). A runtime that does not answer (daemon down, no permission) is an
    error string, and ``/proc`` alone decides.
    """
    result = {'cli': cli, 'containers': [], 'errors': []}
    rc, out, err = run_command([cli, 'ps', '-a', '-q', '--no-trunc'])
    if rc != 0:
        result['errors'].append('%s ps -a: %s' % (runtime, _first_line(err) or 'exit status %s' % rc))
        return result
    ids = parse_ps_ids(out)
    if not ids:
        return result
    if len(ids) > MAX_INSPECT:
        result['errors'].append('%s: %d containers, only the first %d inspected' % (runtime, len(ids), MAX_INSPECT))
        ids = ids[:MAX_INSPECT]
    rc, out, err = run_command([cli, 'container', 'inspect'] + ids)
    if rc != 0:
        # A container removed between ps and inspect fails the call (docker 1, podman
        # 125) but the others are still printed: keep them, note the error.
        result['errors'].append('%s container inspect: %s' % (runtime, _first_line(err) or 'exit status %s' % rc))
        if not (out or '').strip():
            return result
    containers, perr = parse_inspect_output(out, runtime)
    if perr:
        result['errors'].append(perr)
    result['containers'] = [c for c in containers if keep is None or keep(c)]
    return result


def _first_line(text):
    for line in (text or '').splitlines():
        if line.strip():
            return line.strip()
    return ''


# ---------------------------------------------------------------- collector

def _read_text(path, max_bytes=1024 * 1024):
    try:
        with open(path, 'rb') as handle:
            return handle.read(max_bytes).decode('utf-8', 'replace'), None
    except (OSError, IOError) as exc:
        return None, exc.strerror or str(exc)


def container_of_daemon(root, daemon):
    """What ``/proc`` says of the container a (foreign) daemon runs in::

        {'runtime', 'id', 'host_pid', 'view_root', 'mounts' (parsed mountinfo) or None,
         'errors'}
    """
    pid = daemon['pid']
    base = _host(root, '/proc/%d' % pid)
    info = {'runtime': 'unknown', 'id': None, 'host_pid': pid, 'view_root': base + '/root',
            'mounts': None, 'errors': []}
    text, err = _read_text(base + '/cgroup')
    if text is None:
        info['errors'].append('pid %d: cannot read its cgroup: %s' % (pid, err))
    else:
        runtime, cid = parse_cgroup_container(text)
        if runtime:
            info['runtime'], info['id'] = runtime, cid
        else:
            info['errors'].append('pid %d: its root is not ours but its cgroup names no container '
                                  'runtime (a chroot, LXC, or a runtime not known here)' % pid)
    text, err = _read_text(base + '/mountinfo', 4 * 1024 * 1024)
    if text is None:
        info['errors'].append('pid %d: cannot read its mountinfo: %s' % (pid, err))
    else:
        info['mounts'] = parse_mountinfo(text)
    return info


def discover_containers(root='/', daemons=(), run_command=None, use_cli=True):
    """Every Netdata container of the host: one entry per container (or per foreign
    daemon whose container cannot be named). Never raises.

    Returns ``{'containers': [entry], 'errors': [str]}``; an entry is::

        {'runtime', 'id', 'name', 'image', 'status', 'running', 'host_pid',
         'daemon': the daemons.py record or None, 'view_root': host path or None,
         'mounts': parsed mountinfo or None, 'inspect': normalized inspect or None,
         'cli': path or None, 'errors': [str]}
    """
    result = {'containers': [], 'errors': []}
    entries = []
    by_id = {}
    for daemon in daemons or ():
        if not daemon.get('foreign'):
            continue
        info = container_of_daemon(root, daemon)
        entry = {'runtime': info['runtime'], 'id': info['id'], 'name': None, 'image': None,
                 'status': 'running', 'running': True, 'host_pid': daemon['pid'], 'daemon': daemon,
                 'view_root': info['view_root'], 'mounts': info['mounts'], 'inspect': None,
                 'cli': None, 'errors': list(info['errors'])}
        if info['id'] and info['id'] in by_id:
            continue  # a second daemon in the same container: the first defines the install
        entries.append(entry)
        if info['id']:
            by_id[info['id']] = entry
    if use_cli and run_command is not None:
        seen = set(e['runtime'] for e in entries)
        for runtime in CLI_RUNTIMES:
            cli = find_cli(runtime, root)
            if cli is None or not (runtime in seen or runtime_in_use(runtime, root)):
                continue
            want = set(e['id'] for e in entries if e['runtime'] == runtime)

            def keep(container):
                return container['id'] in want or looks_like_netdata(container) \
                    or has_netdata_binary(root, container)
            try:
                listing = runtime_listing(runtime, cli, run_command, keep=keep)
            except Exception as exc:  # a collector never raises
                result['errors'].append('%s: unexpected %s: %s' % (runtime, type(exc).__name__, exc))
                continue
            result['errors'].extend(listing['errors'])
            for container in listing['containers']:
                entry = by_id.get(container['id'])
                if entry is not None and entry['runtime'] != runtime:
                    continue
                if entry is None:
                    entry = {'runtime': runtime, 'id': container['id'], 'name': None, 'image': None,
                             'status': None, 'running': False, 'host_pid': None, 'daemon': None,
                             'view_root': None, 'mounts': None, 'inspect': None, 'cli': None,
                             'errors': []}
                    if container['running'] and container['pid']:
                        # running, but no Netdata daemon (yet): its files through its init
                        entry['host_pid'] = container['pid']
                        entry['view_root'] = _host(root, '/proc/%d/root' % container['pid'])
                        text, err = _read_text(_host(root, '/proc/%d/mountinfo' % container['pid']), 4 * 1024 * 1024)
                        entry['mounts'] = parse_mountinfo(text) if text is not None else None
                    entries.append(entry)
                    by_id[container['id']] = entry
                entry['inspect'] = container
                entry['cli'] = cli
                entry['name'] = container['name']
                entry['image'] = container['image']
                entry['status'] = container['status'] or entry['status']
                if entry['daemon'] is None:
                    entry['running'] = container['running']
    result['containers'] = entries
    return result


# ---------------------------------------------------------------- the agent's own answer

CLONE_NEWNET = 0x40000000


def query_hello_in_netns(netns_path, address, port, timeout=1.0, query=None):
    """``registry?action=hello`` asked from inside the container's network namespace
    (*netns_path*: ``/proc/PID/ns/net``), where the agent listens on its own loopback
    whatever network the runtime gave it (``--network none`` included). A forked child
    enters the namespace (``setns(2)`` through libc) and asks; this process never
    changes namespace. Same result shape as ``registry_hello.query_registry_hello``
    (*query*, any function of ``(address, port, timeout)`` returning a JSON-able dict
    with an ``error`` key, asks something else); never raises."""
    if query is None:
        from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.registry_hello import (
            query_registry_hello as query)
    failed = {'url': None, 'status': None, 'anonymous_statistics': None, 'value': None, 'error': None}
    try:
        fd = os.open(netns_path, os.O_RDONLY)
    except OSError as exc:
        failed['error'] = 'cannot open %s: %s' % (netns_path, exc.strerror or exc)
        return failed
    try:
        read_end, write_end = os.pipe()
        try:
            child = os.fork()
        except OSError as exc:
            os.close(read_end)
            os.close(write_end)
            failed['error'] = 'cannot fork to enter the container network: %s' % (exc.strerror or exc)
            return failed
        if child == 0:  # pragma: no cover - runs in the child
            code = 0
            try:
                os.close(read_end)
                answer = _hello_in_child(fd, address, port, timeout, query)
                data = json.dumps(answer).encode('utf-8')
                while data:
                    data = data[os.write(write_end, data):]
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        chunks = []
        try:
            while True:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(read_end)
            os.waitpid(child, 0)
    finally:
        os.close(fd)
    try:
        answer = json.loads(b''.join(chunks).decode('utf-8'))
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        failed['error'] = 'no answer from the query inside the container network'
        return failed
    return answer


def _setns(fd):
    """Enter the network namespace open at *fd*: ``os.setns`` (Python 3.12+), else libc's
    ``setns(2)`` through ctypes (the interpreter itself links libc). None, or an error."""
    if hasattr(os, 'setns'):
        try:
            os.setns(fd, CLONE_NEWNET)
            return None
        except OSError as exc:
            return exc.strerror or str(exc)
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        setns = libc.setns
    except (OSError, AttributeError) as exc:
        return 'no setns in libc: %s' % exc
    if setns(fd, CLONE_NEWNET) != 0:
        return os.strerror(ctypes.get_errno())
    return None


def _hello_in_child(fd, address, port, timeout, query):  # pragma: no cover - runs in the child
    error = _setns(fd)
    if error is not None:
        return {'url': None, 'status': None, 'anonymous_statistics': None, 'value': None,
                'error': 'cannot enter the container network (setns): %s' % error}
    # An address the agent binds to all of ("*", 0.0.0.0) is asked on its loopback.
    if address in (None, '', '*', '0.0.0.0', '::', '[::]'):
        address = '127.0.0.1'
    return query(address, port, timeout)
