#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Documentation only: the work is done by the action plugin plugins/action/stats_event.py
# on the controller.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: stats_event
short_description: Send Netdata statistics events for fleet hosts from the controller, failing closed
version_added: "0.1.0"
description:
  - Sends, from the controller, the event Netdata's C(anonymous-statistics.sh) would send
    (same JSON shape and property names), filled from each host's C(ansible_facts.netdata)
    as gathered by M(netdata_fleet.telemetry.netdata_facts).
  - Privacy first, failing closed. An event is sent for a host only when its facts say
    C(installed=true), C(telemetry.opted_in=true), C(telemetry.opted_out=false),
    C(telemetry.state=opted_in), C(telemetry.drift=false), and every install has a valid
    machine GUID, a verdict for every telemetry channel, and is itself opted in on every
    channel that applies (exact booleans; V("true"), V(1) or V(null) never count). Anything else
    (opted out, partial, unknown, facts missing or malformed, the host failed or is
    unreachable) suppresses the host's event, with the reason in RV(results).
  - O(mode=flush) applies the same gate to every spooled event, against the host's facts as
    they are in the flushing play, and never sends an event it cannot check. See O(mode).
  - Nothing is sent at all when the controller's own environment has E(DO_NOT_TRACK) or
    E(DISABLE_TELEMETRY) set to a non-empty value (any value, V(0) included, as Netdata's script reads it).
  - Without O(hosts) the task works per host (the current host). With O(hosts) and
    C(run_once=true), one task sends for a whole fleet, concurrently.
  - Delivery problems never fail the task (a down collector must not stop a play); use
    C(failed_when) on RV(failed_hosts) if you want that. The task fails only on bad input,
    and then before anything is sent or written, with a message that shows neither
    O(api_key), nor O(hash_guid_key), nor the user and password of a URL.
  - Events that could not be delivered go to the O(spool) (JSON lines, mode 0600, without the
    api_key); O(mode=flush) delivers them later. Every event carries a stable id (top-level
    C(uuid), the key PostHog uses to drop duplicates) and its original C(timestamp), so a
    receiver can drop duplicates.
author:
  - netdata_fleet maintainers (!UNKNOWN)
options:
  event:
    description:
      - The Netdata action. Required when O(mode=send).
    type: str
    choices: [START, STOP, EXIT, FATAL]
  result:
    description:
      - C(ACTION_RESULT) as Netdata passes it (for O(event=FATAL), the program name and thread tag;
        for O(event=EXIT), V(OK) or V(ERROR)). The event is named C("<event> <result>").
    type: str
    default: "-"
  data:
    description:
      - C(ACTION_DATA) as Netdata passes it. As in the script, double quotes become single quotes.
    type: str
    default: "-"
  endpoint:
    description:
      - The capture URL the events are POSTed to. C(https), or C(http) to a loopback
        address (C(127.0.0.0/8), C(::1), C(localhost)) unless O(allow_insecure_http=true).
        Other schemes, malformed URLs, whitespace, control characters and URLs with
        credentials are refused; messages and results show such a URL with everything
        before its last C(@) masked.
    type: str
    default: https://posthog.netdata.cloud/capture/
  api_key:
    description:
      - The C(api_key) sent in each event. The default is the public key Netdata's own
        C(anonymous-statistics.sh) sends. Never written to the spool or shown in results.
        Must not be empty.
    type: str
    default: mqkwGT0JNFqO-zX2t0mW6Tec9yooaVu7xCBlXtHnt5Y
  timeout:
    description: Seconds to wait for the collector (connect and read), greater than 0 and at most 600.
    type: float
    default: 2.0
  retries:
    description:
      - Retries per event after the first attempt, on HTTP 5xx, 408, 429, timeouts and
        connection errors, with exponential backoff and jitter. V(0) to V(20).
    type: int
    default: 2
  backoff:
    description:
      - Base delay in seconds of the exponential backoff (C(backoff * 2**(n-1)) plus up to
        O(backoff) of jitter before retry C(n)). V(0) to V(60), a finite number.
    type: float
    default: 0.2
  max_backoff:
    description:
      - Longest wait between two attempts, also the cap on a server's C(Retry-After).
        V(0) to V(600), a finite number.
    type: float
    default: 5.0
  validate_certs:
    description: Verify the collector's TLS certificate.
    type: bool
    default: true
  allow_insecure_http:
    description: Allow plain C(http) to a non-loopback host.
    type: bool
    default: false
  hosts:
    description:
      - Inventory hostnames to send the event for, in one batched task. Use with
        C(run_once=true) (the task refuses a O(hosts) list in a per-host loop of several
        hosts, which would send everything once per host).
      - Facts are read from C(hostvars); they are not gathered for these hosts, so a host
        without facts is suppressed with reason V(facts missing). Gather first with
        M(netdata_fleet.telemetry.netdata_facts) on those hosts.
      - When omitted, the current host only.
      - Not used by O(mode=flush), which handles every record of the spool.
    type: list
    elements: str
  spool:
    description:
      - Controller-side file where undelivered events are kept (JSON lines, mode 0600). When
        omitted, undelivered events are only reported in RV(failed_hosts).
      - Required for O(mode=flush).
      - Must name a regular file or nothing yet, not a symlink (nor may C(<spool>.lock) be
        one), in a directory that exists or can be created; checked before anything is sent.
    type: path
  mode:
    description:
      - V(send) sends the event. V(flush) delivers the events of O(spool) to O(endpoint) and
        rewrites the spool with only those that still failed or were kept.
      - Each record is checked again against its host's facts as the flushing play has them
        (C(hostvars), a fact cache included), with the gate of V(send). Gather
        M(netdata_fleet.telemetry.netdata_facts) on the hosts in the flushing play first.
      - Dropped (removed from the spool, not sent), when the host's current facts are
        readable and do not permit sending (opted out, partial, a channel off or unknown,
        drift, not installed).
      - Kept (left in the spool, not sent), when the record cannot be checked. That is when
        the host has no facts (a flush-only play, an expired fact cache), is no longer in the
        inventory, its vars cannot be read, its facts are malformed, it failed earlier in
        the play, the record's host name is not a string, the event's machine id matches none
        of the host's installs now (another machine under that name, or ids hashed with
        O(hash_guid_key), then flush with the same key), or it was spooled for another
        endpoint. A later flush with facts delivers or drops it; delete the spool to discard it.
      - RV(per_host) counts, for each host, what was sent, failed, kept and dropped, and why.
    type: str
    choices: [send, flush]
    default: send
  drop_fields:
    description: Property names (of C(properties)) to leave out of the payload.
    type: list
    elements: str
    default: []
  hash_guid_key:
    description:
      - When set, C(distinct_id) and C(netdata_machine_guid) carry the HMAC-SHA256 (hex) of the
        lowercased machine GUID under this key instead of the GUID, for operators running
        their own collector.
      - With O(mode=flush), the key the events were sent with, so they can be matched to
        their hosts' facts (without it, hashed events are kept, not sent).
    type: str
  workers:
    description: Most events delivered at once (threads and pooled connections), 1 to 256.
    type: int
    default: 16
  gather_missing_facts:
    description:
      - When the current host has no C(ansible_facts.netdata) and no O(hosts) list is given,
        run M(netdata_fleet.telemetry.netdata_facts) on it first (not when the task is
        delegated). The facts are used for this task only, not stored.
    type: bool
    default: true
  run_id:
    description:
      - Part of each event id (C(uuid5) over the distinct id, event, result, data and this).
        Defaults to a random value per task run, so each run is a new occurrence; set it to
        make a re-run send the same ids (receivers then drop the duplicates).
    type: str
attributes:
  check_mode:
    support: full
    description: Sends nothing and returns the payloads that would be sent (api_key masked).
  diff_mode:
    support: none
    description: The module changes nothing on the hosts, so there is no difference to show.
  action:
    support: full
    description: Runs on the controller as an action plugin of the same name, which sends the events.
  bypass_host_loop:
    support: none
    description: Use C(run_once=true) with O(hosts) to send for a fleet in one task.
notes:
  - Property names and order are those of Netdata 1.37's C(anonymous-statistics.sh). Values come
    from the facts; values the script quotes are sent as strings; the agent configuration and
    usage counters the script receives from the daemon (C(config_*), C(alarms_*), C(host_*)
    counters, C(mirrored_*), C(exporting_connectors), C(netdata_buildinfo),
    C(netdata_release_channel), C(netdata_prebuilt_distro)) and any value the facts do not give
    are sent as V(null). C(host_agent_claimed) comes from the install's claimed state.
  - With several installs on a host, every install must permit sending and the event describes
    the first one (discovery order).
  - Hosts with the same machine GUID (cloned images) produce the same event id; only the first is
    sent, the others are suppressed as duplicates.
  - Requires the Python library C(requests) on the controller.
seealso:
  - module: netdata_fleet.telemetry.netdata_facts
"""

EXAMPLES = r"""
- name: Gather Netdata facts on every host
  netdata_fleet.telemetry.netdata_facts:

- name: Send one START event for the whole fleet, from the controller
  netdata_fleet.telemetry.stats_event:
    event: START
    hosts: "{{ ansible_play_hosts }}"
    spool: "{{ playbook_dir }}/stats_spool.jsonl"
  run_once: true
  register: stats

- name: Send to your own collector, without the GUID and the CPU model
  netdata_fleet.telemetry.stats_event:
    event: EXIT
    result: OK
    endpoint: https://collector.example.com/capture/
    api_key: "{{ my_collector_key }}"
    hash_guid_key: "{{ my_guid_hash_key }}"
    drop_fields: [system_cpu_model]
    hosts: "{{ ansible_play_hosts }}"
  run_once: true

- name: Deliver what is spooled
  netdata_fleet.telemetry.stats_event:
    mode: flush
    spool: "{{ playbook_dir }}/stats_spool.jsonl"
  run_once: true
"""

RETURN = r"""
sent:
  description: Inventory hostnames whose event was delivered (2xx).
  returned: always
  type: list
  elements: str
suppressed:
  description:
    - Inventory hostnames whose event was not sent because sending is not permitted.
    - In O(mode=flush), hosts with an event dropped from the spool because their current facts
      do not permit sending.
  returned: always
  type: list
  elements: str
kept_hosts:
  description:
    - In O(mode=flush), hosts with an event kept in the spool, unsent, because it could not
      be checked (see O(mode)); V((no valid host name\)) for records without a usable host name.
  returned: when mode=flush
  type: list
  elements: str
per_host:
  description:
    - In O(mode=flush), for each host (as RV(kept_hosts) names them), how many of its spooled
      events were C(sent), C(failed) (still spooled), C(kept) (not checked, still spooled),
      C(dropped) (removed, not permitted) and, in check mode, C(would_send); C(reasons)
      counts each reason of the failed, kept and dropped ones.
  returned: when mode=flush
  type: dict
  sample:
    web1: {sent: 1, failed: 0, kept: 0, dropped: 0, would_send: 0, reasons: {}}
    web2: {sent: 0, failed: 0, kept: 2, dropped: 0, would_send: 0, reasons: {"not checked: facts missing": 2}}
    web3: {sent: 0, failed: 0, kept: 0, dropped: 1, would_send: 0, reasons: {"opted out": 1}}
spool_unreadable:
  description: In O(mode=flush), spool lines that do not parse (kept verbatim, never sent).
  returned: when mode=flush
  type: int
failed_hosts:
  description:
    - Inventory hostnames whose event could not be delivered (spooled when O(spool) is set).
    - Not named C(failed), which Ansible reserves (a non-empty list would fail the task).
  returned: always
  type: list
  elements: str
results:
  description:
    - Per-host detail (O(mode=send)), keyed by inventory hostname; in O(mode=flush), keyed by
      event id, each with a C(host) key.
    - Each holds C(status) (V(sent), V(suppressed), V(failed), V(would_send), V(kept)),
      C(reason), C(http_status) (or null), C(attempts), and in send mode C(event_id) and,
      for failures, C(spooled). In O(mode=flush), V(suppressed) means dropped from the spool
      and V(kept) means left in it unsent; a record without a string event id is keyed
      C(spool line N).
  returned: always
  type: dict
  sample:
    web1: {status: sent, reason: delivered, http_status: 200, attempts: 1, event_id: 0f6c...}
    web2: {status: suppressed, reason: opted out, http_status: null, attempts: 0, event_id: null}
spooled:
  description: Number of events written to the spool by this task.
  returned: always
  type: int
spool_pending:
  description: Number of records left in the spool after a flush.
  returned: when mode=flush
  type: int
would_send:
  description: In check mode, what would be sent; each item has C(host), C(event_id) and C(payload) (api_key masked).
  returned: in check mode
  type: list
  elements: dict
run_id:
  description: The run id that went into the event ids.
  returned: when mode=send
  type: str
endpoint:
  description: The endpoint used (anything before an C(@) in it masked).
  returned: always
  type: str
spool_error:
  description: Why undelivered events could not be spooled.
  returned: when spooling failed
  type: str
"""
