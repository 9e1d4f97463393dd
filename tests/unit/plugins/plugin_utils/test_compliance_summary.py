# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The enforce_optout.yml compliance summary: every host in exactly one class."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.compliance_summary import (
    compliance_from_hostvars, host_row, summarize_compliance)


def applied(state, compliant=True, changed=False, drift=False, problems=None):
    return {'changed': changed,
            'ansible_facts': {'netdata': {'telemetry': {'state': state, 'drift': drift}}},
            'verify': {'compliant': compliant, 'problems': problems or []}}


def test_rows_by_result_kind():
    assert host_row(None)['class'] == 'unreachable'
    assert host_row({'unreachable': True, 'msg': 'x'})['problems'] == ['unreachable']
    assert host_row({'failed': True, 'msg': 'config dir is read-only'}) == {
        'class': 'failed', 'compliant': False, 'changed': False, 'drift': False,
        'problems': ['config dir is read-only']}
    row = host_row(applied('partial', compliant=False, problems=['daemon_analytics: on'], drift=True))
    assert row == {'class': 'partial', 'compliant': False, 'changed': False, 'drift': True,
                   'problems': ['daemon_analytics: on']}


def test_reverify_after_a_restart_wins_unless_skipped():
    before = applied('partial', compliant=False, changed=True, problems=['drift'])
    after = applied('opted_out')
    row = host_row(before, after)
    assert (row['class'], row['compliant'], row['changed']) == ('opted_out', True, True)
    assert host_row(before, {'skipped': True})['compliant'] is False


def test_verify_disabled_counts_as_compliant():
    assert host_row(applied('partial', compliant=False, problems=['x']), verify_enabled=False)['compliant'] is True


def test_summary_lines_and_not_compliant():
    rows = [('a', host_row(applied('opted_out', changed=True))),
            ('b', host_row(applied('absent'))),
            ('c', host_row({'failed': True, 'msg': 'boom'})),
            ('d', host_row(None))]
    summary = summarize_compliance(rows, opt_out=True, check_mode=True)
    lines = summary['netdata_telemetry']
    assert lines[0] == 'asked OPT-OUT (audit, --check: nothing changed), 4 host(s)'
    assert 'opted out:        1  a' in lines
    assert 'no Netdata:       1  b' in lines
    assert 'would change:     1  a' in lines
    assert 'NOT COMPLIANT:    2  c, d' in lines
    assert summary['not_compliant'] == {'c': ['boom'], 'd': ['unreachable']}


class FakeHostVars(dict):
    """hostvars: reading a host's vars is counted, as each access templates on 2.19."""
    reads = 0

    def __getitem__(self, host):
        FakeHostVars.reads += 1
        return dict.__getitem__(self, host)


def test_from_hostvars_reads_each_host_once_and_keeps_missing_hosts():
    hostvars = FakeHostVars({'a': {'netdata_telemetry_apply': applied('opted_in')}, 'b': {}})
    FakeHostVars.reads = 0
    summary = compliance_from_hostvars(hostvars, ['a', 'b', 'ghost'], opt_out=False)
    assert FakeHostVars.reads == 3
    assert summary['netdata_telemetry'][0] == 'asked OPT-IN, 3 host(s)'
    assert 'opted in:         1  a' in summary['netdata_telemetry']
    assert 'unreachable:      2  b, ghost' in summary['netdata_telemetry']


def test_a_container_opted_out_only_until_re_created_is_a_class_of_its_own():
    """Never counted silently with the hosts that stay opted out: its own class, and the
    module's line per container (what makes it last) in the summary."""
    line = ('docker:nd1:/etc/netdata: opted out until re-created (config dir on layer, no opt-out in '
            'the container environment): re-create it with -e DO_NOT_TRACK=1 -e DISABLE_TELEMETRY=1')
    lasting = dict(applied('opted_out'), until_recreated=[line])
    row = host_row(applied('partial', compliant=False, problems=['x']), lasting)
    assert row['class'] == 'opted_out_until_recreated' and row['until_recreated'] == [line]
    assert row['compliant'] is True   # opted out now: verify passed
    rows = [('a', host_row(applied('opted_out'))), ('b', row)]
    summary = summarize_compliance(rows)
    assert 'opted out:        1  a' in summary['netdata_telemetry']
    assert 'opted out until re-created:   1  b' in summary['netdata_telemetry']
    assert '  b: ' + line in summary['netdata_telemetry']
    assert summary['until_recreated'] == {'b': [line]}
    assert summary['counts']['opted_out_until_recreated'] == 1 and summary['counts']['opted_out'] == 1
    # a host that is not opted out keeps its class (its problems say why)
    assert host_row(dict(applied('partial', compliant=False), until_recreated=[line]))['class'] == 'partial'
