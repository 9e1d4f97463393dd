# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netdata_fleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stats_event action plugin, driven directly with a fake task and a fake transport."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os
import stat
import threading
from pathlib import Path
from unittest import mock

import pytest


from ansible.errors import AnsibleActionFail  # noqa: E402

from ansible_collections.netdata_fleet.telemetry.plugins.action import stats_event as action_mod  # noqa: E402
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils import stats_delivery, stats_spool  # noqa: E402
from ansible_collections.netdata_fleet.telemetry.tests.unit.plugins.http_fakes import FakeResponse

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19
    def trust_as_template(value):
        return value

GUIDS = ['%08x-1111-4222-8333-944455556666' % i for i in range(1, 50)]
SECRET_KEY = 'sk-THIS-MUST-NEVER-APPEAR'


def netdata(guid, state='opted_in'):
    on = state == 'opted_in'
    off = state == 'opted_out'
    ch = {'applies': True, 'enabled': on, 'reasons': []}
    return {
        'installed': True,
        'installs': [{'config_dir': '/etc/netdata', 'version': '1.37.1', 'version_string': 'netdata v1.37.1',
                      'install_type': None, 'machine_guid': guid, 'claimed': False,
                      'telemetry': {'opted_out': off, 'opted_in': on, 'drift': False, 'reasons': [],
                                    'channels': {'statistics_script': dict(ch), 'daemon_analytics': dict(ch),
                                                 'crash_reports': {'applies': False, 'enabled': None},
                                                 'installer': {'applies': True, 'enabled': True}}}}],
        'telemetry': {'state': state, 'opted_out': off, 'opted_in': on, 'drift': False, 'reasons': []},
        'system_info': {'host_os_name': 'Debian GNU/Linux', 'system_total_ram': 1024},
    }


class CountingHostVars(dict):
    """hostvars stand-in that counts reads (each real read templates the host's vars)."""

    def __init__(self, *a, **kw):
        super(CountingHostVars, self).__init__(*a, **kw)
        self.reads = {}

    def __getitem__(self, key):
        self.reads[key] = self.reads.get(key, 0) + 1
        return super(CountingHostVars, self).__getitem__(key)


def make_task_vars(hosts, current='h0', play_all=None, play_active=None):
    """hosts: {name: netdata facts or None (no facts)}"""
    hv = CountingHostVars()
    for name, nd in hosts.items():
        hv[name] = {'ansible_facts': {} if nd is None else {'netdata': nd}}
    tv = {'hostvars': hv, 'inventory_hostname': current,
          'ansible_play_batch': list(play_active or hosts), 'ansible_play_hosts': list(play_active or hosts),
          'ansible_play_hosts_all': list(play_all or hosts)}
    return tv


class FakeSession(object):
    def __init__(self, status_for=None):
        self.bodies = []
        self.urls = []
        self.lock = threading.Lock()
        self.status_for = status_for or (lambda body: 200)

    def post(self, url, data=None, **kw):
        body = json.loads(data)
        with self.lock:
            self.bodies.append(body)
            self.urls.append(url)
        status = self.status_for(body)
        if isinstance(status, Exception):
            raise status
        return FakeResponse(status)

    def close(self):
        pass


@pytest.fixture
def transport(monkeypatch):
    box = {'session': FakeSession()}
    monkeypatch.setattr(stats_delivery.Deliverer, '_make_session', lambda self: box['session'])
    monkeypatch.delenv('DO_NOT_TRACK', raising=False)
    monkeypatch.delenv('DISABLE_TELEMETRY', raising=False)
    monkeypatch.setenv(stats_delivery.LOOPBACK_GUARD_ENV, '1')
    return box


def make_action(args, check_mode=False, run_once=True, delegate_to=None):
    task = mock.MagicMock()
    task.args = dict(args)
    task.check_mode = check_mode
    task.run_once = run_once
    task.delegate_to = delegate_to
    task.async_val = 0
    task.action = 'netdata_fleet.telemetry.stats_event'
    conn = mock.MagicMock()
    conn._shell.tmpdir = None
    act = action_mod.ActionModule(task, conn, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), None)
    act._early_needs_tmp_path = lambda: False
    return act


BASE = {'event': 'START', 'endpoint': 'http://127.0.0.1:9/capture/', 'backoff': 0.0, 'retries': 1,
        'api_key': SECRET_KEY}


def run(args, task_vars, **kw):
    return make_action(dict(BASE, **args), **kw).run(task_vars=task_vars)


# ---------------------------------------------------------------------------- bad input fails clearly
@pytest.mark.parametrize('args, fragment', [
    ({'endpoint': 'file:///etc/passwd'}, 'unsupported scheme'),
    ({'endpoint': 'ftp://127.0.0.1/x'}, 'unsupported scheme'),
    ({'endpoint': 'http://127.0.0.1:99999/'}, 'not a valid URL'),
    ({'endpoint': 'http://[::1/'}, 'not a valid URL'),
    ({'endpoint': 'http://example.com/capture/'}, 'plain http'),
    ({'endpoint': 'http://example.com/capture/', 'allow_insecure_http': True}, 'not loopback'),  # the test guard
    ({'timeout': 0}, 'timeout'),
    ({'timeout': -1.5}, 'timeout'),
    ({'retries': -1}, 'retries'),
    ({'workers': 0}, 'workers'),
    ({'event': 'BOOT'}, 'event'),
    ({'event': None}, 'event'),
    ({'drop_fields': ['system_cpu_model', 'nope']}, 'nope'),
    ({'mode': 'flush'}, 'spool'),
    ({'mode': 'purge'}, 'mode'),
    ({'hash_guid_key': ''}, 'hash_guid_key'),
    ({'timeout': 'soon'}, 'timeout'),
])
def test_bad_input_fails(transport, args, fragment):
    with pytest.raises(AnsibleActionFail) as e:
        run(args, make_task_vars({'h0': netdata(GUIDS[0])}))
    assert fragment in str(e.value)
    assert SECRET_KEY not in str(e.value)
    assert transport['session'].bodies == []


def test_hosts_list_without_run_once_in_a_multi_host_batch_fails(transport):
    tv = make_task_vars({'h0': netdata(GUIDS[0]), 'h1': netdata(GUIDS[1])})
    with pytest.raises(AnsibleActionFail, match='run_once'):
        run({'hosts': ['h0', 'h1']}, tv, run_once=False)


# ---------------------------------------------------------------------------- batched send
def fleet(states):
    return dict(('h%d' % i, None if s is None else netdata(GUIDS[i], s)) for i, s in enumerate(states))


def test_batch_sends_only_opted_in_hosts_exactly_once(transport):
    states = ['opted_in', 'opted_out', 'partial', None, 'opted_in', 'opted_in']
    tv = make_task_vars(fleet(states))
    res = run({'hosts': ['h%d' % i for i in range(6)] + ['h0', 'ghost']}, tv)
    assert res['sent'] == ['h0', 'h4', 'h5']
    assert sorted(res['suppressed']) == ['ghost', 'h1', 'h2', 'h3']
    assert res['failed_hosts'] == [] and res['changed'] is True
    sent_guids = sorted(b['properties']['distinct_id'] for b in transport['session'].bodies)
    assert sent_guids == sorted([GUIDS[0], GUIDS[4], GUIDS[5]])
    assert res['results']['h1']['reason'] == 'opted out'
    assert res['results']['h3']['reason'].startswith('facts missing')
    assert res['results']['ghost']['reason'] == 'not in inventory'
    assert res['results']['h0']['status'] == 'sent' and res['results']['h0']['http_status'] == 200
    assert all(b['api_key'] == SECRET_KEY for b in transport['session'].bodies)
    assert 'ansible_facts' not in res
    assert 'failed' not in res  # Ansible reserves it
    # each host's vars read once (each read templates)
    assert all(n == 1 for n in tv['hostvars'].reads.values()), tv['hostvars'].reads
    assert SECRET_KEY not in json.dumps(res)


def test_body_is_plain_json_with_script_shape(transport):
    run({'hosts': ['h0'], 'result': trust_as_template('OK'), 'data': 'say "hi"'}, make_task_vars(fleet(['opted_in'])))
    body = transport['session'].bodies[0]
    assert body['event'] == 'START OK'
    assert body['properties']['action_data'] == "say 'hi'"
    assert body['uuid'] and body['timestamp'] and list(body)[0] == 'api_key'


def test_host_failed_earlier_in_play_is_suppressed(transport):
    tv = make_task_vars(fleet(['opted_in', 'opted_in']), play_all=['h0', 'h1'], play_active=['h0'])
    res = run({'hosts': ['h0', 'h1']}, tv)
    assert res['sent'] == ['h0']
    assert 'unreachable' in res['results']['h1']['reason']


def test_cloned_guid_sent_once(transport):
    hosts = {'h0': netdata(GUIDS[0]), 'h1': netdata(GUIDS[0])}
    res = run({'hosts': ['h0', 'h1']}, make_task_vars(hosts))
    assert res['sent'] == ['h0'] and res['suppressed'] == ['h1']
    assert 'duplicate' in res['results']['h1']['reason']
    assert len(transport['session'].bodies) == 1


@pytest.mark.parametrize('var', ['DO_NOT_TRACK', 'DISABLE_TELEMETRY'])
@pytest.mark.parametrize('value', ['1', '0', 'false'])
def test_controller_opt_out_sends_nothing(transport, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    res = run({'hosts': ['h0', 'h1']}, make_task_vars(fleet(['opted_in', 'opted_in'])))
    assert res['sent'] == [] and sorted(res['suppressed']) == ['h0', 'h1']
    assert var in res['results']['h0']['reason']
    assert transport['session'].bodies == []


def test_check_mode_sends_nothing_and_masks_key(transport, tmp_path):
    spool = str(tmp_path / 'spool.jsonl')
    res = run({'hosts': ['h0', 'h1'], 'spool': spool}, make_task_vars(fleet(['opted_in', 'opted_out'])),
              check_mode=True)
    assert transport['session'].bodies == []
    assert [w['host'] for w in res['would_send']] == ['h0']
    assert res['would_send'][0]['payload']['api_key'] == '********'
    assert res['would_send'][0]['payload']['properties']['distinct_id'] == GUIDS[0]
    assert res['changed'] is True and res['sent'] == []
    assert SECRET_KEY not in json.dumps(res)
    assert not os.path.exists(spool)


def test_hash_and_drop(transport):
    res = run({'hosts': ['h0'], 'hash_guid_key': 'k3y', 'drop_fields': ['host_os_name']},
              make_task_vars(fleet(['opted_in'])))
    body = transport['session'].bodies[0]
    assert GUIDS[0] not in json.dumps(body)
    assert 'host_os_name' not in body['properties']
    assert 'k3y' not in json.dumps(res)


# ---------------------------------------------------------------------------- per host: gathering
def test_per_host_gathers_missing_facts(transport):
    act = make_action(dict(BASE), run_once=False)
    act._execute_module = mock.MagicMock(return_value={'ansible_facts': {'netdata': netdata(GUIDS[7])}})
    res = act.run(task_vars=make_task_vars({'h0': None}))
    assert res['sent'] == ['h0']
    args = act._execute_module.call_args
    assert args.kwargs['module_name'] == 'netdata_fleet.telemetry.netdata_facts'
    assert args.kwargs['module_args'] == {'gather_subset': ['all']}
    assert 'ansible_facts' not in res


@pytest.mark.parametrize('gathered, fragment', [
    ({'unreachable': True, 'msg': 'ssh: connect refused'}, 'unreachable'),
    ({'failed': True, 'msg': 'boom'}, 'gathering facts failed'),
    ({'ansible_facts': {}}, 'no ansible_facts.netdata'),
    ({'ansible_facts': {'netdata': netdata(GUIDS[7], 'opted_out')}}, 'opted out'),
    ({'ansible_facts': {'netdata': {'installed': 'true'}}}, 'malformed'),
])
def test_per_host_gathering_problems_suppress(transport, gathered, fragment):
    act = make_action(dict(BASE), run_once=False)
    act._execute_module = mock.MagicMock(return_value=gathered)
    res = act.run(task_vars=make_task_vars({'h0': None}))
    assert res['suppressed'] == ['h0'] and fragment in res['results']['h0']['reason']
    assert transport['session'].bodies == []


def test_per_host_gathering_exception_suppresses(transport):
    act = make_action(dict(BASE), run_once=False)
    act._execute_module = mock.MagicMock(side_effect=RuntimeError('connection lost'))
    res = act.run(task_vars=make_task_vars({'h0': None}))
    assert res['suppressed'] == ['h0'] and 'connection lost' in res['results']['h0']['reason']


def test_per_host_no_gather_when_disabled_or_delegated(transport):
    for extra, kw in (({'gather_missing_facts': False}, {}), ({}, {'delegate_to': 'localhost'})):
        act = make_action(dict(BASE, **extra), run_once=False, **kw)
        act._execute_module = mock.MagicMock()
        res = act.run(task_vars=make_task_vars({'h0': None}))
        assert res['suppressed'] == ['h0'] and 'facts missing' in res['results']['h0']['reason']
        act._execute_module.assert_not_called()


def test_hosts_list_never_gathers(transport):
    act = make_action(dict(BASE, hosts=['h0']))
    act._execute_module = mock.MagicMock()
    res = act.run(task_vars=make_task_vars({'h0': None}))
    assert res['suppressed'] == ['h0']
    act._execute_module.assert_not_called()


# ---------------------------------------------------------------------------- failure, spool, flush
def test_undelivered_go_to_spool_then_flush_delivers_once(transport, tmp_path):
    spool = str(tmp_path / 'spool.jsonl')
    transport['session'] = FakeSession(lambda body: 503)
    tv = make_task_vars(fleet(['opted_in', 'opted_in', 'opted_out']))
    res = run({'hosts': ['h0', 'h1', 'h2'], 'spool': spool}, tv)
    assert res['sent'] == [] and res['failed_hosts'] == ['h0', 'h1'] and res['spooled'] == 2
    assert res['changed'] is False
    assert res['results']['h0']['attempts'] == 2 and res['results']['h0']['spooled'] is True
    assert stat.S_IMODE(os.stat(spool).st_mode) == 0o600
    text = Path(spool).read_text()
    assert SECRET_KEY not in text and 'api_key' not in text
    ids = dict((h, res['results'][h]['event_id']) for h in ('h0', 'h1'))

    # flush while still down: nothing lost
    res2 = run({'mode': 'flush', 'spool': spool}, tv)
    assert res2['failed_hosts'] == ['h0', 'h1'] and res2['spool_pending'] == 2
    assert len(stats_spool.read_lines(spool)) == 2

    # collector back: delivered once each, with the original ids and timestamps
    transport['session'] = FakeSession()
    res3 = run({'mode': 'flush', 'spool': spool}, tv)
    assert sorted(res3['sent']) == ['h0', 'h1'] and res3['spool_pending'] == 0
    bodies = transport['session'].bodies
    assert sorted(b['uuid'] for b in bodies) == sorted(ids.values())
    assert all(b['api_key'] == SECRET_KEY for b in bodies)
    assert not os.path.exists(spool)
    res4 = run({'mode': 'flush', 'spool': spool}, tv)
    assert res4['sent'] == [] and len(transport['session'].bodies) == 2


def test_flush_drops_events_of_hosts_that_opted_out_since(transport, tmp_path):
    spool = str(tmp_path / 'spool.jsonl')
    transport['session'] = FakeSession(lambda body: 500)
    run({'hosts': ['h0', 'h1'], 'spool': spool, 'retries': 0}, make_task_vars(fleet(['opted_in', 'opted_in'])))
    transport['session'] = FakeSession()
    later = make_task_vars({'h0': netdata(GUIDS[0], 'opted_out'), 'h1': netdata(GUIDS[1])})
    res = run({'mode': 'flush', 'spool': spool}, later)
    assert res['sent'] == ['h1'] and res['suppressed'] == ['h0']
    assert [b['properties']['distinct_id'] for b in transport['session'].bodies] == [GUIDS[1]]
    assert not os.path.exists(spool)


def test_flush_keeps_records_for_another_endpoint(transport, tmp_path):
    spool = str(tmp_path / 'spool.jsonl')
    transport['session'] = FakeSession(lambda body: 500)
    tv = make_task_vars(fleet(['opted_in']))
    run({'hosts': ['h0'], 'spool': spool, 'retries': 0}, tv)
    transport['session'] = FakeSession()
    res = run({'mode': 'flush', 'spool': spool, 'endpoint': 'http://127.0.0.2:9/other/'}, tv)
    assert res['sent'] == [] and res['spool_pending'] == 1
    assert transport['session'].bodies == []


def test_flush_check_mode_and_controller_opt_out_touch_nothing(transport, tmp_path, monkeypatch):
    spool = str(tmp_path / 'spool.jsonl')
    transport['session'] = FakeSession(lambda body: 500)
    tv = make_task_vars(fleet(['opted_in']))
    run({'hosts': ['h0'], 'spool': spool, 'retries': 0}, tv)
    before = Path(spool).read_text()
    transport['session'] = FakeSession()
    res = run({'mode': 'flush', 'spool': spool}, tv, check_mode=True)
    assert len(res['would_send']) == 1 and res['would_send'][0]['payload']['api_key'] == '********'
    monkeypatch.setenv('DO_NOT_TRACK', '1')
    res = run({'mode': 'flush', 'spool': spool}, tv)
    assert res['sent'] == [] and res['spool_pending'] == 1
    assert transport['session'].bodies == [] and Path(spool).read_text() == before


def test_mixed_outcomes_and_connection_reset(transport, tmp_path):
    import requests
    spool = str(tmp_path / 'spool.jsonl')

    def status(body):
        guid = body['properties']['distinct_id']
        if guid == GUIDS[1]:
            return requests.exceptions.ConnectionError('Connection aborted.', ConnectionResetError(104, 'reset'))
        if guid == GUIDS[2]:
            return 400
        return 200
    transport['session'] = FakeSession(status)
    res = run({'hosts': ['h0', 'h1', 'h2'], 'spool': spool}, make_task_vars(fleet(['opted_in'] * 3)))
    assert res['sent'] == ['h0'] and res['failed_hosts'] == ['h1', 'h2']
    assert res['results']['h1']['attempts'] == 2 and res['results']['h2']['attempts'] == 1
    assert res['results']['h2']['http_status'] == 400
    assert res['spooled'] == 2


def test_spool_error_is_reported_not_raised(transport, tmp_path):
    target = tmp_path / 'victim'
    target.write_text('x\n')
    link = tmp_path / 'spool.jsonl'
    link.symlink_to(target)
    transport['session'] = FakeSession(lambda body: 500)
    res = run({'hosts': ['h0'], 'spool': str(link), 'retries': 0}, make_task_vars(fleet(['opted_in'])))
    assert res['failed_hosts'] == ['h0'] and 'symlink' in res['spool_error']
    assert target.read_text() == 'x\n'


def test_requests_missing_is_a_clear_error(transport, monkeypatch):
    monkeypatch.setattr(stats_delivery, 'HAS_REQUESTS', False)
    monkeypatch.setattr(stats_delivery, 'REQUESTS_IMPORT_ERROR', ImportError('No module named requests'))
    with pytest.raises(AnsibleActionFail, match='requests'):
        run({'hosts': ['h0']}, make_task_vars(fleet(['opted_in'])))


def test_run_id_makes_ids_reproducible(transport):
    tv = make_task_vars(fleet(['opted_in']))
    a = run({'hosts': ['h0'], 'run_id': 'deploy-42'}, tv)['results']['h0']['event_id']
    b = run({'hosts': ['h0'], 'run_id': 'deploy-42'}, copy.deepcopy(tv))['results']['h0']['event_id']
    c = run({'hosts': ['h0']}, tv)['results']['h0']['event_id']
    assert a == b != c
