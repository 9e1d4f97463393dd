# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
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
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils._stats import delivery as stats_delivery  # noqa: E402
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils._stats import spool as stats_spool  # noqa: E402
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


def test_hosts_as_ansibles_comma_string_still_works(transport):
    res = run({'hosts': 'h0,h1'}, make_task_vars(fleet(['opted_in', 'opted_out'])))
    assert res['sent'] == ['h0'] and res['suppressed'] == ['h1']


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


def test_spool_symlink_fails_before_anything_is_sent(transport, tmp_path):
    target = tmp_path / 'victim'
    target.write_text('x\n')
    link = tmp_path / 'spool.jsonl'
    link.symlink_to(target)
    transport['session'] = FakeSession(lambda body: 500)
    with pytest.raises(AnsibleActionFail, match='symlink'):
        run({'hosts': ['h0'], 'spool': str(link), 'retries': 0}, make_task_vars(fleet(['opted_in'])))
    assert transport['session'].bodies == []
    assert target.read_text() == 'x\n'


def test_spool_write_error_is_reported_not_raised(transport, tmp_path, monkeypatch):
    import errno as errno_mod
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common import safe_files

    def full(*_a, **_kw):
        raise OSError(errno_mod.ENOSPC, 'No space left on device')
    monkeypatch.setattr(safe_files, 'write_file', full)
    transport['session'] = FakeSession(lambda body: 500)
    res = run({'hosts': ['h0'], 'spool': str(tmp_path / 'spool.jsonl'), 'retries': 0},
              make_task_vars(fleet(['opted_in'])))
    assert res['failed_hosts'] == ['h0'] and 'No space left' in res['spool_error']
    assert res['results']['h0']['spooled'] is False


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


# ---------------------------------------------------------------------------- real loopback collector
PASSWORD = 'pw-Hunter2-NEVER-SHOWN'


class LoopbackCollector(object):
    """pytest-httpserver on 127.0.0.1 (a real HTTP server, the plugin's real requests session):
    records every request; answers `status` (500 makes the plugin spool)."""

    def __init__(self, httpserver):
        self.server = httpserver
        self.bodies = []
        self.status = 200
        httpserver.expect_request('/capture/', method='POST').respond_with_handler(self._handle)

    def _handle(self, request):
        from werkzeug.wrappers import Response
        self.bodies.append(json.loads(request.get_data()))
        return Response('', self.status)

    @property
    def url(self):
        return self.server.url_for('/capture/')

    def requests(self):
        return len(self.server.log)

    def guids(self):
        return sorted(b['properties']['distinct_id'] for b in self.bodies)


@pytest.fixture
def collector(httpserver, monkeypatch):
    pytest.importorskip('requests')
    monkeypatch.delenv('DO_NOT_TRACK', raising=False)
    monkeypatch.delenv('DISABLE_TELEMETRY', raising=False)
    monkeypatch.setenv(stats_delivery.LOOPBACK_GUARD_ENV, '1')
    return LoopbackCollector(httpserver)


def real_run(c, args, task_vars, **kw):
    full = dict(BASE, endpoint=c.url, api_key=PASSWORD)
    full.update(args)
    return make_action(full, **kw).run(task_vars=task_vars)


def spool_lines(path):
    return Path(path).read_text().splitlines() if os.path.exists(path) else []


def spool_for(c, tmp_path, states=('opted_in', 'opted_in'), **extra):
    """Send with the collector answering 500: every opted-in host's event is spooled."""
    spool = str(tmp_path / 'spool.jsonl')
    c.status = 500
    hosts = ['h%d' % i for i in range(len(states))]
    res = real_run(c, dict({'hosts': hosts, 'spool': spool, 'retries': 0}, **extra),
                   make_task_vars(fleet(list(states))))
    assert res['spooled'] == sum(1 for s in states if s == 'opted_in')
    c.status = 200
    del c.bodies[:]
    c.server.clear_log()
    return spool


# ---------------------------------------------------------------------------- flush: never without the gate
class RaisingHostVars(dict):
    def __getitem__(self, key):
        raise RuntimeError('template error in host vars')


def _no_facts(tv):
    for h in tv['hostvars']:
        tv['hostvars'][h] = {'ansible_facts': {}}


def _gone(tv):
    tv['hostvars'] = CountingHostVars({'other': {'ansible_facts': {'netdata': netdata(GUIDS[9])}}})


def _no_hostvars(tv):
    del tv['hostvars']
    tv['ansible_facts'] = {'netdata': netdata(GUIDS[0])}
    tv['inventory_hostname'] = 'localhost'  # the flushing host's own facts are not h0's


def _unreadable(tv):
    tv['hostvars'] = RaisingHostVars(tv['hostvars'])


def _failed_in_play(tv):
    tv['ansible_play_hosts'] = []


def _malformed_ansible_facts(tv):
    for h in tv['hostvars']:
        tv['hostvars'][h] = {'ansible_facts': 'opted_in'}


def _empty_netdata(tv):
    for h in tv['hostvars']:
        tv['hostvars'][h] = {'ansible_facts': {'netdata': {}}}


def _other_machine_same_name(tv):
    # the names now belong to other machines, which are opted in: their facts do not speak
    # for the machines the events describe
    for i, h in enumerate(sorted(tv['hostvars'])):
        tv['hostvars'][h] = {'ansible_facts': {'netdata': netdata(GUIDS[20 + i])}}


@pytest.mark.parametrize('change, reason', [
    (_no_facts, 'not checked: facts missing'),
    (_gone, 'not checked: not in inventory'),
    (_no_hostvars, 'not checked: facts missing'),
    (_unreadable, 'not checked: facts unreadable'),
    (_failed_in_play, 'not checked: host failed or unreachable'),
    (_malformed_ansible_facts, 'not checked: facts malformed'),
    (_empty_netdata, 'not checked: facts missing'),
    (_other_machine_same_name, "not checked: the event's machine id matches none"),
])
def test_flush_without_checkable_facts_keeps_and_sends_nothing(collector, tmp_path, change, reason):
    spool = spool_for(collector, tmp_path)
    before = spool_lines(spool)
    tv = make_task_vars(fleet(['opted_in', 'opted_in']))
    change(tv)
    res = real_run(collector, {'mode': 'flush', 'spool': spool}, tv)
    assert collector.requests() == 0 and collector.bodies == []
    assert spool_lines(spool) == before and res['spool_pending'] == 2
    assert res['sent'] == [] and res['suppressed'] == [] and sorted(res['kept_hosts']) == ['h0', 'h1']
    for h in ('h0', 'h1'):
        row = res['per_host'][h]
        assert (row['kept'], row['sent'], row['dropped'], row['failed']) == (1, 0, 0, 0)
        assert [r for r in row['reasons'] if r.startswith(reason)] and sum(row['reasons'].values()) == 1, row
    assert all(r['status'] == 'kept' for r in res['results'].values())
    assert res['changed'] is False
    assert PASSWORD not in json.dumps(res)
    # the same spool, flushed once the facts are there again: delivered once each
    res2 = real_run(collector, {'mode': 'flush', 'spool': spool}, make_task_vars(fleet(['opted_in', 'opted_in'])))
    assert sorted(res2['sent']) == ['h0', 'h1'] and collector.guids() == sorted(GUIDS[:2])
    assert not os.path.exists(spool)


def _install_partial(nd):
    second = copy.deepcopy(nd['installs'][0])
    second['config_dir'] = '/opt/netdata/etc/netdata'
    second['machine_guid'] = GUIDS[30]
    second['telemetry']['opted_in'] = False
    second['telemetry']['channels']['daemon_analytics']['enabled'] = False
    nd['installs'].append(second)


def _install_unknown(nd):
    nd['installs'][0]['telemetry']['channels']['statistics_script']['enabled'] = None


def _channel_missing(nd):
    del nd['installs'][0]['telemetry']['channels']['installer']


def _drift_unknown(nd):
    nd['installs'][0]['telemetry']['drift'] = None


def _string_true(nd):
    nd['telemetry']['opted_in'] = 'true'


def _opted_out(nd):
    nd.update(netdata(nd['installs'][0]['machine_guid'], 'opted_out'))


@pytest.mark.parametrize('change, reason', [
    (_opted_out, 'opted out'),
    (_install_partial, 'not opted in'),
    (_install_unknown, 'channel statistics_script is not on'),
    (_channel_missing, 'facts malformed'),   # kept: a verdict without every channel is not the module's
    (_drift_unknown, 'telemetry state unknown'),
    (_string_true, 'not opted in'),
])
def test_flush_rechecks_the_gate_on_current_facts(collector, tmp_path, change, reason):
    """h0's current facts refuse (or cannot be judged); h1 stays opted in and is the only one sent."""
    spool = spool_for(collector, tmp_path)
    hosts = fleet(['opted_in', 'opted_in'])
    change(hosts['h0'])
    res = real_run(collector, {'mode': 'flush', 'spool': spool}, make_task_vars(hosts))
    assert collector.guids() == [GUIDS[1]] and res['sent'] == ['h1']
    row = res['per_host']['h0']
    assert row['sent'] == 0 and row['kept'] + row['dropped'] == 1
    assert any(reason in r for r in row['reasons']), row
    if reason == 'facts malformed':
        assert res['kept_hosts'] == ['h0'] and res['spool_pending'] == 1
    else:
        assert res['suppressed'] == ['h0'] and res['spool_pending'] == 0 and not os.path.exists(spool)
    assert res['per_host']['h1'] == dict(sent=1, failed=0, kept=0, dropped=0, would_send=0, reasons={})


@pytest.mark.parametrize('bad_host', [1, None, ['h0'], {'h': 'h0'}, '', ' ', 'h0\x00', True])
def test_flush_record_without_a_string_host_is_kept_not_sent(collector, tmp_path, bad_host):
    """Inventory hosts named like str() of the bad value are opted in: str() must not match them."""
    spool = spool_for(collector, tmp_path, states=('opted_in',))
    rec = json.loads(spool_lines(spool)[0])
    rec['host'] = bad_host
    Path(spool).write_text(json.dumps(rec) + '\n')
    names = {'h0': netdata(GUIDS[0]), str(bad_host): netdata(GUIDS[0]), 'None': netdata(GUIDS[0]),
             '1': netdata(GUIDS[0]), 'True': netdata(GUIDS[0])}
    res = real_run(collector, {'mode': 'flush', 'spool': spool}, make_task_vars(names))
    assert collector.requests() == 0 and res['sent'] == []
    assert res['kept_hosts'] == ['(no valid host name)']
    assert res['per_host']['(no valid host name)']['kept'] == 1
    assert res['spool_pending'] == 1 and json.loads(spool_lines(spool)[0])['host'] == bad_host


def test_flush_host_listed_twice_sends_each_event_once(collector, tmp_path):
    spool = spool_for(collector, tmp_path, states=('opted_in',))
    spool_for(collector, tmp_path, states=('opted_in',), event='STOP')  # a second event of h0
    lines = spool_lines(spool)
    Path(spool).write_text('\n'.join(lines + [lines[0]]) + '\n')  # and the first one twice
    res = real_run(collector, {'mode': 'flush', 'spool': spool}, make_task_vars(fleet(['opted_in'])))
    assert sorted(b['event'] for b in collector.bodies) == ['START -', 'STOP -']
    assert res['sent'] == ['h0'] and res['per_host']['h0']['sent'] == 2
    assert not os.path.exists(spool)


def test_flush_of_hashed_ids_needs_the_same_key(collector, tmp_path):
    spool = spool_for(collector, tmp_path, states=('opted_in',), hash_guid_key='k3y')
    tv = make_task_vars(fleet(['opted_in']))
    res = real_run(collector, {'mode': 'flush', 'spool': spool}, tv)
    assert collector.requests() == 0 and res['kept_hosts'] == ['h0']
    res = real_run(collector, {'mode': 'flush', 'spool': spool, 'hash_guid_key': 'wrong'}, tv)
    assert collector.requests() == 0 and res['kept_hosts'] == ['h0']
    res = real_run(collector, {'mode': 'flush', 'spool': spool, 'hash_guid_key': 'k3y'}, tv)
    assert res['sent'] == ['h0'] and len(collector.bodies) == 1
    assert GUIDS[0] not in json.dumps(collector.bodies)


def test_flush_spool_record_whose_id_was_edited_is_kept(collector, tmp_path):
    spool = spool_for(collector, tmp_path, states=('opted_in',))
    rec = json.loads(spool_lines(spool)[0])
    rec['payload']['properties']['distinct_id'] = GUIDS[5]  # no longer the host's machine
    Path(spool).write_text(json.dumps(rec) + '\n')
    res = real_run(collector, {'mode': 'flush', 'spool': spool}, make_task_vars(fleet(['opted_in'])))
    assert collector.requests() == 0 and res['kept_hosts'] == ['h0']


def test_flush_check_mode_writes_nothing(collector, tmp_path):
    spool = str(tmp_path / 'new-dir' / 'spool.jsonl')
    res = real_run(collector, {'mode': 'flush', 'spool': spool}, make_task_vars(fleet(['opted_in'])),
                   check_mode=True)
    assert res['spool_pending'] == 0 and not os.path.exists(str(tmp_path / 'new-dir'))
    spool = spool_for(collector, tmp_path, states=('opted_in', 'opted_in'))
    os.unlink(spool + '.lock')
    tv = make_task_vars(fleet(['opted_in', 'opted_out']))
    res = real_run(collector, {'mode': 'flush', 'spool': spool}, tv, check_mode=True)
    assert collector.requests() == 0 and not os.path.exists(spool + '.lock')
    assert [w['host'] for w in res['would_send']] == ['h0'] and res['per_host']['h1']['dropped'] == 1
    assert len(spool_lines(spool)) == 2


# ---------------------------------------------------------------------------- send: same gate holes
def test_send_with_unreadable_hostvars_suppresses(collector):
    tv = make_task_vars(fleet(['opted_in']))
    tv['hostvars'] = RaisingHostVars(tv['hostvars'])
    res = real_run(collector, {'hosts': ['h0']}, tv)
    assert res['suppressed'] == ['h0'] and res['results']['h0']['reason'].startswith('facts unreadable')
    assert collector.requests() == 0


@pytest.mark.parametrize('change', [_install_partial, _install_unknown, _channel_missing, _drift_unknown])
def test_send_refuses_a_host_opted_in_but_with_one_install_not(collector, change):
    hosts = fleet(['opted_in', 'opted_in'])
    change(hosts['h0'])
    res = real_run(collector, {'hosts': ['h0', 'h1', 'h0']}, make_task_vars(hosts))
    assert collector.guids() == [GUIDS[1]] and res['suppressed'] == ['h0']


def test_send_never_takes_another_hosts_facts_without_hostvars(collector):
    tv = make_task_vars(fleet(['opted_in']))
    del tv['hostvars']
    tv['ansible_facts'] = {'netdata': netdata(GUIDS[0])}
    res = real_run(collector, {'hosts': ['other']}, tv)
    assert res['suppressed'] == ['other'] and collector.requests() == 0


# ---------------------------------------------------------------------------- bad arguments: a table
def _dir(tmp):
    (tmp / 'adir').mkdir()
    return str(tmp / 'adir')


def _symlink(tmp):
    (tmp / 'victim').write_text('')
    (tmp / 'link.jsonl').symlink_to(tmp / 'victim')
    return str(tmp / 'link.jsonl')


def _lock_symlink(tmp):
    (tmp / 'victim').write_text('')
    (tmp / 's.jsonl.lock').symlink_to(tmp / 'victim')
    return str(tmp / 's.jsonl')


def _file_parent(tmp):
    (tmp / 'afile').write_text('')
    return str(tmp / 'afile' / 'deeper' / 'spool.jsonl')


def _fifo(tmp):
    os.mkfifo(str(tmp / 'fifo'))
    return str(tmp / 'fifo')


BAD_ARGS = [
    # numbers: finite and in range, before the first POST
    ({'backoff': float('nan')}, 'backoff must be a finite number'),
    ({'backoff': 'nan'}, 'backoff must be a finite number'),
    ({'backoff': float('inf')}, 'backoff must be a finite number'),
    ({'backoff': -0.1}, 'backoff must be >= 0'),
    ({'backoff': 61}, 'at most 60'),
    ({'max_backoff': float('nan')}, 'max_backoff must be a finite number'),
    ({'max_backoff': '-inf'}, 'max_backoff must be a finite number'),
    ({'max_backoff': -1}, 'max_backoff must be >= 0'),
    ({'max_backoff': 601}, 'at most 600'),
    ({'timeout': float('inf')}, 'timeout must be a finite number'),
    ({'timeout': 'inf'}, 'timeout must be a finite number'),
    ({'timeout': float('nan')}, 'timeout must be a finite number'),
    ({'timeout': 1e300}, 'at most 600'),
    ({'timeout': 0}, 'timeout must be > 0'),
    ({'timeout': -1.5}, 'timeout must be > 0'),
    ({'timeout': True}, 'timeout must be a number'),
    ({'timeout': 'soon'}, 'timeout'),
    ({'retries': -1}, 'retries must be >= 0'),
    ({'retries': 10 ** 9}, 'at most 20'),
    ({'retries': False}, 'retries must be a number'),
    ({'retries': 1.5}, 'retries'),
    ({'workers': 0}, 'workers'),
    ({'workers': 257}, 'workers'),
    # endpoints: every message masks the userinfo
    ({'endpoint': 'http://user:%s@127.0.0.1:99999/capture/' % PASSWORD}, 'not a valid URL'),
    ({'endpoint': 'http://user:%s@127.0.0.1:port/capture/' % PASSWORD}, 'not a valid URL'),
    ({'endpoint': 'http://user:%s/x@127.0.0.1/capture/' % PASSWORD}, 'not a valid URL'),
    ({'endpoint': 'ftp://user:%s@127.0.0.1/capture/' % PASSWORD}, 'unsupported scheme'),
    ({'endpoint': 'user:%s@127.0.0.1/capture/' % PASSWORD}, 'unsupported scheme'),
    ({'endpoint': 'http://user:%s@127.0.0.1 /capture/' % PASSWORD}, 'whitespace'),
    ({'endpoint': ' http://user:%s@127.0.0.1/capture/' % PASSWORD}, 'whitespace'),
    ({'endpoint': 'http://user:%s@127.0.0.1/\x00' % PASSWORD}, 'endpoint contains a NUL byte'),
    ({'endpoint': 'http://user:%s@127.0.0.1/\x7f' % PASSWORD}, 'control characters'),
    ({'endpoint': 'http://user:%s@[::1/capture/' % PASSWORD}, 'not a valid URL'),
    ({'endpoint': 'http://user:%s@[::1]:99999/' % PASSWORD}, 'not a valid URL'),
    ({'endpoint': 'http://user:%s@127.0.0.1/capture/' % PASSWORD}, 'credentials in the URL'),
    ({'endpoint': 'http://:%s@127.0.0.1/capture/' % PASSWORD}, 'credentials in the URL'),
    ({'endpoint': 'https://user:%s@example.com/capture/' % PASSWORD}, 'credentials in the URL'),
    ({'endpoint': 'http://user:%s@example.com/capture/' % PASSWORD, 'allow_insecure_http': True},
     'credentials in the URL'),
    ({'endpoint': ['http://user:%s@127.0.0.1/capture/' % PASSWORD]}, 'endpoint must be a string'),
    ({'endpoint': {'url': 'http://user:%s@127.0.0.1/' % PASSWORD}}, 'endpoint must be a string'),
    ({'endpoint': ''}, 'non-empty'),
    ({'endpoint': 'http://example.com/capture/'}, 'plain http'),
    ({'endpoint': 'https://example.com/capture/'}, 'not loopback'),  # the test guard
    # strings: NUL bytes, wrong types, empty secrets (never echoed)
    ({'api_key': ''}, 'api_key must not be empty'),
    # ansible-core before 2.19 refuses None for a str option itself, naming the option
    ({'api_key': None}, 'api_key'),
    ({'api_key': PASSWORD + '\x00'}, 'api_key contains a NUL byte'),
    ({'api_key': {'k': PASSWORD}}, 'api_key must be a string'),
    ({'api_key': [PASSWORD]}, 'api_key must be a string'),
    ({'hash_guid_key': ''}, 'hash_guid_key must not be empty'),
    ({'hash_guid_key': PASSWORD + '\x00'}, 'hash_guid_key contains a NUL byte'),
    ({'hash_guid_key': [PASSWORD]}, 'hash_guid_key must be a string'),
    ({'result': 'O\x00K'}, 'result contains a NUL byte'),
    ({'data': ['x']}, 'data must be a string'),
    ({'data': 'a\x00'}, 'data contains a NUL byte'),
    ({'run_id': 'r\x00'}, 'run_id contains a NUL byte'),
    ({'event': 'BOOT'}, 'event'),
    ({'event': None}, 'event'),
    ({'mode': 'purge'}, 'mode'),
    ({'mode': 'flush', 'spool': None}, 'needs spool'),
    ({'hosts': {'h0': 1}}, 'hosts must be a list'),
    ({'hosts': 5}, 'hosts must be a list'),
    ({'hosts': 'h0,,h1'}, 'is not a host name'),
    ({'hosts': ['h0', None]}, 'hosts: every item must be a host name'),
    ({'hosts': ['h0', {'name': 'h1'}]}, 'hosts: every item must be a host name'),
    ({'hosts': ['h0', '']}, 'is not a host name'),
    ({'hosts': ['h0\x00']}, 'NUL'),
    ({'drop_fields': {'host_os_name': True}}, 'drop_fields must be a list'),
    ({'drop_fields': [1]}, 'drop_fields: every item must be a string'),
    ({'drop_fields': ['host_os_name\x00']}, 'NUL'),
    ({'drop_fields': ['system_cpu_model', 'nope']}, 'nope'),
    # the spool path, checked before anything is sent or written
    ({'spool': _dir}, 'not a regular file'),
    ({'spool': _symlink}, 'symlink'),
    ({'spool': _lock_symlink}, 'spool lock file'),
    ({'spool': _file_parent}, 'not a directory'),
    ({'spool': _fifo}, 'not a regular file'),
    ({'spool': ''}, 'spool must be a non-empty file path'),
    ({'spool': 'x\x00y'}, 'spool contains a NUL byte'),
    ({'spool': ['a']}, 'spool must be a string'),
    ({'spool': lambda tmp: str(tmp) + '/'}, 'must name a file'),
]


@pytest.mark.parametrize('mode', ['send', 'flush'])
# ids name a callable by its name, never by its repr (an address, which differs between
# pytest-xdist workers: ansible-test units would refuse the run).
@pytest.mark.parametrize('args, fragment', BAD_ARGS, ids=lambda v: repr(
    {k: getattr(x, '__name__', x) for k, x in v.items()} if isinstance(v, dict) else v)[:60])
def test_bad_argument_fails_clearly_before_anything_is_sent_or_written(
        collector, tmp_path, capsys, mode, args, fragment):
    spool = spool_for(collector, tmp_path, states=('opted_in',)) if mode == 'flush' else \
        str(tmp_path / 'spool.jsonl')
    before = sorted(os.listdir(str(tmp_path)))
    spooled = spool_lines(spool)
    collector.status = 500  # were an event sent, it would fail and be spooled
    args = dict(args)
    if callable(args.get('spool')):
        args['spool'] = args['spool'](tmp_path)
        before = sorted(os.listdir(str(tmp_path)))
    full = dict({'hosts': ['h0'], 'spool': spool, 'retries': 1, 'mode': mode}, **args)
    with pytest.raises(AnsibleActionFail) as e:
        real_run(collector, full, make_task_vars(fleet(['opted_in'])))
    message = str(e.value)
    assert fragment in message, message
    assert 'Traceback' not in message
    assert collector.requests() == 0 and collector.bodies == []
    assert sorted(os.listdir(str(tmp_path))) == before and spool_lines(spool) == spooled
    shown = message + json.dumps(getattr(e.value, 'result', None) or {}, default=str) + ''.join(capsys.readouterr())
    assert PASSWORD not in shown
    assert 'pw-Hunter2' not in shown
