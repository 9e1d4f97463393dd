# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The verdict after applying: what still keeps an install from the state asked for."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import state_word
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.container_runtimes import install_label


def verify_problems(facts, opt_out):
    """What is not in the state asked for, one line per install and channel.

    *facts* is ``ansible_facts.netdata`` (the ``netdata_facts`` contract). Opt-out wants
    every applicable channel that counts off; opt-in wants every applicable channel on
    (as the facts' ``opted_out`` / ``opted_in``). A drifting channel is always a problem:
    the running agent is not what its configuration says until it restarts.
    """
    problems = []
    for install in facts.get('installs') or []:
        channels = (install.get('telemetry') or {}).get('channels') or {}
        for name in sorted(channels):
            channel = channels[name] or {}
            if not channel.get('applies'):
                continue
            enabled = channel.get('enabled')
            if opt_out:
                bad = channel.get('counted', True) is not False and enabled is not False
            else:
                bad = enabled is not True
            if not (bad or channel.get('drift')):
                continue
            line = '%s %s: %s' % (install_label(install), name, state_word(enabled))
            if channel.get('drift'):
                line += ' (drift: the running agent differs from its configuration until it restarts)'
            line += ' - ' + '; '.join(channel.get('reasons') or ['no reason given'])
            problems.append(line)
    host = facts.get('telemetry') or {}
    if 'installed' not in facts:
        problems.append('no Netdata telemetry facts were gathered')
    elif opt_out and not facts.get('installed') and host.get('opted_out') is not True:
        problems.append('no Netdata install, but: %s' % '; '.join(host.get('reasons') or []))
    return problems
