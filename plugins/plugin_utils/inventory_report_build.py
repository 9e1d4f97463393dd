# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build the report's parts (JSON lines, CSV rows, the HTML host table, the counters),
for a big fleet in forked processes, each taking a contiguous run of the hosts.

Reading a fact cache is mostly decoding (ansible-core's JSON decoder, in Python) and the
rendering is Python too, so one process uses one core: 20,000 hosts take seconds. Parts
of the fleet are independent until the counters are added up and the texts are joined in
host order, so N processes make it close to N times faster, and each holds only its
share of the records. Each child opens its own store (``records_for`` is called in the
child), so no connection (a Redis socket) is shared across a fork.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import pickle

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (
    count_records, json_lines, merge_counts)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_csv import csv_rows
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import (
    host_row, host_rows_text)

# Below this many hosts a part is not worth a process (a fork and the pickling cost more
# than they save).
MIN_HOSTS_PER_WORKER = 2000
MAX_WORKERS = 8


class BuildError(Exception):
    """A worker failed; ``kind`` names the exception it raised."""

    def __init__(self, message, kind=None):
        Exception.__init__(self, message)
        self.kind = kind


def parts_from_records(records):
    """The parts of one run of records (host order kept)."""
    return {
        'json': json_lines(records),
        'csv': csv_rows(records),
        'html': host_rows_text(host_row(r) for r in records),
        'counts': count_records(records),
    }


def merge_parts(parts):
    """One set of parts from several, in the order given."""
    return {
        'json': [p['json'] for p in parts],
        'csv': ''.join(p['csv'] for p in parts),
        'html': ''.join(p['html'] for p in parts),
        'counts': merge_counts(p['counts'] for p in parts),
    }


def auto_workers(host_count, cpus=None):
    """How many processes for ``host_count`` hosts: one per core, at most MAX_WORKERS,
    and none that would get fewer than MIN_HOSTS_PER_WORKER hosts."""
    cpus = cpus or os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS, host_count // MIN_HOSTS_PER_WORKER))


def _read_all(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b''.join(chunks)
        chunks.append(chunk)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def build_parts(hosts, records_for, workers=1):
    """Parts for ``hosts`` (in order): ``records_for(list_of_hosts)`` makes the records of a
    contiguous run of them. With ``workers`` > 1 the runs after the first are made in
    forked children (the caller's process makes the first meanwhile); a child's failure is
    raised here as BuildError."""
    hosts = list(hosts)
    workers = max(1, min(int(workers), len(hosts) or 1))
    if workers == 1 or not hasattr(os, 'fork'):
        return merge_parts([parts_from_records(records_for(hosts))])
    # The caller's own run is smaller: after it, the caller still joins the parts and
    # writes the files while no child is left working.
    first = max(1, len(hosts) * 3 // (4 * workers))
    size = -(-(len(hosts) - first) // (workers - 1))
    runs = [hosts[:first]] + [hosts[i:i + size] for i in range(first, len(hosts), size)]
    children = []
    try:
        for run in runs[1:]:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: its run's parts, pickled to the pipe, then out
                status = 1
                try:
                    os.close(read_fd)
                    try:
                        payload = ('ok', parts_from_records(records_for(run)))
                    except BaseException as exc:  # handed to the parent, which raises it
                        payload = ('error', (type(exc).__name__, str(exc)))
                    _write_all(write_fd, pickle.dumps(payload, pickle.HIGHEST_PROTOCOL))
                    status = 0
                finally:
                    # never return into the caller's code (Ansible's worker) from a fork
                    os._exit(status)
            os.close(write_fd)
            children.append((pid, read_fd))
        parts = [parts_from_records(records_for(runs[0]))]
        while children:
            pid, read_fd = children[0]
            try:
                data = _read_all(read_fd)
            finally:
                os.close(read_fd)
                children[0] = (pid, None)
            _pid, status = os.waitpid(pid, 0)
            children.pop(0)
            if not data:
                raise BuildError('a report worker exited without a result (status %d)' % status)
            outcome, value = pickle.loads(data)
            if outcome != 'ok':
                raise BuildError(value[1], kind=value[0])
            parts.append(value)
        return merge_parts(parts)
    finally:
        for pid, read_fd in children:  # after an error: reap whatever is left
            if read_fd is not None:
                os.close(read_fd)  # the child's write then fails and it exits
            try:
                os.waitpid(pid, 0)
            except OSError:
                pass
