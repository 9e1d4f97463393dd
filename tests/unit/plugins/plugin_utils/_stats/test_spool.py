# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""stats_spool: atomic, 0600, api_key-free, locked, never loses a line, never follows a link."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest


from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils._stats import spool as ss  # noqa: E402


def payload(i):
    return {'uuid': 'id-%d' % i, 'timestamp': 't', 'event': 'START -', 'properties': {'distinct_id': 'g%d' % i}}


def record(i, **kw):
    return ss.make_record('h%d' % i, 'http://127.0.0.1:1/', payload(i), 't', 1, 'HTTP 500', **kw)


def test_record_never_holds_api_key():
    p = dict(payload(1), api_key='SECRET')
    r = ss.make_record('h1', 'e', p, 't', 1, None)
    assert 'SECRET' not in json.dumps(r)
    assert r['event_id'] == 'id-1' and r['payload']['uuid'] == 'id-1'


def test_append_creates_0600_and_reads_back(tmp_path):
    path = str(tmp_path / 'sub' / 'spool.jsonl')
    os.umask(0o022)
    assert ss.append_records(path, [record(1), record(2)]) == 2
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    entries = ss.read_lines(path)
    assert [r['event_id'] for _l, r in entries] == ['id-1', 'id-2']
    for line in Path(path).read_text().splitlines():
        json.loads(line)


def test_append_dedupes_event_ids(tmp_path):
    path = str(tmp_path / 's.jsonl')
    ss.append_records(path, [record(1)])
    assert ss.append_records(path, [record(1), record(2)]) == 1
    assert len(ss.read_lines(path)) == 2


def test_unparseable_lines_are_kept_verbatim(tmp_path):
    path = tmp_path / 's.jsonl'
    path.write_text('not json\n{"x": 1}\n')
    os.chmod(str(path), 0o644)
    ss.append_records(str(path), [record(1)])
    lines = path.read_text().splitlines()
    assert lines[:2] == ['not json', '{"x": 1}']
    assert json.loads(lines[2])['event_id'] == 'id-1'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600  # rewritten 0600 even if it was not


def test_symlink_at_spool_path_is_refused(tmp_path):
    target = tmp_path / 'victim'
    target.write_text('keep me\n')
    link = tmp_path / 's.jsonl'
    link.symlink_to(target)
    with pytest.raises(ss.SpoolError, match='symlink'):
        ss.append_records(str(link), [record(1)])
    assert target.read_text() == 'keep me\n'


def test_write_is_atomic_replace(tmp_path, monkeypatch):
    path = str(tmp_path / 's.jsonl')
    ss.append_records(path, [record(1)])
    before = Path(path).read_text()

    def boom(*a, **kw):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', boom)
    with pytest.raises(ss.SpoolError):
        ss.append_records(path, [record(2)])
    assert Path(path).read_text() == before  # the old spool is untouched
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.stats_spool.')] == []


def test_write_empty_removes(tmp_path):
    path = str(tmp_path / 's.jsonl')
    ss.append_records(path, [record(1)])
    ss.write_lines(path, [])
    assert not os.path.exists(path)
    ss.write_lines(path, [])  # idempotent


def _writer(path, start):
    for i in range(start, start + 25):
        ss.append_records(path, [record(i)])


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / 's.jsonl')
    procs = [multiprocessing.Process(target=_writer, args=(path, k * 100)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    ids = [r['event_id'] for _l, r in ss.read_lines(path)]
    assert len(ids) == 100 and len(set(ids)) == 100


def test_tagless_dumps_plain_and_subclassed_values():
    class Tagged(str):
        pass
    assert json.loads(ss.dumps({'a': Tagged('x')})) == {'a': 'x'}
