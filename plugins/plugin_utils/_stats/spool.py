# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side spool of undelivered statistics events (JSON lines).

Every change is a locked read-modify-write: an exclusive C(flock) on C(<spool>.lock)
(forks running the action per host share one spool), the new content goes to a temp file
in the same directory, is fsynced and C(os.replace)d over the spool, mode 0600. A symlink
planted at the spool path is never followed. Lines that do not parse are kept verbatim,
so nothing in the spool is ever lost. The api_key is never part of a record.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import contextlib
import errno
import fcntl
import json
import os
import stat

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common import safe_files

SPOOL_FORMAT = 1


class SpoolError(Exception):
    pass


def _encoder():
    # Tagged values (2.19 data tagging) must be serialised without their tags.
    try:
        from ansible.module_utils.common.json import get_encoder
        return get_encoder('tagless')
    except ImportError:  # ansible-core < 2.19
        try:
            from ansible.module_utils.common.json import AnsibleJSONEncoder
            return AnsibleJSONEncoder
        except ImportError:
            return json.JSONEncoder


def dumps(value):
    return json.dumps(value, cls=_encoder(), sort_keys=False, separators=(',', ':'))


def make_record(host, endpoint, payload, created, attempts, last_error):
    """One spool record. C(payload) must not hold the api_key (build_payload never adds it)."""
    payload = dict((key, value) for key, value in payload.items() if key != 'api_key')
    return {
        'format': SPOOL_FORMAT,
        'event_id': payload.get('uuid'),
        'host': host,
        'endpoint': endpoint,
        'created': created,
        'attempts': attempts,
        'last_error': last_error,
        'payload': payload,
    }


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock for the spool at C(path) (creating its directory, 0700)."""
    path = os.path.abspath(os.path.expanduser(path))
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    fd = os.open(path + '.lock', os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield path
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def read_lines(path):
    """Return the spool's entries as a list of (raw_line, record or None). Missing = []."""
    flags = os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ENOENT:
            return []
        if e.errno == errno.ELOOP:
            raise SpoolError('spool %s is a symlink; refusing to follow it' % path)
        raise SpoolError('cannot read spool %s: %s' % (path, e))
    with os.fdopen(fd, 'rb') as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise SpoolError('spool %s is not a regular file' % path)
        raw = handle.read()
    entries = []
    for line in raw.decode('utf-8', 'surrogateescape').splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict) or not isinstance(record.get('payload'), dict) \
                or not record.get('event_id'):
            record = None
        entries.append((line, record))
    return entries


def write_lines(path, lines):
    """Atomically replace the spool with C(lines) (mode 0600); an empty list removes it."""
    if not lines:
        try:
            os.unlink(path)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise SpoolError('cannot remove spool %s: %s' % (path, e))
        return
    data = b''.join(line.encode('utf-8', 'surrogateescape') + b'\n' for line in lines)
    try:
        # The same writer the modules use: temp file in the spool's dir, fsync, rename,
        # dir fsync; it refuses a symlink planted at the spool path. mkstemp's 0600 holds
        # from the first byte, so no other user can read a half-written spool.
        safe_files.write_file(path, data, mode=0o600, owner=None, group=None)
    except (OSError, safe_files.UnsafePathError) as e:
        raise SpoolError('cannot write spool %s: %s' % (path, e))


def append_records(path, records):
    """Add C(records) to the spool, skipping event ids already in it. Returns how many were added."""
    if not records:
        return 0
    with locked(path) as path:
        entries = read_lines(path)
        have = set(r['event_id'] for _line, r in entries if r)
        lines = [line for line, _r in entries]
        added = 0
        for record in records:
            if record['event_id'] in have:
                continue
            have.add(record['event_id'])
            lines.append(dumps(record))
            added += 1
        if added:
            write_lines(path, lines)
        return added
