# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask the real systemd how it reads unit files, drop-ins and environment files.

The judge is systemd's own service manager run as a *user* manager (``systemd --user``)
in a private mount and network namespace: the same unit-file parser (``config_parse``),
``Environment=``/``EnvironmentFile=``/``UnsetEnvironment=`` handling and environment-file
reader (``load_env_file``) as the system manager, without becoming PID 1. It only loads
units from a scratch directory (``SYSTEMD_UNIT_PATH``) and runs ``/usr/bin/env -0`` for
each case, so the environment a service really gets is what is compared.

A case is a dict: ``id``; ``unit`` (bytes appended to a header that makes the unit a
oneshot running ``env -0``), ``dropins`` ``{name: bytes}``, ``envfiles`` ``{name: bytes}``
(unit text refers to their directory as ``@ENV@``). :func:`materialize` writes a case for
the collector (under a fake root); :class:`SystemdJudge` runs cases for real.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ctypes
import os
import shutil
import signal
import subprocess
import time

SYSTEMD = '/usr/lib/systemd/systemd'
SYSTEMCTL = '/usr/bin/systemctl'
ENV = '/usr/bin/env'
HEADER = (b'[Unit]\nDefaultDependencies=no\n[Service]\nType=oneshot\n'
          b'ExecStart=' + ENV.encode() + b' -0\nStandardOutput=truncate:@OUT@\n')


def unit_name(case):
    return 'case-%s.service' % case['id']


def render(data, envdir, out=b'/dev/null'):
    return data.replace(b'@ENV@', envdir.encode()).replace(b'@OUT@', out)


def materialize(case, root, unit_dir='/lib/systemd/system', envdir='/judge-env'):
    """Write *case* under *root* the way the collector looks for it; returns the unit name."""
    name = unit_name(case)
    envdir = '%s/%s' % (envdir, case['id'])
    base = os.path.join(root, unit_dir.lstrip('/'))
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, name), 'wb') as handle:
        handle.write(render(HEADER + case.get('unit', b''), envdir))
    if case.get('dropins'):
        os.makedirs(os.path.join(base, name + '.d'), exist_ok=True)
        for dname, data in case['dropins'].items():
            with open(os.path.join(base, name + '.d', dname), 'wb') as handle:
                handle.write(render(data, envdir))
    if case.get('envfiles'):
        os.makedirs(os.path.join(root, envdir.lstrip('/')), exist_ok=True)
        for fname, data in case['envfiles'].items():
            with open(os.path.join(root, envdir.lstrip('/'), fname), 'wb') as handle:
                handle.write(data)
    return name


def _run(cmd, env=None, timeout=20):
    return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          check=False)


def unavailable():
    """Why the judge cannot run here, or None."""
    for path in (SYSTEMD, SYSTEMCTL, ENV):
        if not os.access(path, os.X_OK):
            return '%s is not installed' % path
    if shutil.which('unshare') is None:
        return 'unshare (util-linux) is not installed'
    try:
        version = _run([SYSTEMD, '--version']).stdout.decode('utf-8', 'replace').split()
    except (OSError, subprocess.SubprocessError) as exc:
        return 'cannot run %s: %s' % (SYSTEMD, exc)
    if version[:2] != ['systemd', '252']:
        return 'the expectations were measured with systemd 252; this is %s' % ' '.join(version[:3])
    probe = _run(['unshare', '--net', '--mount', '--fork', 'true'])
    if probe.returncode != 0:
        return 'cannot make a private mount+net namespace (unshare: %s)' % probe.stderr.decode('utf-8', 'replace').strip()
    return None


class SystemdJudge(object):
    """A ``systemd --user`` manager over a scratch unit directory."""

    def __init__(self, workdir):
        self.work = str(workdir)
        self.units = os.path.join(self.work, 'units')
        self.runtime = os.path.join(self.work, 'run')
        self.home = os.path.join(self.work, 'home')
        self.out = os.path.join(self.work, 'out')
        self.envroot = os.path.join(self.work, 'env')
        for path in (self.units, self.runtime, self.home, self.out, self.envroot):
            os.makedirs(path, exist_ok=True)
        os.chmod(self.runtime, 0o700)
        # The manager starts default.target; an empty one keeps it from falling back to
        # rescue.target and giving up.
        with open(os.path.join(self.units, 'default.target'), 'wb') as handle:
            handle.write(b'[Unit]\nDescription=judge\n')
        self.proc = None
        self.log = os.path.join(self.work, 'manager.log')

    def _ctl(self, *args):
        env = {'PATH': '/usr/bin:/bin', 'XDG_RUNTIME_DIR': self.runtime, 'HOME': self.home}
        argv = [SYSTEMCTL, '--user', '--no-ask-password'] + list(args)
        # systemctl talks to the manager from inside its PID namespace: across namespaces
        # the manager cannot map the peer's credentials and drops the connection.
        init = self._namespace_init()
        if init is None:
            return subprocess.CompletedProcess(argv, 1, b'', b'judge: no manager namespace yet')
        return _run(['nsenter', '-t', str(init), '-p', '-m', '-C', '--'] + argv, env=env)

    def _namespace_init(self):
        """The host pid of PID 1 in the judge's PID namespace (unshare's child)."""
        if self.proc is None:
            return None
        try:
            with open('/proc/%d/task/%d/children' % (self.proc.pid, self.proc.pid)) as handle:
                children = handle.read().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def add(self, case):
        name = unit_name(case)
        envdir = os.path.join(self.envroot, case['id'])
        out = os.path.join(self.out, case['id'] + '.env').encode()
        with open(os.path.join(self.units, name), 'wb') as handle:
            handle.write(render(HEADER + case.get('unit', b''), envdir, out))
        if case.get('dropins'):
            os.makedirs(os.path.join(self.units, name + '.d'), exist_ok=True)
            for dname, data in case['dropins'].items():
                with open(os.path.join(self.units, name + '.d', dname), 'wb') as handle:
                    handle.write(render(data, envdir, out))
        os.makedirs(envdir, exist_ok=True)
        for fname, data in (case.get('envfiles') or {}).items():
            with open(os.path.join(envdir, fname), 'wb') as handle:
                handle.write(data)

    def start(self):
        # systemd --user refuses to run unless the machine was booted with systemd: give it
        # a private /run with /run/systemd/system in its own mount namespace. No network.
        # A manager running as root takes the cgroup it finds itself in as its own and
        # moves every process of it into init.scope -- with the machine's cgroup tree in
        # view, PID 1 and everything else. So it gets a cgroup of its own (made here and
        # removed by stop()), a cgroup namespace rooted there with the cgroup file systems
        # mounted afresh inside it, and its own PID namespace (it reads /proc/1).
        _reap_stale_cgroups()
        self.cgroups = _make_cgroups('netdata-judge-%d-%d' % (os.getpid(), id(self)))
        script = ('for d in "$@"; do echo $$ > "$d/cgroup.procs"; done; '
                  'exec unshare --cgroup --net --mount --pid --fork --mount-proc --propagation private '
                  '--kill-child sh -c \'set -e; mount -t tmpfs tmpfs /run; mkdir -p /run/systemd/system; '
                  + _CGROUP_MOUNTS +
                  # not exec: this shell stays PID 1 of the namespace ("Can't run --user mode as PID 1")
                  'env -i HOME="$1" XDG_RUNTIME_DIR="$2" SYSTEMD_UNIT_PATH="$3" PATH=/usr/bin:/bin '
                  '"$4" --user\' sh "$JUDGE_HOME" "$JUDGE_RUNTIME" "$JUDGE_UNITS" "$JUDGE_SYSTEMD"')
        env = {'PATH': '/usr/bin:/bin:/usr/sbin:/sbin', 'JUDGE_HOME': self.home, 'JUDGE_RUNTIME': self.runtime,
               'JUDGE_UNITS': self.units, 'JUDGE_SYSTEMD': SYSTEMD}
        with open(self.log, 'wb') as log:
            # runs until stop(): no "with"
            self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
                ['sh', '-c', script, 'sh'] + self.cgroups, env=env, preexec_fn=_die_with_parent,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError('systemd --user exited: %s' % self._log_tail())
            if self._ctl('show', '-p', 'Version').returncode == 0:
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError('systemd --user did not answer: %s' % self._log_tail())

    def _log_tail(self):
        try:
            with open(self.log, 'rb') as handle:
                return handle.read()[-2000:].decode('utf-8', 'replace')
        except OSError:
            return ''

    def run(self, case):
        """``{'load_state', 'started', 'environment'}`` of one case (added before start)."""
        name = unit_name(case)
        load = self._ctl('show', '-p', 'LoadState', '--value', name).stdout.decode().strip()
        started = self._ctl('start', name).returncode == 0
        environment = None
        path = os.path.join(self.out, case['id'] + '.env')
        if started and os.path.exists(path):
            with open(path, 'rb') as handle:
                environment = {}
                for item in handle.read().split(b'\0'):
                    if b'=' in item:
                        key, value = item.split(b'=', 1)
                        environment[key.decode('utf-8')] = value.decode('utf-8')
        return {'load_state': load, 'started': started, 'environment': environment}

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # unshare --kill-child takes the manager down with it
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        _remove_cgroups(getattr(self, 'cgroups', []))
        self.cgroups = []


# The machine's cgroup hierarchies the judge gets a cgroup in: the unified one (cgroup2,
# at /sys/fs/cgroup on a pure v2 machine or /sys/fs/cgroup/unified on a hybrid one) and
# systemd's named v1 hierarchy where there is one.
def _hierarchies():
    found = []
    try:
        with open('/proc/self/mounts') as handle:
            for line in handle:
                fields = line.split()
                if fields[2] == 'cgroup2' or (fields[2] == 'cgroup' and 'name=systemd' in fields[3].split(',')):
                    found.append(fields[1])
    except OSError:
        pass
    return found


# Inside the judge's cgroup namespace: fresh cgroup mounts, rooted at its own cgroup.
_CGROUP_MOUNTS = (
    'if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then mount -t cgroup2 none /sys/fs/cgroup; '
    'else mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup; mkdir /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; '
    'mount -t cgroup2 none /sys/fs/cgroup/unified; mount -t cgroup -o none,name=systemd none /sys/fs/cgroup/systemd; fi; ')


def _die_with_parent():
    # The judge must not outlive the process that started it: under ansible-test each test
    # runs in a forked child that exits without running fixture finalizers. unshare gets
    # SIGKILL with its parent, and --kill-child takes the manager's namespace with it.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _reap_stale_cgroups():
    """Remove the cgroups of judges whose starting process is gone (a killed run)."""
    for base in _hierarchies():
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            parts = name.split('-')
            if len(parts) == 4 and name.startswith('netdata-judge-') and parts[2].isdigit() \
                    and not os.path.exists('/proc/%s' % parts[2]):
                _remove_cgroups([os.path.join(base, name)])


def _make_cgroups(name):
    made = []
    for base in _hierarchies():
        path = os.path.join(base, name)
        os.makedirs(path, exist_ok=True)
        made.append(path)
    if not made:
        raise RuntimeError('no cgroup hierarchy to give the judge a cgroup of its own')
    return made


def _remove_cgroups(paths):
    """Kill what is left in the judge's cgroups, then remove them (deepest first)."""
    for path in paths:
        for _attempt in range(50):
            pids = []
            for dirpath, _dirs, files in os.walk(path):
                if 'cgroup.procs' in files:
                    try:
                        with open(os.path.join(dirpath, 'cgroup.procs')) as handle:
                            pids.extend(int(p) for p in handle.read().split())
                    except (OSError, ValueError):
                        pass
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            time.sleep(0.1)
        for dirpath, _dirs, _files in sorted(os.walk(path), key=lambda entry: -len(entry[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass
