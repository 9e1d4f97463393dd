# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""stats_delivery: endpoint checks, backoff, Retry-After, retries with a fake clock."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket
import threading
import time

import pytest


from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils._stats import delivery as sd  # noqa: E402
from ansible_collections.netdata_fleet.telemetry.tests.unit.plugins.http_fakes import FakeResponse

requests = pytest.importorskip('requests')


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Test-only guard: no connection from this test module may leave loopback."""
    import urllib3.util.connection as uc

    def guard(real):
        def guarded(address, *a, **kw):
            assert sd.is_loopback_host(address[0]), 'test tried to reach %r' % (address[0],)
            return real(address, *a, **kw)
        return guarded
    monkeypatch.setattr(socket, 'create_connection', guard(socket.create_connection))
    monkeypatch.setattr(uc, 'create_connection', guard(uc.create_connection))


# ---------------------------------------------------------------------------- endpoint validation
@pytest.mark.parametrize('url', [
    'https://posthog.netdata.cloud/capture/', 'https://collector.example.com:8443/x',
    'http://127.0.0.1:8080/capture/', 'http://127.9.9.9/', 'http://localhost:1/', 'http://[::1]:80/c',
    'HTTPS://Example.com/', 'http://LOCALHOST./',
])
def test_accepted_endpoints(url):
    assert sd.validate_endpoint(url) == url


@pytest.mark.parametrize('url, fragment', [
    ('file:///etc/passwd', 'unsupported scheme'),
    ('ftp://example.com/x', 'unsupported scheme'),
    ('gopher://127.0.0.1/', 'unsupported scheme'),
    ('javascript:alert(1)', 'unsupported scheme'),
    ('posthog.netdata.cloud/capture/', 'unsupported scheme'),
    ('//example.com/x', 'unsupported scheme'),
    ('https://', 'no host'),
    ('https:///path', 'no host'),
    ('http://127.0.0.1:99999/', 'not a valid URL'),
    ('http://127.0.0.1:abc/', 'not a valid URL'),
    ('https://exa mple.com/', 'whitespace'),
    (' https://example.com/', 'whitespace'),
    ('https://example.com/\n', 'whitespace'),
    ('', 'non-empty'),
    ('http://example.com/capture/', 'plain http'),
    ('http://10.0.0.1/capture/', 'plain http'),
    ('http://128.0.0.1/', 'plain http'),
    ('http://localhost.example.com/', 'plain http'),
    ('http://127.0.0.1.nip.io/', 'plain http'),
    ('https://user:pw@example.com/', 'credentials'),
    ('http://[::ffff:10.0.0.1]/', 'plain http'),
])
def test_rejected_endpoints(url, fragment):
    with pytest.raises(sd.EndpointError) as e:
        sd.validate_endpoint(url)
    assert fragment in str(e.value)
    assert 'pw' not in str(e.value)


SECRET = 'pw-S3cret'


@pytest.mark.parametrize('url, fragment', [
    ('http://user:%s@127.0.0.1:99999/' % SECRET, 'not a valid URL'),
    ('http://user:%s@127.0.0.1:port/' % SECRET, 'not a valid URL'),
    ('https://user:%s/more@example.com/' % SECRET, 'not a valid URL'),  # "/" ends the netloc early
    ('ftp://user:%s@example.com/' % SECRET, 'unsupported scheme'),
    ('user:%s@example.com/capture/' % SECRET, 'unsupported scheme'),
    ('https://user:%s@exa mple.com/' % SECRET, 'whitespace'),
    ('https://user:%s@example.com/\n' % SECRET, 'whitespace'),
    ('http://user:%s@[::1/' % SECRET, 'not a valid URL'),
    ('http://user:%s@[::1]:70000/' % SECRET, 'not a valid URL'),
    ('https://user:p@ss:%s@example.com/' % SECRET, 'credentials'),
    ('https://%s@example.com/' % SECRET, 'credentials'),
    ('http://user:%s@example.com/' % SECRET, 'credentials'),
])
def test_no_message_shows_userinfo(url, fragment):
    with pytest.raises(sd.EndpointError) as e:
        sd.validate_endpoint(url)
    assert fragment in str(e.value)
    assert SECRET not in str(e.value) and 'pw-S3' not in str(e.value) and 'user' not in str(e.value)
    assert sd.MASK in str(e.value)


@pytest.mark.parametrize('url, shown', [
    ('https://u:%s@h/x' % SECRET, 'https://********@h/x'),
    ('u:%s@h/x' % SECRET, '********@h/x'),
    ('https://u:a/b?c#d@e@h/x', 'https://********@h/x'),
    ('https://h/x', 'https://h/x'),
])
def test_redact_url(url, shown):
    assert sd.redact_url(url) == shown


def test_redact_text_masks_urls_in_free_text():
    text = 'HTTPSConnectionPool: url=https://u:%s@h/x failed, see http://h2/y' % SECRET
    assert sd.redact_text(text) == 'HTTPSConnectionPool: url=https://********@h/x failed, see http://h2/y'


@pytest.mark.parametrize('name, value, fragment', [
    ('timeout', float('nan'), 'finite'), ('timeout', float('inf'), 'finite'), ('timeout', 0, '> 0'),
    ('timeout', 601, 'at most 600'), ('timeout', True, 'a number'), ('timeout', '1', 'a number'),
    ('backoff', float('nan'), 'finite'), ('backoff', -1e-9, '>= 0'), ('backoff', 60.5, 'at most 60'),
    ('max_backoff', float('-inf'), 'finite'), ('max_backoff', 600.1, 'at most 600'),
    ('retries', -1, '>= 0'), ('retries', 21, 'at most 20'), ('retries', 2.0, 'an integer'),
])
def test_delivery_numbers_are_finite_and_in_range(name, value, fragment):
    args = dict(timeout=2.0, retries=2, backoff=0.2, max_backoff=5.0)
    args[name] = value
    with pytest.raises(ValueError) as e:
        sd.check_delivery_numbers(**args)
    assert name in str(e.value) and fragment in str(e.value)


def test_delivery_numbers_edges_accepted():
    sd.check_delivery_numbers(timeout=600, retries=20, backoff=60, max_backoff=600)
    sd.check_delivery_numbers(timeout=0.001, retries=0, backoff=0, max_backoff=0)


def test_insecure_http_allowed_explicitly():
    assert sd.validate_endpoint('http://example.com/', allow_insecure_http=True)


def test_loopback_guard():
    with pytest.raises(sd.EndpointError, match=sd.LOOPBACK_GUARD_ENV):
        sd.validate_endpoint('https://posthog.netdata.cloud/capture/', loopback_only=True)
    assert sd.validate_endpoint('http://127.0.0.1:1/', loopback_only=True)


# ---------------------------------------------------------------------------- backoff and Retry-After
def test_backoff_exponential_with_jitter_and_cap():
    assert sd.backoff_delay(1, 0.5, 100, lambda: 0.0) == 0.5
    assert sd.backoff_delay(2, 0.5, 100, lambda: 0.0) == 1.0
    assert sd.backoff_delay(3, 0.5, 100, lambda: 0.0) == 2.0
    assert sd.backoff_delay(3, 0.5, 100, lambda: 1.0) == 2.5
    assert sd.backoff_delay(30, 0.5, 7.0, lambda: 0.5) == 7.0
    assert sd.backoff_delay(1, 0.5, 7.0, lambda: 0.0, retry_after=3) == 3
    assert sd.backoff_delay(1, 0.5, 7.0, lambda: 0.0, retry_after=3600) == 7.0
    assert sd.backoff_delay(1, 0.5, 7.0, lambda: 0.0, retry_after=0) == 0


@pytest.mark.parametrize('value, expected', [
    ('3', 3.0), ('0', 0.0), ('1.5', 1.5), ('-4', 0.0), ('', None), (None, None), ('soon', None), ('nan', 0.0),
])
def test_parse_retry_after(value, expected):
    assert sd.parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    assert sd.parse_retry_after('Wed, 21 Oct 2015 07:28:10 GMT', now=1445412480.0) == 10.0
    assert sd.parse_retry_after('Wed, 21 Oct 2015 07:28:00 GMT', now=1445412490.0) == 0.0


# ---------------------------------------------------------------------------- retries (fake transport)
class FakeSession(object):
    """Plays a script of responses/exceptions; records calls."""

    def __init__(self, script):
        self.script = list(script)
        self.calls = []
        self.lock = threading.Lock()

    def post(self, url, data=None, timeout=None, verify=None, allow_redirects=None):
        with self.lock:
            self.calls.append(dict(url=url, data=data, timeout=timeout, verify=verify, allow_redirects=allow_redirects))
            if not self.script:
                return FakeResponse(200)
            step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if isinstance(step, tuple):
            return FakeResponse(*step)
        return FakeResponse(step)


class FakeClock(object):
    def __init__(self):
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(seconds)


def deliverer(script, retries=3, **kw):
    clock = FakeClock()
    session = FakeSession(script)
    d = sd.Deliverer('http://127.0.0.1:9/capture/', retries=retries, session=session, sleep=clock.sleep,
                     rand=lambda: 0.0, backoff=0.1, max_backoff=1.0, **kw)
    return d, session, clock


def test_success_first_time():
    d, s, clock = deliverer([200])
    oc = d.deliver('e1', {'a': 1})
    assert (oc.ok, oc.status, oc.attempts, clock.slept) == (True, 200, 1, [])
    assert json.loads(s.calls[0]['data']) == {'a': 1}
    assert s.calls[0]['allow_redirects'] is False and s.calls[0]['verify'] is True


def test_500_then_200_retries_with_backoff():
    d, s, clock = deliverer([500, 503, 200])
    oc = d.deliver('e1', b'{}')
    assert (oc.ok, oc.attempts) == (True, 3)
    assert clock.slept == [0.1, 0.2]


def test_429_honours_retry_after_capped():
    d, s, clock = deliverer([(429, {'Retry-After': '0.7'}), (429, {'Retry-After': '999'}), 200])
    oc = d.deliver('e1', b'{}')
    assert oc.ok and oc.attempts == 3
    assert clock.slept == [0.7, 1.0]


@pytest.mark.parametrize('exc', [
    requests.exceptions.ConnectTimeout('t'), requests.exceptions.ReadTimeout('t'),
    requests.exceptions.ConnectionError('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer')),
])
def test_transport_errors_are_retried(exc):
    d, s, clock = deliverer([exc, 200])
    oc = d.deliver('e1', b'{}')
    assert oc.ok and oc.attempts == 2 and len(clock.slept) == 1


def test_gives_up_after_retries():
    d, s, clock = deliverer([500] * 10, retries=2)
    oc = d.deliver('e1', b'{}')
    assert (oc.ok, oc.status, oc.attempts, oc.error) == (False, 500, 3, 'HTTP 500')
    assert len(s.calls) == 3 and len(clock.slept) == 2


def test_zero_retries_means_one_attempt():
    d, s, clock = deliverer([503], retries=0)
    assert d.deliver('e1', b'{}').attempts == 1 and clock.slept == []


@pytest.mark.parametrize('status', [400, 401, 403, 404, 413, 301, 302, 307])
def test_client_errors_and_redirects_are_not_retried(status):
    d, s, clock = deliverer([status, 200])
    oc = d.deliver('e1', b'{}')
    assert (oc.ok, oc.attempts, oc.status) == (False, 1, status)


def test_tls_error_is_not_retried():
    d, s, clock = deliverer([requests.exceptions.SSLError('bad cert'), 200])
    oc = d.deliver('e1', b'{}')
    assert not oc.ok and oc.attempts == 1 and 'TLS' in oc.error


def test_deliver_all_dedupes_keys_and_keeps_every_outcome():
    d, s, clock = deliverer([200] * 10, workers=4)
    out = d.deliver_all([('a', b'1'), ('b', b'2'), ('a', b'1'), ('c', b'3')])
    assert sorted(out) == ['a', 'b', 'c']
    assert len(s.calls) == 3


def test_jitter_uses_random_source():
    clock = FakeClock()
    d = sd.Deliverer('http://127.0.0.1:9/', retries=1, session=FakeSession([500, 200]), sleep=clock.sleep,
                     rand=lambda: 0.5, backoff=0.2, max_backoff=5)
    d.deliver('k', b'{}')
    assert clock.slept == [pytest.approx(0.3)]


# ---------------------------------------------------------------------------- real session on loopback
def test_real_session_concurrency_and_pool(httpserver):
    seen = []
    lock = threading.Lock()
    active = [0, 0]

    def handler(request):
        from werkzeug.wrappers import Response
        with lock:
            active[0] += 1
            active[1] = max(active[1], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
            seen.append(json.loads(request.get_data()))
        return Response('', 200)
    httpserver.expect_request('/capture/', method='POST').respond_with_handler(handler)
    d = sd.Deliverer(httpserver.url_for('/capture/'), retries=0, workers=4, timeout=5)
    try:
        items = [('k%d' % i, {'i': i}) for i in range(20)]
        out = d.deliver_all(items)
    finally:
        d.close()
    assert all(o.ok for o in out.values()) and len(out) == 20
    assert sorted(x['i'] for x in seen) == list(range(20))
    assert active[1] <= 4


def test_real_session_closed_port_is_connection_error():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    clock = FakeClock()
    d = sd.Deliverer('http://127.0.0.1:%d/capture/' % port, retries=1, sleep=clock.sleep, timeout=1)
    oc = d.deliver('k', b'{}')
    d.close()
    assert not oc.ok and oc.attempts == 2 and len(clock.slept) == 1
    assert 'refused' in oc.error.lower(), oc.error
