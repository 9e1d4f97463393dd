# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side delivery of statistics events: URL checks, retries, a pooled session.

- C(validate_endpoint) rejects what must never be posted to (unknown schemes, malformed
  URLs, credentials in the URL, plain http to anything but loopback unless allowed). Every
  message shows the URL through C(redact_url), so a password in it is never printed.
- C(check_delivery_numbers) rejects timeouts, retries and delays that are not finite or
  out of range before anything is sent (a NaN delay would fail C(time.sleep) after the
  first POST; an infinite timeout fails inside the socket layer).
- C(Deliverer) posts JSON bodies with one pooled C(requests.Session) shared by a bounded
  thread pool, retrying 5xx, 408, 429, timeouts and connection errors with exponential
  backoff and jitter, honouring C(Retry-After) (capped). Redirects are not followed (a
  redirect could lead the body to another host or scheme). Clock, sleep and randomness
  are injectable for tests.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import email.utils
import ipaddress
import json
import math
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit

try:
    import requests
    from requests.adapters import HTTPAdapter
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as e:  # ansible-test's import sanity test imports this without requests
    requests = None
    HTTPAdapter = object
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = e

RETRY_STATUSES = frozenset([408, 429, 500, 502, 503, 504]) | frozenset(range(505, 600))

# Tests set this to make any non-loopback endpoint an error, whatever the other options.
LOOPBACK_GUARD_ENV = 'NETDATA_FLEET_TELEMETRY_LOOPBACK_ONLY'


# Ranges of the delivery options: far beyond any sensible value, yet finite, so one task
# always ends (retries x (timeout + max_backoff) per event, at most).
LIMITS = {
    'timeout': (0.0, 600.0, False),     # (low, high, low allowed): seconds, > 0
    'backoff': (0.0, 60.0, True),
    'max_backoff': (0.0, 600.0, True),
    'retries': (0, 20, True),
}

MASK = '********'


class EndpointError(ValueError):
    pass


def redact_url(url):
    """C(url) with anything that may be userinfo masked, for messages and results.

    Conservative on purpose: it does not trust the URL to parse (the messages that show it
    are about URLs that do not). Everything between C(scheme://) (or the start) and the
    last C(@) is masked, so a password with C(/), C(?), C(#) or C(@) in it is masked whole.
    """
    text = url if isinstance(url, str) else str(url)
    at = text.rfind('@')
    if at < 0:
        return text
    start = text.find('://')
    start = start + 3 if 0 <= start < at else 0
    return text[:start] + MASK + text[at:]


_USERINFO_RE = re.compile(r'([A-Za-z][A-Za-z0-9+.-]*://)[^\s/@]*@')


def redact_text(text):
    """Mask userinfo of every URL inside free text (an error message of a library)."""
    return _USERINFO_RE.sub(lambda m: m.group(1) + MASK + '@', str(text))


def check_delivery_numbers(timeout, retries, backoff, max_backoff):
    """Raise ValueError with a clear message unless every value is a finite number in range."""
    values = (('timeout', timeout), ('retries', retries), ('backoff', backoff), ('max_backoff', max_backoff))
    for name, value in values:
        low, high, low_ok = LIMITS[name]
        integral = name == 'retries'
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integral and not isinstance(value, int)):
            kind = 'an integer' if integral else 'a number of seconds'
            raise ValueError('%s must be %s, got %s' % (name, kind, type(value).__name__))
        if not math.isfinite(value):
            raise ValueError('%s must be a finite number, got %r' % (name, value))
        if value > high or value < low or (value == low and not low_ok):
            raise ValueError('%s must be %s %s and at most %s, got %r'
                             % (name, '>=' if low_ok else '>', _num(low, integral), _num(high, integral), value))


def _num(value, integral):
    return str(int(value)) if integral or float(value).is_integer() else str(value)


def requests_missing_message():
    return ('the stats_event action needs the Python library "requests" on the controller '
            '(pip install requests into the Python that runs ansible): %s' % (REQUESTS_IMPORT_ERROR,))


def is_loopback_host(hostname):
    """Loopback by its literal address (127.0.0.0/8, ::1) or the name localhost."""
    if not hostname:
        return False
    name = hostname.strip('[]').lower().rstrip('.')
    if name == 'localhost':
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def validate_endpoint(url, allow_insecure_http=False, loopback_only=False):
    """Return the URL when it may be posted to, else raise EndpointError with a clear message.

    No message shows the URL's userinfo (C(redact_url)), nor a parser's detail about a URL
    that has an C(@) (Python's "Port could not be cast to integer value as 'pa'" quotes the
    start of a password).
    """
    if not isinstance(url, str):
        raise EndpointError('endpoint must be a URL string, got %s' % type(url).__name__)
    if not url.strip():
        raise EndpointError('endpoint must be a non-empty URL')
    shown = redact_url(url)
    if url != url.strip() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise EndpointError('endpoint %r contains whitespace or control characters' % (shown,))
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
    except ValueError as e:
        detail = ': %s' % (e,) if '@' not in url else ''
        raise EndpointError('endpoint %r is not a valid URL%s' % (shown, detail)) from None
    scheme = parts.scheme.lower()
    if scheme not in ('http', 'https'):
        # In "user:pw@host/x" Python reads the user name as the scheme: name no scheme then.
        named = parts.scheme and ('@' not in url or url.lower().startswith(scheme + '://'))
        raise EndpointError('endpoint %r: unsupported scheme %r (only https, or http to loopback)'
                            % (shown, parts.scheme if named else '(none)'))
    if '@' in parts.netloc or parts.username is not None or parts.password is not None:
        raise EndpointError('endpoint %r: credentials in the URL are not supported (they would be logged)'
                            % (shown,))
    if not hostname:
        raise EndpointError('endpoint %r is not a valid URL: no host' % (shown,))
    if port is not None and not 0 < port < 65536:
        raise EndpointError('endpoint %r: port out of range' % (shown,))
    loopback = is_loopback_host(hostname)
    if scheme == 'http' and not loopback and not allow_insecure_http:
        raise EndpointError('endpoint %r: plain http to a non-loopback host (%s) is refused; use https, '
                            'or set allow_insecure_http=true' % (shown, hostname))
    if loopback_only and not loopback:
        raise EndpointError('endpoint %r is not loopback and %s is set' % (shown, LOOPBACK_GUARD_ENV))
    return url


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds) or seconds < 0:  # NaN or in the past
        return 0.0
    return seconds


def backoff_delay(attempt, base, cap, rand, retry_after=None):
    """Delay before retry number C(attempt) (1 = first retry).

    Exponential (base * 2**(attempt-1)) plus up to C(base) of jitter, capped at C(cap);
    a server's Retry-After wins when given, also capped.
    """
    if retry_after is not None:
        return min(max(retry_after, 0.0), cap)
    delay = base * (2 ** (attempt - 1)) + rand() * base
    return min(delay, cap)


class Outcome(object):
    __slots__ = ('key', 'ok', 'status', 'attempts', 'error')

    def __init__(self, key, ok, status, attempts, error):
        self.key = key
        self.ok = ok
        self.status = status
        self.attempts = attempts
        self.error = error

    def as_dict(self):
        return {'delivered': self.ok, 'status': self.status, 'attempts': self.attempts, 'error': self.error}


class Deliverer(object):
    """Posts bodies to one endpoint; thread-safe (one pooled session, bounded workers)."""

    def __init__(self, endpoint, timeout=2.0, retries=2, validate_certs=True, workers=16,
                 backoff=0.2, max_backoff=5.0, session=None, sleep=time.sleep, rand=random.random,
                 user_agent='netdata_fleet.telemetry stats_event'):
        if not HAS_REQUESTS and session is None:
            raise RuntimeError(requests_missing_message())
        self.endpoint = endpoint
        self.timeout = timeout
        self.retries = retries
        self.validate_certs = validate_certs
        self.workers = max(1, int(workers))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self._rand = rand
        self._rand_lock = threading.Lock()
        self.user_agent = user_agent
        self._own_session = session is None
        self.session = session if session is not None else self._make_session()

    def _make_session(self):
        session = requests.Session()
        # Retries are ours (they must honour Retry-After and be counted), not urllib3's.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self.workers, max_retries=0, pool_block=True)
        session.mount('https://', adapter)
        session.mount('http://', adapter)
        session.headers.update({'Content-Type': 'application/json', 'User-Agent': self.user_agent})
        return session

    def close(self):
        if self._own_session:
            self.session.close()

    def rand(self):
        with self._rand_lock:
            return self._rand()

    def post_once(self, data):
        """One POST. Returns (ok, status, retryable, retry_after_seconds, error)."""
        try:
            resp = self.session.post(self.endpoint, data=data, timeout=self.timeout,
                                     verify=self.validate_certs, allow_redirects=False)
        except requests.exceptions.SSLError as e:
            # A certificate problem does not heal by retrying within a run.
            return False, None, False, None, 'TLS error: %s' % (redact_text(e),)
        except requests.exceptions.Timeout:
            return False, None, True, None, 'timeout after %ss' % (self.timeout,)
        except requests.exceptions.ConnectionError as e:
            return False, None, True, None, 'connection error: %s' % (_short(e),)
        except requests.exceptions.RequestException as e:
            return False, None, False, None, 'request error: %s' % (_short(e),)
        status = resp.status_code
        try:
            resp.content  # read the body so the connection goes back to the pool
        except Exception:
            pass
        finally:
            resp.close()
        if 200 <= status < 300:
            return True, status, False, None, None
        retry_after = parse_retry_after(resp.headers.get('Retry-After'))
        retryable = status in RETRY_STATUSES
        return False, status, retryable, retry_after, 'HTTP %d' % status

    def deliver(self, key, body):
        """Deliver one JSON body (dict or already-encoded bytes) with retries. Returns an Outcome."""
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(',', ':')).encode('utf-8')
        attempts = 0
        status = error = None
        while True:
            attempts += 1
            ok, status, retryable, retry_after, error = self.post_once(data)
            if ok:
                return Outcome(key, True, status, attempts, None)
            if not retryable or attempts > self.retries:
                return Outcome(key, False, status, attempts, error)
            self.sleep(backoff_delay(attempts, self.backoff, self.max_backoff, self.rand, retry_after))

    def deliver_all(self, items):
        """Deliver C(items), a list of (key, body), concurrently. Returns {key: Outcome}.

        Keys must be unique (the caller dedupes by event id): a key is posted once.
        """
        unique = []
        seen = set()
        for key, body in items:
            if key in seen:
                continue
            seen.add(key)
            unique.append((key, body))
        if not unique:
            return {}
        if len(unique) == 1 or self.workers == 1:
            return dict((k, self.deliver(k, b)) for k, b in unique)
        outcomes = {}
        with ThreadPoolExecutor(max_workers=min(self.workers, len(unique))) as pool:
            futures = [(k, pool.submit(self.deliver, k, b)) for k, b in unique]
            for key, fut in futures:
                try:
                    outcomes[key] = fut.result()
                except Exception as e:  # never let one event's bug lose the others' outcomes
                    outcomes[key] = Outcome(key, False, None, 0, 'internal error: %s' % (redact_text(e),))
        return outcomes


_ERRNO_RE = re.compile(r'\[Errno -?\d+\] [^"\'()]+')


def _short(exc):
    """The useful part of a requests error (urllib3 wraps the OS error several times)."""
    text = redact_text(exc)
    match = _ERRNO_RE.search(text)
    if match:
        return match.group(0).strip()
    for marker in ('Connection aborted.', 'RemoteDisconnected', 'Connection reset'):
        if marker in text:
            return marker.rstrip('.').lower() if marker != 'RemoteDisconnected' else 'remote end closed connection'
    return text if len(text) <= 200 else text[:197] + '...'
