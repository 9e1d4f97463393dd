# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netdata_fleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host inventory records and their fleet-wide aggregation (controller side).

A record is plain JSON data (str, int, float, bool, None, list, dict with str keys): what
``ansible_facts.netdata`` held for the host, plus a few derived fields the CSV and the
report share, so that no consumer re-derives them differently.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re

try:  # ansible-core >= 2.19: values are tagged str/dict subclasses; drop the tags.
    from ansible.module_utils.common.json import get_encoder as _get_encoder
    _ENCODER = _get_encoder('tagless')
except ImportError:  # ansible-core 2.17/2.18: unsafe strings are plain str subclasses.
    try:
        from ansible.module_utils.common.json import AnsibleJSONEncoder as _ENCODER
    except ImportError:  # outside Ansible (bench, unit tests without ansible-core)
        _ENCODER = json.JSONEncoder

CHANNELS = ('statistics_script', 'daemon_analytics', 'crash_reports', 'installer')
CHANNEL_LABELS = {
    'statistics_script': 'statistics script',
    'daemon_analytics': 'daemon analytics',
    'crash_reports': 'crash reports',
    'installer': 'installer',
}
# A channel's state on one host. 'on' wins over everything when a host has several
# installs: one install that sends is enough for the host to send.
CHANNEL_STATES = ('off', 'on', 'unknown', 'n/a')

# The headline classes: exactly one per host, so the counts add up to the fleet size.
# Unreachable and failed hosts say nothing about telemetry; a drifting host's running
# state differs from its configuration (its configured verdict is not yet in effect),
# which matters more than that verdict.
STATUSES = ('opted_out', 'opted_in', 'partial', 'drifting', 'absent', 'unreachable', 'failed')
STATUS_LABELS = {
    'opted_out': 'opted out',
    'opted_in': 'opted in',
    'partial': 'partial (half-way)',
    'drifting': 'drifting',
    'absent': 'no agent',
    'unreachable': 'unreachable',
    'failed': 'facts failed',
}

# system-info.sh spells "nothing here" and "could not tell" like this.
_NOTHING = ('', 'none', 'unknown', None)


def to_plain(value):
    """Plain JSON-able copy of ``value`` (tagged/unsafe subclasses dropped, tuples as lists)."""
    return json.loads(json.dumps(value, cls=_ENCODER))


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _bool_or_none(value):
    return value if isinstance(value, bool) else None


def _known(value):
    if isinstance(value, str):
        return value.strip().lower() not in _NOTHING
    return value is not None


def _text(value, default='unknown'):
    return str(value) if _known(value) else default


def channel_state(channel):
    """'on', 'off', 'unknown' or 'n/a' for one install's channel verdict."""
    if not isinstance(channel, dict):
        return 'unknown'
    if channel.get('applies') is False:
        return 'n/a'
    enabled = channel.get('enabled')
    if enabled is True:
        return 'on'
    if enabled is False:
        return 'off'
    return 'unknown'


def combine_channel_states(states):
    """One host-level state from its installs' states of a channel."""
    states = set(states)
    for state in ('on', 'unknown', 'off'):
        if state in states:
            return state
    return 'n/a'


def install_summary(install):
    """The fields of one install the report and the CSV show."""
    install = _dict(install)
    telemetry = _dict(install.get('telemetry'))
    channels = _dict(telemetry.get('channels'))
    if telemetry.get('opted_out') is True:
        state = 'opted_out'
    elif telemetry.get('opted_in') is True:
        state = 'opted_in'
    elif telemetry:
        state = 'partial'
    else:
        state = 'unknown'
    return {
        'config_dir': install.get('config_dir'),
        'kind': install.get('kind'),
        'version': install.get('version'),
        'install_type': install.get('install_type'),
        'machine_guid': install.get('machine_guid'),
        'claimed': _bool_or_none(install.get('claimed')),
        'running': _bool_or_none(_dict(install.get('daemon')).get('running')),
        'state': state,
        'drift': bool(telemetry.get('drift')),
        'channels': dict((name, channel_state(channels.get(name))) for name in CHANNELS),
    }


def _os_fields(info):
    """The OS Netdata runs on: the container's when it runs in one, else the host's."""
    in_container = _known(info.get('system_container'))
    prefix = 'container_os_' if in_container and _known(info.get('container_os_name')) else 'host_os_'
    name = info.get(prefix + 'name')
    version = info.get(prefix + 'version_id')
    if not _known(version):
        version = info.get(prefix + 'version')
    return _text(name), (str(version) if _known(version) else '')


def _label(value):
    """The value as system-info.sh says it ('none' stays 'none'), 'unknown' when missing."""
    return 'unknown' if value is None or str(value).strip() == '' else str(value)


def system_summary(info):
    info = _dict(info)
    os_name, os_version = _os_fields(info)
    return {
        'os': os_name,
        'os_version': os_version,
        'os_label': (os_name + ' ' + os_version).strip() if os_name != 'unknown' else 'unknown',
        'kernel_name': _text(info.get('system_kernel_name')),
        'kernel': _text(info.get('system_kernel_version')),
        'architecture': _text(info.get('system_architecture')),
        'virtualization': _label(info.get('system_virtualization')),
        'container': _label(info.get('system_container')),
        'cpu_vendor': _text(info.get('system_cpu_vendor')),
        'cpu_model': _text(info.get('system_cpu_model')),
        'cpu_count': info.get('system_cpu_logical_cpu_count'),
        'cpu_freq': info.get('system_cpu_freq'),
        'ram': info.get('system_total_ram'),
        'disk': info.get('system_total_disk_size'),
    }


def _unreachable_record(hostname, address, error):
    return {'hostname': hostname, 'address': address, 'reachable': False, 'status': 'unreachable',
            'error': error or 'unreachable'}


def host_record(hostname, facts=None, address=None, reachable=True, error=None):
    """The record of one host from its ``ansible_facts.netdata`` (already plain data).

    ``reachable=False`` makes an unreachable host's record; ``error`` without facts makes a
    failed one (the module failed or returned no facts).
    """
    hostname = str(hostname)
    if not reachable:
        record = _unreachable_record(hostname, address, error)
        facts = None
    else:
        record = {'hostname': hostname, 'address': address, 'reachable': True, 'error': error}
    facts = facts if isinstance(facts, dict) else None
    telemetry = _dict(facts.get('telemetry')) if facts else {}
    installs = [install_summary(i) for i in _list(facts.get('installs'))] if facts else []

    record['state'] = telemetry.get('state') if facts else None
    record['opted_out'] = _bool_or_none(telemetry.get('opted_out'))
    record['opted_in'] = _bool_or_none(telemetry.get('opted_in'))
    record['drift'] = _bool_or_none(telemetry.get('drift'))
    record['installed'] = _bool_or_none(facts.get('installed')) if facts else None
    record['channels'] = dict(
        (name, combine_channel_states(i['channels'][name] for i in installs) if installs else 'n/a')
        for name in CHANNELS)
    record['installs'] = installs
    record['reasons'] = [str(r) for r in _list(telemetry.get('reasons'))]
    record['system'] = system_summary(facts.get('system_info')) if facts else system_summary({})
    record['netdata'] = facts

    if not reachable:
        pass
    elif facts is None or record['state'] not in ('absent', 'opted_out', 'opted_in', 'partial'):
        record['status'] = 'failed'
        if not record['error']:
            record['error'] = ('no netdata facts' if facts is None
                               else 'unexpected telemetry state %r' % (record['state'],))
    elif record['state'] == 'absent':
        record['status'] = 'absent'
    elif record['drift']:
        record['status'] = 'drifting'
    else:
        record['status'] = record['state']
    return record


def records_from_results(hosts, results, addresses=None, unreachable=()):
    """Records for ``hosts`` (in that order) from each host's registered task result.

    ``results`` maps a host name to its result of the ``netdata_facts`` task (a dict with
    ``ansible_facts``, or ``unreachable``/``failed`` and ``msg``); a host without one, or
    listed in ``unreachable``, is recorded as unreachable: nothing is dropped.
    """
    addresses = addresses or {}
    unreachable = set(str(h) for h in unreachable or ())
    records = []
    seen = set()
    for host in hosts:
        host = str(host)
        if host in seen:
            continue
        seen.add(host)
        result = results.get(host)
        address = addresses.get(host)
        if host in unreachable or not isinstance(result, dict):
            msg = _dict(result).get('msg') if result else None
            records.append(host_record(host, address=address, reachable=False,
                                       error=str(msg) if msg else 'unreachable (no result)'))
            continue
        if result.get('unreachable'):
            records.append(host_record(host, address=address, reachable=False,
                                       error=str(result.get('msg') or 'unreachable')))
            continue
        facts = _dict(result.get('ansible_facts')).get('netdata')
        error = None
        if result.get('failed') or result.get('skipped'):
            error = str(result.get('msg') or ('skipped' if result.get('skipped') else 'failed'))
            facts = None
        records.append(host_record(host, facts, address=address, error=error))
    return records


def render_json(records):
    """inventory.json: a JSON array, one host's record per line (keys sorted).

    Valid JSON that diffs host by host and stays fast for 10,000 hosts (an indented dump
    goes through the json module's pure-Python encoder); ``jq .`` pretty-prints it.
    """
    if not records:
        return '[]\n'
    dump = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
    return '[\n' + ',\n'.join(dump(record) for record in records) + '\n]\n'


# --- aggregation --------------------------------------------------------------------------

_NUMBER = re.compile(r'(\d+)')


def natural_key(text):
    """Sort key that orders 1.9.0 before 1.10.0 and 5.10 kernels before 6.1."""
    return [(0, int(part), '') if part.isdigit() else (1, 0, part.lower())
            for part in _NUMBER.split(str(text)) if part != '']


def _ranked(counts, order=None):
    """[[value, count], ...] by count (descending), then by ``order`` key or natural order."""
    key = order or natural_key
    return [[value, count] for value, count in
            sorted(counts.items(), key=lambda item: (-item[1], key(item[0])))]


def _bump(counts, value):
    counts[value] = counts.get(value, 0) + 1


def summarize(records):
    """Fleet-wide counts from a list of records (see ``host_record``)."""
    statuses = dict((s, 0) for s in STATUSES)
    channels = dict((c, dict((s, 0) for s in CHANNEL_STATES)) for c in CHANNELS)
    versions, kinds, install_types = {}, {}, {}
    os_names, virt, containers, kernels, archs = {}, {}, {}, {}, {}
    drift = claimed = installs = 0
    for record in records:
        status = record.get('status')
        statuses[status] = statuses.get(status, 0) + 1
        if record.get('drift'):
            drift += 1
        if not record.get('reachable') or record.get('netdata') is None:
            continue
        for name in CHANNELS:
            channels[name][record['channels'][name]] += 1
        for install in record['installs']:
            installs += 1
            _bump(versions, install['version'] or 'unknown')
            _bump(kinds, install['kind'] or 'unknown')
            _bump(install_types, install['install_type'] or 'unknown')
            if install['claimed']:
                claimed += 1
        system = record['system']
        _bump(os_names, system['os_label'])
        _bump(virt, system['virtualization'])
        _bump(containers, system['container'])
        _bump(kernels, system['kernel'])
        _bump(archs, system['architecture'])
    total = len(records)
    summary = {
        'total': total,
        'reachable': total - statuses.get('unreachable', 0),
        'statuses': statuses,
        'drift': drift,
        'installs': installs,
        'claimed': claimed,
        'channels': channels,
        'versions': _ranked(versions),
        'install_kinds': _ranked(kinds),
        'install_types': _ranked(install_types),
        'os': _ranked(os_names),
        'virtualization': _ranked(virt),
        'container': _ranked(containers),
        'kernel': _ranked(kernels),
        'architecture': _ranked(archs),
    }
    summary['headline'] = headline(summary)
    return summary


def headline(summary):
    """One line a person reads first: '16 hosts: 9 opted out, 2 opted in, ...'."""
    parts = ['%d %s' % (summary['statuses'][s], STATUS_LABELS[s]) for s in STATUSES
             if summary['statuses'].get(s)]
    line = '%d host%s: %s' % (summary['total'], '' if summary['total'] == 1 else 's',
                              ', '.join(parts) if parts else 'none')
    if summary['drift']:
        line += ' (%d with drift)' % summary['drift']
    return line
