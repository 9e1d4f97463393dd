# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build the report's parts (JSON lines, CSV rows, the HTML host table, the counters),
for a big fleet in forked processes, each taking a contiguous run of the hosts.

Reading a fact cache is mostly decoding JSON and the rendering is Python too, so one
process uses one core: 20,000 hosts take seconds. Parts of the fleet are independent until
the counters are added up and the texts are joined in host order, so N processes make it
close to N times faster, and each holds only its share of the records. Each child opens
its own store (``records_for`` is called in the child), so no connection (a Redis socket)
is shared across a fork.

A part's texts are lists of chunks, ``str`` (made in this process) or UTF-8 ``bytes``-like
(made by a child, which encodes them while the others work): the files are written from
the chunks as they are (see inventory_report_files), never joined into one text.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gc
import os
import pickle
import struct

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (
    count_records, json_lines, merge_counts)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_csv import csv_rows
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import (
    host_row, host_rows_text)

# Below this many hosts a part is not worth a process (a fork and the transfer cost more
# than they save).
MIN_HOSTS_PER_WORKER = 2000
MAX_WORKERS = 8
# Records rendered at a time (see parts_from_records).
BATCH = 500
TEXTS = ('json', 'csv', 'html')
# A child's answer on its pipe: the length of a pickled header (counters, the length of
# each text, or the error), the header, then each text's UTF-8 bytes as they are.
_LENGTH = struct.Struct('!Q')


class BuildError(Exception):
    """A worker failed; ``kind`` names the exception it raised."""

    def __init__(self, message, kind=None):
        Exception.__init__(self, message)
        self.kind = kind


def _batches(records, size):
    batch = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def parts_from_records(records):
    """The parts of one run of records (any iterable; host order kept): each text as a list
    of chunks, one per batch of BATCH records. A record is dropped once its batch is
    rendered, so a process holds one batch of records (a host's decoded facts are tens of
    KB as Python objects) besides the texts, not every record of its run."""
    parts = {'json': [], 'csv': [], 'html': []}
    counts = []
    for batch in _batches(records, BATCH):
        parts['json'].append(json_lines(batch))
        parts['csv'].append(csv_rows(batch))
        parts['html'].append(host_rows_text(host_row(r) for r in batch))
        counts.append(count_records(batch))
    parts['counts'] = merge_counts(counts) if counts else count_records([])
    return parts


def merge_parts(parts):
    """One set of parts from several, in the order given."""
    return {
        'json': [c for p in parts for c in p['json']],
        'csv': [c for p in parts for c in p['csv']],
        'html': [c for p in parts for c in p['html']],
        'counts': merge_counts(p['counts'] for p in parts),
    }


def text_of(chunks):
    """A part's text (its chunks joined, bytes decoded): for tests and small fleets."""
    return u''.join(c if isinstance(c, str) else bytes(c).decode('utf-8') for c in chunks)


def auto_workers(host_count, cpus=None):
    """How many processes for ``host_count`` hosts: one per core, at most MAX_WORKERS,
    and none that would get fewer than MIN_HOSTS_PER_WORKER hosts."""
    cpus = cpus or os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS, host_count // MIN_HOSTS_PER_WORKER))


def _read_exactly(fd, size):
    """``size`` bytes from ``fd`` into one buffer (no chunk list joined, no copy); fewer
    when the writer went away."""
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = os.readv(fd, [view[got:]])
        if not n:
            return buf[:got]
        got += n
    return buf


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _send(fd, parts):
    """A child's parts to its pipe: the texts encoded here, in the child, in parallel with
    the others, each chunk dropped once encoded. A child's JSON is one body of
    inventory.json: its chunks joined with ',\\n' (see json_document)."""
    bodies = []
    for name in TEXTS:
        chunks, encoded = parts.pop(name), []
        chunks.reverse()
        while chunks:
            if encoded and name == 'json':
                encoded.append(b',\n')
            encoded.append(chunks.pop().encode('utf-8'))
        bodies.append(encoded)
    header = pickle.dumps(('ok', parts['counts'], [sum(len(c) for c in body) for body in bodies]),
                          pickle.HIGHEST_PROTOCOL)
    _write_all(fd, _LENGTH.pack(len(header)) + header)
    for body in bodies:
        for chunk in body:
            _write_all(fd, chunk)


def _receive(fd, status_of):
    """A child's parts from its pipe (see ``_send``); BuildError when it failed."""
    size = _read_exactly(fd, _LENGTH.size)
    if len(size) < _LENGTH.size:
        raise BuildError('a report worker exited without a result (status %d)' % status_of())
    header = _read_exactly(fd, _LENGTH.unpack(bytes(size))[0])
    outcome, value, lengths = pickle.loads(bytes(header))
    if outcome != 'ok':
        raise BuildError(value[1], kind=value[0])
    parts = {'counts': value}
    for name, length in zip(TEXTS, lengths):
        body = _read_exactly(fd, length)
        if len(body) < length:
            raise BuildError('a report worker exited before its whole result (status %d)' % status_of())
        parts[name] = [body] if length else []
    return parts


def build_parts(hosts, records_for, workers=1, meanwhile=None):
    """Parts for ``hosts`` (in order): ``records_for(list_of_hosts)`` makes the records of a
    contiguous run of them. With ``workers`` > 1 the runs after the first are made in
    forked children (the caller's process makes the first meanwhile); a child's failure is
    raised here as BuildError. ``meanwhile()``, when given, runs in the caller's process
    after its own run, while children may still work (to prepare what comes next)."""
    # Records are trees of decoded JSON: no reference cycle for the cyclic garbage collector
    # to find. But the millions of dicts and lists a big fleet's facts decode to make it run
    # again and again, each full pass walking every object alive: that was half the time of
    # reading 20,000 hosts from a fact cache. Off while building (children inherit it), back
    # as it was afterwards; memory is freed by reference counting all the same.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build_parts(hosts, records_for, workers, meanwhile)
    finally:
        if collecting:
            gc.enable()


def _build_parts(hosts, records_for, workers, meanwhile):
    hosts = list(hosts)
    workers = max(1, min(int(workers), len(hosts) or 1))
    if workers == 1 or not hasattr(os, 'fork'):
        parts = parts_from_records(records_for(hosts))
        if meanwhile is not None:
            meanwhile()
        return merge_parts([parts])
    # Even runs: the caller's own run and the children's take about as long, and what the
    # caller does after them (joining, writing) waits for the last child anyway.
    size = -(-len(hosts) // workers)
    runs = [hosts[i:i + size] for i in range(0, len(hosts), size)]
    children = []
    try:
        for run in runs[1:]:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: its run's parts to the pipe, then out
                status = 1
                try:
                    os.close(read_fd)
                    try:
                        parts = parts_from_records(records_for(run))
                    except BaseException as exc:  # handed to the parent, which raises it
                        header = pickle.dumps(('error', (type(exc).__name__, str(exc)), None),
                                              pickle.HIGHEST_PROTOCOL)
                        _write_all(write_fd, _LENGTH.pack(len(header)) + header)
                    else:
                        _send(write_fd, parts)
                    status = 0
                finally:
                    # never return into the caller's code (Ansible's worker) from a fork
                    os._exit(status)
            os.close(write_fd)
            children.append((pid, read_fd))
        parts = [parts_from_records(records_for(runs[0]))]
        if meanwhile is not None:
            meanwhile()
        while children:
            pid, read_fd = children[0]
            status = []

            def status_of():
                # the child's exit status, once it is gone (it closed the pipe)
                status.append(os.waitpid(pid, 0)[1])
                return status[-1]
            try:
                parts.append(_receive(read_fd, status_of))
            finally:
                os.close(read_fd)
                children[0] = (pid, None)
                if not status:
                    os.waitpid(pid, 0)
                children.pop(0)
        return merge_parts(parts)
    finally:
        for pid, read_fd in children:  # after an error: reap whatever is left
            if read_fd is not None:
                os.close(read_fd)  # the child's write then fails and it exits
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass
