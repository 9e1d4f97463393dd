# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading ``netdata.conf`` (and the same-format ``cloud.d/cloud.conf``) -- no editing.

Parsing follows Netdata's ``appconfig_load()`` (libnetdata/config/appconfig.c v1.37.1)
and ``inicfg_load()`` (src/libnetdata/inicfg/inicfg_conf_file.c v2.10.4), the same code:

- the file is read with ``fgets(buffer, CONFIG_FILE_LINE_MAX, fp)`` where
  ``CONFIG_FILE_LINE_MAX`` is ``(1024 + 2048 + 1024) * 2`` = 8192 (``appconfig.h`` /
  ``inicfg.h``): a "line" is at most **8191 bytes**, so a longer physical line is read
  as several lines (its tail can be a section header or an option of its own);
- each line ends at its first NUL byte for Netdata (C strings): the rest of it, up to
  the newline, is never seen;
- each line is trimmed of C ``isspace()`` (space, ``\\t \\n \\v \\f \\r``; no other
  byte, Netdata does not set a locale); a line starting with ``#`` is a comment;
  ``;`` is *not* a comment and there are no inline comments; a UTF-8 byte-order mark
  is no space, so ``\\ufeff[global]`` is no section header;
- ``[name]`` opens a section, the name taken verbatim between the brackets;
  a repeated section merges into the first;
- ``name = value`` splits at the first ``=``, both sides trimmed; a later value of
  the same name wins; lines outside a section or without ``=`` are ignored;
- section and option names are matched **exactly as written** (case-sensitive:
  Netdata looks them up by hash + ``strcmp``), so ``Crash Reports`` is not
  ``crash reports``. There is no include directive and no alias of ``[global] crash
  reports`` in another section.

All of this was checked against ``netdata -c FILE -W get global 'crash reports' X``
of Debian's 1.37.1 and of v2.10.4 (``tests/unit/plugins/module_utils/_discovery/test_netdata_conf_real.py``).

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
# Netdata reads the whole file, whatever its size; this reader streams it the same way
# and gives up (saying so) only past this many bytes.
MAX_FILE_BYTES = 256 * 1024 * 1024
# fgets(buffer, CONFIG_FILE_LINE_MAX, fp) reads at most CONFIG_FILE_LINE_MAX - 1 bytes.
LINE_MAX = (1024 + 2048 + 1024) * 2 - 1

# (section, name) in the order Netdata resolves them: the first one set wins.
_BIND_KEYS = (('web', 'bind to'), ('global', 'bind socket to IP'), ('global', 'bind to'))
_PORT_KEYS = (('web', 'default port'), ('global', 'port'), ('global', 'default port'))
_LIB_KEYS = (('directories', 'lib'), ('global', 'lib directory'))
# The user config dir (where the daemon looks for the opt-out file): ``[directories]
# config``, else the old ``[global] config directory`` that config_move() carries over
# (daemon/main.c v1.37.1, src/daemon/config/netdata-conf-backwards-compatibility.c v2.10.4).
_CONFIG_DIR_KEYS = (('directories', 'config'), ('global', 'config directory'))
# Wildcard binds: ask over loopback instead.
_C_SPACE = ' \t\n\r\v\f'
_C_SPACE_B = b' \t\n\r\v\f'
_ANY_V4 = ('', '*', 'any', 'all', '0.0.0.0', 'localhost')
_ANY_V6 = ('::', '[::]', '::0')


# ---------------------------------------------------------------- parsers (pure)

def netdata_lines(data):
    """The lines Netdata's reader sees in *data* (bytes), trimmed: a generator.

    ``fgets`` with an 8192-byte buffer hands out at most 8191 bytes at a time (up to
    and including a newline); a NUL ends the C string early.
    """
    pos = 0
    size = len(data)
    while pos < size:
        newline = data.find(b'\n', pos, pos + LINE_MAX)
        end = newline + 1 if newline >= 0 else min(pos + LINE_MAX, size)
        yield _trim_line(data[pos:end])
        pos = end


def _trim_line(chunk):
    nul = chunk.find(b'\0')
    if nul >= 0:
        chunk = chunk[:nul]
    return chunk.strip(_C_SPACE_B)


class _IniParser(object):
    """``appconfig_load``/``inicfg_load`` fed one trimmed line at a time (bytes)."""

    def __init__(self):
        self.sections = {}
        self.current = None

    def feed(self, line):
        if not line or line[:1] == b'#':
            return
        if line[:1] == b'[' and line[-1:] == b']' and len(line) >= 2:
            self.current = self.sections.setdefault(line[1:-1], {})
            return
        if self.current is None or b'=' not in line:
            return
        name, value = line.split(b'=', 1)
        name = name.strip(_C_SPACE_B)
        if not name or name[:1] == b'#':
            return
        self.current[name] = value.strip(_C_SPACE_B)

    def result(self):
        out = {}
        for section, options in self.sections.items():
            target = out.setdefault(_text(section), {})
            for name, value in options.items():
                target[_text(name)] = _text(value)
        return out


def _text(value):
    return value.decode('utf-8', 'replace')


def parse_netdata_ini(text):
    """Netdata ini text (bytes, or str taken as UTF-8) -> ``{section: {name: value}}``.

    See the module doc for the rules. Names and values come back as text (invalid
    UTF-8 replaced), so a Latin-1 byte is kept as U+FFFD and never matches ASCII.
    """
    if text is None:
        text = b''
    if not isinstance(text, bytes):
        text = text.encode('utf-8', 'surrogateescape')
    parser = _IniParser()
    for line in netdata_lines(text):
        parser.feed(line)
    return parser.result()


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
    False for ``[web] mode = none``. Also ``'run_as_user'`` (``[global] run as user``,
    raw, None when unset) and ``'user_config_dir'`` (``[directories] config``, raw,
    None when unset).
    """
    return settings_from_sections(parse_netdata_ini(text))


def settings_from_sections(sections):
    """:func:`telemetry_settings` from parsed sections."""
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
        'run_as_user': sections.get('global', {}).get('run as user'),
        'user_config_dir': lookup(sections, _CONFIG_DIR_KEYS),
    }


# ---------------------------------------------------------------- collector

def read_netdata_conf(path, root='/'):
    """Read *path* (as seen on the target) under *root* as Netdata would. Never raises.

    ``{'path': path, 'exists': bool, 'mtime': float or None, 'complete': bool,
    'crash_reports', 'web_address', 'web_port', 'web_enabled', 'lib_dir', ...,
    'errors': [str]}``; a missing file yields Netdata's defaults (``127.0.0.1``, 19999).
    ``complete`` is False when the file exists but could not be read to its end (not a
    regular file, unreadable, larger than ``MAX_FILE_BYTES``): its settings are then
    unknown, not unset, and an error says why.
    """
    result = {'path': path, 'exists': False, 'mtime': None, 'complete': True, 'errors': []}
    result.update(telemetry_settings(''))
    host = path if not root or root == '/' else os.path.join(root, path.lstrip('/'))
    try:
        st = os.stat(host)
    except OSError as exc:
        if os.path.lexists(host):
            result['complete'] = False
            result['errors'].append('%s: cannot stat: %s; its settings are unknown' % (path, exc.strerror or exc))
        return result
    result['exists'] = True
    result['mtime'] = st.st_mtime
    if not stat.S_ISREG(st.st_mode):
        result['complete'] = False
        result['errors'].append('%s: not a regular file; its settings are unknown' % path)
        return result
    parser = _IniParser()
    total = 0
    nul = False
    try:
        with open(host, 'rb') as handle:
            # readline(n) stops after a newline or n bytes: exactly Netdata's fgets().
            while True:
                chunk = handle.readline(LINE_MAX)
                if not chunk:
                    break
                total += len(chunk)
                if total > MAX_FILE_BYTES:
                    result['complete'] = False
                    result['errors'].append('%s: larger than %d bytes, not read to its end; its settings '
                                            'are unknown' % (path, MAX_FILE_BYTES))
                    return result
                nul = nul or b'\0' in chunk
                parser.feed(_trim_line(chunk))
    except (OSError, IOError) as exc:
        result['complete'] = False
        result['errors'].append('%s: cannot read: %s; its settings are unknown' % (path, exc.strerror or exc))
        return result
    if nul:
        result['errors'].append('%s: holds NUL bytes; read as Netdata does (a NUL ends its line)' % path)
    result.update(settings_from_sections(parser.result()))
    return result
