# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The user OpenRC starts a service's command as, and the arguments it gives it.

``openrc-run``'s default ``start()`` (``sh/openrc-run.sh.in``, OpenRC 0.45.2) hands the
command to ``start-stop-daemon`` (``sh/start-stop-daemon.sh``), or to ``supervise-daemon``
(``sh/supervise-daemon.sh``) when ``supervisor=supervise-daemon``, through ``eval``:

- arguments: ``$command_args $command_args_background`` (start-stop-daemon) or
  ``$command_args $command_args_foreground`` (supervise-daemon);
- user: ``command_user`` (``user[:group]``, as ``--user``; Debian's OpenRC passes it as
  ``--chuid``), then the options of ``start_stop_daemon_args`` (supervise-daemon:
  ``supervise_daemon_args``, else ``start_stop_daemon_args``); the last user option wins.
  OpenRC's own start-stop-daemon and supervise-daemon change to the user of ``-u`` /
  ``--user`` (start-stop-daemon also of its deprecated ``-c`` / ``--chuid``). dpkg's
  start-stop-daemon, which Debian's OpenRC runs, changes user only with ``-c`` /
  ``--chuid``: its ``-u`` / ``--user`` only selects processes, and a ``user:group`` there
  names no user, so the start fails. Without a user option the command starts as root,
  as ``rc-service`` runs.

Netdata's own scripts: ``system/openrc/init.d/netdata.in`` (v2.10.4) gives no user and no
``-c`` (``command_args="-P <pidfile> ${NETDATA_EXTRA_ARGS}"``): the agent starts as root
and switches to its ``[global] run as user``. ``system/netdata-openrc.in`` (v1.37.1) has
``start_stop_daemon_args="-u ${NETDATA_OWNER}"`` (``netdata:netdata`` unless
``/etc/conf.d/netdata`` says otherwise): the agent starts as that user under OpenRC's own
start-stop-daemon and supervise-daemon, and not at all under dpkg's. All of it measured
with OpenRC 0.45.2 (``test_openrc_launch_real.py``).

The variables are read with the same ``sh`` reader as the environment
(``shell_env.py``), over the same files; whatever it cannot tell, or a script with its
own ``start()``, or a ``supervisor`` other than these two, makes the answer unknown.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import shlex

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.shell_env import (
    ShellState, source_text)

# What openrc-run's start-stop-daemon.sh / supervise-daemon.sh read to start the command.
LAUNCH_VARS = ('supervisor', 'command_user', 'start_stop_daemon_args', 'supervise_daemon_args',
               'command_args', 'command_args_foreground', 'command_args_background')
# Where openrc-run looks for start-stop-daemon (RC_PATH_PREFIX after its own bin dir,
# src/shared/misc.h) and keeps its shell functions (RC_LIBEXECDIR).
SSD_PATHS = ('/bin/start-stop-daemon', '/sbin/start-stop-daemon', '/usr/bin/start-stop-daemon',
             '/usr/sbin/start-stop-daemon')
RC_SH_DIRS = ('/lib/rc/sh', '/usr/libexec/rc/sh')
SSD_MAX_BYTES = 4 * 1024 * 1024
# Names openrc-run sets or keeps from its caller before anything is sourced (env_filter
# and env_config in src/shared/misc.c, openrc-run.sh's own): never "unset" here.
_INHERITED_RE = re.compile(r'\A(RC_|EINFO_|EERROR_|IN_|LC_|_)|\A(SVCNAME|PATH|LANG|TERM|HOME|PWD|IFS|PPID|OPTIND)\Z')
_REFERENCED_RE = re.compile(r'\$\{?([A-Za-z_][A-Za-z0-9_]*)')
_START_FUNCTION_RE = re.compile(r'(?m)^[ \t]*start[ \t]*\([ \t]*\)')
# What eval would expand or treat as syntax in an arguments value: not read.
_EVAL_SPECIAL_RE = re.compile(r'[$`;|&<>()*?\[~\n]')
_SSD_USER_FLAG_RE = re.compile(r'\$\{command_user\+(--user|--chuid)\}')


def launch_result(user=None, user_why=None, args=None, args_why=None):
    """``{'user', 'user_why', 'args', 'args_why'}``: the start user (None: unknown, with
    why) and the command's arguments (a list; None: unknown, with why)."""
    return {'user': user, 'user_why': user_why, 'args': args, 'args_why': args_why}


def openrc_launch(root, read, files, sourced, allow, profile):
    """How ``rc-service <service> start`` would start the command. Never raises.

    *read(path)*: ``(text, error)``; *files*: the files openrc-run sources, in order (the
    ``rc.conf`` files, the ``conf.d`` file, the script); *sourced*: every file the
    environment reader read (for the names they use); *allow*: ``rc_env_allow``'s
    names (``*``: all); *profile*: ``/etc/profile.env``'s values.
    """
    try:
        return _openrc_launch(root, read, files, sourced, allow, profile)
    except Exception as exc:  # a collector never raises
        why = 'unexpected %s: %s' % (type(exc).__name__, exc)
        return launch_result(None, why, None, why)


def _openrc_launch(root, read, files, sourced, allow, profile):
    texts = []
    for path in sourced:
        text, _err = read(path)
        texts.append(text or '')
    joined = '\n'.join(texts)
    if _START_FUNCTION_RE.search(joined):
        why = 'the init script has its own start(), which is not read'
        return launch_result(None, why, None, why)
    names = set(LAUNCH_VARS) | set(_REFERENCED_RE.findall(joined))
    unknown = [name for name in names if _INHERITED_RE.match(name) or '*' in allow or name in allow]
    environment = dict((name, value) for name, value in profile.items() if name not in unknown)
    state = ShellState(sorted(names), environment=environment, unknown=unknown)
    for path in files:
        text, err = read(path)
        if err:
            state._unknown(state.tracked, 'cannot read %s: %s' % (path, err))
        elif text is not None:
            source_text(text, state, path, read)

    def value(name):
        """``(known, value or None when unset)``."""
        if name in state.unknown or (name in state.values and state.values[name] is None):
            return False, None
        return True, state.values.get(name)

    def unknown_why(name):
        return next((e for e in state.errors if e.split(':', 1)[0].split(', ').count(name)),
                    '%s is not known' % name)

    known, supervisor = value('supervisor')
    if not known:
        why = unknown_why('supervisor')
        return launch_result(None, why, None, why)
    if supervisor in ('runit', 's6'):
        why = 'supervisor=%s starts it, which is not read' % supervisor
        return launch_result(None, why, None, why)
    # any other value: openrc-run warns and uses start-stop-daemon
    supervised = supervisor == 'supervise-daemon'
    args, args_why = _arguments(value, unknown_why, supervised)
    user, user_why = _start_user(root, read, value, unknown_why, supervised)
    return launch_result(user, user_why, args, args_why)


def split_eval(text):
    """The words ``eval`` makes of a plain value (quotes and backslashes as ``sh`` reads
    them), or None when it would expand or run something."""
    if _EVAL_SPECIAL_RE.search(text):
        return None
    try:
        return shlex.split(text, posix=True)
    except ValueError:
        return None


def _arguments(value, unknown_why, supervised):
    args = []
    for name in ('command_args', 'command_args_foreground' if supervised else 'command_args_background'):
        known, text = value(name)
        if not known:
            return None, unknown_why(name)
        words = split_eval(text or '')
        if words is None:
            return None, '%s="%s" needs the shell to expand it' % (name, text)
        args.extend(words)
    return args, None


def user_options(words, supervised):
    """``[('u' | 'c', user[:group])]``: the user options among *words*, in order; None
    when they cannot be told (a cluster that may hide one, no value, an abbreviation)
    or the program lacks the option (supervise-daemon has no ``-c``: it fails)."""
    found = []
    i = 0
    while i < len(words):
        word = words[i]
        kind = value = None
        if word == '--':
            break
        if word.startswith('--'):
            name, eq, glued = word[2:].partition('=')
            if name in ('user', 'chuid'):
                kind = name[0]
                value = glued if eq else (words[i + 1] if i + 1 < len(words) else None)
                i += 0 if eq else 1
            elif name and ('user'.startswith(name) or 'chuid'.startswith(name)):
                return None  # getopt_long takes an unambiguous abbreviation
        elif word.startswith('-') and len(word) > 1:
            if word[1] in 'uc':
                kind = word[1]
                value = word[2:] if len(word) > 2 else (words[i + 1] if i + 1 < len(words) else None)
                i += 0 if len(word) > 2 else 1
            elif 'u' in word[2:] or 'c' in word[2:]:
                return None  # "-bu name", or a value glued to another option
        if kind is not None:
            if not value or (kind == 'c' and supervised):
                return None
            found.append((kind, value))
        i += 1
    return found


def ssd_flavour(root):
    """Which start-stop-daemon openrc-run finds: ``openrc`` (OpenRC's own, linked with
    its libeinfo), ``dpkg`` (its version line says ``for Debian``) or None (unknown)."""
    for path in SSD_PATHS:
        try:
            with open(host_path(root, path), 'rb') as handle:
                data = handle.read(SSD_MAX_BYTES)
        except (IOError, OSError):
            continue
        if b'libeinfo.so' in data:
            return 'openrc'
        if b' for Debian' in data:
            return 'dpkg'
        return None
    return None


def command_user_flag(read):
    """How the host's ``start-stop-daemon.sh`` passes ``command_user``: ``u`` (``--user``,
    upstream), ``c`` (``--chuid``, Debian's) or None (not found)."""
    for directory in RC_SH_DIRS:
        text, _err = read(directory + '/start-stop-daemon.sh')
        match = _SSD_USER_FLAG_RE.search(text or '')
        if match:
            return 'u' if match.group(1) == '--user' else 'c'
    return None


def _start_user(root, read, value, unknown_why, supervised):
    known, command_user = value('command_user')
    if not known:
        return None, unknown_why('command_user')
    if command_user == '':
        return None, 'command_user is set but empty (openrc-run would pass the next word as the user)'
    # supervise_daemon_args, else start_stop_daemon_args: OpenRC 0.45.2 falls back when
    # it is empty (":-"), later releases only when it is unset ("-")
    sources = [('start_stop_daemon_args',)]
    if supervised:
        known, own = value('supervise_daemon_args')
        if not known:
            return None, unknown_why('supervise_daemon_args')
        sources = [('supervise_daemon_args',)] if own else (
            [('start_stop_daemon_args',)] if own is None else [('start_stop_daemon_args',), ()])
    outcomes = set()
    for names in sources:
        options = [('cu', command_user)] if command_user is not None else []
        for name in names:
            known, text = value(name)
            if not known:
                return None, unknown_why(name)
            words = split_eval(text or '')
            found = None if words is None else user_options(words, supervised)
            if found is None:
                return None, 'the user options of %s="%s" cannot be told' % (name, text)
            options.extend(found)
        if supervised:
            outcomes.add(_last_user(options, 'openrc', 'u'))
            continue
        flavours = [ssd_flavour(root)]
        flags = [command_user_flag(read)]
        for flavour in (flavours if flavours[0] else ['openrc', 'dpkg']):
            for flag in (flags if flags[0] else ['u', 'c']):
                outcomes.add(_last_user(options, flavour, flag))
    if len(outcomes) == 1:
        user = outcomes.pop()
        if user is not None:
            return user, None
        return None, ('dpkg\'s start-stop-daemon takes -u/--user as a process owner to match, '
                      'and user:group names none: the start fails')
    return None, ('the user depends on which start-stop-daemon the host has (OpenRC\'s changes to the '
                  'user of -u/--user, dpkg\'s only with -c/--chuid) and it is not known')


def _last_user(options, flavour, user_flag):
    """The user the options leave (the last that changes user wins; root without one),
    or None when the start fails."""
    user = 'root'
    for kind, value in options:
        kind = user_flag if kind == 'cu' else kind
        if kind == 'c' or flavour == 'openrc':
            user = value.split(':', 1)[0]
        elif ':' in value:
            return None
    return user
