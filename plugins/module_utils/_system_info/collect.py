# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The facts Netdata's ``system-info.sh`` (1.37) prints, computed in Python.

``collect_system_info()`` returns every ``NETDATA_*`` key the script prints, lowercased
and without ``NETDATA_``. It follows the script's Linux decision order; each concern
lives in its own module (``system_info_virt``, ``system_info_os``, ``system_info_cpu``,
``system_info_capacity``, ``system_info_cloud``). Deviations from the script, all on
purpose:

- Counts, frequency (Hz), RAM and disk size are ints, or ``unknown`` where the script
  would print something that is not a number (an empty count, dmidecode's ``Unknown``
  speed) or would die on shell arithmetic. The script's awk prints the /proc/cpuinfo
  frequency as ``2.445e+09``: we give ``2445000000``.
- A value the script would print over several lines is cut to its first line, which is
  all the agent reads from a ``KEY=value`` line.
- Environment: the script reads its *own* environment (the agent's). We read
  ``environ`` (default: this process's, i.e. Ansible's) for ``VIRTUALIZATION``,
  ``container``, ``NETDATA_OFFICIAL_IMAGE``, ``KUBERNETES_SERVICE_HOST``/``_PORT`` and
  ``PATH`` (to find commands). Pass the agent's environment to answer for the agent.
- ``pgrep kubelet`` is replaced by a scan of ``/proc/*/comm`` (it works without pgrep;
  the script says ``false`` when pgrep is missing).
- Cloud metadata is probed only when ``cloud_detection`` is true (the script always
  probes unless virtualization is ``none``), with urllib instead of curl.
- Linux only: the script's FreeBSD/macOS branches (sysctl, sw_vers, diskutil) are not
  reproduced; on other kernels the Linux checks simply find less.
- os-release quirks (a syntax error makes the script exit with no output) are described
  in ``os_release``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.capacity import (
    collect_disk, collect_ram,
)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.cloud import (
    AWS_METADATA_URL, GCP_METADATA_URL, detect_cloud,
)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.common import (
    UNKNOWN, Host,
)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.cpu import collect_cpu
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.os_identity import (
    OS_FIELDS, split_os_identity,
)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.virt import (
    container_heuristics, detect_virtualization,
)

# In the script's output order.
SYSTEM_INFO_KEYS = (
    "container_os_name", "container_os_id", "container_os_id_like", "container_os_version",
    "container_os_version_id", "container_os_detection", "container_is_official_image",
    "host_os_name", "host_os_id", "host_os_id_like", "host_os_version", "host_os_version_id",
    "host_os_detection", "host_is_k8s_node",
    "system_kernel_name", "system_kernel_version", "system_architecture",
    "system_virtualization", "system_virt_detection", "system_container",
    "system_container_detection", "system_cpu_logical_cpu_count", "system_cpu_vendor",
    "system_cpu_model", "system_cpu_freq", "system_cpu_detection", "system_total_ram",
    "system_ram_detection", "system_total_disk_size", "system_disk_detection",
    "instance_cloud_type", "instance_cloud_instance_type", "instance_cloud_instance_region",
)
INTEGER_KEYS = ("system_cpu_logical_cpu_count", "system_cpu_freq", "system_total_ram",
                "system_total_disk_size")


def kernel_info(uname=None):
    """system_kernel_name/_version and system_architecture (``uname -s``, ``-r``, ``-m``)."""
    u = uname if uname is not None else os.uname()
    return {"system_kernel_name": u[0], "system_kernel_version": u[2], "system_architecture": u[4]}


def is_k8s_node(host):
    """``true`` when KUBERNETES_SERVICE_HOST and _PORT are both set and non-empty, or a
    process whose name contains ``kubelet`` runs (``pgrep kubelet``)."""
    if host.environ.get("KUBERNETES_SERVICE_HOST") and host.environ.get("KUBERNETES_SERVICE_PORT"):
        return "true"
    for pid in host.listdir("/proc"):
        if pid.isdigit():
            comm = host.read("/proc/%s/comm" % pid, record_error=False)
            if comm and re.search("kubelet", comm.split("\n")[0]):
                return "true"
    return "false"


def _first_line(value):
    if isinstance(value, str) and "\n" in value:
        return value.split("\n", 1)[0]
    return value


def collect_system_info(root="/", run_command=None, environ=None, cloud_detection=False,
                        cloud_metadata_url=AWS_METADATA_URL, cloud_timeout=1.0,
                        cloud_gcp_metadata_url=GCP_METADATA_URL, uname=None, errors=None):
    """All of system-info.sh's facts as a dict (see SYSTEM_INFO_KEYS). Never raises.

    root: files are read under it (tests use a fixture tree).
    run_command: ``f(argv, env=None) -> (rc, stdout, stderr)``, ``env`` being extra
      variables; rc 127 means "no such command". Default: subprocess, 10 s timeout.
    environ: the environment the script would have (default ``os.environ``).
    cloud_detection: probe cloud metadata (network!) like the script; off by default.
    cloud_metadata_url / cloud_gcp_metadata_url: bases of the AWS and GCP services.
    uname: an ``os.uname()``-like 5-tuple (default: the live one).
    errors: a list that receives one line per thing that could not be read.
    """
    host = Host(root=root, run_command=run_command, environ=environ, errors=errors)
    info = dict((k, UNKNOWN) for k in SYSTEM_INFO_KEYS)
    steps = (
        lambda: info.update(kernel_info(uname)),
        lambda: _virtualization_and_os(host, info),
        lambda: info.update(collect_cpu(host)),
        lambda: info.update(collect_ram(host)),
        lambda: info.update(collect_disk(host)),
        lambda: info.update({"host_is_k8s_node": is_k8s_node(host)}),
    )
    for step in steps:
        try:
            step()
        except Exception as e:  # a collector bug must not cost the other facts
            host.errors.append("system_info: %s: %s" % (type(e).__name__, e))
    if cloud_detection:
        try:
            info.update(detect_cloud(info["system_virtualization"], cloud_metadata_url,
                                     cloud_gcp_metadata_url, cloud_timeout))
        except Exception as e:
            host.errors.append("system_info cloud: %s" % e)
    return dict((k, _first_line(v)) for k, v in info.items())


def _virtualization_and_os(host, info):
    virt, virt_det, container, cont_det = detect_virtualization(host)
    container, cont_det = container_heuristics(host, container, cont_det)
    info.update({
        "system_virtualization": virt, "system_virt_detection": virt_det,
        "system_container": container, "system_container_detection": cont_det,
        "container_is_official_image": host.environ.get("NETDATA_OFFICIAL_IMAGE") or "false",
    })
    container_ident, host_ident = split_os_identity(host, container)
    for field in OS_FIELDS:
        info["container_" + _key(field)] = container_ident[field]
        info["host_" + _key(field)] = host_ident[field]


def _key(field):
    return field if field == "os_detection" else "os_" + field
