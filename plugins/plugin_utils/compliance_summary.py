# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The compliance summary of playbooks/enforce_optout.yml, from the role's results.

One row per host from what the optout role registered (``netdata_telemetry_apply`` and,
after a restart, ``netdata_telemetry_reverify``): its class (the facts' host state, or
``failed`` / ``unreachable``), whether it is as asked, whether it changed or drifts, and
the problems verify reported. A host with no apply result never reached the module:
it is counted as unreachable, never silently left out.

A host opted out whose container agents stay opted out only until their container is
re-created (the module's ``until_recreated``: the opt-out sits in the container's own
layer, see ``docs/dev/install-model.md``) is counted in a class of its own, ``opted out
until re-created``, with one line per container saying what makes it last: never
silently with the hosts that stay opted out.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report import (
    host_vars_of, read_host_var, to_plain)

APPLY_VAR = 'netdata_telemetry_apply'
REVERIFY_VAR = 'netdata_telemetry_reverify'
VERIFY_VAR = 'netdata_telemetry_verify'
CLASSES = (('opted_out', 'opted out'), ('opted_out_until_recreated', 'opted out until re-created'),
           ('opted_in', 'opted in'), ('absent', 'no Netdata'),
           ('partial', 'partial'), ('failed', 'failed'), ('unreachable', 'unreachable'))


def _dict(value):
    return value if isinstance(value, dict) else {}


def host_row(apply, reverify=None, verify_enabled=True):
    """``{class, compliant, changed, drift, problems}`` for one host's registered results,
    plus ``until_recreated`` (the module's lines) when some container agent of an opted-out
    host is opted out only until it is re-created."""
    if not isinstance(apply, dict) or apply.get('unreachable'):
        return {'class': 'unreachable', 'compliant': False, 'changed': False, 'drift': False,
                'problems': ['unreachable']}
    if apply.get('failed'):
        return {'class': 'failed', 'compliant': False, 'changed': False, 'drift': False,
                'problems': [apply.get('msg') or 'failed']}
    verdict = reverify if isinstance(reverify, dict) and not reverify.get('skipped') else apply
    telemetry = _dict(_dict(_dict(verdict.get('ansible_facts')).get('netdata')).get('telemetry'))
    verify = _dict(verdict.get('verify'))
    compliant = verify.get('compliant') is True or not verify_enabled
    row = {'class': telemetry.get('state') or 'unknown', 'compliant': compliant,
           'changed': apply.get('changed') is True, 'drift': telemetry.get('drift') is True,
           'problems': [] if compliant else list(verify.get('problems') or ['not verified'])}
    lasting = [str(line) for line in (verdict.get('until_recreated') or []) if line]
    if lasting and row['class'] == 'opted_out':
        row['class'] = 'opted_out_until_recreated'
        row['until_recreated'] = lasting
    return row


def _line(label, names):
    return '%-15s %3d  %s' % (label, len(names), ', '.join(names))


def summarize_compliance(rows, opt_out=True, check_mode=False):
    """``{'netdata_telemetry': [lines], 'not_compliant': {host: [problems]}, 'counts': {...}}``
    for rows in inventory order (a list of ``(host, row)``)."""
    lines = ['asked %s%s, %d host(s)' % ('OPT-OUT' if opt_out else 'OPT-IN',
                                         ' (audit, --check: nothing changed)' if check_mode else '',
                                         len(rows))]
    for key, label in CLASSES:
        lines.append(_line(label + ':', [h for h, row in rows if row['class'] == key]))
    lines.append(_line('would change:' if check_mode else 'changed:', [h for h, row in rows if row['changed']]))
    lines.append(_line('drifting:', [h for h, row in rows if row['drift']]))
    bad = [(h, row['problems']) for h, row in rows if not row['compliant']]
    lines.append(_line('NOT COMPLIANT:', [h for h, _problems in bad]))
    # what makes each "until re-created" last, per container: never a silent "compliant"
    lasting = [(h, row['until_recreated']) for h, row in rows if row.get('until_recreated')]
    for host, container_lines in lasting:
        lines.extend('  %s: %s' % (host, line) for line in container_lines)
    # The same as numbers, for set_stats (AWX/AAP job artifacts a workflow branches on).
    counts = dict((key, sum(1 for _h, row in rows if row['class'] == key)) for key, _label in CLASSES)
    counts.update(hosts=len(rows), changed=sum(1 for _h, row in rows if row['changed']),
                  drifting=sum(1 for _h, row in rows if row['drift']), not_compliant=len(bad))
    return {'netdata_telemetry': lines, 'not_compliant': dict(bad), 'counts': counts,
            'until_recreated': dict(lasting)}


def compliance_from_hostvars(hostvars, hosts, opt_out=True, check_mode=False):
    """Read each host's registered results once and summarise them."""
    rows = []
    for host in hosts or []:
        host = str(host)
        host_vars = host_vars_of(hostvars, host)
        verify_enabled = read_host_var(host_vars, VERIFY_VAR)
        row = host_row(to_plain(read_host_var(host_vars, APPLY_VAR)),
                       to_plain(read_host_var(host_vars, REVERIFY_VAR)),
                       verify_enabled=verify_enabled is None or bool(to_plain(verify_enabled)))
        rows.append((host, row))
    return summarize_compliance(rows, opt_out=bool(opt_out), check_mode=bool(check_mode))
