# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory CSV: fixed column order, quoting, one row per host."""
import csv
import io
import random

import pytest


from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_csv import (  # noqa: E402
    COLUMNS, render_csv,
)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (  # noqa: E402
    host_record, records_from_results,
)
from test_inventory_report_synthetic import synthetic_facts, synthetic_records  # noqa: E402

# The published column order. Changing it breaks users' spreadsheets: append only.
EXPECTED_COLUMNS = (
    'hostname', 'address', 'reachable', 'status', 'state', 'opted_out', 'opted_in', 'drift',
    'statistics_script', 'daemon_analytics', 'crash_reports', 'installer',
    'install_count', 'netdata_versions', 'install_kinds', 'install_types', 'config_dirs',
    'machine_guids', 'claimed', 'daemon_running',
    'os', 'os_version', 'host_os_name', 'host_os_id', 'host_os_version_id',
    'container_os_name', 'container_os_id', 'container_os_version_id',
    'virtualization', 'container', 'kernel_name', 'kernel_version', 'architecture',
    'cpu_vendor', 'cpu_model', 'cpu_count', 'cpu_freq_hz', 'ram_bytes', 'disk_bytes',
    'cloud_type', 'cloud_instance_type', 'cloud_region',
    'error', 'reasons',
    'collected_at', 'facts_age_s',
    'container_agent_count', 'install_states', 'container_runtimes', 'container_names',
    'container_images', 'container_ids', 'container_config_persistence',
    'container_opted_out_until_recreated',
)


def parse(text):
    return list(csv.reader(io.StringIO(text)))


def test_column_order_is_stable():
    assert COLUMNS == EXPECTED_COLUMNS
    rows = parse(render_csv(synthetic_records(40)))
    assert tuple(rows[0]) == EXPECTED_COLUMNS
    assert len(rows) == 41
    assert all(len(r) == len(EXPECTED_COLUMNS) for r in rows)


def test_empty_fleet_is_just_the_header():
    assert render_csv([]) == ','.join(EXPECTED_COLUMNS) + '\n'


def test_hostile_values_round_trip():
    rng = random.Random(1)
    nasty = 'Evil, "Linux"\nsecond line\r\nthird; <script>alert(1)</script>'
    f = synthetic_facts(rng, 'out', os_entry=(nasty, 'evil', '1,2', '6.1.0'), container='none')
    f['system_info']['system_cpu_model'] = '=HYPERLINK("http://x.invalid","click")'
    text = render_csv([host_record('host,with "comma"', f)])
    rows = parse(text)
    row = dict(zip(rows[0], rows[1]))
    assert row['hostname'] == 'host,with "comma"'
    assert row['host_os_name'] == nasty
    assert row['os'] == nasty
    assert row['os_version'] == '1,2'
    # a cell that a spreadsheet would run as a formula is neutralised
    assert row['cpu_model'] == '\'=HYPERLINK("http://x.invalid","click")'
    assert len(rows) == 2  # newlines stayed inside their quoted cell


FORMULA_STARTS = ('=', '+', '-', '@', '\uff1d', '\uff0b', '\uff0d', '\uff20')
HOSTILE_NAMES = [
    '\r=cmd|\' /C calc\'!A0',              # a bare CR, then a formula
    'Debian\r=cmd|\' /C calc\'!A0',
    'Debian\n+1+1',
    'Debian\r\n @SUM(1)',
    '  =1+1',                              # blanks a reader may trim
    '\t-2+3',
    '\uff1dHYPERLINK("x")',                 # full-width equals sign
    'plain, "quoted"\rtext',
    'Debian;=cmd|\' /C calc\'!A0',          # ';' separates cells in decimal-comma locales
    'Debian; \t+1+1',
]


def _readings(text):
    """The ways a spreadsheet may read the file: RFC 4180 (quotes honoured), universal
    newlines (CR alone ends a line), a naive reader that splits rows on any CR or LF
    before it looks at quotes, and a spreadsheet whose locale separates cells with ';'
    (decimal-comma locales)."""
    yield 'rfc4180', list(csv.reader(io.StringIO(text, newline='')))
    yield 'semicolon', list(csv.reader(io.StringIO(text, newline=''), delimiter=';'))
    yield 'universal', list(csv.reader(io.StringIO(text)))
    naive = []
    for line in text.replace('\r\n', '\n').replace('\r', '\n').split('\n'):
        naive.extend(csv.reader([line]))
    yield 'naive', naive


@pytest.mark.parametrize('name', HOSTILE_NAMES)
def test_no_reading_starts_a_cell_with_a_formula(name):
    rng = random.Random(3)
    f = synthetic_facts(rng, 'out', os_entry=(name, 'evil', '1', '6.1.0'), container='none')
    text = render_csv([host_record('h1', f)])
    for how, rows in _readings(text):
        for cells in rows:
            for cell in cells:
                assert not cell.lstrip(' \t\r\n').startswith(FORMULA_STARTS), (how, cell, text)
    rows = list(csv.reader(io.StringIO(text, newline='')))
    assert len(rows) == 2  # the row was not split
    row = dict(zip(rows[0], rows[1]))
    # nothing is lost: the text is all there, only guarded
    assert row['host_os_name'].replace("'", '') == name.replace("'", '')


def test_row_values():
    rng = random.Random(2)
    records = records_from_results(
        ['a', 'dead', 'bare'],
        {'a': {'ansible_facts': {'netdata': synthetic_facts(rng, 'partial', version='2.3.2')}},
         'dead': {'unreachable': True, 'msg': 'Connection refused'},
         'bare': {'ansible_facts': {'netdata': synthetic_facts(rng, 'absent')}}},
        {'a': '127.0.0.5'})
    rows = [dict(zip(EXPECTED_COLUMNS, r)) for r in parse(render_csv(records))[1:]]
    a, dead, bare = rows
    assert (a['hostname'], a['address'], a['reachable'], a['status'], a['state']) == (
        'a', '127.0.0.5', 'true', 'partial', 'partial')
    assert (a['opted_out'], a['opted_in'], a['drift']) == ('false', 'false', 'false')
    assert (a['statistics_script'], a['daemon_analytics'], a['crash_reports'], a['installer']) == (
        'off', 'on', 'off', 'off')
    assert a['netdata_versions'] == '2.3.2' and a['install_count'] == '1'
    assert a['ram_bytes'].isdigit() and a['cpu_count'].isdigit()
    assert dead['reachable'] == 'false' and dead['status'] == 'unreachable'
    assert dead['error'] == 'Connection refused'
    assert dead['statistics_script'] == '' and dead['os'] == ''
    assert bare['status'] == 'absent' and bare['install_count'] == '0'
    assert bare['statistics_script'] == 'n/a'


def test_a_value_after_the_join_of_installs_never_starts_a_formula():
    """Several installs share a cell, joined with ';': the field separator of spreadsheets
    in locales whose decimal mark is the comma. There each value starts a cell."""
    rng = random.Random(5)
    f = synthetic_facts(rng, 'out', two_installs=True)
    f['installs'][1]['config_dir'] = '=HYPERLINK("http://x.invalid")'
    f['installs'][1]['version'] = ' -1+2'
    (row,) = [dict(zip(EXPECTED_COLUMNS, r)) for r in parse(render_csv([host_record('h', f)]))[1:]]
    assert row['config_dirs'] == '/etc/netdata;\'=HYPERLINK("http://x.invalid")'
    assert row['netdata_versions'].split(';')[1] == " '-1+2"


# Pieces of hostile and ordinary cell text: formula starts, blanks, breaks, separators.
PIECES = ('=', '+', '-', '@', ' ', '\t', '\r', '\n', ',', '"', ';', "'", 'a', '1', 'x y',
          '\uff1d', '\uff20', 'Debian', '2.3.2')


def _noise(rng, low, high):
    return ''.join(rng.choice(PIECES) for _piece in range(rng.randint(low, high)))


def _fuzzed(rng, count):
    """Synthetic records, some of their values replaced by random hostile text."""
    records = synthetic_records(count, seed=rng.randint(0, 1000))
    for record in records:
        if record.get('netdata') is None or rng.random() < 0.5:
            continue
        info = record['netdata']['system_info']
        for key in rng.sample(sorted(info), 3):
            info[key] = _noise(rng, 0, 4)
        if rng.random() < 0.3:
            info['system_cpu_logical_cpu_count'] = rng.choice([-4, 0, 2.5, float('-inf'), None, True, ['a', 'b']])
        if rng.random() < 0.3:
            record['error'] = _noise(rng, 1, 5)
        if rng.random() < 0.3 and record['installs']:
            record['installs'][0]['config_dir'] = _noise(rng, 1, 4)
        if rng.random() < 0.2:
            record['hostname'] = _noise(rng, 1, 4)
    return records


@pytest.mark.parametrize('seed', range(6))
def test_rows_are_exactly_the_cells_guarded_one_by_one(seed):
    """csv_rows takes a row at a time when no cell needs a guard or quotes; the bytes are
    those of the guards applied cell by cell, whatever the cells hold."""
    from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_csv import (
        _csv_line, csv_rows, row)
    records = _fuzzed(random.Random(seed), 150)
    assert csv_rows(records) == ''.join(_csv_line(row(record)) for record in records)
