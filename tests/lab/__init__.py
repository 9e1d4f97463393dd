# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test lab: a fleet of real SSH hosts (namespaces + overlayfs) on this machine.

    from tests.lab import Fleet, HostSpec, snippets
    with Fleet([HostSpec.clean("h1", daemon=True), HostSpec.no_netdata("h2")]) as fleet:
        fleet.ansible_playbook("playbooks/x.yml")
        fleet.hello("h1")["anonymous_statistics"]

See README.md.
"""
from . import snippets
from .fleet import (DEFAULT_ADDR_BASE, RESTART_COMMAND, SERVICE_COMMAND, SSH_PORT, Fleet,
                    Host, HostSpec, LabAddressInUse, LabError, ScriptResult,
                    lab_prerequisites, play_recap, port_free)
from .netdata_daemon import NETDATA_PORT

__all__ = ["Fleet", "HostSpec", "Host", "LabError", "LabAddressInUse", "ScriptResult",
           "lab_prerequisites", "play_recap", "port_free", "snippets", "SSH_PORT", "NETDATA_PORT",
           "DEFAULT_ADDR_BASE", "RESTART_COMMAND", "SERVICE_COMMAND"]
