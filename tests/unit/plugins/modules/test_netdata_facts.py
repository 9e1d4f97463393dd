# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module's argument handling: bad input ends in fail_json, never a traceback."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

import pytest

from ansible_collections.netdata_fleet.telemetry.tests.unit.module_args import patch_module_args

from ansible_collections.netdata_fleet.telemetry.plugins.modules import netdata_facts


def run_module(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            netdata_facts.main()
    result = json.loads(capsys.readouterr().out)
    return exit_info.value.code, result


@pytest.mark.parametrize('args, message', [
    ({'gather_subset': ['hardware']}, "unknown subset 'hardware'"),
    ({'live_timeout': -1}, 'live_timeout must be more than 0'),
    ({'cloud_timeout': 0}, 'cloud_timeout must be more than 0'),
    ({'cloud_detection': True, 'cloud_metadata_url': 'file:///etc/passwd'}, 'must be an http:// or https:// URL'),
    ({'live_timeout': float('nan')}, 'live_timeout must be more than 0'),
    ({'cloud_timeout': float('inf')}, 'cloud_timeout must be more than 0'),
    ({'config_dir': ['/etc/\0netdata']}, 'config_dir'),
    ({'config_dir': ['etc/netdata']}, 'not an absolute path'),
    ({'cloud_metadata_url': 'http://169.254.169.254/\0'}, 'cloud_metadata_url holds a NUL byte'),
])
def test_bad_input_fails_cleanly(capsys, args, message):
    code, result = run_module(capsys, args)
    assert code == 1
    assert result['failed'] is True
    assert message in result['msg']
    assert 'Traceback' not in result['msg'] and 'syslog' not in result['msg']


def test_config_dir_that_is_a_file_fails_cleanly(capsys, tmp_path):
    not_a_dir = tmp_path / 'netdata'
    not_a_dir.write_text('x')
    code, result = run_module(capsys, {'config_dir': [str(not_a_dir)]})
    assert code == 1
    assert 'is not a directory' in result['msg']


def test_telemetry_subset_returns_only_telemetry(capsys):
    code, result = run_module(capsys, {'gather_subset': ['telemetry'], 'live_query': False})
    assert code == 0
    facts = result['ansible_facts']['netdata']
    assert facts['gather_subset'] == ['telemetry']
    assert 'system_info' not in facts
    assert facts['telemetry']['state'] in ('absent', 'opted_out', 'opted_in', 'partial')
    assert result['changed'] is False
