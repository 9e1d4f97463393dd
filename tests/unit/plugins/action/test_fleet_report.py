# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet_report action plugin: the three files in one task, from registered results,
from Ansible's real jsonfile fact cache (through its cache plugin loader), from an
``ansible --tree`` directory; modes, atomic replacement, check mode, clear errors."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io
import json
import os
import random
import stat
import sys
import time
from unittest import mock

import pytest
from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.loader import cache_loader

from ansible_collections.netdata_fleet.telemetry.plugins.action import fleet_report as action_mod

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'plugin_utils'))
from test_inventory_report_synthetic import synthetic_facts  # noqa: E402

FILES = ('inventory.json', 'inventory.csv', 'report.html')
DAY = 86400


def facts(mode, age=None, seed=3):
    f = synthetic_facts(random.Random(seed), mode)
    if age is not None:
        f['collected_at'] = int(time.time()) - age
    return f


def make_action(args, check_mode=False):
    task = mock.MagicMock()
    task.args = dict(args)
    task.check_mode = check_mode
    task.async_val = 0
    task.action = 'netdata_fleet.telemetry.fleet_report'
    conn = mock.MagicMock()
    conn._shell.tmpdir = None
    act = action_mod.ActionModule(task, conn, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), None)
    act._early_needs_tmp_path = lambda: False
    return act


def run(args, task_vars=None, check_mode=False):
    return make_action(args, check_mode=check_mode).run(task_vars=task_vars or {'hostvars': {}})


def load(dest):
    records = json.loads((dest / 'inventory.json').read_text())
    rows = list(csv.DictReader(io.StringIO((dest / 'inventory.csv').read_text())))
    return dict((r['hostname'], r) for r in records), dict((r['hostname'], r) for r in rows), \
        (dest / 'report.html').read_text()


@pytest.fixture
def jsonfile_cache(tmp_path, monkeypatch):
    """Ansible's own jsonfile fact cache in tmp_path/cache, configured as a run would be."""
    cache_dir = tmp_path / 'cache'
    monkeypatch.setattr(C, 'CACHE_PLUGIN', 'jsonfile')
    monkeypatch.setenv('ANSIBLE_CACHE_PLUGIN_CONNECTION', str(cache_dir))
    monkeypatch.setenv('ANSIBLE_CACHE_PLUGIN_TIMEOUT', '0')
    return cache_loader.get('jsonfile'), cache_dir


# ------------------------------------------------------------------ results (inventory.yml)
def test_results_three_files_one_task(tmp_path):
    hostvars = {
        'a': {'ansible_host': '10.0.0.1', 'netdata_inventory_result': {'ansible_facts': {'netdata': facts('out')}}},
        'b': {'netdata_inventory_result': {'unreachable': True, 'msg': 'Connection refused'}},
    }
    dest = tmp_path / 'nested' / 'out'
    res = run({'dest': str(dest), 'hosts': ['a', 'b', 'c']}, {'hostvars': hostvars})
    assert res['changed'] is True and res['files_changed'] == dict.fromkeys(FILES, True)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    for name in FILES:
        assert stat.S_IMODE((dest / name).stat().st_mode) == 0o644, name
    records, rows, page = load(dest)
    assert list(records) == ['a', 'b', 'c'] and list(rows) == ['a', 'b', 'c']
    assert (records['a']['status'], records['a']['address']) == ('opted_out', '10.0.0.1')
    assert records['b']['status'] == records['c']['status'] == 'unreachable'
    assert '<td>c</td>' in page
    assert res['summary']['total'] == 3 and res['compliance'] == {'opt_out': True, 'compliant': 1, 'not_compliant': 2}
    assert res['msg'] == '%s/report.html - 3 hosts: 1 opted out, 2 unreachable' % dest
    assert not [p for p in os.listdir(str(dest)) if p.startswith('.')]  # no temp file left


def test_check_mode_writes_nothing(tmp_path):
    dest = tmp_path / 'out'
    res = run({'dest': str(dest), 'hosts': ['a']}, check_mode=True)
    assert res['changed'] is True and not dest.exists()


def test_same_content_is_not_a_change_and_a_planted_link_is_replaced(tmp_path, jsonfile_cache):
    dest = tmp_path / 'out'
    args = {'dest': str(dest), 'hosts': ['a', 'b'], 'source': 'cache'}
    run(args)
    victim = tmp_path / 'victim'
    victim.write_text('keep me')
    (dest / 'inventory.csv').unlink()
    (dest / 'inventory.csv').symlink_to(victim)
    res = run(args)
    # two hosts with no facts: inventory.json is the same bytes; the link was replaced
    assert res['files_changed']['inventory.json'] is False and res['files_changed']['inventory.csv'] is True
    assert victim.read_text() == 'keep me' and not (dest / 'inventory.csv').is_symlink()


@pytest.mark.parametrize('args, fragment', [
    ({'mode': 'rw-r--r--'}, 'mode must be an octal string'),
    ({'mode': '01777'}, 'between 0000 and 0777'),
    ({'mode': True}, 'got a boolean'),
    ({'max_age': -1}, 'max_age must be 0'),
    ({'tree': '/tmp'}, 'tree is only used with source=tree'),
    ({'source': 'tree'}, 'source=tree needs tree'),
    ({'workers': 99}, 'workers must be'),
    ({'source': 'ldap'}, 'source'),
])
def test_bad_arguments_fail_clearly(tmp_path, args, fragment):
    with pytest.raises(AnsibleActionFail) as info:
        run(dict({'dest': str(tmp_path / 'o'), 'hosts': ['a']}, **args))
    assert fragment in str(info.value)
    assert not (tmp_path / 'o').exists()


def test_dest_that_is_a_file_fails_clearly(tmp_path):
    (tmp_path / 'o').write_text('x')
    with pytest.raises(AnsibleActionFail) as info:
        run({'dest': str(tmp_path / 'o'), 'hosts': ['a']})
    assert 'exists and is not a directory' in str(info.value)


# ------------------------------------------------------------------ the fact cache
def test_cache_every_host_once_with_age_and_staleness(tmp_path, jsonfile_cache):
    cache, _dir = jsonfile_cache
    cache.set('fresh', {'netdata': facts('out', age=60), 'discovered_interpreter_python': '/usr/bin/python3'})
    cache.set('old', {'netdata': facts('in', age=3 * DAY)})
    cache.set('setup-only', {'date_time': {'epoch': str(int(time.time()))}})
    # an entry as ansible-core < 2.19 wrote it (bare host name, plain JSON): read too
    getattr(cache, '__wrapped__', cache).set('legacy', {'netdata': facts('partial', age=120)})
    dest = tmp_path / 'out'
    hosts = ['fresh', 'old', 'never', 'setup-only', 'legacy', 'fresh']
    res = run({'dest': str(dest), 'hosts': hosts, 'source': 'cache', 'max_age': DAY})
    records, rows, page = load(dest)
    assert list(records) == ['fresh', 'old', 'never', 'setup-only', 'legacy']
    assert {h: r['status'] for h, r in records.items()} == {
        'fresh': 'opted_out', 'old': 'stale', 'never': 'no_facts', 'setup-only': 'no_facts', 'legacy': 'partial'}
    assert 3 * DAY <= records['old']['age'] < 3 * DAY + 60 and records['old']['state'] == 'opted_in'
    assert 'fact_caching_timeout' in records['never']['error']
    assert rows['old']['status'] == 'stale' and int(rows['old']['facts_age_s']) >= 3 * DAY
    assert res['source'] == 'fact cache (jsonfile), stale after 1 d'
    assert 'from stored facts: fact cache (jsonfile), stale after 1 d' in page
    assert res['summary']['statuses']['stale'] == 1 and res['summary']['total'] == 5
    assert res['compliance']['not_compliant'] == 4


def test_cache_entries_read_as_ansible_core_decodes_them(jsonfile_cache, monkeypatch):
    """The plain-JSON fast path (ansible-core >= 2.19) gives what the cache plugin's own
    get() gives, and leaves tagged values and surrogates to ansible-core's decoder."""
    from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils import inventory_report_store as store
    from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_store import (
        _plain_payload_getter, cache_lookup)
    fast_decodes = []

    class CountingJson(object):
        @staticmethod
        def loads(text):
            fast_decodes.append(text)
            return json.loads(text)
    monkeypatch.setattr(store, 'json', CountingJson)
    cache, _dir = jsonfile_cache
    fast = _plain_payload_getter(cache)
    if fast is None:
        pytest.skip('ansible-core < 2.19 stores plain JSON: nothing to decode')
    from ansible.template import trust_as_template
    entries = {
        'plain': {'netdata': facts('out', age=5), 'text': u'caf\u00e9 \u4e2d'},
        'emoji': {'netdata': facts('out', age=5), 'text': u'\U0001F600'},
        'tagged': {'netdata': facts('in', age=5), 'tpl': trust_as_template('{{ x }}')},
        'marker-in-text': {'netdata': {'note': '__ansible_type'}},
    }
    for host, value in entries.items():
        cache.set(host, value)
    lookup = cache_lookup(cache)
    for host in entries:
        expected = cache.get(host)
        del fast_decodes[:]
        assert fast(host) == expected, host
        # the jsonfile entry's envelope is read by the json module too; its payload only
        # when plain
        payloads = [text for text in fast_decodes if not text.startswith('{"__payload__"')]
        assert len(payloads) == (1 if host == 'plain' else 0), host
        assert lookup(host)[0] == {'ansible_facts': expected}, host
    assert fast('tagged')['tpl'].__class__ is not str  # ansible-core's decoder kept the tag
    with pytest.raises(KeyError):
        fast('nobody')


def test_cache_corrupt_entry_is_that_hosts_failure(tmp_path, jsonfile_cache):
    cache, cache_dir = jsonfile_cache
    cache.set('good', {'netdata': facts('out', age=5)})
    key = [n for n in os.listdir(str(cache_dir)) if n.endswith('good')][0]
    (cache_dir / key.replace('good', 'bad')).write_text('{not json')
    res = run({'dest': str(tmp_path / 'out'), 'hosts': ['good', 'bad'], 'source': 'cache'})
    records, _rows, _page = load(tmp_path / 'out')
    assert records['good']['status'] == 'opted_out'
    assert records['bad']['status'] == 'failed' and 'unreadable fact cache entry' in records['bad']['error']
    assert res['summary']['total'] == 2


def test_memory_cache_warns_and_reads_this_runs_facts(tmp_path, monkeypatch):
    monkeypatch.setattr(C, 'CACHE_PLUGIN', 'memory')
    act = make_action({'dest': str(tmp_path / 'out'), 'hosts': ['a', 'b'], 'source': 'cache'})
    act._display = mock.MagicMock()
    act.run(task_vars={'hostvars': {'a': {'ansible_facts': {'netdata': facts('out', age=1)}}, 'b': {}}})
    assert 'only facts gathered earlier in this same run' in act._display.warning.call_args[0][0]
    records, _rows, _page = load(tmp_path / 'out')
    assert records['a']['status'] == 'opted_out' and records['b']['status'] == 'no_facts'


def test_unknown_cache_plugin_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(C, 'CACHE_PLUGIN', 'no.such.cache')
    with pytest.raises(AnsibleActionFail) as info:
        run({'dest': str(tmp_path / 'out'), 'hosts': ['a'], 'source': 'cache'})
    assert 'no.such.cache' in str(info.value) and 'Traceback' not in str(info.value)


def test_cache_in_worker_processes_gives_the_same_report(tmp_path, jsonfile_cache, monkeypatch):
    cache, _dir = jsonfile_cache
    hosts = ['h%03d' % i for i in range(60)]
    for i, h in enumerate(hosts):
        if i % 7:
            cache.set(h, {'netdata': facts(('out', 'in', 'partial', 'absent')[i % 4], age=i * 3600, seed=i)})
    now = int(time.time())
    monkeypatch.setattr(action_mod.time, 'time', lambda: now)
    texts = []
    for workers in (1, 3):
        dest = tmp_path / ('w%d' % workers)
        run({'dest': str(dest), 'hosts': hosts, 'source': 'cache', 'max_age': DAY, 'workers': workers})
        texts.append([(dest / n).read_text() for n in FILES[:2]])
    assert texts[0] == texts[1]


class DownCache(object):
    """A cache plugin whose backend cannot be reached (redis-py raises ConnectionError)."""

    def get(self, key):
        raise ConnectionError('Error 111 connecting to 127.0.0.1:1. Connection refused.')


def test_a_cache_backend_that_cannot_be_reached_fails_the_report(tmp_path, monkeypatch):
    monkeypatch.setattr(action_mod, 'configured_cache', lambda: (DownCache(), 'community.general.redis', True))
    with pytest.raises(AnsibleActionFail) as info:
        run({'dest': str(tmp_path / 'out'), 'hosts': ['h%d' % i for i in range(5)], 'source': 'cache'})
    assert str(info.value) == ('reading the fact cache (community.general.redis) failed: '
                               'Error 111 connecting to 127.0.0.1:1. Connection refused.')
    assert not (tmp_path / 'out').exists()


# ------------------------------------------------------------------ ansible --tree
def test_tree_files_and_hosts_only_the_tree_has(tmp_path):
    tree = tmp_path / 'tree'
    tree.mkdir()
    (tree / 'ok').write_text(json.dumps({'ansible_facts': {'netdata': facts('out', age=10)}, 'changed': False}))
    (tree / 'dead').write_text(json.dumps({'unreachable': True, 'msg': 'ssh: port 1: Connection refused',
                                           'changed': False}))
    (tree / 'broken').write_text(json.dumps({'failed': True, 'msg': 'MODULE FAILURE'}))
    (tree / 'garbage').write_text('no json here')
    (tree / 'node10').write_text(json.dumps({'ansible_facts': {'netdata': facts('in')}}))
    (tree / 'node9').write_text(json.dumps({'ansible_facts': {'netdata': facts('in')}}))
    old = time.time() - 2 * DAY
    os.utime(str(tree / 'node9'), (old, old))  # no collected_at: the file's age counts
    (tree / '.hidden').write_text('{}')
    (tree / 'link').symlink_to(tree / 'ok')
    res = run({'dest': str(tmp_path / 'out'), 'hosts': ['ok', 'missing', 'dead'], 'source': 'tree',
               'tree': str(tree), 'max_age': DAY})
    records, _rows, _page = load(tmp_path / 'out')
    assert list(records) == ['ok', 'missing', 'dead', 'broken', 'garbage', 'node9', 'node10']
    assert {h: r['status'] for h, r in records.items()} == {
        'ok': 'opted_out', 'missing': 'no_facts', 'dead': 'unreachable', 'broken': 'failed',
        'garbage': 'failed', 'node9': 'stale', 'node10': 'opted_in'}
    assert 'Connection refused' in records['dead']['error']
    assert 'not a JSON task result' in records['garbage']['error']
    assert records['node9']['age'] >= 2 * DAY
    assert res['source'].startswith('ansible --tree directory %s' % tree)


def test_tree_that_is_not_a_directory_fails_clearly(tmp_path):
    with pytest.raises(AnsibleActionFail) as info:
        run({'dest': str(tmp_path / 'out'), 'hosts': [], 'source': 'tree', 'tree': str(tmp_path / 'nope')})
    assert 'cannot read the --tree directory' in str(info.value)


def test_jsonfile_entries_read_as_the_plugin_reads_them(tmp_path, jsonfile_cache, monkeypatch):
    """ansible-core's own jsonfile cache is read file by file without the plugin's per-call
    work: the same entries, the same expiry (fact_caching_timeout against the file's mtime),
    and no copy of every entry kept in the plugin's memory."""
    from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_store import (
        _jsonfile_reader, _plain_payload_getter, cache_lookup, configured_cache)
    cache, cache_dir = jsonfile_cache
    if getattr(cache, '__wrapped__', None) is None:
        pytest.skip('ansible-core < 2.19: no wrapped cache plugin')
    cache.set('fresh', {'netdata': facts('out', age=5)})
    cache.set('old', {'netdata': facts('in', age=5)})
    old_file = [p for p in os.listdir(str(cache_dir)) if p.endswith('old')][0]
    week_ago = time.time() - 7 * DAY
    os.utime(str(cache_dir / old_file), (week_ago, week_ago))
    monkeypatch.setenv('ANSIBLE_CACHE_PLUGIN_TIMEOUT', str(DAY))
    plugin = configured_cache()[0]
    assert _jsonfile_reader(plugin.__wrapped__) is not None
    fast = _plain_payload_getter(plugin)
    assert fast('fresh') == plugin.get('fresh')
    for host in ('old', 'nobody'):  # expired, and never cached: no entry either way
        with pytest.raises(KeyError):
            plugin.get(host)
        with pytest.raises(KeyError):
            fast(host)
    reader = configured_cache()[0]
    lookup = cache_lookup(reader)
    assert lookup('fresh')[0]['ansible_facts'] == plugin.get('fresh')
    assert lookup('old') == (None, None) and lookup('nobody') == (None, None)
    assert reader.__wrapped__._cache == {}  # nothing kept for the rest of the run


def test_hosts_not_given_are_the_inventorys_or_the_plays(tmp_path, jsonfile_cache):
    cache, _dir = jsonfile_cache
    cache.set('b', {'netdata': facts('out', age=5)})
    groups = {'all': ['a', 'b', 'c'], 'web': ['b']}
    res = run({'dest': str(tmp_path / 'cache'), 'source': 'cache'}, {'hostvars': {}, 'groups': groups})
    records, _rows, _page = load(tmp_path / 'cache')
    assert list(records) == ['a', 'b', 'c'] and res['summary']['total'] == 3
    hostvars = {'x': {'netdata_inventory_result': {'ansible_facts': {'netdata': facts('in')}}}}
    run({'dest': str(tmp_path / 'results')}, {'hostvars': hostvars, 'ansible_play_hosts_all': ['x', 'y'],
                                              'groups': groups})
    records, _rows, _page = load(tmp_path / 'results')
    assert [(h, r['status']) for h, r in records.items()] == [('x', 'opted_in'), ('y', 'unreachable')]
    tree = tmp_path / 'tree'
    tree.mkdir()
    (tree / 'z').write_text(json.dumps({'ansible_facts': {'netdata': facts('out', age=5)}}))
    run({'dest': str(tmp_path / 'tree-out'), 'source': 'tree', 'tree': str(tree)}, {'hostvars': {}, 'groups': groups})
    records, _rows, _page = load(tmp_path / 'tree-out')
    assert list(records) == ['z']  # the tree's hosts only
    with pytest.raises(AnsibleActionFail) as info:
        run({'dest': str(tmp_path / 'none'), 'source': 'cache'}, {'hostvars': {}})
    assert "groups['all'] is not known" in str(info.value)


def test_a_host_listed_twice_is_reported_once_by_several_workers(tmp_path, jsonfile_cache):
    cache, _dir = jsonfile_cache
    hosts = ['h%02d' % i for i in range(10)]
    for h in hosts:
        cache.set(h, {'netdata': facts('out', age=5)})
    res = run({'dest': str(tmp_path / 'o'), 'source': 'cache', 'hosts': hosts + hosts[:4], 'workers': 3})
    records = json.loads((tmp_path / 'o' / 'inventory.json').read_text())
    assert [r['hostname'] for r in records] == hosts and res['summary']['total'] == 10


def test_container_agents_are_in_the_result_and_the_files(tmp_path, jsonfile_cache):
    cache, _dir = jsonfile_cache
    with_agents = synthetic_facts(random.Random(4), 'out', containers=2, until_recreated=1,
                                  container_rng=random.Random(5))
    with_agents['collected_at'] = int(time.time())
    cache.set('ctr', {'netdata': with_agents})
    cache.set('plain', {'netdata': facts('out', age=5)})
    res = run({'dest': str(tmp_path / 'o'), 'source': 'cache', 'hosts': ['ctr', 'plain'], 'workers': 2})
    agents = res['summary']['container_agents']
    assert (agents['total'], agents['hosts'], agents['opted_out'], agents['opted_out_until_recreated']) == (2, 1, 1, 1)
    assert sum(n for _runtime, n in res['summary']['container_runtimes']) == 2
    assert dict(res['summary']['install_kinds'])['container'] == 2
    assert res['msg'].endswith('; 2 container agents: 1 opted out, 1 opted out until re-created')
    records, rows, page = load(tmp_path / 'o')
    assert [i['container']['runtime'] for i in records['ctr']['installs'] if i['container']] == [
        i['container']['runtime'] for i in with_agents['installs'] if i['kind'] == 'container']
    assert rows['ctr']['container_agent_count'] == '2' and rows['plain']['container_agent_count'] == '0'
    assert 'opted out until re-created' in page
