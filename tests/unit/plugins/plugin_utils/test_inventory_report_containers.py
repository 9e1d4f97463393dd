# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netdata agents in containers in the fleet report: each an install of its host, with its
runtime, name and image, in inventory.json, inventory.csv and report.html, and counted in
the summary (by class, "opted out until re-created" apart, by runtime, by image).

The first test takes its facts from netdata_facts' own gatherer over the fixture host of
the container discovery tests (the containers' /proc files and the runtimes' `inspect`
output captured from real docker and podman); the others from the synthetic fleet."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io
import json
import os
import random
import sys

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_csv import (
    COLUMNS, render_csv)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import (
    host_row, render_html)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (
    CONTAINER_CLASSES, count_records, host_record, merge_counts, render_json, summarize, summary_from_counts)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import OPTOUT_FILE_NAME
from test_inventory_report_synthetic import synthetic_container_install, synthetic_facts, synthetic_records  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'module_utils', '_discovery'))
import test_container_installs as fixture_host  # noqa: E402


def rows_of(text):
    rows = list(csv.reader(io.StringIO(text, newline='')))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def real_host_facts(tmp_path):
    """netdata_facts' telemetry facts of a host with three container agents, as the
    gatherer reads them: docker d1 (1.37.1, DO_NOT_TRACK=1: opted out, and again after a
    re-creation), docker d2 (2.10.4 on a volume: opted in), podman p2 (2.10.4, the opt-out
    file and netdata.conf in its own layer, DO_NOT_TRACK=0: opted out until re-created)."""
    host = fixture_host.Host(tmp_path)
    btime = fixture_host.BTIME
    d1 = host.image_root('d1', '1.37.1', optout=True)
    d2 = host.image_root('d2', '2.10.4')
    p2 = host.image_root('p2', '2.10.4', optout=True)
    fixture_host.write(p2 / 'etc/netdata/netdata.conf', '[global]\n    crash reports = off\n')
    host.daemon(327, d1, fixture_host.fixture('cgroup-docker-d1-layer.txt'),
                fixture_host.fixture('mountinfo-docker-d1-layer.txt'), environ=[('DO_NOT_TRACK', '1')])
    host.daemon(666, d2, fixture_host.fixture('cgroup-docker-d2-volume.txt'),
                fixture_host.fixture('mountinfo-docker-d2-volume.txt'))
    host.daemon(1513, p2, fixture_host.fixture('cgroup-podman-p2-layer.txt'),
                fixture_host.fixture('mountinfo-podman-p2-layer.txt'), environ=[('DO_NOT_TRACK', '0')])
    host.cli('docker', [fixture_host.inspected('docker', 'd1'), fixture_host.inspected('docker', 'd2')])
    host.cli('podman', [fixture_host.inspected('podman', 'p2')])
    host.hello_answers.update({327: False, 666: True, 1513: False})
    for path in (d1 / 'etc/netdata', d1 / 'etc/netdata' / OPTOUT_FILE_NAME):
        fixture_host.set_mtime(path, btime + 50)
    for path in (p2 / 'etc/netdata', p2 / 'etc/netdata' / OPTOUT_FILE_NAME, p2 / 'etc/netdata/netdata.conf'):
        fixture_host.set_mtime(path, btime + 10)
    facts = host.facts()
    assert facts['container_errors'] == []
    return facts


def test_real_container_agents_are_installs_of_their_host_in_every_output(tmp_path):
    facts = real_host_facts(tmp_path)
    record = host_record('ctr', facts)
    by_name = dict((i['container']['name'], i) for i in record['installs'] if i['container'])
    assert sorted(by_name) == ['d1', 'd2', 'p2']
    assert all(i['kind'] == 'container' for i in by_name.values())
    d1, d2, p2 = by_name['d1'], by_name['d2'], by_name['p2']
    assert (d1['container']['runtime'], d1['container']['image'], d1['state']) == (
        'docker', 'localhost/netdata-lab:1.37.1', 'opted_out')
    assert d1['container']['opted_out_until_recreated'] is False
    assert (d2['container']['runtime'], d2['container']['config_persistence'], d2['state']) == (
        'docker', 'volume', 'opted_in')
    assert (p2['container']['runtime'], p2['container']['config_persistence'], p2['state']) == (
        'podman', 'layer', 'opted_out')
    assert p2['container']['opted_out_until_recreated'] is True
    assert len(d1['container']['id']) == 64 and d1['container']['running'] is True

    # inventory.json: each install with its container's summary
    (again,) = json.loads(render_json([record]))
    assert [i['container'] and i['container']['name'] for i in again['installs']] == [
        i['container'] and i['container']['name'] for i in record['installs']]

    # inventory.csv: the old columns as they were, the container columns appended
    (row,) = rows_of(render_csv([record]))
    kinds = row['install_kinds'].split(';')
    assert kinds.count('container') == 3 and row['container_agent_count'] == '3'
    for column in ('install_states', 'container_runtimes', 'container_names', 'container_images',
                   'container_ids', 'container_config_persistence', 'container_opted_out_until_recreated'):
        assert len(row[column].split(';')) == len(kinds), column  # one value per install, aligned
    by_csv = dict((name, index) for index, name in enumerate(row['container_names'].split(';')) if name)
    column = dict((c, row[c].split(';')) for c in COLUMNS[COLUMNS.index('install_states'):])
    assert [column['container_runtimes'][by_csv[n]] for n in ('d1', 'd2', 'p2')] == ['docker', 'docker', 'podman']
    assert [column['install_states'][by_csv[n]] for n in ('d1', 'd2', 'p2')] == ['opted_out', 'opted_in', 'opted_out']
    assert [column['container_opted_out_until_recreated'][by_csv[n]] for n in ('d1', 'd2', 'p2')] == [
        'false', 'false', 'true']
    assert column['container_images'][by_csv['p2']] == p2['container']['image']
    assert column['container_ids'][by_csv['d2']] == d2['container']['id']

    # report.html: the host's container agents in its row, and counted
    summary = summarize([record])
    agents = summary['container_agents']
    assert (agents['total'], agents['hosts'], agents['running']) == (3, 1, 3)
    assert dict((c, agents[c]) for c in CONTAINER_CLASSES) == {
        'opted_out': 1, 'opted_out_until_recreated': 1, 'opted_in': 1, 'partial': 0, 'unknown': 0}
    assert summary['container_runtimes'] == [['docker', 2], ['podman', 1]]
    assert ['container', 3] in summary['install_kinds']
    assert summary['headline'].endswith(
        '; 3 container agents: 1 opted out, 1 opted out until re-created, 1 opted in')
    page = render_html([record], generated='now')
    assert 'docker d1 (localhost/netdata-lab:1.37.1): opted out' in page
    assert 'podman p2 (%s): opted out until re-created' % p2['container']['image'] in page
    assert 'data-container-class="opted_out_until_recreated"><div class="n">1</div>' in page
    assert '3 Netdata installs (3 in containers)' in page


def synthetic_host(mode='out', containers=2, until_recreated=1, seed=3):
    rng = random.Random(seed)
    return synthetic_facts(rng, mode, containers=containers, until_recreated=until_recreated,
                           container_rng=random.Random(seed + 1))


def test_counts_by_class_runtime_and_image_add_up_over_parts():
    records = synthetic_records(400)
    agents = [i for r in records for i in r['installs'] if i['container']]
    assert agents and any(i['container']['opted_out_until_recreated'] for i in agents)
    summary = summarize(records)
    counted = summary['container_agents']
    assert counted['total'] == len(agents) == sum(counted[c] for c in CONTAINER_CLASSES)
    assert counted['hosts'] == sum(1 for r in records if any(i['container'] for i in r['installs']))
    assert sum(n for _runtime, n in summary['container_runtimes']) == len(agents)
    assert sum(n for _image, n in summary['container_images']) == len(agents)
    assert dict(summary['install_kinds'])['container'] == len(agents)
    # counted in parts (the report's workers), the same summary
    parts = [records[:33], records[33:250], records[250:]]
    assert summary_from_counts(merge_counts(count_records(p) for p in parts)) == summary


def test_until_recreated_is_its_own_class_never_with_the_lasting():
    record = host_record('h', synthetic_host('out', containers=3, until_recreated=2))
    classes = summarize([record])['container_agents']
    assert (classes['opted_out'], classes['opted_out_until_recreated']) == (1, 2)
    # the host stays opted out (its facts say so); the report says what makes it not last
    assert record['status'] == 'opted_out'
    assert 'opted out until re-created' in host_row(record)['containers'][0]


def test_a_host_without_container_agents_counts_none_and_reads_as_before():
    record = host_record('h', synthetic_facts(random.Random(1), 'out'))
    summary = summarize([record])
    assert summary['container_agents']['total'] == 0 and summary['container_runtimes'] == []
    assert summary['headline'] == '1 host: 1 opted out'
    (row,) = rows_of(render_csv([record]))
    assert row['container_agent_count'] == '0' and row['install_states'] == 'opted_out'
    assert row['container_runtimes'] == row['container_names'] == ''
    assert 'no Netdata agent in a container' in render_html([record], generated='now')
    # a host without facts: the container columns are empty, not 0
    (dead,) = rows_of(render_csv([host_record('d', reachable=False, error='refused')]))
    assert dead['container_agent_count'] == '' and dead['install_states'] == ''


def test_container_without_cli_shows_its_runtime_and_short_id():
    install = synthetic_container_install(random.Random(2), '2.10.4', 'in', runtime='unknown')
    facts = synthetic_facts(random.Random(2), 'in')
    facts['installs'].append(install)
    record = host_record('h', facts)
    (line,) = host_row(record)['containers']
    assert line == 'unknown %s: opted in' % install['container']['id'][:12]
    (row,) = rows_of(render_csv([record]))
    assert row['container_names'] == ';' and row['container_images'] == ';'
    assert row['container_runtimes'] == ';unknown'


@pytest.mark.parametrize('name, image', [
    ('=cmd|\' /C calc\'!A0', '@SUM(1+1)'),
    ('-2+3', '+1'),
    ('  =1+1', '\uff1dHYPERLINK("x")'),
    ('a;=1+1', 'img;@x'),
])
def test_container_names_and_images_never_start_a_formula(name, image):
    """A container's name and image come from the runtime (anyone who may run a container
    on the host chooses them). Each value is guarded as a cell start, also after the ';'
    that joins several installs (the field separator of spreadsheets in locales with a
    decimal comma)."""
    facts = synthetic_host('in', containers=2, until_recreated=0)
    for install in facts['installs'][1:]:
        install['container'].update(name=name, image=image)
    text = render_csv([host_record('h', facts)])
    (row,) = rows_of(text)
    for column in ('container_names', 'container_images'):
        for reading in (row[column], row[column].replace(';', ',')):
            for value in reading.replace(',', ';').split(';'):
                assert not value.lstrip(' \t').startswith(('=', '+', '-', '@', '\uff1d', '\uff0b', '\uff0d', '\uff20')), (
                    column, value)
    assert row['container_names'].replace("'", '').endswith(name.replace("'", ''))


def test_container_strings_are_escaped_in_the_page():
    facts = synthetic_host('out', containers=1, until_recreated=0)
    facts['installs'][1]['container'].update(name='<script>alert(1)</script>', image='x" onmouseover="alert(2)')
    page = render_html([host_record('h', facts)], generated='now')
    assert '<script>alert(1)' not in page and 'onmouseover="alert' not in page
    assert '&lt;script&gt;alert(1)&lt;/script&gt;' in page


@pytest.mark.parametrize('container', [None, 'x', {}, {'runtime': 7, 'id': 12345, 'name': ['a'], 'image': {'b': 1}}])
def test_an_odd_container_object_is_shown_not_raised(container):
    facts = synthetic_host('in', containers=1, until_recreated=0)
    facts['installs'][1]['container'] = container
    record = host_record('h', facts)
    (line,) = host_row(record)['containers']
    assert line.endswith(': opted in')
    assert json.loads(render_json([record]))[0]['installs'][1]['container']['runtime'] in ('unknown', '7')
    assert rows_of(render_csv([record]))[0]['container_agent_count'] == '1'
    assert summarize([record])['container_agents']['total'] == 1
