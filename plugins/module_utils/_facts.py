# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netdata_fleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Assemble ``ansible_facts.netdata`` from the collectors.

Shared by the ``netdata_facts`` module and by ``netdata_optout`` (which returns fresh
facts after applying, saving the role a round trip), so the two can never disagree.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.service_manager import detect_service_manager
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.installs import (
    TELEMETRY_VARS, config_dir_problems, discover_installs)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.installer_env import installer_environment
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.channels import (
    decide_host_telemetry, decide_install_telemetry)

SUBSETS = ('telemetry', 'system')


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


def _configured_env(install):
    """The environment the install's daemon would start with, or None when unknown.

    The systemd unit's environment applies to the install its ExecStart runs; for an
    install that no unit we found starts, nothing tells what its daemon would get.
    """
    evidence = install.get('evidence') or {}
    service = install.get('service') or {}
    if service.get('unit') is None or evidence.get('service_starts_this_install') is False:
        return None
    return dict((name, (service.get('environment') or {}).get(name)) for name in TELEMETRY_VARS)


def _install_verdict(install, installer_env, strict):
    evidence = install.get('evidence') or {}
    daemon = install.get('daemon') or {}
    live = evidence.get('live') or {}
    return decide_install_telemetry(
        version=install.get('version'),
        optout_file_exists=(install.get('optout_file') or {}).get('exists'),
        service_env=_configured_env(install),
        daemon_env=daemon.get('environment'),
        daemon_running=bool(daemon.get('running')),
        live_analytics=live.get('anonymous_statistics'),
        crash_reports_setting=(install.get('netdata_conf') or {}).get('crash_reports'),
        claimed=install.get('claimed'),
        installer_env=installer_env,
        strict=strict,
        optout_file_mtime=evidence.get('optout_file_mtime'),
        daemon_started_at=evidence.get('daemon_started_at'),
        netdata_conf_mtime=evidence.get('netdata_conf_mtime'),
        config_dir_mtime=evidence.get('config_dir_mtime'),
        config_dir=install.get('config_dir') or '',
        optout_file_access=install.get('optout_file'),
        optout_file_ctime=evidence.get('optout_file_ctime'),
    )


def gather_telemetry(root='/', config_dirs=(), strict=False, live_query=True, live_timeout=1.0,
                     run_command=None):
    """The telemetry subset: ``{installed, service_manager, installs, installer, telemetry}``."""
    installer = installer_environment(root=root)
    installer_env = installer['environment']
    installs = discover_installs(root=root, extra_config_dirs=config_dirs, run_command=run_command,
                                 live_query=live_query, live_timeout=live_timeout)
    for install in installs:
        install['telemetry'] = _install_verdict(install, installer_env, strict)
        # evidence (mtimes, raw live answer) feeds the decision; the facts keep the verdict
        # and which install the service starts (the role's restart rule needs it).
        evidence = install.pop('evidence', None) or {}
        install['service']['starts_this_install'] = evidence.get('service_starts_this_install')
    return {
        'installed': bool(installs),
        'service_manager': detect_service_manager(root),
        'installs': installs,
        'installer': {'environment': installer_env, 'sources': installer['sources']},
        'telemetry': decide_host_telemetry(installs, installer_env, strict=strict),
    }


def gather_netdata_facts(subsets, root='/', config_dirs=(), strict=False, live_query=True, live_timeout=1.0,
                         cloud_detection=False, cloud_metadata_url=None, cloud_timeout=1.0,
                         run_command=None):
    """``ansible_facts.netdata`` for the resolved *subsets* (see resolve_gather_subset)."""
    # collected_at: when, so a report read from a fact cache can tell how old the facts are.
    facts = {'gather_subset': sorted(subsets), 'collected_at': int(time.time())}
    if 'telemetry' in subsets:
        facts.update(gather_telemetry(root=root, config_dirs=config_dirs, strict=strict,
                                      live_query=live_query, live_timeout=live_timeout,
                                      run_command=run_command))
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


__all__ = ['GatherSubsetError', 'SUBSETS', 'config_dir_problems', 'gather_netdata_facts',
           'gather_telemetry', 'resolve_gather_subset']
