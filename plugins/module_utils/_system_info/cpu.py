# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CPU count, vendor, model and frequency, as system-info.sh finds them on Linux."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.common import (
    COMMAND_MISSING, UNKNOWN, command_output, first_value, to_int,
)

_CPUFREQ = "/sys/devices/system/cpu/cpu0/cpufreq/"
_UNIT_FACTORS = {"GHz": 1000 * 1000 * 1000, "MHz": 1000 * 1000, "KHz": 1000}
_AWK_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def awk_number(text):
    """awk's conversion of a string to a number: the longest numeric prefix, else 0."""
    m = _AWK_NUMBER.match(text or "")
    return float(m.group(0)) if m else 0.0


def lscpu_frequency_mhz(lscpu_output):
    """possible_cpu_freq from lscpu: CPU max MHz, else CPU MHz, else the model's GHz.

    Returns the MHz as a string of digits, or "".
    """
    for label in ("CPU max MHz:", "CPU MHz:"):
        value = first_value(lscpu_output, label)
        if value is not None:
            digits = re.match(r"[0-9]*", value).group(0)
            if digits:
                return digits
    model_line = next((ln for ln in lscpu_output.split("\n") if ln.startswith("Model name:")), "")
    m = re.search(r"[0-9.]+GHz", model_line)
    if m:
        # awk '{print int($0*1000)}' on the number before GHz (doubles, like awk).
        return str(int(awk_number(m.group(0)[:-3]) * 1000))
    return ""


def procfs_frequency_hz(cpuinfo):
    """The integer part of the first ``cpu MHz`` line, times 1e6, or None.

    The script computes it with ``awk '{print int($0*1000000)}'``; mawk prints values of
    2^31 and more in %.6g form (``2.445e+09``). An integer MHz times 1e6 has at most six
    significant digits for any real CPU, so the integer we return is exactly the value
    that string denotes.
    """
    for line in (cpuinfo or "").split("\n"):
        if "cpu MHz" in line:
            m = re.search(r"[0-9]+", line)
            if m:
                return int(m.group(0)) * 1000 * 1000
            break
    return None


def _count_sysfs_cpus(host):
    count = 0
    for name in host.listdir("/sys/devices/system/cpu"):
        # find -type d -name 'cpu*' | grep -cEv 'idle|freq'
        if (name.startswith("cpu") and host.is_dir("/sys/devices/system/cpu/" + name)
                and "idle" not in name and "freq" not in name):
            count += 1
    return str(count)


def _add_source(source, name):
    return source if name in source else "%s %s" % (source, name)


def collect_cpu(host):
    """dict with system_cpu_logical_cpu_count (int or unknown), system_cpu_vendor,
    system_cpu_model, system_cpu_freq (int Hz or unknown) and system_cpu_detection."""
    count = model = vendor = freq = UNKNOWN
    source = "none"
    possible = ""

    rc, lscpu_out, _err = host.run(["lscpu"], env={"LC_NUMERIC": "C"})
    if rc == 0:
        source = "lscpu"
        count = first_value(lscpu_out, "CPU(s):", starts=True) or ""
        vendor = first_value(lscpu_out, "Vendor ID:", starts=True) or ""
        model = first_value(lscpu_out, "Model name:", starts=True) or ""
        mhz = lscpu_frequency_mhz(lscpu_out)
        possible = mhz + " MHz" if mhz else ""
    else:
        rc, dmi_out, _err = host.run(["dmidecode", "-t", "processor"])
        if rc == 0:
            source = "dmidecode"
            count = first_value(dmi_out, "Thread Count:") or ""
            vendor = first_value(dmi_out, "Manufacturer:") or ""
            model = first_value(dmi_out, "Version:") or ""
            possible = first_value(dmi_out, "Current Speed:") or ""
        else:
            rc, out, _err = host.run(["nproc"])
            if rc != COMMAND_MISSING:
                source = "nproc"
                count = command_output(out)
            elif host.is_dir("/sys/devices/system/cpu"):
                source = "sysfs"
                count = _count_sysfs_cpus(host)
            elif host.readable("/proc/cpuinfo"):
                source = "procfs"
                text = host.read("/proc/cpuinfo") or ""
                count = str(sum(1 for ln in text.split("\n") if ln.startswith("processor")))

            rc, out, _err = host.run(["uname", "--version"])
            if "GNU coreutils" in out:
                source = source + " uname"
                model = command_output(host.run(["uname", "-p"])[1])
                vendor = command_output(host.run(["uname", "-i"])[1])
            elif host.readable("/proc/cpuinfo"):
                source = _add_source(source, "procfs")
                text = host.read("/proc/cpuinfo") or ""
                model = first_value(text, "model name") or ""
                vendor = first_value(text, "vendor_id") or ""

    if host.readable(_CPUFREQ + "base_frequency"):
        source = _add_source(source, "sysfs")
        khz = to_int(host.read(_CPUFREQ + "base_frequency") or "")
        freq = str(khz * 1000) if khz is not None else UNKNOWN
    elif possible:
        freq = possible
    elif host.readable(_CPUFREQ + "cpuinfo_max_freq"):
        source = _add_source(source, "sysfs")
        khz = to_int(host.read(_CPUFREQ + "cpuinfo_max_freq") or "")
        freq = str(khz * 1000) if khz is not None else UNKNOWN
    elif host.readable("/proc/cpuinfo"):
        source = _add_source(source, "procfs")
        hz = procfs_frequency_hz(host.read("/proc/cpuinfo"))
        if hz is not None:
            freq = str(hz)

    # The script's unit step: "<n> GHz|MHz|KHz" becomes Hz; anything else stays.
    parts = freq.split(" ")
    if len(parts) > 1 and parts[1] in _UNIT_FACTORS:
        n = to_int(parts[0])
        freq = str(n * _UNIT_FACTORS[parts[1]]) if n is not None else UNKNOWN

    return {
        "system_cpu_logical_cpu_count": _int_or_unknown(count),
        "system_cpu_vendor": vendor,
        "system_cpu_model": model,
        "system_cpu_freq": _int_or_unknown(freq),
        "system_cpu_detection": source,
    }


def _int_or_unknown(value):
    n = to_int(value)
    return n if n is not None else UNKNOWN
