# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""NETDATA_FLEET_TELEMETRY_FIXTURE_ROOT: how the integration targets point both modules at a
fixture tree, and why a stray value can never make them read or write a real tree."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.netdata_fleet.telemetry.tests.unit.module_args import patch_module_args

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import (
    FIXTURE_MARKER, FIXTURE_ROOT_ENV, fixture_root, gather_netdata_facts)
from ansible_collections.netdata_fleet.telemetry.plugins.modules import netdata_facts, netdata_optout

GUID = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'


def _write(root, path, text, mode=0o644):
    full = os.path.join(str(root), path.lstrip('/'))
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, 'w') as handle:
        handle.write(text)
    os.chmod(full, mode)


def _fixture(root, version='9.8.7'):
    """A host with one native install whose binary prints *version*."""
    _write(root, '/' + FIXTURE_MARKER, '')
    _write(root, '/etc/passwd', 'root:x:0:0::/root:/bin/sh\nnetdata:x:999:999::/:/usr/sbin/nologin\n')
    _write(root, '/etc/group', 'root:x:0:\nnetdata:x:999:\n')
    _write(root, '/etc/netdata/netdata.conf', '[global]\n')
    _write(root, '/usr/sbin/netdata', '#!/bin/sh\necho "netdata v%s"\n' % version, 0o755)
    _write(root, '/var/lib/netdata/registry/netdata.public.unique.id', GUID)
    os.makedirs(os.path.join(str(root), 'etc/systemd/system'))
    return str(root)


def test_unset_or_empty_is_the_real_root():
    assert fixture_root({}) == ('/', None)
    assert fixture_root({FIXTURE_ROOT_ENV: ''}) == ('/', None)


def test_a_marked_tree_is_used(tmp_path):
    root = _fixture(tmp_path)
    assert fixture_root({FIXTURE_ROOT_ENV: root + '/'}) == (root, None)


@pytest.mark.parametrize('value, why', [
    ('relative/tree', 'not an absolute path below /'),
    ('/', 'not an absolute path below /'),
    ('//', 'not an absolute path below /'),
    ('{tmp}', 'not a test fixture tree'),
    ('{tmp}/missing', 'not a test fixture tree'),
    ('{tmp}/marker-is-a-link', 'is not a regular file'),
    ('{tmp}/marker-is-a-dir', 'is not a regular file'),
])
def test_anything_else_is_refused_and_says_unset_it(tmp_path, value, why):
    (tmp_path / 'marker-is-a-link').mkdir()
    (tmp_path / 'target').write_text('')
    os.symlink(str(tmp_path / 'target'), str(tmp_path / 'marker-is-a-link' / FIXTURE_MARKER))
    (tmp_path / 'marker-is-a-dir' / FIXTURE_MARKER).mkdir(parents=True)
    root, problem = fixture_root({FIXTURE_ROOT_ENV: value.format(tmp=str(tmp_path))})
    assert root is None
    assert why in problem and FIXTURE_ROOT_ENV in problem and 'unset it' in problem


def test_an_install_under_a_fixture_root_runs_the_fixtures_binary(tmp_path):
    """``netdata -v`` of the fixture's install, not of the machine's /usr/sbin/netdata."""
    root = _fixture(tmp_path, version='9.8.7')
    facts = gather_netdata_facts({'telemetry'}, root=root, live_query=False, containers=False)
    assert [i['version'] for i in facts['installs']] == ['9.8.7']
    assert facts['installs'][0]['machine_guid'] == GUID


def _run(module, args, check=False):
    args = dict(args)
    if check:
        args['_ansible_check_mode'] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    return exc.value.code


def test_netdata_facts_reads_the_fixture_tree(tmp_path, monkeypatch, capsys):
    root = _fixture(tmp_path)
    monkeypatch.setenv(FIXTURE_ROOT_ENV, root)
    warned = []
    monkeypatch.setattr(netdata_facts.NulSafeModule, 'warn', lambda self, msg: warned.append(msg))
    assert _run(netdata_facts, {'gather_subset': ['telemetry'], 'live_query': False}) == 0
    result = json.loads(capsys.readouterr().out)
    installs = result['ansible_facts']['netdata']['installs']
    assert [(i['version'], i['machine_guid']) for i in installs] == [('9.8.7', GUID)]
    assert warned == ['reading the test fixture tree %s instead of /' % root]


@pytest.mark.parametrize('module, args', [
    (netdata_facts, {'gather_subset': ['telemetry']}),
    (netdata_optout, {}),
])
def test_a_stray_value_fails_the_module_before_anything_is_read(tmp_path, monkeypatch, capsys, module, args):
    # Should the variable be ignored, netdata_optout works on this decoy, never on /.
    monkeypatch.setattr(netdata_optout, 'ROOT', _fixture(tmp_path / 'decoy'))
    (tmp_path / 'stray').mkdir()
    monkeypatch.setenv(FIXTURE_ROOT_ENV, str(tmp_path / 'stray'))  # no marker file
    monkeypatch.setattr('ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts.gather_telemetry',
                        lambda *a, **k: pytest.fail('read a tree'))
    assert _run(module, args) == 1
    result = json.loads(capsys.readouterr().out)
    assert result['failed'] is True
    assert FIXTURE_ROOT_ENV in result['msg'] and 'unset it' in result['msg']
    assert os.listdir(str(tmp_path / 'stray')) == []
    assert not os.path.exists(str(tmp_path / 'decoy/etc/netdata/.opt-out-from-anonymous-statistics'))


def test_netdata_optout_writes_under_the_fixture_tree_only(tmp_path, monkeypatch, capsys):
    # Should the variable be ignored, the module works on this decoy, never on /.
    decoy = _fixture(tmp_path / 'decoy')
    monkeypatch.setattr(netdata_optout, 'ROOT', decoy)
    root = _fixture(tmp_path / 'host')
    monkeypatch.setenv(FIXTURE_ROOT_ENV, root)
    assert _run(netdata_optout, {'live_query': False}) == 0
    result = json.loads(capsys.readouterr().out)
    assert result['changed'] is True
    assert os.path.isfile(os.path.join(root, 'etc/netdata/.opt-out-from-anonymous-statistics'))
    assert not os.path.exists(os.path.join(decoy, 'etc/netdata/.opt-out-from-anonymous-statistics'))
    assert result['ansible_facts']['netdata']['installs'][0]['machine_guid'] == GUID
