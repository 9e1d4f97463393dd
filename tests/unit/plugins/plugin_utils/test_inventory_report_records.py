# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-host records and fleet aggregation of the inventory report."""
import json
import random


import pytest  # noqa: E402

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (  # noqa: E402
    CHANNELS, STATUSES, channel_state, combine_channel_states, host_record, natural_key,
    records_from_results, render_json, summarize, to_plain,
)
from test_inventory_report_synthetic import synthetic_facts, synthetic_records  # noqa: E402


def facts(mode, **kw):
    return synthetic_facts(random.Random(7), mode, **kw)


def ok(mode, **kw):
    return {'ansible_facts': {'netdata': facts(mode, **kw)}, 'changed': False}


@pytest.mark.parametrize('channel, expected', [
    ({'applies': True, 'enabled': True}, 'on'),
    ({'applies': True, 'enabled': False}, 'off'),
    ({'applies': True, 'enabled': None}, 'unknown'),
    ({'applies': False, 'enabled': None}, 'n/a'),
    ({'applies': False, 'enabled': True}, 'n/a'),
    (None, 'unknown'),
    ({}, 'unknown'),
])
def test_channel_state(channel, expected):
    assert channel_state(channel) == expected


@pytest.mark.parametrize('states, expected', [
    (['off', 'on'], 'on'),          # one install that sends is enough
    (['off', 'unknown'], 'unknown'),
    (['off', 'n/a'], 'off'),
    (['n/a', 'n/a'], 'n/a'),
    ([], 'n/a'),
])
def test_combine_channel_states(states, expected):
    assert combine_channel_states(states) == expected


def test_every_class_is_counted_once():
    hosts = ['out1', 'out2', 'in1', 'part1', 'drift1', 'none1', 'dead1', 'fail1', 'missing1']
    results = {
        'out1': ok('out'), 'out2': ok('out'), 'in1': ok('in'), 'part1': ok('partial'),
        'drift1': ok('out', drift=True), 'none1': ok('absent'),
        'dead1': {'unreachable': True, 'msg': 'ssh: connect to host 127.0.0.9 port 1: Connection refused'},
        'fail1': {'failed': True, 'msg': 'MODULE FAILURE'},
        # missing1: no result at all (host left the play): still a record
    }
    records = records_from_results(hosts, results, {'out1': '10.0.0.1'})
    assert [r['hostname'] for r in records] == hosts
    by = dict((r['hostname'], r) for r in records)
    assert by['out1']['address'] == '10.0.0.1'
    assert by['drift1']['status'] == 'drifting' and by['drift1']['state'] == 'opted_out'
    assert by['none1']['status'] == 'absent' and by['none1']['channels'] == dict.fromkeys(CHANNELS, 'n/a')
    assert by['dead1']['reachable'] is False and 'Connection refused' in by['dead1']['error']
    assert by['missing1']['status'] == 'unreachable'
    assert by['fail1']['status'] == 'failed' and by['fail1']['error'] == 'MODULE FAILURE'
    assert by['fail1']['reachable'] is True and by['fail1']['netdata'] is None

    summary = summarize(records)
    assert summary['total'] == 9
    assert summary['statuses'] == {'opted_out': 2, 'opted_in': 1, 'partial': 1, 'drifting': 1,
                                   'absent': 1, 'stale': 0, 'no_facts': 0, 'unreachable': 2, 'failed': 1}
    assert sum(summary['statuses'].values()) == summary['total']
    assert summary['drift'] == 1
    assert summary['reachable'] == 7
    assert summary['installs'] == 5
    assert summary['headline'].startswith('9 hosts: 2 opted out, 1 opted in, 1 partial (half-way), '
                                          '1 drifting, 1 no agent, 2 unreachable, 1 facts failed')
    # channel matrix: only hosts with facts, every host once per channel
    for name in CHANNELS:
        assert sum(summary['channels'][name].values()) == 6


def test_partial_host_shows_each_channel():
    record = host_record('h', facts('partial', version='2.3.2'))
    assert record['status'] == 'partial'
    assert record['channels'] == {'statistics_script': 'off', 'daemon_analytics': 'on',
                                  'crash_reports': 'off', 'installer': 'off'}
    assert record['installs'][0]['state'] == 'partial'


def test_two_installs_one_sending_is_on():
    record = host_record('h', facts('in', version='2.5.4', two_installs=True))
    assert [i['kind'] for i in record['installs']] == ['native', 'static']
    assert record['channels']['statistics_script'] == 'on'
    assert record['status'] == 'partial'


def test_unexpected_facts_are_a_failure_not_a_crash():
    for odd in ({}, {'telemetry': 'x'}, {'telemetry': {'state': 'weird'}}, {'installs': 'x'}):
        record = host_record('h', odd)
        assert record['status'] == 'failed' and record['error']


def test_os_prefers_the_container_os_inside_a_container():
    rng = random.Random(3)
    inside = host_record('c', synthetic_facts(rng, 'out', container='docker',
                                              os_entry=('Alpine Linux', 'alpine', '3.20.3', '6.1.0')))
    assert inside['system']['os_label'] == 'Alpine Linux 3.20.3'
    assert inside['system']['container'] == 'docker'
    outside = host_record('b', synthetic_facts(rng, 'out', container='none',
                                               os_entry=('Debian GNU/Linux', 'debian', '12', '6.1.0')))
    assert outside['system']['os_label'] == 'Debian GNU/Linux 12'


def test_rankings_are_by_count_then_natural_order():
    records = [host_record(str(i), facts('out', version=v))
               for i, v in enumerate(['1.9.0', '1.10.0', '1.10.0', '2.3.2', '1.44.3'])]
    assert summarize(records)['versions'] == [['1.10.0', 2], ['1.9.0', 1], ['1.44.3', 1], ['2.3.2', 1]]
    assert natural_key('5.10.0') < natural_key('6.1.0') < natural_key('6.10.0')


def test_records_are_plain_json():
    records = synthetic_records(50)
    assert json.loads(json.dumps(records)) == records


def test_to_plain_drops_ansible_data_tags():
    template = pytest.importorskip('ansible.template')
    if not hasattr(template, 'trust_as_template'):
        pytest.skip('ansible-core < 2.19 has no data tagging')
    tagged = template.trust_as_template('Debian')
    assert tagged.__class__ is not str  # exact types: tagged values are str subclasses
    plain = to_plain({'name': tagged, 'list': [tagged], 'tuple': (1, 2)})
    assert plain == {'name': 'Debian', 'list': ['Debian'], 'tuple': [1, 2]}
    assert plain['name'].__class__ is str and plain['list'][0].__class__ is str


def test_statuses_cover_every_class():
    assert STATUSES == ('opted_out', 'opted_in', 'partial', 'drifting', 'absent', 'stale', 'no_facts',
                        'unreachable', 'failed')


def test_render_json_is_one_record_per_line():
    records = synthetic_records(20)
    text = render_json(records)
    assert json.loads(text) == records
    lines = text.splitlines()
    assert lines[0] == '[' and lines[-1] == ']' and len(lines) == 22
    assert json.loads(lines[1].rstrip(',')) == records[0]
    assert render_json([]) == '[]\n'
    nasty = host_record('h\u2028"\n</script>', None)
    assert json.loads(render_json([nasty]))[0]['hostname'] == nasty['hostname']
