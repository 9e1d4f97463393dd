# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Find the Netdata installs on a host and gather, per install, what the telemetry
decision needs (everything of the facts contract's ``installs[]`` except ``telemetry``).

Candidates, in this order (an install exists when its config dir or its binary exists):

====================  ==============  ========================================  =====================================
config dir            prefix / kind   binary (first existing)                   lib dir
====================  ==============  ========================================  =====================================
/etc/netdata          ``/`` native    /usr/sbin/netdata                         /var/lib/netdata
/opt/netdata/etc/...  /opt/netdata    /opt/netdata/usr/sbin/netdata             /opt/netdata/var/lib/netdata
/usr/local/etc/netd.  /usr/local      /usr/local/sbin/netdata, .../bin/netdata  /usr/local/var/lib/netdata (Homebrew),
                      custom                                                    /var/db/netdata (FreeBSD) if present
user-given dirs       see below       <prefix>/usr/sbin, <prefix>/sbin, /bin    <prefix>/var/lib/netdata
====================  ==============  ========================================  =====================================

- ``/usr/local`` never borrows ``/usr/sbin/netdata`` or ``/var/lib/netdata``: those
  belong to the native install and would be counted twice.
- A user-given dir ending in ``etc/netdata`` has prefix = what comes before
  (``/`` -> native, ``/opt/netdata`` -> static, else custom). Any other dir (e.g. a
  bind-mounted ``/srv/netdata/config``) has prefix None, no binary, and its lib dir
  only if its ``netdata.conf`` says (``[directories] lib``); the grandparent is not
  guessed because it is as likely wrong as right.
- ``[directories] lib`` in an install's ``netdata.conf`` overrides the default lib dir.
- What starts the agent (``start``, from ``start_mechanisms``; the host's service
  manager) gives the user it starts as and the ``-c`` it passes, for the install it
  starts: where systemd starts it, the unit's ``User=`` (``root`` when unset) and its
  ``ExecStart``; where OpenRC does, what ``openrc-run`` hands start-stop-daemon or
  supervise-daemon (``openrc_launch``: ``command_user``, ``-u``/``--chuid`` in its
  ``*_daemon_args``, ``command_args``). A unit that systemd does not run starts nothing.
  runit, SysV and dinit: not read (user unknown, the default ``netdata.conf`` judged and
  said so). Where nothing starts the agent (mechanism ``none``: no manager's files for
  it) the systemd unit, when it runs this install, is still taken as what would start it.
- The ``netdata.conf`` judged is the one the daemon reads: the ``-c`` of the running
  daemon's command line, else the ``-c`` of what starts it, else
  ``<config dir>/netdata.conf``. Its ``[directories] config`` is where the daemon looks
  for the opt-out file; the statistics script keeps looking in the install's own config dir.
- The opt-out file is judged as the agent checks it (``agent_access``): readable by the
  user the daemon runs as, and by the user it starts as (v2.3+ checks it first then).
- For v2.3+ crash reports: the ids in ``<lib dir>/status-netdata.json`` (what the next
  start's default reads) and, from a running daemon, the value its start resolved (its
  ``/netdata.conf``, asked with the live query).
- A user-given dir that duplicates a standard candidate is not listed twice.
- A config dir that exists but is not a directory is reported with an error.
  ``config_dir_problems()`` lists such user-given dirs so the module can fail_json
  before discovery (discovery itself never raises).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shlex
import stat
from collections import namedtuple

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path as _host, read_host_text
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.run import run_argv
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import (
    GUID_RE, OPTOUT_FILE_NAME, TELEMETRY_VARS, V_CRASH_REPORTS)

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.versions import (
    format_version, parse_version)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.systemd_units import (
    parse_unit_text, read_text as read_systemd_text, service_environment, split_systemd_words)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.daemons import (
    daemon_for_prefix, find_netdata_daemons, parse_daemon_args)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.agent_access import user_check
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.netdata_conf import (
    parse_bind_to, parse_netdata_ini, read_netdata_conf)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.registry_hello import (
    query_live_crash_reports, query_registry_hello)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.service_manager import (
    detect_service_manager)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.start_mechanisms import (
    host_start, install_start, starts_install)

SERVICE_UNIT = 'netdata.service'
# v2.3+ keeps its last session in <lib dir>/status-netdata.json (STATUS_FILENAME in
# src/daemon/status-file.c, first place status_file_io_load looks, v2.10.4).
STATUS_FILE_NAME = 'status-netdata.json'
VERSION_TIMEOUT = 5

# (config_dir, prefix, kind, binaries, lib dirs: first existing, else the first)
STANDARD_CANDIDATES = (
    ('/etc/netdata', '/', 'native', ('/usr/sbin/netdata',), ('/var/lib/netdata',)),
    ('/opt/netdata/etc/netdata', '/opt/netdata', 'static',
     ('/opt/netdata/usr/sbin/netdata',), ('/opt/netdata/var/lib/netdata',)),
    ('/usr/local/etc/netdata', '/usr/local', 'custom',
     ('/usr/local/sbin/netdata', '/usr/local/bin/netdata'),
     ('/usr/local/var/lib/netdata', '/var/db/netdata')),
)


# ---------------------------------------------------------------- parsers (pure)

def parse_install_type(text):
    """``.install-type`` (shell assignments) -> the ``INSTALL_TYPE`` value or None."""
    for line in (text or '').splitlines():
        line = line.strip()
        if line.startswith('export '):
            line = line[len('export '):].strip()
        if not line.startswith('INSTALL_TYPE='):
            continue
        raw = line[len('INSTALL_TYPE='):]
        try:
            words = shlex.split(raw, comments=True)
        except ValueError:
            return None
        return words[0] if words and words[0] else None
    return None


def parse_machine_guid(text):
    """Registry id file text -> ``(guid or None, error or None)``; GUID must be a UUID."""
    value = (text or '').strip()
    if not value:
        return None, 'empty'
    if GUID_RE.match(value):
        return value, None
    return None, 'not a UUID'


def claimed_id_from_cloud_conf(text):
    """``cloud.d/cloud.conf`` text -> the non-empty ``claimed_id`` (``[global]`` first), or None."""
    sections = parse_netdata_ini(text)
    ordered = [sections.get('global', {})] + [v for k, v in sorted(sections.items()) if k != 'global']
    for options in ordered:
        value = (options.get('claimed_id') or '').strip()
        if value:
            return value
    return None


def status_file_ids(text):
    """``status-netdata.json`` text -> ``(ids_known, error)``: whether the ``agent`` object
    holds a claim id or node id (``claim_id``/``node_id``, ``ND_claim_id``/``ND_node_id``
    before format 18; null or the zero UUID is none), which turn v2.3+'s crash-report
    default on at the next start (check_crash_reports_config in src/daemon/status-file.c,
    v2.10.4). A file the daemon cannot parse gives it no ids either: False, with why."""
    try:
        data = json.loads(text)
    except ValueError:
        return False, 'not JSON (the daemon ignores it too)'
    agent = data.get('agent') if isinstance(data, dict) else None
    if not isinstance(agent, dict):
        return False, 'no agent object (the daemon ignores the file)'
    for key in ('claim_id', 'node_id', 'ND_claim_id', 'ND_node_id'):
        value = agent.get(key)
        if isinstance(value, str) and value.strip('0-') and GUID_RE.match(value):
            return True, None
    return False, None


def prefix_from_config_dir(config_dir):
    """``/opt/netdata/etc/netdata`` -> ``/opt/netdata``; ``/etc/netdata`` -> ``/``; other -> None."""
    path = os.path.normpath(config_dir)
    if path == '/etc/netdata':
        return '/'
    if path.endswith('/etc/netdata'):
        return path[:-len('/etc/netdata')] or '/'
    return None


def kind_for_prefix(prefix):
    if prefix == '/':
        return 'native'
    if prefix == '/opt/netdata':
        return 'static'
    return 'custom'


# ---------------------------------------------------------------- helpers

def _join(prefix, path):
    return os.path.normpath('/' + prefix.strip('/') + '/' + path.lstrip('/')) if prefix != '/' else path


def _stat(root, path):
    try:
        return os.stat(_host(root, path))
    except OSError:
        return None


def default_run_command(argv, timeout=VERSION_TIMEOUT):
    """Run *argv* -> ``(rc, out, err)``; never raises (rc None when it could not run or
    timed out, with why in *err*)."""
    result = run_argv(argv, timeout)
    if result.start_error is not None:
        return None, '', 'cannot run %s: %s' % (argv[0], result.start_error)
    if result.timed_out:
        return None, '', '%s timed out after %ss' % (argv[0], timeout)
    return result.rc, result.out, result.err


def config_dir_problems(config_dirs, root='/'):
    """User-given config dirs that cannot be used: list of error strings (empty = fine).

    A relative path, or a path that exists but is not a directory. A dir that does
    not exist is not a problem here (it is simply not an install on this host).
    The module turns a non-empty list into ``fail_json``.
    """
    problems = []
    for config_dir in config_dirs or ():
        if not isinstance(config_dir, str) or not config_dir.startswith('/'):
            problems.append('config_dir %r: not an absolute path' % (config_dir,))
            continue
        host = _host(root, config_dir)
        if os.path.lexists(host) and not os.path.isdir(host):
            problems.append('config_dir %s exists but is not a directory' % config_dir)
    return problems


# ---------------------------------------------------------------- what the daemon reads

def config_file_from_exec_start(exec_start):
    """The ``-c FILE`` of a unit's ``ExecStart=`` (systemd word splitting), or None."""
    if not exec_start:
        return None
    words, _err = split_systemd_words(exec_start)
    if not words:
        return None
    # ExecStart prefixes "-", ":", "+", "!", "!!" keep argv[0]; "@" means the next word is argv[0].
    program = words[0]
    argv = words[1:] if program.lstrip('-:+!').startswith('@') else words
    return parse_daemon_args(argv).get('config_file')


def netdata_conf_choice(config_dir, daemon_config_file, launch, errors):
    """``(path, source)`` of the ``netdata.conf`` the daemon reads.

    ``-c FILE`` replaces the default file (no fallback: the daemon exits when it cannot
    load it); without it the daemon reads ``<compiled config dir>/netdata.conf`` before
    any ``[directories] config`` is known (``load_netdata_conf`` in daemon/main.c
    v1.37.1; ``netdata_conf_load`` in src/daemon/config/netdata-conf.c v2.10.4). The
    running daemon's command line comes first, then what starts it (*launch*, a
    :data:`Launch`: its ``-c``, or its arguments unknown).
    *source*: ``daemon``, ``service`` or ``default``.
    """
    default = config_dir.rstrip('/') + '/netdata.conf'
    for value, source, label in ((daemon_config_file, 'daemon', 'running daemon'),
                                 (launch.config_file, 'service', launch.config_from)):
        if not value:
            continue
        if not value.startswith('/'):
            errors.append('netdata.conf given as -c %s (%s) is a relative path; judging %s'
                          % (value, label, default))
            return default, 'default'
        return os.path.normpath(value), source
    if not daemon_config_file and launch.config_why:
        errors.append('%s; judging %s' % (launch.config_why, default))
    return default, 'default'


def user_config_dir_of(config_dir, configured, errors):
    """The dir the daemon looks for the opt-out file in: ``[directories] config`` when
    set (an absolute path), else the compiled-in one (the install's config dir)."""
    if configured is None or configured == '':
        return config_dir
    if not configured.startswith('/'):
        errors.append('[directories] config = %s is not an absolute path; the daemon resolves it '
                      'from its working directory; judging %s' % (configured, config_dir))
        return config_dir
    return os.path.normpath(configured)


def _service_user(root, service):
    """``User=`` of the service (unit, then drop-ins; the last one wins, empty resets):
    the user the daemon starts as. ``root`` when unset; None when no unit is known."""
    if not service.get('unit') or service.get('masked'):
        return None
    user = None
    for path in [service['unit']] + list(service.get('dropins') or []):
        text, err = read_systemd_text(root, path)
        if text is None:
            return None
        for section, key, value in parse_unit_text(text):
            if section == 'Service' and key == 'User':
                user = value or None
    return user or 'root'


def agent_user_of(run_as_user, start_user):
    """The user the daemon runs as after its start (None: unknown).

    Started as root it switches to ``[global] run as user`` (default ``netdata``; empty:
    it stays root); started as another user it cannot switch and stays that user
    (``post_conf_load`` / ``become_daemon`` in daemon/main.c, daemon/daemon.c v1.37.1;
    ``netdata_conf_section_global_run_as_user`` in src/daemon/config/netdata-conf-global.c
    v2.10.4). An unknown start user is taken as root, as every service manager and the
    official container start it.
    """
    if start_user is not None and start_user != 'root':
        return start_user
    if run_as_user is None:
        return 'netdata'
    return run_as_user or 'root'


def describe_optout_file(root, path, exists, agent_user, start_user, script_path, start_why=None):
    """The facts' ``optout_file``: whether the agent's own checks find the opt-out file.

    - ``readable_by_agent``: ``access(path, R_OK)`` as the user the daemon runs as (how a
      daemon below v2.3.0 decides, and how v2.3 to v2.5 re-check before each event);
    - ``readable_at_start``: the same as the user the daemon starts as: from v2.3.0
      ``analytics_check_enabled()`` runs first in ``daemon_status_file_check_crash()``,
      before ``become_daemon()`` drops privileges (src/daemon/main.c v2.3.0 to v2.11.0),
      and once off it stays off. Unknown start user (*start_why* says why): known only
      when both agree;
    - ``script``: what ``anonymous-statistics.sh`` tests, ``[ -f <compiled config
      dir>/.opt-out-from-anonymous-statistics ]`` as the run-as user (the path is baked
      in at build time; ``[directories] config`` does not move it).
    """
    if exists:
        readable, reason = user_check(root, path, agent_user) if agent_user else (None, 'run-as user unknown')
        if start_user is None:
            root_reads, _why = user_check(root, path, 'root')
            at_start = readable if readable is True or root_reads is False else None
            at_start_why = reason if at_start is not None else (
                'the user the daemon starts as is unknown (%s); root could read the file, %s'
                % (start_why or 'no service unit starts it', reason))
        elif start_user == agent_user:
            at_start, at_start_why = readable, reason
        else:
            at_start, at_start_why = user_check(root, path, start_user)
    else:
        readable, reason = False, '%s does not exist' % path
        at_start, at_start_why = False, reason
    script_found, script_why = (user_check(root, script_path, agent_user, want='regular')
                                if agent_user else (None, 'run-as user unknown'))
    return {
        'path': path, 'exists': bool(exists),
        'readable_by_agent': readable, 'reason': reason, 'agent_user': agent_user,
        'readable_at_start': at_start, 'start_user': start_user,
        'reason_at_start': at_start_why,
        'script': {'path': script_path, 'exists': _stat(root, script_path) is not None,
                   'found_by_agent': script_found, 'reason': script_why},
    }


# ---------------------------------------------------------------- collector

# Where one install may be: its config dir, prefix and kind, the binaries and lib dirs it
# may have (first existing wins).
_Candidate = namedtuple('_Candidate', 'config_dir prefix kind binaries lib_dirs')

# One install found: the candidate with the binary that exists (None: config dir only).
InstallSite = namedtuple('InstallSite', 'config_dir prefix kind binary lib_dirs')

# What every install of the host is described with: the root its files are under, how to
# run ``<binary> -v``, whether (and how long) to ask its running daemon, and the process
# scan, service unit and start mechanism (``start_mechanisms.host_start()``; None: not
# known, then the service unit counts where it runs the install) gathered once per host.
HostScan = namedtuple('HostScan', 'root run_command live_query live_timeout proc_scan service start')

# Who starts one install: the user (None: unknown, *user_why* says why), the ``-c`` it
# passes (None: none), what passes it (for messages), and why its arguments are not
# known (None: they are).
Launch = namedtuple('Launch', 'user user_why config_file config_from config_why')


def _candidates(root, extra_config_dirs):
    seen = set()
    out = []
    for config_dir, prefix, kind, binaries, libs in STANDARD_CANDIDATES:
        seen.add(os.path.normpath(config_dir))
        out.append(_Candidate(config_dir, prefix, kind, binaries, libs))
    for config_dir in extra_config_dirs or ():
        if not isinstance(config_dir, str) or not config_dir.startswith('/'):
            continue
        norm = os.path.normpath(config_dir)
        if norm in seen:
            continue
        seen.add(norm)
        prefix = prefix_from_config_dir(norm)
        if prefix is None:
            out.append(_Candidate(norm, None, 'custom', (), ()))
            continue
        binaries = tuple(_join(prefix, b) for b in ('usr/sbin/netdata', 'sbin/netdata', 'bin/netdata'))
        out.append(_Candidate(norm, prefix, kind_for_prefix(prefix), binaries, (_join(prefix, 'var/lib/netdata'),)))
    return out


def discover_installs(root='/', extra_config_dirs=(), run_command=None, live_query=True, live_timeout=1.0,
                      proc_scan=None, service=None, service_manager=None):
    """Every install under *root*, as a list of dicts (discovery order). Never raises.

    *run_command(argv) -> (rc, out, err)* runs ``<binary> -v`` (default: subprocess,
    5 s timeout). *proc_scan* / *service* / *service_manager* may pass in already
    gathered ``find_netdata_daemons()`` / ``service_environment()`` /
    ``detect_service_manager()`` results.

    Each dict: ``config_dir, prefix, kind, lib_dir, binary, version, version_string,
    install_type, machine_guid, claimed, optout_file{path,exists,readable_by_agent,reason,
    agent_user,readable_at_start,reason_at_start,start_user,script{path,exists,found_by_agent,
    reason}}, netdata_conf{path,exists,crash_reports,web_address,web_port,source,config_dir,
    run_as_user},
    service{unit,dropins,environment}, daemon{running,pid,environment}, start (see
    ``start_mechanisms.install_start``), errors``
    and ``evidence{optout_file_mtime, optout_file_ctime, config_dir_mtime, netdata_conf_mtime,
    daemon_started_at, daemon_start_window, daemon_exe, live, service_masked,
    service_exec_start, service_starts_this_install, service_errors, claimed_via,
    web_enabled, live_crash_reports, status_file_ids}`` for the decision (not for display).
    """
    if run_command is None:
        run_command = default_run_command
    found = []
    start = None
    for candidate in _candidates(root, extra_config_dirs):
        try:
            config_exists = os.path.lexists(_host(root, candidate.config_dir))
            binary = next((b for b in candidate.binaries if _is_file(root, b)), None)
            if not config_exists and binary is None:
                continue
            if proc_scan is None:
                proc_scan = find_netdata_daemons(root=root)
            if service is None:
                service = service_environment(SERVICE_UNIT, root=root)
            if start is None:
                if service_manager is None:
                    service_manager = detect_service_manager(root)
                start = host_start(service_manager, root=root, systemd_unit=service.get('unit'))
            scan = HostScan(root, run_command, live_query, live_timeout, proc_scan, service, start)
            site = InstallSite(candidate.config_dir, candidate.prefix, candidate.kind, binary, candidate.lib_dirs)
            found.append(describe_install(scan, site))
        except Exception as exc:  # keep going: one odd install must not hide the others
            broken = _broken_install(candidate.config_dir, candidate.prefix, candidate.kind,
                                     'unexpected %s: %s' % (type(exc).__name__, exc))
            if start is not None:
                broken['start'] = install_start(start, broken, None)
            found.append(broken)
    return found


def _is_file(root, path):
    st = _stat(root, path)
    return st is not None and stat.S_ISREG(st.st_mode)


def _broken_install(config_dir, prefix, kind, error):
    return {
        'config_dir': config_dir, 'prefix': prefix, 'kind': kind, 'lib_dir': None, 'binary': None,
        'version': None, 'version_string': None, 'install_type': None, 'machine_guid': None,
        'claimed': False,
        'optout_file': {'path': config_dir + '/' + OPTOUT_FILE_NAME, 'exists': False,
                        'readable_by_agent': None, 'reason': error, 'agent_user': None,
                        'readable_at_start': None, 'start_user': None, 'reason_at_start': error,
                        'script': {'path': config_dir + '/' + OPTOUT_FILE_NAME, 'exists': False,
                                   'found_by_agent': None, 'reason': error}},
        'netdata_conf': {'path': config_dir + '/netdata.conf', 'exists': False, 'crash_reports': None,
                         'web_address': None, 'web_port': None, 'source': 'default',
                         'config_dir': config_dir, 'run_as_user': None},
        'service': {'unit': None, 'dropins': [], 'environment': dict((n, None) for n in TELEMETRY_VARS)},
        'daemon': {'running': False, 'pid': None, 'environment': None},
        'errors': [error],
        'evidence': {'optout_file_mtime': None, 'optout_file_ctime': None, 'config_dir_mtime': None,
                     'netdata_conf_mtime': None, 'daemon_started_at': None, 'daemon_start_window': None,
                     'daemon_exe': None, 'live': None, 'service_masked': False, 'service_exec_start': None,
                     'service_starts_this_install': None, 'service_errors': [], 'claimed_via': None,
                     'web_enabled': True, 'live_crash_reports': None, 'status_file_ids': False},
    }


def describe_install(scan, site):
    """The contract's dict for the install at *site* (an :data:`InstallSite`), from what
    the host gave (a :data:`HostScan`). Every problem is an error string in ``errors``."""
    root = scan.root
    install = _broken_install(site.config_dir, site.prefix, site.kind, None)
    errors = install['errors'] = []
    install['binary'] = site.binary
    config_dir_ok = _check_config_dir(root, site, errors)
    daemon = daemon_for_prefix(scan.proc_scan.get('daemons') or [], site.prefix)
    service_starts = _service_starts(scan.service.get('exec_start'), site.binary, site.prefix)
    launch = _launch(root, scan, site, service_starts)
    conf = _fill_netdata_conf(install, root, site, daemon, launch, errors)
    agent_user = agent_user_of(conf.get('run_as_user'), launch.user)
    _fill_optout_file(install, root, site.config_dir, conf['path'], agent_user, launch, errors)
    lib_dir = _fill_lib_dir(install, root, site, conf.get('lib_dir'), errors)
    if config_dir_ok:
        _fill_install_type(install, root, site.config_dir, errors)
    if site.binary is not None:
        _fill_version(install, site.binary, scan.run_command, errors)
    if lib_dir is not None:
        _fill_machine_guid(install, root, lib_dir, errors)
        _fill_claimed(install, root, lib_dir, errors)
        _fill_status_ids(install, root, lib_dir, errors)
    _fill_service(install, scan.service, service_starts)
    if scan.start is not None:
        install['start'] = install_start(scan.start, install, service_starts)
    if daemon is not None:
        _fill_daemon(install, daemon, conf, scan.live_query, scan.live_timeout, errors)
    return install


# How each mechanism is named in messages.
_MECHANISM_NAMES = {'openrc': 'OpenRC', 'runit': 'runit', 'sysvinit': 'the SysV init script', 'dinit': 'dinit'}


def _launch(root, scan, site, service_starts):
    """Who starts the install at *site*: a :data:`Launch` (see the module doc)."""
    host = scan.start
    mechanism = host.get('mechanism') if host else None
    if mechanism in (None, 'systemd', 'none'):
        # systemd starts the agent, or nothing does (then the unit, as what would)
        if service_starts is not True:
            return Launch(None, 'no service unit starts it', None, None, None)
        user = _service_user(root, scan.service)
        return Launch(user, None if user else 'its service unit cannot be read',
                      config_file_from_exec_start(scan.service.get('exec_start')), 'service ExecStart', None)
    name = _MECHANISM_NAMES.get(mechanism, mechanism)
    starts = starts_install(host.get('command'), site.binary, site.prefix)
    if starts is not True:
        why = ('%s starts another install (%s)' % (name, host.get('command')) if starts is False
               else 'whether %s starts this install is unknown' % name)
        return Launch(None, why, None, None, None)
    launch = host.get('launch')
    if launch is None:
        return Launch(None, 'the user %s starts it as is not read' % name, None, None,
                      '%s starts this install; its command line (a -c there) is not read' % name)
    config_file, config_why = None, None
    if launch.get('args') is not None:
        config_file = parse_daemon_args(['netdata'] + list(launch['args'])).get('config_file')
    else:
        config_why = '%s starts this install with arguments that cannot be told (%s)' % (name, launch.get('args_why'))
    user_why = None if launch.get('user') else '%s: %s' % (name, launch.get('user_why'))
    return Launch(launch.get('user'), user_why, config_file, '%s command_args' % name, config_why)


def _check_config_dir(root, site, errors):
    """Whether the config dir is a directory; an error when it is something else or is
    missing (the binary alone made it an install)."""
    host_dir = _host(root, site.config_dir)
    dir_ok = os.path.isdir(host_dir)
    if os.path.lexists(host_dir) and not dir_ok:
        errors.append('config dir %s exists but is not a directory' % site.config_dir)
    elif not os.path.lexists(host_dir):
        errors.append('config dir %s does not exist (binary %s found)' % (site.config_dir, site.binary))
    return dir_ok


def _fill_netdata_conf(install, root, site, daemon, launch, errors):
    """Which netdata.conf the daemon reads, and from it where the daemon looks for the
    opt-out file: fills ``netdata_conf`` and its evidence; returns what
    :func:`read_netdata_conf` read."""
    conf_path, conf_source = netdata_conf_choice(
        site.config_dir, (daemon.get('args') or {}).get('config_file') if daemon else None, launch, errors)
    conf = read_netdata_conf(conf_path, root=root)
    errors.extend(conf['errors'])
    if conf_source != 'default' and not conf['exists']:
        errors.append('%s (-c of the %s) does not exist: the daemon would not start'
                      % (conf_path, 'running daemon' if conf_source == 'daemon' else launch.config_from))
    install['netdata_conf'] = {
        'path': conf['path'], 'exists': conf['exists'], 'crash_reports': conf['crash_reports'],
        'web_address': conf['web_address'], 'web_port': conf['web_port'],
        'source': conf_source, 'config_dir': user_config_dir_of(site.config_dir, conf.get('user_config_dir'), errors),
        'run_as_user': conf.get('run_as_user'),
    }
    install['evidence']['netdata_conf_mtime'] = conf['mtime']
    install['evidence']['web_enabled'] = conf['web_enabled']
    return conf


def _fill_optout_file(install, root, config_dir, conf_path, agent_user, launch, errors):
    """The opt-out file, as the daemon checks it: access(R_OK) on ``<[directories]
    config>/.opt-out-from-anonymous-statistics`` (any kind of entry that passes counts,
    noted if odd); and the mtimes that date it against the daemon's start."""
    evidence = install['evidence']
    user_config_dir = install['netdata_conf']['config_dir']
    # Creating or removing the opt-out file changes its dir's mtime: with the daemon's
    # start time it tells whether the file was there when a v1 daemon decided.
    user_dir_ok = os.path.isdir(_host(root, user_config_dir))
    dir_st = _stat(root, user_config_dir) if user_dir_ok else None
    evidence['config_dir_mtime'] = dir_st.st_mtime if dir_st is not None else None
    if user_config_dir != config_dir and not user_dir_ok:
        errors.append('config dir %s ([directories] config of %s) is not a directory'
                      % (user_config_dir, conf_path))
    optout = user_config_dir.rstrip('/') + '/' + OPTOUT_FILE_NAME
    st = _stat(root, optout) if user_dir_ok else None
    install['optout_file'] = describe_optout_file(root, optout, st is not None, agent_user, launch.user,
                                                  config_dir.rstrip('/') + '/' + OPTOUT_FILE_NAME, launch.user_why)
    evidence['optout_file_mtime'] = st.st_mtime if st is not None else None
    evidence['optout_file_ctime'] = st.st_ctime if st is not None else None
    if st is not None and not stat.S_ISREG(st.st_mode):
        errors.append('%s exists but is not a regular file' % optout)


def _fill_lib_dir(install, root, site, configured, errors):
    """netdata.conf's ``[directories] lib`` (*configured*), else the first existing
    default (else the first default); returns it (None: unknown)."""
    lib_dir = configured
    if lib_dir is None and site.lib_dirs:
        lib_dir = next((d for d in site.lib_dirs if os.path.isdir(_host(root, d))), site.lib_dirs[0])
    install['lib_dir'] = lib_dir
    if lib_dir is None:
        errors.append('lib dir unknown for %s (not under an etc/netdata prefix and not set in netdata.conf)'
                      % site.config_dir)
    return lib_dir


def _fill_install_type(install, root, config_dir, errors):
    text, err = read_host_text(root, config_dir + '/.install-type')
    if err:
        errors.append(err)
    install['install_type'] = parse_install_type(text) if text is not None else None


def _fill_machine_guid(install, root, lib_dir, errors):
    guid_path = lib_dir + '/registry/netdata.public.unique.id'
    text, err = read_host_text(root, guid_path)
    if err:
        errors.append(err)
    elif text is not None:
        guid, why = parse_machine_guid(text)
        install['machine_guid'] = guid
        if why:
            errors.append('%s: %s, machine GUID unknown' % (guid_path, why))


def _fill_service(install, service, service_starts):
    """The systemd service (one netdata.service per host; static installs install it too)."""
    install['service'] = {
        'unit': service.get('unit'),
        'dropins': list(service.get('dropins') or []),
        'environment': dict((n, (service.get('environment') or {}).get(n)) for n in TELEMETRY_VARS),
    }
    evidence = install['evidence']
    evidence['service_masked'] = bool(service.get('masked'))
    evidence['service_exec_start'] = service.get('exec_start')
    evidence['service_errors'] = list(service.get('errors') or [])
    evidence['service_starts_this_install'] = service_starts


def _fill_daemon(install, daemon, conf, live_query, live_timeout, errors):
    """The running daemon: its pid and environment, and (with *live_query*) its own
    answers about the analytics flag and the crash-report value its start resolved."""
    env = daemon.get('environment')
    install['daemon'] = {
        'running': True,
        'pid': daemon.get('pid'),
        'environment': None if env is None else dict((n, env.get(n)) for n in TELEMETRY_VARS),
    }
    evidence = install['evidence']
    evidence['daemon_started_at'] = daemon.get('started_at')
    evidence['daemon_start_window'] = daemon.get('started_within')
    evidence['daemon_exe'] = daemon.get('exe')
    errors.extend(daemon.get('errors') or [])
    address, port = daemon_web_address(conf, daemon)
    if live_query and conf['web_enabled'] and address and port:
        evidence['live'] = query_registry_hello(address, port, live_timeout)
        # v2.3+ shows in its /netdata.conf the crash-report value its start resolved.
        version = parse_version(install['version'])
        if version is None or version >= V_CRASH_REPORTS:
            evidence['live_crash_reports'] = query_live_crash_reports(address, port, live_timeout)


def daemon_web_address(conf, daemon):
    """``(address, port)`` the running *daemon* answers on: its ``netdata.conf``'s (as
    :func:`read_netdata_conf` read it), overridden by its own ``-i`` / ``-p`` (the
    address the facts show stays the file's)."""
    address, port = conf['web_address'], conf['web_port']
    args = daemon.get('args') or {}
    if args.get('bind_to'):
        address, port = parse_bind_to(args['bind_to'], port)
    if args.get('port'):
        port = args['port']
    return address, port


def _fill_version(install, binary, run_command, errors):
    try:
        rc, out, err = run_command([binary, '-v'])
    except Exception as exc:
        errors.append('%s -v: %s' % (binary, exc))
        return
    text = '%s\n%s' % (out or '', err or '')
    version = parse_version(text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    shown = next((line for line in lines if parse_version(line) is not None), None)
    install['version_string'] = shown if shown is not None else (lines[0] if lines else None)
    install['version'] = format_version(version)
    if version is None:
        errors.append('%s -v (rc %s): no version in its output' % (binary, rc))


def _fill_claimed(install, root, lib_dir, errors):
    claimed_path = lib_dir + '/cloud.d/claimed_id'
    text, err = read_host_text(root, claimed_path)
    if err:
        errors.append(err)
    if text is not None and text.strip():
        install['claimed'] = True
        install['evidence']['claimed_via'] = claimed_path
        return
    conf_path = lib_dir + '/cloud.d/cloud.conf'
    text, err = read_host_text(root, conf_path)
    if err:
        errors.append(err)
    if text is not None and claimed_id_from_cloud_conf(text):
        install['claimed'] = True
        install['evidence']['claimed_via'] = conf_path


def _fill_status_ids(install, root, lib_dir, errors):
    """evidence['status_file_ids']: True/False, None when the status file is unreadable.
    Only the lib dir is read: the daemon also looks in its cache dir, /tmp, /run,
    /var/run and its working dir and takes the newest (status_file_io_load in
    src/daemon/status-file-io.c, v2.10.4), which it writes only when the lib dir fails."""
    path = lib_dir.rstrip('/') + '/' + STATUS_FILE_NAME
    text, err = read_host_text(root, path)
    if err:
        errors.append(err)
        install['evidence']['status_file_ids'] = None
        return
    if text is None:
        return
    known, why = status_file_ids(text)
    install['evidence']['status_file_ids'] = known
    if why:
        errors.append('%s: %s' % (path, why))


def _service_starts(exec_start, binary, prefix):
    """Whether the unit's ExecStart runs this install's binary; None when unknown."""
    if not exec_start:
        return None
    try:
        words = shlex.split(exec_start)
    except ValueError:
        return None
    # ExecStart prefixes: "-", "@", ":", "+", "!", "!!"
    program = words[0].lstrip('-@:+!') if words else ''
    return starts_install(program, binary, prefix)
