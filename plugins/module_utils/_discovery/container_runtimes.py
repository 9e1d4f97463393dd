# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container runtimes on a host, the cheap questions: which runtimes are known, where
their CLIs are, whether one was ever used here, and whether anything on the host is worth
the container discovery of ``containers.py`` at all.

Apart from ``containers.py`` because every facts run asks these, and most hosts have no
container: a module run reads and compiles every module it imports (the payload is a zip,
nothing is cached as bytecode), and ``containers.py`` with ``container_installs.py`` is
about a sixth of the collection's code.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path as _host

RUNTIMES = ('docker', 'podman', 'containerd', 'unknown')
# The CLIs asked, in this order; containerd's (ctr, crictl) are not: a Kubernetes pod is
# re-created by its controller, never restarted or edited behind its back.
CLI_RUNTIMES = ('docker', 'podman')
CLI_DIRS = ('/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin')
CLI_TIMEOUT = 5


def find_cli(name, root='/'):
    """Absolute path of the runtime's CLI on the target, or None."""
    for directory in CLI_DIRS:
        path = directory + '/' + name
        host = _host(root, path)
        if os.path.isfile(host) and os.access(host, os.X_OK):
            return path
    return None


# What a runtime that has ever run a container leaves: asking a CLI where there is none is
# not free (``podman ps`` on a host that never used podman creates its storage, which a
# facts module must not do; ``docker`` without its daemon only fails, after a while).
RUNTIME_TRACES = {
    'docker': ('/run/docker.sock', '/var/run/docker.sock'),
    'podman': ('/var/lib/containers/storage',),   # root's graphroot; the runroot can be left by any call
}


def runtime_in_use(runtime, root='/'):
    """Whether *runtime* has its socket (docker) or its storage (podman) on the target."""
    return any(os.path.exists(_host(root, path)) for path in RUNTIME_TRACES.get(runtime, ()))


def worth_a_look(root='/', daemons=(), use_cli=True):
    """Whether container discovery can find anything: a Netdata daemon in another root
    (``daemons.py`` flags it ``foreign``), or, with *use_cli*, a runtime CLI on a host
    where that runtime was used (what ``discover_containers`` would ask)."""
    if any(daemon.get('foreign') for daemon in daemons or ()):
        return True
    return bool(use_cli) and any(find_cli(runtime, root) is not None and runtime_in_use(runtime, root)
                                 for runtime in CLI_RUNTIMES)


def install_label(install):
    """A name that tells installs apart in reasons, restart lists and summaries: the
    config dir for a host install, ``<runtime>:<name or short id>:<config dir>`` for a
    container's."""
    config_dir = install.get('config_dir') or ''
    container = install.get('container')
    if install.get('kind') != 'container' or not isinstance(container, dict):
        return config_dir
    who = container.get('name') or (container.get('id') or '')[:12] or 'pid %s' % container.get('host_pid')
    return '%s:%s:%s' % (container.get('runtime') or 'unknown', who, config_dir)
