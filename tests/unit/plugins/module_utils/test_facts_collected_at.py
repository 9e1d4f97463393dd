# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible_facts.netdata.collected_at: when the facts were gathered, so a report read from
a fact cache (playbooks/report.yml) can tell how old each host's facts are."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import gather_netdata_facts


def _no_binary(argv, *args, **kwargs):
    return 127, '', 'not found'


@pytest.mark.parametrize('subsets', [{'telemetry'}, set()])
def test_collected_at_is_the_gathering_time_in_epoch_seconds(tmp_path, subsets):
    before = int(time.time())
    facts = gather_netdata_facts(subsets, root=str(tmp_path), live_query=False, run_command=_no_binary)
    after = int(time.time())
    assert isinstance(facts['collected_at'], int) and not isinstance(facts['collected_at'], bool)
    assert before <= facts['collected_at'] <= after
