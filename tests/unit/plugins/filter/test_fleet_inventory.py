# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet_* filters as Ansible calls them: hostvars in, plain data and text out."""
import csv
import io
import json
import os
import random
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_HERE, '..', 'plugin_utils'))

import pytest  # noqa: E402
from ansible.errors import AnsibleFilterError  # noqa: E402

from ansible_collections.netdata_fleet.telemetry.plugins.filter.fleet_inventory import FilterModule  # noqa: E402
from test_inventory_report_synthetic import synthetic_facts  # noqa: E402

FILTERS = FilterModule().filters()


def _tag(value):
    """Tag every string the way ansible-core 2.19 hands values to a filter (when it can)."""
    try:
        from ansible.template import trust_as_template
    except ImportError:
        return value
    if isinstance(value, dict):
        return dict((k, _tag(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_tag(v) for v in value]
    return trust_as_template(value) if isinstance(value, str) else value


class LazyHostvars(dict):
    """Counts reads per host, like hostvars that template on access."""

    def __init__(self, *a, **kw):
        dict.__init__(self, *a, **kw)
        self.reads = {}

    def __getitem__(self, host):
        self.reads[host] = self.reads.get(host, 0) + 1
        return dict.__getitem__(self, host)


def hostvars():
    rng = random.Random(9)
    return LazyHostvars({
        'a': {'ansible_host': '127.0.0.2', 'netdata_inventory_result': _tag(
            {'changed': False, 'ansible_facts': {'netdata': synthetic_facts(rng, 'out')}})},
        'b': {'ansible_host': '127.0.0.3', 'netdata_inventory_result': _tag(
            {'unreachable': True, 'msg': 'Connection refused', 'changed': False})},
        # facts from an earlier gather, no registered result
        'c': {'ansible_facts': _tag({'netdata': synthetic_facts(rng, 'partial', version='2.3.2')})},
        'd': {'netdata_inventory_result': {'failed': True, 'msg': 'MODULE FAILURE'}},
    })


def test_filters_are_registered():
    assert set(FILTERS) == {'fleet_records', 'fleet_summary', 'fleet_json', 'fleet_csv', 'fleet_report_html'}


def test_fleet_records_from_hostvars():
    hv = hostvars()
    records = FILTERS['fleet_records'](hv, ['a', 'b', 'c', 'd', 'not-in-inventory'])
    assert [r['hostname'] for r in records] == ['a', 'b', 'c', 'd', 'not-in-inventory']
    assert [r['status'] for r in records] == ['opted_out', 'unreachable', 'partial', 'failed', 'unreachable']
    assert records[0]['address'] == '127.0.0.2'
    assert records[1]['error'] == 'Connection refused'
    assert all(n == 1 for n in hv.reads.values())  # each host read once
    # plain types all the way down (no tagged str subclasses reach the files)
    seen = []

    def walk(v):
        seen.append(type(v))
        if isinstance(v, dict):
            for k, x in v.items():
                assert k.__class__ is str  # exactly str: a tagged subclass must not pass
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(records)
    assert set(seen) <= {dict, list, str, int, float, bool, type(None)}


def test_unreachable_list_wins():
    records = FILTERS['fleet_records'](hostvars(), ['a'], unreachable=['a'])
    assert records[0]['status'] == 'unreachable'


def test_summary_csv_and_html_from_records():
    records = FILTERS['fleet_records'](hostvars(), ['a', 'b', 'c', 'd'])
    summary = FILTERS['fleet_summary'](_tag(records))
    assert summary['statuses']['unreachable'] == 1 and summary['total'] == 4
    rows = list(csv.reader(io.StringIO(FILTERS['fleet_csv'](_tag(records)))))
    assert [r[0] for r in rows[1:]] == ['a', 'b', 'c', 'd']
    text = FILTERS['fleet_json'](_tag(records))
    assert json.loads(text) == records
    assert text.count('\n') == 1 + 4 + 1  # '[', one line per host, ']'
    page = FILTERS['fleet_report_html'](_tag(records), title=_tag('Fleet <A>'), generated='x')
    assert '<title>Fleet &lt;A&gt;</title>' in page
    page2 = FILTERS['fleet_report_html'](records, summary, generated='x')
    assert summary['headline'] in page2


def test_wrong_input_is_a_clear_error():
    with pytest.raises(AnsibleFilterError, match='fleet_csv expects the list'):
        FILTERS['fleet_csv']({'not': 'records'})
