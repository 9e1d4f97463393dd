# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess
import time

import pytest


from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.daemons import (
    clock_boot_time, daemon_for_prefix, find_netdata_daemons, parse_btime, parse_daemon_args, parse_environ,
    parse_stat, parse_cgroup_unit, prefix_from_exe, start_time)


def stat_line(pid, comm, ppid, starttime):
    fields = ['S', str(ppid)] + ['0'] * 17 + [str(starttime)] + ['0'] * 10
    return '%d (%s) %s\n' % (pid, comm, ' '.join(fields))


def fake_proc(root, pid, comm='netdata', ppid=1, exe=None, environ=b'', starttime=1000, cmdline=None, mnt=None,
              root_dir=None, cgroup=None):
    base = os.path.join(str(root), 'proc', str(pid))
    os.makedirs(base)
    with open(os.path.join(base, 'comm'), 'w') as handle:
        handle.write(comm + '\n')
    with open(os.path.join(base, 'stat'), 'w') as handle:
        handle.write(stat_line(pid, comm, ppid, starttime))
    if exe:
        os.symlink(exe, os.path.join(base, 'exe'))
    if environ is not None:
        with open(os.path.join(base, 'environ'), 'wb') as handle:
            handle.write(environ)
    else:
        os.makedirs(os.path.join(base, 'environ'))  # unreadable as a file
    if cmdline is not None:
        with open(os.path.join(base, 'cmdline'), 'wb') as handle:
            handle.write(b'\0'.join(a.encode() for a in cmdline) + b'\0')
    if mnt:
        os.makedirs(os.path.join(base, 'ns'))
        os.symlink(mnt, os.path.join(base, 'ns', 'mnt'))
    if root_dir:
        os.symlink(str(root_dir), os.path.join(base, 'root'))
    if cgroup is not None:
        with open(os.path.join(base, 'cgroup'), 'w') as handle:
            handle.write(cgroup)


def proc_stat(root, btime=1700000000):
    os.makedirs(os.path.join(str(root), 'proc'), exist_ok=True)
    with open(os.path.join(str(root), 'proc', 'stat'), 'w') as handle:
        handle.write('cpu  1 2 3\nintr 0\nbtime %d\nprocesses 5\n' % btime)


def test_parse_environ():
    data = b'PATH=/bin\0DO_NOT_TRACK=1\0DO_NOT_TRACK=2\0junk\0=x\0EMPTY=\0'
    assert parse_environ(data) == {'PATH': '/bin', 'DO_NOT_TRACK': '1', 'EMPTY': ''}
    assert parse_environ(data, ('DO_NOT_TRACK', 'DISABLE_TELEMETRY')) == {'DO_NOT_TRACK': '1'}
    assert parse_environ(b'') == {}


def test_parse_stat_with_odd_comm():
    parsed = parse_stat(stat_line(42, 'a) (b c', 7, 12345))
    assert parsed == {'comm': 'a) (b c', 'state': 'S', 'ppid': 7, 'starttime': 12345}
    assert parse_stat('garbage') is None
    assert parse_stat('') is None


def test_parse_btime():
    assert parse_btime('cpu 1\nbtime 1700000000\n') == 1700000000
    assert parse_btime('nothing') is None


@pytest.mark.parametrize('exe, prefix', [
    ('/usr/sbin/netdata', '/'),
    ('/usr/sbin/netdata (deleted)', '/'),
    ('/opt/netdata/usr/sbin/netdata', '/opt/netdata'),
    ('/usr/local/sbin/netdata', '/usr/local'),
    ('/opt/netdata/bin/netdata', '/opt/netdata'),
    ('/usr/bin/python3', None),
    (None, None),
])
def test_prefix_from_exe(exe, prefix):
    assert prefix_from_exe(exe) == prefix


def test_parse_daemon_args():
    assert parse_daemon_args(['/usr/sbin/netdata', '-D', '-p', '19998']) == {
        'port': 19998, 'bind_to': None, 'config_file': None}
    assert parse_daemon_args(['netdata', '-p19997', '-i', '127.0.0.2', '-c', '/x/netdata.conf']) == {
        'port': 19997, 'bind_to': '127.0.0.2', 'config_file': '/x/netdata.conf'}
    assert parse_daemon_args(['netdata', '-W', 'set', 'web', 'default port', '2000'])['port'] == 2000
    assert parse_daemon_args(['netdata', '-p', 'x'])['port'] is None
    assert parse_daemon_args([]) == {'port': None, 'bind_to': None, 'config_file': None}


def test_find_daemons_parent_only_and_mapping(tmp_path):
    proc_stat(tmp_path)
    fake_proc(tmp_path, 100, ppid=1, exe='/usr/sbin/netdata', environ=b'DO_NOT_TRACK=1\0SECRET=x\0',
              starttime=500, cmdline=['/usr/sbin/netdata', '-D', '-p', '19998'])
    fake_proc(tmp_path, 101, ppid=100, exe='/usr/sbin/netdata')  # spawn server
    fake_proc(tmp_path, 200, ppid=1, exe='/opt/netdata/usr/sbin/netdata', environ=None, starttime=1000)
    fake_proc(tmp_path, 300, comm='bash', ppid=1, exe='/bin/bash')
    os.makedirs(str(tmp_path / 'proc' / 'self'))
    result = find_netdata_daemons(root=str(tmp_path), clk_tck=100)
    assert result['errors'] == []
    by_pid = dict((d['pid'], d) for d in result['daemons'])
    assert sorted(by_pid) == [100, 200]
    native = by_pid[100]
    assert native['prefix'] == '/'
    assert native['environment'] == {'DO_NOT_TRACK': '1'}  # only the telemetry names are kept
    assert native['started_at'] == 1700000005.0
    assert native['started_within'] == 1.01  # a test's /proc: whole-second btime
    assert native['args']['port'] == 19998
    static = by_pid[200]
    assert static['prefix'] == '/opt/netdata' and static['environment'] is None
    assert any('cannot read its environment' in e for e in static['errors'])
    assert daemon_for_prefix(result['daemons'], '/opt/netdata')['pid'] == 200
    assert daemon_for_prefix(result['daemons'], '/usr/local') is None


def test_spawn_server_of_exited_parent_is_not_hidden(tmp_path):
    proc_stat(tmp_path)
    fake_proc(tmp_path, 101, ppid=999, exe='/usr/sbin/netdata')
    result = find_netdata_daemons(root=str(tmp_path), clk_tck=100)
    assert [d['pid'] for d in result['daemons']] == [101]


def test_exe_unreadable_falls_back_to_cmdline_and_foreign_namespace(tmp_path):
    proc_stat(tmp_path)
    os.makedirs(str(tmp_path / 'proc' / 'self' / 'ns'))
    os.symlink('mnt:[1]', str(tmp_path / 'proc' / 'self' / 'ns' / 'mnt'))
    fake_proc(tmp_path, 10, cmdline=['/usr/sbin/netdata', '-D'], mnt='mnt:[1]')
    fake_proc(tmp_path, 20, exe='/usr/sbin/netdata', mnt='mnt:[2]')  # a container's daemon
    result = find_netdata_daemons(root=str(tmp_path), clk_tck=100)
    by_pid = dict((d['pid'], d) for d in result['daemons'])
    assert by_pid[10]['exe'] == '/usr/sbin/netdata' and by_pid[10]['foreign'] is False
    assert by_pid[20]['foreign'] is True
    assert daemon_for_prefix(result['daemons'], '/')['pid'] == 10


def test_sandboxed_by_its_service_is_the_hosts_agent(tmp_path):
    """Another mount namespace over the same root directory (systemd's ProtectSystem=,
    PrivateTmp=) is the host's agent; another root directory is a container's."""
    proc_stat(tmp_path)
    host_root = tmp_path / 'hostroot'
    image_root = tmp_path / 'image'
    host_root.mkdir()
    image_root.mkdir()
    os.makedirs(str(tmp_path / 'proc' / 'self' / 'ns'))
    os.symlink('mnt:[1]', str(tmp_path / 'proc' / 'self' / 'ns' / 'mnt'))
    os.symlink(str(host_root), str(tmp_path / 'proc' / 'self' / 'root'))
    fake_proc(tmp_path, 10, exe='/usr/sbin/netdata', mnt='mnt:[2]', root_dir=host_root,
              cgroup='1:name=systemd:/system.slice/netdata.service\n0::/system.slice/netdata.service\n')
    fake_proc(tmp_path, 20, exe='/usr/sbin/netdata', mnt='mnt:[3]', root_dir=image_root,
              cgroup='0::/system.slice/docker-abc.scope\n')
    fake_proc(tmp_path, 30, exe='/usr/sbin/netdata', mnt='mnt:[4]')  # root unreadable
    result = find_netdata_daemons(root=str(tmp_path), clk_tck=100)
    by_pid = dict((d['pid'], d) for d in result['daemons'])
    assert (by_pid[10]['foreign'], by_pid[10]['sandboxed']) == (False, True)
    assert by_pid[10]['cgroup_unit'] == 'netdata.service'
    assert (by_pid[20]['foreign'], by_pid[20]['sandboxed']) == (True, False)
    assert by_pid[20]['cgroup_unit'] is None
    assert by_pid[30]['foreign'] is True
    assert any('cannot be compared' in e for e in by_pid[30]['errors'])
    assert daemon_for_prefix(result['daemons'], '/')['pid'] == 10


@pytest.mark.parametrize('text, unit', [
    ('0::/system.slice/netdata.service\n', 'netdata.service'),
    ('0::/system.slice/netdata.service/init\n', 'netdata.service'),
    ('12:memory:/x\n1:name=systemd:/system.slice/netdata@a.service\n0::/\n', 'netdata@a.service'),
    ('0::/user.slice/user-0.slice/session-3.scope\n', None),
    ('0::/lab/c1\n', None),
    ('', None),
])
def test_parse_cgroup_unit(text, unit):
    assert parse_cgroup_unit(text) == unit


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which('unshare'), reason='needs root and unshare')
def test_real_mount_namespace_over_the_same_root_is_not_foreign(tmp_path):
    """The kernel's own view: a process that `unshare --mount` put in a private mount
    namespace (as systemd does for a sandboxed unit) over our root is ours; one that
    chroot()ed into another directory is not. The process is named netdata so the scan
    finds it; it runs `sleep`, nothing else."""
    sleeper = tmp_path / 'netdata'
    shutil.copy('/bin/sleep', str(sleeper))
    jail = tmp_path / 'jail'
    jail.mkdir()
    procs = [subprocess.Popen(['unshare', '--mount', '--propagation', 'private', str(sleeper), '30']),
             subprocess.Popen(['unshare', '--mount', '--propagation', 'private', 'chroot', '/',
                               str(sleeper), '30']),
             subprocess.Popen(['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
                               'J=%s; mount -t tmpfs jail $J && mkdir $J/usr && mount --rbind /usr $J/usr'
                               ' && for d in bin lib lib64; do ln -s usr/$d $J/$d; done'
                               ' && cp %s $J/netdata && exec chroot $J /netdata 30' % (jail, sleeper)])]
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            mine = [d for d in find_netdata_daemons()['daemons'] if d['pid'] in _descendants(procs)]
            if len(mine) == 3:
                break
            time.sleep(0.05)
        by_pid = dict((d['pid'], d) for d in mine)
        kinds = sorted((d['sandboxed'], d['foreign']) for d in by_pid.values())
        # two over our root (sandboxed), one chroot()ed into an image of its own
        assert kinds == [(False, True), (True, False), (True, False)], by_pid
    finally:
        for p in procs:
            p.kill()
            p.wait()


def _descendants(procs):
    pids = set(p.pid for p in procs)
    for _round in range(3):  # children, grandchildren, their children
        for entry in os.listdir('/proc'):
            if entry.isdigit():
                try:
                    with open('/proc/%s/stat' % entry) as handle:
                        ppid = int(handle.read().rsplit(')', 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid in pids:
                    pids.add(int(entry))
    return pids


def test_no_proc_and_no_btime(tmp_path):
    assert find_netdata_daemons(root=str(tmp_path))['errors']
    fake_proc(tmp_path, 5, exe='/usr/sbin/netdata')
    result = find_netdata_daemons(root=str(tmp_path), clk_tck=100)
    assert result['daemons'][0]['started_at'] is None
    assert any('btime' in e for e in result['daemons'][0]['errors'])


def test_real_proc_does_not_raise():
    result = find_netdata_daemons()
    assert isinstance(result['daemons'], list)


def test_clock_boot_time_is_btime_with_its_fraction():
    """/proc/stat's btime is the same boot instant truncated to whole seconds."""
    boot, window = clock_boot_time()
    with open('/proc/stat') as handle:
        btime = parse_btime(handle.read())
    assert 0 <= window < 0.01
    assert btime - 0.01 <= boot < btime + 1.01


def _wait_for_comm(pid, name):
    """Popen may return before the kernel has renamed the child to its new program."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open('/proc/%d/comm' % pid) as handle:
            if handle.read().strip() == name:
                return
        time.sleep(0.01)
    raise AssertionError('pid %d never became %s' % (pid, name))


def test_a_live_daemon_is_dated_within_its_window_not_a_second_early(tmp_path):
    """A process named netdata, started between two wall-clock reads, is dated between
    them give or take its window of a clock tick. Dated from /proc/stat's whole-second
    btime it could be a second early, and a file written just before the start could
    not be ordered against it (the lab's real agents showed it)."""
    fake = tmp_path / 'netdata'
    shutil.copy(shutil.which('sleep'), str(fake))
    clk_tck = os.sysconf('SC_CLK_TCK')
    for dummy in range(5):
        before = time.time()
        child = subprocess.Popen([str(fake), '5'])
        after = time.time()
        try:
            _wait_for_comm(child.pid, 'netdata')
            found = [d for d in find_netdata_daemons()['daemons'] if d['pid'] == child.pid]
        finally:
            child.kill()
            child.wait()
        assert len(found) == 1, found
        started_at, window = found[0]['started_at'], found[0]['started_within']
        assert 1.0 / clk_tck <= window < 1.0 / clk_tck + 0.01
        assert before - window - 0.005 <= started_at <= after + 0.005, (before, started_at, after)


def test_start_time_window_covers_truncated_ticks_and_boot():
    started_at, window = start_time(1700000000, 1.0, 250, 100)
    assert (started_at, window) == (1700000002.5, 1.01)
