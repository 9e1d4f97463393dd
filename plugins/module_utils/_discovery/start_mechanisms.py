# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What starts a host's Netdata agent, and the environment it gives it (without systemd too).

The facts' ``installs[].start``: ``mechanism`` (``systemd``, ``openrc``, ``runit``,
``sysvinit``, ``dinit`` or ``none``), the ``files`` it was read from, the ``command`` it
starts, and the ``environment`` (``DO_NOT_TRACK`` / ``DISABLE_TELEMETRY`` as the agent
would get them at its next start; None = unset; the whole mapping None when it cannot
be told). Which mechanism, from the host's service manager (``service_manager.py``):

- the manager's own files for the service: systemd's unit (read by ``systemd_units.py``),
  OpenRC's ``/etc/init.d/<service>`` (an ``openrc-run`` script), runit's
  ``<service dir>/run``, dinit's ``dinit.d/<service>``, a SysV ``/etc/init.d/<service>``;
- a host that no manager runs (``none``: a chroot, an image being built, a container
  whose PID 1 is not an init): the first of those that exists, systemd's unit first -
  what starts the agent once the host boots;
- a manager whose files for the service are missing: ``none``.

The environment, per mechanism (Netdata ships each of these files, ``system/`` of
netdata/netdata; none of them sets ``DO_NOT_TRACK`` or ``DISABLE_TELEMETRY``):

- OpenRC (``system/openrc/init.d/netdata.in`` and ``conf.d/netdata.in`` at v2.10.4,
  ``system/netdata-openrc.in`` at v1.37.1): ``openrc-run`` drops the caller's environment
  but for a fixed list and ``rc_env_allow`` (``rc.conf``), adds ``/etc/profile.env``'s
  variables that are still missing, then sources into one ``/bin/sh`` ``/etc/rc.conf``,
  ``/etc/rc.conf.d/*.conf``, ``/etc/conf.d/<service>.<runlevel>`` *or else*
  ``/etc/conf.d/<service>`` (next to the script's dir: ``<init.d>/../conf.d``) and the
  script; the command gets what is *exported* there (``export DO_NOT_TRACK=1``), through
  ``start-stop-daemon`` or ``supervise-daemon`` alike (``openrc-run.sh``, OpenRC 0.45.2).
  Measured with the real ``openrc-run``: ``test_start_mechanisms_real.py``.
- SysV (``system/initd/init.d/netdata.in``, ``system/lsb/init.d/netdata.in``; Debian's own
  script): ``service`` starts the script with an empty environment (``env -i``); the
  script's exports count, and what it sources (Netdata's RHEL-style script sources
  ``/etc/sysconfig/netdata``), read by the same ``sh`` reader.
- runit (``system/runit/run.in``: ``exec netdata -P ... -D``, no ``env`` dir): the ``run``
  script's exports, over runsvdir's clean environment; a ``chpst -e`` / ``envdir`` there
  makes it unknown (not read).
- dinit (``system/dinit/netdata.in``: no ``env-file``): the ``env-file`` of the service
  description, when there is one, over dinit's clean environment.

A running daemon's ``/proc/PID/environ`` stays the truth of what it runs with; this is
what its *next* start would get.

For OpenRC the answer also holds ``launch`` (``openrc_launch.py``): the user
``openrc-run`` starts the command as and the arguments it gives it, which ``installs.py``
judges the opt-out file and picks the ``netdata.conf`` (``-c``) with; the facts' ``start``
leaves it out (the arguments may hold a claim token). Other mechanisms: None (not read).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path, read_host_text
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.daemons import prefix_from_exe
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import TELEMETRY_VARS
# shell_env and openrc_launch are imported inside the functions that read shell files:
# only hosts that OpenRC, SysV init, runit or dinit start need them, and a module run
# compiles every module it imports (the payload is a zip: no cached bytecode).

MECHANISMS = ('systemd', 'openrc', 'runit', 'sysvinit', 'dinit', 'none')
SERVICE = 'netdata'
INIT_D = '/etc/init.d'
OPENRC_STATE = '/run/openrc'
RC_CONF = '/etc/rc.conf'
RC_CONF_D = '/etc/rc.conf.d'
PROFILE_ENV = '/etc/profile.env'
RUNIT_DIRS = ('/etc/sv', '/etc/runit/sv', '/etc/service', '/var/service', '/run/runit/service', '/service')
DINIT_DIRS = ('/etc/dinit.d', '/run/dinit.d', '/usr/local/lib/dinit.d', '/lib/dinit.d', '/usr/lib/dinit.d')
# Arguments that OpenRC's own start-stop-daemon / supervise-daemon turn into environment.
_DAEMON_ARG_VARS = ('start_stop_daemon_args', 'supervise_daemon_args')
_ENVDIR_RE = re.compile(r'\bchpst\b[^\n]*\s-[a-zA-Z]*e|\benvdir\b')


def _reader(root, override=None):
    """``read(path) -> (text, error)`` under *root*; *override* ``{path: text or None}``
    stands in for files (what a planned edit would make of them)."""
    def read(path):
        if override and path in override:
            return override[path], None
        return read_host_text(root, path)
    return read


def _result(mechanism, files=(), environment=None, command=None, errors=(), launch=None):
    return {'mechanism': mechanism, 'files': list(files), 'environment': environment,
            'command': command, 'errors': list(errors), 'launch': launch}


def is_openrc_script(text):
    """Whether an init script is run by ``openrc-run`` (its ``#!`` line says so)."""
    first = (text or '').split('\n', 1)[0]
    return first.startswith('#!') and 'openrc-run' in first


def openrc_runlevel(root='/'):
    """The runlevel ``openrc-run`` would see (``RC_RUNLEVEL``: ``/run/openrc/softlevel``),
    ``default`` when OpenRC is not running."""
    text, _err = read_host_text(root, OPENRC_STATE + '/softlevel', max_bytes=256)
    level = (text or '').strip()
    return level or 'default'


def openrc_conf_files(service=SERVICE, runlevel='default', init_dir=INIT_D, exists=None):
    """The ``conf.d`` files ``openrc-run.sh`` sources for *service*, in order: for a
    dotted name (``net.eth0``) ``<base>.<runlevel>`` or else ``<base>``, then
    ``<service>.<runlevel>`` or else ``<service>``. *exists(path)* tells which exist."""
    conf_d = os.path.normpath(init_dir + '/../conf.d')
    files = []
    base = service.split('.', 1)[0]
    pairs = []
    if base and base != service:
        pairs.append(base)
    pairs.append(service)
    for name in pairs:
        for candidate in ('%s/%s.%s' % (conf_d, name, runlevel), '%s/%s' % (conf_d, name)):
            if exists is None or exists(candidate):
                files.append(candidate)
                break
    return files


def openrc_conf_target(root='/', service=SERVICE):
    """The ``conf.d`` file of *service* that ``openrc-run`` reads at the current runlevel:
    ``/etc/conf.d/<service>.<runlevel>`` when it exists (then the plain one is not read at
    all), else ``/etc/conf.d/<service>``."""
    conf_d = os.path.normpath(INIT_D + '/../conf.d')
    special = '%s/%s.%s' % (conf_d, service, openrc_runlevel(root))
    if os.path.lexists(host_path(root, special)):
        return special
    return '%s/%s' % (conf_d, service)


def openrc_script(root='/', service=SERVICE):
    """Whether ``/etc/init.d/<service>`` is an ``openrc-run`` script."""
    text, _err = read_host_text(root, INIT_D + '/' + service)
    return is_openrc_script(text)


def _rc_conf_files(root):
    files = [RC_CONF] if os.path.isfile(host_path(root, RC_CONF)) else []
    try:
        names = sorted(os.listdir(host_path(root, RC_CONF_D)))
    except OSError:
        names = []
    files.extend('%s/%s' % (RC_CONF_D, name) for name in names if name.endswith('.conf'))
    return files


def _source_files(state, files, root, read):
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.shell_env import source_text
    for path in files:
        text, err = read(path)
        if err:
            state._unknown(state.tracked, 'cannot read %s: %s' % (path, err))
            continue
        if text is None:
            continue
        state.files.append(path)
        source_text(text, state, path, read)


def openrc_start(root='/', service=SERVICE, tracked=TELEMETRY_VARS, override=None):
    """What ``rc-service <service> start`` would start the agent with. See the module doc.
    *override*: ``{path: text or None}`` read instead of those files (a planned edit)."""
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.shell_env import ShellState, parse_config_lines, source_text
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.openrc_launch import openrc_launch
    read = _reader(root, override)

    def exists(path):
        if override and path in override:
            return override[path] is not None
        return os.path.lexists(host_path(root, path))

    script = INIT_D + '/' + service
    text, err = read(script)
    if err or text is None:
        return _result('openrc', errors=[err] if err else ['%s does not exist' % script])
    errors = []
    # rc_env_allow, as openrc-run's C part reads it before anything is sourced
    probe = ShellState(tracked)
    _source_files(probe, _rc_conf_files(root), root, read)
    allow = (probe.values.get('rc_env_allow') or '').split()
    if 'rc_env_allow' in probe.unknown:
        allow = ['*']
    passed = [name for name in tracked if '*' in allow or name in allow]
    environment = {}
    profile, perr = read(PROFILE_ENV)
    if perr:
        errors.append(perr)
    profile_values = parse_config_lines(profile or '')
    for name, value in profile_values.items():
        if name not in passed:
            environment[name] = value
    state = ShellState(tracked, environment=environment, unknown=passed)
    if passed:
        state.errors.append('%s: rc_env_allow passes them from whoever runs rc-service (not known here)'
                            % ', '.join(passed))
    if profile and any(name in environment for name in tracked):
        state.files.append(PROFILE_ENV)
    runlevel = openrc_runlevel(root)
    conf = _rc_conf_files(root) + openrc_conf_files(service, runlevel, exists=exists)
    _source_files(state, conf, root, read)
    state.files.append(script)
    source_text(text, state, script, read)
    for name in _DAEMON_ARG_VARS:
        value = state.values.get(name)
        if name in state.values and (value is None or any(var in value for var in tracked)):
            state._unknown([var for var in tracked if value is None or var in value],
                           '%s may pass it with --env (OpenRC\'s own start-stop-daemon / supervise-daemon)' % name)
    launch = openrc_launch(root, read, conf + [script], state.files, allow, profile_values)
    return _result('openrc', list(dict.fromkeys(state.files)), state.environment(), _command(state), errors + state.errors,
                   launch)


def sysvinit_start(root='/', service=SERVICE, tracked=TELEMETRY_VARS):
    """What ``service <service> start`` would start the agent with: ``service`` runs the
    script with an empty environment; the script's exports and what it sources count."""
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.shell_env import ShellState, source_text
    read = _reader(root)
    script = INIT_D + '/' + service
    text, err = read(script)
    if err or text is None:
        return _result('sysvinit', errors=[err] if err else ['%s does not exist' % script])
    state = ShellState(tracked)
    state.files.append(script)
    source_text(text, state, script, read)
    return _result('sysvinit', list(dict.fromkeys(state.files)), state.environment(), _command(state), state.errors)


def runit_start(root='/', service=SERVICE, tracked=TELEMETRY_VARS):
    """The ``run`` script of the first runit service dir that has one."""
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.shell_env import ShellState, source_text
    read = _reader(root)
    for directory in RUNIT_DIRS:
        script = '%s/%s/run' % (directory, service)
        text, err = read(script)
        if err:
            return _result('runit', [script], errors=[err])
        if text is None:
            continue
        state = ShellState(tracked)
        state.files.append(script)
        source_text(text, state, script, read)
        if _ENVDIR_RE.search(text):
            state._unknown(tracked, '%s reads an env dir (chpst -e / envdir), which is not read' % script)
        command = _command(state) or _exec_command(text)
        return _result('runit', list(dict.fromkeys(state.files)), state.environment(), command, state.errors)
    return _result('runit', errors=['no runit service dir holds %s/run' % service])


def dinit_start(root='/', service=SERVICE, tracked=TELEMETRY_VARS):
    """The first ``dinit.d/<service>`` description: its ``command`` and ``env-file``."""
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.shell_env import parse_config_lines
    read = _reader(root)
    for directory in DINIT_DIRS:
        path = '%s/%s' % (directory, service)
        text, err = read(path)
        if err:
            return _result('dinit', [path], errors=[err])
        if text is None:
            continue
        settings = {}
        for line in text.splitlines():
            line = line.split('#', 1)[0].strip()
            key, sep, value = line.partition('=')
            if not sep:
                key, sep, value = line.partition(':')
            if sep:
                settings[key.strip()] = value.strip()
        files = [path]
        env = dict((name, None) for name in tracked)
        errors = []
        env_file = settings.get('env-file')
        if env_file:
            env_path = env_file if env_file.startswith('/') else directory + '/' + env_file
            env_text, err = read(env_path)
            if err:
                errors.append(err)
                env = None
            elif env_text is not None:
                files.append(env_path)
                values = parse_config_lines(env_text)
                env = dict((name, values.get(name)) for name in tracked)
        command = (settings.get('command') or '').split()
        return _result('dinit', files, env, command[0] if command else None, errors)
    return _result('dinit', errors=['no dinit.d dir holds %s' % service])


def _exec_command(text):
    """The program of the run script's ``exec`` line (past ``chpst`` and its options)."""
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ['exec']:
            return next((word for word in words[1:] if word.startswith('/')), None)
    return None


def _command(state):
    """The program the script starts: OpenRC's ``command``, a SysV script's ``DAEMON``
    (or ``$DAEMON_PATH/$DAEMON``), when they are plain values."""
    values = state.values
    for name in ('command', 'DAEMON'):
        value = values.get(name)
        if value and value.startswith('/'):
            return os.path.normpath(value)
    path, daemon = values.get('DAEMON_PATH'), values.get('DAEMON')
    if path and daemon and path.startswith('/'):
        return os.path.normpath(path + '/' + daemon)
    return None


_READERS = {'openrc': openrc_start, 'sysvinit': sysvinit_start, 'runit': runit_start, 'dinit': dinit_start}


def host_start(service_manager, root='/', service=SERVICE, systemd_unit=None):
    """The mechanism that starts the host's agent and what it gives it; for ``systemd``
    the unit's own facts stay with ``systemd_units.py`` (``files``/``environment`` are
    filled in per install by :func:`install_start`). Never raises."""
    try:
        return _host_start(service_manager, root, service, systemd_unit)
    except Exception as exc:  # a collector never raises
        return _result('none', errors=['start mechanism: unexpected %s: %s' % (type(exc).__name__, exc)])


def _host_start(service_manager, root, service, systemd_unit):
    if service_manager == 'systemd':
        return _result('systemd' if systemd_unit else 'none')
    if service_manager in _READERS:
        found = _READERS[service_manager](root, service)
        return found if found['files'] else _result('none', errors=found['errors'])
    # no manager runs the host: what would start the agent once it boots
    if systemd_unit:
        return _result('systemd')
    script, _err = read_host_text(root, INIT_D + '/' + service)
    if script is not None and is_openrc_script(script):
        return openrc_start(root, service)
    for mechanism in ('runit', 'dinit'):
        found = _READERS[mechanism](root, service)
        if found['files']:
            return found
    if script is not None:
        return sysvinit_start(root, service)
    return _result('none')


def starts_install(command, binary, prefix):
    """Whether *command* runs this install's binary (None when unknown)."""
    if not command or not command.startswith('/'):
        return None
    command = os.path.normpath(command)
    if binary is not None and command == os.path.normpath(binary):
        return True
    if prefix is not None:
        return prefix_from_exe(command) == os.path.normpath(prefix)
    return False


def install_start(host, install, systemd_starts=None):
    """``installs[].start`` of one host install, from :func:`host_start`'s answer: for
    ``systemd``, the unit and drop-ins and the environment of ``install['service']``."""
    start = dict(host, files=list(host['files']), errors=list(host['errors']))
    start.pop('launch', None)  # read by installs.py; the arguments are not facts
    environment = host['environment']
    if host['mechanism'] == 'systemd':
        service = install.get('service') or {}
        start['files'] = ([service['unit']] if service.get('unit') else []) + list(service.get('dropins') or [])
        environment = dict((name, (service.get('environment') or {}).get(name)) for name in TELEMETRY_VARS)
        start['starts_this_install'] = systemd_starts
    elif host['mechanism'] == 'none':
        start['starts_this_install'] = None
    else:
        start['starts_this_install'] = starts_install(host.get('command'), install.get('binary'),
                                                      install.get('prefix'))
    start['environment'] = None if environment is None else dict(environment)
    return start
