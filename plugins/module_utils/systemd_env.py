# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netdata_fleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
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

Not modelled (invisible in files, or too rare to matter here): ``systemctl
set-environment`` (lives in PID 1's memory), specifiers other than ``%%``, unit
aliases' own drop-in dirs, dashed-prefix drop-ins (``netdata-.service.d``),
generators.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re
import stat
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils.host_files import host_path as _host, read_host_text

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

MAX_FILE_BYTES = 1024 * 1024
_ENV_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_WHITESPACE = ' \t\n\r'
_SIMPLE_ESCAPES = {
    'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
    '\\': '\\', '"': '"', "'": "'", 's': ' ',
}


# ---------------------------------------------------------------- parsers (pure)

def parse_unit_text(text):
    """Unit/INI text -> list of ``(section, key, value)`` in file order.

    systemd's ``config_parse()`` rules: ``#``/``;`` comment lines (also inside a
    continuation), a line ending in an unescaped backslash continues on the next
    one (the backslash becomes a space), keys and values are trimmed, no inline
    comments, section and key names are case-sensitive.
    """
    entries = []
    section = None
    continuation = None
    for raw in (text or '').splitlines():
        stripped = raw.strip(_WHITESPACE)
        if stripped[:1] in ('#', ';'):
            continue
        if continuation is not None:
            line = continuation + raw.lstrip(_WHITESPACE)
        else:
            line = raw
            if not stripped:
                continue
        if _ends_with_unescaped_backslash(line):
            continuation = line[:-1] + ' '
            continue
        continuation = None
        line = line.strip(_WHITESPACE)
        if not line:
            continue
        if line.startswith('[') and line.endswith(']'):
            section = line[1:-1]
            continue
        if '=' not in line:
            continue
        key, value = line.split('=', 1)
        entries.append((section, key.strip(_WHITESPACE), value.strip(_WHITESPACE)))
    if continuation is not None:
        line = continuation.strip(_WHITESPACE)
        if '=' in line and not (line.startswith('[') and line.endswith(']')):
            key, value = line.split('=', 1)
            entries.append((section, key.strip(_WHITESPACE), value.strip(_WHITESPACE)))
    return entries


def _ends_with_unescaped_backslash(line):
    count = len(line) - len(line.rstrip('\\'))
    return count % 2 == 1


def split_systemd_words(value):
    """systemd ``extract_first_word(EXTRACT_CUNESCAPE|EXTRACT_UNQUOTE)`` over a whole value.

    Returns ``(words, error)``; on a syntax error (unterminated quote, bad escape)
    the words before it are returned with the error, as systemd keeps what it had
    already applied and ignores the rest of the line.
    """
    words = []
    i = 0
    n = len(value)
    while True:
        while i < n and value[i] in _WHITESPACE:
            i += 1
        if i >= n:
            return words, None
        word = []
        quote = None
        while i < n:
            c = value[i]
            if quote is None and c in _WHITESPACE:
                break
            if quote is None and c in ('"', "'"):
                quote = c
                i += 1
                continue
            if quote is not None and c == quote:
                quote = None
                i += 1
                continue
            if c == '\\':
                decoded, used = _cunescape_one(value, i + 1)
                if decoded is None:
                    return words, 'invalid escape in %r' % value
                word.append(decoded)
                i += 1 + used
                continue
            word.append(c)
            i += 1
        if quote is not None:
            return words, 'unterminated quote in %r' % value
        words.append(''.join(word))


def _cunescape_one(text, i):
    """Decode one C escape starting at text[i] (after the backslash): (char, consumed)."""
    if i >= len(text):
        return None, 0
    c = text[i]
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c], 1
    try:
        if c == 'x' and len(text[i + 1:i + 3]) == 2:
            return chr(int(text[i + 1:i + 3], 16)), 3
        if c == 'u' and len(text[i + 1:i + 5]) == 4:
            return chr(int(text[i + 1:i + 5], 16)), 5
        if c == 'U' and len(text[i + 1:i + 9]) == 8:
            return chr(int(text[i + 1:i + 9], 16)), 9
        if c in '01234567' and len(text[i:i + 3]) == 3:
            return chr(int(text[i:i + 3], 8)), 3
    except (ValueError, OverflowError):
        return None, 0
    return None, 0


def parse_environment_assignments(value):
    """One ``Environment=`` value -> ``(assignments, errors)``.

    *assignments* is None for an empty value (systemd: reset the list), else a list
    of ``(name, value)``. Invalid names are skipped with an error, as systemd does.
    """
    if value.strip(_WHITESPACE) == '':
        return None, []
    value = value.replace('%%', '\0')
    words, error = split_systemd_words(value)
    errors = [error] if error else []
    assignments = []
    for word in words:
        word = word.replace('\0', '%')
        if '=' not in word:
            errors.append('ignoring %r: not a NAME=VALUE assignment' % word)
            continue
        name, val = word.split('=', 1)
        if not _ENV_NAME_RE.match(name):
            errors.append('ignoring %r: invalid variable name' % word)
            continue
        assignments.append((name, val))
    return assignments, errors


def parse_environment_file(text):
    """An ``EnvironmentFile=`` file -> ``(list of (name, value), errors)``.

    A port of systemd's ``parse_env_file`` state machine (see ``systemd.exec(5)``):
    ``#``/``;`` comments, unquoted values with backslash escapes and trimmed
    whitespace, ``'...'`` verbatim, ``"..."`` with shell escapes, backslash-newline
    continuations, lines without ``=`` ignored, invalid names (``export X``) ignored.
    """
    pairs = []
    errors = []
    state = 'PRE_KEY'
    key = []
    val = []
    last_value_ws = None
    last_key_ws = None
    text = text or ''

    def finish():
        name = ''.join(key)
        if last_key_ws is not None:
            name = name[:last_key_ws]
        name = name.strip()
        if _ENV_NAME_RE.match(name):
            pairs.append((name, ''.join(val)))
        elif name:
            errors.append('ignoring invalid variable name %r' % name)

    for c in text + '\n':
        if state == 'PRE_KEY':
            if c in ' \t\r\n':
                continue
            if c in '#;':
                state = 'COMMENT'
                continue
            state = 'KEY'
            key, val, last_key_ws = [c], [], None
        elif state == 'KEY':
            if c == '\n':
                state = 'PRE_KEY'  # no "=": ignored
            elif c == '=':
                state = 'PRE_VALUE'
                last_value_ws = None
            else:
                if c in ' \t\r':
                    if last_key_ws is None:
                        last_key_ws = len(key)
                else:
                    last_key_ws = None
                key.append(c)
        elif state == 'PRE_VALUE':
            if c == '\n':
                finish()
                state = 'PRE_KEY'
            elif c in ' \t\r':
                continue
            elif c == "'":
                state = 'SQ'
            elif c == '"':
                state = 'DQ'
            elif c == '\\':
                state = 'VALUE_ESCAPE'
            else:
                val.append(c)
                state = 'VALUE'
        elif state == 'VALUE':
            if c == '\n':
                if last_value_ws is not None:
                    del val[last_value_ws:]
                finish()
                state = 'PRE_KEY'
            elif c == '\\':
                state = 'VALUE_ESCAPE'
                last_value_ws = None
            else:
                if c in ' \t\r':
                    if last_value_ws is None:
                        last_value_ws = len(val)
                else:
                    last_value_ws = None
                val.append(c)
        elif state == 'VALUE_ESCAPE':
            state = 'VALUE'
            if c != '\n':
                val.append(c)
        elif state == 'SQ':
            if c == "'":
                state = 'PRE_VALUE'
            else:
                val.append(c)
        elif state == 'DQ':
            if c == '"':
                state = 'PRE_VALUE'
            elif c == '\\':
                state = 'DQ_ESCAPE'
            else:
                val.append(c)
        elif state == 'DQ_ESCAPE':
            state = 'DQ'
            if c in '"\\`$':
                val.append(c)
            elif c != '\n':
                val.append('\\')
                val.append(c)
        elif state == 'COMMENT':
            if c == '\\':
                state = 'COMMENT_ESCAPE'
            elif c == '\n':
                state = 'PRE_KEY'
        elif state == 'COMMENT_ESCAPE':
            state = 'COMMENT'
    if state in ('SQ', 'DQ', 'DQ_ESCAPE'):
        errors.append('unterminated quoted value for %r' % ''.join(key).strip())
        finish()
    return pairs, errors


def apply_service_entries(entries, base=None):
    """Fold ``[Service]`` entries (from unit then drop-ins, in order) into a plan.

    Returns ``(environment_pairs_or_None, environment_file_specs, unset, passenv,
    exec_start, errors)`` where resets have already been applied.
    """
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
            assignments, errs = parse_environment_assignments(value)
            errors.extend(errs)
            if assignments is None:
                env = []
            else:
                env.extend(assignments)
        elif key == 'EnvironmentFile':
            if not value:
                files = []
            else:
                files.append(value)
        elif key == 'UnsetEnvironment':
            words, err = split_systemd_words(value)
            if err:
                errors.append(err)
            if not value:
                unset = []
            else:
                unset.extend(words)
        elif key == 'PassEnvironment':
            words, err = split_systemd_words(value)
            if err:
                errors.append(err)
            if not value:
                passenv = []
            else:
                passenv.extend(words)
        elif key == 'ExecStart':
            # An empty ExecStart= resets; the last non-empty one is what starts.
            exec_start = value or None
    return env, files, unset, passenv, exec_start, errors


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
    errors = result['errors']
    try:
        manager_env = _manager_environment(root, result)
        unit_dirs = _existing_dirs(root, UNIT_DIRS)
        unit_path = None
        for directory in unit_dirs:
            candidate = directory + '/' + unit_name
            if os.path.lexists(_host(root, candidate)):
                unit_path = candidate
                break
        if unit_path is None:
            return result
        result['unit'] = unit_path
        if _is_masked(root, unit_path):
            result['masked'] = True
            return result
        text, err = read_text(root, unit_path)
        if err:
            errors.append(err)
            return result
        entries = parse_unit_text(text)
        dropin_names = {}
        for subdir in (unit_name + '.d', unit_name.rsplit('.', 1)[-1] + '.d'):
            for directory in unit_dirs:
                dpath = directory + '/' + subdir
                try:
                    names = sorted(os.listdir(_host(root, dpath)))
                except OSError:
                    continue
                for name in names:
                    if name.endswith('.conf') and name not in dropin_names:
                        dropin_names[name] = dpath + '/' + name
        excluded = set(exclude_dropins or ())
        for name in sorted(dropin_names):
            path = dropin_names[name]
            if path in excluded or _is_masked(root, path):
                continue
            text, err = read_text(root, path)
            if err:
                errors.append(err)
                continue
            result['dropins'].append(path)
            entries.extend(parse_unit_text(text))
        env_pairs, file_specs, unset, passenv, exec_start, errs = apply_service_entries(entries)
        errors.extend(errs)
        result['exec_start'] = exec_start
        environment = dict(manager_env)
        for name in passenv:
            if name in manager_env:
                environment[name] = manager_env[name]
        for name, value in env_pairs:
            environment[name] = value
        for spec in file_specs:
            for name, value in _read_environment_file_spec(root, spec, result):
                environment[name] = value
        for item in unset:
            if '=' in item:
                name, value = item.split('=', 1)
                if environment.get(name) == value:
                    del environment[name]
            else:
                environment.pop(item, None)
        result['environment'] = environment
    except Exception as exc:  # a collector never raises
        errors.append('systemd environment of %s: unexpected %s: %s' % (unit_name, type(exc).__name__, exc))
    return result


def _read_environment_file_spec(root, spec, result):
    optional = spec.startswith('-')
    path = spec[1:] if optional else spec
    if not path.startswith('/'):
        result['errors'].append('EnvironmentFile=%s: not an absolute path, systemd ignores it' % spec)
        return []
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
        text, err = read_text(root, one)
        if err:
            if optional and not os.path.lexists(_host(root, one)):
                continue
            result['errors'].append('EnvironmentFile=%s: %s' % (one, err))
            continue
        result['environment_files'].append(one)
        more, errs = parse_environment_file(text)
        result['errors'].extend('%s: %s' % (one, e) for e in errs)
        pairs.extend(more)
    return pairs


def _manager_environment(root, result):
    files = []
    if os.path.lexists(_host(root, MANAGER_CONF)):
        files.append(MANAGER_CONF)
    names = {}
    for directory in _existing_dirs(root, MANAGER_DROPIN_DIRS):
        try:
            listing = sorted(os.listdir(_host(root, directory)))
        except OSError:
            continue
        for name in listing:
            if name.endswith('.conf') and name not in names:
                names[name] = directory + '/' + name
    files.extend(names[name] for name in sorted(names))
    environment = {}
    for path in files:
        if _is_masked(root, path):
            continue
        text, err = read_text(root, path)
        if err:
            result['errors'].append(err)
            continue
        touched = False
        for section, key, value in parse_unit_text(text):
            if section != 'Manager' or key != 'DefaultEnvironment':
                continue
            touched = True
            assignments, errs = parse_environment_assignments(value)
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


def read_text(root, path, max_bytes=MAX_FILE_BYTES):
    """``(text, None)`` or ``(None, error)``; refuses FIFOs, dirs and devices (no blocking)."""
    text, err = read_host_text(root, path, max_bytes, allow_binary=True)
    if text is None and err is None:
        err = '%s: cannot read: No such file or directory' % path
    return text, err
