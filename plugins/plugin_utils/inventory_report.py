# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet inventory report, from Ansible's hostvars to JSON records, CSV and HTML.

One concern per module:
- ``inventory_report_records``: per-host records and the fleet summary (plain data);
- ``inventory_report_csv``: the flat CSV with its fixed column order;
- ``inventory_report_svg``: the inline SVG charts;
- ``inventory_report_html``: the self-contained page (template ``inventory_report.html.j2``).
This module only reads Ansible's variables and hands plain data to them.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (
    CHANNELS, STATUSES, STATUS_LABELS, host_record, records_from_results, render_json, summarize,
    to_plain,
)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_csv import (
    COLUMNS as CSV_COLUMNS, render_csv,
)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import (
    render_html,
)

# The report's public interface: the functions of this module plus what it re-exports
# from the modules that do the work, so a caller imports everything from here.
__all__ = [
    'CHANNELS', 'CSV_COLUMNS', 'DEFAULT_RESULT_VAR', 'STATUSES', 'STATUS_LABELS', 'host_record',
    'host_vars_of', 'read_host_var', 'records_from_hostvars', 'records_from_results', 'render_csv', 'render_html', 'render_json',
    'summarize', 'to_plain',
]

DEFAULT_RESULT_VAR = 'netdata_inventory_result'


def host_vars_of(hostvars, host):
    try:
        return hostvars[host]
    except Exception:  # a name that is not in the inventory: recorded, not raised
        return None


def read_host_var(host_vars, key):
    # Each access templates that one variable of that host (ansible-core >= 2.19 hostvars
    # are lazy); read only the keys needed, once.
    try:
        return host_vars.get(key) if host_vars is not None else None
    except Exception:
        return None


def records_from_hostvars(hostvars, hosts, unreachable=None, result_var=DEFAULT_RESULT_VAR):
    """Records for ``hosts`` from ``hostvars``: each host's registered ``netdata_facts``
    result in ``result_var`` (with ``ignore_unreachable``/``ignore_errors`` the result says
    whether it was unreachable or failed), falling back to ``ansible_facts.netdata``."""
    if isinstance(hosts, str):
        hosts = [hosts]
    results, addresses = {}, {}
    for host in hosts or []:
        host = str(host)
        host_vars = host_vars_of(hostvars, host)
        result = read_host_var(host_vars, result_var)
        if not isinstance(result, dict) or not (
                'ansible_facts' in result or result.get('unreachable') or result.get('failed')
                or result.get('skipped')):
            facts = read_host_var(host_vars, 'ansible_facts')
            netdata = facts.get('netdata') if hasattr(facts, 'get') else None
            result = {'ansible_facts': {'netdata': netdata}} if netdata is not None else None
        if result is not None:
            result = to_plain({
                'ansible_facts': {'netdata': (result.get('ansible_facts') or {}).get('netdata')},
                'unreachable': result.get('unreachable', False),
                'failed': result.get('failed', False),
                'skipped': result.get('skipped', False),
                'msg': result.get('msg'),
            })
            results[host] = result
        address = read_host_var(host_vars, 'ansible_host')
        addresses[host] = to_plain(address) if address is not None else None
    return records_from_results([str(h) for h in hosts or []], results, addresses,
                                unreachable=[str(h) for h in unreachable or []])
