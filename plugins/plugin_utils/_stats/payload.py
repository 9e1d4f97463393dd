# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Netdata statistics events: the fail-closed send gate and the payload, from facts.

Pure functions over the C(ansible_facts.netdata) contract (the RETURN block of
C(plugins/modules/netdata_facts.py)); no I/O, standard library only.

The payload has the shape Netdata's own C(anonymous-statistics.sh) (1.37) POSTs to its
PostHog capture endpoint: top-level C(api_key), C(event) (C("<ACTION> <RESULT>")) and
C(properties) with the script's property names, in the script's order. Two top-level
keys are added for PostHog-like receivers: C(uuid) (the stable event id, which PostHog
uses to drop duplicates) and C(timestamp) (when the event was made, kept across
spool and flush so a resent event is the same event).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import hmac
import uuid

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import CHANNELS, GUID_RE, TELEMETRY_VARS

# The key anonymous-statistics.sh sends. It is public (it ships in every Netdata
# install); kept here so the default payload matches what Netdata itself sends.
NETDATA_POSTHOG_API_KEY = 'mqkwGT0JNFqO-zX2t0mW6Tec9yooaVu7xCBlXtHnt5Y'
NETDATA_CAPTURE_URL = 'https://posthog.netdata.cloud/capture/'

EVENTS = ('START', 'STOP', 'EXIT', 'FATAL')

# uuid5 namespace of this collection's event ids (a constant: ids must not change
# between releases, or a flush after an upgrade would resend under a new id).
EVENT_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, 'netdata_fleet.telemetry/stats_event')


# Constant properties, as the script writes them.
_CONSTANTS = (
    ('$current_url', 'agent backend'),
    ('$pathname', 'netdata-backend'),
    ('$host', 'backend.netdata.io'),
    ('$ip', '127.0.0.1'),
    ('event_source', 'agent backend'),
)

# Every property of the script, in its order, with how the script writes the value:
# 'str' = a quoted string ("${VAR}"), 'raw' = the value pasted as JSON (the daemon passes
# JSON literals: true/false/numbers/quoted strings/null).
PROPERTY_SPEC = (
    ('distinct_id', 'str'),
    ('$current_url', 'str'),
    ('$pathname', 'str'),
    ('$host', 'str'),
    ('$ip', 'str'),
    ('event_source', 'str'),
    ('action', 'str'),
    ('action_result', 'str'),
    ('action_data', 'str'),
    ('netdata_machine_guid', 'str'),
    ('netdata_version', 'str'),
    ('netdata_buildinfo', 'raw'),
    ('netdata_release_channel', 'raw'),
    ('netdata_install_type', 'raw'),
    ('netdata_prebuilt_distro', 'raw'),
    ('host_os_name', 'str'),
    ('host_os_id', 'str'),
    ('host_os_id_like', 'str'),
    ('host_os_version', 'str'),
    ('host_os_version_id', 'str'),
    ('host_os_detection', 'str'),
    ('host_is_k8s_node', 'str'),
    ('system_kernel_name', 'str'),
    ('system_kernel_version', 'str'),
    ('system_architecture', 'str'),
    ('system_virtualization', 'str'),
    ('system_virt_detection', 'str'),
    ('system_container', 'str'),
    ('system_container_detection', 'str'),
    ('container_os_name', 'str'),
    ('container_os_id', 'str'),
    ('container_os_id_like', 'str'),
    ('container_os_version', 'str'),
    ('container_os_version_id', 'str'),
    ('container_os_detection', 'str'),
    ('container_is_official_image', 'raw'),
    ('system_cpu_detection', 'str'),
    ('system_cpu_freq', 'str'),
    ('system_cpu_logical_cpu_count', 'str'),
    ('system_cpu_model', 'str'),
    ('system_cpu_vendor', 'str'),
    ('system_disk_detection', 'str'),
    ('system_ram_detection', 'str'),
    ('system_total_disk_size', 'str'),
    ('system_total_ram', 'str'),
    ('config_stream_enabled', 'raw'),
    ('config_memory_mode', 'raw'),
    ('config_page_cache_size', 'raw'),
    ('config_multidb_disk_quota', 'raw'),
    ('config_https_enabled', 'raw'),
    ('config_https_available', 'raw'),
    ('config_web_enabled', 'raw'),
    ('config_exporting_enabled', 'raw'),
    ('config_is_parent', 'raw'),
    ('config_is_private_registry', 'raw'),
    ('config_private_registry_used', 'raw'),
    ('config_hosts_available', 'raw'),
    ('config_oom_score', 'raw'),
    ('alarms_normal', 'raw'),
    ('alarms_warning', 'raw'),
    ('alarms_critical', 'raw'),
    ('host_charts_count', 'raw'),
    ('host_metrics_count', 'raw'),
    ('host_collectors', 'raw'),
    ('host_collectors_count', 'raw'),
    ('host_notification_methods', 'raw'),
    ('host_allmetrics_prometheus_used', 'raw'),
    ('host_allmetrics_shell_used', 'raw'),
    ('host_allmetrics_json_used', 'raw'),
    ('host_dashboard_used', 'raw'),
    ('host_cloud_available', 'raw'),
    ('host_cloud_enabled', 'raw'),
    ('host_agent_claimed', 'raw'),
    ('host_aclk_available', 'raw'),
    ('host_aclk_protocol', 'raw'),
    ('host_aclk_implementation', 'raw'),
    ('mirrored_host_count', 'raw'),
    ('mirrored_hosts_reachable', 'raw'),
    ('mirrored_hosts_unreachable', 'raw'),
    ('exporting_connectors', 'raw'),
)
PROPERTY_NAMES = tuple(name for name, _kind in PROPERTY_SPEC)

# Properties filled from ansible_facts.netdata.system_info (system-info.sh's names).
SYSTEM_INFO_PROPERTIES = tuple(
    name for name in PROPERTY_NAMES
    if name.startswith(('host_os_', 'system_', 'container_os_'))
    or name in ('host_is_k8s_node', 'container_is_official_image')
)

# Telemetry channels the facts module reports for every install (telemetry_channels.CHANNELS);
# each must be present. Unknown extra channels are judged by the same rule, so a channel
# added later can only make the gate stricter.


def _type_name(value):
    return type(value).__name__


def is_valid_guid(value):
    """A machine GUID as Netdata writes it: a non-nil UUID string."""
    if not isinstance(value, str) or not GUID_RE.match(value):
        return False
    return value.strip('-0') != ''


def _exactly(value, expected):
    """True only for the real bool C(expected) (not 'true', 1 or 'yes')."""
    return isinstance(value, bool) and value is expected


def _judge_install(index, install):
    """Return None when this install permits sending, else the reason it does not."""
    where = 'installs[%d]' % index
    if not isinstance(install, dict):
        return 'facts malformed: %s is a %s, not a dict' % (where, _type_name(install))
    config_dir = install.get('config_dir')
    if isinstance(config_dir, str) and config_dir:
        where = '%s (%s)' % (where, config_dir)
    if not is_valid_guid(install.get('machine_guid')):
        return 'no valid machine GUID for %s' % where
    tel = install.get('telemetry')
    if not isinstance(tel, dict):
        return 'facts malformed: %s has no telemetry verdict' % where
    if not _exactly(tel.get('opted_out'), False):
        if _exactly(tel.get('opted_out'), True):
            return 'opted out: %s' % where
        return 'telemetry state unknown: %s telemetry.opted_out is %r' % (where, tel.get('opted_out'))
    if not _exactly(tel.get('opted_in'), True):
        return 'not opted in (partial or unknown): %s telemetry.opted_in is %r' % (where, tel.get('opted_in'))
    if 'state' in tel and tel.get('state') != 'opted_in':
        return 'not opted in (partial or unknown): %s telemetry.state is %r' % (where, tel.get('state'))
    reason = _drift_reason(tel.get('drift'), 'on %s' % where)
    if reason:
        return reason
    # The facts module reports every channel of every install (telemetry_channels.CHANNELS):
    # a verdict without them, or without one of them, was not made by it; fail closed.
    channels = tel.get('channels')
    if not isinstance(channels, dict):
        return 'facts malformed: %s telemetry.channels is a %s' % (where, _type_name(channels))
    missing = [name for name in CHANNELS if name not in channels]
    if missing:
        return 'facts malformed: %s has no verdict for channel(s) %s' % (where, ', '.join(missing))
    for name in sorted(channels, key=str):
        chan = channels[name]
        if not isinstance(chan, dict):
            return 'facts malformed: %s channel %s is a %s' % (where, name, _type_name(chan))
        applies = chan.get('applies')
        if _exactly(applies, False):
            continue
        # A channel that applies, or whose applicability is unknown, must be on.
        if not _exactly(chan.get('enabled'), True):
            return 'channel %s is not on for %s (enabled=%r)' % (name, where, chan.get('enabled'))
    return None


def _drift_reason(drift, where):
    """None when C(drift) is exactly False (the contract's bool); a reason otherwise."""
    if _exactly(drift, False):
        return None
    if _exactly(drift, True):
        return 'telemetry drift %s: running state differs from configuration' % where
    return 'telemetry state unknown: drift %s is %r' % (where, drift)


def telemetry_permits_sending(netdata_facts):
    """Decide, failing closed, whether a statistics event may be sent for a host.

    C(netdata_facts) is the host's C(ansible_facts['netdata']). Returns C((True, reason))
    only when all of these hold, else C((False, reason)):

      - the facts are a dict and C(installed) is the bool True;
      - C(telemetry) is a dict whose C(opted_in) is the bool True, C(opted_out) the bool
        False, C(drift) the bool False and C(state) the string C(opted_in);
      - C(installs) is a non-empty list and every install is a dict with a valid machine
        GUID, C(telemetry.opted_in) True, C(telemetry.opted_out) False, C(telemetry.drift)
        False, C(telemetry.state) (when given) C(opted_in), a C(telemetry.channels) dict
        holding every channel of C(CHANNELS), and every channel that does not
        explicitly say C(applies=false) has C(enabled) exactly True.

    Anything else (missing keys, strings such as 'true', null, other types) suppresses.
    """
    if netdata_facts is None:
        return False, 'facts missing'
    if not isinstance(netdata_facts, dict):
        return False, 'facts malformed: ansible_facts.netdata is a %s' % _type_name(netdata_facts)
    if not netdata_facts:
        return False, 'facts missing'
    installed = netdata_facts.get('installed')
    if not _exactly(installed, True):
        if _exactly(installed, False):
            return False, 'netdata not installed'
        if 'installed' not in netdata_facts:
            return False, 'facts missing: no telemetry facts (gather_subset telemetry or all)'
        return False, 'facts malformed: installed is %r' % (installed,)
    tel = netdata_facts.get('telemetry')
    if not isinstance(tel, dict):
        return False, 'facts malformed: telemetry is a %s' % _type_name(tel)
    state = tel.get('state')
    if _exactly(tel.get('opted_out'), True) or state == 'opted_out':
        return False, 'opted out'
    if state == 'partial':
        return False, 'partial opt-out: some channel is off'
    if not _exactly(tel.get('opted_out'), False):
        return False, 'telemetry state unknown: telemetry.opted_out is %r' % (tel.get('opted_out'),)
    if not _exactly(tel.get('opted_in'), True):
        return False, 'not opted in (partial or unknown): telemetry.opted_in is %r' % (tel.get('opted_in'),)
    if state != 'opted_in':
        return False, 'telemetry state unknown: telemetry.state is %r' % (state,)
    if not _exactly(tel.get('drift'), False):
        if _exactly(tel.get('drift'), True):
            return False, 'telemetry drift: running state differs from configuration'
        return False, 'telemetry state unknown: telemetry.drift is %r' % (tel.get('drift'),)
    installs = netdata_facts.get('installs')
    if not isinstance(installs, list) or not installs:
        return False, 'facts malformed: installs is %r' % (installs if not isinstance(installs, list) else 'empty',)
    for index, install in enumerate(installs):
        reason = _judge_install(index, install)
        if reason:
            return False, reason
    return True, 'opted in'


def controller_permits_sending(environ):
    """The controller's own opt-out: any non-empty DO_NOT_TRACK or DISABLE_TELEMETRY
    (Netdata's script rule: any non-empty value, 0 included, opts out)."""
    for name in TELEMETRY_VARS:
        value = environ.get(name)
        if value:
            return False, 'controller environment sets %s=%s' % (name, value)
    return True, 'controller environment permits'


def hash_guid(guid, key):
    """HMAC-SHA256 of the lowercased GUID under C(key), as 64 hex characters."""
    return hmac.new(key.encode('utf-8'), guid.lower().encode('ascii'), hashlib.sha256).hexdigest()


def make_event_id(distinct_id, action, result, data, run_id):
    """A stable id for one event: uuid5 over what is sent for it plus the run id.

    Built from the distinct id as sent (the hashed GUID when hashing), never from the
    inventory hostname, so the id reveals nothing a receiver does not already get.
    """
    material = u'\x1f'.join([distinct_id, action, result, data, run_id])
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, material))


def _plain(value):
    """Copy into plain Python types (drops Ansible's tagged/unsafe subclasses)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        return dict((str(key), _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return str(value)


def _as_script_string(value):
    """The script quotes these values: send strings; null when the facts do not say."""
    if value is None or isinstance(value, (dict, list, tuple)):
        return None
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def _as_json_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ('true', 'false'):
        return value.strip().lower() == 'true'
    return None


def _netdata_version(install):
    # The daemon exports NETDATA_VERSION as its program version, which `netdata -v` prints
    # after "netdata " (for example v1.37.1).
    vstring = install.get('version_string')
    if isinstance(vstring, str) and vstring.strip():
        parts = vstring.strip().split()
        return str(parts[-1])
    version = install.get('version')
    if isinstance(version, str) and version:
        return version if version.startswith('v') else 'v' + version
    return None


def script_action_data(data):
    """What the script does to ACTION_DATA: double quotes become single quotes."""
    return str(data).replace('"', "'")


def build_payload(netdata_facts, action, result, data, run_id, timestamp,
                  drop_fields=(), guid_key=None):
    """Build one event for a host whose facts passed C(telemetry_permits_sending).

    Returns the payload without C(api_key) (the sender adds it, so it is never spooled).
    Uses the first install (discovery order). Properties the facts cannot know (agent
    configuration counters, build info, release channel...) are sent as null.
    """
    install = netdata_facts['installs'][0]
    guid = str(install['machine_guid']).lower()
    distinct_id = hash_guid(guid, guid_key) if guid_key else guid
    action = str(action)
    result = str(result)
    data = script_action_data(data)
    system_info = netdata_facts.get('system_info')
    if not isinstance(system_info, dict):
        system_info = {}

    known = dict(_CONSTANTS)
    known.update({
        'distinct_id': distinct_id,
        'netdata_machine_guid': distinct_id,
        'action': action,
        'action_result': result,
        'action_data': data,
        'netdata_version': _netdata_version(install),
        'netdata_install_type': _as_script_string(install.get('install_type')),
        'host_agent_claimed': install.get('claimed') if isinstance(install.get('claimed'), bool) else None,
    })
    for name in SYSTEM_INFO_PROPERTIES:
        if name == 'container_is_official_image':
            known[name] = _as_json_bool(system_info.get(name))
        else:
            known[name] = _as_script_string(system_info.get(name))

    drop = set(drop_fields or ())
    properties = {}
    for name in PROPERTY_NAMES:
        if name in drop:
            continue
        properties[name] = _plain(known.get(name))

    event_id = make_event_id(distinct_id, action, result, data, str(run_id))
    return {
        'uuid': event_id,
        'timestamp': str(timestamp),
        'event': '%s %s' % (action, result),
        'properties': properties,
    }


def with_api_key(payload, api_key):
    """The body to POST: C(api_key) first, as the script writes it."""
    body = {'api_key': api_key}
    for key, value in payload.items():
        if key != 'api_key':
            body[key] = value
    return body
