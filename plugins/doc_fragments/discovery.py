# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # How installs are found and judged: the options of every module that gathers the
    # telemetry facts (netdata_facts, and netdata_optout before and after it writes).
    DOCUMENTATION = r"""
options:
  config_dir:
    description:
      - Extra Netdata config directories to look for installs in, besides the well-known
        locations (C(/etc/netdata), C(/opt/netdata/etc/netdata), C(/usr/local/etc/netdata)),
        for installs under a custom prefix. The prefix is the path before C(/etc/netdata).
      - A relative path, a NUL byte, or a path that exists but is not a directory fails the
        task before anything is read; one that does not exist is not an error.
    type: list
    elements: path
    default: []
  strict:
    description:
      - Count the installer channel (whether kickstart and C(netdata-updater) runs would
        send events, judged from C(/etc/environment) and C(/etc/profile.d)) toward an
        install's C(opted_out) verdict. The channel is always reported, and always counts
        toward C(opted_in).
    type: bool
    default: false
  live_query:
    description:
      - Ask each running daemon for its analytics flag over its web API
        (C(/api/v1/registry?action=hello)), on the address and port of its C(netdata.conf),
        never through a proxy. Where a daemon answers, its answer decides the daemon
        analytics channel, and a difference from the configuration is reported as drift.
      - A v2.3 or later daemon is also asked for the C(crash reports) value its start
        resolved (its C(/netdata.conf) page).
    type: bool
    default: true
  live_timeout:
    description: Seconds to wait for a daemon's answer to the live query, more than V(0) and at most V(60).
    type: float
    default: 1.0
  containers:
    description:
      - Ask the container runtimes' CLIs (C(docker), C(podman); 5 seconds per call at most) for
        container names, images, environment, mounts and stopped containers.
      - With V(false), or where no runtime answers, container agents are still found and
        judged from C(/proc) alone (stopped ones are then not seen).
    type: bool
    default: true
"""
