# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the planned changes: atomically, never through a planted symlink
(``_common/safe_files.py``), with the diff and the one-line description the module
returns for each."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common import safe_files
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path


def _text(data):
    if data is None:
        return ''
    return data.decode('utf-8', 'replace')


def change_diff(change):
    """Ansible's diff dict for one change (before/after as text, with headers; a mode
    change shows in the headers, the content being the same)."""
    before_header = change['path'] if change['before'] is not None else '%s (absent)' % change['path']
    after_header = change['path'] if change['after'] is not None else '%s (absent)' % change['path']
    if change.get('before_mode') is not None and change['after'] is not None:
        before_header += ' (mode %04o)' % change['before_mode']
        after_header += ' (mode %04o)' % change['mode']
    return {
        'before_header': before_header,
        'after_header': after_header,
        'before': _text(change['before']),
        'after': _text(change['after']),
    }


def describe(change):
    if change['after'] is None:
        action = 'remove'
    elif change['before'] is None:
        action = 'create'
    else:
        action = 'update'
    return action


def apply_changes(changes, root='/', check_mode=False):
    """Write *changes*; returns a list of ``{'path', 'error'}`` for each failed one.

    Carries on after a failure so one bad path does not leave the others half done.
    """
    failures = []
    if check_mode:
        return failures
    for change in changes:
        # a container's file: its host path (through the view root or the volume)
        path = change.get('host_path') or host_path(root, change['path'])
        try:
            if change['create_dir']:
                safe_files.ensure_dir(host_path(root, change['create_dir']), 0o755)
            if change['after'] is None:
                safe_files.remove_file(path, allow_symlink=change['allow_symlink'])
            else:
                safe_files.write_file(path, change['after'], mode=change['mode'],
                                      owner=change['owner'], group=change['group'])
        except safe_files.UnsafePathError as exc:
            failures.append({'path': change['path'], 'error': str(exc)})
        except (OSError, IOError) as exc:
            reason = exc.strerror or str(exc)
            if getattr(exc, 'errno', None) == errno.EROFS:
                reason = 'read-only file system'
            failures.append({'path': change['path'], 'error': 'cannot write %s: %s' % (change['path'], reason)})
    return failures
