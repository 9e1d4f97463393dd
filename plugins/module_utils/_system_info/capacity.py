# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Total RAM and total disk size, as system-info.sh computes them on Linux."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.common import (
    UNKNOWN, field_value, to_int,
)

# Block device names, in the script's order; their majors come from /proc/devices.
DEVICE_NAMES = ("hd", "sd", "mfm", "ad", "ftl", "pd", "nftl", "dasd", "intfl", "mmcblk",
                "ub", "xvd", "rfd", "vbd", "nvme", "virtblk", "blkext")


def meminfo_total_bytes(meminfo):
    """MemTotal (kB) * 1024, or None when absent or not a number."""
    for line in (meminfo or "").split("\n"):
        if "MemTotal" in line:
            kb = to_int(field_value(line).split(" ")[0])
            return kb * 1024 if kb is not None else None
    return None


def collect_ram(host):
    if not host.readable("/proc/meminfo"):
        return {"system_total_ram": UNKNOWN, "system_ram_detection": "none"}
    total = meminfo_total_bytes(host.read("/proc/meminfo"))
    return {"system_total_ram": total if total is not None else UNKNOWN,
            "system_ram_detection": "procfs"}


def device_major_whitelist(proc_devices):
    """The script's ``dev_major_whitelist`` string, built the same way.

    For each name with a line ending in `` name``, it appends ``:`` + the first field of
    every line ending in ``name`` (no leading blank required: ``grep -E "name$"``, both the
    character and the block section) joined and ended by ``:``, then ``:``. A major is
    accepted when ``:major:`` occurs in it.
    """
    lines = (proc_devices or "").split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    whitelist = ""
    for name in DEVICE_NAMES:
        if any(ln.endswith(" " + name) for ln in lines):
            majors = "".join(ln.lstrip().split(" ")[0] + ":" for ln in lines if ln.endswith(name))
            whitelist += ":" + majors + ":"
    return whitelist


def _not_removable(text):
    """``grep -qv 1 removable``: some line lacks a 1 (an empty file has no line)."""
    if text is None:
        return False
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return any("1" not in ln for ln in lines)


def sysfs_disk_size(host, whitelist):
    total = 0
    for name in host.listdir("/sys/block"):
        if name.startswith("."):
            continue
        disk = "/sys/block/" + name
        if not host.readable(disk + "/size"):
            continue
        dev = host.read(disk + "/dev", record_error=False)
        major = dev.split("\n")[0].split(":")[0] if dev is not None else ""
        if ":%s:" % major not in whitelist:
            continue
        if not _not_removable(host.read(disk + "/removable", record_error=False)):
            continue
        sectors = to_int(host.read(disk + "/size") or "")
        if sectors is not None:
            total += sectors * 512
    return total


def collect_disk(host):
    if host.is_dir("/sys/block") and host.readable("/proc/devices"):
        whitelist = device_major_whitelist(host.read("/proc/devices"))
        return {"system_total_disk_size": sysfs_disk_size(host, whitelist),
                "system_disk_detection": "sysfs"}
    _rc, out, _err = host.run(["df", "--version"])
    if "GNU coreutils" in out:
        rc, out, _err = host.run(["df", "-x", "tmpfs", "-x", "devtmpfs", "-x", "squashfs",
                                  "-l", "-B1", "--output=source,size"])
        # tail -n +2 | sort -u -k 1 | awk '{print $2}' | sum
        total = 0
        for line in sorted(set(ln.strip() for ln in out.split("\n")[1:] if ln.strip())):
            fields = re.split(r"\s+", line)
            size = to_int(fields[1]) if len(fields) > 1 else None
            total += size or 0
        return {"system_total_disk_size": total if rc == 0 else UNKNOWN,
                "system_disk_detection": "df"}
    # The script's non-GNU branch greps with an ERE written as a BRE, matches nothing
    # and dies on the empty arithmetic; we report unknown instead.
    return {"system_total_disk_size": UNKNOWN, "system_disk_detection": "df"}
