# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netdata_optout: arguments, check/diff mode, idempotence, failures, returned facts."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
from pathlib import Path

import pytest


from ansible_collections.netdata_fleet.telemetry.tests.unit.module_args import patch_module_args

from ansible_collections.netdata_fleet.telemetry.plugins.modules import netdata_optout  # noqa: E402

DROPIN = 'etc/systemd/system/netdata.service.d/zz-netdata-fleet-telemetry.conf'


@pytest.fixture
def root(tmp_path, monkeypatch):
    for d in ('etc/netdata', 'etc/systemd/system', 'lib/systemd/system', 'proc'):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / 'etc/netdata/netdata.conf').write_bytes(b'[global]\r\n\trun as user = netdata\r\n')
    (tmp_path / 'etc/passwd').write_text('root:x:0:0::/root:/bin/sh\nnetdata:x:999:995::/:/usr/sbin/nologin\n')
    (tmp_path / 'etc/group').write_text('root:x:0:\nnetdata:x:995:\n')
    monkeypatch.setattr(netdata_optout, 'ROOT', str(tmp_path))
    return tmp_path


def fake_facts(running=False, version='1.37.1'):
    def gather(params, root='/'):
        exists = os.path.exists(os.path.join(root, 'etc/netdata/.opt-out-from-anonymous-statistics'))
        install = {'config_dir': '/etc/netdata', 'version': version,
                   'optout_file': {'path': '/etc/netdata/.opt-out-from-anonymous-statistics',
                                   'exists': exists},
                   'netdata_conf': {'path': '/etc/netdata/netdata.conf'},
                   'daemon': {'running': running}, 'telemetry': {'drift': False, 'opted_out': exists},
                   'service': {'starts_this_install': True}}
        return {'installed': True, 'installs': [install],
                'telemetry': {'opted_out': exists, 'opted_in': not exists}}
    return gather


def run(args, check=False, diff=False):
    args = dict(args)
    if check:
        args['_ansible_check_mode'] = True
    if diff:
        args['_ansible_diff'] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            netdata_optout.main()
    return exc.value.code


def result_of(capsys):
    return json.loads(capsys.readouterr().out)


def tree(root):
    out = {}
    for p in sorted(root.rglob('*')):
        out[str(p)] = p.read_bytes() if p.is_file() and not p.is_symlink() else None
    return out


def test_optout_check_diff_apply_idempotent(root, monkeypatch, capsys):
    monkeypatch.setattr(netdata_optout, 'gather_facts', fake_facts())
    before = tree(root)
    assert run({}, check=True, diff=True) == 0
    r = result_of(capsys)
    assert tree(root) == before, 'check mode wrote something'
    assert r['changed'] is True
    assert sorted(c['purpose'] for c in r['changes']) == ['dropin', 'netdata_conf', 'optout_file']
    assert {d['after_header'] for d in r['diff']} >= {'/' + DROPIN, '/etc/netdata/netdata.conf'}

    assert run({}) == 0
    r = result_of(capsys)
    assert r['changed'] is True
    assert 'DO_NOT_TRACK=1' in (root / DROPIN).read_text()
    assert r['ansible_facts']['netdata']['telemetry']['opted_out'] is True
    assert r['restart_required'] is False  # no daemon runs
    assert r['verify'] == {'asked': 'opted_out', 'compliant': True, 'problems': []}

    assert run({}) == 0
    r = result_of(capsys)
    assert r['changed'] is False and r['changes'] == [] and r['restart_required'] is False


def test_restart_required_for_running_old_daemon(root, monkeypatch, capsys):
    monkeypatch.setattr(netdata_optout, 'gather_facts', fake_facts(running=True))
    assert run({}) == 0
    r = result_of(capsys)
    assert r['restart_required'] is True
    assert any('reads it only at start' in x for x in r['restart']['/etc/netdata'])


def test_optin_roundtrip(root, monkeypatch, capsys):
    monkeypatch.setattr(netdata_optout, 'gather_facts', fake_facts())
    run({})
    capsys.readouterr()
    assert run({'opt_out': False}) == 0
    r = result_of(capsys)
    assert r['changed'] is True
    assert not (root / DROPIN).exists()
    assert (root / 'etc/netdata/netdata.conf').read_bytes() == b'[global]\r\n\trun as user = netdata\r\n'
    assert run({'opt_out': False}) == 0
    assert result_of(capsys)['changed'] is False


def test_planted_symlink_fails_host_and_writes_nothing(root, monkeypatch, capsys):
    monkeypatch.setattr(netdata_optout, 'gather_facts', fake_facts())
    victim = root / 'victim'
    victim.write_text('precious')
    (root / DROPIN).parent.mkdir()
    os.symlink(str(victim), str(root / DROPIN))
    before = tree(root)
    assert run({}) == 1
    r = result_of(capsys)
    assert r['failed'] is True and 'symlink' in r['msg']
    assert tree(root) == before and victim.read_text() == 'precious'


def test_missing_config_dir_fails(root, monkeypatch, capsys):
    def gather(params, root='/'):
        return {'installs': [{'config_dir': '/opt/netdata/etc/netdata', 'daemon': {}}], 'telemetry': {}}
    monkeypatch.setattr(netdata_optout, 'gather_facts', gather)
    assert run({}) == 1
    assert 'does not exist' in result_of(capsys)['msg']


def test_bad_dropin_name(root, monkeypatch, capsys):
    monkeypatch.setattr(netdata_optout, 'gather_facts', fake_facts())
    assert run({'dropin_name': '../evil.conf'}) == 1
    assert 'plain file name' in result_of(capsys)['msg']


def test_given_contents_are_written(root, monkeypatch, capsys):
    monkeypatch.setattr(netdata_optout, 'gather_facts', fake_facts())
    (root / 'etc/profile.d').mkdir()
    run({'dropin_content': '# x\n[Service]\nEnvironment=DO_NOT_TRACK=1\n',
         'installer_env': True, 'profile_content': '# p\nexport DO_NOT_TRACK=1\n'})
    r = result_of(capsys)
    assert r['changed'] is True
    assert (root / DROPIN).read_text() == '# x\n[Service]\nEnvironment=DO_NOT_TRACK=1\n'
    assert (root / 'etc/profile.d/netdata-telemetry.sh').read_text() == '# p\nexport DO_NOT_TRACK=1\n'
    assert (root / 'etc/environment').read_text() == 'DO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n'


def test_installer_env_without_profile_dir_fails_clearly(root, monkeypatch, capsys):
    monkeypatch.setattr(netdata_optout, 'gather_facts', fake_facts())
    assert run({'installer_env': True}) == 1
    assert '/etc/profile.d does not exist' in result_of(capsys)['msg']


def test_real_gather_on_fixture_tree(root, capsys):
    """The fallback glue: discovery + decision over a fixture tree, no daemon."""
    assert run({'live_query': False}) == 0
    r = result_of(capsys)
    facts = r['ansible_facts']['netdata']
    assert facts['installed'] is True
    inst = facts['installs'][0]
    assert inst['optout_file']['exists'] is True
    assert inst['netdata_conf']['crash_reports'] == 'off'
    assert inst['telemetry']['opted_out'] is True, inst['telemetry']['reasons']
    assert facts['telemetry']['opted_out'] is True


def test_real_gather_optout_file_only_root_can_read(root, capsys):
    """A 0600 root:root opt-out file: not opted out (the agent, run as netdata, cannot read
    it); check and diff mode say so without writing; the run makes it 0644; then converged."""
    optout = root / 'etc/netdata/.opt-out-from-anonymous-statistics'
    optout.write_bytes(b'')
    os.chmod(str(optout), 0o600)
    (root / 'etc/netdata/netdata.conf').write_bytes(b'[global]\n\tcrash reports = off\n')
    args = {'live_query': False, 'manage_crash_reports': False}
    assert run(args, check=True, diff=True) == 0
    r = result_of(capsys)
    inst = r['ansible_facts']['netdata']['installs'][0]
    assert inst['optout_file']['readable_by_agent'] is False
    assert inst['telemetry']['opted_out'] is False
    assert r['changed'] is True and r['verify']['compliant'] is False
    assert [(c['path'], c['action']) for c in r['changes'] if c['purpose'] == 'optout_file'] == [
        ('/etc/netdata/.opt-out-from-anonymous-statistics', 'update')]
    assert any(d['after_header'].endswith('(mode 0644)') and d['before_header'].endswith('(mode 0600)')
               for d in r['diff'])
    assert os.stat(str(optout)).st_mode & 0o777 == 0o600, 'check mode changed the mode'
    assert run(args) == 0
    r = result_of(capsys)
    assert os.stat(str(optout)).st_mode & 0o777 == 0o644
    assert r['ansible_facts']['netdata']['installs'][0]['optout_file']['readable_by_agent'] is True
    assert r['verify']['compliant'] is True, r['verify']['problems']
    assert run(args) == 0
    assert result_of(capsys)['changed'] is False


def test_role_defaults_documented_and_validated():
    """Every role variable has a default with a one-line comment and an argument spec."""
    import yaml
    role = Path(__file__).resolve().parents[4] / 'roles' / 'optout'
    lines = (role / 'defaults' / 'main.yml').read_text().splitlines()
    defaults = yaml.safe_load('\n'.join(lines))
    specs = yaml.safe_load((role / 'meta' / 'argument_specs.yml').read_text())
    options = specs['argument_specs']['main']['options']
    assert set(defaults) == set(options)
    for i, line in enumerate(lines):
        if line.startswith('netdata_telemetry_'):
            assert lines[i - 1].startswith('# '), line
            name = line.split(':', 1)[0]
            assert options[name].get('default') == defaults[name], name


@pytest.mark.parametrize('args, expected', [
    ({'service_name': '../../../tmp/x'}, 'service_name must be a systemd service name'),
    ({'service_name': ''}, 'service_name must be a systemd service name'),
    ({'service_name': '.service'}, 'service_name must be a systemd service name'),
    ({'service_name': '..'}, 'service_name must be a systemd service name'),
    ({'service_name': 'net\0data'}, 'service_name must be a systemd service name'),
    ({'service_name': 'x' * 250}, 'service_name must be a systemd service name'),
    ({'dropin_name': '../evil.conf'}, 'dropin_name must be a plain file name'),
    ({'dropin_name': 'a\0b.conf'}, 'dropin_name must be a plain file name'),
    ({'dropin_name': '.conf'}, 'dropin_name must be a plain file name'),
    ({'dropin_name': 'x.conf\n'}, 'dropin_name must be a plain file name'),
    ({'container_env_files': ['/srv/a\0b.env']}, 'container_env_files'),
    ({'container_env_files': ['relative.env']}, 'not an absolute path'),
    ({'config_dir': ['/etc/\0netdata']}, 'config_dir'),
    ({'profile_path': '/etc/profile.d/a\0.sh'}, 'profile_path'),
    ({'dropin_content': '[Service]\0\n'}, 'dropin_content holds a NUL byte'),
    ({'live_timeout': float('nan')}, 'live_timeout'),
    ({'live_timeout': float('inf')}, 'live_timeout'),
])
def test_bad_arguments_fail_before_anything_is_read(root, monkeypatch, capsys, args, expected):
    def gather(params, root='/'):
        raise AssertionError('facts gathered despite a bad argument')
    monkeypatch.setattr(netdata_optout, 'gather_facts', gather)
    before = sorted(str(p) for p in root.rglob('*'))
    assert run(args) == 1
    result = result_of(capsys)
    assert expected in result['msg']
    assert 'embedded null byte' not in result['msg'] and 'Traceback' not in result['msg']
    assert sorted(str(p) for p in root.rglob('*')) == before


@pytest.mark.parametrize('service', ['netdata', 'netdata.service', 'netdata@main', 'my_netdata-2.service'])
def test_good_service_names_plan_a_dropin_under_etc_systemd_system(root, monkeypatch, capsys, service):
    monkeypatch.setattr(netdata_optout, 'gather_facts', fake_facts())
    assert run({'service_name': service}, check=True) == 0
    paths = [c['path'] for c in result_of(capsys)['changes']]
    unit = service if service.endswith('.service') else service + '.service'
    assert '/etc/systemd/system/%s.d/zz-netdata-fleet-telemetry.conf' % unit in paths
