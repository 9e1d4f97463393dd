# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Enforcement for container agents: planned from the facts the gatherer makes of a fixture
host with containers (test_container_installs.Host), written through the container's view
root or its volume, restarted through its runtime, and "until re-created" said out loud."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import apply as optout_apply
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import plan as optout_plan
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import restart as optout_restart
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import verify as optout_verify
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import OPTOUT_FILE_NAME
from ansible_collections.netdata_fleet.telemetry.tests.unit.plugins.module_utils._discovery.test_container_installs import (
    BTIME, D1, Host, _stopped, fixture, inspected, set_mtime, write)


def settings(**kw):
    base = {
        'opt_out': True, 'service_name': 'netdata', 'dropin_name': 'zz-netdata-fleet-telemetry.conf',
        'dropin_content': None, 'dropin_neutral_content': None, 'manage_crash_reports': True,
        'installer_env': False, 'profile_path': None, 'profile_content': None,
        'container_env_files': [],
    }
    base.update(kw)
    return base


def containers(facts):
    return [i for i in facts['installs'] if i['kind'] == 'container']


def docker_host(tmp_path, volume=False, env=(), version='1.37.1'):
    """One running docker container, its config dir in its layer (d1) or on a volume (d2)."""
    host = Host(tmp_path)
    name = 'd2' if volume else 'd1'
    root = host.image_root(name, version)
    pid = 666 if volume else 327
    kind = 'volume' if volume else 'layer'
    host.daemon(pid, root, fixture('cgroup-docker-%s-%s.txt' % (name, kind)),
                fixture('mountinfo-docker-%s-%s.txt' % (name, kind)), environ=list(env))
    data = inspected('docker', name, **{'Config.Env': ['%s=%s' % kv for kv in env] + ['PATH=/usr/bin']})
    host.cli('docker', [data])
    host.hello_answers[pid] = True
    set_mtime(root / 'etc/netdata', BTIME + 10)
    return host, root, pid


def apply(host, **kw):
    facts = host.facts()
    changes, notes, errors = optout_plan.plan_changes(facts['installs'], settings(**kw), str(host.root))
    assert errors == []
    assert optout_apply.apply_changes(changes, str(host.root)) == []
    return facts, changes, notes


def test_opt_out_writes_through_the_view_root_and_restarts_through_the_runtime(tmp_path):
    host, root, pid = docker_host(tmp_path)
    facts, changes, notes = apply(host)
    label = 'docker:d1:/etc/netdata'
    by_purpose = dict((c['purpose'], c) for c in changes)
    optout = by_purpose['optout_file']
    assert optout['path'] == '/etc/netdata/' + OPTOUT_FILE_NAME
    assert optout['install'] == label
    assert optout['host_path'] == str(host.root / 'proc' / str(pid) / 'root' / 'etc/netdata' / OPTOUT_FILE_NAME)
    assert 'dropin' not in by_purpose           # no unit starts a container's agent
    # written into the container's own files, nowhere on the host
    assert (root / 'etc/netdata' / OPTOUT_FILE_NAME).is_file()
    assert b'crash reports = off' in (root / 'etc/netdata/netdata.conf').read_bytes()
    assert not (host.root / 'etc/netdata').exists()

    after = host.facts()
    install = containers(after)[0]
    assert install['optout_file']['exists'] is True
    assert optout_restart.until_recreated(after) == []   # not even opted out yet: the running daemon reads it at start
    decisions = optout_restart.restart_decisions(after['installs'], changes, True)
    assert decisions == {label: ['netdata.conf changed',
                                 'opt-out file changed and this daemon reads it only at start']}
    assert optout_restart.service_restart_needed(after['installs'], decisions) is False
    assert optout_restart.container_restarts(after['installs'], decisions) == [
        {'label': label, 'runtime': 'docker', 'id': D1, 'name': 'd1', 'cli': '/usr/bin/docker',
         'reasons': decisions[label]}]
    # restarted (what the role's handler does): the agent reads the file at its start;
    # the file sits in the container's layer and nothing in its environment opts it out
    for path in (root / 'etc/netdata', root / 'etc/netdata' / OPTOUT_FILE_NAME, root / 'etc/netdata/netdata.conf'):
        set_mtime(path, BTIME + 10)
    host.hello_answers[pid] = False
    after = host.facts()
    assert containers(after)[0]['telemetry']['opted_out'] is True
    lines = optout_restart.until_recreated(after)
    assert len(lines) == 1 and lines[0].startswith(label + ': opted out until re-created')
    # converged: nothing left to write
    again, _n, _e = optout_plan.plan_changes(after['installs'], settings(), str(host.root))
    assert again == []


def test_on_a_volume_the_opt_out_lasts(tmp_path):
    host, root, pid = docker_host(tmp_path, volume=True, version='2.10.4')
    apply(host)
    after = host.facts()
    assert (root / 'etc/netdata' / OPTOUT_FILE_NAME).is_file()
    assert containers(after)[0]['container']['after_recreate']['opted_out'] is True
    assert optout_restart.until_recreated(after) == []


def test_with_do_not_track_in_its_environment_the_opt_out_lasts(tmp_path):
    host, root, pid = docker_host(tmp_path, env=[('DO_NOT_TRACK', '1')])
    apply(host)
    assert optout_restart.until_recreated(host.facts()) == []


def test_opt_in_keeps_a_file_the_entrypoint_makes_again_and_says_so(tmp_path):
    host, root, pid = docker_host(tmp_path, env=[('DO_NOT_TRACK', '1')])
    write(root / 'etc/netdata' / OPTOUT_FILE_NAME, '')
    facts, changes, notes = apply(host, opt_out=False)
    assert (root / 'etc/netdata' / OPTOUT_FILE_NAME).is_file()
    assert [c for c in changes if c['purpose'] == 'optout_file'] == []
    assert any('DO_NOT_TRACK=\'1\'' in n and 're-created without that setting' in n for n in notes)
    problems = optout_verify.verify_problems(host.facts(), False)
    assert problems and all(p.startswith('docker:d1:/etc/netdata ') for p in problems)


def test_opt_in_removes_the_file_from_a_container_without_the_variable(tmp_path):
    host, root, pid = docker_host(tmp_path)
    write(root / 'etc/netdata' / OPTOUT_FILE_NAME, '')
    facts, changes, notes = apply(host, opt_out=False)
    assert not (root / 'etc/netdata' / OPTOUT_FILE_NAME).exists()


def test_new_files_belong_to_the_config_dirs_owner(tmp_path):
    """A user-namespaced container's root is some high uid on the host: a root-owned file
    would be nobody's inside, and the image's `touch` at the next start would fail."""
    host, root, pid = docker_host(tmp_path)
    os.chown(str(root / 'etc/netdata'), 100000, 100000)
    apply(host)
    st = os.stat(str(root / 'etc/netdata' / OPTOUT_FILE_NAME))
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (100000, 100000, 0o644)


def test_a_symlink_planted_in_the_container_is_refused(tmp_path):
    host, root, pid = docker_host(tmp_path)
    facts = host.facts()
    outside = tmp_path / 'outside'
    outside.mkdir()
    os.rename(str(root / 'etc/netdata'), str(tmp_path / 'moved'))
    os.symlink(str(outside), str(root / 'etc/netdata'))   # swapped in after discovery
    changes, notes, errors = optout_plan.plan_changes(facts['installs'], settings(), str(host.root))
    assert len(errors) == 1
    assert errors[0].startswith('docker:d1:/etc/netdata: /etc/netdata is a symlink inside the container')
    assert os.listdir(str(outside)) == []


def test_a_container_that_stopped_since_it_was_read(tmp_path):
    host, root, pid = docker_host(tmp_path)
    facts = host.facts()
    os.remove(str(host.root / 'proc' / str(pid) / 'root'))
    changes, notes, errors = optout_plan.plan_changes(facts['installs'], settings(), str(host.root))
    assert 'no longer running' in errors[0]


def test_a_stopped_containers_volume_is_written_on_the_host(tmp_path):
    host = Host(tmp_path)
    p3 = _stopped(host, 'podman', 'p3', volume_files=[])
    host.cli('podman', [p3])
    volume = host.root / 'var/lib/podman/p3/volume'
    facts, changes, notes = apply(host)
    paths = sorted((c['path'], c['host_path']) for c in changes)
    assert paths == [('/etc/netdata/' + OPTOUT_FILE_NAME, str(volume / OPTOUT_FILE_NAME)),
                     ('/etc/netdata/netdata.conf', str(volume / 'netdata.conf'))]
    assert (volume / OPTOUT_FILE_NAME).is_file()
    after = host.facts()
    install = containers(after)[0]
    assert install['telemetry']['opted_out'] is True
    assert optout_restart.restart_decisions(after['installs'], changes, True) == {}   # nothing runs
    assert optout_restart.until_recreated(after) == []


def test_a_stopped_container_in_its_layer_cannot_be_written_and_says_so(tmp_path):
    host = Host(tmp_path)
    host.cli('docker', [_stopped(host, 'docker', 'd3')])
    facts, changes, notes = apply(host)
    assert changes == []
    assert any(n.startswith('docker:d3:/etc/netdata: a stopped container whose config dir is in its own layer')
               for n in notes)
    assert optout_verify.verify_problems(host.facts(), True)


def test_a_host_agent_and_a_container_agent_on_one_host(tmp_path):
    host, root, pid = docker_host(tmp_path)
    # the host's own native agent, with a systemd unit
    write(host.root / 'etc/netdata/netdata.conf', '[global]\n')
    write(host.root / 'usr/sbin/netdata', '', 0o755)
    write(host.root / 'lib/systemd/system/netdata.service', '[Service]\nExecStart=/usr/sbin/netdata -D\n')
    os.makedirs(str(host.root / 'etc/systemd/system'))
    facts, changes, notes = apply(host)
    by_install = {}
    for c in changes:
        by_install.setdefault(c['install'], set()).add(c['purpose'])
    assert by_install == {'/etc/netdata': {'optout_file', 'netdata_conf'},
                          'docker:d1:/etc/netdata': {'optout_file', 'netdata_conf'},
                          None: {'dropin'}}
    assert (host.root / 'etc/netdata' / OPTOUT_FILE_NAME).is_file()
    assert (root / 'etc/netdata' / OPTOUT_FILE_NAME).is_file()
    labels = sorted(i.get('kind') for i in host.facts()['installs'])
    assert labels == ['container', 'native']


def test_an_agent_already_off_is_not_restarted_for_a_new_netdata_conf(tmp_path):
    """DO_NOT_TRACK=1: the entrypoint's file has the 1.37.1 agent off (it says so); writing
    crash reports = off (no channel of v1.37.1) is no reason to restart it."""
    host, root, pid = docker_host(tmp_path, env=[('DO_NOT_TRACK', '1')])
    write(root / 'etc/netdata' / OPTOUT_FILE_NAME, '')
    for path in (root / 'etc/netdata', root / 'etc/netdata' / OPTOUT_FILE_NAME):
        set_mtime(path, BTIME + 100.5)   # made by the entrypoint, after the process started
    host.hello_answers[pid] = False
    facts, changes, notes = apply(host)
    assert [c['purpose'] for c in changes] == ['netdata_conf']
    assert optout_restart.restart_decisions(host.facts()['installs'], changes, True) == {}


def test_the_agents_own_answer_is_its_running_state():
    install = {'config_dir': '/etc/netdata', 'daemon': {'running': True}, 'version': '1.37.1',
               'telemetry': {'channels': {
                   'daemon_analytics': {'applies': True, 'running': True, 'live': False},
                   'statistics_script': {'applies': True, 'running': False},
                   'crash_reports': {'applies': False, 'running': None}}}}
    changes = [{'install': '/etc/netdata', 'purpose': 'netdata_conf'}]
    assert optout_restart.restart_decisions([install], changes, True) == {}
    install['telemetry']['channels']['daemon_analytics']['live'] = None
    assert optout_restart.restart_decisions([install], changes, True) == {'/etc/netdata': ['netdata.conf changed']}
