# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What Netdata is made of, as far as telemetry goes: the one place that names it.

File names, environment variable names, channel names, and the first Netdata version
of every rule change. Every other file asks here; ``docs/dev/telemetry-rules.md`` is
the written specification with the source of each rule, and its checklist "Adding a
Netdata version" starts in this file.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# The opt-out file, in the agent's config dir (``[directories] config``).
OPTOUT_FILE_NAME = '.opt-out-from-anonymous-statistics'

# The environment variables that opt out, in the order the installer reads them
# (kickstart.sh takes DISABLE_TELEMETRY first when both are set, so the order of this
# tuple is not the installer's; see channels.decide_installer_channel).
TELEMETRY_VARS = ('DO_NOT_TRACK', 'DISABLE_TELEMETRY')

# The channels a verdict covers, in the order they are reported.
CHANNELS = ('statistics_script', 'daemon_analytics', 'crash_reports', 'installer')

# A machine GUID (registry/netdata.public.unique.id) is a UUID; \Z, not $, so a
# trailing newline is no part of it.
GUID_RE = re.compile(r'\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z')

# ---------------------------------------------------------------- versions
# The first Netdata version of each rule change (sources: docs/dev/telemetry-rules.md).
V_SENTRY = (1, 45, 0)               # ENABLE_SENTRY option in CMakeLists.txt
V_DAEMON_READS_ENV = (2, 3, 0)      # analytics_check_enabled() reads DISABLE_TELEMETRY
V_CRASH_REPORTS = (2, 3, 0)         # [global] crash reports, status-file.c
V_NO_STATISTICS_SCRIPT = (2, 6, 0)  # #20654 "Stop submitting analytics": no script, file read at start
V_DOCKER_ZERO_IS_NO = (2, 8, 2)     # packaging/docker/run.sh: "${X:-0}" != "0" (#21364, in v2.8.2 and v2.9.0)
# Just below it, for an image whose version is unknown: judged under both.
V_DOCKER_NONEMPTY_LAST = (2, 8, 1)

# One version on each side of every change: an unknown version is judged under each
# and is only as sure as they all agree.
REPRESENTATIVE_VERSIONS = ((2, 2, 0), (2, 5, 0), (2, 6, 0))


def state_word(enabled):
    """``True`` -> ``on``, ``False`` -> ``off``, anything else -> ``unknown``."""
    return {True: 'on', False: 'off'}.get(enabled, 'unknown')
