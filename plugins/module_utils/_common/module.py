# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The AnsibleModule every module of this collection builds."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule


def _escape_nul(value):
    return value.replace('\0', '\\x00') if isinstance(value, str) else value


class NulSafeModule(AnsibleModule):
    """AnsibleModule whose invocation log survives a NUL byte in an argument.

    AnsibleModule logs the arguments to syslog before the module can check them. From
    Python 3.12 ``syslog.syslog()`` refuses a NUL byte (ValueError), and AnsibleModule then
    fails with "Failed to log to syslog (embedded null character)" instead of the module's
    own message naming the bad option: log the NUL as an escape."""

    def log(self, msg, log_args=None):
        if log_args:
            log_args = dict((key, _escape_nul(value)) for key, value in log_args.items())
        super(NulSafeModule, self).log(_escape_nul(msg), log_args=log_args)
