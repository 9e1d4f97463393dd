# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which service manager runs a host: systemd's own test, then PID 1 and runtime marks."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.service_manager import (
    SERVICE_MANAGERS, detect_service_manager)


def tree(tmp_path, dirs=(), files=None):
    for d in dirs:
        os.makedirs(str(tmp_path / d.lstrip('/')))
    for path, text in (files or {}).items():
        target = tmp_path / path.lstrip('/')
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return str(tmp_path)


@pytest.mark.parametrize('dirs, files, expected', [
    (['/run/systemd/system'], {'/proc/1/comm': 'systemd\n'}, 'systemd'),
    # unit files on disk, no systemd running: a container image, a chroot, a lab host
    (['/etc/systemd/system', '/lib/systemd/system'], {'/proc/1/comm': 'sshd\n'}, 'none'),
    # systemd's own test wins even when PID 1 is named otherwise (systemd-nspawn --as-pid2)
    (['/run/systemd/system'], {'/proc/1/comm': 'stub-init\n'}, 'systemd'),
    (['/run/openrc'], {'/proc/1/comm': 'init\n', '/etc/inittab': ''}, 'openrc'),
    (['/run/openrc'], {'/proc/1/comm': 'openrc-init\n'}, 'openrc'),
    ([], {'/proc/1/comm': 'runit\n'}, 'runit'),
    (['/run/runit'], {'/proc/1/comm': 'sh\n'}, 'runit'),
    ([], {'/proc/1/comm': 'dinit\n'}, 'dinit'),
    ([], {'/proc/1/comm': 'init\n', '/etc/inittab': 'id:2:initdefault:\n'}, 'sysvinit'),
    ([], {'/proc/1/comm': 'init\n'}, 'none'),  # busybox-style init without inittab
    ([], {'/proc/1/comm': 'netdata\n'}, 'none'),  # the agent is the container's PID 1
    ([], {}, 'none'),  # no /proc at all
])
def test_detect_service_manager(tmp_path, dirs, files, expected):
    assert detect_service_manager(tree(tmp_path, dirs, files)) == expected
    assert expected in SERVICE_MANAGERS


def test_this_machine_is_answered_without_error():
    assert detect_service_manager('/') in SERVICE_MANAGERS
