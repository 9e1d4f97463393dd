# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What v2.3+ itself says about its crash reports: the value its start resolved (its
``/netdata.conf``) and the ids its next start reads (``<lib>/status-netdata.json``).

The texts below are trimmed from a real v2.10.4 daemon in the systemd lab
(tests/lab_integration/test_v2_judge_lab.py): ``/netdata.conf`` with the default resolved
(``# crash reports = off``) and its status file with and without a claim id.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import threading

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer as HTTPServer
except ImportError:  # pragma: no cover
    from BaseHTTPServer import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.installs import (
    discover_installs, status_file_ids)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.registry_hello import (
    parse_live_crash_reports, query_live_crash_reports)

LIVE_CONF = (b'# netdata configuration\n#\n# You can download the latest version of this file, using:\n#\n'
             b'#  wget -O /etc/netdata/netdata.conf http://localhost:19999/netdata.conf\n\n'
             b'[global]\n\t# run as user = netdata\n\t# host access prefix = \n\t# profile = standalone\n'
             b'\t# crash reports = off\n\t# hostname = vj-file\n\n[db]\n\tmode = ram\n')
STATUS = {"@timestamp": "2026-12-01T12:02:06.62Z", "version": 28,
          "agent": {"id": "4d140c55-1b1a-4057-848c-3a93772c9887", "version": "v2.10.4", "node_id": None,
                    "claim_id": None, "restarts": 1, "status": "running"}}
CLAIM = '7d3a4c5e-8f1b-4e2a-9c6d-0b1e2f3a4b5c'


def status(**agent):
    data = json.loads(json.dumps(STATUS))
    data['agent'].update(agent)
    return json.dumps(data, indent=4)


@pytest.mark.parametrize('body,expected', [
    (LIVE_CONF, ('off', None)),
    (LIVE_CONF.replace(b'# crash reports = off', b'# crash reports = all'), ('all', None)),
    # set in netdata.conf: shown uncommented; it wins over any commented line
    (LIVE_CONF.replace(b'\t# crash reports = off', b'\t# crash reports = all\n\tcrash reports = yes'), ('yes', None)),
    (b'[db]\n\t# crash reports = all\n', (None, 'no [global] crash reports in the answer')),
    (b'', (None, 'no [global] crash reports in the answer')),
    (b'\xff\xfe[global]\n', (None, 'no [global] crash reports in the answer')),
], ids=['default-off', 'default-all', 'set-wins', 'other-section', 'empty', 'binary'])
def test_parse_live_crash_reports(body, expected):
    assert parse_live_crash_reports(body) == expected


@pytest.mark.parametrize('text,expected', [
    (status(), (False, None)),
    (status(claim_id=CLAIM), (True, None)),
    (status(node_id=CLAIM.upper()), (True, None)),
    (status(claim_id='00000000-0000-0000-0000-000000000000'), (False, None)),
    (json.dumps({'version': 17, 'agent': {'ND_claim_id': CLAIM}}), (True, None)),
    ('{"agent": []}', (False, 'no agent object (the daemon ignores the file)')),
    ('not json', (False, 'not JSON (the daemon ignores it too)')),
], ids=['none', 'claim', 'node', 'zero', 'v17-keys', 'odd', 'junk'])
def test_status_file_ids(text, expected):
    assert status_file_ids(text) == expected


class Agent(BaseHTTPRequestHandler):
    def do_GET(self):
        body = {'/netdata.conf': LIVE_CONF,
                '/api/v1/registry?action=hello': b'{"anonymous_statistics":false}'}.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header('Content-Length', str(len(body or b'')))
        self.end_headers()
        self.wfile.write(body or b'')

    def log_message(self, *args):
        pass


@pytest.fixture
def agent():
    server = HTTPServer(('127.0.0.1', 0), Agent)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever)
    thread.daemon = True
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _write(root, path, text, mode=0o644):
    full = os.path.join(str(root), path.lstrip('/'))
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, 'wb' if isinstance(text, bytes) else 'w') as handle:
        handle.write(text)
    os.chmod(full, mode)


def _v2_tree(root, port, status_text=None):
    _write(root, '/opt/netdata/etc/netdata/netdata.conf', '[web]\n\tdefault port = %d\n' % port)
    _write(root, '/opt/netdata/usr/sbin/netdata', '', 0o755)
    os.makedirs(os.path.join(str(root), 'opt/netdata/var/lib/netdata'))
    if status_text is not None:
        _write(root, '/opt/netdata/var/lib/netdata/status-netdata.json', status_text)
    pid = 77
    os.makedirs(os.path.join(str(root), 'proc', str(pid)))
    _write(root, '/proc/stat', 'btime 1700000000\n')
    _write(root, '/proc/%d/comm' % pid, 'netdata\n')
    _write(root, '/proc/%d/stat' % pid, '%d (netdata) S 1 %s 4200 %s\n' % (pid, ' '.join(['0'] * 17), ' '.join(['0'] * 10)))
    _write(root, '/proc/%d/environ' % pid, b'PATH=/bin\0')
    _write(root, '/proc/%d/cmdline' % pid, b'/opt/netdata/usr/sbin/netdata\0-D\0')
    os.symlink('/opt/netdata/usr/sbin/netdata', os.path.join(str(root), 'proc', str(pid), 'exe'))


def _runner(version):
    return lambda argv: (0, 'netdata v%s\n' % version, '')


def test_query_live_crash_reports(agent):
    got = query_live_crash_reports('127.0.0.1', agent)
    assert got == {'url': 'http://127.0.0.1:%d/netdata.conf' % agent, 'status': 200, 'value': 'off', 'error': None}
    unreachable = query_live_crash_reports('127.0.0.1', 9, timeout=0.5)
    assert unreachable['value'] is None and unreachable['error'].startswith('cannot reach')
    assert query_live_crash_reports('127.0.0.1', 'x')['error'].startswith('bad address/port')


def test_discovery_reads_both_for_a_v2_daemon(tmp_path, agent):
    _v2_tree(tmp_path, agent, status(claim_id=CLAIM))
    one = discover_installs(root=str(tmp_path), run_command=_runner('2.10.4'))[0]
    assert one['daemon']['running'] is True
    assert one['evidence']['live']['anonymous_statistics'] is False
    assert one['evidence']['live_crash_reports']['value'] == 'off'
    assert one['evidence']['status_file_ids'] is True


def test_discovery_v1_has_no_crash_reports_to_ask(tmp_path, agent):
    _v2_tree(tmp_path, agent)
    one = discover_installs(root=str(tmp_path), run_command=_runner('2.2.0'))[0]
    assert one['evidence']['live']['anonymous_statistics'] is False
    assert one['evidence']['live_crash_reports'] is None
    assert one['evidence']['status_file_ids'] is False


def test_odd_status_file_is_an_error_string_not_a_crash(tmp_path, agent):
    _v2_tree(tmp_path, agent, 'garbage')
    one = discover_installs(root=str(tmp_path), run_command=_runner('2.10.4'), live_query=False)[0]
    assert one['evidence']['status_file_ids'] is False
    assert any('status-netdata.json: not JSON' in e for e in one['errors'])
    os.chmod(os.path.join(str(tmp_path), 'opt/netdata/var/lib/netdata/status-netdata.json'), 0o644)
    os.remove(os.path.join(str(tmp_path), 'opt/netdata/var/lib/netdata/status-netdata.json'))
    os.mkfifo(os.path.join(str(tmp_path), 'opt/netdata/var/lib/netdata/status-netdata.json'))
    one = discover_installs(root=str(tmp_path), run_command=_runner('2.10.4'), live_query=False)[0]
    assert one['evidence']['status_file_ids'] is None
    assert any('not a regular file' in e for e in one['errors'])
