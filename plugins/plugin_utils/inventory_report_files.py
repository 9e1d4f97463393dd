# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the report's three files on the controller: inventory.json, inventory.csv and
report.html, each atomically (a temp file in the same directory, fsynced, given its mode,
then renamed over the old one), so a reader never sees half a file and a planted symlink
at a file's path is replaced, never written through.

One output is written and dropped before the next, and written part by part, so the
controller never holds a whole file as bytes (for 20,000 hosts inventory.json is ~90 MB).
A file that already holds exactly the new content (and mode) is left alone.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat
import tempfile

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.safe_files import fsync_dir
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_csv import csv_header
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import (
    page_around_host_rows)

FILES = ('inventory.json', 'inventory.csv', 'report.html')
_CHUNK = 1024 * 1024


class ReportWriteError(Exception):
    pass


def _open_old(path, mode):
    """The file at ``path`` opened for reading when it is a regular file (not a link) with
    ``mode``, with its size; None otherwise (then the new content is a change whatever it is)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != mode:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
    except OSError:
        return None
    return os.fdopen(fd, 'rb'), st.st_size


class _Comparison(object):
    """Whether the bytes written equal an old file's: each piece is compared with the same
    bytes of the old file as it comes (no digest of either, nothing held)."""

    def __init__(self, path, mode):
        old = _open_old(path, mode)
        self.handle, self.size = old if old is not None else (None, -1)
        self.same = old is not None
        self.written = 0

    def update(self, data):
        self.written += len(data)
        if not self.same:
            return
        if self.written > self.size:
            self.same = False
            return
        view, offset = memoryview(data), 0
        while offset < len(view):
            old = self.handle.read(min(_CHUNK, len(view) - offset))
            if not old or view[offset:offset + len(old)] != old:
                self.same = False
                return
            offset += len(old)

    def equal(self):
        return self.same and self.written == self.size

    def close(self):
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _encoded(chunks):
    """The chunks as bytes-like objects: text encoded as UTF-8 a slice at a time (a whole
    part of a big fleet is tens of MB), bytes from a worker as they are."""
    step = 8 * _CHUNK
    for chunk in chunks:
        if isinstance(chunk, str):
            for start in range(0, len(chunk), step):
                yield chunk[start:start + step].encode('utf-8')
        elif chunk:
            yield chunk


def _write_if_changed(path, chunks, mode, check_mode):
    """Write the ``chunks`` (text, or UTF-8 bytes) to ``path`` atomically unless it already
    holds exactly them (with ``mode``); True when it changed (would change). The content is
    encoded and written chunk by chunk, so the whole file is never held as bytes."""
    old = _Comparison(path, mode)
    try:
        if check_mode:
            for data in _encoded(chunks):
                old.update(data)
                if not old.same:
                    break
            return not old.equal()
        directory, name = os.path.split(path)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % name, suffix='.tmp')
        try:
            with os.fdopen(fd, 'wb') as handle:
                for data in _encoded(chunks):
                    old.update(data)
                    handle.write(data)
                if old.equal():
                    os.unlink(tmp)
                    return False
                handle.flush()
                os.fsync(handle.fileno())
                os.fchmod(handle.fileno(), mode)  # mkstemp makes 0600; the report's mode is asked
            os.replace(tmp, path)
            return True
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    finally:
        old.close()


def ensure_directory(dest, check_mode=False, mode=0o755):
    """Create ``dest`` (and parents) when missing; True when it was (or would be) created."""
    try:
        st = os.stat(dest)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise ReportWriteError('cannot use %s: %s' % (dest, exc.strerror))
        if not check_mode:
            try:
                os.makedirs(dest, mode)
                os.chmod(dest, mode)  # makedirs' mode is masked by the umask
            except OSError as err:
                raise ReportWriteError('cannot create %s: %s' % (dest, err.strerror))
        return True
    if not stat.S_ISDIR(st.st_mode):
        raise ReportWriteError('%s exists and is not a directory' % dest)
    return False


def _json_chunks(bodies):
    """inventory.json (see ``json_document``) as a sequence of chunks, not one text."""
    bodies = [b for b in bodies if b]
    if not bodies:
        yield '[]\n'
        return
    yield '[\n'
    for i, body in enumerate(bodies):
        if i:
            yield ',\n'
        yield body
    yield '\n]\n'


def _html_chunks(parts, summary, title, generated, source):
    head, tail = page_around_host_rows(summary, title=title, generated=generated, source=source)
    yield head
    yield from parts['html']
    yield tail


def write_report(dest, parts, summary, title='Netdata fleet inventory', mode=0o644,
                 check_mode=False, source=None, generated=None):
    """Write the three files into ``dest`` (created when missing, 0755) from the report's
    parts (see inventory_report_build: each text a list of chunks) and its summary.

    Returns ``{file name: changed}``; in check mode nothing is written and the answer says
    what would change.
    """
    changed = {}
    ensure_directory(dest, check_mode=check_mode)
    outputs = (
        (FILES[0], lambda: _json_chunks(parts['json'])),
        (FILES[1], lambda: [csv_header()] + list(parts['csv'])),
        (FILES[2], lambda: _html_chunks(parts, summary, title, generated, source)),
    )
    for name, chunks in outputs:
        path = os.path.join(dest, name)
        try:
            changed[name] = _write_if_changed(path, chunks(), mode, check_mode)
        except OSError as exc:
            raise ReportWriteError('cannot write %s: %s' % (path, exc.strerror or exc))
    if not check_mode and any(changed.values()):
        fsync_dir(dest)
    return changed
