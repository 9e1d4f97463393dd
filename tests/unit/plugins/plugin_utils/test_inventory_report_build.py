# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's parts built in one process or in forked workers: the same bytes either
way, host order kept, a worker's failure raised in the caller, no child left behind."""
import os

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_build import (
    BuildError, auto_workers, build_parts, text_of)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (
    summarize, summary_from_counts)
from test_inventory_report_synthetic import synthetic_records  # noqa: E402

RECORDS = synthetic_records(301)
BY_HOST = dict((r['hostname'], r) for r in RECORDS)
HOSTS = [r['hostname'] for r in RECORDS]


def records_for(run):
    return [BY_HOST[h] for h in run]


def children():
    """This process's children, zombies included. Other tests in the same run (the lab's
    session fixtures) may keep children of their own alive: compare before and after."""
    me = str(os.getpid())
    found = set()
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as stat:
                fields = stat.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            found.add(int(name))
    return found


@pytest.fixture
def no_new_children():
    before = children()
    yield
    assert children() <= before, 'build_parts left a child process behind'


@pytest.mark.parametrize('workers', [2, 3, 8])
@pytest.mark.usefixtures('no_new_children')
def test_workers_build_the_same_parts(workers):
    one = build_parts(HOSTS, records_for, workers=1)
    many = build_parts(HOSTS, records_for, workers=workers)
    # a child's texts come as UTF-8 bytes, the caller's as text: the same text either way
    assert any(not isinstance(c, str) for c in many['csv']) and all(isinstance(c, str) for c in one['csv'])
    assert text_of(many['csv']) == text_of(one['csv']) and text_of(many['html']) == text_of(one['html'])
    assert (',\n'.join(text_of([p]) for p in many['json'] if p)
            == ',\n'.join(text_of([p]) for p in one['json'] if p))
    assert summary_from_counts(many['counts']) == summary_from_counts(one['counts']) == summarize(RECORDS)


@pytest.mark.usefixtures('no_new_children')
def test_a_workers_failure_is_raised_in_the_caller():
    def failing(run):
        if HOSTS[-1] in run:  # the last run is always a child's
            raise ValueError('cannot read the store')
        return records_for(run)
    with pytest.raises(BuildError) as info:
        build_parts(HOSTS, failing, workers=3)
    assert info.value.kind == 'ValueError' and 'cannot read the store' in str(info.value)


@pytest.mark.usefixtures('no_new_children')
def test_the_callers_failure_leaves_no_child():
    def failing(run):
        if HOSTS[0] in run:  # the first run is the caller's own
            raise RuntimeError('boom')
        return records_for(run)
    with pytest.raises(RuntimeError):
        build_parts(HOSTS, failing, workers=2)


def test_auto_workers():
    assert auto_workers(100, cpus=8) == 1
    assert auto_workers(20000, cpus=2) == 2
    assert auto_workers(5000, cpus=8) == 2
    assert auto_workers(10 ** 6, cpus=64) == 8
    assert build_parts([], records_for, workers=4)['counts']['total'] == 0
