# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which variables a POSIX ``sh`` file exports when it is sourced, read without running it.

Init systems other than systemd give a service its environment by *sourcing* shell files:
OpenRC's ``openrc-run`` sources ``/etc/rc.conf``, ``/etc/conf.d/<service>`` and the init
script into one ``/bin/sh`` (dash on Debian, busybox ash on Alpine) before it starts the
command; a SysV script sources ``/etc/sysconfig/<name>`` or ``/etc/default/<name>``; a
runit ``run`` script is itself a shell script. A variable reaches the started command
only when it is *exported* in that shell. This module follows what the shell does,
statement by statement, for the statements config files are made of, and says "unknown"
for a tracked variable wherever it cannot be sure (it never runs anything):

- ``NAME=value`` alone: sets NAME; it is exported only if NAME already was (``export``
  earlier, or taken from the environment) or ``set -a`` is on.
- ``export NAME=value``, ``export NAME`` (export a set NAME; an unset one stays out of the
  environment), ``readonly NAME=value``, ``unset [-v] NAME`` (removes value and export
  flag), ``set -a`` / ``set +a`` / ``set -o allexport``.
- words: single quotes, double quotes (``\\`` escapes ``$ ` " \\`` and newline), backslash
  escapes, ``\\``-newline continuation, ``#`` comments at a word start; ``$NAME`` and
  ``${NAME}`` are expanded from what is known. A CR before the newline is part of the
  value, as the shell keeps it (a CRLF file exports ``1\\r``).
- ``. FILE`` / ``source FILE``: read recursively (a known shell library such as
  ``/lib/lsb/init-functions`` is skipped); also ``[ -f FILE ] && . FILE``.

- ``: "${NAME:=word}"`` / ``${NAME=word}`` (a plain word): sets NAME when it is unset (``=``)
  or unset or empty (``:=``), without exporting it.

What makes a tracked variable *unknown*: a statement that may set, unset or export it
(assigns it, names it as a word of its own as ``export``/``unset``/``read`` do, or
assigns it in an expansion) inside a compound command (``if``, ``case``, loops, ``{ }``,
``( )``, a function body - run later, if at all) or after ``&&`` / ``||`` (a statement
there that only reads it changes nothing), a value that needs a command substitution,
arithmetic or an unknown variable, any other ``${NAME:=...}``-style expansion, ``eval``,
an assignment in front of a command (``NAME=1 cmd``: dash does not keep it, other shells
do), or a here document before it. Pipelines and ``&`` run in a subshell and change nothing.

The rules were checked against OpenRC 0.45.2's ``openrc-run`` under dash (the table in
``tests/unit/plugins/module_utils/_discovery/test_start_mechanisms_real.py``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

_NAME_RE = re.compile(r'\A[A-Za-z_][A-Za-z0-9_]*\Z')
_ASSIGN_RE = re.compile(r'\A([A-Za-z_][A-Za-z0-9_]*)=')
_NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'
_OPERATORS = ('&&', '||', ';;', '<<', '>>', '<&', '>&', '<>', '>|', ';', '&', '|', '(', ')', '<', '>', '\n')
_OPEN_WORDS = ('if', 'case', 'for', 'while', 'until', '{')
_CLOSE_WORDS = {'fi': 'if', 'esac': 'case', 'done': 'loop', '}': '{'}
# Reserved words after which a new command starts.
_LEAD_WORDS = ('then', 'do', 'else', 'elif', '!', 'if', 'while', 'until', '{')
# Libraries init scripts source; they define functions and never set the tracked names.
SHELL_LIBRARIES = ('/lib/lsb/init-functions', '/etc/rc.d/init.d/functions', '/etc/init.d/functions',
                   '/lib/rc/sh/functions.sh', '/usr/libexec/rc/sh/functions.sh')
MAX_DEPTH = 8


class Word(object):
    """One shell word: ``parts`` is a list of ``('lit', text)``, ``('var', name)`` or
    ``('expand', raw)`` (anything the reader does not evaluate); ``raw`` is the source."""

    def __init__(self):
        self.parts = []
        self.raw = ''
        self.quoted = False

    def add(self, kind, text):
        if kind == 'lit' and self.parts and self.parts[-1][0] == 'lit':
            self.parts[-1] = ('lit', self.parts[-1][1] + text)
        else:
            self.parts.append((kind, text))

    def literal(self):
        """The word's text when it has no expansion, else None."""
        if any(kind != 'lit' for kind, _text in self.parts):
            return None
        return ''.join(text for _kind, text in self.parts)


def _read_backticks(text, i):
    """A `...` command substitution at *i* (to the closing backtick, or the end of the
    text): ``(('expand', its text), index after it)``."""
    j = text.find('`', i + 1)
    j = len(text) if j < 0 else j
    return ('expand', text[i:j + 1]), j + 1


def _read_expansion(text, i):
    """At ``text[i] == '$'``: ``(part, next index)``."""
    n = len(text)
    if i + 1 >= n:
        return ('lit', '$'), i + 1
    c = text[i + 1]
    if c == '{':
        j, depth = i + 2, 1
        while j < n and depth:
            if text[j] == '{':
                depth += 1
            elif text[j] == '}':
                depth -= 1
            elif text[j] == '\\':
                j += 1
            j += 1
        inner = text[i + 2:j - 1]
        if _NAME_RE.match(inner):
            return ('var', inner), j
        return ('expand', text[i:j]), j
    if c == '(':
        j, depth = i + 2, 1
        while j < n and depth:
            if text[j] == '(':
                depth += 1
            elif text[j] == ')':
                depth -= 1
            elif text[j] == '\\':
                j += 1
            j += 1
        return ('expand', text[i:j]), j
    if c in _NAME_CHARS and not c.isdigit():
        j = i + 1
        while j < n and text[j] in _NAME_CHARS:
            j += 1
        return ('var', text[i + 1:j]), j
    if c in '0123456789@*#?$!-':
        return ('expand', text[i:i + 2]), i + 2
    return ('lit', '$'), i + 1


def tokenize(text):
    """``[('word', Word) | ('op', text)]``; a here document stops the reading there
    (``('heredoc', '')``), since its body is no shell syntax."""
    tokens = []
    i, n = 0, len(text)
    word = None

    def finish():
        if word is not None:
            tokens.append(('word', word))
        return None

    while i < n:
        c = text[i]
        if c == '\\' and i + 1 < n and text[i + 1] == '\n':
            i += 2
            continue
        if c in ' \t':
            word = finish()
            i += 1
            continue
        if c == '#' and word is None:
            while i < n and text[i] != '\n':
                i += 1
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            word = finish()
            if op == '<<':
                tokens.append(('heredoc', ''))
                return tokens
            tokens.append(('op', op))
            i += len(op)
            continue
        if word is None:
            word = Word()
        start = i
        if c == "'":
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            word.add('lit', text[i + 1:j])
            word.quoted = True
            i = j + 1
        elif c == '"':
            word.quoted = True
            i += 1
            while i < n and text[i] != '"':
                d = text[i]
                if d == '\\' and i + 1 < n and text[i + 1] in '$`"\\\n':
                    if text[i + 1] != '\n':
                        word.add('lit', text[i + 1])
                    i += 2
                elif d == '$':
                    part, i = _read_expansion(text, i)
                    word.add(*part)
                elif d == '`':
                    part, i = _read_backticks(text, i)
                    word.add(*part)
                else:
                    word.add('lit', d)
                    i += 1
            i += 1
        elif c == '\\':
            word.add('lit', text[i + 1:i + 2])
            i += 2
        elif c == '$':
            part, i = _read_expansion(text, i)
            word.add(*part)
        elif c == '`':
            part, i = _read_backticks(text, i)
            word.add(*part)
        else:
            word.add('lit', c)
            i += 1
        word.raw += text[start:i]
    finish()
    return tokens


class ShellState(object):
    """What the shell holds after the files sourced so far.

    ``values``: ``{name: str}`` of set variables (a value None: set, but to something the
    reader could not evaluate); ``exported``: names with the export flag; ``unknown``:
    tracked names whose value or export flag the reader cannot tell; ``allexport``:
    ``set -a`` on (True), off (False) or unknown (None); ``errors``: why, one line each.
    """

    def __init__(self, tracked, environment=None, unknown=()):
        self.tracked = tuple(tracked)
        self.values = dict(environment or {})
        self.exported = set(self.values)
        self.unknown = set(unknown)
        # unknown names come from an environment the reader cannot see: whether one is
        # exported stays unknown until an "export" or "unset" settles it
        self.maybe_exported = set(unknown)
        self.allexport = False
        self.errors = []
        self.files = []

    def environment(self, names=None):
        """``{name: value or None}`` the started command gets for *names* (default: the
        tracked ones); None for the whole mapping when one of them is unknown."""
        names = self.tracked if names is None else names
        if any(name in self.unknown for name in names):
            return None
        env = {}
        for name in names:
            value = self.values.get(name) if name in self.exported else None
            env[name] = value
        return env

    def value(self, name):
        """A variable's value for expansion: text, '' when unset, None when unknown."""
        if name in self.unknown:
            return None
        if name not in self.values:
            return ''
        return self.values[name]

    def resolve(self, word):
        """The word's value, or None when it needs what the reader does not evaluate."""
        out = []
        for kind, text in word.parts:
            if kind == 'lit':
                out.append(text)
            elif kind == 'var':
                value = self.value(text)
                if value is None:
                    return None
                out.append(value)
            else:
                return None
        return ''.join(out)

    def _unknown(self, names, why):
        names = [name for name in names if name in self.tracked]
        for name in names:
            self.values[name] = None
        if names:
            self.unknown.update(names)
            self.errors.append('%s: %s' % (', '.join(sorted(set(names))), why))

    def assign(self, name, value, export=False, where=''):
        if value is None and name in self.tracked:
            self._unknown([name], 'set to a value that needs running the shell (%s)' % where)
            self.values[name] = None
            return
        self.values[name] = value
        if export or self.allexport is True:
            self.exported.add(name)
            self.maybe_exported.discard(name)
        if name in self.maybe_exported:
            return  # the value is known now, whether the caller exported it is not
        self.unknown.discard(name)
        if export or self.allexport is True:
            return
        if self.allexport is None and name in self.tracked and name not in self.exported:
            self._unknown([name], 'assigned while "set -a" may be on (%s)' % where)

    def unset(self, name):
        self.values.pop(name, None)
        self.exported.discard(name)
        self.unknown.discard(name)
        self.maybe_exported.discard(name)


def _mentions(words, tracked):
    raw = ' '.join(w.raw for w in words)
    return [name for name in tracked if name in raw]


def _may_set(words, tracked):
    """Tracked names a command may set, unset or (un)export: a word that is the name or
    starts with ``NAME=`` (``NAME=1 cmd``, ``export NAME``, ``unset NAME``, ``read NAME``),
    an expansion that assigns it (``${NAME=...}``, ``${NAME:=...}``) or arithmetic that
    names it. A word that only reads it (``$NAME``) sets nothing."""
    names = []
    for name in tracked:
        assigns = re.compile(r'\$\{' + re.escape(name) + r':?=')
        for word in words:
            text = word.parts[0][1] if word.parts and word.parts[0][0] == 'lit' else ''
            if (text == name or text.startswith(name + '=') or assigns.search(word.raw)
                    or ('$((' in word.raw and name in word.raw)):
                names.append(name)
                break
    return names


_DEFAULT_RE = re.compile(r'\A\$\{([A-Za-z_][A-Za-z0-9_]*)(:?)=([^$`"\'\\{}~]*)\}\Z')


def _assign_defaults(words, state, where):
    """``: ${NAME:=word}``: the words are all such expansions of a plain word (then they
    are applied, as the shell does: the value when NAME is unset, or also empty for
    ``:=``; not exported) -> True; anything else -> False."""
    found = []
    for word in words:
        match = _DEFAULT_RE.match(word.parts[0][1]) if len(word.parts) == 1 and word.parts[0][0] == 'expand' else None
        if match is None:
            return False
        found.append(match.groups())
    for name, colon, value in found:
        if name in state.unknown:
            continue  # stays unknown: whether it was set is not known
        current = state.values.get(name)
        if name not in state.values or (colon and current == ''):
            state.assign(name, value, where=where)
    return bool(found)


class _Lists(object):
    """The and-or lists of a token stream, as :func:`_split_commands` returns them."""

    def __init__(self):
        self.lists = []
        self.stack = []
        self.current = []
        self.words = []
        self.connector = None
        self.pipeline = False

    def close_command(self, next_connector):
        if self.words:
            self.current.append((self.connector, self.words, self.pipeline))
        self.words = []
        self.connector = next_connector
        self.pipeline = False

    def close_list(self, background=False):
        self.close_command(None)
        if self.current:
            self.lists.append((len(self.stack), self.current, background))
        self.current = []
        self.connector = None


def _split_commands(tokens):
    """Group tokens into and-or lists: ``[(depth, [(connector, [words], piped), ...],
    background)]``; *depth* > 0 inside compound commands and function bodies. A here
    document ends the reading with ``(depth, 'heredoc', False)``."""
    out = _Lists()
    stack = out.stack
    case_pattern = False
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == 'heredoc':
            out.close_list()
            out.lists.append((len(stack), 'heredoc', False))
            break
        if kind == 'op':
            if stack and stack[-1] == 'case' and case_pattern:
                if value == ')':
                    case_pattern = False
                i += 1
                continue
            if value in ('\n', ';'):
                out.close_list()
            elif value == ';;':
                out.close_list()
                case_pattern = True
            elif value == '&':
                out.close_list(background=True)
            elif value in ('&&', '||'):
                out.close_command(value)
            elif value == '|':
                out.pipeline = True
                out.close_command('|')
            elif value == '(':
                if len(out.words) == 1 and i + 1 < len(tokens) and tokens[i + 1] == ('op', ')'):
                    # name() { ...; }: a function definition, its body runs later
                    out.words = []
                    i += 2
                    stack.append('function')
                    continue
                out.close_list()
                stack.append('(')
            elif value == ')':
                out.close_list()
                if stack and stack[-1] == '(':
                    stack.pop()
                _pop_function(stack)
            elif value in ('<', '>', '>>', '<&', '>&', '<>', '>|'):
                # a redirection: the next word is its target, not part of the command
                i += 2
                continue
            i += 1
            continue
        text = value.literal() if not value.quoted else None
        at_start = not out.words
        if at_start and text in _OPEN_WORDS:
            out.close_list()
            stack.append('loop' if text in ('for', 'while', 'until') else text)
            i += 1
            if text == 'case':
                # case WORD in
                i += 2
                case_pattern = True
            elif text == 'for':
                # for NAME [in WORDS]; do: skip to "do"
                while i < len(tokens) and not (tokens[i][0] == 'word' and tokens[i][1].literal() == 'do'):
                    i += 1
                i += 1
            continue
        if at_start and text in _CLOSE_WORDS:
            out.close_list()
            if stack and stack[-1] == _CLOSE_WORDS[text]:
                stack.pop()
            _pop_function(stack)
            i += 1
            continue
        if at_start and text in _LEAD_WORDS:
            out.close_list()
            i += 1
            continue
        if stack and stack[-1] == 'case' and case_pattern:
            i += 1
            continue
        out.words.append(value)
        i += 1
    out.close_list()
    return out.lists


def _pop_function(stack):
    """A function body is one compound command: once it closed, so did the function."""
    while stack and stack[-1] == 'function':
        stack.pop()


def _source_condition(words, state):
    """``[ -f FILE ]`` / ``test -e FILE``: the FILE it tests, else None."""
    if not words:
        return None
    head = words[0].literal()
    args = [state.resolve(w) for w in words[1:]]
    if head == '[' and args and args[-1] == ']':
        args = args[:-1]
    elif head != 'test':
        return None
    if len(args) == 2 and args[0] in ('-e', '-f', '-r', '-s'):
        return args[1]
    return None


def source_text(text, state, path='', read=None, depth=0):
    """Run the statements of *text* (a sourced file) on *state*, as the shell would.

    *read(path)* returns ``(text, error)`` of another file (``(None, None)`` when missing),
    for ``. FILE``; without it, sourcing another file makes tracked names unknown.
    """
    tracked = state.tracked
    for list_depth, commands, background in _split_commands(tokenize(text)):
        if commands == 'heredoc':
            state.errors.append('%s: a here document; what follows it is not read' % path)
            state._unknown([n for n in tracked if n in text.split('<<', 1)[-1]],
                           'named after a here document in %s' % path)
            return
        nested = list_depth > 0
        for index, (connector, words, in_pipeline) in enumerate(commands):
            piped = in_pipeline or (index + 1 < len(commands) and commands[index + 1][0] == '|')
            if piped or background:
                continue  # a subshell: nothing it does stays
            conditional = nested or index > 0
            if conditional and index == 1 and connector == '&&' and not nested:
                tested = _source_condition(commands[0][1], state)
                head = words[0].literal() if words else None
                if tested and head in ('.', 'source') and len(words) == 2 and state.resolve(words[1]) == tested:
                    _source(tested, state, path, read, depth, must_exist=False)
                    continue
            _command(words, state, path, read, depth, conditional)


def _source(target, state, path, read, depth, must_exist=True):
    if target in SHELL_LIBRARIES:
        return
    if read is None or depth >= MAX_DEPTH or not target.startswith('/'):
        state._unknown(state.tracked, 'sources %s, which is not read (%s)' % (target, path))
        return
    text, err = read(target)
    if err:
        state._unknown(state.tracked, 'sources %s: %s' % (target, err))
        return
    if text is None:
        if must_exist:
            state.errors.append('%s: sources %s, which does not exist (the shell stops there)' % (path, target))
        return
    state.files.append(target)
    source_text(text, state, target, read, depth + 1)


def _command(words, state, path, read, depth, conditional):
    tracked = state.tracked
    where = path or 'a sourced file'
    assignments = []
    rest = list(words)
    while rest:
        literal_head = rest[0].raw
        match = _ASSIGN_RE.match(literal_head)
        if not match:
            break
        assignments.append(rest.pop(0))
    head = rest[0].literal() if rest else None
    if conditional:
        names = _mentions(words, tracked) if head is None else _may_set(words, tracked)
        sets_allexport = head == 'set' and any(
            (w.raw.startswith(('-', '+')) and 'a' in w.raw) or w.raw == 'allexport' for w in rest[1:])
        if head in ('.', 'source', 'eval') or sets_allexport:
            names = list(tracked)
        if sets_allexport:
            state.allexport = None
        state._unknown(names, 'set only under a condition, in a compound command or in a function (%s)' % where)
        return
    if rest and assignments:
        # NAME=value cmd: dash keeps none of it for the shell, other shells keep it for
        # special built-ins; only the command itself gets it.
        state._unknown(_mentions(assignments, tracked), 'assigned in front of a command (%s)' % where)
        assignments = []
    for word in assignments:
        name = _ASSIGN_RE.match(word.raw).group(1)
        state.assign(name, _assignment_value(word, name, state), where=where)
    if not rest:
        return
    if head is None:
        state._unknown(_mentions(rest, tracked), 'a command whose name needs expanding (%s)' % where)
        return
    args = rest[1:]
    if head in ('export', 'readonly'):
        for word in args:
            # the name may be quoted here ("NAME=value" is one argument of export)
            text = word.parts[0][1] if word.parts and word.parts[0][0] == 'lit' else word.raw
            if text.startswith('-'):
                continue
            match = _ASSIGN_RE.match(text)
            if match:
                name = match.group(1)
                state.assign(name, _assignment_value(word, name, state), export=(head == 'export'), where=where)
            elif _NAME_RE.match(text) and len(word.parts) == 1 and head == 'export':
                state.exported.add(text)
                if text in state.maybe_exported:
                    state.maybe_exported.discard(text)
                    if state.values.get(text) is not None:
                        state.unknown.discard(text)  # set here, exported here: known
            else:
                state._unknown(_mentions([word], tracked), '%s %s (%s)' % (head, text, where))
    elif head == 'unset':
        functions = False
        for word in args:
            text = word.literal()
            if text in ('-f', '-v'):
                functions = text == '-f'
            elif text is not None and _NAME_RE.match(text):
                if not functions:
                    state.unset(text)
            else:
                state._unknown(_mentions([word], tracked), 'unset %s (%s)' % (word.raw, where))
    elif head == 'set':
        _set_options(args, state)
    elif head in ('.', 'source'):
        target = state.resolve(args[0]) if args else None
        if target is None:
            state._unknown(tracked, 'sources a file whose name needs expanding (%s)' % where)
        else:
            _source(target, state, path, read, depth)
    elif head == 'eval':
        state._unknown(tracked if any(w.literal() is None for w in args) else _mentions(args, tracked),
                       'eval (%s)' % where)
    elif head == ':' and _assign_defaults(args, state, where):
        return
    else:
        # any other command: it cannot set the shell's variables, but an expansion in
        # its words can (${NAME:=value}); name one and it is unknown
        for word in rest:
            for kind, text in word.parts:
                if kind == 'expand' and '=' in text:
                    state._unknown([n for n in tracked if n in text], 'assigned by an expansion (%s)' % where)


def _assignment_value(word, name, state):
    """The value of ``NAME=...`` (the word after the first ``=``), or None."""
    prefix = name + '='
    value_word = Word()
    consumed = 0
    for kind, text in word.parts:
        if consumed < len(prefix):
            if kind != 'lit':
                return None
            take = min(len(prefix) - consumed, len(text))
            consumed += take
            text = text[take:]
            if not text:
                continue
        value_word.add(kind, text)
    return state.resolve(value_word)


def _set_options(args, state):
    i = 0
    while i < len(args):
        text = args[i].literal() or ''
        if text == '--' or not text.startswith(('-', '+')) or text in ('-', '+'):
            return
        on = text.startswith('-')
        if text[1:] == 'o' and i + 1 < len(args):
            if args[i + 1].literal() == 'allexport':
                state.allexport = on
            i += 2
            continue
        if 'a' in text[1:]:
            state.allexport = on
        i += 1


def parse_config_lines(text):
    """``{KEY: value}`` of a ``KEY=value`` file as OpenRC's ``rc_config_load()`` reads
    ``/etc/profile.env``: ``#`` comment lines skipped, a leading ``export`` dropped, one
    pair of surrounding quotes removed, the last assignment winning."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('export '):
            line = line[len('export '):].lstrip()
        name, sep, value = line.partition('=')
        if not sep or not _NAME_RE.match(name):
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in '\'"':
            value = value[1:-1]
        values[name] = value
    return values
