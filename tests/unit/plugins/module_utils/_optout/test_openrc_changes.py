# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hosts that systemd does not run: OpenRC's conf.d block, no drop-in where nobody reads
it, and the restart reason. Every planned conf.d is judged by the same OpenRC reader the
facts use (its rules measured with the real openrc-run: test_start_mechanisms_real.py)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import apply as optout_apply
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import plan as optout_plan
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import restart as optout_restart
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.start_mechanisms import openrc_start

CONF_D = '/etc/conf.d/netdata'
DROPIN = '/etc/systemd/system/netdata.service.d/zz-netdata-fleet-telemetry.conf'
USER = b'# Netdata\'s OpenRC settings\nNETDATA_OWNER="netdata:netdata"\nNETDATA_WAIT_EXIT_TIMEOUT=60\n'
OFF = {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': '1'}
UNSET = {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None}


def settings(**kw):
    base = {
        'opt_out': True, 'service_name': 'netdata', 'dropin_name': 'zz-netdata-fleet-telemetry.conf',
        'dropin_content': None, 'dropin_neutral_content': None, 'manage_crash_reports': False,
        'installer_env': False, 'profile_path': None, 'profile_content': None,
        'container_env_files': [], 'service_manager': 'openrc',
    }
    base.update(kw)
    return base


def install(running=False, mechanism='openrc', starts=True):
    return {'config_dir': '/etc/netdata', 'version': '1.37.1',
            'optout_file': {'path': '/etc/netdata/.opt-out-from-anonymous-statistics'},
            'netdata_conf': {'path': '/etc/netdata/netdata.conf'}, 'daemon': {'running': running},
            'service': {'starts_this_install': True},
            'start': {'mechanism': mechanism, 'starts_this_install': starts},
            'telemetry': {'drift': False, 'channels': {'statistics_script': {'applies': True, 'running': True}}}}


@pytest.fixture
def root(tmp_path):
    for d in ('etc/netdata', 'etc/systemd/system', 'etc/conf.d', 'etc/init.d', 'run/openrc'):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / 'etc/init.d/netdata').write_text('#!/sbin/openrc-run\ncommand=/usr/sbin/netdata\n')
    (tmp_path / 'etc/conf.d/netdata').write_bytes(USER)
    return tmp_path


def p(root, path):
    return root / path.lstrip('/')


def plan(root, **kw):
    changes, notes, errors = optout_plan.plan_changes([install()], settings(**kw), str(root))
    assert errors == []
    return changes, notes


def run(root, **kw):
    changes, notes = plan(root, **kw)
    assert optout_apply.apply_changes(changes, str(root)) == []
    return changes, notes


def agent_env(root):
    return openrc_start(str(root))['environment']


def test_optout_appends_the_block_keeps_the_rest_and_is_idempotent(root):
    os.chmod(str(p(root, CONF_D)), 0o640)
    changes, notes = run(root)
    assert [(c['path'], c['purpose']) for c in changes] == [('/etc/netdata/.opt-out-from-anonymous-statistics',
                                                             'optout_file'), (CONF_D, 'openrc_conf')]
    data = p(root, CONF_D).read_bytes()
    assert data.startswith(USER)
    assert data[len(USER):] == (b'# BEGIN Managed by netdata_fleet.telemetry (role optout): Netdata telemetry opt-out\n'
                                b'export DO_NOT_TRACK=1\nexport DISABLE_TELEMETRY=1\n'
                                b'# END Managed by netdata_fleet.telemetry\n')
    assert stat.S_IMODE(os.stat(str(p(root, CONF_D))).st_mode) == 0o640
    assert agent_env(root) == OFF
    # no drop-in where OpenRC runs the host, and the result says so
    assert not p(root, DROPIN).exists()
    assert any(n.startswith('systemd drop-in not applicable: openrc runs this host') for n in notes)
    assert plan(root)[0] == []


def test_optout_moves_the_block_below_later_user_lines(root):
    run(root)
    with open(str(p(root, CONF_D)), 'ab') as handle:
        handle.write(b'export DO_NOT_TRACK=0\n')
    assert agent_env(root)['DO_NOT_TRACK'] == '0'
    changes, _notes = run(root)
    assert [c['purpose'] for c in changes] == ['openrc_conf']
    assert p(root, CONF_D).read_bytes().startswith(USER + b'export DO_NOT_TRACK=0\n# BEGIN')
    assert agent_env(root) == OFF


def test_optout_creates_a_missing_conf_d(root):
    p(root, CONF_D).unlink()
    p(root, '/etc/conf.d').rmdir()
    changes, _notes = run(root)
    change = [c for c in changes if c['purpose'] == 'openrc_conf'][0]
    assert change['before'] is None and optout_apply.describe(change) == 'create'
    assert agent_env(root) == OFF
    assert stat.S_IMODE(os.stat(str(p(root, CONF_D))).st_mode) == 0o644


def test_optout_writes_the_runlevel_file_openrc_reads(root):
    p(root, '/run/openrc/softlevel').write_text('default\n')
    p(root, CONF_D + '.default').write_bytes(b'NETDATA_FORCE_EXIT=0\n')
    changes, _notes = run(root)
    assert [c['path'] for c in changes if c['purpose'] == 'openrc_conf'] == [CONF_D + '.default']
    assert p(root, CONF_D).read_bytes() == USER
    assert agent_env(root) == OFF


def test_check_mode_writes_nothing_and_diff_shows_the_block(root):
    changes, _notes = plan(root)
    assert optout_apply.apply_changes(changes, str(root), check_mode=True) == []
    assert p(root, CONF_D).read_bytes() == USER
    diff = optout_apply.change_diff([c for c in changes if c['purpose'] == 'openrc_conf'][0])
    assert diff['before'] == USER.decode() and diff['after'].startswith(USER.decode())
    assert 'export DISABLE_TELEMETRY=1' in diff['after']


def test_optin_removes_the_block(root):
    run(root)
    changes, _notes = run(root, opt_out=False)
    assert [c['purpose'] for c in changes] == ['optout_file', 'openrc_conf']
    assert p(root, CONF_D).read_bytes() == USER
    assert agent_env(root) == UNSET
    assert plan(root, opt_out=False)[0] == []


def test_optin_removes_a_file_that_only_held_the_block(root):
    p(root, CONF_D).unlink()
    run(root)
    run(root, opt_out=False)
    assert not p(root, CONF_D).exists()


@pytest.mark.parametrize('where, text', [
    (CONF_D, USER + b'export DO_NOT_TRACK=1\n'),
    ('/etc/rc.conf', b'export DISABLE_TELEMETRY=yes\n'),
    ('/etc/profile.env', b"export DO_NOT_TRACK='1'\n"),
])
def test_optin_neutralises_what_the_user_set(root, where, text):
    p(root, where).write_bytes(text)
    assert agent_env(root) != UNSET
    changes, notes = run(root, opt_out=False)
    assert [c['purpose'] for c in changes] == ['openrc_conf']
    assert p(root, CONF_D).read_bytes().endswith(b'unset DO_NOT_TRACK DISABLE_TELEMETRY\n'
                                                 b'# END Managed by netdata_fleet.telemetry\n')
    assert p(root, where).read_bytes().startswith(text)        # the user's line stays
    assert agent_env(root) == UNSET
    assert any('neutralised with "unset"' in n for n in notes)
    assert plan(root, opt_out=False)[0] == []
    # opting out again replaces the unset block with the exports
    run(root)
    assert agent_env(root) == OFF and b'unset DO_NOT_TRACK' not in p(root, CONF_D).read_bytes()


@pytest.mark.parametrize('manager, conf_d, dropin', [
    ('openrc', True, False),
    ('none', True, True),           # an image being built: both files a later boot may read
    ('systemd', False, True),       # Gentoo ships the OpenRC script beside the unit
    ('runit', False, False),
    ('sysvinit', False, False),
    ('dinit', False, False),
])
def test_which_start_files_each_manager_gets(root, manager, conf_d, dropin):
    changes, notes = run(root, service_manager=manager)
    purposes = [c['purpose'] for c in changes]
    assert ('openrc_conf' in purposes) is conf_d
    assert ('dropin' in purposes) is dropin
    if manager in ('runit', 'sysvinit', 'dinit'):
        assert any('start environment is not applicable either' in n for n in notes)


def test_optin_removes_a_managed_dropin_left_from_systemd_days(root):
    run(root, service_manager='systemd')
    assert p(root, DROPIN).exists()
    changes, notes = run(root, opt_out=False)
    assert 'dropin' in [c['purpose'] for c in changes] and not p(root, DROPIN).exists()
    # a user's own file of that name is theirs
    p(root, DROPIN).write_text('[Service]\nEnvironment=X=1\n')
    assert 'dropin' not in [c['purpose'] for c in run(root, opt_out=False)[0]]


def test_restart_when_the_conf_d_changed():
    change = [{'purpose': 'openrc_conf', 'install': None}]
    assert optout_restart.restart_decisions([install(running=True)], change, opt_out=True) == {
        '/etc/netdata': ['service environment (OpenRC conf.d) changed']}
    assert optout_restart.restart_decisions([install(running=True, starts=False)], change, opt_out=True) == {}
    assert optout_restart.restart_decisions([install(running=False)], change, opt_out=True) == {}
    # a drop-in change restarts nothing that systemd does not start
    assert optout_restart.restart_decisions([install(running=True)], [{'purpose': 'dropin', 'install': None}], opt_out=True) == {}
