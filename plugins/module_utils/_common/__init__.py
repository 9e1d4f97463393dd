# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every collector and the opt-out writer share, on the target: reading and writing
files, walking paths under a root, running commands.

PRIVATE to this collection: it can change at any time, without notice. Do not import it
from other collections, roles or standalone modules.
"""
