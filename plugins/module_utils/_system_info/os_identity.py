# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Operating system identity (container_os_* and host_os_*), as system-info.sh decides it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.os_release import (
    parse_lsb_release, parse_os_release,
)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.common import (
    COMMAND_MISSING, UNKNOWN, command_output,
)

# Output order of the script; "os_detection" is its OS_DETECTION.
OS_FIELDS = ("name", "id", "id_like", "version", "version_id", "os_detection")
_FROM_OS_RELEASE = (("NAME", "name"), ("ID", "id"), ("ID_LIKE", "id_like"),
                    ("VERSION", "version"), ("VERSION_ID", "version_id"))


def _unknown_identity():
    return dict((f, UNKNOWN) for f in OS_FIELDS)


def _apply_os_release(ident, values):
    for key, field in _FROM_OS_RELEASE:
        if key in values:
            ident[field] = values[key]


def _fill_from_lsb(ident, lsb_values):
    """DISTRIB_* default to ``unknown``; they only fill what is still unknown."""
    if ident["name"] == UNKNOWN:
        ident["name"] = lsb_values.get("DISTRIB_ID", UNKNOWN)
    if ident["version"] == UNKNOWN:
        ident["version"] = lsb_values.get("DISTRIB_RELEASE", UNKNOWN)
    if ident["id"] == UNKNOWN:
        ident["id"] = lsb_values.get("DISTRIB_CODENAME", UNKNOWN)


def _incomplete(ident):
    return UNKNOWN in (ident["name"], ident["version"], ident["id"])


def _read_lsb(host):
    text = host.read("/etc/lsb-release", record_error=False)
    return parse_lsb_release(text) if text is not None else {}


def local_os_identity(host):
    """The identity of the OS the script runs in (the script's CONTAINER_* values)."""
    ident = _unknown_identity()
    if host.is_file("/etc/os-release"):
        text = host.read("/etc/os-release")
        _apply_os_release(ident, parse_os_release(text) if text is not None else {})
        ident["os_detection"] = "/etc/os-release"

    if _incomplete(ident):
        if host.is_file("/etc/lsb-release"):
            ident["os_detection"] = ("/etc/lsb-release" if ident["os_detection"] == UNKNOWN
                                     else "Mixed")
            _fill_from_lsb(ident, _read_lsb(host))
        # `command -v lsb_release` decides; running it tells us the same (rc 127).
        rc, out, _err = host.run(["lsb_release", "-is"])
        if rc != COMMAND_MISSING:
            ident["os_detection"] = ("lsb_release" if ident["os_detection"] == UNKNOWN
                                     else "Mixed")
            if ident["name"] == UNKNOWN:
                ident["name"] = command_output(out)
            if ident["version"] == UNKNOWN:
                ident["version"] = command_output(host.run(["lsb_release", "-rs"])[1])
            if ident["id"] == UNKNOWN:
                ident["id"] = command_output(host.run(["lsb_release", "-cs"])[1])
    return ident


def host_os_identity(host):
    """The host's identity seen from inside a container (the script's HOST_* values)."""
    ident = _unknown_identity()
    if host.exists("/host/etc/os-release"):
        text = host.read("/host/etc/os-release")
        _apply_os_release(ident, parse_os_release(text) if text is not None else {})
        ident["os_detection"] = "/host/etc/os-release"
    if _incomplete(ident) and host.is_file("/host/etc/lsb-release"):
        # Faithful to the script, bugs included: it tests /host/etc/lsb-release but
        # reads the *container's* /etc/lsb-release and labels it "/etc/lsb-release".
        ident["os_detection"] = ("/etc/lsb-release" if ident["os_detection"] == UNKNOWN
                                 else "Mixed")
        _fill_from_lsb(ident, _read_lsb(host))
    return ident


def split_os_identity(host, container):
    """(container_identity, host_identity) as the script reports them.

    Not in a container (``unknown`` or ``none``): the local identity is the host's and
    every container field is ``none``.
    """
    local = local_os_identity(host)
    if container in (UNKNOWN, "none"):
        return dict((f, "none") for f in OS_FIELDS), local
    return local, host_os_identity(host)
