# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # How the module's own code is imported on the target: the option of every module
    # that calls payload_import.compile_sources_once (netdata_facts, netdata_optout).
    DOCUMENTATION = r"""
options:
  bytecode_cache:
    description:
      - Keep the code this module compiles on the target, and load it on the next run instead
        of compiling again (compiling is most of what the module's own code costs a run).
      - It is kept in C(netdata_fleet_telemetry_bytecode/) under Ansible's C(remote_tmp)
        (C(~/.ansible/tmp) unless configured; C(~) is the running user's home), created
        private to the running user when missing, in check mode too, like C(remote_tmp)
        itself. It holds this collection's code only, about 1 MB per Python version,
        one entry per module, replaced when a new release changes the module.
      - An entry is loaded only when it and its directory belong to the running user,
        are not links and nobody else may write to them, and only for the very source it
        was compiled from (SHA-256). Otherwise the module compiles as without a cache.
      - With V(false) nothing is read or written there; where Python is told not to write
        bytecode (E(PYTHONDONTWRITEBYTECODE)) nothing is written.
    type: bool
    default: true
"""
