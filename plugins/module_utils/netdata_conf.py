# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netdata_fleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading ``netdata.conf`` (and the same-format ``cloud.d/cloud.conf``) -- no editing.

Parsing follows Netdata's ``appconfig_load()`` (libnetdata/config/appconfig.c,
unchanged in substance from v1.37 to v2.x):

- each line is trimmed (CR of CRLF included); a line starting with ``#`` is a
  comment; ``;`` is *not* a comment and there are no inline comments;
- ``[name]`` opens a section, the name taken verbatim between the brackets;
  a repeated section merges into the first;
- ``name = value`` splits at the first ``=``, both sides trimmed; a later value of
  the same name wins; lines outside a section or without ``=`` are ignored;
- section and option names are matched **exactly as written** (case-sensitive:
  Netdata looks them up by hash + ``strcmp``), so ``Crash Reports`` is not
  ``crash reports``.

On start Netdata moves old ``[global]`` names to ``[web]`` (``config_move`` in
``netdata_conf_backwards_compatibility()``; only when the new name is not already
set), in this order: ``bind socket to IP``, then ``bind to`` -> ``[web] bind to``;
``port``, then ``default port`` -> ``[web] default port``. Debian's 1.37.1 ships
``[global] bind socket to IP = 127.0.0.1``, which this honours.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

DEFAULT_PORT = 19999
MAX_FILE_BYTES = 4 * 1024 * 1024

# (section, name) in the order Netdata resolves them: the first one set wins.
_BIND_KEYS = (('web', 'bind to'), ('global', 'bind socket to IP'), ('global', 'bind to'))
_PORT_KEYS = (('web', 'default port'), ('global', 'port'), ('global', 'default port'))
_LIB_KEYS = (('directories', 'lib'), ('global', 'lib directory'))
# Wildcard binds: ask over loopback instead.
_C_SPACE = ' \t\n\r\v\f'
_ANY_V4 = ('', '*', 'any', 'all', '0.0.0.0', 'localhost')
_ANY_V6 = ('::', '[::]', '::0')


# ---------------------------------------------------------------- parsers (pure)

def parse_netdata_ini(text):
    """Netdata ini text -> ``{section: {name: value}}`` (see the module doc for the rules)."""
    sections = {}
    current = None
    # Netdata's appconfig splits on \n only and trims C isspace(); str.splitlines() and
    # str.strip() would also split/trim \x1c-\x1e and \x85 and disagree with it.
    for raw in (text or '').split('\n'):
        line = raw.strip(_C_SPACE)
        if not line or line.startswith('#'):
            continue
        if line.startswith('[') and line.endswith(']') and len(line) >= 2:
            current = sections.setdefault(line[1:-1], {})
            continue
        if current is None or '=' not in line:
            continue
        name, value = line.split('=', 1)
        name = name.strip(_C_SPACE)
        if not name or name.startswith('#'):
            continue
        current[name] = value.strip(_C_SPACE)
    return sections


def lookup(sections, keys):
    """First ``(section, name)`` of *keys* that is set -> its value, else None."""
    for section, name in keys:
        value = sections.get(section, {}).get(name)
        if value is not None:
            return value
    return None


def parse_bind_to(value, default_port=DEFAULT_PORT):
    """``[web] bind to`` -> ``(address, port)`` the live query should use.

    Netdata's list is separated by spaces or commas; an entry is
    ``[tcp:|udp:|unix:]address[%iface][:port][=acl]`` with IPv6 in brackets.
    ``unix:`` and ``udp:`` entries are skipped; the first TCP entry counts.
    Wildcards (``*``, ``any``, ``all``, empty, ``0.0.0.0``, ``localhost``) ->
    ``127.0.0.1``; bracketed IPv6 any (``[::]``) -> ``::1`` (Netdata sets IPV6_V6ONLY
    on its IPv6 sockets, so 127.0.0.1 would not answer). An unbracketed IPv6 address
    is read as Netdata reads it, up to the first ``:`` (so ``::`` is empty = any).
    No TCP entry -> ``(None, None)``.
    """
    if value is None:
        return '127.0.0.1', default_port
    for entry in value.replace(',', ' ').split():
        if entry.startswith('unix:') or entry.startswith('udp:'):
            continue
        if entry.startswith('tcp:'):
            entry = entry[4:]
        entry = entry.split('=', 1)[0]
        port = default_port
        if entry.startswith('['):
            close = entry.find(']')
            if close < 0:
                continue
            address = entry[1:close]
            rest = entry[close + 1:]
        else:
            cut = len(entry)
            for sep in (':', '%'):
                at = entry.find(sep)
                if 0 <= at < cut:
                    cut = at
            address = entry[:cut]
            rest = entry[cut:]
        if rest.startswith('%'):
            colon = rest.find(':')
            rest = rest[colon:] if colon >= 0 else ''
        if rest.startswith(':') and rest[1:]:
            try:
                port = int(rest[1:])
            except ValueError:
                port = default_port
        address = address.split('%', 1)[0]
        if address.lower() in _ANY_V4:
            address = '127.0.0.1'
        elif address in _ANY_V6:
            address = '::1'
        return address, port
    if not value.strip():
        return '127.0.0.1', default_port
    return None, None


def parse_port(value):
    """``default port`` text -> int in 1..65535, else ``DEFAULT_PORT`` (as Netdata does)."""
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        return DEFAULT_PORT
    if port < 1 or port > 65535:
        return DEFAULT_PORT
    return port


def telemetry_settings(text):
    """netdata.conf text -> what the telemetry decision and the live query need.

    ``{'crash_reports': raw str or None, 'web_address': str or None,
    'web_port': int or None, 'web_enabled': bool, 'lib_dir': str or None}``.
    ``web_address`` is None when no TCP listener is configured; ``web_enabled`` is
    False for ``[web] mode = none``.
    """
    sections = parse_netdata_ini(text)
    raw_port = lookup(sections, _PORT_KEYS)
    port = DEFAULT_PORT if raw_port is None else parse_port(raw_port)
    address, port = parse_bind_to(lookup(sections, _BIND_KEYS), port)
    mode = sections.get('web', {}).get('mode')
    lib_dir = lookup(sections, _LIB_KEYS)
    return {
        'crash_reports': sections.get('global', {}).get('crash reports'),
        'web_address': address,
        'web_port': port,
        'web_enabled': (mode or '').strip().lower() != 'none',
        'lib_dir': lib_dir if lib_dir and lib_dir.startswith('/') else None,
    }


# ---------------------------------------------------------------- collector

def read_netdata_conf(path, root='/'):
    """Read *path* (as seen on the target) under *root*. Never raises.

    ``{'path': path, 'exists': bool, 'mtime': float or None, 'crash_reports', 'web_address',
    'web_port', 'web_enabled', 'lib_dir', 'errors': [str]}``; a missing file yields
    Netdata's defaults (``127.0.0.1``, 19999).
    """
    result = {'path': path, 'exists': False, 'mtime': None, 'errors': []}
    result.update(telemetry_settings(''))
    host = path if not root or root == '/' else os.path.join(root, path.lstrip('/'))
    try:
        st = os.stat(host)
    except OSError as exc:
        if os.path.lexists(host):
            result['errors'].append('%s: cannot stat: %s' % (path, exc.strerror or exc))
        return result
    result['exists'] = True
    result['mtime'] = st.st_mtime
    if not stat.S_ISREG(st.st_mode):
        result['errors'].append('%s: not a regular file' % path)
        return result
    try:
        with open(host, 'rb') as handle:
            data = handle.read(MAX_FILE_BYTES)
    except (OSError, IOError) as exc:
        result['errors'].append('%s: cannot read: %s' % (path, exc.strerror or exc))
        return result
    if b'\0' in data:
        result['errors'].append('%s: holds NUL bytes (binary?); read what looks like settings' % path)
        data = data.replace(b'\0', b'\n')
    result.update(telemetry_settings(data.decode('utf-8', 'replace')))
    return result
