# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the checkout importable as ``ansible_collections.netdata_fleet.telemetry``.

Under ``ansible-test`` the collection already sits on such a path; from a plain
checkout ``scripts/bootstrap.sh`` links it under ``.build/collections``.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

try:
    import ansible_collections.netdata_fleet.telemetry  # noqa: F401  pylint: disable=unused-import
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                    '.build', 'collections'))
