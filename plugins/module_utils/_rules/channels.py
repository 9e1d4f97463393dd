# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Decide, channel by channel, whether a Netdata install sends anonymous telemetry.

One pure function per level: :func:`decide_install_telemetry` for one install,
:func:`decide_host_telemetry` over every install of a host. Facts in, verdicts and
human-readable reasons out. No I/O, never raises on odd input.

Every rule applied here was read from Netdata's own source; the specification, with the
file and tag of each rule and which ones a real agent has judged, is
``docs/dev/telemetry-rules.md``. Names and version boundaries come from
``_rules/netdata.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import (
    CHANNELS, OPTOUT_FILE_NAME, REPRESENTATIVE_VERSIONS, TELEMETRY_VARS, V_CRASH_REPORTS, V_DAEMON_READS_ENV,
    V_DOCKER_NONEMPTY_LAST, V_DOCKER_ZERO_IS_NO, V_NO_STATISTICS_SCRIPT, V_SENTRY, state_word)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.versions import parse_version

# kickstart.sh tests "-eq 1". Accepted by both dash and bash: blanks around, a
# plus sign, leading zeros. dash alone also accepts trailing \n \r \v \f.
_SHELL_ONE_BOTH = re.compile(r'[ \t\n\r\v\f]*\+?0*1[ \t]*\Z')
_SHELL_ONE_DASH = re.compile(r'[ \t\n\r\v\f]*\+?0*1[ \t\n\r\v\f]*\Z')

_C_SPACE = ' \t\n\r\v\f'


# ---------------------------------------------------------------------------------
# small helpers

def optout_file_read_live(version):
    """Whether a running daemon of *version* sees a new opt-out file without a restart:
    True for v2.3.0 to v2.5.x (the analytics flag is re-checked before each event it
    sends), False before v2.3.0 (read once at start) and from v2.6.0 (#20654: read only
    at start), None when the version is unknown."""
    parsed = parse_version(version)
    if parsed is None:
        return None
    return V_DAEMON_READS_ENV <= parsed < V_NO_STATISTICS_SCRIPT


def statistics_script_exists(version):
    """Whether *version* still ships and runs ``anonymous-statistics.sh`` (below v2.6.0);
    None when the version is unknown."""
    parsed = parse_version(version)
    if parsed is None:
        return None
    return parsed < V_NO_STATISTICS_SCRIPT


def container_entrypoint_opts_out(version, env):
    """Whether the official image's entrypoint (``packaging/docker/run.sh``, run at every
    container start) creates the opt-out file with the container environment *env*
    (``{'DO_NOT_TRACK': str|None, 'DISABLE_TELEMETRY': str|None}``, None = unset):
    ``(True|False|None, reason)``.

    Up to v2.8.1 when either is non-empty (``[ -n "$X" ]``; v1.37.1's numeric test adds
    no value that is not non-empty), so ``0`` opts out too; from v2.8.2
    (``V_DOCKER_ZERO_IS_NO``, "fix(docker): fix bugs and refactor Docker entrypoint
    script", #21364, also in v2.9.0) when either is set and is not the string ``0``
    (``"${X:-0}" != "0"``): unset, empty and ``0`` keep telemetry on, any other value
    (``false`` too) opts out. An unknown version is judged under both rules and is known
    only when they agree; an unknown environment is unknown.
    """
    env = _env(env)
    if env is None:
        return None, 'the container environment is unknown'
    parsed = parse_version(version)
    rules = [parsed] if parsed is not None else [V_DOCKER_NONEMPTY_LAST, V_DOCKER_ZERO_IS_NO]
    answers = []
    for rule in rules:
        if rule >= V_DOCKER_ZERO_IS_NO:
            hits = [n for n in TELEMETRY_VARS if env[n] not in (None, '', '0')]
        else:
            hits = [n for n in TELEMETRY_VARS if env[n] not in (None, '')]
        answers.append((rule, hits))
    shown = ', '.join('%s=%s' % (n, _value_text(env[n])) for n in TELEMETRY_VARS)
    if len(set(bool(h) for _r, h in answers)) > 1:
        return None, ('unknown: the image version is unknown and the entrypoint rules disagree on %s '
                      '(up to v2.8.1 any non-empty value opts out, from v2.8.2 any value but 0)' % shown)
    rule, hits = answers[0]
    where = ('run.sh up to v2.8.1: any non-empty value' if rule < V_DOCKER_ZERO_IS_NO
             else 'run.sh from v2.8.2: any value but empty or 0')
    if parsed is None:
        where = 'run.sh of every version'
    if hits:
        return True, ('the image\'s entrypoint creates the opt-out file at every start: %s (%s)'
                      % (', '.join('%s=%s' % (n, _value_text(env[n])) for n in hits), where))
    return False, ('the image\'s entrypoint does not create the opt-out file: %s (%s)' % (shown, where))


def _version_text(version):
    return 'v%d.%d.%d' % version if version else 'unknown version'


def _env(env):
    """Normalise an environment mapping; None stays None (unknown)."""
    if env is None or not isinstance(env, dict):
        return None
    out = {}
    for name in TELEMETRY_VARS:
        value = env.get(name)
        out[name] = None if value is None else to_text(value, errors='replace')
    return out


def _nonempty(env, name):
    """True/False whether ``name`` is set non-empty; None when env is unknown."""
    if env is None:
        return None
    value = env.get(name)
    return value is not None and value != ''


def _value_text(value):
    return 'unset' if value is None else repr(value)


def _three_valued_or(*values):
    """Three-valued OR: True if any is True, else None if any is None, else False."""
    if any(value is True for value in values):
        return True
    if any(value is None for value in values):
        return None
    return False


def _three_valued_not(value):
    return None if value is None else (not value)


def _bool_or_none(value):
    return value if value in (True, False) else None


def _num(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _channel(applies, enabled=None, configured=None, running=None, drift=False,
             counted=False, reasons=None):
    return {
        'applies': applies,
        'enabled': enabled,
        'configured': configured,
        'running': running,
        'drift': bool(drift),
        'counted': bool(counted),
        'reasons': list(reasons or []),
    }


# ---------------------------------------------------------------------------------
# the evidence about one install, and the facts the channels read from it

# A file time comes from the kernel's coarse clock, which may lag the change it records
# by one timer tick (10 ms at the lowest HZ, 100): the margin before a start within
# which a file time cannot be ordered against it.
FS_TIME_LAG = 0.02

InstallEvidence = namedtuple('InstallEvidence', [
    'version', 'optout_file_exists', 'service_env', 'daemon_env', 'daemon_running',
    'live_analytics', 'crash_reports_setting', 'claimed', 'installer_env',
    'strict', 'optout_file_mtime', 'daemon_started_at', 'netdata_conf_mtime', 'config_dir',
    'config_dir_mtime', 'optout_file_access', 'optout_file_ctime', 'live_crash_reports',
    'status_file_ids', 'daemon_start_window'])
# The first nine have no default on purpose: each None there is a statement (unknown,
# unset or absent, per field), so a caller must make it.
InstallEvidence.__new__.__defaults__ = (False, None, None, None, '', None, None, None, None, False,
                                        None)
InstallEvidence.__doc__ = """What is known about one Netdata install: the input of
:func:`decide_install_telemetry`.

- ``version``: ``(major, minor, patch)`` (or a string such as ``1.37.1``); None when
  unknown: every channel then applies and a channel is on or off only when every version
  rule agrees, else unknown (None).
- ``optout_file_exists``: whether ``<config_dir>/.opt-out-from-anonymous-statistics``
  exists (None: unknown).
- ``service_env``: ``{'DO_NOT_TRACK': str|None, 'DISABLE_TELEMETRY': str|None}`` the
  service would start the daemon with; None = unset, '' = set empty (different). None for
  the whole mapping: unknown.
- ``daemon_env``: the same for the running daemon; None when none runs or its environment
  cannot be read.
- ``daemon_running``: whether a daemon of this install runs.
- ``live_analytics``: the running daemon's own ``anonymous_statistics`` from
  ``/api/v1/registry?action=hello`` (asked without ``DNT: 1``), or None.
- ``crash_reports_setting``: raw ``[global] crash reports`` value, None when unset.
- ``claimed``: whether the node is claimed to Netdata Cloud (None: unknown).
- ``installer_env``: the environment installer/updater runs get (same shape).
- ``strict``: count the installer channel toward ``opted_out`` (default False).
- ``optout_file_mtime``, ``daemon_started_at``, ``netdata_conf_mtime``,
  ``config_dir_mtime``: epoch seconds, or None when unknown. They tell whether the opt-out
  file existed when the running daemon started (the config dir's mtime covers a removed
  file). ``daemon_started_at`` is the earliest the daemon can have started at.
- ``daemon_start_window``: seconds after ``daemon_started_at`` within which the daemon
  started (None: a second, what /proc/stat's whole-second btime allows). A file time
  within it (or within :data:`FS_TIME_LAG` before it) cannot be ordered against the
  start: what depends on that order is unknown.
- ``config_dir``: the install's config dir, used in reasons.
- ``optout_file_access``: the facts' ``optout_file`` dict: ``path`` (the file the daemon
  checks), ``readable_by_agent`` / ``readable_at_start`` (True, False, None:
  ``access(R_OK)`` as the run-as user / as the user the daemon starts as), ``reason``,
  ``reason_at_start``, ``agent_user``, ``start_user`` and ``script`` (``path``, ``exists``,
  ``found_by_agent``, ``reason``: the statistics script's ``[ -f ]``). A file the daemon
  cannot read (or may not) never counts as an opt-out. None: the caller knows only
  existence; the file then counts as readable (and is the one the script tests).
- ``optout_file_ctime``: epoch seconds; tells whether the file's mode and owner changed
  since the daemon started.
- ``live_crash_reports``: the running daemon's own ``[global] crash reports`` as its
  ``/netdata.conf`` shows it (the value its start resolved, default included), or None.
- ``status_file_ids``: whether the daemon's status file (``<lib>/status-netdata.json``)
  holds a claim id or node id: the next start's crash-report default reads them (False,
  the default: no such file; None: unknown).
"""


class _Facts(object):
    """The normalised inputs; built once from an :data:`InstallEvidence`, read by every
    channel."""

    def __init__(self, evidence):
        self.file = _bool_or_none(evidence.optout_file_exists)
        self.service_env = _env(evidence.service_env)
        self.daemon_env = _env(evidence.daemon_env)
        self.running = evidence.daemon_running is True
        self.live = _bool_or_none(evidence.live_analytics)
        raw = evidence.crash_reports_setting
        self.crash_raw = None if raw is None else to_text(raw, errors='replace')
        self.claimed = _bool_or_none(evidence.claimed)
        self.installer_env = _env(evidence.installer_env)
        # The environment the next start gets: the service's. When no service we know
        # starts this install (a daemon started by hand, or by something else), whoever
        # started the running daemon starts it again: its own environment, read from
        # /proc/PID/environ, is what it decided with and the only evidence there is.
        self.next_from_daemon = self.service_env is None and self.running and self.daemon_env is not None
        self.next_env = self.daemon_env if self.next_from_daemon else self.service_env
        self.next_where = "running daemon's" if self.next_from_daemon else 'service'
        live_crash = to_text(evidence.live_crash_reports, errors='replace', nonstring='passthru')
        self.live_crash = live_crash.strip(_C_SPACE) if isinstance(live_crash, str) else None
        self.status_ids = _bool_or_none(evidence.status_file_ids)
        self.strict = evidence.strict is True
        self.file_mtime = _num(evidence.optout_file_mtime)
        self.started_at = _num(evidence.daemon_started_at)
        window = _num(evidence.daemon_start_window)
        self.start_window = window if window is not None and window >= 0 else 1.0
        self.conf_mtime = _num(evidence.netdata_conf_mtime)
        self.dir_mtime = _num(evidence.config_dir_mtime)
        config_dir = evidence.config_dir or ''
        self.config_dir = config_dir if isinstance(config_dir, str) else str(config_dir)
        self.file_path = (self.config_dir.rstrip('/') + '/' + OPTOUT_FILE_NAME
                          if self.config_dir else OPTOUT_FILE_NAME)
        self.file_ctime = _num(evidence.optout_file_ctime)
        self._access(evidence.optout_file_access)
        self.file_at_start, self.file_at_start_why = self._file_at_start()

    def _access(self, access):
        """Whether the agent's own checks find the opt-out file (see the module doc).

        Without *access* (a caller that knows only whether the file exists) the file
        counts as readable and the script's file is the same one.
        """
        given = isinstance(access, dict)
        access = access if given else {}
        path = access.get('path')
        if isinstance(path, str) and path:
            self.file_path = path
        if given and self.file is True:
            self.read_agent = _bool_or_none(access.get('readable_by_agent'))
            self.read_start = _bool_or_none(access.get('readable_at_start'))
        else:
            self.read_agent = self.read_start = self.file
        self.read_agent_why = str(access.get('reason') or '')
        self.read_start_why = str(access.get('reason_at_start') or self.read_agent_why)
        self.agent_user = access.get('agent_user')
        self.start_user = access.get('start_user')
        script = access.get('script') if isinstance(access.get('script'), dict) else None
        if script is None:
            self.script_path, self.script_exists, self.script_file = self.file_path, self.file, self.file
            self.script_why = ''
        else:
            self.script_path = str(script.get('path') or self.file_path)
            self.script_exists = _bool_or_none(script.get('exists'))
            self.script_file = (False if self.script_exists is False
                                else _bool_or_none(script.get('found_by_agent')))
            self.script_why = str(script.get('reason') or '')

    def before_start(self, stamp):
        """Whether a file time *stamp* (epoch seconds) is surely not after the running
        daemon's start (True), surely after it (False), or too close to tell or unknown
        (None). The start is known within its window; a file time may lag the change it
        records by up to :data:`FS_TIME_LAG`."""
        if stamp is None or self.started_at is None:
            return None
        if stamp + FS_TIME_LAG <= self.started_at:
            return True
        if stamp > self.started_at + self.start_window:
            return False
        return None

    def readable_then(self, readable, at_start):
        """What an access(R_OK) check found at the daemon's start, given what it finds
        now (*readable*), for a file that existed then. A file whose inode has not
        changed since (ctime, which chmod and chown bump) had the same mode and owner;
        root (v2.3+ checks at start before dropping privileges) reads it whatever they are.
        """
        if readable is None:
            return None
        if self.file_ctime is None or self.started_at is None or self.before_start(self.file_ctime):
            return readable  # nothing says the mode or owner changed since
        if at_start and readable is True and self.start_user == 'root':
            return True
        return None

    def _file_at_start(self):
        """Whether the opt-out file existed when the running daemon started.

        The config dir's mtime changes whenever an entry is created, removed or
        renamed in it: when it is not newer than the start, the file's presence now is
        its presence then. Otherwise the file's own mtime dates a file that exists.
        A missing file may have been removed since: unknown.
        """
        if not self.running or self.started_at is None:
            return None, 'the daemon start time is unknown'
        if self.before_start(self.dir_mtime) and self.file is not None:
            return self.file, 'the config dir has not changed since the daemon started'
        if self.file is True and self.file_mtime is not None:
            older = self.before_start(self.file_mtime)
            if older is None:
                return None, ('the file was written too close to the daemon\'s start to tell '
                              'which came first')
            if older:
                return True, 'the file is older than the running daemon'
            return False, 'the file is newer than the running daemon'
        if self.file is True:
            return None, 'the file modification time is unknown'
        return None, ('the file may have existed when the daemon started and been removed '
                      'since (config dir changed after the start, or its time is unknown)')


# ---------------------------------------------------------------------------------
# daemon analytics: first decide (values and the case that explains them), then word
# the reasons in one place (_analytics_reasons)

class _AnalyticsRule(object):
    """What the analytics flag of one known *version* reads, and when."""

    def __init__(self, version):
        self.version = version
        # From v2.3.0 the daemon reads DISABLE_TELEMETRY and checks the opt-out file first
        # as the user it starts as, before it drops privileges.
        self.reads_env = version >= V_DAEMON_READS_ENV
        # v2.3 to v2.5 re-check the flag before each event they send (off stays off).
        self.rechecks_before_events = self.reads_env and version < V_NO_STATISTICS_SCRIPT
        self.source = ('src/daemon/analytics.c analytics_check_enabled' if self.reads_env
                       else 'send_statistics in daemon/analytics.c v1.37.1, the same up to v2.2.x')


# Why the running daemon's flag is what it is: the cases _analytics_running decides and
# _analytics_running_reason words.
_RUN_ENV_OFF = 'disable_telemetry_in_its_environment'
_RUN_FILE_READ = 'file_existed_and_was_read'
_RUN_FILE_UNREADABLE = 'file_existed_but_was_unreadable'
_RUN_FILE_ACCESS_UNKNOWN = 'file_existed_but_access_unknown'
_RUN_FILE_LATER_UNREADABLE = 'file_created_later_unreadable_to_rechecks'
_RUN_FILE_LATER_PENDING = 'file_created_later_until_next_event'
_RUN_FILE_LATER_AT_START_ONLY = 'file_created_later_decided_at_start'
_RUN_NO_FILE = 'no_file_at_start'
_RUN_FILE_AT_START_UNKNOWN = 'file_at_start_unknown'

_AnalyticsDecision = namedtuple('_AnalyticsDecision', [
    'readable',          # whether the next start's access(R_OK) passes on the opt-out file
    'env_disables',      # whether DISABLE_TELEMETRY is non-empty for the next start
    'configured',        # what the next start decides
    'ignored_env',       # [(name, value, where)] non-empty variables this version does not read
    'sentry_only',       # DISABLE_TELEMETRY turns off Sentry upload but not the flag
    'running_env_off',   # whether DISABLE_TELEMETRY is non-empty for the running daemon
    'running',           # what the running daemon decided (None: unknown or none runs)
    'running_case',      # one of _RUN_*, None when no daemon runs
    'at_start',          # the running daemon's flag right after its start
    'enabled',           # what counts now
    'now',               # the running daemon's flag now (live answer first)
    'drift',             # the running daemon differs from what a restart decides
])


def _analytics_next_start(rule, facts):
    """``(readable, env_disables, configured)`` for the next start.

    The file counts only when the daemon's access(R_OK) passes: as the run-as user below
    v2.3.0 (send_statistics runs after become_daemon, daemon/main.c v1.37.1); from v2.3.0
    first as the user it starts as, before it drops privileges
    (daemon_status_file_check_crash comes before become_daemon in src/daemon/main.c
    v2.3.0 to v2.11.0), and off stays off.
    """
    readable = facts.read_start if rule.reads_env else facts.read_agent
    env_disables = _nonempty(facts.next_env, 'DISABLE_TELEMETRY') if rule.reads_env else False
    return readable, env_disables, _three_valued_not(_three_valued_or(readable, env_disables))


def _analytics_ignored_env(rule, facts):
    """``[(name, value, where)]``: non-empty telemetry variables the daemon of this version
    does not read (all of them below v2.3.0, DO_NOT_TRACK from v2.3.0)."""
    names = ['DO_NOT_TRACK'] if rule.reads_env else ['DO_NOT_TRACK', 'DISABLE_TELEMETRY']
    ignored = []
    for env, where in ((facts.service_env, 'service'), (facts.daemon_env, "running daemon's")):
        if not env:
            continue
        for name in names:
            if _nonempty(env, name):
                ignored.append((name, env[name], where))
    return ignored


def _analytics_sentry_only(rule, facts, readable):
    """Whether a set DISABLE_TELEMETRY turns off only the Sentry crash upload (official
    builds v1.45 to v2.2), not the analytics flag, while the file does not turn it off."""
    return (not rule.reads_env and rule.version >= V_SENTRY and readable is not True
            and any(env and env.get('DISABLE_TELEMETRY') is not None
                    for env in (facts.service_env, facts.daemon_env)))


def _analytics_running(rule, facts, readable):
    """``(running, case, env_off)``: what the running daemon decided at its start (and
    since), why (a ``_RUN_*`` case) and whether DISABLE_TELEMETRY is non-empty in its
    environment. ``(None, None, None)`` when no daemon runs."""
    if not facts.running:
        return None, None, None
    env_off = _nonempty(facts.daemon_env, 'DISABLE_TELEMETRY') if rule.reads_env else False
    if env_off is True:
        return False, _RUN_ENV_OFF, env_off
    if facts.file_at_start is True:
        readable_then = facts.readable_then(readable, rule.reads_env)
        if readable_then is True:
            return False, _RUN_FILE_READ, env_off
        if readable_then is False:
            return _three_valued_not(env_off), _RUN_FILE_UNREADABLE, env_off
        return None, _RUN_FILE_ACCESS_UNKNOWN, env_off
    if facts.file_at_start is False and facts.file is True:
        if rule.rechecks_before_events and facts.read_agent is False:
            return _three_valued_not(env_off), _RUN_FILE_LATER_UNREADABLE, env_off
        if rule.rechecks_before_events:
            return None, _RUN_FILE_LATER_PENDING, env_off
        return _three_valued_not(env_off), _RUN_FILE_LATER_AT_START_ONLY, env_off
    if facts.file_at_start is False:
        return _three_valued_not(env_off), _RUN_NO_FILE, env_off
    return None, _RUN_FILE_AT_START_UNKNOWN, env_off


def _analytics_flag_at_start(rule, facts, running, env_off):
    """The flag right after the running daemon's start, which the crash-report default
    reads (check_crash_reports_config, src/daemon/status-file.c v2.3.0 to v2.11.0).
    Decided only then, except that v2.3 to v2.5 may turn it off later (never back on)."""
    if not facts.running:
        return None
    if facts.live is True or (facts.live is False and not rule.rechecks_before_events):
        return facts.live
    if facts.file_at_start is False:
        return _three_valued_not(env_off)
    return running


def _analytics_now(facts, configured, running):
    """``(enabled, now, drift)``: *enabled* is what counts (the live answer, else the
    running daemon, else the next start); *now* the running daemon's flag; *drift* when a
    restart would change it."""
    if facts.live is not None:
        enabled = facts.live
    elif facts.running:
        enabled = running
    else:
        enabled = configured
    now = facts.live if facts.live is not None else running
    drift = now is not None and configured is not None and now != configured
    return enabled, now, drift


def _decide_analytics(rule, facts):
    readable, env_disables, configured = _analytics_next_start(rule, facts)
    running, running_case, env_off = _analytics_running(rule, facts, readable)
    enabled, now, drift = _analytics_now(facts, configured, running)
    return _AnalyticsDecision(
        readable=readable, env_disables=env_disables, configured=configured,
        ignored_env=_analytics_ignored_env(rule, facts),
        sentry_only=_analytics_sentry_only(rule, facts, readable),
        running_env_off=env_off, running=running, running_case=running_case,
        at_start=_analytics_flag_at_start(rule, facts, running, env_off),
        enabled=enabled, now=now, drift=drift)


def _daemon_analytics(version, facts):
    """(channel, flag_now, flag_at_start): flag_now is the running daemon's flag (live,
    else derived), flag_at_start its flag right after its start."""
    rule = _AnalyticsRule(version)
    decision = _decide_analytics(rule, facts)
    reasons = _analytics_reasons(rule, facts, decision)
    return (_channel(True, decision.enabled, decision.configured, decision.running, decision.drift,
                     True, reasons),
            decision.now, decision.at_start)


# -- wording

def _analytics_reasons(rule, facts, decision):
    """Every reason line of the daemon-analytics channel, rule first."""
    details = _analytics_next_start_reasons(rule, facts, decision)
    running_line = _analytics_running_reason(rule, facts, decision)
    if running_line:
        details.append(running_line)
    details.extend(_analytics_now_reasons(facts, decision))
    if decision.configured is True and not decision.ignored_env:
        details.insert(0, 'on at next start: no opt-out file%s%s'
                       % ('' if facts.file is False else ' the daemon can read',
                          ', DISABLE_TELEMETRY unset or empty in the %s environment' % facts.next_where
                          if rule.reads_env else ''))
    head = '%s: %s rule: %s' % (
        state_word(decision.enabled), _version_text(rule.version),
        'off when the opt-out file is readable to it (access(R_OK), first checked before it drops '
        'privileges) or DISABLE_TELEMETRY is non-empty (%s)' % rule.source
        if rule.reads_env else 'off only when the opt-out file is readable to its run-as user '
        '(access(R_OK)), decided once at start (%s)' % rule.source)
    reasons = [head]
    for line in details:
        # lead with the verdict word, as every reason line does
        if line.startswith(('on', 'off', 'unknown', 'note', 'drift')):
            reasons.append(line)
        else:
            reasons.append('%s: %s' % ('on' if decision.enabled is True else 'note', line))
    return reasons


def _analytics_next_start_reasons(rule, facts, decision):
    readable = decision.readable
    why = facts.read_start_why if rule.reads_env else facts.read_agent_why
    as_whom = ('as the user the daemon starts as (%s), before it drops privileges'
               % (facts.start_user or 'unknown') if rule.reads_env
               else 'as the user the daemon runs as (%s)' % (facts.agent_user or 'unknown'))
    details = []
    if facts.file is True and readable is True:
        details.append('off at next start: opt-out file %s exists and the daemon can read it '
                       '(access(R_OK) %s)' % (facts.file_path, as_whom))
    elif facts.file is True and readable is False:
        details.append('on at next start: opt-out file %s exists but the daemon cannot read it, so '
                       'it does not count (access(R_OK) %s): %s; make it readable (mode 0644)'
                       % (facts.file_path, as_whom, why))
    elif facts.file is True:
        details.append('unknown at next start: opt-out file %s exists but whether the daemon can '
                       'read it (access(R_OK) %s) is unknown: %s' % (facts.file_path, as_whom, why))
    elif facts.file is None:
        details.append('unknown at next start: whether the opt-out file exists is unknown')
    if facts.next_from_daemon:
        details.append("note: no service we know starts this install (a daemon started by hand?): "
                       "the next start is judged with the running daemon's environment "
                       "(/proc/PID/environ), as whoever started it would start it again")
    if decision.env_disables is True:
        details.append('off at next start: DISABLE_TELEMETRY=%s is non-empty in the %s '
                       'environment' % (_value_text(facts.next_env['DISABLE_TELEMETRY']), facts.next_where))
    elif decision.env_disables is None and readable is not True:
        details.append('unknown at next start: the service environment is unknown '
                       '(a non-empty DISABLE_TELEMETRY would turn it off)')
    if decision.ignored_env and decision.configured is not False:
        details.append('%s daemon ignores %s; only the opt-out file%s turns it off'
                       % (_version_text(rule.version),
                          ', '.join('%s=%s (%s environment)' % (name, _value_text(value), where)
                                    for name, value, where in decision.ignored_env),
                          ' or a non-empty DISABLE_TELEMETRY' if rule.reads_env else ''))
    if decision.sentry_only:
        details.append('note: DISABLE_TELEMETRY is set, so Sentry crash upload (official '
                       'builds v1.45 to v2.2, src/daemon/sentry-native/sentry-native.c '
                       'v2.2.0) is off, but the analytics flag is not')
    return details


def _analytics_running_reason(rule, facts, decision):
    """The line that explains the running daemon's flag, or None when none runs."""
    case, running = decision.running_case, decision.running
    version = _version_text(rule.version)
    if case is None:
        return None
    if case == _RUN_ENV_OFF:
        return ('off in the running daemon: DISABLE_TELEMETRY=%s in its environment'
                % _value_text(facts.daemon_env['DISABLE_TELEMETRY']))
    if case == _RUN_FILE_READ:
        return ('off in the running daemon: the opt-out file existed when it started '
                '(%s) and it could read it' % facts.file_at_start_why)
    if case == _RUN_FILE_UNREADABLE:
        return ('%s in the running daemon: the opt-out file existed when it started '
                '(%s) but it could not read it (its mode and owner have not changed '
                'since)%s' % (state_word(running), facts.file_at_start_why,
                              '; its environment is unreadable' if running is None else ''))
    if case == _RUN_FILE_ACCESS_UNKNOWN:
        return ('unknown in the running daemon: the opt-out file existed when it '
                'started (%s) but whether it could read it then is unknown (its mode '
                'or owner changed since, or its readability is unknown); restart '
                'netdata' % facts.file_at_start_why)
    if case == _RUN_FILE_LATER_UNREADABLE:
        return ('%s in the running daemon: the opt-out file was created after it '
                'started; %s re-checks it before each event as %s, who cannot read '
                'it' % (state_word(running), version, facts.agent_user or 'its user'))
    if case == _RUN_FILE_LATER_PENDING:
        return ('unknown in the running daemon: the opt-out file was created after '
                'it started; %s re-checks it only before the next event it sends '
                '(then it stays off); restart netdata to be sure' % version)
    if case == _RUN_FILE_LATER_AT_START_ONLY:
        return ('%s in the running daemon: the opt-out file was created after it '
                'started and %s decides only at start; restart netdata'
                % (state_word(running), version))
    if case == _RUN_NO_FILE and running is None:
        return ('unknown in the running daemon: its environment is unreadable '
                '(a non-empty DISABLE_TELEMETRY would turn it off)')
    if case == _RUN_NO_FILE:
        return ('on in the running daemon: no opt-out file when it started (%s)%s'
                % (facts.file_at_start_why,
                   ' and no DISABLE_TELEMETRY in its environment' if rule.reads_env else ''))
    return ('unknown in the running daemon: cannot tell whether the opt-out file '
            'existed when it started (%s); the daemon decides at start and never '
            'turns itself back on' % facts.file_at_start_why)


def _analytics_now_reasons(facts, decision):
    """The live answer (or the absence of a daemon), then the drift."""
    lines = []
    live, running = facts.live, decision.running
    if live is not None:
        lines.append('%s: the running daemon answers "anonymous_statistics": %s '
                     '(registry?action=hello)' % (state_word(live), 'true' if live else 'false'))
        if running is not None and running != live:
            lines.append('note: the live answer (%s) differs from what the files and environment '
                         'suggest (%s); the live answer wins' % (state_word(live), state_word(running)))
    elif not facts.running:
        lines.append('note: no daemon runs; this is what the next start decides')
    if decision.drift:
        lines.append('drift: the running daemon is %s but a restart would make it %s; '
                     'restart netdata' % (state_word(decision.now), state_word(decision.configured)))
    return lines


# ---------------------------------------------------------------------------------
# the other channels, for one known version

def _script_file_reasons(facts):
    """Reasons about the file the script tests: ``[ -f <compiled config dir>/...]`` run
    as the daemon's user (it needs search permission on the way, not read permission;
    ``[directories] config`` does not move it)."""
    if facts.script_file is True:
        return ['off: opt-out file %s exists (the script tests [ -f ] on every run%s)'
                % (facts.script_path, ', as %s' % facts.agent_user if facts.agent_user else '')]
    if facts.script_exists is True and facts.script_file is False:
        return ['on: opt-out file %s exists but the script, run as %s, does not find it: %s'
                % (facts.script_path, facts.agent_user or 'the daemon user', facts.script_why)]
    if facts.script_exists is True:
        return ['unknown: opt-out file %s exists but whether the script, run as %s, finds it is '
                'unknown: %s' % (facts.script_path, facts.agent_user or 'the daemon user', facts.script_why)]
    if facts.script_path != facts.file_path and facts.file is True:
        return ['note: the script tests %s (its config dir is compiled in), not %s: the file '
                '[directories] config points the daemon to does not stop it'
                % (facts.script_path, facts.file_path)]
    return []


def _script_off(facts, env, where):
    """(off, reasons) for anonymous-statistics.sh's own test with ``env``."""
    dt = _nonempty(env, 'DISABLE_TELEMETRY')
    dnt = _nonempty(env, 'DO_NOT_TRACK')
    off = _three_valued_or(facts.script_file, dt, dnt)
    reasons = _script_file_reasons(facts)
    for name, flag in (('DISABLE_TELEMETRY', dt), ('DO_NOT_TRACK', dnt)):
        if flag is True:
            reasons.append('off: %s=%s is non-empty in the %s environment (the script tests -n, '
                           'so any value opts out)' % (name, _value_text(env[name]), where))
    if env is None and off is not True:
        reasons.append('unknown: the %s environment is unknown' % where)
    if off is False:
        reasons.append('on: no opt-out file the script finds; DISABLE_TELEMETRY=%s, DO_NOT_TRACK=%s in the %s '
                       'environment (only non-empty values opt out)'
                       % (_value_text(env['DISABLE_TELEMETRY']), _value_text(env['DO_NOT_TRACK']), where))
    return off, reasons


def _statistics_script(version, facts, daemon_flag_now, daemon_configured=None):
    src = 'anonymous-statistics.sh.in, the same test from v1.37.1 to v2.5.0'
    reasons = []
    off_cfg, why_cfg = _script_off(facts, facts.next_env, facts.next_where)
    configured = _three_valued_not(off_cfg)
    if daemon_configured is False and configured is not False:
        # The daemon spawns the script only while its analytics flag is on.
        configured = False
        why_cfg.append('off at next start: the daemon\'s analytics flag will be off, so it does '
                       'not spawn the script')
    running = None
    if facts.running:
        if daemon_flag_now is False:
            running = False
            reasons.extend(r for r in _script_file_reasons(facts) if r.startswith('off'))
            reasons.append('off in the running daemon: its analytics flag is off, so it does not '
                           'spawn the script until it restarts')
        else:
            off_run, why_run = _script_off(facts, facts.daemon_env, "running daemon's")
            running = _three_valued_not(off_run)
            if running is not None and daemon_flag_now is None and running is True:
                running = None
                why_run.append('unknown: the script would send, if the daemon still spawns it '
                               '(its analytics flag is unknown)')
            reasons.extend(why_run)
        enabled = running
    else:
        enabled = configured
        reasons.extend(why_cfg)
        reasons.append('note: no daemon runs; this is what the next start does')
    drift = running is not None and configured is not None and running != configured
    if drift:
        reasons.append('drift: the running daemon is %s but the service configuration makes it %s '
                       '(the environment is read at start); restart netdata'
                       % (state_word(running), state_word(configured)))
    reasons.insert(0, '%s: %s rule: off when the opt-out file exists for the daemon\'s user at '
                   'the compiled-in config dir ([ -f ]) or DISABLE_TELEMETRY or DO_NOT_TRACK is '
                   'non-empty in the daemon environment, or when the daemon does not spawn it (%s)'
                   % (state_word(enabled), _version_text(version), src))
    return _channel(True, enabled, configured, running, drift, True, list(dict.fromkeys(reasons)))


# ---------------------------------------------------------------------------------
# crash reports: first decide (values and the case that explains them), then word the
# reasons (below "-- wording")

_CRASH_REPORTS_SOURCE = 'src/daemon/status-file.c check_crash_reports_config'

# Why the next start decides what it does: the cases _crash_configured decides and
# _crash_configured_reasons words.
_NEXT_SETTING = 'set_in_netdata_conf'
_NEXT_CLAIMED = 'default_node_claimed'
_NEXT_STATUS_IDS = 'default_ids_in_status_file'
_NEXT_ANALYTICS_ON = 'default_analytics_on'
_NEXT_DEFAULT_OFF = 'default_off'
_NEXT_DEFAULT_UNKNOWN = 'default_unknown'

# Why the running daemon decided what it did: the cases _crash_running decides and
# _crash_running_reason words.
_START_SHOWN_LIVE = 'its_netdata_conf_page_shows_it'
_START_CONF_MAY_HAVE_CHANGED = 'netdata_conf_may_have_changed_since'
_START_SETTING_OLDER = 'setting_older_than_the_daemon'
_START_DEFAULT = 'default_at_its_start'


def _crash_setting_on(value):
    """Whether a set ``[global] crash reports`` (stripped, non-empty) turns reports on:
    only exactly ``all`` or ``crashes`` do, any other value is off
    (src/daemon/status-file.c check_crash_reports_config, v2.3.0 to v2.11.0)."""
    return value in ('all', 'crashes')


def _netdata_conf_changed_since_start(facts):
    """Whether netdata.conf changed after the running daemon started (None: a time is
    unknown)."""
    older = facts.before_start(facts.conf_mtime)
    return None if older is None else not older


def _crash_configured(facts, analytics_next):
    """``(configured, case, setting)``: what the next start decides, why (a ``_NEXT_*``
    case) and the ``[global] crash reports`` value it reads, stripped (None when unset,
    '' when empty: the default applies)."""
    raw = facts.crash_raw
    setting = raw.strip(_C_SPACE) if raw is not None else None
    if setting:
        return _crash_setting_on(setting), _NEXT_SETTING, setting
    # The default reads a claim or node id of this session or of the previous one.
    # The claim (cloud.d) is loaded only after the check (load_claiming_state after
    # daemon_status_file_check_crash in src/daemon/main.c v2.10.4), so it counts
    # through the previous session's status file: a newly claimed agent reports from
    # its second start, and from then on at every start.
    configured = _three_valued_or(analytics_next, facts.claimed, facts.status_ids)
    if facts.claimed is True:
        case = _NEXT_CLAIMED
    elif facts.status_ids is True:
        case = _NEXT_STATUS_IDS
    elif analytics_next is True:
        case = _NEXT_ANALYTICS_ON
    elif configured is False:
        case = _NEXT_DEFAULT_OFF
    else:
        case = _NEXT_DEFAULT_UNKNOWN
    return configured, case, setting


def _crash_running(facts, configured, setting, analytics_at_start):
    """``(running, case, ids_then)``: what the running daemon decided at its start, why (a
    ``_START_*`` case) and *ids_then*: False when its start read no claim or node id, else
    None (unknown, or not asked: only the default reads them). ``(None, None, None)`` when
    no daemon runs."""
    if not facts.running:
        return None, None, None
    if facts.live_crash:
        # its /netdata.conf shows the value its start resolved (# crash reports = all|off
        # when defaulted)
        return _crash_setting_on(facts.live_crash), _START_SHOWN_LIVE, None
    if _netdata_conf_changed_since_start(facts) is not False:
        return None, _START_CONF_MAY_HAVE_CHANGED, None
    if setting:
        return configured, _START_SETTING_OLDER, None
    # ids of the previous session: the status file has been rewritten since; none
    # now (no claim, no id kept) means none then.
    ids_then = False if (facts.claimed is False and facts.status_ids is False) else None
    return _three_valued_or(analytics_at_start, ids_then), _START_DEFAULT, ids_then


def _crash_reports(facts, analytics_next, analytics_at_start=None):
    """Agent-events status reports: posted while the daemon starts, about the previous
    session (src/daemon/status-file.c daemon_status_file_check_crash, v2.3.0 to v2.11.0).

    ``configured`` (and ``enabled``): what the next start decides. ``running``: what the
    running daemon decided at its own start: its ``/netdata.conf`` shows the value it
    resolved (``# crash reports = all|off`` when defaulted), else derived from the
    setting, its analytics flag at start and the ids it knew then.
    """
    configured, configured_case, setting = _crash_configured(facts, analytics_next)
    reasons = _crash_configured_reasons(facts, configured, configured_case, setting, analytics_next)
    running, running_case, ids_then = _crash_running(facts, configured, setting, analytics_at_start)
    running_line = _crash_running_reason(facts, running, running_case, ids_then, analytics_at_start)
    if running_line:
        reasons.append(running_line)
    reasons.extend(_crash_running_notes(facts, configured, running))
    reasons.insert(0, '%s: rule: on for exactly "all" or "crashes", default when unset or empty, '
                   'off otherwise; decided at each start, about the previous session (%s)'
                   % (state_word(configured), _CRASH_REPORTS_SOURCE))
    # What counts is the next start, which reads today's netdata.conf: enabled =
    # configured, never drift (a restart would itself be such a start).
    return _channel(True, configured, configured, running, False, True, reasons)


# -- wording

def _crash_setting_reason(value):
    """What a set ``[global] crash reports`` (stripped, non-empty) means."""
    if value == 'all':
        return 'crash reports = all (restarts and crashes are reported)'
    if value == 'crashes':
        return 'crash reports = crashes (only a start after a crash reports)'
    if value == 'off':
        return 'crash reports = off'
    return ('crash reports = %r: Netdata turns reports on only for exactly "all" or '
            '"crashes" and reads any other value as off (%s)' % (value, _CRASH_REPORTS_SOURCE))


def _crash_configured_reasons(facts, configured, case, setting, analytics_next):
    """The lines that explain what the next start decides."""
    if case == _NEXT_SETTING:
        return ['%s: [global] %s' % (state_word(configured), _crash_setting_reason(setting))]
    shown = 'unset' if setting is None else 'empty'
    if case == _NEXT_CLAIMED:
        line = ('on: node is claimed and [global] crash reports is %s (default: all '
                'when claimed, even with the opt-out file; the claim id counts through the '
                'status file, so a newly claimed agent reports from its second start)' % shown)
    elif case == _NEXT_STATUS_IDS:
        line = ('on: [global] crash reports is %s and the status file '
                '(status-netdata.json) keeps a claim or node id from the last session '
                '(default: all, even with the opt-out file)' % shown)
    elif case == _NEXT_ANALYTICS_ON:
        line = ('on: [global] crash reports is %s and daemon analytics is on at start '
                '(default: all)' % shown)
    elif case == _NEXT_DEFAULT_OFF:
        line = ('off: [global] crash reports is %s, daemon analytics is off and the '
                'node is not claimed (default: off)' % shown)
    else:
        # name what is unknown: any of the three inputs of the default can be
        unknown = [what for what, value in (('daemon analytics', analytics_next),
                                            ('the claim state', facts.claimed),
                                            ("the status file's claim and node ids", facts.status_ids))
                   if value is None]
        line = ('unknown: [global] crash reports is %s and %s %s unknown (default: all '
                'when analytics is on or the node is claimed)'
                % (shown, ' and '.join(unknown), 'is' if len(unknown) == 1 else 'are'))
    lines = [line]
    if facts.claimed is False and facts.status_ids is not True:
        lines.append('note: a claim id or node id from the previous session also turns the '
                     'default on')
    return lines


def _crash_running_reason(facts, running, case, ids_then, analytics_at_start):
    """The line that explains what the running daemon decided, or None when none runs."""
    if case is None:
        return None
    if case == _START_SHOWN_LIVE:
        return ('%s in the running daemon: its /netdata.conf shows the value its start '
                'resolved, %s' % (state_word(running), _crash_setting_reason(facts.live_crash)))
    if case == _START_CONF_MAY_HAVE_CHANGED:
        return ('unknown in the running daemon: netdata.conf may have changed since it '
                'started and its /netdata.conf was not read')
    if case == _START_SETTING_OLDER:
        return '%s in the running daemon: netdata.conf is older than it' % state_word(running)
    return ('%s in the running daemon: default, its analytics flag was %s at its '
            'start%s' % (state_word(running), state_word(analytics_at_start),
                         '' if ids_then is False else ', and the ids its start read are not known'))


def _crash_running_notes(facts, configured, running):
    """Why the running daemon's decision needs no restart: it differs from the next
    start's, or netdata.conf changed since it started."""
    if not facts.running:
        return []
    if running is not None and configured is not None and running != configured:
        return ['note: the running daemon decided %s at its start, the next start decides '
                '%s; reports are sent only while the daemon starts: no restart needed '
                'for this channel' % (state_word(running), state_word(configured))]
    if _netdata_conf_changed_since_start(facts) is True:
        return ['note: netdata.conf changed after the daemon started; reports are sent '
                'only while the daemon starts, and that start reads the file anew: no '
                'restart needed for this channel']
    return []


# ---------------------------------------------------------------------------------
# the installer channel, and the channels of one install put together

def decide_installer_channel(installer_env, strict=False):
    """The installer/updater channel from the environment kickstart runs would get."""
    env = _env(installer_env)
    counted = strict is True
    if env is None:
        return _channel(True, None, None, None, False, counted,
                        ['unknown: the environment installer runs get is unknown'])
    dt, dnt = env['DISABLE_TELEMETRY'], env['DO_NOT_TRACK']
    if dt:
        name, value = 'DISABLE_TELEMETRY', dt
    elif dnt:
        name, value = 'DO_NOT_TRACK', dnt
    else:
        name, value = None, None
    reasons = []
    if name is None:
        enabled = True
        reasons.append('on: DISABLE_TELEMETRY and DO_NOT_TRACK are unset or empty for installer '
                       'runs (kickstart.sh sends events unless the value is 1)')
    elif _SHELL_ONE_BOTH.match(value):
        enabled = False
        reasons.append('off: %s=%s for installer runs (kickstart.sh: -eq 1)' % (name, _value_text(value)))
    elif _SHELL_ONE_DASH.match(value):
        enabled = None
        reasons.append('unknown: %s=%s equals 1 for dash but not for bash (kickstart.sh: -eq 1); '
                       'use exactly 1' % (name, _value_text(value)))
    else:
        enabled = True
        reasons.append('on: %s=%s for installer runs; kickstart.sh skips events only when it is '
                       'numerically 1 (-eq 1); use 1' % (name, _value_text(value)))
    if name == 'DISABLE_TELEMETRY' and dnt:
        reasons.append('note: kickstart.sh reads DO_NOT_TRACK=%s only when DISABLE_TELEMETRY is '
                       'empty, so it is ignored here' % _value_text(dnt))
    if not counted:
        reasons.append('note: not counted toward opted_out (strict is off); always counted '
                       'toward opted_in')
    return _channel(True, enabled, enabled, None, False, counted, reasons)


def _channels_for_version(version, facts):
    analytics, flag_now, flag_at_start = _daemon_analytics(version, facts)
    out = {'daemon_analytics': analytics}
    if version < V_NO_STATISTICS_SCRIPT:
        out['statistics_script'] = _statistics_script(version, facts, flag_now, analytics['configured'])
    else:
        out['statistics_script'] = _channel(False, None, None, None, False, False, [
            'not applicable: %s no longer runs anonymous-statistics.sh (removed by "Stop '
            'submitting analytics", #20654, first in v2.6.0)' % _version_text(version)])
    if version >= V_CRASH_REPORTS:
        out['crash_reports'] = _crash_reports(facts, analytics['configured'], flag_at_start)
    else:
        out['crash_reports'] = _channel(False, None, None, None, False, False, [
            'not applicable: %s has no [global] crash reports (agent-events reports start '
            'in v2.3.0)' % _version_text(version)])
    return out


def _merge_unknown(name, readings):
    """Merge one channel's verdicts under several version rules (version unknown)."""
    readings = [(version, ch) for version, ch in readings if ch['applies']]
    first = readings[0][1]
    merged = _channel(True, counted=first['counted'])
    for key in ('enabled', 'configured', 'running'):
        values = set(ch[key] for _unused, ch in readings)
        merged[key] = values.pop() if len(values) == 1 else None
    merged['drift'] = any(ch['drift'] for _unused, ch in readings)
    if all(ch['enabled'] == first['enabled'] for _unused, ch in readings):
        merged['reasons'] = ['note: version unknown; every version rule agrees'] + first['reasons']
    else:
        merged['reasons'] = ['unknown: version unknown and the version rules disagree (%s)' % ', '.join(
            'from %s: %s' % (_version_text(version), state_word(ch['enabled'])) for version, ch in readings)]
        for version, ch in readings:
            merged['reasons'].extend('if %s: %s' % (_version_text(version), r) for r in ch['reasons'])
    return merged


def opt_out_signals(facts):
    """Every opt-out signal present, as ``(channel, description)``, whether or not the
    installed version reads it. Any of them (or an unknown one) blocks ``opted_in``:
    statistics senders require opted_in, so a signal must never be overlooked."""
    found = []
    # A file the agent cannot read still is the admin's wish: never "opted in" with it.
    if facts.file is not False:
        found.append(('statistics_script', 'the opt-out file' if facts.file else
                      'an unknown opt-out file state'))
    if facts.script_path != facts.file_path and facts.script_exists is not False:
        found.append(('statistics_script', 'the opt-out file %s' % facts.script_path if facts.script_exists
                      else 'an unknown state of the opt-out file %s' % facts.script_path))
    for env, where in ((facts.service_env, 'service'), (facts.daemon_env, "running daemon's")):
        for name in ('DISABLE_TELEMETRY', 'DO_NOT_TRACK'):
            if env and _nonempty(env, name):
                found.append(('statistics_script', '%s=%s in the %s environment'
                              % (name, _value_text(env[name]), where)))
    value = facts.crash_raw.strip(_C_SPACE) if facts.crash_raw is not None else ''
    if value and value not in ('all', 'crashes'):
        found.append(('crash_reports', '[global] crash reports = %s' % value))
    for name in ('DISABLE_TELEMETRY', 'DO_NOT_TRACK'):
        if facts.installer_env and _nonempty(facts.installer_env, name):
            found.append(('installer', '%s=%s for installer runs'
                          % (name, _value_text(facts.installer_env[name]))))
    return found


# ---------------------------------------------------------------------------------
# public API

def decide_install_telemetry(evidence):
    """Decide every telemetry channel of one Netdata install.

    :param evidence: an :data:`InstallEvidence`.
    :returns: ``{opted_out, opted_in, drift, reasons, channels}``; ``channels`` maps each
        of :data:`CHANNELS` to ``{applies, enabled, configured, running, drift, counted,
        reasons}`` (``daemon_analytics`` adds ``live``). ``enabled`` is what counts now:
        the live answer where known, else the running daemon's state, else (no daemon)
        the configured one. ``opted_out``: every applicable counted channel is off.
        ``opted_in``: every applicable channel is on. Unknown is neither.
    """
    facts = _Facts(evidence)
    strict = evidence.strict
    parsed_version = parse_version(evidence.version)
    if parsed_version is not None:
        channels = _channels_for_version(parsed_version, facts)
    else:
        per_version = [(rv, _channels_for_version(rv, facts)) for rv in REPRESENTATIVE_VERSIONS]
        channels = {}
        for name in ('statistics_script', 'daemon_analytics', 'crash_reports'):
            channels[name] = _merge_unknown(name, [(rv, chs[name]) for rv, chs in per_version])
    channels['daemon_analytics']['live'] = facts.live
    channels['installer'] = decide_installer_channel(evidence.installer_env, strict)
    channels = dict((name, channels[name]) for name in CHANNELS)

    applicable = [channels[n] for n in CHANNELS if channels[n]['applies']]
    counted = [c for c in applicable if c['counted']]
    opted_out = bool(counted) and all(c['enabled'] is False for c in counted)
    signals = opt_out_signals(facts)
    opted_in = all(c['enabled'] is True for c in applicable) and not signals
    drift = any(c['drift'] for c in applicable)
    reasons = []
    for name in CHANNELS:
        reasons.extend('%s: %s' % (name, line) for line in channels[name]['reasons'])
    if signals and all(c['enabled'] is True for c in applicable):
        reasons.extend('%s: not opted in: %s is an opt-out signal; it blocks opted_in even though '
                       '%s does not read it' % (name, what, _version_text(parsed_version)) for name, what in signals)
    return {
        'opted_out': opted_out,
        'opted_in': opted_in,
        'drift': drift,
        'reasons': reasons,
        'channels': channels,
    }


def decide_host_telemetry(install_verdicts, installer_verdict_or_env=None, strict=False):
    """Combine the verdicts of every install of a host.

    :param install_verdicts: a list whose items are ``(config_dir, verdict)`` pairs, or
        install dicts as in the facts (``{'config_dir': ..., 'telemetry': verdict}``), or
        bare verdicts. A verdict is what :func:`decide_install_telemetry` returns.
    :param installer_verdict_or_env: the installer channel (a dict with ``enabled``) or
        the installer environment (``DO_NOT_TRACK``/``DISABLE_TELEMETRY`` mapping); used
        when there is no install, and under ``strict``.
    :returns: ``{state, opted_out, opted_in, drift, reasons}``; ``state`` is ``absent``
        (no install), ``opted_out``, ``opted_in`` or ``partial``. Reasons carry
        ``[<config_dir>] `` prefixes.
    """
    if isinstance(installer_verdict_or_env, dict) and 'enabled' in installer_verdict_or_env:
        installer = installer_verdict_or_env
    else:
        installer = decide_installer_channel(installer_verdict_or_env, strict)
    strict = strict is True

    items = []
    for item in install_verdicts or []:
        config_dir, verdict = '', None
        if isinstance(item, (tuple, list)) and len(item) == 2:
            config_dir, verdict = item
        elif isinstance(item, dict) and isinstance(item.get('telemetry'), dict):
            config_dir, verdict = item.get('config_dir') or '', item['telemetry']
        elif isinstance(item, dict):
            config_dir, verdict = item.get('config_dir') or '', item
        if not isinstance(verdict, dict):
            verdict = {'opted_out': False, 'opted_in': False, 'drift': False,
                       'reasons': ['no verdict for this install']}
        items.append((str(config_dir or ''), verdict))

    reasons = []
    if not items:
        installer_off = installer.get('enabled') is False
        opted_out = (not strict) or installer_off
        reasons.append('no Netdata install found')
        reasons.extend('installer: %s' % r for r in installer.get('reasons') or [])
        return {'state': 'absent', 'opted_out': opted_out, 'opted_in': False,
                'drift': False, 'reasons': reasons}

    opted_out = all(verdict.get('opted_out') is True for _unused, verdict in items)
    if strict and installer.get('enabled') is not False:
        opted_out = False
    opted_in = all(verdict.get('opted_in') is True for _unused, verdict in items) and installer.get('enabled') is True
    drift = any(verdict.get('drift') is True for _unused, verdict in items)
    for config_dir, verdict in items:
        reasons.extend('[%s] %s' % (config_dir, r) for r in verdict.get('reasons') or [])
    if opted_out:
        state = 'opted_out'
    elif opted_in:
        state = 'opted_in'
    else:
        state = 'partial'
    return {'state': state, 'opted_out': opted_out, 'opted_in': opted_in,
            'drift': drift, 'reasons': reasons}
