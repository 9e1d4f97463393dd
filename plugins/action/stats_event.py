# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin netdata_fleet.telemetry.stats_event (documentation: plugins/modules/stats_event.py).

Runs on the controller. Sends, or suppresses (failing closed), Netdata statistics events
for one host (the current one) or for a list of hosts in one batched task.

Why not BYPASS_HOST_LOOP: without a C(hosts) list the plugin works per host (and may run
C(netdata_facts) on that host through its connection), which needs the host loop; for a
fleet, C(run_once: true) plus C(hosts) gives one invocation whose result Ansible copies to
every host of the batch (BYPASS_HOST_LOOP would record it on the first host only). The
task never fails for delivery problems, so a run_once failure never fails the batch;
per-host outcomes are in the result. The plugin never returns C(ansible_facts): with
run_once Ansible would copy one host's facts onto every host of the batch.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import errno
import os
import stat
import uuid

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils._stats.payload import (
    EVENTS,
    NETDATA_CAPTURE_URL,
    NETDATA_POSTHOG_API_KEY,
    PROPERTY_NAMES,
    build_payload,
    controller_permits_sending,
    hash_guid,
    telemetry_permits_sending,
    with_api_key,
)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils._stats import delivery as stats_delivery
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils._stats import spool as stats_spool

display = Display()

FACTS_MODULE = 'netdata_fleet.telemetry.netdata_facts'
MASK = '********'

ARGUMENT_SPEC = dict(
    event=dict(type='str', choices=list(EVENTS)),
    result=dict(type='str', default='-'),
    data=dict(type='str', default='-'),
    endpoint=dict(type='str', default=NETDATA_CAPTURE_URL),
    api_key=dict(type='str', default=NETDATA_POSTHOG_API_KEY, no_log=True),
    timeout=dict(type='float', default=2.0),
    retries=dict(type='int', default=2),
    backoff=dict(type='float', default=0.2),
    max_backoff=dict(type='float', default=5.0),
    validate_certs=dict(type='bool', default=True),
    allow_insecure_http=dict(type='bool', default=False),
    hosts=dict(type='list', elements='str'),
    spool=dict(type='path'),
    mode=dict(type='str', default='send', choices=['send', 'flush']),
    drop_fields=dict(type='list', elements='str', default=[]),
    hash_guid_key=dict(type='str', no_log=True),
    workers=dict(type='int', default=16),
    gather_missing_facts=dict(type='bool', default=True),
    run_id=dict(type='str'),
)

MAX_WORKERS = 256

# Options Ansible would turn into a string from anything (a list, a dict): they must be
# strings (the scalars listed may be numbers, as in "data: 1"). Values are never shown:
# api_key and hash_guid_key are secrets, and an endpoint may carry a password.
STRING_OPTIONS = ('event', 'result', 'data', 'endpoint', 'api_key', 'spool', 'mode', 'hash_guid_key', 'run_id')
NUMBER_LIKE_OK = ('result', 'data', 'run_id')
NUMBER_OPTIONS = ('timeout', 'retries', 'backoff', 'max_backoff', 'workers')

# Why a spooled event is kept at flush without being sent: its host cannot be checked.
NOT_CHECKED = 'not checked'
NO_HOST_KEY = '(no valid host name)'


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def _plain_str(value):
    return None if value is None else str(value)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _valid_host_name(value):
    return isinstance(value, str) and bool(value.strip()) and '\x00' not in value


def check_spool_path(path):
    """Raise AnsibleActionFail unless C(path) can be a spool: a regular file or nothing, not a
    symlink, in a directory that exists or can be made (nothing is created here)."""
    if not isinstance(path, str) or not path.strip():
        raise AnsibleActionFail('spool must be a non-empty file path')
    if '\x00' in path:
        raise AnsibleActionFail('spool contains a NUL byte')
    if path.endswith(os.sep) or os.path.basename(path) in ('', '.', '..'):
        raise AnsibleActionFail('spool %r must name a file, not a directory' % (path,))
    path = os.path.abspath(os.path.expanduser(path))
    for candidate, what in ((path, 'spool'), (path + '.lock', 'spool lock file')):
        try:
            st = os.lstat(candidate)
        except OSError as e:
            if e.errno in (errno.ENOENT,):
                continue
            if e.errno == errno.ENOTDIR:
                raise AnsibleActionFail('spool %r: a parent of it is not a directory' % (path,))
            raise AnsibleActionFail('spool %r: cannot inspect %s: %s' % (path, what, e.strerror or e))
        if stat.S_ISLNK(st.st_mode):
            raise AnsibleActionFail('%s %r is a symlink; refusing to follow it' % (what, candidate))
        if not stat.S_ISREG(st.st_mode):
            raise AnsibleActionFail('%s %r is not a regular file' % (what, candidate))
        if not os.access(candidate, os.R_OK | os.W_OK):
            raise AnsibleActionFail('%s %r is not readable and writable by this user' % (what, candidate))
    parent = os.path.dirname(path)
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise AnsibleActionFail('spool %r: %r is not a directory' % (path, parent))
    if not os.access(parent, os.W_OK | os.X_OK) and not os.path.exists(path):
        raise AnsibleActionFail('spool %r: directory %r is not writable by this user' % (path, parent))
    return path


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    # -- input ---------------------------------------------------------------------------

    def _check_raw_args(self):
        """Refuse what Ansible's str/list conversion would silently accept (a list as a URL,
        a dict as an api_key, true as a timeout), naming the option and never its value."""
        raw = self._task.args or {}
        for name in STRING_OPTIONS:
            value = raw.get(name)
            if value is None or isinstance(value, str):
                continue
            if name in NUMBER_LIKE_OK and _is_number(value):
                continue
            raise AnsibleActionFail('%s must be a string, got %s' % (name, type(value).__name__))
        for name in NUMBER_OPTIONS:
            if isinstance(raw.get(name), bool):
                raise AnsibleActionFail('%s must be a number, got bool' % name)
        for name in ('hosts', 'drop_fields'):
            value = raw.get(name)
            if value is None:
                continue
            if isinstance(value, str):
                continue  # Ansible's own "a,b" form of a list
            if isinstance(value, (bytes, dict)) or not hasattr(value, '__iter__'):
                raise AnsibleActionFail('%s must be a list, got %s' % (name, type(value).__name__))
            for item in value:
                if isinstance(item, str) or (name == 'hosts' and _is_number(item) and isinstance(item, int)):
                    continue
                raise AnsibleActionFail('%s: every item must be a %s, got %s'
                                        % (name, 'host name' if name == 'hosts' else 'string', type(item).__name__))

    def _validated_args(self, task_vars):
        """Every bad argument fails here, before anything is sent or written; no message shows
        the api_key, hash_guid_key or the endpoint's userinfo."""
        self._check_raw_args()
        _validation, args = self.validate_argument_spec(
            argument_spec=ARGUMENT_SPEC,
            required_if=[('mode', 'send', ('event',))],
        )
        for name in ('result', 'data', 'endpoint', 'api_key', 'spool', 'hash_guid_key', 'run_id'):
            if isinstance(args.get(name), str) and '\x00' in args[name]:
                raise AnsibleActionFail('%s contains a NUL byte' % name)
        for name in ('hosts', 'drop_fields'):
            if any('\x00' in str(item) for item in args.get(name) or ()):
                raise AnsibleActionFail('%s: an item contains a NUL byte' % name)
        if not args['api_key']:
            raise AnsibleActionFail('api_key must not be empty (omit it to send the key Netdata\'s script sends)')
        if args['hash_guid_key'] is not None and not args['hash_guid_key']:
            raise AnsibleActionFail('hash_guid_key must not be empty (omit it to send the GUID)')
        try:
            stats_delivery.check_delivery_numbers(args['timeout'], args['retries'], args['backoff'],
                                                  args['max_backoff'])
        except ValueError as e:
            raise AnsibleActionFail(str(e))
        if not 1 <= args['workers'] <= MAX_WORKERS:
            raise AnsibleActionFail('workers must be between 1 and %d, got %r' % (MAX_WORKERS, args['workers']))
        unknown = sorted(set(args['drop_fields']) - set(PROPERTY_NAMES))
        if unknown:
            raise AnsibleActionFail('drop_fields: unknown property name(s) %s; known names are those '
                                    'of anonymous-statistics.sh (for example host_os_name, system_total_ram)'
                                    % ', '.join(repr(str(u)) for u in unknown))
        if args['hosts'] is not None:
            for h in args['hosts']:
                if not _valid_host_name(h):
                    raise AnsibleActionFail('hosts: %r is not a host name' % (h,))
        if args['mode'] == 'flush' and args['spool'] is None:
            raise AnsibleActionFail('mode=flush needs spool (the spool file to deliver)')
        if args['spool'] is not None:
            args['spool'] = check_spool_path(args['spool'])
        loopback_only = bool(os.environ.get(stats_delivery.LOOPBACK_GUARD_ENV))
        try:
            stats_delivery.validate_endpoint(args['endpoint'], args['allow_insecure_http'], loopback_only)
        except stats_delivery.EndpointError as e:
            # from None: a chained parser error can quote a password, and ansible-core
            # before 2.19 puts the chain into the result's "exception" (shown with -vvv).
            raise AnsibleActionFail(str(e)) from None
        if args['hosts'] is not None:
            batch = task_vars.get('ansible_play_batch') or []
            if not self._task.run_once and len(batch) > 1:
                raise AnsibleActionFail(
                    'hosts: is given but the task is not run_once while the play batch has %d hosts: every '
                    'host would send the whole list again. Add run_once: true (or drop hosts: to send for '
                    'each host itself).' % len(batch))
        if not stats_delivery.HAS_REQUESTS and not self._task.check_mode \
                and controller_permits_sending(os.environ)[0]:
            raise AnsibleActionFail(stats_delivery.requests_missing_message())
        return args

    # -- facts ---------------------------------------------------------------------------

    @staticmethod
    def _host_netdata(task_vars, host):
        """Return (netdata_facts, None), or (None, why) when the host has none that can be read.

        Reads the host's vars once (each access templates them). C(why) starts with
        C(facts missing), C(facts unreadable), C(facts malformed) or is C(not in inventory).
        Facts are only ever taken from the named host: without hostvars, from the task's
        own facts when the name is the current host's.
        """
        hostvars = task_vars.get('hostvars')
        try:
            if hostvars is not None:
                if host not in hostvars:
                    return None, 'not in inventory'
                facts = hostvars[host].get('ansible_facts')
            elif host == task_vars.get('inventory_hostname'):
                facts = task_vars.get('ansible_facts')
            else:
                return None, 'facts missing'
            if facts is None:
                return None, 'facts missing'
            if not hasattr(facts, 'get'):
                return None, 'facts malformed: ansible_facts is a %s' % type(facts).__name__
            netdata = facts.get('netdata')
        except Exception as e:  # a host var that fails to template must not crash the batch
            display.warning('stats_event: cannot read facts of %s: %s' % (host, e))
            return None, 'facts unreadable: %s' % (type(e).__name__,)
        if netdata is None:
            return None, 'facts missing'
        return netdata, None

    def _gather(self, task_vars):
        """Run netdata_facts on the current host. Returns (netdata_facts or None, reason)."""
        try:
            res = self._execute_module(module_name=FACTS_MODULE, module_args={'gather_subset': ['all']},
                                       task_vars=task_vars)
        except Exception as e:  # unreachable hosts raise here on some connections
            return None, 'gathering facts failed: %s' % (e,)
        finally:
            try:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            except Exception:
                pass
        if res.get('unreachable'):
            return None, 'host unreachable: %s' % (res.get('msg', ''),)
        if res.get('failed'):
            return None, 'gathering facts failed: %s' % (res.get('msg', ''),)
        netdata = (res.get('ansible_facts') or {}).get('netdata')
        if netdata is None:
            return None, 'gathering facts failed: netdata_facts returned no ansible_facts.netdata'
        return netdata, None

    # -- run -----------------------------------------------------------------------------

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = self._validated_args(task_vars)
        if args['mode'] == 'flush':
            result.update(self._flush(args, task_vars))
        else:
            result.update(self._send(args, task_vars))
        return result

    def _deliverer(self, args):
        if not stats_delivery.HAS_REQUESTS:
            raise AnsibleActionFail(stats_delivery.requests_missing_message())
        return stats_delivery.Deliverer(
            endpoint=str(args['endpoint']), timeout=args['timeout'], retries=args['retries'],
            validate_certs=args['validate_certs'], workers=args['workers'],
            backoff=args['backoff'], max_backoff=args['max_backoff'])

    @staticmethod
    def _body_bytes(payload, api_key):
        return stats_spool.dumps(with_api_key(payload, str(api_key))).encode('utf-8')

    def _send(self, args, task_vars):
        check_mode = bool(self._task.check_mode)
        run_id = _plain_str(args['run_id']) or uuid.uuid4().hex
        timestamp = _utc_now()
        endpoint = str(args['endpoint'])
        if args['hosts'] is not None:
            targets = []
            for h in args['hosts']:
                h = str(h)
                if h not in targets:
                    targets.append(h)
            per_host = False
        else:
            targets = [str(task_vars.get('inventory_hostname', ''))]
            per_host = True

        out = dict(changed=False, sent=[], suppressed=[], failed_hosts=[], results={}, spooled=0,
                   run_id=run_id, endpoint=stats_delivery.redact_url(endpoint))
        if check_mode:
            out['would_send'] = []

        permitted, reason = controller_permits_sending(os.environ)
        if not permitted:
            for h in targets:
                out['suppressed'].append(h)
                out['results'][h] = dict(status='suppressed', reason=reason, event_id=None,
                                         http_status=None, attempts=0)
            out['msg'] = 'nothing sent: %s' % reason
            return out

        play_all = set(str(h) for h in task_vars.get('ansible_play_hosts_all') or [])
        play_active = set(str(h) for h in task_vars.get('ansible_play_hosts') or [])
        delegated = bool(getattr(self._task, 'delegate_to', None))

        pending = []  # (host, payload)
        seen_ids = {}
        for h in targets:
            reason = None
            netdata = None
            if play_all and h in play_all and h not in play_active:
                reason = 'host failed or unreachable earlier in this play'
            else:
                netdata, missing = self._host_netdata(task_vars, h)
                if missing == 'facts missing' and per_host and args['gather_missing_facts']:
                    if delegated:
                        reason = 'facts missing (the task is delegated, so they are not gathered here; gather them first)'
                    else:
                        netdata, reason = self._gather(task_vars)
                elif missing == 'facts missing' and not per_host:
                    reason = 'facts missing (gather netdata_facts on the hosts first)'
                elif missing:
                    reason = missing
            if reason is None:
                ok, gate_reason = telemetry_permits_sending(netdata)
                if not ok:
                    reason = gate_reason
            if reason is None:
                payload = build_payload(netdata, args['event'], args['result'], args['data'], run_id, timestamp,
                                        drop_fields=args['drop_fields'], guid_key=args['hash_guid_key'])
                event_id = payload['uuid']
                if event_id in seen_ids:
                    reason = 'duplicate event: same machine GUID and event as %s' % seen_ids[event_id]
                else:
                    seen_ids[event_id] = h
                    pending.append((h, payload))
                    continue
            out['suppressed'].append(h)
            out['results'][h] = dict(status='suppressed', reason=reason, event_id=None, http_status=None, attempts=0)
            display.vv('stats_event: %s suppressed: %s' % (h, reason))

        if check_mode:
            for h, payload in pending:
                body = with_api_key(payload, MASK)
                out['would_send'].append(dict(host=h, event_id=payload['uuid'], payload=body))
                out['results'][h] = dict(status='would_send', reason='check mode: nothing sent',
                                         event_id=payload['uuid'], http_status=None, attempts=0)
            out['changed'] = bool(pending)
            out['msg'] = 'check mode: would send %d, suppressed %d' % (len(pending), len(out['suppressed']))
            return out

        outcomes = {}
        if pending:
            deliverer = self._deliverer(args)
            try:
                outcomes = deliverer.deliver_all(
                    [(p['uuid'], self._body_bytes(p, args['api_key'])) for _h, p in pending])
            finally:
                deliverer.close()

        to_spool = []
        for h, payload in pending:
            oc = outcomes[payload['uuid']]
            detail = dict(event_id=payload['uuid'], http_status=oc.status, attempts=oc.attempts)
            if oc.ok:
                out['sent'].append(h)
                detail.update(status='sent', reason='delivered')
            else:
                out['failed_hosts'].append(h)
                detail.update(status='failed', reason=oc.error, spooled=False)
                if args['spool']:
                    to_spool.append(stats_spool.make_record(h, endpoint, payload, timestamp, oc.attempts, oc.error))
            out['results'][h] = detail
            display.vv('stats_event: %s %s (%s)' % (h, detail['status'], detail['reason']))

        if to_spool:
            try:
                out['spooled'] = stats_spool.append_records(args['spool'], to_spool)
                for rec in to_spool:
                    out['results'][rec['host']]['spooled'] = True
            except (stats_spool.SpoolError, OSError) as e:
                out['spool_error'] = str(e)
                display.warning('stats_event: could not spool %d undelivered event(s): %s' % (len(to_spool), e))

        out['changed'] = bool(out['sent'])
        out['msg'] = 'sent %d, suppressed %d, failed %d (spooled %d)' % (
            len(out['sent']), len(out['suppressed']), len(out['failed_hosts']), out['spooled'])
        return out

    def _flush(self, args, task_vars):
        check_mode = bool(self._task.check_mode)
        endpoint = str(args['endpoint'])
        out = dict(changed=False, sent=[], suppressed=[], failed_hosts=[], kept_hosts=[], results={},
                   per_host={}, spooled=0, spool_pending=0, spool_unreadable=0,
                   endpoint=stats_delivery.redact_url(endpoint))
        if check_mode:
            out['would_send'] = []

        permitted, reason = controller_permits_sending(os.environ)
        if not permitted:
            out['msg'] = 'nothing flushed: %s (the spool is kept)' % reason
            try:
                out['spool_pending'] = len(stats_spool.read_lines(args['spool']))
            except stats_spool.SpoolError as e:
                out['spool_error'] = str(e)
            return out

        try:
            if check_mode:
                # Check mode writes nothing, not even the lock file or the spool's directory;
                # the spool is only ever replaced whole (rename), so an unlocked read is whole.
                return self._flush_locked(args, task_vars, args['spool'], out, check_mode)
            with stats_spool.locked(args['spool']) as path:
                return self._flush_locked(args, task_vars, path, out, check_mode)
        except stats_spool.SpoolError as e:
            raise AnsibleActionFail(str(e))

    @staticmethod
    def _event_matches(payload, netdata, guid_key):
        """None when the spooled event describes one of the host's installs now, else why not.

        The gate judges the host's current facts; they only speak for the event when the
        event is about the same machine (a host name can be given to another machine, and a
        record can be edited)."""
        props = payload.get('properties')
        if not isinstance(props, dict):
            return 'spool record malformed: payload has no properties'
        ids = [props[k] for k in ('distinct_id', 'netdata_machine_guid') if k in props]
        if not ids or any(not isinstance(i, str) for i in ids) or len(set(ids)) != 1:
            return 'spool record malformed: the event carries no single machine id'
        guids = [str(inst['machine_guid']).lower() for inst in netdata['installs']]
        accepted = set(guids)
        if guid_key:
            accepted.update(hash_guid(g, str(guid_key)) for g in guids)
        if ids[0] in accepted:
            return None
        return ("the event's machine id matches none of the host's installs now (another machine "
                "under this name, or a hashed id: flush with the same hash_guid_key)")

    def _judge_record(self, rec, endpoint, guid_key, task_vars, checked):
        """('deliver', None), ('kept', reason) or ('dropped', reason) for one spool record."""
        payload = rec.get('payload')
        host = rec.get('host')
        if not _valid_host_name(host):
            return 'kept', '%s: the record has no valid host name' % NOT_CHECKED
        if not isinstance(rec.get('event_id'), str) or payload.get('uuid') != rec['event_id']:
            return 'kept', 'spool record malformed: event_id does not match the payload'
        if str(rec.get('endpoint')) != endpoint:
            return 'kept', 'spooled for another endpoint (%s)' % stats_delivery.redact_url(rec.get('endpoint'))
        if host not in checked:
            checked[host] = self._check_host_now(task_vars, host)
        netdata, kind, reason = checked[host]
        if kind is not None:
            return kind, reason
        mismatch = self._event_matches(payload, netdata, guid_key)
        if mismatch:
            return 'kept', '%s: %s' % (NOT_CHECKED, mismatch)
        return 'deliver', None

    def _check_host_now(self, task_vars, host):
        """(netdata, None, None) when the host's current facts permit sending; else
        (None, 'kept', why) when they cannot be had, (None, 'dropped', why) when they refuse."""
        play_all = set(str(h) for h in task_vars.get('ansible_play_hosts_all') or [])
        play_active = set(str(h) for h in task_vars.get('ansible_play_hosts') or [])
        if host in play_all and host not in play_active:
            return None, 'kept', '%s: host failed or unreachable earlier in this play' % NOT_CHECKED
        netdata, missing = self._host_netdata(task_vars, host)
        if missing:
            return None, 'kept', '%s: %s' % (NOT_CHECKED, missing)
        ok, gate_reason = telemetry_permits_sending(netdata)
        if ok:
            return netdata, None, None
        if gate_reason.startswith(('facts missing', 'facts malformed')):
            return None, 'kept', '%s: %s' % (NOT_CHECKED, gate_reason)
        return None, 'dropped', gate_reason

    def _flush_locked(self, args, task_vars, path, out, check_mode):
        endpoint = str(args['endpoint'])
        entries = stats_spool.read_lines(path)
        keep = []          # lines to write back, in order
        deliver = []       # (index in keep, host, record)
        seen = set()
        checked = {}       # host -> _check_host_now's answer (each host's vars read once)

        def add_list(name, host):
            if host not in out[name]:
                out[name].append(host)

        def count(host, what, reason=None):
            row = out['per_host'].setdefault(host, dict(sent=0, failed=0, kept=0, dropped=0, would_send=0,
                                                        reasons={}))
            row[what] += 1
            if reason:
                row['reasons'][reason] = row['reasons'].get(reason, 0) + 1

        for number, (line, rec) in enumerate(entries, 1):
            if rec is None:
                keep.append(line)  # unreadable: kept verbatim, never lost
                out['spool_unreadable'] += 1
                continue
            eid = rec['event_id'] if isinstance(rec['event_id'], str) else 'spool line %d' % number
            if isinstance(rec['event_id'], str):
                if eid in seen:
                    continue  # the same event spooled twice: one copy is enough
                seen.add(eid)
            host = rec.get('host') if _valid_host_name(rec.get('host')) else None
            key = host if host is not None else NO_HOST_KEY
            verdict, reason = self._judge_record(rec, endpoint, args['hash_guid_key'], task_vars, checked)
            if verdict == 'deliver':
                deliver.append((len(keep), host, rec))
                keep.append(line)
                continue
            if verdict == 'kept' or check_mode:
                keep.append(line)
            if verdict == 'kept':
                add_list('kept_hosts', key)
                count(key, 'kept', reason)
                out['results'][eid] = dict(host=key, status='kept', reason=reason, http_status=None, attempts=0)
            else:
                # Fail closed at flush time too: a host whose current facts no longer permit
                # sending (it opted out since) has its event dropped.
                add_list('suppressed', key)
                count(key, 'dropped', reason)
                out['results'][eid] = dict(host=key, status='suppressed', reason='dropped: %s' % reason,
                                           http_status=None, attempts=0)
            display.vv('stats_event: flush %s for %s: %s (%s)' % (eid, key, verdict, reason))

        if check_mode:
            for _i, host, rec in deliver:
                out['would_send'].append(dict(host=host, event_id=rec['event_id'],
                                              payload=with_api_key(rec['payload'], MASK)))
                out['results'][rec['event_id']] = dict(host=host, status='would_send',
                                                       reason='check mode: nothing sent',
                                                       http_status=None, attempts=0)
                count(host, 'would_send')
            out['changed'] = bool(deliver)
            out['spool_pending'] = len(entries)
            out['msg'] = 'check mode: would flush %d event(s), drop %d, keep %d unchecked' % (
                len(deliver), sum(r['dropped'] for r in out['per_host'].values()),
                sum(r['kept'] for r in out['per_host'].values()))
            return out

        outcomes = {}
        if deliver:
            deliverer = self._deliverer(args)
            try:
                outcomes = deliverer.deliver_all(
                    [(rec['event_id'], self._body_bytes(rec['payload'], args['api_key'])) for _i, _h, rec in deliver])
            finally:
                deliverer.close()

        drop_index = set()
        for index, host, rec in deliver:
            eid = rec['event_id']
            oc = outcomes[eid]
            if oc.ok:
                drop_index.add(index)
                add_list('sent', host)
                count(host, 'sent')
                out['results'][eid] = dict(host=host, status='sent', reason='delivered',
                                           http_status=oc.status, attempts=oc.attempts)
            else:
                add_list('failed_hosts', host)
                count(host, 'failed', oc.error)
                rec = dict(rec)
                rec['attempts'] = (rec['attempts'] if _is_number(rec.get('attempts')) else 0) + oc.attempts
                rec['last_error'] = oc.error
                keep[index] = stats_spool.dumps(rec)
                out['results'][eid] = dict(host=host, status='failed', reason=oc.error,
                                           http_status=oc.status, attempts=oc.attempts)
        # Dropped records were not added to keep; delivered ones go now.
        new_lines = [line for i, line in enumerate(keep) if i not in drop_index]
        if new_lines != [line for line, _r in entries]:
            stats_spool.write_lines(path, new_lines)
        out['spool_pending'] = len(new_lines)
        out['changed'] = bool(out['sent']) or len(new_lines) != len(entries)
        dropped = sum(r['dropped'] for r in out['per_host'].values())
        kept = sum(r['kept'] for r in out['per_host'].values())
        out['msg'] = 'flushed: sent %d, failed %d, dropped %d, kept unchecked %d, still spooled %d' % (
            len(drop_index), len(deliver) - len(drop_index), dropped, kept, len(new_lines))
        return out
