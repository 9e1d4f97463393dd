# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-host inventory records and their fleet-wide aggregation (controller side).

A record is plain JSON data (str, int, float, bool, None, list, dict with str keys): what
``ansible_facts.netdata`` held for the host, plus a few derived fields the CSV and the
report share, so that no consumer re-derives them differently.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
import time

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
# A report read from stored facts (a fact cache, an ``ansible --tree`` directory) adds two:
# 'stale', facts older than the report's limit (or of unknown age), which say what the
# host was, not what it is, so they count as none of the telemetry classes; and
# 'no_facts', a host of the inventory with nothing stored.
STATUSES = ('opted_out', 'opted_in', 'partial', 'drifting', 'absent', 'stale', 'no_facts',
            'unreachable', 'failed')
STATUS_LABELS = {
    'opted_out': 'opted out',
    'opted_in': 'opted in',
    'partial': 'partial (half-way)',
    'drifting': 'drifting',
    'absent': 'no agent',
    'stale': 'stale facts',
    'no_facts': 'no facts',
    'unreachable': 'unreachable',
    'failed': 'facts failed',
}
STORED_ONLY_STATUSES = ('stale', 'no_facts')
# Where nothing is sent: opted out, or no agent at all. Every other class (stale, no facts,
# unreachable and failed too) is "not compliant" with an opt-out: unknown is not compliant.
COMPLIANT_STATUSES = {True: ('opted_out', 'absent'), False: ('opted_in', 'absent')}

# Container agents (installs of kind container), each in exactly one class: its verdict,
# with 'opted out' split by whether it lasts. An agent whose opt-out sits in its container's
# own layer (netdata_facts' container.opted_out_until_recreated) is off now and sends again
# once the container is re-created from the same arguments: never counted with the lasting.
CONTAINER_CLASSES = ('opted_out', 'opted_out_until_recreated', 'opted_in', 'partial', 'unknown')
CONTAINER_CLASS_LABELS = {
    'opted_out': 'opted out',
    'opted_out_until_recreated': 'opted out until re-created',
    'opted_in': 'opted in',
    'partial': 'partial',
    'unknown': 'unknown',
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


def container_summary(install):
    """What the report shows of a container agent (``kind: container``): its runtime, name,
    image and id, whether the container runs, where its config dir lives, and whether it is
    opted out only until the container is re-created (netdata_facts' ``container`` object);
    None for an install that does not run in a container."""
    if install.get('kind') != 'container':
        return None
    container = install.get('container')
    container = container if isinstance(container, dict) else {}
    runtime = container.get('runtime')
    return {
        'runtime': str(runtime) if runtime not in (None, '') else 'unknown',
        'id': _str_or_none(container.get('id')),
        'name': _str_or_none(container.get('name')),
        'image': _str_or_none(container.get('image')),
        'running': _bool_or_none(container.get('running')),
        'config_persistence': _str_or_none(container.get('config_persistence')),
        'opted_out_until_recreated': container.get('opted_out_until_recreated') is True,
    }


def _str_or_none(value):
    return value if value is None or isinstance(value, str) else str(value)


def install_summary(install):
    """The fields of one install the report and the CSV show."""
    install = _dict(install)
    get = install.get
    telemetry = get('telemetry')
    telemetry = telemetry if isinstance(telemetry, dict) else {}
    channels = telemetry.get('channels')
    channels = channels if isinstance(channels, dict) else {}
    if telemetry.get('opted_out') is True:
        state = 'opted_out'
    elif telemetry.get('opted_in') is True:
        state = 'opted_in'
    elif telemetry:
        state = 'partial'
    else:
        state = 'unknown'
    daemon = get('daemon')
    claimed = get('claimed')
    running = daemon.get('running') if isinstance(daemon, dict) else None
    return {
        'config_dir': get('config_dir'),
        'kind': get('kind'),
        'version': get('version'),
        'install_type': get('install_type'),
        'machine_guid': get('machine_guid'),
        'claimed': claimed if claimed is True or claimed is False else None,
        'running': running if running is True or running is False else None,
        'state': state,
        'drift': bool(telemetry.get('drift')),
        'channels': {name: channel_state(channels.get(name)) for name in CHANNELS},
        'container': container_summary(install),
    }


def container_class(install):
    """The class of one container agent (an ``install_summary``) in CONTAINER_CLASSES."""
    if install['state'] == 'opted_out' and (install.get('container') or {}).get('opted_out_until_recreated'):
        return 'opted_out_until_recreated'
    return install['state']


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


def _epoch(value):
    """Seconds since the epoch from an int, a float or a numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if value > 0 else None
    if isinstance(value, str):
        try:
            return _epoch(float(value.strip()))
        except ValueError:
            return None
    return None


def facts_collected_at(netdata, ansible_facts=None):
    """When a host's facts were gathered (epoch seconds), or None when they do not say.

    ``netdata_facts`` records ``collected_at``; facts gathered by an older version of the
    collection fall back to ``setup``'s ``date_time.epoch`` when setup ran too.
    """
    stamp = _epoch(_dict(netdata).get('collected_at'))
    if stamp is None and isinstance(ansible_facts, dict):
        for key in ('date_time', 'ansible_date_time'):
            stamp = _epoch(_dict(ansible_facts.get(key)).get('epoch'))
            if stamp is not None:
                break
    return stamp


def host_record(hostname, facts=None, address=None, reachable=True, error=None, now=None,
                collected_at=None):
    """The record of one host from its ``ansible_facts.netdata`` (already plain data).

    ``reachable=False`` makes an unreachable host's record; ``error`` without facts makes a
    failed one (the module failed or returned no facts); ``reachable=None``: the host was
    not contacted (a report from stored facts). ``age`` is ``now`` minus the facts'
    ``collected_at`` (or the ``collected_at`` given), in seconds, when both are known.
    """
    hostname = str(hostname)
    if reachable is False:
        record = _unreachable_record(hostname, address, error)
        facts = None
    else:
        record = {'hostname': hostname, 'address': address, 'reachable': reachable, 'error': error}
    facts = facts if isinstance(facts, dict) else None
    stamp = facts_collected_at(facts) if facts else None
    if stamp is None:
        stamp = _epoch(collected_at)
    record['collected_at'] = stamp
    # A target clock ahead of the controller's would give a negative age: it is "now".
    record['age'] = max(0, int(now) - stamp) if stamp is not None and now is not None else None
    record['stale'] = False
    telemetry = _dict(facts.get('telemetry')) if facts else {}
    installs = [install_summary(i) for i in _list(facts.get('installs'))] if facts else []

    record['state'] = telemetry.get('state') if facts else None
    record['opted_out'] = _bool_or_none(telemetry.get('opted_out'))
    record['opted_in'] = _bool_or_none(telemetry.get('opted_in'))
    record['drift'] = _bool_or_none(telemetry.get('drift'))
    record['installed'] = _bool_or_none(facts.get('installed')) if facts else None
    if len(installs) == 1:  # most hosts: the host's state of a channel is its install's
        record['channels'] = dict(installs[0]['channels'])
    else:
        record['channels'] = dict(
            (name, combine_channel_states(i['channels'][name] for i in installs) if installs else 'n/a')
            for name in CHANNELS)
    record['installs'] = installs
    record['reasons'] = [str(r) for r in _list(telemetry.get('reasons'))]
    record['system'] = system_summary(facts.get('system_info')) if facts else system_summary({})
    record['netdata'] = facts

    if reachable is False:
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


def records_from_results(hosts, results, addresses=None, unreachable=(), now=None):
    """Records for ``hosts`` (in that order) from each host's registered task result.

    ``results`` maps a host name to its result of the ``netdata_facts`` task (a dict with
    ``ansible_facts``, or ``unreachable``/``failed`` and ``msg``); a host without one, or
    listed in ``unreachable``, is recorded as unreachable: nothing is dropped.
    """
    now = time.time() if now is None else now
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
        records.append(host_record(host, facts, address=address, error=error, now=now))
    return records


def stored_record(hostname, result, now, max_age=0, address=None, stored_at=None,
                  missing='no facts stored for this host'):
    """The record of one host from what was stored for it, without contacting it.

    ``result`` has the shape of a task result: ``{'ansible_facts': {...}}`` (a fact
    cache's entry is the host's ``ansible_facts``, wrapped so), or ``unreachable`` /
    ``failed`` and ``msg`` (an ``ansible --tree`` file of a host that failed, an
    unreadable cache entry); None when nothing is stored. ``stored_at`` (epoch seconds,
    e.g. a file's mtime) stands in when the facts carry no timestamp. Facts older than
    ``max_age`` seconds (0: no limit), or of unknown age when there is a limit, make the
    host 'stale'; its record keeps the last known state.
    """
    result = result if isinstance(result, dict) else None
    if result is None:
        record = host_record(hostname, None, address=address, reachable=None, error=missing, now=now)
        record['status'] = 'no_facts'
        return record
    if result.get('unreachable') or result.get('failed'):
        msg = str(result.get('msg') or ('unreachable' if result.get('unreachable') else 'failed'))
        return host_record(hostname, None, address=address, reachable=False if result.get('unreachable') else None,
                           error=msg, now=now, collected_at=stored_at)
    ansible_facts = _dict(result.get('ansible_facts'))
    netdata = ansible_facts.get('netdata')
    if not isinstance(netdata, dict):
        record = host_record(hostname, None, address=address, reachable=None, now=now,
                             error='no netdata facts stored (netdata_facts never ran on it?)',
                             collected_at=facts_collected_at(None, ansible_facts) or stored_at)
        record['status'] = 'no_facts'
        return record
    stamp = facts_collected_at(netdata, ansible_facts)
    record = host_record(hostname, netdata, address=address, reachable=None, now=now,
                         collected_at=stored_at if stamp is None else stamp)
    if max_age and record['status'] != 'failed' and (record['age'] is None or record['age'] > max_age):
        record['stale'] = True
        record['status'] = 'stale'
    return record


def records_from_store(hosts, lookup, now=None, max_age=0, addresses=None, missing='no facts stored for this host'):
    """Records for ``hosts`` (in that order, each once) from stored facts: ``lookup(host)``
    returns ``(result, stored_at)`` (see ``stored_record``); nothing is contacted."""
    return list(iter_records_from_store(hosts, lookup, now=now, max_age=max_age, addresses=addresses,
                                        missing=missing))


def iter_records_from_store(hosts, lookup, now=None, max_age=0, addresses=None,
                            missing='no facts stored for this host'):
    """``records_from_store`` one record at a time, each host read when its record is asked
    for (a big fleet's records need not be held all at once)."""
    now = time.time() if now is None else now
    addresses = addresses or {}
    seen = set()
    for host in hosts:
        host = str(host)
        if host in seen:
            continue
        seen.add(host)
        result, stored_at = lookup(host)
        yield stored_record(host, result, now, max_age=max_age, address=addresses.get(host),
                            stored_at=stored_at, missing=missing)


def render_json(records):
    """inventory.json: a JSON array, one host's record per line (keys sorted).

    Valid JSON that diffs host by host and stays fast for 10,000 hosts (an indented dump
    goes through the json module's pure-Python encoder); ``jq .`` pretty-prints it.
    """
    return json_document(json_lines(records))


def json_lines(records):
    """The records' lines of inventory.json, without the brackets (parts of a fleet rendered
    apart are joined with ``,\\n``)."""
    # Records are trees of decoded JSON (no cycles): skipping the cycle check saves about a
    # third of the encoding time.
    dump = json.JSONEncoder(sort_keys=True, ensure_ascii=False, check_circular=False).encode
    return ',\n'.join(dump(record) for record in records)


def json_document(*bodies):
    """inventory.json from the ``json_lines`` of one or more parts of the fleet."""
    body = ',\n'.join(b for b in bodies if b)
    return '[\n' + body + '\n]\n' if body else '[]\n'


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
    return summary_from_counts(count_records(records))


def count_records(records):
    """The counters ``summary_from_counts`` turns into a summary; counters of parts of a
    fleet add up (``merge_counts``), so parts can be counted apart."""
    statuses = dict((s, 0) for s in STATUSES)
    channels = dict((c, dict((s, 0) for s in CHANNEL_STATES)) for c in CHANNELS)
    versions, kinds, install_types = {}, {}, {}
    os_names, virt, containers, kernels, archs = {}, {}, {}, {}, {}
    runtimes, images = {}, {}
    agents = dict((c, 0) for c in CONTAINER_CLASSES)
    agents.update(total=0, running=0, hosts=0)
    drift = claimed = installs = with_facts = 0
    for record in records:
        status = record.get('status')
        statuses[status] = statuses.get(status, 0) + 1
        if record.get('drift'):
            drift += 1
        if record.get('reachable') is False or record.get('netdata') is None:
            continue
        with_facts += 1
        for name in CHANNELS:
            channels[name][record['channels'][name]] += 1
        host_agents = 0
        for install in record['installs']:
            installs += 1
            _bump(versions, install['version'] or 'unknown')
            _bump(kinds, install['kind'] or 'unknown')
            _bump(install_types, install['install_type'] or 'unknown')
            if install['claimed']:
                claimed += 1
            container = install.get('container')
            if container is not None:
                host_agents += 1
                agents[container_class(install)] += 1
                if container['running']:
                    agents['running'] += 1
                _bump(runtimes, container['runtime'])
                _bump(images, container['image'] or 'unknown')
        if host_agents:
            agents['total'] += host_agents
            agents['hosts'] += 1
        system = record['system']
        _bump(os_names, system['os_label'])
        _bump(virt, system['virtualization'])
        _bump(containers, system['container'])
        _bump(kernels, system['kernel'])
        _bump(archs, system['architecture'])
    return {
        'total': len(records), 'statuses': statuses, 'with_facts': with_facts, 'drift': drift,
        'installs': installs, 'claimed': claimed, 'channels': channels, 'container_agents': agents,
        'tallies': {'versions': versions, 'install_kinds': kinds, 'install_types': install_types,
                    'os': os_names, 'virtualization': virt, 'container': containers,
                    'kernel': kernels, 'architecture': archs,
                    'container_runtimes': runtimes, 'container_images': images},
    }


def _add(into, more):
    for key, value in more.items():
        if isinstance(value, dict):
            _add(into.setdefault(key, {}), value)
        else:
            into[key] = into.get(key, 0) + value
    return into


def merge_counts(counts):
    """The counters of a whole fleet from the counters of its parts."""
    total = {}
    for part in counts:
        _add(total, part)
    return total


def summary_from_counts(counts):
    statuses = dict((s, 0) for s in STATUSES)
    statuses.update(counts.get('statuses') or {})
    channels = dict((c, dict((s, 0) for s in CHANNEL_STATES)) for c in CHANNELS)
    for name, states in (counts.get('channels') or {}).items():
        channels.setdefault(name, {}).update(states)
    tallies = counts.get('tallies') or {}
    total = counts.get('total', 0)
    summary = {
        'total': total,
        'reachable': total - statuses.get('unreachable', 0),
        'statuses': statuses,
        'with_facts': counts.get('with_facts', 0),
        'drift': counts.get('drift', 0),
        'installs': counts.get('installs', 0),
        'claimed': counts.get('claimed', 0),
        'channels': channels,
    }
    # Agents in containers (installs of kind container) by class, with how many run and on
    # how many hosts; 'total' is the sum of the classes.
    agents = dict((c, 0) for c in CONTAINER_CLASSES)
    agents.update(total=0, running=0, hosts=0)
    agents.update(counts.get('container_agents') or {})
    summary['container_agents'] = agents
    for key in ('versions', 'install_kinds', 'install_types', 'os', 'virtualization', 'container',
                'kernel', 'architecture', 'container_runtimes', 'container_images'):
        summary[key] = _ranked(tallies.get(key) or {})
    summary['headline'] = headline(summary)
    return summary


def compliance(summary, opt_out=True):
    """``{compliant, not_compliant, opt_out}`` from a summary: compliant hosts send
    nothing (opted out, or no agent) when ``opt_out``, every channel is on when not."""
    good = COMPLIANT_STATUSES[bool(opt_out)]
    ok = sum(summary['statuses'].get(s, 0) for s in good)
    return {'opt_out': bool(opt_out), 'compliant': ok, 'not_compliant': summary['total'] - ok}


def headline(summary):
    """One line a person reads first: '16 hosts: 9 opted out, 2 opted in, ...'."""
    parts = ['%d %s' % (summary['statuses'][s], STATUS_LABELS[s]) for s in STATUSES
             if summary['statuses'].get(s)]
    line = '%d host%s: %s' % (summary['total'], '' if summary['total'] == 1 else 's',
                              ', '.join(parts) if parts else 'none')
    if summary['drift']:
        line += ' (%d with drift)' % summary['drift']
    agents = summary.get('container_agents') or {}
    if agents.get('total'):
        line += '; %d container agent%s: %s' % (
            agents['total'], '' if agents['total'] == 1 else 's',
            ', '.join('%d %s' % (agents[c], CONTAINER_CLASS_LABELS[c]) for c in CONTAINER_CLASSES if agents.get(c)))
    return line
