# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""DO_NOT_TRACK / DISABLE_TELEMETRY as installer and updater runs would see them.

Kickstart is run from a login shell (``/etc/environment`` through pam_env, then
``/etc/profile`` sourcing ``/etc/profile.d/*.sh`` in name order); the
``netdata-updater`` cron job gets only ``/etc/environment`` (Debian's cron PAM
stack reads it; cron does not source profile.d). Both views are returned.

This is a *static* read, nothing is executed. Limits: control flow is ignored
(a line inside ``if``/``case``/a function counts as if it ran); ``$VAR`` and
``$(...)`` are not expanded (the value is kept verbatim and an error notes it);
only ``;``-separated simple statements are seen (``&&``/``||`` chains are split
too, as if every part ran); ``/etc/profile`` itself, ``~/.profile``,
``/etc/security/pam_env.conf`` and ``/etc/default/*`` are not read.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re
import shlex
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path as _host, read_host_text
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import TELEMETRY_VARS

ETC_ENVIRONMENT = '/etc/environment'
PROFILE_D = '/etc/profile.d'
_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_ASSIGN_RE = re.compile(r'^([A-Za-z_][A-Za-z0-9_]*)=(.*)$', re.S)


# ---------------------------------------------------------------- parsers (pure)

def parse_etc_environment(text):
    """pam_env ``readenv`` format -> list of ``(name, value)``.

    ``KEY=VALUE`` per line, ``#`` comments, an optional leading ``export``,
    one pair of matching surrounding quotes removed; no expansion.
    """
    pairs = []
    for raw in (text or '').splitlines():
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('export ') or line.startswith('export\t'):
            line = line[len('export'):].strip()
        match = _ASSIGN_RE.match(line)
        if not match:
            continue
        name, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in ('"', "'"):
            value = value[1:-1]
        pairs.append((name, value))
    return pairs


def parse_shell_exports(text):
    """A profile.d script -> ordered list of operations.

    Each is ``('set', name, value, unevaluated)``, ``('export', name, None, False)`` or
    ``('unset', name, None, False)``; ``export X=1`` yields a set then an export.
    *unevaluated* is True when the value used ``$``/backticks outside single quotes.
    """
    ops = []
    for statement in _statements(text or ''):
        try:
            lexer = shlex.shlex(statement, posix=True, punctuation_chars=False)
            lexer.whitespace_split = True
            lexer.commenters = ''
            words = list(lexer)
        except ValueError:
            continue  # unbalanced quotes: skip, a shell would fail too
        if not words:
            continue
        raw_words = statement.split()
        command = words[0]
        if command in ('export', 'declare', 'typeset', 'readonly'):
            args = words[1:]
            if command != 'export':
                flags = [a for a in args if a.startswith('-')]
                if command in ('declare', 'typeset') and not any('x' in f for f in flags):
                    args = [a for a in args if not a.startswith('-')]
                    for arg in args:
                        match = _ASSIGN_RE.match(arg)
                        if match:
                            ops.append(('set', match.group(1), match.group(2), _unevaluated(statement, match.group(1))))
                    continue
            for arg in args:
                if arg.startswith('-'):
                    continue
                match = _ASSIGN_RE.match(arg)
                if match:
                    ops.append(('set', match.group(1), match.group(2), _unevaluated(statement, match.group(1))))
                    ops.append(('export', match.group(1), None, False))
                elif _NAME_RE.match(arg):
                    ops.append(('export', arg, None, False))
        elif command == 'unset':
            for arg in words[1:]:
                if _NAME_RE.match(arg):
                    ops.append(('unset', arg, None, False))
        else:
            # Leading assignments: "X=1" alone sets a shell variable; "X=1 cmd"
            # only sets it for cmd, which does not change the shell.
            assigns = []
            for word in words:
                match = _ASSIGN_RE.match(word)
                if not match:
                    break
                assigns.append(match)
            if assigns and len(assigns) == len(words) and raw_words:
                for match in assigns:
                    ops.append(('set', match.group(1), match.group(2), _unevaluated(statement, match.group(1))))
    return ops


def _statements(text):
    """Split shell text into simple statements on newlines, ``;``, ``&&``, ``||`` outside quotes."""
    text = re.sub(r'\\\n', '', text)
    out = []
    current = []
    quote = None
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            current.append(c)
            if c == '\\' and quote == '"' and i + 1 < len(text):
                current.append(text[i + 1])
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in ('"', "'"):
            quote = c
            current.append(c)
        elif c == '#' and (not current or current[-1] in ' \t'):
            while i < len(text) and text[i] != '\n':
                i += 1
            continue
        elif c in '\n;' or text[i:i + 2] in ('&&', '||'):
            out.append(''.join(current).strip())
            current = []
            if text[i:i + 2] in ('&&', '||'):
                i += 1
        else:
            current.append(c)
        i += 1
    out.append(''.join(current).strip())
    # "then"/"do"/"else" prefixes hide the statement behind a keyword.
    cleaned = []
    for statement in out:
        for keyword in ('then ', 'do ', 'else ', '{ '):
            if statement.startswith(keyword):
                statement = statement[len(keyword):].strip()
        if statement:
            cleaned.append(statement)
    return cleaned


def _unevaluated(statement, name):
    """Whether *name*'s assignment text uses expansion outside single quotes."""
    at = statement.find(name + '=')
    if at < 0:
        return False
    quote = None
    for c in statement[at + len(name) + 1:]:
        if quote is None and c in ' \t':
            break
        if c in ('"', "'"):
            if quote is None:
                quote = c
                continue
            if quote == c:
                quote = None
                continue
        if quote != "'" and c in ('$', '`'):
            return True
    return False


# ---------------------------------------------------------------- collector

def installer_environment(root='/', names=TELEMETRY_VARS):
    """Read ``/etc/environment`` and ``/etc/profile.d/*.sh`` under *root*. Never raises.

    Returns ``{'environment': {name: value or None}, 'cron_environment': {name: value
    or None}, 'sources': [files that set or unset one of *names*], 'errors': [str]}``.
    ``environment`` is the login-shell view, ``cron_environment`` what cron jobs
    (the updater) get.
    """
    names = tuple(names)
    result = {
        'environment': dict((n, None) for n in names),
        'cron_environment': dict((n, None) for n in names),
        'sources': [],
        'errors': [],
    }
    exported = {}
    text, err = read_host_text(root, ETC_ENVIRONMENT)
    if err:
        result['errors'].append(err)
    if text is not None:
        touched = False
        for name, value in parse_etc_environment(text):
            exported[name] = value
            touched = touched or name in names
        if touched:
            result['sources'].append(ETC_ENVIRONMENT)
    for name in names:
        result['cron_environment'][name] = exported.get(name)

    shell_vars = dict(exported)
    export_set = set(exported)
    try:
        listing = sorted(os.listdir(_host(root, PROFILE_D)))
    except OSError:
        listing = []
    for entry in listing:
        if not entry.endswith('.sh'):
            continue
        path = PROFILE_D + '/' + entry
        text, err = read_host_text(root, path)
        if err:
            result['errors'].append(err)
            continue
        touched = False
        for op, name, value, unevaluated in parse_shell_exports(text):
            if name in names:
                touched = True
                if unevaluated:
                    result['errors'].append('%s: %s is set from a shell expansion; kept verbatim' % (path, name))
            if op == 'set':
                shell_vars[name] = value
            elif op == 'export':
                export_set.add(name)
            elif op == 'unset':
                shell_vars.pop(name, None)
                export_set.discard(name)
        if touched:
            result['sources'].append(path)
    for name in names:
        if name in export_set and name in shell_vars:
            result['environment'][name] = shell_vars[name]
    return result
