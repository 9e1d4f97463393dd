# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Byte-preserving edits of ``[global] crash reports`` in ``netdata.conf``.

Pure functions on bytes; nothing is read or written here. Every byte the edit does
not need to touch is kept: comments, order, other sections, odd spacing, tabs, CRLF
line ends. A line this module adds uses the file's own line end and the indentation
of the section it goes into.

How Netdata reads the file (``appconfig_load`` in ``libnetdata/config/appconfig.c``
v1.37.1; ``inicfg_load`` in ``src/libnetdata/inicfg/inicfg_conf_file.c`` v2.10.4, the
same logic), which this module follows line for line:

* lines are read with ``fgets(buffer, 8192, fp)`` (``CONFIG_FILE_LINE_MAX``): split on
  ``\\n`` only, and a physical line longer than 8191 bytes is read as several lines (a
  comment's tail can be an option or a section header of its own). A NUL ends a line
  for Netdata; this module refuses to edit a file that holds one.
* each line is trimmed of C ``isspace``
  (space, tab, ``\\n``, ``\\r``, ``\\v``, ``\\f``); an empty line or one starting with
  ``#`` is skipped. There are no inline comments: ``crash reports = off # x`` has the
  value ``off # x`` (which Netdata also reads as off, but not as ``off``).
* a section header is a trimmed line starting with ``[`` and ending with ``]``; the
  name between them is not trimmed and is compared case-sensitively: ``[Global]`` and
  ``[ global ]`` are not ``[global]``. A repeated section is the same section.
* an option line is split at its first ``=``; name and value are trimmed; the name is
  compared exactly (case-sensitive, inner spaces count). When a name repeats, the
  last value wins. Lines before the first section are ignored.
* a UTF-8 byte-order mark is not whitespace: a first line ``\\ufeff[global]`` is no
  section header for Netdata, and so not for this module either.

The reader ``netdata_conf.py`` applies the same rules; both were checked against the
real daemons' ``-W get`` (``tests/unit/plugins/module_utils/_discovery/test_netdata_conf_real.py``).
Every edit is checked before it is returned: the new file must split into exactly the
lines the edit meant (an edit inside an over-long line could shift where Netdata cuts
the lines after it), else the edit is refused.

Marking: a line this module writes is preceded by its own comment line
:data:`MANAGED_MARKER` (same indentation). A trailing comment cannot be used: Netdata
would read it as part of the value. On opt-in, :func:`remove_managed_crash_reports`
removes only a marked line; a user's own setting is left alone and reported in the
note so the caller can warn or fail its check.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

KEY = b'crash reports'
SECTION = b'global'
MANAGED_MARKER = b'# managed by netdata_fleet.telemetry: crash reports (removed on opt-in)'
DEFAULT_INDENT = b'    '
_SPACE = b' \t\n\r\v\f'
# fgets(buffer, CONFIG_FILE_LINE_MAX = 8192, fp) hands out at most 8191 bytes at a time.
LINE_MAX = 8191
_ON_VALUES = (b'all', b'crashes')


def _text(value):
    return value.decode('utf-8', 'replace')


def _check(content):
    """A refusal note, or '' when ``content`` can be edited safely."""
    if not isinstance(content, (bytes, bytearray)):
        return 'refused: content is not bytes'
    if b'\x00' in content:
        return 'refused: netdata.conf contains NUL bytes; not editing a file that may be binary'
    try:
        bytes(content).decode('utf-8')
    except UnicodeDecodeError as exc:
        return 'refused: netdata.conf is not valid UTF-8 (byte %d); not editing it' % exc.start
    return ''


def _split(content):
    """The lines Netdata's ``fgets`` reads, each with its ``\\n`` (the last may lack it).

    A physical line longer than ``LINE_MAX`` bytes comes out as several pieces.
    """
    lines = []
    pos = 0
    size = len(content)
    while pos < size:
        newline = content.find(b'\n', pos, pos + LINE_MAX)
        end = newline + 1 if newline >= 0 else min(pos + LINE_MAX, size)
        lines.append(content[pos:end])
        pos = end
    return lines


def _physical_numbers(lines):
    """1-based physical line number of each piece of :func:`_split`."""
    numbers = []
    number = 1
    for line in lines:
        numbers.append(number)
        if line.endswith(b'\n'):
            number += 1
    return numbers


def _joined(new_lines, note):
    """The new file, or a refusal when Netdata would not read it as *new_lines*."""
    new = b''.join(new_lines)
    if _split(new) != [line for line in new_lines if line]:
        return None, ('refused: netdata.conf has a line longer than %d bytes, which Netdata reads '
                      'in pieces; this edit would move where it cuts the lines after it' % LINE_MAX)
    return new, note


def _eol(lines):
    for line in lines:
        if line.endswith(b'\n'):
            return b'\r\n' if line.endswith(b'\r\n') else b'\n'
    return b'\n'


def _parse(lines):
    """Classify each line the way Netdata does.

    Returns a list of dicts ``{kind, section, name, value}`` where kind is one of
    ``blank``, ``comment``, ``section``, ``option``, ``other``; ``section`` is the
    section the line belongs to (None before the first header).
    """
    out = []
    section = None
    for line in lines:
        # a NUL ends the C string Netdata looks at (only effective_crash_reports sees one)
        s = line.split(b'\x00', 1)[0].strip(_SPACE)
        info = {'kind': 'other', 'section': section, 'name': None, 'value': None}
        if not s:
            info['kind'] = 'blank'
        elif s.startswith(b'#'):
            info['kind'] = 'comment'
        elif s.startswith(b'[') and s.endswith(b']') and len(s) >= 2:
            section = s[1:-1]
            info['kind'] = 'section'
            info['section'] = section
        elif section is not None and b'=' in s:
            name, _unused, value = s.partition(b'=')
            name = name.strip(_SPACE)
            if name and not name.startswith(b'#'):
                info['kind'] = 'option'
                info['name'] = name
                info['value'] = value.strip(_SPACE)
        out.append(info)
    return out


def _global_key_lines(parsed):
    return [i for i, p in enumerate(parsed)
            if p['kind'] == 'option' and p['section'] == SECTION and p['name'] == KEY]


def _is_marker(line):
    return line.strip(_SPACE) == MANAGED_MARKER


def _indent(line):
    return line[:len(line) - len(line.lstrip(b' \t'))]


def _with_value(line, value):
    """``line`` with the value after its first ``=`` replaced, spacing kept."""
    body, nl = (line[:-1], b'\n') if line.endswith(b'\n') else (line, b'')
    head, _unused, after = body.partition(b'=')
    stripped = after.strip(_SPACE)
    if stripped:
        lead = after[:len(after) - len(after.lstrip(_SPACE))]
        tail = after[len(after.rstrip(_SPACE)):]
        return head + b'=' + lead + value + tail + nl
    # empty value: keep what follows the '=' (a CR, blanks) after the new value
    blanks = after[:len(after) - len(after.lstrip(b' \t'))]
    rest = after[len(blanks):]
    return head + b'=' + (blanks or b' ') + value + rest + nl


def _section_indent(lines, parsed, header):
    for i in range(header + 1, len(lines)):
        if parsed[i]['kind'] == 'section':
            break
        if parsed[i]['kind'] in ('option', 'comment'):
            return _indent(lines[i])
    return DEFAULT_INDENT


def effective_crash_reports(content):
    """``{value, line, managed}`` of the effective ``[global] crash reports`` (the last
    one; ``line`` is the 1-based physical line), or value None when unset.

    Reads any bytes the way Netdata does (a NUL ends its line, invalid UTF-8 is kept and
    shown replaced); None or non-bytes content: unset.
    """
    result = {'value': None, 'line': None, 'managed': False}
    if not isinstance(content, (bytes, bytearray)):
        return result
    lines = _split(bytes(content))
    parsed = _parse(lines)
    found = _global_key_lines(parsed)
    if found:
        i = found[-1]
        result['value'] = _text(parsed[i]['value'])
        result['line'] = _physical_numbers(lines)[i]
        result['managed'] = i > 0 and _is_marker(lines[i - 1])
    return result


def ensure_crash_reports(content, value='off'):
    """Make ``[global] crash reports`` equal ``value`` (``off`` by default).

    :param content: the file's bytes, or None when the file does not exist.
    :returns: ``(new_bytes, changed, note)``. On a refusal (NUL bytes, invalid UTF-8, a
        bad value) the content comes back unchanged with ``changed`` False and a note
        starting with ``refused:``.

    * missing or empty file: ``[global]``, the marker and ``    crash reports = off``.
    * the effective (last) ``crash reports`` in ``[global]`` already has the value:
      nothing changes (so a second call never changes anything).
    * it has another value: that line's value is replaced in place (spacing kept) and
      the line is marked as managed (a marker line above it) unless it already is.
    * no such line, but a ``[global]`` section: the marked line is inserted right
      after the first ``[global]`` header, with the indentation of that section.
    * no ``[global]`` at all: a new ``[global]`` section is appended at the end.
    A ``crash reports`` in another section, or commented out, is left as it is.
    """
    if isinstance(value, str):
        value = value.encode('utf-8')
    if (not isinstance(value, bytes) or not value.strip(_SPACE) or value != value.strip(_SPACE)
            or b'\n' in value or b'\r' in value or b'#' in value[:1]):
        return content, False, 'refused: %r is not a valid crash reports value' % (value,)
    if content is None or content == b'':
        new = b'[global]\n' + DEFAULT_INDENT + MANAGED_MARKER + b'\n' + DEFAULT_INDENT + KEY + \
            b' = ' + value + b'\n'
        return new, True, 'created: netdata.conf with [global] crash reports = %s' % _text(value)
    refusal = _check(content)
    if refusal:
        return content, False, refusal
    content = bytes(content)
    lines = _split(content)
    parsed = _parse(lines)
    eol = _eol(lines)
    found = _global_key_lines(parsed)
    numbers = _physical_numbers(lines)

    if found:
        i = found[-1]
        if parsed[i]['value'] == value:
            return content, False, 'unchanged: [global] crash reports = %s already (line %d)' % (
                _text(value), numbers[i])
        old = parsed[i]['value']
        new_lines = list(lines)
        new_lines[i] = _with_value(lines[i], value)
        marked = i > 0 and _is_marker(lines[i - 1])
        if not marked:
            new_lines.insert(i, _indent(lines[i]) + MANAGED_MARKER + eol)
        note = 'replaced: [global] crash reports = %s with %s (line %d)%s' % (
            _text(old), _text(value), numbers[i], '' if marked else '; the line is now managed')
        return _result(content, new_lines, note)

    addition = [MANAGED_MARKER, KEY + b' = ' + value]
    headers = [i for i, p in enumerate(parsed) if p['kind'] == 'section' and p['section'] == SECTION]
    new_lines = list(lines)
    if headers:
        h = headers[0]
        indent = _section_indent(lines, parsed, h)
        if not new_lines[h].endswith(b'\n'):
            new_lines[h] += eol
        new_lines[h + 1:h + 1] = [indent + a + eol for a in addition]
        return _result(content, new_lines, 'added: crash reports = %s under [global] (line %d)' % (
            _text(value), numbers[h] + 2))
    if new_lines and not new_lines[-1].endswith(b'\n'):
        new_lines[-1] += eol
    if new_lines and new_lines[-1].strip(_SPACE):
        new_lines.append(eol)
    new_lines.append(b'[global]' + eol)
    new_lines.extend(DEFAULT_INDENT + a + eol for a in addition)
    return _result(content, new_lines, 'added: a [global] section with crash reports = %s at the end' % (
        _text(value)))


def _result(content, new_lines, note):
    new, note = _joined(new_lines, note)
    if new is None:
        return content, False, note
    return new, True, note


def remove_managed_crash_reports(content, marker=MANAGED_MARKER):
    """Remove the ``crash reports`` lines this module wrote (marker line + option line).

    :returns: ``(new_bytes, changed, note)``. A user's own ``[global] crash reports``
        stays; the note then says what it keeps in force (starting ``user setting:``),
        so the caller can warn or fail its opt-in check. A marker line with no option
        line right below it is removed too. None content: nothing to do.
    """
    if content is None:
        return None, False, 'unchanged: netdata.conf does not exist'
    refusal = _check(content)
    if refusal:
        return content, False, refusal
    content = bytes(content)
    if isinstance(marker, str):
        marker = marker.encode('utf-8')
    lines = _split(content)
    parsed = _parse(lines)
    drop = set()
    for i, line in enumerate(lines):
        if line.strip(_SPACE) != marker:
            continue
        drop.add(i)
        if i + 1 < len(lines) and parsed[i + 1]['kind'] == 'option' and parsed[i + 1]['name'] == KEY:
            drop.add(i + 1)
    new_lines = [line for i, line in enumerate(lines) if i not in drop]
    new, refusal = _joined(new_lines, None)
    if new is None:
        return content, False, refusal
    notes = []
    if drop:
        notes.append('removed: %d managed line(s)' % len(drop))
    else:
        notes.append('unchanged: no managed crash reports line')
    left = effective_crash_reports(new)
    if left['value'] is not None:
        state = 'on' if left['value'].encode('utf-8') in _ON_VALUES else 'off'
        notes.append('user setting: [global] crash reports = %s (line %s) keeps crash reports %s; '
                     'left as is' % (left['value'], left['line'], state))
    return new, bool(drop), '; '.join(notes)
