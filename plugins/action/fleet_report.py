# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin netdata_fleet.telemetry.fleet_report: the inventory report's three files,
written on the controller in one task (see plugins/modules/fleet_report.py).

Sources:
- ``results``: each host's registered netdata_facts result (playbooks/inventory.yml);
- ``cache``: each host's facts in Ansible's configured fact cache, read through Ansible's
  cache plugin loader (playbooks/report.yml). Any cache plugin works, it is the one
  Ansible itself reads; hostvars are not used because computing every variable of every
  host costs about a millisecond a host (half a minute for 20,000) where the cache alone
  is read in a few seconds;
- ``tree``: an ``ansible ... --tree DIR`` directory, one result file per host.
No host is contacted for ``cache`` and ``tree``; the plugin needs no connection.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report import (
    records_from_hostvars, to_plain)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_records import (
    compliance, iter_records_from_store, natural_key, summary_from_counts)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_build import (
    BuildError, MAX_WORKERS, auto_workers, build_parts)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_files import (
    FILES, ReportWriteError, write_report)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_html import prepare_page
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report_store import (
    StoreError, cache_lookup, configured_cache, hostvars_lookup, tree_hosts, tree_lookup)

ARGUMENT_SPEC = dict(
    dest=dict(type='path', required=True),
    # Not given: see _default_hosts (a 20,000-host list given as an argument costs its
    # templating and checking, per host, before the task starts).
    hosts=dict(type='list', elements='str'),
    source=dict(type='str', default='results', choices=['results', 'cache', 'tree']),
    result_var=dict(type='str', default='netdata_inventory_result'),
    tree=dict(type='path'),
    max_age=dict(type='int', default=0),
    title=dict(type='str', default='Netdata fleet inventory'),
    mode=dict(type='raw', default='0644'),
    opt_out=dict(type='bool', default=True),
    workers=dict(type='int', default=0),
)


def _file_mode(value):
    """0644 from '0644', '644', 0o644 or 420; a clear error for anything else."""
    if isinstance(value, bool):
        raise AnsibleActionFail('mode must be an octal string like "0644", got a boolean')
    if isinstance(value, int):
        mode = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            mode = int(text, 8)
        except ValueError:
            raise AnsibleActionFail('mode must be an octal string like "0644", got %r' % text[:20])
    else:
        raise AnsibleActionFail('mode must be an octal string like "0644", got %s' % type(value).__name__)
    if not 0 <= mode <= 0o777:
        raise AnsibleActionFail('mode must be between 0000 and 0777, got %o' % mode)
    return mode


def human_seconds(seconds):
    for unit, size in (('d', 86400), ('h', 3600), ('min', 60)):
        if seconds >= size and seconds % size == 0:
            return '%d %s' % (seconds // size, unit)
    return '%d s' % seconds


def _addresses(hostvars, hosts):
    """``ansible_host`` of each host as the inventory sets it on the host itself, read from
    the inventory rather than through hostvars (which would compute, and for a fact cache
    read, every variable of every host). Best effort: a value that is a template, or an
    Ansible without this inventory object, gives no address."""
    inventory = getattr(hostvars, '_inventory', None)
    if inventory is None:
        return {}
    out = {}
    try:
        for name in hosts:
            host = inventory.get_host(name)
            value = host.vars.get('ansible_host') if host is not None else None
            if isinstance(value, str) and '{' not in value:
                out[name] = str(value)
    except Exception:  # a private interface of ansible-core: never fail the report on it
        return out
    return out


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    # Everything happens on the controller: no connection to any host (ansible-core >= 2.19
    # then opens none; older ones open a connection object but never use it).
    _requires_connection = False

    @staticmethod
    def _default_hosts(source, task_vars):
        """The hosts when ``hosts`` is not given: the play's (``ansible_play_hosts_all``) for
        ``results``, every host of the inventory (``groups['all']``, in inventory order) for
        ``cache``, none for ``tree`` (then the tree's own hosts). Read from the task's
        variables as Ansible computed them, with no templating."""
        if source == 'tree':
            return []
        if source == 'results':
            hosts = task_vars.get('ansible_play_hosts_all')
        else:
            hosts = (task_vars.get('groups') or {}).get('all')
        if not isinstance(hosts, (list, tuple)):
            raise AnsibleActionFail('hosts is not given and %s is not known in this play: give hosts'
                                    % ('ansible_play_hosts_all' if source == 'results' else "groups['all']"))
        return hosts

    def _parts(self, args, task_vars, now):
        """``(parts, source note)`` of the report (see inventory_report_build)."""
        hostvars = task_vars.get('hostvars') or {}
        source = args['source']
        hosts = args['hosts']
        if hosts is None:
            hosts = self._default_hosts(source, task_vars)
        # each host once, in the order given (the runs of several workers must not both
        # report a host listed twice)
        hosts = list(dict.fromkeys(str(h) for h in hosts))
        if source == 'results':
            return build_parts(hosts, lambda run: records_from_hostvars(
                hostvars, run, result_var=args['result_var'])), None
        max_age = args['max_age']
        limit = ', stale after %s' % human_seconds(max_age) if max_age else ''
        addresses = _addresses(hostvars, hosts)
        workers = args['workers']
        if source == 'tree':
            if not args['tree']:
                raise AnsibleActionFail('source=tree needs tree (the directory of ansible --tree)')
            directory = args['tree']
            # Every host of the list, then every other host the tree has (as ansible-cmdb
            # does): a tree written for another inventory is still reported whole.
            listed = set(hosts)
            hosts = hosts + sorted((h for h in tree_hosts(directory) if h not in listed), key=natural_key)
            missing = 'no file for this host in the --tree directory'
            note = 'ansible --tree directory %s%s' % (directory, limit)

            def make_lookup():
                return tree_lookup(directory)
        else:
            _plugin, name, persistent = configured_cache()  # fails here, once, on a bad setup
            missing = 'no facts in the fact cache (never gathered, or expired by fact_caching_timeout)'
            if persistent:
                note = 'fact cache (%s)%s' % (name, limit)

                def make_lookup():
                    # each worker process opens its own (a socket is not shared across a fork)
                    return cache_lookup(configured_cache()[0], name)
            else:
                self._display.warning(
                    'fact_caching is %r: facts live only in the ansible-playbook process that gathered '
                    'them, so this report sees only facts gathered earlier in this same run. Configure a '
                    'persistent fact cache (jsonfile, community.general.redis, ...) for the slices and '
                    'for this report.' % name)
                note = 'facts of this run (%s cache)%s' % (name, limit)
                workers = 1  # hostvars live in this process

                def make_lookup():
                    return hostvars_lookup(hostvars)

        def records_for(run):
            # one record at a time: parts_from_records renders and drops them a batch at a time
            return iter_records_from_store(run, make_lookup(), now=now, max_age=max_age, addresses=addresses,
                                           missing=missing)
        workers = workers or auto_workers(len(hosts))
        # while the workers still read, the caller compiles the page's template
        return build_parts(hosts, records_for, workers=workers, meanwhile=prepare_page), note

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        mode = _file_mode(args['mode'])
        if args['max_age'] < 0:
            raise AnsibleActionFail('max_age must be 0 (no limit) or a number of seconds, got %d' % args['max_age'])
        if args['source'] != 'tree' and args['tree']:
            raise AnsibleActionFail('tree is only used with source=tree')
        if not 0 <= args['workers'] <= MAX_WORKERS:
            raise AnsibleActionFail('workers must be 0 (one per core for a big fleet) to %d, got %d'
                                    % (MAX_WORKERS, args['workers']))
        dest = os.path.abspath(os.path.expanduser(args['dest']))
        now = int(time.time())
        try:
            parts, source_note = self._parts(args, task_vars, now)
        except StoreError as exc:
            raise AnsibleActionFail(str(exc))
        except BuildError as exc:
            raise AnsibleActionFail('building the report failed: %s%s'
                                    % ('' if exc.kind == 'StoreError' else '%s: ' % exc.kind, exc))
        summary = summary_from_counts(parts['counts'])
        try:
            changed = write_report(dest, parts, summary, title=args['title'], mode=mode,
                                   check_mode=bool(self._task.check_mode), source=source_note)
        except ReportWriteError as exc:
            raise AnsibleActionFail(str(exc))
        del parts
        html = os.path.join(dest, FILES[2])
        counts = compliance(summary, opt_out=args['opt_out'])
        result.update(
            changed=any(changed.values()),
            dest=dest,
            report=html,
            files=dict((name, os.path.join(dest, name)) for name in FILES),
            files_changed=changed,
            source=source_note or 'results of this run',
            summary=to_plain(dict((k, summary[k]) for k in (
                'total', 'statuses', 'drift', 'with_facts', 'installs', 'claimed', 'install_kinds',
                'container_agents', 'container_runtimes', 'headline'))),
            compliance=counts,
            msg='%s - %s' % (html, summary['headline']),
        )
        return result
