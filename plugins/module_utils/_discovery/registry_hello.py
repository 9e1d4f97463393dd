# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netdata_fleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ask a running agent for its live analytics flag: ``GET /api/v1/registry?action=hello``.

The answer's ``anonymous_statistics`` is what the daemon itself decided (in 1.37
once at start, from the opt-out file only), so it is the strongest evidence of
the daemon-analytics channel. The request goes straight to the agent: no proxy
(a corporate ``HTTP_PROXY`` must never see it) and no redirects followed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket

from urllib.request import build_opener, ProxyHandler, HTTPRedirectHandler, Request
from urllib.error import HTTPError, URLError

MAX_BODY = 256 * 1024


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def hello_url(address, port):
    """``http://<address>:<port>/api/v1/registry?action=hello`` (IPv6 literals bracketed)."""
    host = address
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host
    return 'http://%s:%d/api/v1/registry?action=hello' % (host, int(port))


def parse_hello(body):
    """Response body -> ``(anonymous_statistics bool or None, error or None)``."""
    if isinstance(body, bytes):
        body = body.decode('utf-8', 'replace')
    try:
        data = json.loads(body)
    except ValueError:
        return None, 'answer is not JSON'
    if not isinstance(data, dict):
        return None, 'answer is not a JSON object'
    value = data.get('anonymous_statistics')
    if isinstance(value, bool):
        return value, None
    if value is None:
        return None, 'answer has no anonymous_statistics'
    return None, 'anonymous_statistics is not a boolean: %r' % (value,)


def query_registry_hello(address, port, timeout=1.0):
    """Never raises. ``{'url': str or None, 'status': int or None,
    'anonymous_statistics': bool or None, 'error': str or None}``."""
    result = {'url': None, 'status': None, 'anonymous_statistics': None, 'error': None}
    try:
        url = hello_url(address, port)
    except (TypeError, ValueError) as exc:
        result['error'] = 'bad address/port %r:%r: %s' % (address, port, exc)
        return result
    result['url'] = url
    opener = build_opener(ProxyHandler({}), _NoRedirect())
    request = Request(url, headers={'Accept': 'application/json', 'User-Agent': 'netdata_fleet.telemetry'})
    try:
        response = opener.open(request, timeout=timeout)
        try:
            result['status'] = response.getcode()
            body = response.read(MAX_BODY)
        finally:
            response.close()
    except HTTPError as exc:
        result['status'] = exc.code
        result['error'] = 'HTTP %s from %s' % (exc.code, url)
        return result
    except URLError as exc:
        result['error'] = 'cannot reach %s: %s' % (url, exc.reason)
        return result
    except (socket.timeout, OSError, ValueError) as exc:
        result['error'] = 'cannot reach %s: %s' % (url, exc or type(exc).__name__)
        return result
    except Exception as exc:  # http.client oddities (BadStatusLine, ...) must not escape
        result['error'] = 'bad answer from %s: %s: %s' % (url, type(exc).__name__, exc)
        return result
    result['anonymous_statistics'], result['error'] = parse_hello(body)
    return result
