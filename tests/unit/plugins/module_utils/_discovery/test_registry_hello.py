# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type


import pytest


import socket
import threading
import time

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer as HTTPServer
except ImportError:  # pragma: no cover
    from BaseHTTPServer import BaseHTTPRequestHandler, HTTPServer

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.registry_hello import (
    hello_url, parse_hello, query_live_crash_reports, query_registry_hello)

ANSWERS = {
    'true': (200, b'{"action":"hello","status":"ok","anonymous_statistics":true}'),
    'false': (200, b'{"action":"hello","status":"ok","anonymous_statistics":false}'),
    '500': (500, b'oops'),
    'junk': (200, b'\x00\xffnot json'),
    'redirect': (302, b''),
}


class FakeAgent(BaseHTTPRequestHandler):
    mode = 'true'
    paths = []

    def do_GET(self):
        FakeAgent.paths.append(self.path)
        if FakeAgent.mode == 'slow':
            time.sleep(1.5)
            return
        status, body = ANSWERS[FakeAgent.mode]
        self.send_response(status)
        if status == 302:
            self.send_header('Location', 'http://198.51.100.1/elsewhere')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def agent():
    server = HTTPServer(('127.0.0.1', 0), FakeAgent)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever)
    thread.daemon = True
    thread.start()
    FakeAgent.paths = []
    yield server
    server.shutdown()
    server.server_close()


def test_hello_url():
    assert hello_url('127.0.0.1', 19999) == 'http://127.0.0.1:19999/api/v1/registry?action=hello'
    assert hello_url('::1', 19999) == 'http://[::1]:19999/api/v1/registry?action=hello'


def test_parse_hello():
    assert parse_hello(b'{"anonymous_statistics": false}') == (False, None)
    assert parse_hello('[]')[0] is None
    assert parse_hello('{"anonymous_statistics": "yes"}')[1]
    assert parse_hello('{}')[1] == 'answer has no anonymous_statistics'


@pytest.mark.parametrize('mode, flag, status', [('true', True, 200), ('false', False, 200)])
def test_answers(agent, mode, flag, status):
    FakeAgent.mode = mode
    result = query_registry_hello('127.0.0.1', agent.server_address[1], 2.0)
    assert result['anonymous_statistics'] is flag and result['status'] == status and result['error'] is None
    assert FakeAgent.paths == ['/api/v1/registry?action=hello']


@pytest.mark.parametrize('mode, status, error', [
    ('500', 500, 'HTTP 500'), ('junk', 200, 'not JSON'), ('redirect', 302, 'HTTP 302')])
def test_bad_answers(agent, mode, status, error):
    FakeAgent.mode = mode
    result = query_registry_hello('127.0.0.1', agent.server_address[1], 2.0)
    assert result['anonymous_statistics'] is None and result['status'] == status
    assert error in result['error']


def test_timeout(agent):
    FakeAgent.mode = 'slow'
    started = time.time()
    result = query_registry_hello('127.0.0.1', agent.server_address[1], 0.3)
    assert time.time() - started < 1.4
    assert result['anonymous_statistics'] is None and result['error']


def test_refused_and_bad_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    assert 'cannot reach' in query_registry_hello('127.0.0.1', port, 0.5)['error']
    assert query_registry_hello('127.0.0.1', 'x', 0.5)['error']


def test_proxy_is_ignored(agent, monkeypatch):
    monkeypatch.setenv('HTTP_PROXY', 'http://127.0.0.1:9')
    monkeypatch.setenv('http_proxy', 'http://127.0.0.1:9')
    monkeypatch.delenv('NO_PROXY', raising=False)
    monkeypatch.delenv('no_proxy', raising=False)
    FakeAgent.mode = 'false'
    result = query_registry_hello('127.0.0.1', agent.server_address[1], 2.0)
    assert result['anonymous_statistics'] is False


class Answers(BaseHTTPRequestHandler):
    """Answers both requests with what the server it belongs to says; records the paths."""

    def do_GET(self):
        self.server.seen.append(self.path)
        if self.path.startswith('/api/v1/registry'):
            body = b'{"anonymous_statistics": %s}' % self.server.flag
        else:
            body = b'[global]\n\t# crash reports = %s\n' % self.server.crash_reports
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(flag, crash_reports):
    server = HTTPServer(('127.0.0.1', 0), Answers)
    server.daemon_threads = True
    server.seen, server.flag, server.crash_reports = [], flag, crash_reports
    thread = threading.Thread(target=server.serve_forever)
    thread.daemon = True
    thread.start()
    return server


@pytest.mark.parametrize('query, key, from_agent, path', [
    (query_registry_hello, 'anonymous_statistics', False, '/api/v1/registry?action=hello'),
    (query_live_crash_reports, 'value', 'off', '/netdata.conf'),
], ids=['hello', 'netdata.conf'])
def test_a_working_proxy_in_the_environment_never_sees_the_request(monkeypatch, query, key, from_agent, path):
    # Both are real servers on loopback: a request diverted through the proxy would be
    # answered (by it), so only the paths each one saw tell where the request went.
    agent, proxy = serve(b'false', b'off'), serve(b'true', b'all')
    try:
        proxy_url = 'http://127.0.0.1:%d' % proxy.server_address[1]
        for name in ('http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'):
            monkeypatch.setenv(name, proxy_url)
        for name in ('no_proxy', 'NO_PROXY'):
            monkeypatch.delenv(name, raising=False)
        result = query('127.0.0.1', agent.server_address[1], 2.0)
        assert (result[key], result['error']) == (from_agent, None)
        assert (agent.seen, proxy.seen) == ([path], [])
    finally:
        for server in (agent, proxy):
            server.shutdown()
            server.server_close()
