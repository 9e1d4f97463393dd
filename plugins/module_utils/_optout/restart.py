# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which running agents must restart for the planned changes to reach them (the rules:
``_rules/channels.py``, ``docs/dev/telemetry-rules.md`` "When the role restarts an
agent"): host services through the host's manager, containers through their runtime."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.channels import optout_file_read_live
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.container_runtimes import install_label
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout.plan import (
    OTHER_MANAGERS)


def restart_decisions(installs, changes, opt_out):
    """``{config_dir: [reasons]}`` for running daemons that need a restart.

    A restart is needed when what the daemon reads only at start changed -- its service
    environment (the drop-in), its ``netdata.conf``, its opt-out file where the version
    reads it only at start (``optout_file_read_live``) -- **and** one of its channels
    is not yet in the state asked (*opt_out*: off; else on) or cannot be told: an agent
    already off everywhere is not restarted for an opt-out that changes nothing it does.
    A drifting install (facts: running state differs from its configuration) is
    restarted even when nothing changed this run (an earlier deferred restart).
    """
    dropin_changed = any(c['purpose'] == 'dropin' for c in changes)
    conf_d_changed = any(c['purpose'] == 'openrc_conf' for c in changes)
    decisions = {}
    for install in installs:
        daemon = install.get('daemon') or {}
        if not daemon.get('running'):
            continue
        config_dir = install_label(install)
        reasons = []
        # A unit whose ExecStart runs another install's binary does not start this one;
        # no unit starts a container's agent (its runtime does).
        start = install.get('start') or {}
        # another init starts it: a drop-in is nothing it reads
        if dropin_changed and install.get('kind') != 'container' and start.get('mechanism') not in OTHER_MANAGERS \
                and (install.get('service') or {}).get('starts_this_install') is not False:
            reasons.append('service environment (drop-in) changed')
        if conf_d_changed and start.get('mechanism') == 'openrc' and start.get('starts_this_install') is not False:
            reasons.append('service environment (OpenRC conf.d) changed')
        mine = [c for c in changes if c['install'] == config_dir]
        if any(c['purpose'] == 'netdata_conf' for c in mine):
            reasons.append('netdata.conf changed')
        if any(c['purpose'] == 'optout_file' for c in mine) \
                and optout_file_read_live(install.get('version')) is not True:
            reasons.append('opt-out file changed and this daemon reads it only at start')
        if reasons and not _running_channel_differs(install, opt_out):
            reasons = []
        telemetry = install.get('telemetry') or {}
        if not reasons and telemetry.get('drift'):
            reasons.append('the running daemon differs from its configuration (drift)')
        if reasons:
            decisions[config_dir] = reasons
    return decisions


def container_restarts(installs, decisions):
    """The container agents among *decisions* (``restart_decisions``), for the role's
    handler that restarts each through its runtime: ``[{'label', 'runtime', 'id', 'name',
    'cli', 'reasons'}]``; ``cli`` is None where no runtime CLI can restart it (containerd,
    an unknown runtime, a CLI that is not there)."""
    found = []
    for install in installs:
        label = install_label(install)
        if install.get('kind') != 'container' or label not in decisions:
            continue
        container = install.get('container') or {}
        cli = container.get('cli') if container.get('runtime') in ('docker', 'podman') and container.get('id') else None
        found.append({'label': label, 'runtime': container.get('runtime'), 'id': container.get('id'),
                      'name': container.get('name'), 'cli': cli, 'reasons': list(decisions[label])})
    return found


def service_restart_needed(installs, decisions):
    """Whether a host install (not a container's) is in *decisions*: the host's service
    manager restarts those."""
    return any(install_label(i) in decisions for i in installs if i.get('kind') != 'container')


def until_recreated(facts):
    """One line per container agent opted out only until the container is re-created."""
    lines = []
    for install in facts.get('installs') or []:
        container = install.get('container') or {}
        if install.get('kind') == 'container' and container.get('opted_out_until_recreated'):
            lines.append('%s: opted out until re-created (config dir on %s, no opt-out in the container '
                         'environment): re-create it with -e DO_NOT_TRACK=1 -e DISABLE_TELEMETRY=1 '
                         '(compose: its env file), or keep %s on a volume'
                         % (install_label(install), container.get('config_persistence'),
                            install.get('config_dir')))
    return lines


def _running_channel_differs(install, opt_out):
    """Whether a channel of the running daemon is not in the state asked, or unknown.
    The installer channel is no daemon's: a restart cannot change it."""
    wanted = not opt_out
    channels = (install.get('telemetry') or {}).get('channels') or {}
    if not channels:
        return True
    for name, channel in channels.items():
        if name == 'installer' or not channel.get('applies'):
            continue
        running = channel.get('running')
        # The daemon's own answer is its running state, whatever the files suggest (a
        # container's entrypoint writes the opt-out file after the process started, then
        # execs the agent, which still read it at its start).
        if channel.get('live') is not None:
            running = channel['live']
        if running is not wanted:
            return True
    return False
