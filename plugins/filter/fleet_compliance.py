# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``hostvars | netdata_fleet.telemetry.fleet_compliance(hosts, opt_out, check_mode)``:
the compliance summary of playbooks/enforce_optout.yml, from the optout role's results."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.compliance_summary import (
    compliance_from_hostvars)


def fleet_compliance(hostvars, hosts, opt_out=True, check_mode=False):
    return compliance_from_hostvars(hostvars, hosts, opt_out=opt_out, check_mode=check_mode)


class FilterModule(object):
    def filters(self):
        return {'fleet_compliance': fleet_compliance}
