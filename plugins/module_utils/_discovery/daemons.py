# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running Netdata daemons, from one pass over ``/proc``.

A daemon is a process whose ``comm`` is ``netdata`` and whose parent is not also
``netdata`` (the daemon forks a spawn server that carries the same name). Each is
mapped to an install prefix through its executable (``/usr/sbin/netdata`` -> ``/``,
``/opt/netdata/usr/sbin/netdata`` -> ``/opt/netdata``). Its environment is what
the statistics script and the analytics flag actually see; its start time lets the
decision tell whether the opt-out file or a config change came after the start.

A daemon in another mount namespace is not for that alone someone else's: systemd runs
Netdata's own units (``ProtectSystem=``, ``PrivateTmp=``, ``ProtectHome=``) in a mount
namespace of their own, over the host's root. What the kernel says decides, as it does
for ``/proc/PID/root``: a daemon whose root directory is the same directory as ours
(same device and inode) reads the host's files and is the host's agent (``sandboxed``
when its mount namespace differs); one whose root is another directory (a container's
image) is ``foreign``: never matched to a host install, it defines a container install of
its own (``container_installs.py``); one whose root cannot be compared stays ``foreign``
with an error, never silently the host's.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
import time
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path as _host
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import TELEMETRY_VARS

_DELETED = ' (deleted)'


# ---------------------------------------------------------------- parsers (pure)

def parse_environ(data, names=None):
    """``/proc/PID/environ`` bytes (NUL-separated) -> dict; only *names* when given.

    A duplicated name keeps its first value, which is what ``getenv()`` returns.
    """
    if isinstance(data, bytes):
        data = data.decode('utf-8', 'replace')
    environment = {}
    for item in (data or '').split('\0'):
        if '=' not in item:
            continue
        name, value = item.split('=', 1)
        if not name or (names is not None and name not in names):
            continue
        environment.setdefault(name, value)
    return environment


def parse_stat(text):
    """``/proc/PID/stat`` -> ``{'comm', 'state', 'ppid', 'starttime'}`` (ticks) or None.

    The command name sits in parentheses and may itself hold spaces or ``)``, so the
    fields are counted from the last ``)``.
    """
    if not text:
        return None
    open_at = text.find('(')
    close_at = text.rfind(')')
    if open_at < 0 or close_at < open_at:
        return None
    rest = text[close_at + 1:].split()
    # rest[0] is field 3 (state); field N is rest[N - 3].
    if len(rest) < 20:
        return None
    try:
        return {
            'comm': text[open_at + 1:close_at],
            'state': rest[0],
            'ppid': int(rest[1]),
            'starttime': int(rest[19]),
        }
    except ValueError:
        return None


def parse_btime(text):
    """``btime`` (boot time, epoch seconds) from ``/proc/stat`` text, or None."""
    for line in (text or '').splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == 'btime':
            try:
                return int(parts[1])
            except ValueError:
                return None
    return None


def clock_boot_time():
    """``(boot, window)`` from this machine's clocks, or None where they are missing.

    /proc/PID/stat's starttime counts CLOCK_BOOTTIME since boot, so the wall clock now
    minus CLOCK_BOOTTIME now is the boot time it adds to, to the microsecond. /proc/stat's
    btime is the same instant truncated to whole seconds: a daemon started less than a
    second after a file changed could not be ordered against that change with it. The
    window is how far the two reads lie apart (the boot time is known within it).
    """
    gettime = getattr(time, 'clock_gettime', None)
    boottime = getattr(time, 'CLOCK_BOOTTIME', None)
    if gettime is None or boottime is None:
        return None
    try:
        before = gettime(boottime)
        wall = time.time()
        after = gettime(boottime)
    except (OSError, ValueError):
        return None
    return wall - after, after - before


def start_time(boot, boot_window, starttime, clk_tck):
    """``(started_at, window)``: the earliest epoch time the process can have started at,
    and the span after it within which it did (starttime is truncated to whole clock
    ticks, and the boot time is known within *boot_window*)."""
    return boot + starttime / float(clk_tck), boot_window + 1.0 / clk_tck


def parse_daemon_args(argv):
    """The daemon's command line -> overrides of netdata.conf that matter to the live query.

    ``{'port': int or None, 'bind_to': str or None, 'config_file': str or None}`` from
    ``-p PORT``, ``-i IP``, ``-c FILE`` and ``-W set web "default port"|"bind to" VALUE``
    (Netdata's getopt; ``-pN`` glued forms too). The last occurrence wins.
    """
    found = {'port': None, 'bind_to': None, 'config_file': None}
    args = list(argv or [])[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        for flag, key in (('-p', 'port'), ('-i', 'bind_to'), ('-c', 'config_file')):
            if arg == flag and i + 1 < len(args):
                found[key] = args[i + 1]
                i += 1
                break
            if arg.startswith(flag) and len(arg) > 2 and not arg.startswith('--'):
                found[key] = arg[2:]
                break
        else:
            if arg == '-W' and i + 4 < len(args) and args[i + 1] == 'set' and args[i + 2] == 'web':
                if args[i + 3] == 'default port':
                    found['port'] = args[i + 4]
                elif args[i + 3] == 'bind to':
                    found['bind_to'] = args[i + 4]
                i += 4
        i += 1
    if found['port'] is not None:
        try:
            port = int(found['port'])
            found['port'] = port if 0 < port < 65536 else None
        except ValueError:
            found['port'] = None
    return found


def parse_cgroup_unit(text):
    """``/proc/PID/cgroup`` text -> the systemd service that holds the process, or None.

    From the unified line (``0::/system.slice/netdata.service``) or, on a v1/hybrid host,
    the ``name=systemd`` one; the innermost ``*.service`` component wins (a service's
    own sub-cgroups, like ``/system.slice/netdata.service/init``, still name it).
    """
    lines = (text or '').splitlines()
    for wanted in ('0:', 'name=systemd'):
        for line in lines:
            parts = line.split(':', 2)
            if len(parts) != 3:
                continue
            if not (line.startswith(wanted) if wanted == '0:' else parts[1] == wanted):
                continue
            units = [c for c in parts[2].split('/') if c.endswith('.service')]
            if units:
                return units[-1]
    return None


def prefix_from_exe(exe):
    """Install prefix from the daemon's executable path, or None when it does not look like one.

    ``/usr/sbin/netdata`` -> ``/``; ``/opt/netdata/usr/sbin/netdata`` -> ``/opt/netdata``;
    ``/usr/local/sbin/netdata`` -> ``/usr/local``; ``<p>/bin/netdata`` -> ``<p>``.
    """
    if not exe:
        return None
    if exe.endswith(_DELETED):  # upgraded under a running daemon
        exe = exe[:-len(_DELETED)]
    exe = os.path.normpath(exe)
    for tail in ('/usr/sbin/netdata', '/usr/bin/netdata', '/sbin/netdata', '/bin/netdata'):
        if exe.endswith(tail):
            return exe[:-len(tail)] or '/'
    return None


# ---------------------------------------------------------------- collector

def find_netdata_daemons(root='/', names=TELEMETRY_VARS, clk_tck=None):
    """Scan ``<root>/proc`` once. Never raises.

    Returns ``{'daemons': [daemon, ...], 'errors': [str]}``; each daemon is
    ``{'pid': int, 'ppid': int, 'exe': str or None, 'prefix': str or None,
    'environment': dict or None (only *names*; None when unreadable),
    'started_at': float epoch seconds or None (the earliest the process can have
    started at), 'started_within': seconds after it within which it did, or None,
    'foreign': bool, 'sandboxed': bool,
    'cgroup_unit': str or None (the systemd service holding it),
    'args': parse_daemon_args() of its command line, 'errors': [str]}``.
    """
    proc = _host(root, '/proc')
    result = {'daemons': [], 'errors': []}
    try:
        entries = os.listdir(proc)
    except OSError as exc:
        result['errors'].append('/proc: cannot list: %s' % (exc.strerror or exc))
        return result
    names = None if names is None else tuple(names)
    if clk_tck is None:
        try:
            clk_tck = os.sysconf('SC_CLK_TCK')
        except (ValueError, OSError, AttributeError):
            clk_tck = 100
    # The live /proc counts from this machine's boot: its clocks date that boot finely.
    # Any other (a test's) has only its own stat's btime, whole seconds.
    boot = clock_boot_time() if os.path.realpath(proc) == '/proc' else None
    if boot is None:
        btext, err = _read(os.path.join(proc, 'stat'))
        btime = parse_btime(btext.decode('utf-8', 'replace')) if btext is not None else None
        boot = None if btime is None else (btime, 1.0)
    own_mnt = _readlink(os.path.join(proc, 'self', 'ns', 'mnt'))
    own_root = _dir_identity(os.path.join(proc, 'self', 'root'))

    stats = {}
    for entry in entries:
        if not entry.isdigit():
            continue
        comm, _err = _read(os.path.join(proc, entry, 'comm'))
        if comm is None or comm.decode('utf-8', 'replace').strip() != 'netdata':
            continue
        text, err = _read(os.path.join(proc, entry, 'stat'))
        parsed = parse_stat(text.decode('utf-8', 'replace')) if text is not None else None
        stats[int(entry)] = parsed
    for pid in sorted(stats):
        parsed = stats[pid]
        ppid = parsed['ppid'] if parsed else None
        if ppid in stats:
            continue  # the spawn server (or another child) of a netdata daemon
        if ppid is not None and ppid not in stats:
            parent_comm, _err = _read(os.path.join(proc, str(ppid), 'comm'))
            if parent_comm is not None and parent_comm.decode('utf-8', 'replace').strip() == 'netdata':
                continue
        result['daemons'].append(_describe(proc, pid, parsed, names, boot, clk_tck, own_mnt, own_root))
    return result


def _describe(proc, pid, parsed, names, boot, clk_tck, own_mnt, own_root):
    base = os.path.join(proc, str(pid))
    daemon = {
        'pid': pid,
        'ppid': parsed['ppid'] if parsed else None,
        'exe': None,
        'prefix': None,
        'environment': None,
        'started_at': None,
        'started_within': None,
        'foreign': False,
        'sandboxed': False,
        'cgroup_unit': None,
        'args': parse_daemon_args([]),
        'errors': [],
    }
    cmdline, _err = _read(os.path.join(base, 'cmdline'))
    argv = [a.decode('utf-8', 'replace') for a in (cmdline or b'').split(b'\0')]
    if argv and argv[-1] == '':
        argv.pop()
    daemon['args'] = parse_daemon_args(argv)
    exe = _readlink(os.path.join(base, 'exe'))
    if exe is None and argv and argv[0].startswith('/'):
        # Without ptrace rights exe is unreadable; argv[0] is the next best hint.
        exe = argv[0]
    if exe is None:
        daemon['errors'].append('pid %d: cannot tell its executable' % pid)
    daemon['exe'] = exe
    daemon['prefix'] = prefix_from_exe(exe)
    mnt = _readlink(os.path.join(base, 'ns', 'mnt'))
    if own_mnt and mnt and mnt != own_mnt:
        root = _dir_identity(os.path.join(base, 'root'))
        if root is not None and root == own_root:
            daemon['sandboxed'] = True
        else:
            daemon['foreign'] = True
            if root is None or own_root is None:
                daemon['errors'].append('pid %d: in another mount namespace and its root directory '
                                        'cannot be compared with ours; not counted as this host\'s agent'
                                        % pid)
    cgroup, _err = _read(os.path.join(base, 'cgroup'))
    daemon['cgroup_unit'] = parse_cgroup_unit(cgroup.decode('utf-8', 'replace')) if cgroup else None
    data, err = _read(os.path.join(base, 'environ'))
    if data is None:
        daemon['errors'].append('pid %d: cannot read its environment: %s' % (pid, err))
    else:
        daemon['environment'] = parse_environ(data, names)
    if parsed is None:
        daemon['errors'].append('pid %d: cannot parse /proc/%d/stat' % (pid, pid))
    elif boot is None:
        daemon['errors'].append('pid %d: no btime in /proc/stat, start time unknown' % pid)
    elif clk_tck:
        daemon['started_at'], daemon['started_within'] = start_time(
            boot[0], boot[1], parsed['starttime'], clk_tck)
    return daemon


def daemon_for_prefix(daemons, prefix):
    """The first non-foreign daemon whose executable belongs to *prefix*, or None."""
    if prefix is None:
        return None
    want = os.path.normpath(prefix)
    for daemon in daemons:
        if daemon.get('foreign'):
            continue
        have = daemon.get('prefix')
        if have is not None and os.path.normpath(have) == want:
            return daemon
    return None


def _dir_identity(path):
    """(device, inode) of the directory *path* resolves to (``/proc/PID/root`` follows the
    process's root, even across mount namespaces), or None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _readlink(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def _read(path, max_bytes=1024 * 1024):
    """(bytes, None) or (None, error); /proc files are 'regular' with size 0, FIFOs refused."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return None, 'not a regular file'
        with open(path, 'rb') as handle:
            return handle.read(max_bytes), None
    except (OSError, IOError) as exc:
        return None, exc.strerror or str(exc)
