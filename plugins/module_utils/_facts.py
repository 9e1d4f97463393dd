# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Assemble ``ansible_facts.netdata`` from the collectors.

Shared by the ``netdata_facts`` module and by ``netdata_optout`` (which returns fresh
facts after applying, saving the role a round trip), so the two can never disagree.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
import time

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.service_manager import detect_service_manager
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.installs import (
    TELEMETRY_VARS, config_dir_problems, default_run_command, discover_installs)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.installer_env import installer_environment
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.daemons import find_netdata_daemons
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.container_runtimes import (
    CLI_TIMEOUT, install_label, worth_a_look)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.channels import (
    InstallEvidence, container_entrypoint_opts_out, decide_host_telemetry, decide_install_telemetry)

# The options of every module that gathers the telemetry facts (netdata_facts, and
# netdata_optout before and after it writes); documented once, by the doc fragment
# netdata_fleet.telemetry.discovery.
DISCOVERY_ARGUMENT_SPEC = dict(
    config_dir=dict(type='list', elements='path', default=[]),
    strict=dict(type='bool', default=False),
    live_query=dict(type='bool', default=True),
    live_timeout=dict(type='float', default=1.0),
    containers=dict(type='bool', default=True),
)
LIVE_TIMEOUT_MAX = 60


def discovery_argument_spec(**options):
    """DISCOVERY_ARGUMENT_SPEC plus a module's own ``options`` (a fresh dict each call)."""
    spec = dict((name, dict(option)) for name, option in DISCOVERY_ARGUMENT_SPEC.items())
    spec.update(options)
    return spec


def timeout_problem(name, seconds):
    """The message for a timeout option outside (0, LIVE_TIMEOUT_MAX], or None; NaN is outside."""
    if 0 < seconds <= LIVE_TIMEOUT_MAX:
        return None
    return '%s must be more than 0 and at most %d seconds, got %s' % (name, LIVE_TIMEOUT_MAX, seconds)


def discovery_argument_problems(params):
    """What is wrong with the discovery options, as messages naming the option; checked
    before anything is read (the config dirs' existence is checked by config_dir_problems
    once the root is known)."""
    problems = []
    for path in params['config_dir']:
        if '\0' in path:
            problems.append('config_dir: %r holds a NUL byte' % path)
        elif not path.startswith('/'):
            problems.append('config_dir: %r is not an absolute path' % path)
    problem = timeout_problem('live_timeout', params['live_timeout'])
    if problem:
        problems.append(problem)
    return problems


SUBSETS = ('telemetry', 'system')

# The collection's own integration tests (tests/integration/targets, docs/dev/testing.md)
# point netdata_facts and netdata_optout at a fixture tree instead of / with this variable,
# as the unit tests do with the collectors' root argument. It is not an option on purpose (no
# playbook can set it by mistake), it is read only when set, it is honoured only for a
# directory holding FIXTURE_MARKER (a stray value makes the module fail, never read or
# write a real tree), and a module that honours it says so in a warning.
FIXTURE_ROOT_ENV = 'NETDATA_FLEET_TELEMETRY_FIXTURE_ROOT'
FIXTURE_MARKER = '.netdata-fleet-telemetry-fixture'


class GatherSubsetError(ValueError):
    """An invalid ``gather_subset`` value."""


def resolve_gather_subset(requested):
    """``['all', '!system']`` -> ``{'telemetry'}``. Raises GatherSubsetError on junk.

    Like ansible's own ``gather_subset``: names add, ``!name`` removes, ``all`` is every
    subset; a list of only exclusions starts from ``all``.
    """
    if not requested:
        requested = ['all']
    wanted, excluded = set(), set()
    for item in requested:
        if not isinstance(item, str):
            raise GatherSubsetError('gather_subset: %r is not a string' % (item,))
        name = item.strip()
        negate = name.startswith('!')
        name = name[1:] if negate else name
        if name == 'all':
            names = set(SUBSETS)
        elif name in SUBSETS:
            names = {name}
        else:
            raise GatherSubsetError('gather_subset: unknown subset %r (valid: all, %s, each optionally prefixed with !)'
                                    % (item, ', '.join(SUBSETS)))
        (excluded if negate else wanted).update(names)
    if not wanted:
        wanted = set(SUBSETS)
    return wanted - excluded


def fixture_root(environ=None):
    """``(root, problem)``: ``('/', None)`` when FIXTURE_ROOT_ENV is unset or empty, the
    fixture tree when it names one, ``(None, message)`` when it is set to anything else."""
    value = (os.environ if environ is None else environ).get(FIXTURE_ROOT_ENV)
    if not value:
        return '/', None
    bad = None
    if not value.startswith('/') or not os.path.normpath(value).strip('/'):
        bad = 'not an absolute path below /'
    else:
        try:
            marker = os.lstat(os.path.join(value, FIXTURE_MARKER))
            if not stat.S_ISREG(marker.st_mode) or not os.path.isdir(value):
                bad = '%s there is not a regular file' % FIXTURE_MARKER
        except OSError:
            bad = 'no %s there: not a test fixture tree' % FIXTURE_MARKER
    if bad:
        return None, ('%s is set to %r (%s); it is only for the collection\'s integration tests: '
                      'unset it' % (FIXTURE_ROOT_ENV, value, bad))
    return os.path.normpath(value), None


def _fixture_run_command(root):
    """``<binary> -v`` of an install under a fixture root runs the fixture's binary."""
    def run_command(argv):
        return default_run_command([host_path(root, argv[0])] + list(argv[1:]))
    return run_command


def _configured_env(install):
    """The environment the install's daemon would start with, or None when unknown.

    A container's: what its runtime starts it with. A host install's: what the mechanism
    that starts it gives it (``installs[].start``: the systemd unit and drop-ins, OpenRC's
    conf.d exports, ...), for the install that mechanism starts; for an install that
    nothing we found starts, nothing tells what its daemon would get.
    """
    if install.get('kind') == 'container':
        # what the runtime starts it with: Config.Env, or the running agent's own
        env = (install.get('container') or {}).get('environment')
        return None if env is None else dict((name, env.get(name)) for name in TELEMETRY_VARS)
    start = install.get('start') or {}
    env = start.get('environment')
    if start.get('mechanism') in (None, 'none') or start.get('starts_this_install') is False or env is None:
        return None
    return dict((name, env.get(name)) for name in TELEMETRY_VARS)


def _container_next_start(install):
    """A container agent that is not running yet: the opt-out file its next start finds
    (there now, or made by the image's entrypoint from the container environment) and
    the ``optout_file`` facts the decision reads. ``(exists, access)``."""
    container = install['container']
    optout_file = install.get('optout_file') or {}
    creates, why = (container_entrypoint_opts_out(install.get('version'), container.get('environment'))
                    if container.get('entrypoint_creates_optout') else
                    ((None, 'whether the image\'s entrypoint creates the opt-out file is unknown')
                     if container.get('entrypoint_creates_optout') is None else
                     (False, 'the container\'s entrypoint does not create the opt-out file')))
    container['next_start_optout_file'] = creates if optout_file.get('exists') is not True else True
    if creates is True and optout_file.get('exists') is not True:
        made = 'created at start by the image\'s entrypoint as root (mode 0644): %s' % why
        access = dict(optout_file, exists=True, readable_by_agent=True, readable_at_start=True,
                      reason=made, reason_at_start=made,
                      script={'path': optout_file.get('path'), 'exists': True, 'found_by_agent': True,
                              'reason': made})
        return True, access
    if optout_file.get('exists') is not True and creates is None:
        return None, optout_file
    return optout_file.get('exists'), optout_file


def _entrypoint_made_it(install):
    """Whether the running container's entrypoint made the opt-out file at this start:
    it creates it from the environment the agent got (its own, the same at exec)."""
    container = install['container']
    if not container.get('entrypoint_creates_optout'):
        return False
    env = (install.get('daemon') or {}).get('environment') or container.get('environment')
    return container_entrypoint_opts_out(install.get('version'), env)[0] is True


def _container_after_recreate(install, installer_env, strict):
    """The verdict of the same container re-created from the same run arguments: its
    environment and volumes stay, its own layer goes back to the image's (the opt-out
    file and netdata.conf there are gone; the image's stock netdata.conf, if any)."""
    container = install['container']
    kind = container.get('config_persistence')
    creates, why = container_entrypoint_opts_out(install.get('version'), container.get('environment'))
    if not container.get('entrypoint_creates_optout'):
        creates = False if container.get('entrypoint_creates_optout') is False else None
    kept = kind in ('volume', 'bind')
    exists_now = (install.get('optout_file') or {}).get('exists')
    if creates is True:
        file_after = True
    elif kept:
        file_after = exists_now if creates is False else (True if exists_now else None)
    elif kind in ('layer', 'tmpfs'):
        file_after = creates
    else:
        file_after = None
    conf = install.get('netdata_conf') or {}
    crash = conf.get('crash_reports') if kept else container.get('stock_crash_reports')
    verdict = decide_install_telemetry(InstallEvidence(
        version=install.get('version'), optout_file_exists=file_after,
        service_env=container.get('environment'), daemon_env=None, daemon_running=False,
        live_analytics=None, crash_reports_setting=crash, claimed=install.get('claimed'),
        installer_env=installer_env, strict=strict, config_dir=install.get('config_dir') or ''))
    where = {'volume': 'a volume', 'bind': 'a bind mount', 'layer': 'the container\'s own layer',
             'tmpfs': 'a tmpfs', 'unknown': 'an unknown place'}.get(kind, 'an unknown place')
    verdict['reasons'].insert(0, 'after re-creation: config dir %s is on %s; %s'
                              % (install.get('config_dir'), where, why))
    return verdict


def _install_verdict(install, installer_env, strict):
    evidence = install.get('evidence') or {}
    daemon = install.get('daemon') or {}
    live = evidence.get('live') or {}
    optout_file_exists = (install.get('optout_file') or {}).get('exists')
    optout_file_access = install.get('optout_file')
    file_mtime, file_ctime = evidence.get('optout_file_mtime'), evidence.get('optout_file_ctime')
    dir_mtime = evidence.get('config_dir_mtime')
    if install.get('kind') == 'container' and isinstance(install.get('container'), dict):
        if not daemon.get('running'):
            optout_file_exists, optout_file_access = _container_next_start(install)
        elif optout_file_exists and _entrypoint_made_it(install):
            # The container's init process runs the entrypoint, which creates the file and
            # then execs the agent: the process (and its start time) is older than the
            # file, yet the agent started after it. Date the file to a second before that
            # start: surely before it, whatever the clocks' granularity.
            started = evidence.get('daemon_started_at')
            if started is not None:
                file_mtime = file_ctime = started - 1.0
                dir_mtime = None
    return decide_install_telemetry(InstallEvidence(
        version=install.get('version'),
        optout_file_exists=optout_file_exists,
        service_env=_configured_env(install),
        daemon_env=daemon.get('environment'),
        daemon_running=bool(daemon.get('running')),
        live_analytics=live.get('anonymous_statistics'),
        crash_reports_setting=(install.get('netdata_conf') or {}).get('crash_reports'),
        claimed=install.get('claimed'),
        installer_env=installer_env,
        strict=strict,
        optout_file_mtime=file_mtime,
        daemon_started_at=evidence.get('daemon_started_at'),
        daemon_start_window=evidence.get('daemon_start_window'),
        netdata_conf_mtime=evidence.get('netdata_conf_mtime'),
        config_dir_mtime=dir_mtime,
        config_dir=install.get('config_dir') or '',
        optout_file_access=optout_file_access,
        optout_file_ctime=file_ctime,
        live_crash_reports=(evidence.get('live_crash_reports') or {}).get('value'),
        status_file_ids=evidence.get('status_file_ids', False),
    ))


def _cli_runner(root):
    """The runtime CLIs (``docker``, ``podman``), each call within CLI_TIMEOUT; under a
    fixture root, the fixture's own stand-ins."""
    def run_command(argv):
        return default_run_command([host_path(root, argv[0])] + list(argv[1:]), timeout=CLI_TIMEOUT)
    return run_command


def _container_verdicts(install, installer_env, strict):
    """The until-re-created part of a container install's verdict (see install-model.md)."""
    container = install['container']
    after = _container_after_recreate(install, installer_env, strict)
    container['after_recreate'] = {'opted_out': after['opted_out'], 'opted_in': after['opted_in'],
                                   'reasons': after['reasons']}
    telemetry = install['telemetry']
    lasts = after['opted_out'] is True
    container['opted_out_until_recreated'] = bool(telemetry.get('opted_out')) and not lasts
    if container['opted_out_until_recreated']:
        telemetry['reasons'].append(
            'container: opted out only until the container is re-created (config dir on %s, and its '
            'environment does not make the image opt it out at start): re-create it with '
            '-e DO_NOT_TRACK=1 -e DISABLE_TELEMETRY=1 (compose: the env file), or keep %s on a volume'
            % (container.get('config_persistence'), install.get('config_dir')))


def gather_telemetry(root='/', config_dirs=(), strict=False, live_query=True, live_timeout=1.0,
                     run_command=None, containers=True, cli_run_command=None, container_hello=None):
    """The telemetry subset: ``{installed, service_manager, installs, installer, telemetry}``.

    *containers*: ask the container runtimes' CLIs (names, images, environment, mounts,
    stopped containers); without it, container agents are still found from ``/proc``.
    """
    if run_command is None and root not in ('', '/'):
        run_command = _fixture_run_command(root)
    if cli_run_command is None:
        cli_run_command = _cli_runner(root)
    installer = installer_environment(root=root)
    installer_env = installer['environment']
    proc_scan = find_netdata_daemons(root=root)
    service_manager = detect_service_manager(root)
    installs = discover_installs(root=root, extra_config_dirs=config_dirs, run_command=run_command,
                                 live_query=live_query, live_timeout=live_timeout, proc_scan=proc_scan,
                                 service_manager=service_manager)
    container_installs, container_errors = [], []
    daemons = proc_scan.get('daemons') or []
    if worth_a_look(root, daemons, use_cli=containers):
        # Imported only here: most hosts run no container, and a module run compiles every
        # module it imports (container discovery is about a sixth of the collection's code).
        from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.container_installs import (
            discover_container_installs)
        container_installs, container_errors = discover_container_installs(
            root=root, daemons=daemons, run_command=cli_run_command, use_cli=containers,
            live_query=live_query, live_timeout=live_timeout, hello=container_hello)
    installs.extend(container_installs)
    for install in installs:
        install['telemetry'] = _install_verdict(install, installer_env, strict)
        if install.get('kind') == 'container' and isinstance(install.get('container'), dict):
            _container_verdicts(install, installer_env, strict)
        # evidence (mtimes, raw live answer) feeds the decision; the facts keep the verdict
        # and which install the service starts (the role's restart rule needs it).
        evidence = install.pop('evidence', None) or {}
        install['service']['starts_this_install'] = evidence.get('service_starts_this_install')
    facts = {
        'installed': bool(installs),
        'service_manager': service_manager,
        'installs': installs,
        'installer': {'environment': installer_env, 'sources': installer['sources']},
        # every install by a name that tells a container's /etc/netdata from the host's
        'telemetry': decide_host_telemetry([(install_label(i), i['telemetry']) for i in installs],
                                           installer_env, strict=strict),
    }
    # what the runtimes' CLIs could not tell (a container agent is still judged from /proc)
    facts['container_errors'] = container_errors
    return facts


def gather_netdata_facts(subsets, root='/', config_dirs=(), strict=False, live_query=True, live_timeout=1.0,
                         cloud_detection=False, cloud_metadata_url=None, cloud_timeout=1.0,
                         run_command=None, containers=True):
    """``ansible_facts.netdata`` for the resolved *subsets* (see resolve_gather_subset)."""
    # collected_at: when, so a report read from a fact cache can tell how old the facts are.
    facts = {'gather_subset': sorted(subsets), 'collected_at': int(time.time())}
    if 'telemetry' in subsets:
        facts.update(gather_telemetry(root=root, config_dirs=config_dirs, strict=strict,
                                      live_query=live_query, live_timeout=live_timeout,
                                      run_command=run_command, containers=containers))
    if 'system' in subsets:
        # Imported here: the telemetry-only path must not pay for the system collectors.
        from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.collect import collect_system_info
        kwargs = {'root': root, 'cloud_detection': cloud_detection, 'cloud_timeout': cloud_timeout}
        if cloud_metadata_url:
            # One base for both probes: a user who points the module elsewhere (tests:
            # loopback) must not have the GCP probe still go to metadata.google.internal.
            kwargs['cloud_metadata_url'] = cloud_metadata_url
            kwargs['cloud_gcp_metadata_url'] = cloud_metadata_url
        facts['system_info'] = collect_system_info(**kwargs)
    return facts


__all__ = ['FIXTURE_ROOT_ENV', 'GatherSubsetError', 'SUBSETS', 'config_dir_problems', 'fixture_root',
           'gather_netdata_facts', 'gather_telemetry', 'resolve_gather_subset']
