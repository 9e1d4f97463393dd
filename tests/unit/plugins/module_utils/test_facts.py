# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import (
    GatherSubsetError, gather_netdata_facts, resolve_gather_subset)


@pytest.mark.parametrize('requested, expected', [
    (['all'], {'telemetry', 'system'}),
    ([], {'telemetry', 'system'}),
    (['telemetry'], {'telemetry'}),
    (['system'], {'system'}),
    (['!system'], {'telemetry'}),
    (['all', '!telemetry'], {'system'}),
    (['telemetry', 'system', '!all'], set()),
    ([' telemetry '], {'telemetry'}),
])
def test_resolve_gather_subset(requested, expected):
    assert resolve_gather_subset(requested) == expected


@pytest.mark.parametrize('requested', [['hardware'], ['!'], [''], [3], ['all', 'min']])
def test_resolve_gather_subset_rejects_junk(requested):
    with pytest.raises(GatherSubsetError) as err:
        resolve_gather_subset(requested)
    assert 'gather_subset' in str(err.value)


def _write(root, path, text):
    full = os.path.join(str(root), path.lstrip('/'))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w') as f:
        f.write(text)


def _no_binary(argv, *args, **kwargs):
    return 127, '', 'not found'


def test_host_without_netdata_is_absent_not_an_error(tmp_path):
    facts = gather_netdata_facts({'telemetry'}, root=str(tmp_path), live_query=False, run_command=_no_binary)
    assert facts['installed'] is False
    assert facts['installs'] == []
    assert facts['telemetry']['state'] == 'absent'
    assert facts['telemetry']['opted_in'] is False
    assert 'system_info' not in facts


def test_env_only_optout_is_partial_on_a_v1_daemon(tmp_path):
    """DO_NOT_TRACK=1 in a drop-in silences the script but not a 1.37 daemon's analytics flag."""
    _write(tmp_path, '/etc/netdata/netdata.conf', '[global]\n')
    _write(tmp_path, '/lib/systemd/system/netdata.service',
           '[Service]\nExecStart=/usr/sbin/netdata -D\n')
    _write(tmp_path, '/etc/systemd/system/netdata.service.d/dnt.conf',
           '[Service]\nEnvironment=DO_NOT_TRACK=1\n')
    _write(tmp_path, '/usr/sbin/netdata', '')

    def version(argv, *args, **kwargs):
        return 0, 'netdata v1.37.1\n', ''

    facts = gather_netdata_facts({'telemetry'}, root=str(tmp_path), live_query=False, run_command=version)
    install = facts['installs'][0]
    channels = install['telemetry']['channels']
    assert install['service']['environment']['DO_NOT_TRACK'] == '1'
    assert channels['statistics_script']['enabled'] is False
    assert channels['daemon_analytics']['enabled'] is True
    assert facts['telemetry']['state'] == 'partial'
    assert 'evidence' not in install
    assert any(r.startswith('[/etc/netdata] daemon_analytics:') for r in facts['telemetry']['reasons'])
