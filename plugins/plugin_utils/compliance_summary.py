# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netdata_fleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compliance summary of playbooks/enforce_optout.yml, from the role's results.

One row per host from what the optout role registered (``netdata_telemetry_apply`` and,
after a restart, ``netdata_telemetry_reverify``): its class (the facts' host state, or
``failed`` / ``unreachable``), whether it is as asked, whether it changed or drifts, and
the problems verify reported. A host with no apply result never reached the module:
it is counted as unreachable, never silently left out.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report import (
    host_vars_of, read_host_var, to_plain)

APPLY_VAR = 'netdata_telemetry_apply'
REVERIFY_VAR = 'netdata_telemetry_reverify'
VERIFY_VAR = 'netdata_telemetry_verify'
CLASSES = (('opted_out', 'opted out'), ('opted_in', 'opted in'), ('absent', 'no Netdata'),
           ('partial', 'partial'), ('failed', 'failed'), ('unreachable', 'unreachable'))


def _dict(value):
    return value if isinstance(value, dict) else {}


def host_row(apply, reverify=None, verify_enabled=True):
    """``{class, compliant, changed, drift, problems}`` for one host's registered results."""
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
    return {'class': telemetry.get('state') or 'unknown', 'compliant': compliant,
            'changed': apply.get('changed') is True, 'drift': telemetry.get('drift') is True,
            'problems': [] if compliant else list(verify.get('problems') or ['not verified'])}


def _line(label, names):
    return '%-15s %3d  %s' % (label, len(names), ', '.join(names))


def summarize_compliance(rows, opt_out=True, check_mode=False):
    """``{'netdata_telemetry': [lines], 'not_compliant': {host: [problems]}}`` for rows in
    inventory order (a list of ``(host, row)``)."""
    lines = ['asked %s%s, %d host(s)' % ('OPT-OUT' if opt_out else 'OPT-IN',
                                         ' (audit, --check: nothing changed)' if check_mode else '',
                                         len(rows))]
    for key, label in CLASSES:
        lines.append(_line(label + ':', [h for h, row in rows if row['class'] == key]))
    lines.append(_line('would change:' if check_mode else 'changed:', [h for h, row in rows if row['changed']]))
    lines.append(_line('drifting:', [h for h, row in rows if row['drift']]))
    bad = [(h, row['problems']) for h, row in rows if not row['compliant']]
    lines.append(_line('NOT COMPLIANT:', [h for h, _problems in bad]))
    return {'netdata_telemetry': lines, 'not_compliant': dict(bad)}


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
