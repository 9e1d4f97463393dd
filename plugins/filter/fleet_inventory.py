# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters that turn the fleet's ``netdata_facts`` into the inventory files.

- ``hostvars | netdata_fleet.telemetry.fleet_records(hosts, unreachable=[], result_var=...)``
  -> list of per-host records (plain JSON data, every fact under ``netdata``), one per name
  in ``hosts`` in that order; unreachable, failed and fact-less hosts are records too.
- ``records | netdata_fleet.telemetry.fleet_summary`` -> fleet-wide counts and ``headline``.
- ``records | netdata_fleet.telemetry.fleet_json`` -> inventory.json text (an array, one
  record per line).
- ``records | netdata_fleet.telemetry.fleet_csv`` -> CSV text, fixed column order.
- ``records | netdata_fleet.telemetry.fleet_report_html(summary=None, title=..., generated=None, source=None)``
  -> the self-contained report page (``source``: where stored facts came from, for the header).

The action ``netdata_fleet.telemetry.fleet_report`` writes the three files in one task, from
this run's results, the fact cache or an ``ansible --tree`` directory.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report import (
    DEFAULT_RESULT_VAR, records_from_hostvars, render_csv, render_html, render_json, summarize,
    to_plain,
)


def _records(records, name):
    if not isinstance(records, list):
        raise AnsibleFilterError('%s expects the list that fleet_records returns, got %s'
                                 % (name, type(records).__name__))
    return to_plain(records)


def fleet_records(hostvars, hosts, unreachable=None, result_var=DEFAULT_RESULT_VAR):
    return records_from_hostvars(hostvars, hosts, unreachable=unreachable, result_var=result_var)


def fleet_summary(records):
    return summarize(_records(records, 'fleet_summary'))


def fleet_json(records):
    return render_json(_records(records, 'fleet_json'))


def fleet_csv(records):
    return render_csv(_records(records, 'fleet_csv'))


def fleet_report_html(records, summary=None, title='Netdata fleet inventory', generated=None, source=None):
    records = _records(records, 'fleet_report_html')
    return render_html(records, to_plain(summary) if summary is not None else None,
                       title=str(title), generated=None if generated is None else str(generated),
                       source=None if source is None else str(source))


class FilterModule(object):
    def filters(self):
        return {
            'fleet_records': fleet_records,
            'fleet_summary': fleet_summary,
            'fleet_json': fleet_json,
            'fleet_csv': fleet_csv,
            'fleet_report_html': fleet_report_html,
        }
