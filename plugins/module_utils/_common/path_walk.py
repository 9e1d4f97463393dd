# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Resolve a path component by component, as the kernel's path walk does, under a root.

:func:`walk_path` is the one walker: ``agent_access`` checks on the way whether a user may
search each directory; ``containers`` resolves a container's path inside its view root
(what ``openat2(RESOLVE_IN_ROOT)`` does). Both need what ``realpath`` cannot give: every
symlink resolved against *root* (an absolute target restarts at *root*, not at our
``/``), ``..`` never climbing above it, and the directory each name is looked up in.

Like the kernel: ``.`` stays, ``..`` goes to the parent of the directory reached so far
(after any symlink on the way was followed), an absolute symlink target restarts at the
root, a relative one continues from the directory holding the link, and one walk follows
at most 40 symlinks (``MAXSYMLINKS`` in include/linux/namei.h; the 41st fails, ELOOP).
Nothing here raises for a missing or odd entry: the walk says where and why it stopped.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat
from collections import namedtuple

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path

MAX_SYMLINKS = 40

# How a walk ends (Walk.outcome).
RESOLVED = 'resolved'                # path: the resolved path, no symlink left in it
MISSING = 'missing'                  # path: the first entry that does not exist (ENOENT, ENOTDIR)
NOT_A_DIRECTORY = 'not_a_directory'  # path: an entry that is not a directory but has names after it
TOO_MANY_LINKS = 'too_many_links'    # path: the symlink one too many
CANNOT_STAT = 'cannot_stat'          # path: the entry lstat() failed on otherwise (error: the OSError)
CANNOT_READ_LINK = 'cannot_read_link'  # path: the symlink readlink() failed on (error: the OSError)
STOPPED = 'stopped'                  # path: the directory the caller's check refused (refusal: its answer)

# outcome: one of the above; path: where it ended (a path as seen under the root);
# last: whether that was the last name of the path; error: the OSError, if any;
# refusal: what the caller's check returned when it stopped the walk.
Walk = namedtuple('Walk', 'outcome path last error refusal')


def walk_path(root, path, before_lookup=None, max_symlinks=MAX_SYMLINKS):
    """Resolve the absolute *path* under *root* (see the module doc) -> a :data:`Walk`.

    *before_lookup(directory)*, when given, is called before each name is looked up in
    *directory* (``..`` included, ``/`` excepted): anything but None stops the walk there
    (outcome ``STOPPED``, with that answer as ``refusal``). What it raises is not caught.
    """
    todo = [part for part in path.split('/') if part]
    current = '/'
    hops = 0
    while todo:
        name = todo.pop(0)
        if name == '.':
            continue
        if before_lookup is not None and current != '/':
            refusal = before_lookup(current)
            if refusal is not None:
                return Walk(STOPPED, current, False, None, refusal)
        if name == '..':
            current = os.path.dirname(current) or '/'
            continue
        candidate = current.rstrip('/') + '/' + name
        try:
            st = os.lstat(host_path(root, candidate))
        except OSError as exc:
            outcome = MISSING if exc.errno in (errno.ENOENT, errno.ENOTDIR) else CANNOT_STAT
            return Walk(outcome, candidate, not todo, exc, None)
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > max_symlinks:
                return Walk(TOO_MANY_LINKS, candidate, not todo, None, None)
            try:
                target = os.readlink(host_path(root, candidate))
            except OSError as exc:
                return Walk(CANNOT_READ_LINK, candidate, not todo, exc, None)
            if target.startswith('/'):
                current = '/'
            todo = [part for part in target.split('/') if part] + todo
            continue
        if todo and not stat.S_ISDIR(st.st_mode):
            return Walk(NOT_A_DIRECTORY, candidate, False, None, None)
        current = candidate
    return Walk(RESOLVED, current, True, None, None)
