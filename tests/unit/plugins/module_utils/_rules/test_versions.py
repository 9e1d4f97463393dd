# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type


import pytest


from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.versions import (
    compare_versions, format_version, parse_version, version_at_least)


@pytest.mark.parametrize('text, expected', [
    ('netdata v1.37.1', (1, 37, 1)),
    ('netdata v1.37.1\n', (1, 37, 1)),
    ('netdata v2.3.0-12-nightly', (2, 3, 0)),
    ('v1.99.0-123-gabc', (1, 99, 0)),
    ('1.37.1', (1, 37, 1)),
    ('some warning 3.2.1.4 here\nnetdata v2.11.0', (2, 11, 0)),
    (b'netdata v2.3.1', (2, 3, 1)),
    ('', None),
    (None, None),
    ('junk', None),
    ('netdata vX.Y', None),
    ('\x00\xff binary', None),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


def test_format_version():
    assert format_version((1, 37, 1)) == '1.37.1'
    assert format_version('netdata v2.3.0-12-nightly') == '2.3.0'
    assert format_version(None) is None
    assert format_version('junk') is None


def test_compare_and_at_least():
    assert compare_versions('1.37.1', (2, 3, 0)) == -1
    assert compare_versions('v2.3.0-5-nightly', '2.3.0') == 0
    assert compare_versions((2, 10, 0), '2.9.9') == 1
    assert compare_versions(None, '2.3.0') is None
    assert version_at_least('2.3.0', '2.3.0') is True
    assert version_at_least('1.37.1', (2, 3)) is False
    assert version_at_least('junk', '2.3.0') is None
