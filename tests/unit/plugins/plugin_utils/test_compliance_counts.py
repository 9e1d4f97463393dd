# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The compliance counts enforce_optout.yml publishes with set_stats (AWX/AAP artifacts)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.compliance_summary import (
    host_row, summarize_compliance)


def applied(state, compliant=True, changed=False, drift=False):
    return {'changed': changed,
            'ansible_facts': {'netdata': {'telemetry': {'state': state, 'drift': drift}}},
            'verify': {'compliant': compliant, 'problems': [] if compliant else ['daemon_analytics: on']}}


def test_counts_match_the_lines_and_add_up():
    rows = [('a', host_row(applied('opted_out', changed=True))),
            ('b', host_row(applied('opted_out'))),
            ('c', host_row(applied('partial', compliant=False, drift=True))),
            ('d', host_row(applied('absent'))),
            ('e', host_row(None)),
            ('f', host_row({'failed': True, 'msg': 'read-only'}))]
    summary = summarize_compliance(rows, check_mode=True)
    assert summary['counts'] == {'hosts': 6, 'opted_out': 2, 'opted_out_until_recreated': 0,
                                 'opted_in': 0, 'absent': 1, 'partial': 1,
                                 'failed': 1, 'unreachable': 1, 'changed': 1, 'drifting': 1,
                                 'not_compliant': 3}
    assert summary['counts']['not_compliant'] == len(summary['not_compliant'])
    classes = ('opted_out', 'opted_out_until_recreated', 'opted_in', 'absent', 'partial', 'failed',
               'unreachable')
    assert sum(summary['counts'][c] for c in classes) == summary['counts']['hosts']


def test_an_empty_play_counts_nothing():
    assert summarize_compliance([])['counts'] == {
        'hosts': 0, 'opted_out': 0, 'opted_out_until_recreated': 0, 'opted_in': 0, 'absent': 0,
        'partial': 0, 'failed': 0,
        'unreachable': 0, 'changed': 0, 'drifting': 0, 'not_compliant': 0}
