# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parse os-release and lsb-release text the way Netdata's system-info.sh sees it.

system-info.sh does ``eval "$(grep -E '^(NAME|ID|ID_LIKE|VERSION|VERSION_ID)=' < FILE | sed 's/^/PREFIX_/')"``
(and the same with ``DISTRIB_ID|DISTRIB_RELEASE|DISTRIB_CODENAME`` for lsb-release).
So only lines that *start* with a wanted key and ``=`` are kept, and the kept lines are
then read by a POSIX shell (dash on Debian). These functions reproduce what that
shell ends up assigning, without running anything:

- ``KEY="..."``: double quotes; a backslash escapes only ``$ ` " \\`` and newline.
- ``KEY='...'``: single quotes, no escapes.
- ``KEY=value``: unquoted; a backslash escapes the next character; a ``#`` that starts
  a word begins a comment; trailing blanks are dropped; ``;`` separates commands.
- A key given twice: the last one wins (the shell assigns in order).
- A missing key is simply absent from the result (the script keeps ``unknown``).
- ``KEY=two words``: the shell would run the command ``words`` with ``KEY`` set only for
  it, so nothing is assigned. Same for a line with a pipe, ``&``, a redirection or
  parentheses: the script would run something; we never run anything and ignore the line.
- ``$NAME`` / ``${NAME}`` inside double quotes or unquoted: eval would expand it from the
  script's own variables, which in practice are unset, so we expand every parameter
  to the empty string (``${NAME:-word}`` / ``${NAME=word}`` give ``word``, ``${NAME+w}``
  gives nothing, ``${#NAME}`` gives ``0``). A ``$`` not followed by a name stays ``$``.
- Command substitution (``$(...)`` or backquotes) would execute code: that line is
  ignored.
- An unterminated quote is a syntax error: dash has already made the assignments of the
  commands before it, then the script *exits without printing anything*. We keep the
  assignments made before the error and ignore the rest (documented deviation: a
  collector must return data).
- Text containing a NUL byte is what GNU grep calls a binary file: it prints no line
  (only "binary file matches" on stderr), so nothing is assigned and we return ``{}``.

All functions take text (``str``; ``bytes`` are decoded as UTF-8 with replacement)
and never raise.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

OS_RELEASE_KEYS = ("NAME", "ID", "ID_LIKE", "VERSION", "VERSION_ID")
LSB_RELEASE_KEYS = ("DISTRIB_ID", "DISTRIB_RELEASE", "DISTRIB_CODENAME")

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NAME_PREFIX_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = "|&<>()"


class _SyntaxError(Exception):
    """The shell could not parse the rest of the text."""


def _to_text(text):
    if text is None:
        return u""
    if isinstance(text, bytes):
        return text.decode("utf-8", "replace")
    return text


def grep_assignment_lines(text, keys):
    """The lines ``grep -E '^(K1|K2|...)='`` keeps, joined by newlines."""
    text = _to_text(text)
    if u"\x00" in text:
        return u""
    pattern = re.compile(u"^(?:%s)=" % u"|".join(re.escape(k) for k in keys))
    # grep splits on \n only; a trailing \r stays part of the line (and of the value).
    return u"\n".join(line for line in text.split(u"\n") if pattern.match(line))


def _expand_braced(body):
    """What dash gives for ``${body}`` when every variable is unset."""
    if body.startswith(u"#") and _NAME_RE.match(body[1:]):
        return u"0"
    m = _NAME_PREFIX_RE.match(body)
    if not m:
        return u""
    rest = body[m.end():]
    for op in (u":-", u":=", u"-", u"="):
        if rest.startswith(op):
            return rest[len(op):]
    return u""


def _expand_dollar(text, i):
    """Expand the ``$`` at ``text[i]``. Returns (value, next_index)."""
    n = len(text)
    if i + 1 >= n:
        return u"$", i + 1
    c = text[i + 1]
    if c == u"(":
        raise _CommandSubstitution()
    if c == u"{":
        j = text.find(u"}", i + 2)
        if j < 0:
            raise _SyntaxError("missing }")
        return _expand_braced(text[i + 2:j]), j + 1
    m = _NAME_PREFIX_RE.match(text, i + 1)
    if m:
        return u"", m.end()
    if c.isdigit() or c in u"@*#?$!-":
        return u"", i + 2
    return u"$", i + 1


class _CommandSubstitution(Exception):
    """The word would run a command: the current command is not an assignment."""


class _Word(object):
    def __init__(self):
        self.chars = []
        self.eq_index = None  # index of the first '=' when everything before it is a bare name
        self.tainted = False  # something quoted/escaped/expanded came before any '='

    def literal(self, s):
        for ch in s:
            if ch == u"=" and self.eq_index is None and not self.tainted:
                self.eq_index = len(self.chars)
            self.chars.append(ch)

    def special(self, s):
        if self.eq_index is None:
            self.tainted = True
        self.chars.extend(s)

    def assignment(self):
        if self.eq_index is None:
            return None
        name = u"".join(self.chars[:self.eq_index])
        if not _NAME_RE.match(name):
            return None
        return name, u"".join(self.chars[self.eq_index + 1:])


def _run_commands(text):
    """Yield one list of (name, value) per simple command made only of assignments.

    Commands that would run something are skipped. Stops at a syntax error.
    """
    i = 0
    n = len(text)
    words = []
    word = None
    skip = False  # the command runs something (pipe, redirection, substitution...)

    def end_word():
        if word is not None:
            words.append(word)
        return None

    while True:
        if i >= n:
            word = end_word()
            c = u"\n"
        else:
            c = text[i]
        if c in u"\n;":
            word = end_word()
            if words and not skip:
                pairs = [w.assignment() for w in words]
                if all(p is not None for p in pairs):
                    yield pairs
            words = []
            skip = False
            if i >= n:
                return
            i += 1
            continue
        if c in u" \t":
            word = end_word()
            i += 1
            continue
        if c == u"#" and word is None:
            while i < n and text[i] != u"\n":
                i += 1
            continue
        if c in _OPERATORS:
            word = end_word()
            skip = True
            i += 1
            continue
        if word is None:
            word = _Word()
        try:
            if c == u"\\":
                if i + 1 >= n:
                    word.literal(u"\\")
                    i += 1
                elif text[i + 1] == u"\n":
                    i += 2
                else:
                    word.special(text[i + 1])
                    i += 2
            elif c == u"'":
                j = text.find(u"'", i + 1)
                if j < 0:
                    raise _SyntaxError("unterminated single quote")
                word.special(text[i + 1:j])
                i = j + 1
            elif c == u'"':
                i = _double_quoted(text, i + 1, word)
            elif c == u"$":
                value, i = _expand_dollar(text, i)
                if value == u"$":
                    word.literal(value)
                else:
                    word.special(value)
            elif c == u"`":
                raise _CommandSubstitution()
            else:
                word.literal(c)
                i += 1
        except _CommandSubstitution:
            # Skip to the end of the line; the whole command is ignored.
            skip = True
            while i < n and text[i] != u"\n":
                i += 1
        except _SyntaxError:
            return


def _double_quoted(text, i, word):
    """Read a double-quoted string starting after the quote; returns the next index."""
    n = len(text)
    out = []
    while i < n:
        c = text[i]
        if c == u'"':
            word.special(u"".join(out))
            return i + 1
        if c == u"\\" and i + 1 < n and text[i + 1] in u'$`"\\\n':
            if text[i + 1] != u"\n":
                out.append(text[i + 1])
            i += 2
            continue
        if c == u"$":
            value, i = _expand_dollar(text, i)
            out.append(value)
            continue
        if c == u"`":
            raise _CommandSubstitution()
        out.append(c)
        i += 1
    raise _SyntaxError("unterminated double quote")


def parse_shell_assignments(text, keys):
    """What ``eval "$(grep -E '^(KEYS)=' < file)"`` assigns, as a dict (only ``keys``).

    ``text`` is the whole file. Never raises.
    """
    result = {}
    try:
        for pairs in _run_commands(grep_assignment_lines(text, keys)):
            for name, value in pairs:
                if name in keys:
                    result[name] = value
    except Exception:  # pragma: no cover - defensive: a parser must never break facts
        pass
    return result


def parse_os_release(text):
    """NAME, ID, ID_LIKE, VERSION and VERSION_ID as system-info.sh reads them from os-release."""
    return parse_shell_assignments(text, OS_RELEASE_KEYS)


def parse_lsb_release(text):
    """DISTRIB_ID, DISTRIB_RELEASE and DISTRIB_CODENAME as system-info.sh reads them."""
    return parse_shell_assignments(text, LSB_RELEASE_KEYS)
