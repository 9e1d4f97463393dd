#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the work is done by the action plugin plugins/action/fleet_report.py
# on the controller.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: fleet_report
short_description: Write the Netdata fleet inventory report (JSON, CSV, HTML) on the controller
version_added: "0.1.0"
description:
  - Writes C(inventory.json), C(inventory.csv) and C(report.html) into O(dest) on the
    controller, in one task, each file atomically (temp file, fsync, rename; a symlink at a
    file's path is replaced, not followed). See C(docs/inventory.md) for their content.
  - "The records come from one of three sources (O(source)): V(results), each host's
    registered M(netdata_fleet.telemetry.netdata_facts) result in this run (what
    C(playbooks/inventory.yml) does); V(cache), each host's facts in Ansible's configured fact
    cache; V(tree), the files of C(ansible -m netdata_fleet.telemetry.netdata_facts --tree DIR)."
  - With V(cache) and V(tree) no host is contacted, so the report works with the whole fleet
    down, and covers hosts gathered by other ansible-playbook processes (job slices, several
    controllers, C(serial) batches). The cache is read through Ansible's own cache plugin
    loader, so any fact cache plugin works (C(jsonfile), C(community.general.redis),
    C(community.general.memcached), ...) with the connection, prefix and C(fact_caching_timeout)
    Ansible itself uses. Entries written by an older ansible-core under the bare host name are
    read too when ansible-core 2.19's own entry is missing.
  - A host with nothing stored is recorded as V(no_facts); facts older than O(max_age) seconds,
    or of unknown age while O(max_age) is set, make the host V(stale), shown with their age and
    the last known state but counted in no telemetry class.
author:
  - netdata_fleet maintainers (!UNKNOWN)
options:
  dest:
    description: Directory for the three files; created (mode 0755) when missing.
    type: path
    required: true
  hosts:
    description:
      - The hosts to report, in this order, each once. Every one gets a record.
      - With O(source=tree), hosts that have a file in the tree but are not listed follow them.
      - When not given, the play's hosts (C(ansible_play_hosts_all)) with O(source=results),
        every host of the inventory (C(groups['all']), in inventory order) with O(source=cache),
        and none with O(source=tree) (the tree's own hosts). Read from the task's variables,
        this saves templating and checking a list of every host as an argument (about half a
        second for 20,000 hosts).
    type: list
    elements: str
  source:
    description: Where the facts come from (see the description).
    type: str
    choices: [results, cache, tree]
    default: results
  result_var:
    description: With O(source=results), the variable each host registered the facts task in.
    type: str
    default: netdata_inventory_result
  tree:
    description: With O(source=tree), the directory C(ansible --tree) wrote.
    type: path
  max_age:
    description:
      - With O(source=cache) or O(source=tree), facts older than this many seconds make a host
        V(stale). V(0) sets no limit.
      - The age is the controller's time minus C(ansible_facts.netdata.collected_at) (the
        target's clock when gathered); without it, C(setup)'s C(date_time.epoch), or the tree
        file's modification time.
    type: int
    default: 0
  title:
    description: Title of the report page.
    type: str
    default: Netdata fleet inventory
  mode:
    description: Mode of the three files, an octal string.
    type: raw
    default: '0644'
  opt_out:
    description:
      - The telemetry state asked of the fleet, for RV(compliance). V(true) (opt-out) counts
        V(opted_out) and V(absent) hosts as compliant, V(false) counts V(opted_in) and V(absent);
        every other class (stale, no facts, unreachable and failed too) is not compliant.
    type: bool
    default: true
  workers:
    description:
      - Processes that read and render parts of the fleet at once (forked on the controller,
        each opening its own connection to the cache). V(0) takes one per CPU core for a fleet
        of a few thousand hosts or more, and one below that.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
    description: Writes nothing; C(changed) and RV(files_changed) say what would change.
  diff_mode:
    support: none
    description: The files are too large to diff usefully.
  action:
    support: full
    description: Runs on the controller as an action plugin of the same name.
  bypass_host_loop:
    support: none
    description: Use C(run_once=true) in a play over many hosts, or run it in a play on C(localhost).
notes:
  - The fact cache is configured as for any play (C(ANSIBLE_CACHE_PLUGIN),
    C(ANSIBLE_CACHE_PLUGIN_CONNECTION), C(fact_caching_timeout), ...). With the default
    C(memory) cache nothing outlives an ansible-playbook process; the task then warns and reads
    the facts gathered earlier in the same run from hostvars.
  - C(fact_caching_timeout) (default one day) makes the cache plugin drop older facts, and such a host
    shows as V(no_facts). Set it above O(max_age), or to V(0), to see old facts as V(stale).
seealso:
  - module: netdata_fleet.telemetry.netdata_facts
"""

EXAMPLES = r"""
- name: Fleet report from the fact cache, contacting no host (every host of the inventory)
  netdata_fleet.telemetry.fleet_report:
    dest: /srv/netdata-report
    source: cache
    max_age: 86400
  register: report
  run_once: true

- name: Report from an ansible --tree directory
  netdata_fleet.telemetry.fleet_report:
    dest: ./netdata-inventory
    source: tree
    tree: /tmp/netdata-facts
  run_once: true
"""

RETURN = r"""
dest:
  description: The directory written (absolute).
  returned: always
  type: str
report:
  description: Path of C(report.html).
  returned: always
  type: str
files:
  description: Path of each file, by name.
  returned: always
  type: dict
  sample: {inventory.json: /srv/r/inventory.json, inventory.csv: /srv/r/inventory.csv, report.html: /srv/r/report.html}
files_changed:
  description: Whether each file changed (would change, in check mode).
  returned: always
  type: dict
source:
  description: Where the facts came from, as the page's header says.
  returned: always
  type: str
  sample: fact cache (community.general.redis), stale after 1 d
summary:
  description: Fleet-wide counts.
  returned: always
  type: dict
  contains:
    total:
      description: Hosts in the report, each counted once.
      type: int
    statuses:
      description: Hosts per class (V(opted_out), V(opted_in), V(partial), V(drifting), V(absent),
        V(stale), V(no_facts), V(unreachable), V(failed)); they add up to RV(summary.total).
      type: dict
    drift:
      description: Hosts whose running state differs from their configuration.
      type: int
    with_facts:
      description: Hosts with Netdata facts in the report (stale ones included).
      type: int
    installs:
      description: Netdata installs found.
      type: int
    claimed:
      description: Installs claimed to Netdata Cloud.
      type: int
    install_kinds:
      description: Installs per kind (V(native), V(static), V(custom), V(container)), as
        C([kind, count]) pairs, most first.
      type: list
      elements: list
      sample: [[native, 15000], [container, 2400], [static, 300]]
    container_agents:
      description:
        - Netdata agents in containers (installs of kind V(container); each is also an install
          of its host), by class, with how many run and on how many hosts.
        - The classes add up to C(total). V(opted_out_until_recreated) is an agent off now whose
          opt-out sits in its container's own layer (netdata_facts'
          C(container.opted_out_until_recreated)), on again once the container is re-created;
          it is not counted in V(opted_out).
      type: dict
      sample: {total: 3, hosts: 2, running: 3, opted_out: 1, opted_out_until_recreated: 1, opted_in: 0,
               partial: 1, unknown: 0}
    container_runtimes:
      description: Container agents per runtime (V(docker), V(podman), V(containerd), V(unknown)), as
        C([runtime, count]) pairs, most first.
      type: list
      elements: list
      sample: [[docker, 2], [podman, 1]]
    headline:
      description: One line, as the page shows it; with container agents, their count by class follows.
      type: str
      sample: "16 hosts: 12 opted out, 2 partial (half-way), 1 no agent, 1 stale facts; 3 container agents:
        1 opted out, 1 opted out until re-created, 1 partial"
compliance:
  description: Hosts as asked (O(opt_out)) and not.
  returned: always
  type: dict
  contains:
    opt_out:
      description: The state asked.
      type: bool
    compliant:
      description: Hosts in the state asked, or without Netdata.
      type: int
    not_compliant:
      description: Every other host.
      type: int
msg:
  description: Path of the page and the headline.
  returned: always
  type: str
"""
