# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask a running agent for its live analytics flag: ``GET /api/v1/registry?action=hello``;
and a v2.3+ agent for the crash-report value its start resolved: ``GET /netdata.conf``.

The answer's ``anonymous_statistics`` is what the daemon itself decided (in 1.37
once at start, from the opt-out file only), so it is the strongest evidence of
the daemon-analytics channel. The request goes straight to the agent: no proxy
(a corporate ``HTTP_PROXY`` must never see it) and no redirects followed.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import socket

from ansible.module_utils.common.text.converters import to_text

MAX_BODY = 256 * 1024


def hello_url(address, port):
    """``http://<address>:<port>/api/v1/registry?action=hello`` (IPv6 literals bracketed)."""
    host = address
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host
    return 'http://%s:%d/api/v1/registry?action=hello' % (host, int(port))


def parse_hello(body):
    """Response body -> ``(anonymous_statistics bool or None, error or None)``."""
    body = to_text(body, errors='replace', nonstring='passthru')
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


def _get(url, accept, timeout):
    """GET *url* straight from the agent -> ``(status, body, error)``; never raises."""
    # urllib, not ansible.module_utils.urls' open_url (which would do, with use_proxy=False):
    # with urllib already loaded, importing that costs about 33 ms more per module run
    # (mostly cryptography.x509 where python3-cryptography is installed; python -X
    # importtime, Python 3.11), for a plain-HTTP request that needs none of it. Imported
    # here, not at the top: urllib.request and http.client cost a module run about 20 ms
    # more, and most hosts run no daemon to ask.
    from urllib.request import build_opener, ProxyHandler, HTTPRedirectHandler, Request
    from urllib.error import HTTPError, URLError

    class NoRedirect(HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):
            return None

    opener = build_opener(ProxyHandler({}), NoRedirect())
    request = Request(url, headers={'Accept': accept, 'User-Agent': 'netdata_fleet.telemetry'})
    try:
        response = opener.open(request, timeout=timeout)
        try:
            return response.getcode(), response.read(MAX_BODY), None
        finally:
            response.close()
    except HTTPError as exc:
        return exc.code, None, 'HTTP %s from %s' % (exc.code, url)
    except URLError as exc:
        return None, None, 'cannot reach %s: %s' % (url, exc.reason)
    except (socket.timeout, OSError, ValueError) as exc:
        return None, None, 'cannot reach %s: %s' % (url, exc or type(exc).__name__)
    except Exception as exc:  # http.client oddities (BadStatusLine, ...) must not escape
        return None, None, 'bad answer from %s: %s: %s' % (url, type(exc).__name__, exc)


def _ask_agent(address, port, timeout, url_of, accept, parse, value_key):
    """GET ``url_of(address, port)`` from the agent and ``parse`` the body. Never raises.
    ``{'url': str or None, 'status': int or None, value_key: what parse found or None,
    'error': str or None}``."""
    result = {'url': None, 'status': None, value_key: None, 'error': None}
    try:
        url = url_of(address, port)
    except (TypeError, ValueError) as exc:
        result['error'] = 'bad address/port %r:%r: %s' % (address, port, exc)
        return result
    result['url'] = url
    result['status'], body, result['error'] = _get(url, accept, timeout)
    if result['error'] is None:
        result[value_key], result['error'] = parse(body)
    return result


def query_registry_hello(address, port, timeout=1.0):
    """Never raises. ``{'url': str or None, 'status': int or None,
    'anonymous_statistics': bool or None, 'error': str or None}``."""
    return _ask_agent(address, port, timeout, hello_url, 'application/json', parse_hello, 'anonymous_statistics')


# ---------------------------------------------------------------- the crash-report setting

def netdata_conf_url(address, port):
    """``http://<address>:<port>/netdata.conf``: the running daemon's configuration as it
    resolved it (a defaulted option shows commented out, with the value it took)."""
    return hello_url(address, port).split('/api/', 1)[0] + '/netdata.conf'


def parse_live_crash_reports(body):
    """``/netdata.conf`` text -> ``(value or None, error or None)``: ``[global] crash reports``
    as the daemon resolved it at its start. v2.3+ registers the option while it starts
    (``check_crash_reports_config`` in src/daemon/status-file.c, v2.10.4: default ``all`` or
    ``off``), so it is listed even when defaulted, as ``# crash reports = all``; a value
    set in the file shows uncommented and wins."""
    body = to_text(body, errors='replace', nonstring='passthru')
    section = None
    found = {}
    for line in (body or '').splitlines():
        text = line.strip()
        if text.startswith('[') and text.endswith(']'):
            section = text[1:-1].strip()
            continue
        if section != 'global':
            continue
        commented = text.startswith('#')
        name, sep, value = text.lstrip('#').partition('=')
        if sep and name.strip() == 'crash reports':
            found.setdefault(commented, value.strip())
    if False in found:
        return found[False], None
    if True in found:
        return found[True], None
    return None, 'no [global] crash reports in the answer'


def query_live_crash_reports(address, port, timeout=1.0):
    """Never raises. ``{'url', 'status', 'value': str or None, 'error'}``."""
    return _ask_agent(address, port, timeout, netdata_conf_url, 'text/plain', parse_live_crash_reports, 'value')
