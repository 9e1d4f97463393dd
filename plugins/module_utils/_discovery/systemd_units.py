# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The environment systemd would start a service with, read from unit files only.

What is modelled (systemd 252, ``systemd.exec(5)``, ``systemd.syntax(7)``,
``systemd.unit(5)``, ``systemd-system.conf(5)``):

- Unit lookup: the first ``<name>`` found along ``UNIT_DIRS`` wins. A unit that is
  a symlink to ``/dev/null`` or an empty file is masked (systemd treats both so).
- Drop-ins: ``<name>.d/*.conf`` from every unit dir, then the type-wide
  ``service.d/*.conf``; merged by file name (the copy in the earlier dir wins, so
  ``/etc`` overrides ``/lib``), applied in file-name order; a drop-in that is a
  ``/dev/null`` symlink or empty removes that name.
- Only ``[Service]`` counts. ``Environment=`` uses systemd's quoting (several
  assignments per line, single/double quotes, C escapes); an empty assignment
  resets the list; later assignments win. ``EnvironmentFile=`` (``-`` = optional,
  wildcards allowed, relative paths are invalid, empty assignment resets the list)
  is read in order and **overrides** ``Environment=`` ("Settings from these files
  override settings made with Environment=", ``systemd.exec(5)``).
  ``UnsetEnvironment=`` is applied last. ``PassEnvironment=`` copies from the
  manager environment below.
- The manager's ``DefaultEnvironment=`` (``[Manager]`` of ``system.conf`` and its
  ``system.conf.d`` drop-ins) is the base every service starts from.

Files are read as bytes and parsed the way systemd v252's own code does (each rule
below cites it; all were measured against systemd 252's service manager, see
``tests/unit/plugins/module_utils/_discovery/test_systemd_units_real.py``):

- unit files and drop-ins (``config_parse()`` in ``src/shared/conf-parser.c`` reading
  with ``read_line()`` of ``src/basic/fileio.c``): a line ends at ``\\n``, ``\\r`` or NUL,
  where one of each of ``\\n``/``\\r`` plus a NUL form one line end (``\\r\\n``,
  ``\\n\\r``, ``\\n\\0`` ...) and a repeated one starts a new line; no other byte ends a
  line (not ``\\v``, ``\\f``, ``\\x1c``, U+0085, U+2028). The first line that starts with a
  UTF-8 byte-order mark loses it. ``#``/``;`` comment lines (checked before the BOM is
  removed) are skipped, also inside a continuation; a line ending in an unescaped
  backslash continues on the next one with the backslash turned into a space and the
  next line appended as it is; an empty line ends a continuation. Lines are trimmed
  of space, tab, CR, LF only. A line that is not valid UTF-8, a ``[`` line not ending
  in ``]``, a section name with quotes, backslashes or control characters, or a line
  of 1 MiB or more makes systemd stop reading the file there: a unit then fails to
  load, a drop-in keeps what came before.
- ``Environment=`` (``config_parse_environ()`` in ``src/core/load-fragment.c``, words
  by ``extract_first_word(EXTRACT_CUNESCAPE|EXTRACT_UNQUOTE)`` of
  ``src/basic/extract-word.c``, escapes by ``cunescape_one()`` of
  ``src/basic/escape.c``): a bad escape or quote ends the line's processing (earlier
  words stay); each word's ``%`` specifiers are resolved (an unknown one drops the
  word); a word that is no valid ``NAME=VALUE`` or whose value is not valid UTF-8 is
  dropped.
- ``EnvironmentFile=`` files (``load_env_file()``/``parse_env_file_internal()`` in
  ``src/basic/env-file.c``, called at start by ``exec_context_load_environment()`` of
  ``src/core/execute.c``): ``\\n`` and ``\\r`` both end a line; no BOM handling; a file
  with a NUL byte, invalid UTF-8 in a key or value, or more than 64 MiB is not loaded
  at all (with ``-`` it is skipped, else the service fails to start).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re
import stat
from collections import namedtuple
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path as _host

# systemd's system unit search path (``systemd-analyze unit-paths``) minus generators.
UNIT_DIRS = (
    '/etc/systemd/system.control',
    '/run/systemd/system.control',
    '/run/systemd/transient',
    '/etc/systemd/system',
    '/run/systemd/system',
    '/usr/local/lib/systemd/system',
    '/lib/systemd/system',
    '/usr/lib/systemd/system',
)

# Where system.conf drop-ins live, highest priority first (systemd-system.conf(5)).
MANAGER_CONF = '/etc/systemd/system.conf'
MANAGER_DROPIN_DIRS = (
    '/etc/systemd/system.conf.d',
    '/run/systemd/system.conf.d',
    '/usr/local/lib/systemd/system.conf.d',
    '/usr/lib/systemd/system.conf.d',
    '/lib/systemd/system.conf.d',
)

# src/basic/fileio.h: read_line() gives up on a line of this many bytes.
LONG_LINE_MAX = 1024 * 1024
# src/basic/fileio.c: read_full_file() refuses bigger files (environment files).
READ_FULL_BYTES_MAX = 64 * 1024 * 1024 - 1
# Unit files have no size limit in systemd; past this the collector gives up (and says so).
MAX_FILE_BYTES = 64 * 1024 * 1024
PATH_MAX = 4096
UTF8_BOM = b'\xef\xbb\xbf'
_WHITESPACE = b' \t\n\r'        # string-util.h WHITESPACE
_NEWLINE = b'\n\r'               # string-util.h NEWLINE
_COMMENTS = b'#;'                 # string-util.h COMMENTS
_SHELL_NEED_ESCAPE = b'"\\`$'    # escape.h SHELL_NEED_ESCAPE
_ENV_NAME_RE = re.compile(br'\A[A-Za-z_][A-Za-z0-9_]*\Z')
_HEX = b'0123456789abcdefABCDEF'
_SIMPLE_ESCAPES = {
    b'a': b'\a', b'b': b'\b', b'f': b'\f', b'n': b'\n', b'r': b'\r', b't': b'\t', b'v': b'\v',
    b'\\': b'\\', b'"': b'"', b"'": b"'", b's': b' ',
}
# utf8.c unichar_is_valid(): besides what Python's strict decoder refuses, systemd
# refuses the non-characters U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF.
_NONCHARACTERS = re.compile('[\ufdd0-\ufdef' + ''.join(
    '%s%s' % (chr(plane * 0x10000 + 0xfffe), chr(plane * 0x10000 + 0xffff)) for plane in range(17)) + ']')
# specifier.c POSSIBLE_SPECIFIERS: after "%", one of these that the table lacks is an error.
_ALNUM = b'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
# Specifiers whose value depends on the host (hostname, machine/boot id, os-release,
# kernel, cgroups, the root user's shell): resolved by systemd, kept as written here.
_HOST_SPECIFIERS = b'aAbBHlqmMovwWcrRs'


# ---------------------------------------------------------------- parsers (pure)

def _as_bytes(data):
    if data is None:
        return b''
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray):
        return bytes(data)
    return data.encode('utf-8', 'surrogateescape')


def _show(data):
    return data.decode('utf-8', 'replace')


def utf8_valid(data):
    """systemd's ``utf8_is_valid()`` on bytes."""
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        return False
    return not _NONCHARACTERS.search(text)


def read_lines(data, limit=LONG_LINE_MAX):
    """``read_line()`` over all of *data*: ``(lines, error)``.

    *error* (a string) when a line reaches *limit* bytes; the lines before it are returned.
    """
    lines = []
    pos = 0
    size = len(data)
    eol_bits = {10: 1, 13: 4, 0: 2}   # EOL_TEN, EOL_THIRTEEN, EOL_ZERO
    find_eol = re.compile(b'[\n\r\0]')
    while pos < size:
        match = find_eol.search(data, pos)
        end = match.start() if match else size
        if end - pos >= limit:
            return lines, 'line %d is %d bytes or longer' % (len(lines) + 1, limit)
        lines.append(data[pos:end])
        seen = 0
        pos = end
        while pos < size:
            bit = eol_bits.get(data[pos], 0)
            # after a NUL, or on a non-EOL byte, or on an EOL byte already seen: done
            if seen & 2 or not bit or seen & bit:
                break
            seen |= bit
            pos += 1
    return lines, None


def _escaped_at_end(line):
    escaped = False
    for byte in bytearray(line):
        if escaped:
            escaped = False
        elif byte == 92:
            escaped = True
    return escaped


def _string_is_safe(name):
    for byte in bytearray(name):
        if 0 < byte < 32 or byte in b'"\'\\\x7f':
            return False
    return True


def parse_unit_file(data):
    """Unit/drop-in/system.conf bytes -> ``(entries, error)``, as ``config_parse()`` reads them.

    *entries* is a list of ``(section, key, value)`` (text) in file order; *error* is
    None, or why systemd stops reading the file at that point (the entries before it
    count: a drop-in keeps them, a unit file fails to load).
    """
    data = _as_bytes(data)
    lines, error = read_lines(data)
    entries = []
    state = {'section': None}
    continuation = None
    bom_seen = False
    number = 0
    for number, buf in enumerate(lines, 1):
        stripped = buf.lstrip(_WHITESPACE)
        if stripped[:1] and stripped[:1] in _COMMENTS:
            continue
        line = buf
        if not bom_seen and buf.startswith(UTF8_BOM):
            line = buf[len(UTF8_BOM):]
            bom_seen = True
        if continuation is not None:
            if len(continuation) + len(line) > LONG_LINE_MAX:
                return entries, 'line %d: continuation longer than %d bytes' % (number, LONG_LINE_MAX)
            current = continuation + line
        else:
            current = line
        if _escaped_at_end(current):
            continuation = current[:-1] + b' '
            continue
        continuation = None
        problem = _parse_line(current, state, entries)
        if problem:
            return entries, 'line %d: %s' % (number, problem)
    if error:
        return entries, error   # read_line() failed: a pending continuation is dropped too
    if continuation is not None:
        problem = _parse_line(continuation, state, entries)
        if problem:
            return entries, 'line %d: %s' % (number + 1, problem)
    return entries, None


def _parse_line(line, state, entries):
    """conf-parser.c parse_line(): a problem string when parsing must stop."""
    line = line.strip(_WHITESPACE)
    if not line:
        return None
    if not utf8_valid(line):
        return 'not valid UTF-8'
    if line[:1] == b'[':
        if line[-1:] != b']':
            return 'invalid section header %r' % _show(line)
        name = line[1:-1]
        if not _string_is_safe(name):
            return 'bad characters in section header %r' % _show(line)
        state['section'] = name.decode('utf-8')
        return None
    if state['section'] is None or b'=' not in line or line[:1] == b'=':
        return None  # outside a section, no "=", or no key: systemd warns and goes on
    key, value = line.split(b'=', 1)
    entries.append((state['section'], key.strip(_WHITESPACE).decode('utf-8'),
                    value.strip(_WHITESPACE).decode('utf-8')))
    return None


def parse_unit_text(text):
    """Unit/INI text or bytes -> list of ``(section, key, value)`` (see :func:`parse_unit_file`)."""
    return parse_unit_file(text)[0]


def _cunescape_one(text, i):
    """``cunescape_one()`` at text[i] (after the backslash): ``(bytes, consumed)`` or ``(None, 0)``."""
    c = text[i:i + 1]
    if not c:
        return None, 0
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], 1
    if c == b'x':
        digits = text[i + 1:i + 3]
        if len(digits) != 2 or any(d not in _HEX for d in bytearray(digits)):
            return None, 0
        value = int(digits, 16)
        if value == 0:
            return None, 0   # no NUL bytes
        return bytes(bytearray([value])), 3   # a raw byte ("eight_bit")
    if c in (b'u', b'U'):
        count = 4 if c == b'u' else 8
        digits = text[i + 1:i + 1 + count]
        if len(digits) != count or any(d not in _HEX for d in bytearray(digits)):
            return None, 0
        value = int(digits, 16)
        if value == 0:
            return None, 0
        if c == b'U' and not _unichar_is_valid(value):
            return None, 0
        # utf8_encode_unichar() encodes \u surrogates too; the UTF-8 check refuses them later
        return chr(value).encode('utf-8', 'surrogatepass'), 1 + count
    if c in b'01234567':
        digits = text[i:i + 3]
        if len(digits) != 3 or any(d not in b'01234567' for d in bytearray(digits)):
            return None, 0
        value = int(digits, 8)
        if value == 0 or value > 255:
            return None, 0
        return bytes(bytearray([value])), 3
    return None, 0


def _unichar_is_valid(value):
    if value >= 0x110000 or (value & 0xFFFFF800) == 0xD800:
        return False
    return not (0xFDD0 <= value <= 0xFDEF or (value & 0xFFFE) == 0xFFFE)


def extract_words(value, cunescape=True):
    """``extract_first_word()`` over all of *value* (bytes) with separators " \\t\\n\\r".

    Flags ``EXTRACT_UNQUOTE`` plus ``EXTRACT_CUNESCAPE`` when *cunescape* (else a
    backslash just keeps the next byte). Returns ``(words, error)``: on an unterminated
    quote or a bad escape, the words before it and the error.
    """
    words = []
    i = 0
    n = len(value)
    while True:
        while i < n and value[i:i + 1] in (b' ', b'\t', b'\n', b'\r'):
            i += 1
        if i >= n:
            return words, None
        word = []
        quote = None
        while True:
            if i >= n:
                if quote is not None:
                    return words, 'unterminated quote in %r' % _show(value)
                words.append(b''.join(word))
                return words, None
            c = value[i:i + 1]
            if c == b'\\':
                if cunescape:
                    decoded, used = _cunescape_one(value, i + 1)
                    if decoded is None:
                        return words, 'invalid escape in %r' % _show(value)
                    word.append(decoded)
                    i += 1 + used
                else:
                    if i + 1 >= n:
                        return words, 'trailing backslash in %r' % _show(value)
                    word.append(value[i + 1:i + 2])
                    i += 2
                continue
            if quote is not None:
                if c == quote:
                    quote = None
                else:
                    word.append(c)
                i += 1
                continue
            if c in (b'"', b"'"):
                quote = c
                i += 1
                continue
            if c in (b' ', b'\t', b'\n', b'\r'):
                words.append(b''.join(word))
                break
            word.append(c)
            i += 1


def split_systemd_words(value):
    """Text/bytes -> ``(words, error)`` of :func:`extract_words` with C escapes, as text."""
    words, error = extract_words(_as_bytes(value))
    return [w.decode('utf-8', 'surrogateescape') for w in words], error


class Specifiers(object):
    """``%`` specifiers of systemd 252 for one unit (``unit_full_printf_full()`` in
    ``src/core/unit-printf.c``), or for the manager's own settings (*unit* None:
    ``system_and_tmp_specifier_table``). Host-dependent ones stay as written."""

    def __init__(self, unit=None, fragment=None):
        self.unit = unit
        # COMMON_TMP_SPECIFIERS (a manager without $TMPDIR)
        self.values = {b'T': b'/tmp', b'V': b'/var/tmp'}
        # COMMON_SYSTEM_SPECIFIERS; a unit adds its cgroup ones and the root user's shell
        self.host = b'aAbBHlqmMovwW'
        if unit is None:
            return
        self.host = _HOST_SPECIFIERS
        name = unit.encode('utf-8', 'surrogateescape')
        base = name.rsplit(b'.', 1)[0]
        prefix, _unused, instance = base.partition(b'@')
        last = prefix.rsplit(b'-', 1)[-1]
        self.values.update({
            b'n': name, b'N': base, b'p': prefix, b'i': instance,
            b'P': _unit_unescape(prefix), b'I': _unit_unescape(instance),
            b'j': last, b'J': _unit_unescape(last),
            b'f': _unit_path_unescape(instance if instance else prefix),
            # a system manager (runs as root): exec-directory roots, credentials, root's ids
            b'C': b'/var/cache', b'E': b'/etc', b'L': b'/var/log', b'S': b'/var/lib', b't': b'/run',
            b'd': b'/run/credentials/' + name,
            b'u': b'root', b'U': b'0', b'g': b'root', b'G': b'0', b'h': b'/root',
            b'y': None, b'Y': None,
        })
        if fragment:
            path = fragment.encode('utf-8', 'surrogateescape')
            self.values[b'y'] = path
            self.values[b'Y'] = path.rsplit(b'/', 1)[0] or b'/'

    def resolve(self, text):
        """``specifier_printf()``: ``(bytes, notes)``, or ``(None, error)`` when systemd
        drops the word. Host-dependent specifiers are kept as written and listed in *notes*."""
        out = []
        notes = []
        i = 0
        n = len(text)
        while i < n:
            c = text[i:i + 1]
            if c != b'%':
                out.append(c)
                i += 1
                continue
            if i + 1 >= n:
                out.append(b'%')   # a stray "%" at the end stays
                break
            spec = text[i + 1:i + 2]
            i += 2
            if spec == b'%':
                out.append(b'%')
            elif spec in self.values:
                if self.values[spec] is None:
                    return None, 'specifier %%%s cannot be resolved for %s' % (_show(spec), self.unit)
                out.append(self.values[spec])
            elif spec in self.host:
                # depends on the host (hostname, ids, os-release, kernel...): kept as written
                notes.append('%' + _show(spec))
                out.append(b'%' + spec)
            elif spec in _ALNUM:
                return None, 'unknown specifier %%%s' % _show(spec)
            else:
                out.append(b'%' + spec)
        return b''.join(out), notes


def _unit_unescape(text):
    """``unit_name_unescape()``: ``-`` is ``/``, ``\\xNN`` a byte; None when invalid."""
    out = []
    i = 0
    while i < len(text):
        c = text[i:i + 1]
        if c == b'-':
            out.append(b'/')
        elif c == b'\\':
            digits = text[i + 2:i + 4]
            if text[i + 1:i + 2] != b'x' or len(digits) != 2 or any(d not in _HEX for d in bytearray(digits)):
                return None
            out.append(bytes(bytearray([int(digits, 16)])))
            i += 3
        else:
            out.append(c)
        i += 1
    return b''.join(out)


def _unit_path_unescape(text):
    if not text:
        return None
    if text == b'-':
        return b'/'
    unescaped = _unit_unescape(text)
    if unescaped is None or unescaped.startswith(b'/') or unescaped.endswith(b'/'):
        return None
    path = b'/' + unescaped
    if not _path_is_normalized(path):
        return None
    return path


def _path_is_normalized(path):
    parts = path.split(b'/')
    if b'..' in parts:
        return False
    if path == b'.' or path.startswith(b'./') or path.endswith(b'/.') or b'/./' in path or b'//' in path:
        return False
    return True


def _env_name_valid(name):
    return bool(_ENV_NAME_RE.match(name))


def _assignment(word):
    """``env_assignment_is_valid()``: ``(name, value)`` as text, or None."""
    if b'=' not in word:
        return None
    name, value = word.split(b'=', 1)
    if not _env_name_valid(name) or not utf8_valid(value):
        return None
    return name.decode('ascii'), value.decode('utf-8')


def parse_environment_assignments(value, specifiers=None):
    """One ``Environment=`` value -> ``(assignments, errors)`` (``config_parse_environ()``).

    *assignments* is None for an empty value (systemd: reset the list), else a list
    of ``(name, value)``. Words systemd ignores (invalid names or UTF-8, unknown
    specifiers) are skipped with an error; a syntax error ends the value, the words
    before it stay.
    """
    raw = _as_bytes(value)
    if raw.strip(_WHITESPACE) == b'':
        return None, []
    if specifiers is None:
        specifiers = Specifiers()
    words, error = extract_words(raw)
    errors = []
    assignments = []
    for word in words:
        resolved, notes = specifiers.resolve(word)
        if resolved is None:
            errors.append('ignoring %r: %s' % (_show(word), notes))
            continue
        if notes:
            errors.append('%r: %s left unresolved (depends on the host)' % (_show(word), ', '.join(notes)))
        pair = _assignment(resolved)
        if pair is None:
            errors.append('ignoring %r: not a valid NAME=VALUE assignment' % _show(resolved))
            continue
        assignments.append(pair)
    if error:
        errors.append('invalid syntax, the rest is ignored: %s' % error)
    return assignments, errors


def parse_environment_file(data):
    """An ``EnvironmentFile=`` file (bytes) -> ``(pairs, errors)``.

    A port of ``parse_env_file_internal()`` with ``load_env_file_push()`` and the
    ``strv_env_clean()`` that follows (``src/basic/env-file.c``, ``src/core/execute.c``):
    ``#``/``;`` comments (a backslash continues them), unquoted values with backslash
    escapes and trailing whitespace cut, ``'...'`` verbatim, ``"..."`` with shell
    escapes, ``\\n`` or ``\\r`` end a line, lines without ``=`` and invalid names are
    dropped. *pairs* is None when systemd would not load the file at all (NUL byte,
    invalid UTF-8 in a key or value, over 64 MiB); *errors* then says why.
    """
    data = _as_bytes(data)
    if len(data) > READ_FULL_BYTES_MAX:
        return None, ['larger than %d bytes: systemd does not load it' % READ_FULL_BYTES_MAX]
    if b'\0' in data:
        return None, ['holds a NUL byte: systemd does not load it']
    pushed = []
    state = 'PRE_KEY'
    key = bytearray()
    value = None
    last_key_ws = None
    last_value_ws = None
    for byte in bytearray(data):
        c = bytes(bytearray([byte]))
        if state == 'PRE_KEY':
            if c in _COMMENTS:
                state = 'COMMENT'
            elif c not in _WHITESPACE:
                state = 'KEY'
                last_key_ws = None
                key = bytearray(c)
        elif state == 'KEY':
            if c in _NEWLINE:
                state = 'PRE_KEY'   # no "=": dropped
                key = bytearray()
            elif c == b'=':
                state = 'PRE_VALUE'
                last_value_ws = None
            else:
                if c not in _WHITESPACE:
                    last_key_ws = None
                elif last_key_ws is None:
                    last_key_ws = len(key)
                key += c
        elif state == 'PRE_VALUE':
            if c in _NEWLINE:
                state = 'PRE_KEY'
                pushed.append((_cut(key, last_key_ws), value))
                key, value = bytearray(), None
            elif c == b"'":
                state = 'SQ'
            elif c == b'"':
                state = 'DQ'
            elif c == b'\\':
                state = 'VALUE_ESCAPE'
            elif c not in _WHITESPACE:
                state = 'VALUE'
                value = (value or bytearray()) + c
        elif state == 'VALUE':
            if c in _NEWLINE:
                state = 'PRE_KEY'
                if last_value_ws is not None:
                    value = value[:last_value_ws]
                pushed.append((_cut(key, last_key_ws), value))
                key, value = bytearray(), None
            elif c == b'\\':
                state = 'VALUE_ESCAPE'
                last_value_ws = None
            else:
                if c not in _WHITESPACE:
                    last_value_ws = None
                elif last_value_ws is None:
                    last_value_ws = len(value or b'')
                value = (value or bytearray()) + c
        elif state == 'VALUE_ESCAPE':
            state = 'VALUE'
            if c not in _NEWLINE:   # an escaped newline (or CR) is eaten up
                value = (value or bytearray()) + c
        elif state == 'SQ':
            if c == b"'":
                state = 'PRE_VALUE'
            else:
                value = (value or bytearray()) + c
        elif state == 'DQ':
            if c == b'"':
                state = 'PRE_VALUE'
            elif c == b'\\':
                state = 'DQ_ESCAPE'
            else:
                value = (value or bytearray()) + c
        elif state == 'DQ_ESCAPE':
            state = 'DQ'
            if c in _SHELL_NEED_ESCAPE:
                value = (value or bytearray()) + c
            elif c != b'\n':   # only LF is a continuation here: "\\\r" keeps both
                value = (value or bytearray()) + b'\\' + c
        elif state == 'COMMENT':
            if c == b'\\':
                state = 'COMMENT_ESCAPE'
            elif c in _NEWLINE:
                state = 'PRE_KEY'
        elif state == 'COMMENT_ESCAPE':
            state = 'COMMENT'
    errors = []
    if state in ('PRE_VALUE', 'VALUE', 'VALUE_ESCAPE', 'SQ', 'DQ', 'DQ_ESCAPE'):
        if state == 'VALUE' and last_value_ws is not None:
            value = value[:last_value_ws]
        if state in ('SQ', 'DQ', 'DQ_ESCAPE'):
            errors.append('unterminated quoted value for %r (systemd keeps it)' % _show(bytes(key)))
        pushed.append((_cut(key, last_key_ws), value))
    values = {}
    order = []
    for name, val in pushed:
        val = bytes(val or b'')
        if not utf8_valid(name) or not utf8_valid(val):
            return None, ['invalid UTF-8 in %r: systemd does not load the file' % _show(name)]
        if not _env_name_valid(name):
            errors.append('ignoring invalid variable name %r' % _show(name))
            continue
        if name not in values:
            order.append(name)
        values[name] = val
    return [(name.decode('ascii'), values[name].decode('utf-8')) for name in order], errors


def _cut(key, last_ws):
    key = bytes(key)
    return key[:last_ws] if last_ws is not None else key


def environment_file_spec(value, specifiers=None):
    """An ``EnvironmentFile=`` value -> ``(spec, error)`` (``config_parse_unit_env_file()``).

    *spec* is ``[-]/simplified/path`` or None when systemd ignores the setting (a
    relative or unnormalized path, an unknown specifier); *error* says why.
    """
    if specifiers is None:
        specifiers = Specifiers()
    resolved, notes = specifiers.resolve(_as_bytes(value))
    if resolved is None:
        return None, 'EnvironmentFile=%s: %s, systemd ignores it' % (value, notes)
    optional = resolved.startswith(b'-')
    path = resolved[1:] if optional else resolved
    if not path.startswith(b'/'):
        return None, 'EnvironmentFile=%s: not an absolute path, systemd ignores it' % value
    # path_simplify(): drop "//" and "/./", a trailing "/"
    parts = [part for part in path.split(b'/') if part not in (b'', b'.')]
    path = b'/' + b'/'.join(parts)
    # path_is_valid(): under PATH_MAX in all, no component over NAME_MAX (255)
    if len(path) >= PATH_MAX or any(len(part) > 255 for part in parts):
        return None, 'EnvironmentFile=%s: path too long, systemd ignores it' % value
    if b'..' in parts:
        return None, 'EnvironmentFile=%s: path is not normalized (".."), systemd ignores it' % value
    if notes:
        return None, 'EnvironmentFile=%s: %s left unresolved (depends on the host), not read' % (
            value, ', '.join(notes))
    return (b'-' if optional else b'') + path, None


# What a service's [Service] entries set, resets applied: ``environment`` the
# ``Environment=`` pairs in order, ``environment_files`` the ``EnvironmentFile=`` specs
# (bytes, ``[-]/path``), ``unset`` / ``pass_environment`` the names (``unset`` may hold
# ``NAME=value``), ``exec_start`` the last non-empty ``ExecStart=``, ``errors`` what was
# ignored and why.
ServiceEntries = namedtuple('ServiceEntries', 'environment environment_files unset pass_environment exec_start errors')


def apply_service_entries(entries, specifiers=None):
    """Fold ``[Service]`` entries (from unit then drop-ins, in order) into ``ServiceEntries``."""
    if specifiers is None:
        specifiers = Specifiers('netdata.service')
    env = []
    files = []
    unset = []
    passenv = []
    exec_start = None
    errors = []
    for section, key, value in entries:
        if section != 'Service':
            continue
        if key == 'Environment':
            assignments, errs = parse_environment_assignments(value, specifiers)
            errors.extend(errs)
            if assignments is None:
                env = []
            else:
                env.extend(assignments)
        elif key == 'EnvironmentFile':
            if not value:
                files = []
                continue
            spec, err = environment_file_spec(value, specifiers)
            if err:
                errors.append(err)
            if spec is not None:
                files.append(spec)
        elif key in ('UnsetEnvironment', 'PassEnvironment'):
            target = unset if key == 'UnsetEnvironment' else passenv
            if not value:
                del target[:]
                continue
            # config_parse_unset_environ / config_parse_pass_environ (load-fragment.c)
            words, err = extract_words(_as_bytes(value), cunescape=(key == 'UnsetEnvironment'))
            for word in words:
                resolved, notes = specifiers.resolve(word)
                if resolved is None:
                    errors.append('%s: ignoring %r: %s' % (key, _show(word), notes))
                    continue
                ok = (_env_name_valid(resolved) or
                      (key == 'UnsetEnvironment' and _assignment(resolved) is not None))
                if not ok:
                    errors.append('%s: ignoring %r: invalid name' % (key, _show(resolved)))
                    continue
                target.append(resolved.decode('utf-8'))
            if err:
                errors.append('%s: %s' % (key, err))
        elif key == 'ExecStart':
            # An empty ExecStart= resets; the last non-empty one is what starts.
            exec_start = value or None
    return ServiceEntries(env, files, unset, passenv, exec_start, errors)


# ---------------------------------------------------------------- collector

def service_environment(unit_name='netdata.service', root='/', exclude_dropins=()):
    """The environment systemd would start *unit_name* with, from files under *root*.

    Drop-ins listed in *exclude_dropins* (paths as on the target) are left out: the opt-in
    role asks what the unit and the *other* drop-ins set, without its own.

    Returns ``{'environment': {NAME: value}, 'unit': path or None, 'masked': bool,
    'dropins': [paths], 'environment_files': [paths read], 'exec_start': str or None,
    'manager_files': [paths], 'errors': [str]}``. Paths are as seen on the target
    (not prefixed with *root*). Never raises.
    """
    result = {
        'environment': {},
        'unit': None,
        'masked': False,
        'dropins': [],
        'environment_files': [],
        'exec_start': None,
        'manager_files': [],
        'errors': [],
    }
    try:
        manager_env = _manager_environment(root, result)
        unit_dirs = _existing_dirs(root, UNIT_DIRS)
        unit_path = _find_unit_file(root, unit_dirs, unit_name)
        if unit_path is None:
            return result
        result['unit'] = unit_path
        if _is_masked(root, unit_path):
            result['masked'] = True
            return result
        entries = _read_unit_fragment(root, unit_name, unit_path, result)
        if entries is None:
            return result
        dropin_paths = _dropin_paths(root, unit_dirs, unit_name, exclude_dropins)
        entries.extend(_read_dropins(root, dropin_paths, result))
        service = apply_service_entries(entries, Specifiers(unit_name, fragment=unit_path))
        result['errors'].extend(service.errors)
        result['exec_start'] = service.exec_start
        result['environment'] = _compose_environment(root, manager_env, service, result)
    except Exception as exc:  # a collector never raises
        result['errors'].append('systemd environment of %s: unexpected %s: %s' % (unit_name, type(exc).__name__, exc))
    return result


def _first_conf_by_name(root, directories):
    """``{name: path}`` of the ``*.conf`` files in *directories* (paths on the target): a
    name seen in an earlier directory wins, as systemd's conf-files lookup has it
    (``/etc`` over ``/run`` over ``/lib``). Unreadable directories are skipped."""
    path_by_name = {}
    for directory in directories:
        try:
            names = sorted(os.listdir(_host(root, directory)))
        except OSError:
            continue
        for name in names:
            if name.endswith('.conf') and name not in path_by_name:
                path_by_name[name] = directory + '/' + name
    return path_by_name


def _find_unit_file(root, unit_dirs, unit_name):
    """The first ``<unit_dir>/<unit_name>`` that exists (a dangling link too), or None."""
    for directory in unit_dirs:
        candidate = directory + '/' + unit_name
        if os.path.lexists(_host(root, candidate)):
            return candidate
    return None


def _dropin_paths(root, unit_dirs, unit_name, exclude_dropins):
    """The drop-ins that apply to *unit_name*, in the order systemd applies them.

    ``<unit>.d`` before the type-wide ``<type>.d``, each along *unit_dirs*; a file name
    seen first wins (``/etc`` overrides ``/lib``); applied in file-name order. Excluded
    and masked ones are left out (masking one removes that name).
    """
    path_by_name = _first_conf_by_name(root, [
        directory + '/' + subdir
        for subdir in (unit_name + '.d', unit_name.rsplit('.', 1)[-1] + '.d')
        for directory in unit_dirs])
    excluded = set(exclude_dropins or ())
    in_name_order = (path_by_name[name] for name in sorted(path_by_name))
    return [path for path in in_name_order if path not in excluded and not _is_masked(root, path)]


def _read_unit_fragment(root, unit_name, unit_path, result):
    """The unit file's entries, or None when it cannot be read (the error is in *result*)."""
    data, err = read_bytes(root, unit_path)
    if err:
        result['errors'].append(err)
        return None
    entries, err = parse_unit_file(data)
    if err:
        # load-fragment.c unit_load_fragment(): the unit does not load at all
        result['errors'].append('%s: %s: systemd stops reading here and does not load %s (it cannot start)'
                                % (unit_path, err, unit_name))
    return entries


def _read_dropins(root, dropin_paths, result):
    """The entries of the drop-ins in *dropin_paths*, in order; each one read goes to
    ``result['dropins']``, each problem to ``result['errors']``."""
    entries = []
    for path in dropin_paths:
        data, err = read_bytes(root, path)
        if err:
            result['errors'].append(err)
            continue
        result['dropins'].append(path)
        more, err = parse_unit_file(data)
        if err:
            # load-dropin.c unit_load_dropin(): what came before stays, the rest is ignored
            result['errors'].append('%s: %s: systemd ignores the rest of this drop-in' % (path, err))
        entries.extend(more)
    return entries


def _compose_environment(root, manager_env, service, result):
    """The service's environment from the manager's and its ``ServiceEntries``, in the
    order systemd builds it: the manager's ``DefaultEnvironment=``, ``PassEnvironment=``,
    ``Environment=``, the ``EnvironmentFile=`` files (they override), ``UnsetEnvironment=``."""
    environment = dict(manager_env)
    for name in service.pass_environment:
        if name in manager_env:
            environment[name] = manager_env[name]
    for name, value in service.environment:
        environment[name] = value
    for spec in service.environment_files:
        for name, value in _read_environment_file_spec(root, spec, result):
            environment[name] = value
    for item in service.unset:
        # "NAME=value" unsets NAME only while it holds that value
        if '=' in item:
            name, value = item.split('=', 1)
            if environment.get(name) == value:
                del environment[name]
        else:
            environment.pop(item, None)
    return environment


def _read_environment_file_spec(root, spec, result):
    """``exec_context_load_environment()`` for one spec (bytes ``[-]/path``): the pairs."""
    optional = spec.startswith(b'-')
    path = (spec[1:] if optional else spec).decode('utf-8')
    if any(ch in path for ch in '*?['):
        matches = sorted(glob.glob(_host(root, path)))
        paths = [_unhost(root, match) for match in matches]
    else:
        paths = [path] if os.path.lexists(_host(root, path)) else []
    if not paths:
        if not optional:
            result['errors'].append('EnvironmentFile=%s is missing: systemd would refuse to start the service' % path)
        return []
    pairs = []
    for one in paths:
        # read_full_file() refuses a bigger file (E2BIG): read_bytes() says so the same way
        data, err = read_bytes(root, one, READ_FULL_BYTES_MAX)
        if err:
            if optional and not os.path.lexists(_host(root, one)):
                continue
            result['errors'].append('EnvironmentFile=%s: %s; %s' % (
                one, err, 'skipped ("-")' if optional else 'systemd would refuse to start the service'))
            continue
        more, errs = parse_environment_file(data)
        if more is None:
            # the whole file is refused: skipped with "-", else the service does not start
            result['errors'].append('EnvironmentFile=%s: %s; %s' % (
                one, '; '.join(errs), 'skipped ("-")' if optional else 'systemd would refuse to start the service'))
            continue
        result['environment_files'].append(one)
        result['errors'].extend('%s: %s' % (one, e) for e in errs)
        pairs.extend(more)
    return pairs


def _manager_environment(root, result):
    files = []
    if os.path.lexists(_host(root, MANAGER_CONF)):
        files.append(MANAGER_CONF)
    names = _first_conf_by_name(root, _existing_dirs(root, MANAGER_DROPIN_DIRS))
    files.extend(names[name] for name in sorted(names))
    environment = {}
    for path in files:
        if _is_masked(root, path):
            continue
        data, err = read_bytes(root, path)
        if err:
            result['errors'].append(err)
            continue
        touched = False
        entries, err = parse_unit_file(data)
        if err:
            result['errors'].append('%s: %s: systemd ignores the rest of this file' % (path, err))
        for section, key, value in entries:
            if section != 'Manager' or key != 'DefaultEnvironment':
                continue
            touched = True
            # the manager's own settings know no unit specifiers (%n ... are unknown)
            assignments, errs = parse_environment_assignments(value, Specifiers())
            result['errors'].extend('%s: %s' % (path, e) for e in errs)
            if assignments is None:
                environment = {}
            else:
                environment.update(assignments)
        if touched:
            result['manager_files'].append(path)
    return environment


# ---------------------------------------------------------------- file helpers

def _unhost(root, path):
    if not root or root == '/':
        return path
    rel = os.path.relpath(path, root)
    return '/' + rel if rel != '.' else '/'


def _existing_dirs(root, dirs):
    """Existing dirs in order, dropping ones that are the same dir (``/lib`` -> ``/usr/lib``)."""
    seen = set()
    found = []
    for directory in dirs:
        try:
            st = os.stat(_host(root, directory))
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            continue
        seen.add(ident)
        found.append(directory)
    return found


def _is_masked(root, path):
    host = _host(root, path)
    try:
        if os.path.islink(host) and os.readlink(host) == '/dev/null':
            return True
        st = os.stat(host)
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) or (stat.S_ISREG(st.st_mode) and st.st_size == 0)


def read_bytes(root, path, max_bytes=None):
    """``(data, None)`` or ``(None, error)``; refuses FIFOs, dirs and devices (no blocking)
    and files over *max_bytes* (default ``MAX_FILE_BYTES``; never a silently cut file)."""
    if max_bytes is None:
        max_bytes = MAX_FILE_BYTES
    host = _host(root, path)
    try:
        st = os.stat(host)
    except OSError as exc:
        if os.path.lexists(host):
            return None, '%s: cannot stat: %s' % (path, exc.strerror or exc)
        return None, '%s: cannot read: No such file or directory' % path
    if not stat.S_ISREG(st.st_mode):
        return None, '%s: not a regular file' % path
    try:
        with open(host, 'rb') as handle:
            data = handle.read(max_bytes + 1)
    except (OSError, IOError) as exc:
        return None, '%s: cannot read: %s' % (path, exc.strerror or exc)
    if len(data) > max_bytes:
        return None, '%s: larger than %d bytes, not read' % (path, max_bytes)
    return data, None


def read_text(root, path, max_bytes=None):
    """``(text, None)`` or ``(None, error)`` (see :func:`read_bytes`); invalid UTF-8 replaced."""
    data, err = read_bytes(root, path, max_bytes)
    return (None, err) if err else (data.decode('utf-8', 'replace'), None)
