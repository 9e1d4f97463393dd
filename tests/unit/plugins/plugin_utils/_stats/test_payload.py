# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""stats_payload: the fail-closed gate (exhaustive over fact shapes) and the payload shape."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import itertools
import json
import re
import uuid
from pathlib import Path

import pytest


from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils._stats import payload as sp  # noqa: E402

SCRIPT = Path('/usr/lib/netdata/plugins.d/anonymous-statistics.sh')
GUID = '6c1d3a32-7b7e-11ee-9a2b-0242ac120002'
GUID2 = '0f2b5c4e-1111-4222-8333-944455556666'


def channel(on, applies=True):
    return {'applies': applies, 'enabled': on, 'configured': on, 'running': None, 'drift': False,
            'counted': True, 'reasons': []}


def install(guid=GUID, opted_in=True, config_dir='/etc/netdata', **extra):
    d = {
        'config_dir': config_dir, 'prefix': '/', 'kind': 'native', 'lib_dir': '/var/lib/netdata',
        'binary': '/usr/sbin/netdata', 'version': '1.37.1', 'version_string': 'netdata v1.37.1',
        'install_type': 'binpkg-deb', 'machine_guid': guid, 'claimed': False,
        'telemetry': {
            'opted_out': not opted_in, 'opted_in': opted_in, 'drift': False, 'reasons': [],
            'channels': {
                'statistics_script': channel(opted_in),
                'daemon_analytics': dict(channel(opted_in), live=None),
                'crash_reports': channel(None, applies=False),
                'installer': channel(True),
            },
        },
        'errors': [],
    }
    d.update(extra)
    return d


def facts(**over):
    d = {
        'gather_subset': ['system', 'telemetry'],
        'installed': True,
        'installs': [install()],
        'installer': {'environment': {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None}, 'sources': []},
        'telemetry': {'state': 'opted_in', 'opted_out': False, 'opted_in': True, 'drift': False, 'reasons': []},
        'system_info': {
            'host_os_name': 'Debian GNU/Linux', 'host_os_id': 'debian', 'host_os_id_like': 'none',
            'host_os_version': '12 (bookworm)', 'host_os_version_id': '12', 'host_os_detection': '/etc/os-release',
            'host_is_k8s_node': 'false', 'system_kernel_name': 'Linux', 'system_kernel_version': '6.1.0',
            'system_architecture': 'x86_64', 'system_virtualization': 'kvm', 'system_virt_detection': 'systemd-detect-virt',
            'system_container': 'none', 'system_container_detection': 'none', 'container_os_name': 'none',
            'container_os_id': 'none', 'container_os_id_like': 'none', 'container_os_version': 'none',
            'container_os_version_id': 'none', 'container_os_detection': 'none',
            'container_is_official_image': 'false', 'system_cpu_detection': 'lscpu', 'system_cpu_freq': 2445000000,
            'system_cpu_logical_cpu_count': 2, 'system_cpu_model': 'AMD EPYC', 'system_cpu_vendor': 'AuthenticAMD',
            'system_disk_detection': 'sysfs', 'system_ram_detection': 'procfs', 'system_total_disk_size': 107374182400,
            'system_total_ram': 25276063744,
        },
    }
    d.update(over)
    return d


def _set(d, path, value):
    """Set (or delete, for value DELETE) a dotted path; list indexes as ints."""
    keys = path.split('.')
    for k in keys[:-1]:
        d = d[int(k)] if isinstance(d, list) else d[k]
    last = keys[-1]
    if value is DELETE:
        del d[int(last) if isinstance(d, list) else last]
    elif isinstance(d, list):
        d[int(last)] = value
    else:
        d[last] = value


DELETE = object()


def test_baseline_is_permitted():
    assert sp.telemetry_permits_sending(facts()) == (True, 'opted in')


# ---------------------------------------------------------------------------- gate: exhaustive table
NOT_TRUE = ['true', 'True', 'yes', 1, 1.0, None, [], {}, [True], 'opted_in', DELETE, False]
NOT_FALSE = ['false', 'False', 'no', 0, 0.0, None, '', [], {}, DELETE, True]

# Every path whose value must be exactly True / exactly False / exactly 'opted_in'.
MUST_BE_TRUE = [
    'installed', 'telemetry.opted_in',
    'installs.0.telemetry.opted_in',
    'installs.0.telemetry.channels.statistics_script.enabled',
    'installs.0.telemetry.channels.daemon_analytics.enabled',
    'installs.0.telemetry.channels.installer.enabled',
]
MUST_BE_FALSE = ['telemetry.opted_out', 'installs.0.telemetry.opted_out']


@pytest.mark.parametrize('path, value', [(p, v) for p in MUST_BE_TRUE for v in NOT_TRUE],
                         ids=lambda x: repr(x) if x is not DELETE else 'DELETE')
def test_every_not_exactly_true_suppresses(path, value):
    f = facts()
    _set(f, path, value)
    ok, reason = sp.telemetry_permits_sending(f)
    assert ok is False, (path, value)
    assert reason


@pytest.mark.parametrize('path, value', [(p, v) for p in MUST_BE_FALSE for v in NOT_FALSE],
                         ids=lambda x: repr(x) if x is not DELETE else 'DELETE')
def test_every_not_exactly_false_suppresses(path, value):
    f = facts()
    _set(f, path, value)
    ok, _reason = sp.telemetry_permits_sending(f)
    assert ok is False, (path, value)


@pytest.mark.parametrize('state', ['opted_out', 'partial', 'absent', 'unknown', '', None, 'OPTED_IN', 'opted_in ', 1, True, DELETE])
def test_host_state_other_than_opted_in_suppresses(state):
    f = facts()
    _set(f, 'telemetry.state', state)
    assert sp.telemetry_permits_sending(f)[0] is False


@pytest.mark.parametrize('drift', [True, 'false', 'no', 1, 0, [], 'true'])
@pytest.mark.parametrize('where', ['telemetry.drift', 'installs.0.telemetry.drift'])
def test_drift_or_malformed_drift_suppresses(where, drift):
    f = facts()
    _set(f, where, drift)
    assert sp.telemetry_permits_sending(f)[0] is False


@pytest.mark.parametrize('path, value', [
    ('telemetry.drift', None), ('telemetry.drift', DELETE),
    ('installs.0.telemetry.drift', None), ('installs.0.telemetry.drift', DELETE),
])
def test_unknown_drift_suppresses(path, value):
    """The contract's drift is a bool at both levels: missing or null is not "no drift"."""
    f = facts()
    _set(f, path, value)
    ok, reason = sp.telemetry_permits_sending(f)
    assert ok is False and 'unknown' in reason


@pytest.mark.parametrize('name', list(sp.CHANNELS))
def test_install_without_one_channel_verdict_suppresses(name):
    f = facts()
    del f['installs'][0]['telemetry']['channels'][name]
    ok, reason = sp.telemetry_permits_sending(f)
    assert ok is False and name in reason


@pytest.mark.parametrize('channels', [DELETE, None, {}])
def test_install_without_channel_verdicts_suppresses(channels):
    f = facts()
    _set(f, 'installs.0.telemetry.channels', channels)
    assert sp.telemetry_permits_sending(f)[0] is False


@pytest.mark.parametrize('state', ['partial', 'opted_out', 'unknown', None, True])
def test_install_with_a_state_other_than_opted_in_suppresses(state):
    f = facts(installs=[install(), install(GUID2, config_dir='/opt/netdata/etc/netdata')])
    f['installs'][1]['telemetry']['state'] = state
    ok, reason = sp.telemetry_permits_sending(f)
    assert ok is False and '/opt/netdata/etc/netdata' in reason


def test_second_install_with_unknown_channel_suppresses_a_host_that_says_opted_in():
    second = install(GUID2, config_dir='/opt/netdata/etc/netdata')
    second['telemetry']['channels']['daemon_analytics']['enabled'] = None
    f = facts(installs=[install(), second])
    assert f['telemetry']['opted_in'] is True
    ok, reason = sp.telemetry_permits_sending(f)
    assert ok is False and 'daemon_analytics' in reason


@pytest.mark.parametrize('guid', [
    None, '', 'not-a-guid', GUID[:-1], GUID + '0', ' ' + GUID, GUID + '\n', GUID.replace('-', ''),
    '00000000-0000-0000-0000-000000000000', 12345, [GUID], {'guid': GUID}, b'6c1d3a32-7b7e-11ee-9a2b-0242ac120002',
    'zc1d3a32-7b7e-11ee-9a2b-0242ac120002', DELETE,
])
def test_invalid_guid_suppresses(guid):
    f = facts()
    _set(f, 'installs.0.machine_guid', guid)
    ok, reason = sp.telemetry_permits_sending(f)
    assert ok is False
    assert 'GUID' in reason


@pytest.mark.parametrize('netdata', [
    None, {}, [], 'opted_in', 'true', True, 1, ['installed'], {'telemetry': {'opted_in': True}},
])
def test_missing_or_wrong_type_facts_suppress(netdata):
    assert sp.telemetry_permits_sending(netdata)[0] is False


@pytest.mark.parametrize('path, value', [
    ('telemetry', None), ('telemetry', 'opted_in'), ('telemetry', []), ('telemetry', DELETE),
    ('installs', None), ('installs', []), ('installs', {}), ('installs', 'x'), ('installs', DELETE),
    ('installs.0', None), ('installs.0', 'x'), ('installs.0', []),
    ('installs.0.telemetry', None), ('installs.0.telemetry', DELETE), ('installs.0.telemetry', 'opted_in'),
    ('installs.0.telemetry.channels', []), ('installs.0.telemetry.channels', 'on'),
    ('installs.0.telemetry.channels.daemon_analytics', None),
    ('installs.0.telemetry.channels.daemon_analytics', True),
    ('installs.0.telemetry.channels.daemon_analytics.applies', None),  # unknown applicability: must be on
])
def test_structurally_malformed_suppresses(path, value):
    f = facts()
    _set(f, path, value)
    if path == 'installs.0.telemetry.channels.daemon_analytics.applies':
        _set(f, 'installs.0.telemetry.channels.daemon_analytics.enabled', None)
    assert sp.telemetry_permits_sending(f)[0] is False


@pytest.mark.parametrize('name', ['statistics_script', 'daemon_analytics', 'crash_reports', 'installer', 'future_channel'])
@pytest.mark.parametrize('enabled', [False, None, 'true', 1])
def test_any_applying_channel_not_on_suppresses(name, enabled):
    f = facts()
    f['installs'][0]['telemetry']['channels'][name] = channel(enabled, applies=True)
    assert sp.telemetry_permits_sending(f)[0] is False


def test_non_applying_channel_is_ignored():
    f = facts()
    f['installs'][0]['telemetry']['channels']['crash_reports'] = channel(False, applies=False)
    assert sp.telemetry_permits_sending(f)[0] is True


@pytest.mark.parametrize('second', [
    install(GUID2, opted_in=False, config_dir='/opt/netdata/etc/netdata'),
    install(None, config_dir='/opt/netdata/etc/netdata'),
    'junk',
])
def test_every_install_must_permit(second):
    f = facts(installs=[install(), second])
    assert sp.telemetry_permits_sending(f)[0] is False


def test_two_opted_in_installs_permit_and_first_one_is_described():
    f = facts(installs=[install(), install(GUID2, config_dir='/opt/netdata/etc/netdata')])
    assert sp.telemetry_permits_sending(f)[0] is True
    p = sp.build_payload(f, 'START', '-', '-', 'run', 't')
    assert p['properties']['distinct_id'] == GUID


def test_contradictions_suppress():
    f = facts()
    f['telemetry']['opted_out'] = True  # with opted_in True
    assert sp.telemetry_permits_sending(f) == (False, 'opted out')
    f = facts()
    f['telemetry']['state'] = 'partial'
    assert sp.telemetry_permits_sending(f)[0] is False
    f = facts(installed=False)
    assert sp.telemetry_permits_sending(f) == (False, 'netdata not installed')


def test_fuzz_random_mutations_never_permit_more_than_the_rule():
    """Randomly mutate many leaves: the gate may only say True when the rule's own fields hold."""
    import random
    rng = random.Random(4)
    leaves = MUST_BE_TRUE + MUST_BE_FALSE + ['telemetry.state', 'installs.0.machine_guid', 'telemetry.drift']
    values = NOT_TRUE + NOT_FALSE + ['opted_in', GUID, 'partial']
    for _iteration in range(3000):
        f = facts()
        for path in rng.sample(leaves, rng.randint(1, 4)):
            _set(f, path, rng.choice(values))
        ok, _r = sp.telemetry_permits_sending(f)
        if ok:
            assert f['installed'] is True and f['telemetry']['opted_in'] is True
            assert f['telemetry']['opted_out'] is False and f['telemetry']['state'] == 'opted_in'
            i = f['installs'][0]
            assert i['machine_guid'] == GUID and i['telemetry']['opted_in'] is True
            assert i['telemetry']['opted_out'] is False
            for c in i['telemetry']['channels'].values():
                assert c['applies'] is False or c['enabled'] is True


def test_gate_agrees_with_telemetry_channels_verdicts():
    """Cross-check against the facts module's own decision functions: the gate permits
    exactly the installs that decide_install_telemetry calls opted_in."""
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules import channels as tc
    envs = [None, {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None}, {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None},
            {'DO_NOT_TRACK': '0', 'DISABLE_TELEMETRY': None}, {'DO_NOT_TRACK': '', 'DISABLE_TELEMETRY': None},
            {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': '1'}]
    permitted = 0
    for version, file_, env, claimed, crash in itertools.product(
            ['1.37.1', '2.2.0', '2.3.0', '2.6.0', None], [True, False, None], envs, [True, False], [None, 'off']):
        verdict = tc.decide_install_telemetry(tc.InstallEvidence(
            version, file_, env, None, False, None, crash, claimed,
            {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None}))
        host = tc.decide_host_telemetry([('/etc/netdata', verdict)],
                                        {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None})
        f = facts()
        f['installs'][0]['telemetry'] = verdict
        f['telemetry'] = host
        ok, _reason = sp.telemetry_permits_sending(f)
        expected = verdict['opted_in'] is True and host['opted_in'] is True and not verdict['drift']
        assert ok is expected, (version, file_, env, claimed, crash, verdict, host)
        permitted += ok
    assert permitted  # the table has opted-in cases, so the comparison means something


@pytest.mark.parametrize('env, ok', [
    ({}, True), ({'DO_NOT_TRACK': ''}, True), ({'DISABLE_TELEMETRY': ''}, True),
    ({'DO_NOT_TRACK': '1'}, False), ({'DO_NOT_TRACK': '0'}, False), ({'DO_NOT_TRACK': 'false'}, False),
    ({'DISABLE_TELEMETRY': '1'}, False), ({'DISABLE_TELEMETRY': '0'}, False), ({'DISABLE_TELEMETRY': ' '}, False),
])
def test_controller_environment(env, ok):
    assert sp.controller_permits_sending(env)[0] is ok


# ---------------------------------------------------------------------------- payload
def script_property_names():
    text = SCRIPT.read_text()
    body = text.split('REQ_BODY="$(cat << EOF', 1)[1].split('\nEOF', 1)[0]
    props = body.split('"properties": {', 1)[1]
    return [n.replace('\\$', '$') for n in re.findall(r'^\s*"((?:\\\$)?[a-z0-9_$]+)"\s*:', props, re.M)]


@pytest.mark.skipif(not SCRIPT.exists(), reason='Debian netdata package not installed')
def test_property_names_are_the_scripts_in_its_order():
    assert list(sp.PROPERTY_NAMES) == script_property_names()


@pytest.mark.skipif(not SCRIPT.exists(), reason='Debian netdata package not installed')
def test_quoting_kinds_follow_the_script():
    text = SCRIPT.read_text()
    for name, kind in sp.PROPERTY_SPEC:
        esc = name.replace('$', '\\$')
        m = re.search(r'"%s":\s*(\S)' % re.escape(esc), text)
        if name == 'host_collectors':
            continue  # the script writes an array
        assert m, name
        assert (m.group(1) == '"') == (kind == 'str'), name


def test_payload_shape_and_values():
    p = sp.build_payload(facts(), 'FATAL', 'netdata:MAIN', 'cannot "open" x', 'run1', '2026-01-01T00:00:00Z')
    assert list(p) == ['uuid', 'timestamp', 'event', 'properties']
    assert p['event'] == 'FATAL netdata:MAIN'
    props = p['properties']
    assert list(props) == list(sp.PROPERTY_NAMES)
    assert props['distinct_id'] == props['netdata_machine_guid'] == GUID
    assert props['action'] == 'FATAL' and props['action_result'] == 'netdata:MAIN'
    assert props['action_data'] == "cannot 'open' x"
    assert props['netdata_version'] == 'v1.37.1'
    assert props['netdata_install_type'] == 'binpkg-deb'
    assert props['host_os_name'] == 'Debian GNU/Linux'
    assert props['system_cpu_freq'] == '2445000000'  # the script quotes it
    assert props['system_total_ram'] == '25276063744'
    assert props['container_is_official_image'] is False  # raw in the script
    assert props['host_agent_claimed'] is False
    assert props['$ip'] == '127.0.0.1' and props['event_source'] == 'agent backend'
    for name in ('config_stream_enabled', 'alarms_normal', 'host_collectors', 'netdata_buildinfo',
                 'exporting_connectors', 'mirrored_host_count'):
        assert props[name] is None
    assert 'api_key' not in p
    json.dumps(p)
    body = sp.with_api_key(p, 'k')
    assert list(body)[:3] == ['api_key', 'uuid', 'timestamp'] and body['api_key'] == 'k'


def test_missing_system_info_gives_nulls():
    f = facts()
    del f['system_info']
    props = sp.build_payload(f, 'START', '-', '-', 'r', 't')['properties']
    assert props['host_os_name'] is None and props['system_total_ram'] is None
    assert props['distinct_id'] == GUID


def test_event_id_is_stable_and_discriminating():
    a = sp.build_payload(facts(), 'START', '-', '-', 'run', 't1')
    b = sp.build_payload(facts(), 'START', '-', '-', 'run', 't2')
    assert a['uuid'] == b['uuid']  # the timestamp is not part of the identity
    assert uuid.UUID(a['uuid']).version == 5
    others = [sp.build_payload(facts(), 'EXIT', '-', '-', 'run', 't')['uuid'],
              sp.build_payload(facts(), 'START', 'x', '-', 'run', 't')['uuid'],
              sp.build_payload(facts(), 'START', '-', 'x', 'run', 't')['uuid'],
              sp.build_payload(facts(), 'START', '-', '-', 'run2', 't')['uuid'],
              sp.build_payload(facts(installs=[install(GUID2)]), 'START', '-', '-', 'run', 't')['uuid']]
    assert len(set(others + [a['uuid']])) == 6
    assert sp.EVENT_ID_NAMESPACE == uuid.UUID('%s' % sp.EVENT_ID_NAMESPACE)  # a constant


def test_hash_guid_key():
    p = sp.build_payload(facts(), 'START', '-', '-', 'run', 't', guid_key='secret')
    props = p['properties']
    assert props['distinct_id'] == props['netdata_machine_guid'] == sp.hash_guid(GUID, 'secret')
    assert re.match(r'^[0-9a-f]{64}$', props['distinct_id'])
    assert GUID not in json.dumps(p)
    assert sp.hash_guid(GUID.upper(), 'secret') == sp.hash_guid(GUID, 'secret')
    assert sp.hash_guid(GUID, 'other') != sp.hash_guid(GUID, 'secret')
    assert p['uuid'] != sp.build_payload(facts(), 'START', '-', '-', 'run', 't')['uuid']


def test_drop_fields():
    p = sp.build_payload(facts(), 'START', '-', '-', 'run', 't', drop_fields=['system_cpu_model', 'host_os_name'])
    assert 'system_cpu_model' not in p['properties'] and 'host_os_name' not in p['properties']
    assert len(p['properties']) == len(sp.PROPERTY_NAMES) - 2


def test_tagged_like_subclasses_become_plain():
    class Tagged(str):
        pass

    f = facts()
    f['system_info']['host_os_name'] = Tagged('Debian')
    p = sp.build_payload(f, Tagged('START'), Tagged('-'), Tagged('-'), Tagged('r'), 't')
    # Exactly str, not a subclass (isinstance would accept the tagged values).
    assert p['properties']['host_os_name'].__class__ is str
    assert p['properties']['action'].__class__ is str
    assert p['event'].__class__ is str


def test_build_does_not_mutate_facts():
    f = facts()
    before = copy.deepcopy(f)
    sp.build_payload(f, 'START', '-', '-', 'r', 't', drop_fields=['host_os_id'], guid_key='k')
    assert f == before
