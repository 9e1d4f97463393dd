# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netdata version strings: parse what ``netdata -v`` prints, format and compare.

``netdata -v`` prints ``netdata v1.37.1``; nightlies and source builds add a
suffix (``v2.3.0-12-nightly``, ``v1.99.0-123-gabc``). Only the numeric
``major.minor.patch`` matters for which telemetry channels apply, so the suffix
is dropped (a nightly past v2.3.0 behaves as v2.3.0 for our purposes).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# "netdata v1.37.1", "v2.3.0-12-nightly", "1.37.1"; the "v" and the "netdata "
# are optional, a suffix after the patch number is ignored.
_VERSION_RE = re.compile(r'(?:^|[\s(])(?:netdata\s+)?v?(\d{1,4})\.(\d{1,4})\.(\d{1,6})(?![\d.])')


def parse_version(text):
    """Return ``(major, minor, patch)`` from *text*, or None when it holds no version.

    Lines that say ``netdata ...`` are preferred (``netdata -v`` may print
    warnings first); otherwise the first version-looking token counts.
    """
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode('utf-8', 'replace')
    if isinstance(text, (tuple, list)):
        return _as_tuple(text)
    lines = str(text).splitlines()
    preferred = [line for line in lines if line.strip().lower().startswith('netdata')]
    for line in preferred + lines:
        match = _VERSION_RE.search(line.strip())
        if match:
            return tuple(int(part) for part in match.groups())
    return None


def format_version(version):
    """``(1, 37, 1)`` -> ``'1.37.1'``; None (or junk) -> None."""
    version = _as_tuple(version) if isinstance(version, (tuple, list)) else parse_version(version)
    if version is None:
        return None
    return '%d.%d.%d' % version


def compare_versions(left, right):
    """-1, 0 or 1 like ``cmp``; each side a tuple or a string. None when either is unknown."""
    left_t = _coerce(left)
    right_t = _coerce(right)
    if left_t is None or right_t is None:
        return None
    return (left_t > right_t) - (left_t < right_t)


def version_at_least(version, minimum):
    """True/False whether *version* >= *minimum*; None when *version* is unknown."""
    result = compare_versions(version, minimum)
    if result is None:
        return None
    return result >= 0


def _coerce(value):
    if isinstance(value, (tuple, list)):
        return _as_tuple(value)
    return parse_version(value)


def _as_tuple(value):
    try:
        parts = [int(part) for part in value]
    except (TypeError, ValueError):
        return None
    if not parts or len(parts) > 3 or any(part < 0 for part in parts):
        return None
    while len(parts) < 3:
        parts.append(0)
    return tuple(parts)
