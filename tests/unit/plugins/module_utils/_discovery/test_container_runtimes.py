# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cheap container questions, and that a host without containers never loads the
container discovery (every module run would compile it for nothing)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess
import sys

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.container_runtimes import (
    worth_a_look)


def _tree(tmp_path, cli=None, traces=()):
    for path in traces:
        target = tmp_path / path.lstrip('/')
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text('')
    if cli:
        binary = tmp_path / 'usr' / 'bin' / cli
        binary.parent.mkdir(parents=True, exist_ok=True)
        binary.write_text('#!/bin/sh\n')
        binary.chmod(0o755)
    return str(tmp_path)


@pytest.mark.parametrize('cli, traces, daemons, use_cli, expected', [
    (None, (), [], True, False),                                        # nothing at all
    (None, (), [{'pid': 7, 'foreign': True}], True, True),              # an agent in another root
    (None, (), [{'pid': 7, 'foreign': False}], True, False),            # the host's own agent
    ('docker', ('/run/docker.sock',), [], True, True),                  # a used docker
    ('docker', (), [], True, False),                                    # docker installed, never run
    ('podman', ('/var/lib/containers/storage/x',), [], True, True),     # podman's storage
    ('docker', ('/run/docker.sock',), [], False, False),                # CLIs not asked
    (None, ('/run/docker.sock',), [], True, False),                     # a socket, no CLI to ask
])
def test_worth_a_look(tmp_path, cli, traces, daemons, use_cli, expected):
    assert worth_a_look(_tree(tmp_path, cli, traces), daemons, use_cli=use_cli) is expected


GATHER = '''
import sys
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import gather_telemetry
facts = gather_telemetry(root=sys.argv[1], live_query=False)
loaded = sorted(m for m in sys.modules if m.endswith(('_discovery.containers', '_discovery.container_installs')))
print(len(facts['installs']), ','.join(loaded))
'''


@pytest.mark.parametrize('traces, loaded', [
    ((), ''),
    (('/run/docker.sock',), 'container_installs'),
])
def test_the_container_discovery_is_loaded_only_where_it_can_find_something(tmp_path, traces, loaded):
    root = _tree(tmp_path, 'docker', traces)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, '-c', GATHER, root], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=True).stdout.decode()
    count, modules = out.split()[0], ' '.join(out.split()[1:])
    assert count == '0'
    assert (loaded in modules) if loaded else modules == ''


MODULE_IMPORTS = '''
import importlib, sys
importlib.import_module('ansible_collections.netdata_fleet.telemetry.plugins.modules.' + sys.argv[1])
print(','.join(sorted(m for m in sys.modules if m.endswith(('_discovery.containers', '_discovery.container_installs')))))
'''


@pytest.mark.parametrize('module', ['netdata_facts', 'netdata_optout'])
def test_the_modules_do_not_load_the_container_discovery_to_start(module):
    """Every run compiles what its module imports: the container discovery (a sixth of the
    code) must wait until a host has a container agent."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, '-c', MODULE_IMPORTS, module], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=True).stdout.decode()
    assert out.strip() == ''
