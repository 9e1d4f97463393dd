# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The official image's entrypoint rule (packaging/docker/run.sh): which container
environments make it create the opt-out file, by image version. The rows are what the
script does at each tag (read with git show <tag>:packaging/docker/run.sh)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.channels import (
    container_entrypoint_opts_out)

UNSET = None


@pytest.mark.parametrize('version, dnt, dt, expected', [
    # v1.37.1: [ ! "${X:-0}" -eq 0 ] || [ -n "$X" ]: any non-empty value
    ('1.37.1', '1', UNSET, True),
    ('1.37.1', '0', UNSET, True),
    ('1.37.1', 'false', UNSET, True),
    ('1.37.1', '', UNSET, False),
    ('1.37.1', UNSET, UNSET, False),
    ('1.37.1', UNSET, '0', True),
    # v2.8.0, v2.8.1: still [ -n ]
    ('2.8.0', '0', UNSET, True),
    ('2.8.1', '0', UNSET, True),
    # v2.8.2 (#21364), v2.9.0, v2.10.4: "${X:-0}" != "0"
    ('2.8.2', '0', UNSET, False),
    ('2.8.2', '1', UNSET, True),
    ('2.9.0', '0', '0', False),
    ('2.10.4', 'false', UNSET, True),
    ('2.10.4', ' 0', UNSET, True),
    ('2.10.4', '', '', False),
    ('2.10.4', UNSET, '1', True),
    # unknown version: known only where both rules agree
    (None, '1', UNSET, True),
    (None, UNSET, UNSET, False),
    (None, '0', UNSET, None),
])
def test_entrypoint_rule_by_version(version, dnt, dt, expected):
    env = {'DO_NOT_TRACK': dnt, 'DISABLE_TELEMETRY': dt}
    got, reason = container_entrypoint_opts_out(version, env)
    assert got is expected, reason
    assert reason


def test_unknown_environment_is_unknown():
    assert container_entrypoint_opts_out('2.10.4', None)[0] is None
