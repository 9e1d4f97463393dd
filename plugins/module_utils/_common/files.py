# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading a target's small config files, under a root that tests point at a fixture tree.

Every collector reads through here so that a FIFO, a directory where a file should be,
an unreadable file or binary junk becomes an error string, never an exception or a hang.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat


def host_path(root, path):
    """*path* as seen on the target -> the path to open here (under *root*)."""
    if not root or root == '/':
        return path
    return os.path.join(root, path.lstrip('/'))


def read_host_text(root, path, max_bytes=1024 * 1024, allow_binary=False):
    """``(text, None)``; ``(None, None)`` when *path* does not exist; ``(None, error)``.

    Refuses anything but a regular file (a FIFO would block) and, unless
    *allow_binary*, content with NUL bytes (not a config file; do not guess).
    """
    host = host_path(root, path)
    try:
        st = os.stat(host)
    except OSError as exc:
        if os.path.lexists(host):
            return None, '%s: cannot stat: %s' % (path, exc.strerror or exc)
        return None, None
    if not stat.S_ISREG(st.st_mode):
        return None, '%s: not a regular file' % path
    try:
        with open(host, 'rb') as handle:
            data = handle.read(max_bytes)
    except (OSError, IOError) as exc:
        return None, '%s: cannot read: %s' % (path, exc.strerror or exc)
    if not allow_binary and b'\0' in data:
        return None, '%s: binary content, not read' % path
    return data.decode('utf-8', 'replace'), None
