# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which service manager runs the host, and so which one can restart Netdata.

A host is run by systemd only when ``/run/systemd/system`` is a directory: that is
systemd's own test (``sd_booted()``), and the one every ``systemctl`` call depends on.
``/etc/systemd/system`` proves nothing: container images and chroots ship it with no
systemd running, and a ``daemon-reload`` there fails ("System has not been booted with
systemd as init system").

The others are told apart the way ansible-core's ``service_mgr`` fact does it, by
PID 1's command name and the runtime marks each manager leaves:

==========  ==========================================================================
openrc      ``/run/openrc`` (OpenRC's state dir, made at boot; PID 1 may be sysvinit's
            ``init`` or ``openrc-init``)
runit       PID 1 is ``runit`` / ``runit-init``, or ``/run/runit`` exists
dinit       PID 1 is ``dinit``
sysvinit    PID 1 is ``init`` and ``/etc/inittab`` exists
none        anything else: a container whose PID 1 is the agent or a shell, a lab host
==========  ==========================================================================

Netdata ships service files for each of these (``system/`` in netdata/netdata).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import host_path, read_host_text

SERVICE_MANAGERS = ('systemd', 'openrc', 'runit', 'dinit', 'sysvinit', 'none')


def detect_service_manager(root='/'):
    """The name of the host's service manager (one of ``SERVICE_MANAGERS``). Never raises."""
    if os.path.isdir(host_path(root, '/run/systemd/system')):
        return 'systemd'
    if os.path.isdir(host_path(root, '/run/openrc')):
        return 'openrc'
    comm, _err = read_host_text(root, '/proc/1/comm', max_bytes=256)
    init = (comm or '').strip()
    if init in ('runit', 'runit-init') or os.path.exists(host_path(root, '/run/runit')):
        return 'runit'
    if init == 'dinit':
        return 'dinit'
    if init == 'init' and os.path.exists(host_path(root, '/etc/inittab')):
        return 'sysvinit'
    return 'none'
