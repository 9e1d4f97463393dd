# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""stats_event's gate and container agents: a host whose container agent is not opted in is
not opted in, whatever its own agent says. The facts are the gatherer's own, from a fixture
host with a native agent and a container agent (test_container_installs.Host)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import gather_telemetry
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils._stats import payload as sp
from ansible_collections.netdata_fleet.telemetry.tests.unit.plugins.module_utils._discovery.test_container_installs import (
    BTIME, Host, fixture, inspected, set_mtime, write)

HOST_GUID = '0f2b5c4e-1111-4222-8333-944455556666'


def gathered(tmp_path, container_env):
    """A v2.10.4 native agent (opted in) and a v2.10.4 container agent run with *container_env*."""
    host = Host(tmp_path)
    write(host.root / 'etc/netdata/netdata.conf', '[global]\n')
    write(host.root / 'usr/sbin/netdata', '', 0o755)
    write(host.root / 'var/lib/netdata/registry/netdata.public.unique.id', HOST_GUID + '\n')
    write(host.root / 'lib/systemd/system/netdata.service', '[Service]\nExecStart=/usr/sbin/netdata -D\n')
    root = host.image_root('d2', '2.10.4')
    host.daemon(666, root, fixture('cgroup-docker-d2-volume.txt'), fixture('mountinfo-docker-d2-volume.txt'),
                environ=list(container_env))
    host.cli('docker', [inspected('docker', 'd2', **{'Config.Env': ['%s=%s' % kv for kv in container_env]})])
    if container_env:
        write(root / 'etc/netdata/.opt-out-from-anonymous-statistics', '')   # what the entrypoint made
    set_mtime(root / 'etc/netdata', BTIME + 10)
    host.hello_answers[666] = not container_env
    return gather_telemetry(root=str(host.root), run_command=lambda argv: (0, 'netdata v2.10.4\n', ''),
                            cli_run_command=host.run_cli, container_hello=host.hello)


def test_a_host_whose_container_agent_is_opted_out_is_not_opted_in(tmp_path):
    facts = gathered(tmp_path, [('DO_NOT_TRACK', '1')])
    kinds = dict((i['kind'], i['telemetry']) for i in facts['installs'])
    assert kinds['native']['opted_in'] is True      # the host's own agent alone would permit
    assert kinds['container']['opted_in'] is False
    ok, reason = sp.telemetry_permits_sending(facts)
    assert ok is False
    assert reason.startswith('partial opt-out')


def test_every_install_is_judged_even_when_the_host_verdict_says_opted_in(tmp_path):
    """The per-install check stands on its own: a host verdict that (wrongly) said opted in
    still does not let a container agent that is not opted in through."""
    facts = gathered(tmp_path, [('DO_NOT_TRACK', '1')])
    forged = copy.deepcopy(facts)
    forged['telemetry'].update(state='opted_in', opted_in=True, opted_out=False, drift=False)
    ok, reason = sp.telemetry_permits_sending(forged)
    assert ok is False
    assert 'installs[1] (/etc/netdata)' in reason


def test_the_same_host_with_its_container_agent_opted_in_is_permitted(tmp_path):
    facts = gathered(tmp_path, [])
    assert [i['kind'] for i in facts['installs']] == ['native', 'container']
    assert sp.telemetry_permits_sending(facts) == (True, 'opted in')
