# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-ins for requests' objects, shared by the stats_event unit tests."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type


class FakeResponse(object):
    """What stats_delivery reads of a requests.Response: status, headers, content."""

    def __init__(self, status, headers=None):
        self.status_code = status
        self.headers = headers or {}
        self.content = b''

    def close(self):
        pass
