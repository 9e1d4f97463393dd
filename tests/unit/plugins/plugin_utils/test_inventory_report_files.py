# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report's files written from parts in chunks (text, or a worker's UTF-8 bytes): the
same bytes as the whole texts, a file left alone only when its bytes and mode are already
those, and nothing written in check mode."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils import inventory_report_files as files
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_build import (
    build_parts, merge_parts, parts_from_records)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_csv import render_csv
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import render_html
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (
    render_json, summarize, summary_from_counts)
from test_inventory_report_synthetic import synthetic_records  # noqa: E402

RECORDS = synthetic_records(120)
RECORDS[5]['hostname'] = u'caf\u00e9-\u4e2d-\U0001F600'  # not ASCII: bytes and text differ in length


def parts_in_bytes_and_text():
    """The records' parts as the action gets them from one worker in this process (text)
    and one child (bytes)."""
    mine, theirs = parts_from_records(RECORDS[:50]), parts_from_records(RECORDS[50:])
    for name in ('json', 'csv', 'html'):
        theirs[name] = [bytearray(u''.join(theirs[name]).encode('utf-8'))]
    return merge_parts([mine, theirs])


def read(dest):
    return dict((name, (dest / name).read_bytes()) for name in files.FILES)


def test_chunks_of_text_and_bytes_make_the_files_of_the_whole_texts(tmp_path):
    summary = summarize(RECORDS)
    files.write_report(str(tmp_path), parts_in_bytes_and_text(), summary, generated='now', source='cache')
    got = read(tmp_path)
    assert got['inventory.json'] == render_json(RECORDS).encode('utf-8')
    assert got['inventory.csv'] == render_csv(RECORDS).encode('utf-8')
    assert got['report.html'] == render_html(RECORDS, summary, generated='now', source='cache').encode('utf-8')


def test_a_file_is_left_alone_only_when_its_bytes_and_mode_are_the_same(tmp_path):
    parts = parts_in_bytes_and_text()
    summary = summary_from_counts(parts['counts'])

    def write(**kw):
        return files.write_report(str(tmp_path), parts, summary, generated=kw.pop('generated', 'now'), **kw)
    assert write() == dict.fromkeys(files.FILES, True)
    inode = (tmp_path / 'inventory.json').stat().st_ino
    assert write() == dict.fromkeys(files.FILES, False)
    assert (tmp_path / 'inventory.json').stat().st_ino == inode  # not even replaced
    # same size, one byte different; longer; shorter; another mode: each rewritten
    json_path = tmp_path / 'inventory.json'
    good = json_path.read_bytes()
    for bad in (good[:-3] + b'x]\n', good + b' ', good[:-1]):
        json_path.write_bytes(bad)
        assert write(check_mode=True)['inventory.json'] is True
        assert json_path.read_bytes() == bad  # check mode wrote nothing
        assert write()['inventory.json'] is True and json_path.read_bytes() == good
    os.chmod(str(json_path), 0o600)
    assert write(check_mode=True) == {'inventory.json': True, 'inventory.csv': False, 'report.html': False}
    assert write()['inventory.json'] is True and stat.S_IMODE(json_path.stat().st_mode) == 0o644
    # the page's header changes with its time: only the page is rewritten
    assert write(generated='later') == {'inventory.json': False, 'inventory.csv': False, 'report.html': True}
    assert not [p for p in os.listdir(str(tmp_path)) if p.startswith('.')]  # no temp file left


@pytest.mark.parametrize('batch', [1, 7, 500])
def test_records_rendered_a_batch_at_a_time_give_the_same_parts(monkeypatch, batch):
    from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils import inventory_report_build as build
    monkeypatch.setattr(build, 'BATCH', batch)
    parts = parts_from_records(iter(RECORDS))  # any iterable: records need not be a list
    assert len(parts['json']) == -(-len(RECORDS) // batch)
    assert ',\n'.join(parts['json']) == render_json(RECORDS)[2:-3]
    assert u''.join(parts['csv']) == render_csv(RECORDS).split('\n', 1)[1]
    assert summary_from_counts(parts['counts']) == summarize(RECORDS)


def test_building_leaves_the_garbage_collector_as_it_was():
    import gc
    seen = []

    def records_for(run):
        seen.append(gc.isenabled())
        return [r for r in RECORDS if r['hostname'] in run]
    hosts = [r['hostname'] for r in RECORDS]
    assert gc.isenabled()
    build_parts(hosts, records_for)
    assert gc.isenabled() and seen == [False]  # off while the records are made
    gc.disable()
    try:
        build_parts(hosts, records_for)
        assert not gc.isenabled()
    finally:
        gc.enable()
