# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan what puts every Netdata install of a host into the telemetry state asked for.

``plan_changes()`` turns the host's install facts (the ``installs`` list of the
``netdata_facts`` contract) and the role's settings into a list of file changes, reading
but never writing (``apply.py`` writes them, ``restart.py`` says which agents must
restart, ``verify.py`` judges the result). Channels and why each file matters (the rules
and their sources: ``docs/dev/telemetry-rules.md``):
- the opt-out file: statistics script (< v2.6), daemon analytics flag (all versions;
  read once at start except in v2.3-v2.5, so a *new* file needs a restart of a running
  daemon of the other versions);
- ``DISABLE_TELEMETRY=1`` / ``DO_NOT_TRACK=1`` in the service's environment: statistics
  script, v2.3+ daemon flag (``DISABLE_TELEMETRY`` only); takes effect at restart. Where
  systemd runs the host (or none does: an image a later systemd boot reads), a systemd
  drop-in that sorts last; where OpenRC does, a managed block of exports at the end of
  ``/etc/conf.d/<service>`` (``plan_openrc_conf``); where runit, SysV init or dinit do,
  nothing: Netdata's files for them read no environment file, so a note says it does
  not apply (``docs/dev/install-model.md``);
- ``[global] crash reports = off`` in ``netdata.conf``: v2.3+ crash/restart reports,
  which a *claimed* node sends even with the opt-out file; takes effect at restart;
- installer environment (``/etc/profile.d``, ``/etc/environment``) for kickstart and
  ``netdata-updater`` runs, which compare the value as a number: only ``1`` is safe;
- container env files: the official image opts out at start when either variable is set
  (up to v2.8.1: to anything; from v2.8.2: to anything but ``0``), and never removes the
  file it made.

Container agents (``kind: container``, ``docs/dev/install-model.md``) get the same files,
written through the container's view root (``/proc/PID/root``, every path resolved inside
it by discovery; a symlink on the way now is refused) or, for a stopped container, its
config volume's host path. A stopped container whose config dir is its own layer cannot
be written: a note says so, and verify reports it. Files the role creates there belong to
the owner of the config dir (a user-namespaced container's root, for one). Restarts go
through the container's runtime (``restart_decisions`` keys installs by
``install_label``, ``container_restarts`` lists them).

Opt-in removes what this role manages and neutralises a ``DO_NOT_TRACK`` /
``DISABLE_TELEMETRY`` that the unit or another drop-in sets, by writing the managed
drop-in with empty values plus ``UnsetEnvironment=`` (empty counts as "not opted out" for
every consumer; ``UnsetEnvironment=`` is applied after ``EnvironmentFile=``, which
``Environment=`` alone cannot override). The user's own files are never deleted.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import conf_edit as netdata_conf_edit
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common import safe_files
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.systemd_units import service_environment
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.start_mechanisms import openrc_conf_target, openrc_script, openrc_start
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import OPTOUT_FILE_NAME, TELEMETRY_VARS
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.channels import container_entrypoint_opts_out, statistics_script_exists
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.container_runtimes import install_label

SYSTEMD_DIR = '/etc/systemd/system'
PROFILE_PATH = '/etc/profile.d/netdata-telemetry.sh'
ENVIRONMENT_PATH = '/etc/environment'
MANAGED_MARKER = 'Managed by netdata_fleet.telemetry'

# The files' contents unless a caller passes its own (the role does not: these are the
# one source of what it writes).
DEFAULT_DROPIN_OPTOUT = (
    '# %s (role optout): Netdata telemetry opt-out.\n'
    '# Value 1 is the one every consumer reads as "off" (the statistics script, the v2.3+\n'
    '# daemon, kickstart\'s numeric test); this file sorts last so its assignments win.\n'
    '[Service]\n'
    'Environment=DO_NOT_TRACK=1\n'
    'Environment=DISABLE_TELEMETRY=1\n' % MANAGED_MARKER)
DEFAULT_DROPIN_OPTIN = (
    '# %s (role optout): Netdata telemetry opt-in.\n'
    '# Another unit file sets DO_NOT_TRACK or DISABLE_TELEMETRY; empty values count as "not\n'
    '# opted out" everywhere, and UnsetEnvironment= also beats an EnvironmentFile= setting.\n'
    '[Service]\n'
    'Environment=DO_NOT_TRACK=\n'
    'Environment=DISABLE_TELEMETRY=\n'
    'UnsetEnvironment=DO_NOT_TRACK DISABLE_TELEMETRY\n' % MANAGED_MARKER)
DEFAULT_PROFILE = (
    '# %s (role optout): Netdata telemetry opt-out for\n'
    '# kickstart.sh and netdata-updater runs (they test the value numerically: use 1).\n'
    'export DO_NOT_TRACK=1\n'
    'export DISABLE_TELEMETRY=1\n' % MANAGED_MARKER)

# The managed block of an OpenRC conf.d file: openrc-run sources the file into the shell
# that starts the agent, which gets what is exported there (start_mechanisms.py).
OPENRC_BEGIN = '# BEGIN %s (role optout): Netdata telemetry' % MANAGED_MARKER
OPENRC_END = '# END %s' % MANAGED_MARKER
OPENRC_OPTOUT = 'export DO_NOT_TRACK=1\nexport DISABLE_TELEMETRY=1\n'
# unset drops value and export flag: the agent gets neither, whatever rc.conf,
# /etc/profile.env or an earlier line of the file set (measured with openrc-run 0.45.2).
OPENRC_OPTIN = 'unset DO_NOT_TRACK DISABLE_TELEMETRY\n'
# Service managers that run the host and are not systemd: a drop-in there is read by nobody.
OTHER_MANAGERS = ('openrc', 'runit', 'sysvinit', 'dinit')

_ASSIGN_RE = re.compile(br'^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=')


class PlanError(Exception):
    """A per-host problem that stops the host before anything is written."""


def _b(text):
    return None if text is None else to_bytes(text, errors='surrogate_or_strict')


# ---------------------------------------------------------------- env-file lines

def _newline_of(data):
    return b'\r\n' if b'\r\n' in data else b'\n'


def edit_env_lines(data, wanted, remove=False):
    """Ensure (or remove) ``NAME=value`` lines in a ``KEY=value`` file, keeping other bytes.

    *data* is the file's bytes or None (missing). *wanted* maps names to values. With
    *remove*, every assignment of those names goes; otherwise the first assignment of
    each name becomes ``NAME=value`` (an ``export`` prefix is kept), later duplicates go
    (the last assignment would win), and missing names are appended. Returns the new
    bytes (None when the file stays missing).
    """
    if data is None:
        if remove:
            return None
        data = b''
    newline = _newline_of(data)
    lines = data.splitlines(True)
    seen = set()
    out = []
    for line in lines:
        match = _ASSIGN_RE.match(line)
        name = match.group(1).decode('ascii') if match else None
        if name not in wanted:
            out.append(line)
            continue
        if remove or name in seen:
            continue
        seen.add(name)
        ending = line[len(line.rstrip(b'\r\n')):] or newline
        prefix = b'export ' if line.lstrip().startswith(b'export') else b''
        out.append(prefix + name.encode('ascii') + b'=' + _b(wanted[name]) + ending)
    if not remove:
        missing = [name for name in wanted if name not in seen]
        if missing and out and not out[-1].endswith(b'\n'):
            out[-1] = out[-1] + newline
        for name in missing:
            out.append(name.encode('ascii') + b'=' + _b(wanted[name]) + newline)
    return b''.join(out)


# ---------------------------------------------------------------- netdata.conf

def conf_opt_out(content):
    """``(new_bytes, changed, note)``: ``[global] crash reports = off`` ensured."""
    return netdata_conf_edit.ensure_crash_reports(content)


def conf_opt_in(content):
    """``(new_bytes, changed, note)``: the managed ``crash reports`` line removed."""
    return netdata_conf_edit.remove_managed_crash_reports(content)


# ---------------------------------------------------------------- systemd

def environment_without_dropin(root, service_unit, exclude_path):
    """``{NAME: value}`` for ``TELEMETRY_VARS`` as systemd would start *service_unit*, leaving
    out the drop-in at *exclude_path* (the managed one), so opt-in knows whether the unit
    or another drop-in sets a variable that must be neutralised.
    """
    result = service_environment(service_unit, root=root or '/', exclude_dropins=[exclude_path])
    env = result.get('environment') or {}
    return dict((name, env.get(name)) for name in TELEMETRY_VARS)


# ---------------------------------------------------------------- planning

def _change(path, purpose, before, after, mode=0o644, scope='host', install=None,
            create_dir=None, note=None, allow_symlink=False, owner=0, group=0, before_mode=None):
    return {
        'path': path, 'purpose': purpose, 'before': before, 'after': after,
        'mode': mode, 'owner': owner, 'group': group, 'scope': scope,
        'install': install, 'create_dir': create_dir, 'note': note,
        'allow_symlink': allow_symlink, 'before_mode': before_mode,
    }


def _writable_dir(root, path, what):
    """PlanError unless *path* is an existing, writable directory (checked in check mode too)."""
    hp = host_path(root, path)
    state = safe_files.file_state(hp)
    if state == 'missing':
        raise PlanError('%s %s does not exist' % (what, path))
    if state != 'a directory':
        if state == 'a symlink' and os.path.isdir(hp):
            pass  # a symlinked config dir is the admin's layout choice, not a planted target
        else:
            raise PlanError('%s %s is %s, not a directory' % (what, path, state))
    if not os.access(hp, os.W_OK):
        err = 'read-only file system' if _is_read_only(hp) else 'not writable'
        raise PlanError('%s %s is %s' % (what, path, err))


def _is_read_only(path):
    try:
        return bool(os.statvfs(path).f_flag & getattr(os, 'ST_RDONLY', 1))
    except OSError:
        return False


def _read(root, path):
    try:
        return safe_files.read_file(host_path(root, path))
    except safe_files.UnsafePathError as exc:
        raise PlanError(str(exc))
    except OSError as exc:
        raise PlanError('cannot read %s: %s' % (path, exc.strerror or exc))


def _install_paths(install):
    """``(config_dir, opt-out file paths, netdata.conf path)`` as the facts found them.

    The opt-out files: the one the daemon checks (``<[directories] config>/...``) and,
    when it differs and the statistics script may run (below v2.6.0 or version unknown),
    the one the script tests (its compiled-in config dir). netdata.conf: the ``-c`` of
    the running daemon or the service, else ``<config dir>/netdata.conf``.
    """
    config_dir = install['config_dir']
    optout_file = install.get('optout_file') or {}
    optout = optout_file.get('path') or config_dir.rstrip('/') + '/' + OPTOUT_FILE_NAME
    paths = [optout]
    script = (optout_file.get('script') or {}).get('path')
    if script and script != optout and statistics_script_exists(install.get('version')) is not False:
        paths.append(script)
    conf = (install.get('netdata_conf') or {}).get('path') or config_dir.rstrip('/') + '/netdata.conf'
    return config_dir, paths, conf


def _readable_by_all(mode):
    return mode & 0o444 == 0o444


def _plan_optout_file(root, path, opt_out, config_dir):
    """The change for one opt-out file, or None."""
    state = safe_files.file_state(host_path(root, path))
    if opt_out:
        if state == 'missing':
            return _change(path, 'optout_file', None, b'', install=config_dir)
        if state != 'file':
            raise PlanError('%s is %s; refusing to use it as the opt-out file' % (path, state))
        meta = safe_files.file_meta(host_path(root, path))
        if meta is not None and not _readable_by_all(meta['mode']):
            # The daemon checks the file with access(R_OK) as its run-as user: a file only
            # root can read (touch under umask 027 makes 0640 root:root) is no opt-out.
            content = _read(root, path)
            return _change(path, 'optout_file', content, content, install=config_dir,
                           owner=meta['uid'], group=meta['gid'], before_mode=meta['mode'],
                           note='mode %04o -> 0644: the agent could not read it' % meta['mode'])
        return None
    if state == 'missing':
        return None
    if state not in ('file', 'a symlink'):
        raise PlanError('%s is %s; refusing to remove it' % (path, state))
    before = _read(root, path) if state == 'file' else b''
    # Unlinking a link never touches its target; the file is the opt-out switch itself.
    return _change(path, 'optout_file', before, None, install=config_dir, allow_symlink=True)


def plan_install(install, settings, root='/', keep_optout_file=False):
    """Changes (and notes) for one install's own files: opt-out file(s) and netdata.conf.
    *keep_optout_file*: leave the opt-out file(s) as they are (a container whose entrypoint
    makes the file again at every start)."""
    opt_out = settings['opt_out']
    config_dir, optout_paths, conf_path = _install_paths(install)
    _writable_dir(root, config_dir, 'config dir')
    checked = set([os.path.normpath(config_dir)])
    for path in optout_paths + ([conf_path] if settings['manage_crash_reports'] else []):
        directory = os.path.dirname(path)
        if os.path.normpath(directory) not in checked:
            checked.add(os.path.normpath(directory))
            _writable_dir(root, directory, 'directory')
    changes = []
    notes = []

    # The opt-out file: empty, 0644 (readable by the agent's user), as the installers make it.
    for path in ([] if keep_optout_file else optout_paths):
        change = _plan_optout_file(root, path, opt_out, config_dir)
        if change is not None:
            changes.append(change)
            if change['note']:
                notes.append('%s: %s' % (path, change['note']))
    optout_file = install.get('optout_file') or {}
    if opt_out and optout_file.get('exists') and optout_file.get('readable_by_agent') is False \
            and not any(c['path'] == optout_paths[0] for c in changes):
        # Its mode is fine, so the way to it is not (a directory the user cannot search):
        # changing a config dir's mode is the admin's call, verify reports it.
        notes.append('%s: %s; the daemon does not count it' % (optout_paths[0], optout_file.get('reason')))

    # netdata.conf: [global] crash reports.
    if settings['manage_crash_reports']:
        current = _read(root, conf_path)
        meta = safe_files.file_meta(host_path(root, conf_path))
        if opt_out:
            new, changed, note = conf_opt_out(current)
        else:
            new, changed, note = conf_opt_in(current)
        note = note or ''
        if note.startswith('refused'):
            raise PlanError('%s: %s' % (conf_path, note))
        # The editor explains every call; keep what a reader needs (a change, or a user
        # setting that stays in force).
        if changed or 'user setting' in note:
            notes.append('%s: %s' % (conf_path, note))
        if changed:
            mode = meta['mode'] if meta else 0o644
            owner = meta['uid'] if meta else 0
            group = meta['gid'] if meta else 0
            changes.append(_change(conf_path, 'netdata_conf', current, _b(new), mode=mode,
                                   install=config_dir, owner=owner, group=group))
    return changes, notes


def plan_dropin(installs, settings, root='/'):
    """Changes for the managed systemd drop-in of the netdata service (one per host)."""
    if not installs:
        return [], []
    service = settings['service_name']
    unit = service if service.endswith('.service') else service + '.service'
    dropin_dir = '%s/%s.d' % (SYSTEMD_DIR, unit)
    path = '%s/%s' % (dropin_dir, settings['dropin_name'])
    if safe_files.file_state(host_path(root, SYSTEMD_DIR)) != 'a directory':
        return [], ['%s missing: no systemd here, service drop-in skipped' % SYSTEMD_DIR]
    manager = settings.get('service_manager')
    if manager in OTHER_MANAGERS:
        # Another init runs this host: a drop-in would be read by nobody. One this role
        # wrote earlier (the host ran systemd then) goes on opt-in, never stays to
        # contradict it.
        current = _read(root, path)
        note = ('systemd drop-in not applicable: %s runs this host, not systemd (%s not written); %s'
                % (manager, path, 'the environment goes to its conf.d file' if manager == 'openrc' else
                   'the agent\'s start environment is not applicable either (Netdata\'s %s files read no '
                   'environment file): the opt-out file and crash reports do the opt-out' % manager))
        if settings['opt_out'] or current is None or MANAGED_MARKER.encode() not in current:
            return [], [note]
        _writable_dir(root, dropin_dir, 'systemd dir')
        return [_change(path, 'dropin', current, None)], [note]
    dir_state = safe_files.file_state(host_path(root, dropin_dir))
    if dir_state not in ('missing', 'a directory'):
        raise PlanError('%s is %s, not a directory; refusing to use it' % (dropin_dir, dir_state))
    current = _read(root, path)
    notes = []
    if settings['opt_out']:
        wanted = _b(settings.get('dropin_content') or DEFAULT_DROPIN_OPTOUT)
    else:
        elsewhere = environment_without_dropin(root, unit, path)
        setters = [name for name in TELEMETRY_VARS if elsewhere.get(name)]
        if setters:
            wanted = _b(settings.get('dropin_neutral_content') or DEFAULT_DROPIN_OPTIN)
            notes.append('%s set by the unit or another drop-in; neutralised in %s'
                         % (', '.join(setters), path))
        else:
            wanted = None
    if current == wanted:
        return [], notes
    if wanted is not None:
        _writable_dir(root, SYSTEMD_DIR if dir_state == 'missing' else dropin_dir, 'systemd dir')
    elif dir_state == 'a directory':
        _writable_dir(root, dropin_dir, 'systemd dir')
    return [_change(path, 'dropin', current, wanted,
                    create_dir=dropin_dir if dir_state == 'missing' else None)], notes


def _without_block(data):
    """*data* (bytes) without the managed block(s); ``(bytes, found)``."""
    lines = data.splitlines(True)
    out = []
    inside = False
    found = False
    for line in lines:
        text = line.rstrip(b'\r\n')
        if not inside and (text == OPENRC_BEGIN.encode() or text.startswith(OPENRC_BEGIN.encode() + b' ')):
            inside = found = True
            continue
        if inside:
            if text == OPENRC_END.encode():
                inside = False
            continue
        out.append(line)
    return b''.join(out), found


def openrc_block(body, purpose):
    return '%s %s\n%s%s\n' % (OPENRC_BEGIN, purpose, body, OPENRC_END)


def _with_block(data, block):
    if data and not data.endswith(b'\n'):
        data += _newline_of(data)
    return data + block.encode('utf-8')


def plan_openrc_conf(installs, settings, root='/'):
    """Changes for the agent's OpenRC ``conf.d`` file (one per host): where OpenRC runs the
    host, or no manager runs it and ``/etc/init.d/<service>`` is an ``openrc-run`` script
    (an image being built). Opt-out: the managed block exporting ``DO_NOT_TRACK=1`` and
    ``DISABLE_TELEMETRY=1``, last in the file (later assignments win). Opt-in: the block
    removed; where the variables still reach the agent (the user's own lines, ``rc.conf``,
    ``/etc/profile.env``), a managed block that unsets them instead. The user's other
    lines are kept byte for byte."""
    if not any(i.get('kind') != 'container' for i in installs):
        return [], []
    manager = settings.get('service_manager')
    service = settings['service_name']
    service = service[:-len('.service')] if service.endswith('.service') else service
    if manager != 'openrc' and not (manager == 'none' and openrc_script(root, service)):
        return [], []
    path = openrc_conf_target(root, service)
    current = _read(root, path)
    base, found = _without_block(current or b'')
    notes = []
    if settings['opt_out']:
        wanted = _with_block(base, openrc_block(OPENRC_OPTOUT, 'opt-out'))
        env = openrc_start(root, service, override={path: to_text(wanted, errors='surrogate_or_replace')})['environment']
        if env is None or any(env.get(name) != '1' for name in TELEMETRY_VARS):
            notes.append('%s: even with the managed block the agent would not start with DO_NOT_TRACK=1 and '
                         'DISABLE_TELEMETRY=1 (%s): the init script changes them, or what it does cannot be read'
                         % (path, env))
    else:
        # what the agent would get without the block: the user's own lines, rc.conf, profile.env
        if current is None or (found and not base.strip()):
            without = None  # a file that held only the block is this role's: it goes
        else:
            without = base
        started = openrc_start(root, service, override={path: to_text(without, errors='surrogate_or_replace') if without is not None else None})
        env = started['environment']
        setters = [name for name in TELEMETRY_VARS if env is None or env.get(name) is not None]
        if setters:
            wanted = _with_block(without or b'', openrc_block(OPENRC_OPTIN, 'opt-in'))
            notes.append('%s reach the agent from outside the managed block (%s); neutralised with "unset" '
                         'in %s' % (', '.join(setters), 'cannot be read' if env is None else
                                    ', '.join('%s=%s' % (n, env[n]) for n in setters), path))
        else:
            wanted = without
    if wanted == current:
        return [], notes
    directory = os.path.dirname(path)
    if safe_files.file_state(host_path(root, directory)) == 'missing':
        _writable_dir(root, os.path.dirname(directory), 'directory')
        change = _change(path, 'openrc_conf', current, wanted, create_dir=directory)
    else:
        change = _edit_keeping_owner(root, path, 'openrc_conf', current, wanted)
    return [change], notes


def plan_installer_env(settings, root='/'):
    """Changes for ``/etc/profile.d`` and ``/etc/environment`` (installer and updater runs)."""
    if not settings['installer_env']:
        return [], []
    changes = []
    notes = []
    profile = settings.get('profile_path') or PROFILE_PATH
    current = _read(root, profile)
    if settings['opt_out']:
        wanted = _b(settings.get('profile_content') or DEFAULT_PROFILE)
    elif current is not None and MANAGED_MARKER.encode() not in current:
        wanted = current
        notes.append('%s is not managed by this role; left alone' % profile)
    else:
        wanted = None
    if current != wanted:
        _writable_dir(root, os.path.dirname(profile), 'directory')
        changes.append(_change(profile, 'installer_profile', current, wanted))
    env_path = settings.get('environment_path') or ENVIRONMENT_PATH
    current = _read(root, env_path)
    values = dict((name, '1') for name in TELEMETRY_VARS)
    if settings['opt_out']:
        new = edit_env_lines(current, values)
    else:
        # Remove only what opt-out wrote (NAME=1); another value is the admin's own.
        new = current
        if current is not None:
            kept = []
            for line in current.splitlines(True):
                match = _ASSIGN_RE.match(line)
                if match and match.group(1).decode('ascii') in TELEMETRY_VARS \
                        and line.strip() == match.group(1) + b'=1':
                    continue
                kept.append(line)
            new = b''.join(kept)
    if new != current:
        changes.append(_edit_keeping_owner(root, env_path, 'installer_environment', current, new))
    return changes, notes


def _edit_keeping_owner(root, path, purpose, current, new):
    """A change to a file the user owns (installer or container env file): keep its mode
    and owner; a new one is root's, 0644."""
    meta = safe_files.file_meta(host_path(root, path))
    _writable_dir(root, os.path.dirname(path), 'directory')
    return _change(path, purpose, current, new, mode=meta['mode'] if meta else 0o644,
                   owner=meta['uid'] if meta else 0, group=meta['gid'] if meta else 0)


def plan_container_env(settings, root='/'):
    """Changes for the container env files the user names."""
    changes = []
    notes = []
    values = dict((name, '1') for name in TELEMETRY_VARS)
    for path in settings.get('container_env_files') or []:
        if not path.startswith('/'):
            raise PlanError('container env file %s: not an absolute path' % path)
        current = _read(root, path)
        if settings['opt_out']:
            new = edit_env_lines(current, values)
        else:
            new = edit_env_lines(current, values, remove=True)
            if current is not None and new != current:
                notes.append('%s: DO_NOT_TRACK / DISABLE_TELEMETRY removed; the official image '
                             'never deletes an opt-out file it already created inside a '
                             'container, recreate the container to opt in' % path)
        if new != current:
            changes.append(_edit_keeping_owner(root, path, 'container_env', current, new))
    return changes, notes


def _entrypoint_opts_out(install):
    """``(True|False|None, reason)``: whether the container's entrypoint makes the opt-out
    file at every start (the official image's run.sh with this environment)."""
    container = install.get('container') or {}
    if container.get('entrypoint_creates_optout') is False:
        return False, 'the container\'s entrypoint does not create the opt-out file'
    if container.get('entrypoint_creates_optout') is None:
        return None, 'whether the container\'s entrypoint creates the opt-out file is unknown'
    return container_entrypoint_opts_out(install.get('version'), container.get('environment'))


def _in_dir(path, directory):
    directory = directory.rstrip('/') or '/'
    return path == directory or path.startswith(directory + '/')


def _entrypoint_keeps_optout_file(install, opt_out, label):
    """``(keep, notes)``: whether opting in must leave the opt-out file in place, because
    the container's entrypoint makes it again at every start."""
    creates, why = _entrypoint_opts_out(install)
    if opt_out or creates is not True:
        return False, []
    # removing the file would last until the next start: run.sh makes it again
    return True, ['%s: %s: opting it in needs the container re-created without that setting; '
                  'its opt-out file is left in place' % (label, why)]


def _check_view_root(install, view_root):
    """PlanError unless the running container can be written through *view_root*: it
    still runs, and no path to write crosses a symlink inside it."""
    # Imported here: only a host with a running container's agent gets this far, and
    # containers.py is a sixth of the code every netdata_optout run would compile.
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.containers import (
        symlink_on_the_way)

    if not os.path.isdir(view_root):
        raise PlanError('the container is no longer running (%s is gone); run again' % view_root)
    config_dir, paths, conf_path = _install_paths(install)
    for path in [config_dir] + paths + [conf_path]:
        link = symlink_on_the_way(view_root, path)
        if link is not None:
            raise PlanError('%s is a symlink inside the container: refusing to write through it '
                            '(it would resolve against the host\'s root)' % link)


def _config_volume(install):
    """The host path of a stopped container's config dir when it is a volume or bind
    mount; None when the config dir is in the container's own layer."""
    container = install.get('container') or {}
    volume = container.get('config_host_path')
    if container.get('config_persistence') not in ('volume', 'bind') or not volume:
        return None
    return volume


def _in_layer_notes(install, opt_out, label):
    """Why nothing is planned for a stopped container whose config dir is in its own
    layer; nothing to say when it is already in the state asked for."""
    telemetry = install.get('telemetry') or {}
    if telemetry.get('opted_out' if opt_out else 'opted_in'):
        return []
    how = (' with -e DO_NOT_TRACK=1 -e DISABLE_TELEMETRY=1' if opt_out
           else ' without DO_NOT_TRACK / DISABLE_TELEMETRY')
    return ['%s: a stopped container whose config dir is in its own layer: nothing can '
            'be written to it while it is stopped; start it and run again, or re-create '
            'it%s' % (label, how)]


def _outside_config_volume(install, config_dir, settings, label):
    """``(keep_optout_file, settings, notes)``: the opt-out file or netdata.conf of a
    stopped container that lies outside its config volume is left alone."""
    keep = False
    notes = []
    for path, what in (((install.get('optout_file') or {}).get('path'), 'optout'),
                       ((install.get('netdata_conf') or {}).get('path'), 'conf')):
        if path and not _in_dir(path, config_dir):
            notes.append('%s: %s is outside the config volume of a stopped container: left alone'
                         % (label, path))
            if what == 'optout':
                keep = True
            else:
                settings = dict(settings, manage_crash_reports=False)
    return keep, settings, notes


def _on_config_volume(install, config_dir, volume):
    """A copy of *install* whose config dir, opt-out file and netdata.conf are the host
    paths on its config *volume*, the host side of *config_dir*."""

    def to_target(path, name):
        # a path outside the config dir is not planned (_outside_config_volume): any
        # in-dir stand-in
        path = path if path and _in_dir(path, config_dir) else config_dir.rstrip('/') + '/' + name
        return volume.rstrip('/') + path[len(config_dir.rstrip('/')):]
    planned = dict(install)
    planned['config_dir'] = volume
    optout_file = dict(install.get('optout_file') or {})
    optout_file['path'] = to_target(optout_file.get('path'), OPTOUT_FILE_NAME)
    optout_file['script'] = dict(optout_file.get('script') or {}, path=optout_file['path'])
    planned['optout_file'] = optout_file
    conf = dict(install.get('netdata_conf') or {})
    conf['path'] = to_target(conf.get('path'), 'netdata.conf')
    planned['netdata_conf'] = conf
    return planned


def _as_the_container_sees_them(changes, install, planned, write_root, label):
    """Give each change of *planned* the path the agent knows, where it is written
    (``host_path``), the install's label and, for a new file, the config dir's owner."""
    config_dir = install['config_dir']
    owner = _dir_owner(host_path(write_root, planned['config_dir']))
    for change in changes:
        target = change['path']
        change['host_path'] = host_path(write_root, target)
        if planned is not install:
            change['path'] = config_dir.rstrip('/') + target[len(planned['config_dir'].rstrip('/')):]
        change['install'] = label
        if change['before'] is None and owner is not None:
            # the container's own root owns what lives there (user namespaces included)
            change['owner'], change['group'] = owner


def plan_container_install(install, settings, root='/'):
    """Changes (and notes) for a container agent's own files (see the module doc).

    A running container's files are planned under its view root; a stopped one's, when
    its config dir is a volume or bind mount, under that mount's host path (every file
    outside the config dir is then left alone, with a note). Each change keeps the path
    the agent knows (``path``) and says where it is written (``host_path``).
    """
    label = install_label(install)
    opt_out = settings['opt_out']
    keep, notes = _entrypoint_keeps_optout_file(install, opt_out, label)
    config_dir = install['config_dir']
    view_root = (install.get('container') or {}).get('view_root')
    if view_root:
        _check_view_root(install, view_root)
        planned, write_root = install, view_root
    else:
        volume = _config_volume(install)
        if volume is None:
            return [], notes + _in_layer_notes(install, opt_out, label)
        keep_outside, settings, outside_notes = _outside_config_volume(install, config_dir, settings, label)
        keep = keep or keep_outside
        notes.extend(outside_notes)
        planned, write_root = _on_config_volume(install, config_dir, volume), root
    changes, why = plan_install(planned, settings, write_root, keep_optout_file=keep)
    notes.extend('%s: %s' % (label, line) for line in why)
    _as_the_container_sees_them(changes, install, planned, write_root, label)
    return changes, notes


def _dir_owner(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_uid, st.st_gid


def plan_changes(installs, settings, root='/'):
    """``(changes, notes, errors)`` for the whole host. Nothing is written.

    A PlanError in one install is recorded in *errors* (its config dir first); the
    caller fails the host when *errors* is not empty, before writing anything.
    """
    changes = []
    notes = []
    errors = []
    for install in installs:
        try:
            if install.get('kind') == 'container':
                more, why = plan_container_install(install, settings, root)
            else:
                more, why = plan_install(install, settings, root)
            changes.extend(more)
            notes.extend(why)
        except PlanError as exc:
            errors.append('%s: %s' % (install_label(install), exc))
    host_installs = [i for i in installs if i.get('kind') != 'container']
    for planner in (lambda: plan_dropin(host_installs, settings, root),
                    lambda: plan_openrc_conf(host_installs, settings, root),
                    lambda: plan_installer_env(settings, root),
                    lambda: plan_container_env(settings, root)):
        try:
            more, why = planner()
            changes.extend(more)
            notes.extend(why)
        except PlanError as exc:
            errors.append(str(exc))
    return changes, notes, errors
