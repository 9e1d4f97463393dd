# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Records from stored facts (a fact cache, an ansible --tree directory): no facts, stale
facts with their age, the timestamp fallbacks, and the counts a report publishes."""
import csv
import io
import json
import random

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (
    STATUSES, compliance, count_records, facts_collected_at, json_document, json_lines, merge_counts,
    records_from_store, render_json, stored_record, summarize, summary_from_counts)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_csv import render_csv
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import (
    human_age, render_html)
from test_inventory_report_synthetic import synthetic_facts, synthetic_records  # noqa: E402

NOW = 1767225600  # 2026-01-01T00:00:00Z
DAY = 86400


def cached(mode, age=None, **kw):
    """A host's cached ansible_facts, as a cache lookup hands them on."""
    facts = synthetic_facts(random.Random(3), mode, **kw)
    if age is not None:
        facts['collected_at'] = NOW - age
    return {'ansible_facts': {'netdata': facts}}


def test_fresh_facts_keep_their_class_and_age():
    record = stored_record('h', cached('out', age=300), NOW, max_age=DAY)
    assert (record['status'], record['age'], record['collected_at'], record['stale']) == (
        'opted_out', 300, NOW - 300, False)
    assert record['reachable'] is None  # not contacted: unknown, not "reachable"


def test_old_facts_are_stale_and_keep_the_last_known_state():
    record = stored_record('h', cached('in', age=3 * DAY), NOW, max_age=DAY)
    assert (record['status'], record['state'], record['age'], record['stale']) == (
        'stale', 'opted_in', 3 * DAY, True)
    assert record['opted_in'] is True and record['netdata'] is not None


def test_no_limit_means_never_stale():
    assert stored_record('h', cached('in', age=300 * DAY), NOW, max_age=0)['status'] == 'opted_in'


def test_facts_of_unknown_age_are_stale_under_a_limit_only():
    # facts gathered by a version of the collection without collected_at
    assert stored_record('h', cached('out'), NOW, max_age=DAY)['status'] == 'stale'
    record = stored_record('h', cached('out'), NOW, max_age=0)
    assert (record['status'], record['age']) == ('opted_out', None)


def test_setup_date_time_and_the_file_mtime_stand_in_for_collected_at():
    facts = cached('out')
    facts['ansible_facts']['date_time'] = {'epoch': str(NOW - 60)}  # setup's, a string
    assert stored_record('h', facts, NOW, max_age=DAY)['age'] == 60
    assert stored_record('h', cached('out'), NOW, max_age=DAY, stored_at=NOW - 10)['age'] == 10
    assert facts_collected_at({'collected_at': 'junk'}, {'ansible_date_time': {'epoch': '5'}}) == 5
    assert facts_collected_at({'collected_at': True}) is None


def test_a_clock_ahead_gives_age_zero():
    assert stored_record('h', cached('out', age=-50), NOW, max_age=DAY)['age'] == 0


def test_nothing_stored_and_no_netdata_facts_are_no_facts():
    none = stored_record('h', None, NOW, max_age=DAY, missing='nothing in the cache')
    assert (none['status'], none['error'], none['reachable'], none['netdata']) == (
        'no_facts', 'nothing in the cache', None, None)
    other = stored_record('h', {'ansible_facts': {'date_time': {'epoch': str(NOW - 5)}}}, NOW, max_age=DAY)
    assert other['status'] == 'no_facts' and 'netdata_facts never ran' in other['error']
    assert other['age'] == 5


def test_tree_results_of_unreachable_and_failed_hosts():
    dead = stored_record('d', {'unreachable': True, 'msg': 'port 1: Connection refused'}, NOW,
                         max_age=DAY, stored_at=NOW - 30)
    assert (dead['status'], dead['reachable'], dead['error'], dead['age']) == (
        'unreachable', False, 'port 1: Connection refused', 30)
    failed = stored_record('f', {'failed': True, 'msg': 'MODULE FAILURE'}, NOW, max_age=DAY)
    assert (failed['status'], failed['error']) == ('failed', 'MODULE FAILURE')


def test_every_host_once_in_order_and_counted_once():
    store = {'a': cached('out', age=10), 'b': cached('in', age=5 * DAY), 'c': None,
             'd': cached('partial', age=20), 'e': {'unreachable': True, 'msg': 'x'}}
    records = records_from_store(['a', 'b', 'c', 'a', 'd', 'e'], lambda h: (store.get(h), None),
                                 now=NOW, max_age=DAY)
    assert [r['hostname'] for r in records] == ['a', 'b', 'c', 'd', 'e']
    summary = summarize(records)
    assert summary['total'] == 5 == sum(summary['statuses'].values())
    assert {k: v for k, v in summary['statuses'].items() if v} == {
        'opted_out': 1, 'stale': 1, 'no_facts': 1, 'partial': 1, 'unreachable': 1}
    assert summary['headline'] == ('5 hosts: 1 opted out, 1 partial (half-way), 1 stale facts, '
                                   '1 no facts, 1 unreachable')
    # the stale host's last known facts still describe the environment
    assert summary['with_facts'] == 3
    assert compliance(summary) == {'opt_out': True, 'compliant': 1, 'not_compliant': 4}
    assert compliance(summary, opt_out=False) == {'opt_out': False, 'compliant': 0, 'not_compliant': 5}


def test_counts_of_parts_add_up_to_the_whole():
    records = synthetic_records(120)
    whole = summarize(records)
    parts = [records[:7], records[7:60], records[60:]]
    assert summary_from_counts(merge_counts(count_records(p) for p in parts)) == whole
    assert json_document(*[json_lines(p) for p in parts]) == render_json(records)
    assert json.loads(json_document('', json_lines(records[:2]), '')) == json.loads(render_json(records[:2]))
    assert json_document() == '[]\n'


def test_csv_has_the_age_columns_and_the_page_shows_age_and_last_state():
    records = records_from_store(['fresh', 'old', 'none'], lambda h: ({
        'fresh': cached('out', age=90), 'old': cached('in', age=2 * DAY + 3 * 3600)}.get(h), None),
        now=NOW, max_age=DAY)
    rows = list(csv.DictReader(io.StringIO(render_csv(records))))
    assert [(r['status'], r['collected_at'], r['facts_age_s']) for r in rows] == [
        ('opted_out', '2025-12-31T23:58:30Z', '90'),
        ('stale', '2025-12-29T21:00:00Z', str(2 * DAY + 3 * 3600)),
        ('no_facts', '', '')]
    page = render_html(records, source='fact cache (jsonfile), stale after 1 d', generated='now')
    assert 'from stored facts: fact cache (jsonfile), stale after 1 d' in page
    assert '<td data-v="%d">2 d 3 h</td>' % (2 * DAY + 3 * 3600) in page
    assert 'last known: opted in' in page
    for status in ('stale', 'no_facts'):
        assert 'data-status="%s"' % status in page  # their tiles


def test_a_live_report_shows_no_stored_only_tiles():
    page = render_html(synthetic_records(20), generated='now')
    assert 'data-status="stale"' not in page and 'data-status="no_facts"' not in page
    assert STATUSES.index('stale') < STATUSES.index('unreachable')


@pytest.mark.parametrize('seconds, text', [
    (0, '0 s'), (59, '59 s'), (60, '1 min'), (3599, '59 min'), (3600, '1 h 0 min'),
    (DAY + 7200, '1 d 2 h'), (None, ''), (-1, ''), (True, '')])
def test_human_age(seconds, text):
    assert human_age(seconds) == text
