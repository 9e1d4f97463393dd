# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Virtualization and container detection, in system-info.sh's order."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.common import (
    COMMAND_MISSING, UNKNOWN, command_output,
)

_DMIDECODE_VIRTUAL = re.compile(r"VMware|Virtual|KVM|Bochs")


def normalize_virtualization_name(name):
    """What ``virtualization_normalize_name $VIRTUALIZATION`` prints.

    The script passes the value *unquoted*, so the shell splits it into words and the
    function only sees the first one: ``User-mode Linux`` gives ``user-mode`` (its own
    ``uml`` case can never match), ``Windows Subsystem for Linux`` gives ``windows``.
    The first word is lowercased; its spaces-to-dashes step then has nothing to do.
    A value of blanks only gives ``""``.
    """
    words = name.split()
    # The script's own "User-mode Linux" -> uml and "Windows Subsystem for Linux" -> wsl
    # cases compare against the first word only, so they never match.
    vname = words[0] if words else ""
    return vname.lower()


def detect_virtualization(host, kernel_name="Linux"):
    """(virtualization, virt_detection, container, container_detection) before heuristics."""
    container = UNKNOWN
    cont_detection = "none"
    provided = host.environ.get("VIRTUALIZATION", "")
    if provided:
        # Passed from outside (docker run -e VIRTUALIZATION=...): taken verbatim.
        return provided, "provided", container, cont_detection

    virt = UNKNOWN
    detection = "none"
    rc, out, _err = host.run(["systemd-detect-virt", "-v"])
    if rc != COMMAND_MISSING:
        virt = command_output(out)
        detection = "systemd-detect-virt"
        _rc, cout, _err = host.run(["systemd-detect-virt", "-c"])
        cout = command_output(cout)
        if cout:
            container = cout
        cont_detection = "systemd-detect-virt"
    else:
        rc, out, _err = host.run(["lscpu"])
        if rc != COMMAND_MISSING:
            virt = ""
            for line in out.split("\n"):
                if "Hypervisor vendor:" in line:
                    # cut -d: -f2 | awk '{$1=$1};1': blanks squeezed; one line per match
                    parts = line.split(":")
                    virt = " ".join(parts[1].split()) if len(parts) > 1 else ""
                    break
            if virt:
                detection = "lscpu"
            elif "Virtualization:" in out:
                virt = "none"
        else:
            rc, out, _err = host.run(["dmidecode", "-s", "system-product-name"])
            if rc != COMMAND_MISSING:
                virt = ""
                for line in out.split("\n"):
                    if _DMIDECODE_VIRTUAL.search(line):
                        virt = line
                        break
                if virt:
                    detection = "dmidecode"

    if not virt:
        # Output from the command is outside of spec
        return UNKNOWN, "none", container, cont_detection
    if virt not in ("none", UNKNOWN):
        virt = normalize_virtualization_name(virt)
    return virt, detection, container, cont_detection


def pid1_process_name(sched_text):
    """The first field of /proc/1/sched's first line, as ``IFS='(, ' read -r process _``."""
    line = (sched_text or "").split("\n", 1)[0].lstrip(" ")
    return re.split(r"[(, ]", line, maxsplit=1)[0]


def container_heuristics(host, container, cont_detection):
    """The script's heuristics, applied only while the container is still ``unknown``.

    Later checks override earlier ones, as in the script.
    """
    if container != UNKNOWN:
        return container, cont_detection
    if host.is_file("/proc/1/sched"):
        sched = host.read("/proc/1/sched")
        if pid1_process_name(sched) == "netdata":
            container, cont_detection = "container", "process"
    if host.exists("/bin/running-in-container"):
        rc, _out, _err = host.run(["/bin/running-in-container"])
        if rc == 0:
            container, cont_detection = "container", "/bin/running-in-container"
    if host.environ.get("container", ""):
        container, cont_detection = "lxc", "containerenv"
    if host.is_file("/.dockerenv"):
        container, cont_detection = "docker", "dockerenv"
    return container, cont_detection
