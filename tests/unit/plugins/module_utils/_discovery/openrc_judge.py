# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask the real OpenRC which environment a service's command gets.

The judge is Debian 12's OpenRC 0.45.2 (packages ``openrc``, ``librc1``, ``libeinfo1``,
fetched with ``apt-get download`` and unpacked with ``dpkg -x`` into
``<repo>/.build/openrc-judge``, never installed). Each case runs in a throwaway
``unshare --mount --pid --net`` namespace: a tmpfs ``/run`` (OpenRC's state dir
``/run/openrc``, marked booted with ``softlevel``), the unpacked files laid over
``/usr/lib``, ``/usr/sbin``, ``/usr/bin`` and ``/etc`` by overlay mounts (writes land in
a tmpfs), an ``/etc/init.d`` holding only the case's service and a stub providing
``net``. Then ``rc-service netdata start`` runs, as the role's restart does: the real
``openrc-run`` filters the caller's environment, sources ``/etc/rc.conf``,
``/etc/rc.conf.d/*.conf`` and ``/etc/conf.d/netdata[.<runlevel>]``, then the init script,
and starts ``command`` with ``start-stop-daemon`` (Debian's, from dpkg; Alpine's is
OpenRC's own) or ``supervise-daemon``. The command is a stand-in that saves its own
``/proc/self/environ``, user and arguments: what the agent would get. Nothing touches the machine's own
``/run``, init or network.

The init script is the shape of Netdata's (``system/openrc/init.d/netdata.in`` at v2.10.4
and ``system/netdata-openrc.in`` at v1.37.1: ``command``, ``command_args="-P <pidfile>"``,
``command_args_foreground="-D"``, ``pidfile`` set in ``start_pre`` unless supervised);
neither sets any environment of its own, so the environment the judge sees is the one
Netdata's script gives.

A case: ``id``; ``files`` ``{absolute path: bytes}`` laid into the namespace (for
example ``/etc/conf.d/netdata``; ``/etc/rc.conf`` replaces Debian's); ``caller`` (the
environment ``rc-service`` is called with, added to a minimal PATH/TERM); ``runlevel``
(the ``softlevel``, ``default`` unless said).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import fcntl
import glob
import os
import shutil
import stat
import subprocess
import tempfile

# The unpacked packages live outside the collection's tree: ansible-test runs these tests
# in a copy of the collection and its sanity tests then read every file under it (OpenRC's
# own scripts and broken symlinks are not the collection's). One cache per user, shared by
# the checkout and the copies; OPENRC_JUDGE_DIR moves it.
CACHE = os.environ.get('OPENRC_JUDGE_DIR') or os.path.join(
    tempfile.gettempdir(), 'netdata-fleet-telemetry-openrc-judge-%d' % os.geteuid())
PACKAGES = ('openrc', 'librc1', 'libeinfo1')
VERSION = '0.45.2'

INIT_SCRIPT = b'''#!/sbin/openrc-run
# The judge's stand-in, shaped like Netdata's own (see openrc_judge.py)
pidfile_default="/run/netdata/netdata.pid"
command="/run/judge-bin/netdata"
command_args="-P ${pidfile_default}"
command_args_foreground="-D"
depend() {
    need net
}
start_pre() {
    checkpath -d /run/netdata
    if [ -z "${supervisor}" ]; then
        pidfile="${pidfile_default}"
    fi
}
'''
# Saves the environment, user and arguments it was started with, then stays up as a
# daemon would.
STAND_IN = b'''#!/bin/sh
id -un > /run/judge.user
for arg in "$@"; do printf '%s\\n' "$arg"; done > /run/judge.argv
cat /proc/$$/environ > /run/judge.env
case " $* " in *" -D "*) exec sleep 600 ;; esac
sleep 600 >/dev/null 2>&1 &
echo $! > "$2"
exit 0
'''
NET_STUB = b'#!/sbin/openrc-run\ndepend() {\n    provide net\n}\nstart() {\n    return 0\n}\n'

_INSIDE = r'''
set -e
R="$1"; CASE="$2"; RUNLEVEL="$3"
mount -t tmpfs tmpfs /run
mkdir -p /run/openrc /run/ov/etc-up /run/ov/etc-work /run/ov/initd /run/judge-bin
for d in starting started stopping inactive wasinactive failed hotplugged daemons options exclusive scheduled tmp; do
    mkdir -p /run/openrc/$d
done
echo "$RUNLEVEL" > /run/openrc/softlevel
mount -t overlay overlay -o lowerdir="$R/lib:/usr/lib" /usr/lib
mount -t overlay overlay -o lowerdir="$R/sbin:/usr/sbin" /usr/sbin
mount -t overlay overlay -o lowerdir="$R/bin:/usr/bin" /usr/bin
mount -t overlay overlay -o "lowerdir=$R/etc:/etc,upperdir=/run/ov/etc-up,workdir=/run/ov/etc-work" /etc
mount --bind /run/ov/initd /etc/init.d
mkdir -p /etc/conf.d
rm -rf /etc/rc.conf.d
touch /etc/insserv.conf
cp "$CASE/netstub" /etc/init.d/netstub
cp "$CASE/netdata.init" /etc/init.d/netdata
cp "$CASE/stand-in" /run/judge-bin/netdata
chmod 0755 /etc/init.d/netstub /etc/init.d/netdata /run/judge-bin/netdata
(cd "$CASE/files" && find . -type f) | while read -r f; do
    mkdir -p "$(dirname "/${f#./}")"
    cp "$CASE/files/$f" "/${f#./}"
done
env -i $(cat "$CASE/caller") rc-service netdata start >"$CASE/rc.out" 2>&1 || echo "rc-service failed" >>"$CASE/rc.out"
# supervise-daemon starts the command after rc-service returned
i=0
while [ ! -s /run/judge.env ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -f /run/judge.env ]; then cp /run/judge.env /run/judge.user /run/judge.argv "$CASE/"; fi
'''


def _run(cmd, timeout=60, env=None):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, check=False, env=env)


def openrc_root():
    """``(path, None)``: the unpacked packages, fetched once; or ``(None, why not)``.
    Test workers running in parallel (xdist, ansible-test units) take turns."""
    try:
        os.mkdir(CACHE, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(CACHE)
    # a shared temporary directory: use only a real directory of our own
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        return None, '%s is not a directory only this user may write; remove it' % CACHE
    with open(os.path.join(CACHE, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _openrc_root_locked()


def _openrc_root_locked():
    root = os.path.join(CACHE, 'root')
    if os.access(os.path.join(root, 'sbin', 'openrc-run'), os.X_OK) \
            and os.path.exists(os.path.join(root, 'lib', 'x86_64-linux-gnu', 'librc.so.1')):
        return root, None
    for tool in ('apt-get', 'dpkg'):
        if shutil.which(tool) is None:
            return None, '%s is not installed (Debian\'s OpenRC packages cannot be fetched)' % tool
    debs = os.path.join(CACHE, 'debs')
    os.makedirs(debs, exist_ok=True)
    if not glob.glob(os.path.join(debs, 'openrc_*.deb')):
        # apt-get download writes into its working directory; a fresh machine may have no
        # package lists yet (bootstrap updates them only when it installs something)
        fetched = None
        for attempt in ('download', 'update then download'):
            if attempt != 'download':
                _run(['apt-get', 'update', '-qq'], timeout=300)
            fetched = subprocess.run(['apt-get', 'download'] + list(PACKAGES), cwd=debs, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, timeout=300, check=False)
            if fetched.returncode == 0:
                break
        if fetched.returncode != 0:
            why = fetched.stderr.decode('utf-8', 'replace')[-300:]
            return None, 'apt-get download %s failed: %s' % (' '.join(PACKAGES), why)
    tmp = root + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    for deb in sorted(glob.glob(os.path.join(debs, '*.deb'))):
        unpacked = _run(['dpkg', '-x', deb, tmp])
        if unpacked.returncode != 0:
            return None, 'dpkg -x %s failed: %s' % (deb, unpacked.stderr.decode('utf-8', 'replace'))
    shutil.rmtree(root, ignore_errors=True)
    os.rename(tmp, root)
    return root, None


def unavailable():
    """Why the judge cannot run here, or None."""
    if os.geteuid() != 0:
        return 'the judge needs root (mount and pid namespaces, overlay mounts)'
    if shutil.which('unshare') is None:
        return 'unshare (util-linux) is not installed'
    if not os.access('/usr/sbin/start-stop-daemon', os.X_OK):
        return 'start-stop-daemon (dpkg) is not installed'
    if not os.path.islink('/lib') or not os.path.islink('/sbin'):
        return 'the judge lays OpenRC over a merged-/usr layout (/lib -> usr/lib); this machine is not one'
    root, why = openrc_root()
    if why:
        return why
    with open(os.path.join(root, 'lib', 'rc', 'version')) as handle:
        version = handle.read().strip()
    if VERSION not in version:
        return 'the expectations were measured with OpenRC %s; this is %s' % (VERSION, version)
    probe = _run(['unshare', '--net', '--mount', '--pid', '--fork', 'true'])
    if probe.returncode != 0:
        return 'cannot make a private namespace: %s' % probe.stderr.decode('utf-8', 'replace').strip()
    return None


def run_case(case, workdir):
    """The environment the real OpenRC started the case's command with (a dict), or None
    when it did not start it; ``(environment, rc-service output)``."""
    started = run_case_started(case, workdir)
    return started['environment'], started['output']


def run_case_started(case, workdir):
    """``{'environment', 'user', 'argv', 'output'}`` of the command the real OpenRC
    started for the case (the first three None when it did not start it)."""
    root, why = openrc_root()
    if why:
        raise RuntimeError(why)
    work = os.path.join(str(workdir), case['id'])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, 'files'))
    for name, data in (('netstub', NET_STUB), ('netdata.init', case.get('init_script', INIT_SCRIPT)),
                       ('stand-in', STAND_IN)):
        with open(os.path.join(work, name), 'wb') as handle:
            handle.write(data)
    for path, data in (case.get('files') or {}).items():
        target = os.path.join(work, 'files', path.lstrip('/'))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'wb') as handle:
            handle.write(data)
    caller = dict({'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'TERM': 'dumb'}, **(case.get('caller') or {}))
    with open(os.path.join(work, 'caller'), 'w') as handle:
        handle.write(' '.join('%s=%s' % item for item in sorted(caller.items())))
    result = _run(['unshare', '--mount', '--pid', '--net', '--fork', '--mount-proc', '--propagation', 'private',
                   '--kill-child', 'sh', '-c', _INSIDE, 'sh', root, work, case.get('runlevel', 'default')],
                  env={'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'})
    output = result.stdout.decode('utf-8', 'replace') + result.stderr.decode('utf-8', 'replace')
    try:
        with open(os.path.join(work, 'rc.out'), 'rb') as handle:
            output += handle.read().decode('utf-8', 'replace')
    except OSError:
        pass
    path = os.path.join(work, 'judge.env')
    if not os.path.exists(path):
        return {'environment': None, 'user': None, 'argv': None, 'output': output}
    with open(os.path.join(work, 'judge.user')) as handle:
        user = handle.read().strip()
    with open(os.path.join(work, 'judge.argv')) as handle:
        argv = handle.read().split('\n')[:-1]
    environment = {}
    with open(path, 'rb') as handle:
        for item in handle.read().split(b'\0'):
            if b'=' in item:
                key, value = item.split(b'=', 1)
                environment[key.decode('utf-8', 'replace')] = value.decode('utf-8', 'replace')
    return {'environment': environment, 'user': user, 'argv': argv, 'output': output}
