# -*- coding: utf-8 -*-
# Copyright: (c) 2026, netdata_fleet maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
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
import os
import uuid

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils.stats_payload import (
    EVENTS,
    NETDATA_CAPTURE_URL,
    NETDATA_POSTHOG_API_KEY,
    PROPERTY_NAMES,
    build_payload,
    controller_permits_sending,
    telemetry_permits_sending,
    with_api_key,
)
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils import stats_delivery
from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils import stats_spool

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


def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def _plain_str(value):
    return None if value is None else str(value)


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    # -- input ---------------------------------------------------------------------------

    def _validated_args(self, task_vars):
        _validation, args = self.validate_argument_spec(
            argument_spec=ARGUMENT_SPEC,
            required_if=[('mode', 'send', ('event',))],
        )
        if not args['timeout'] > 0:
            raise AnsibleActionFail('timeout must be a number of seconds > 0, got %r' % (args['timeout'],))
        if args['retries'] < 0:
            raise AnsibleActionFail('retries must be >= 0, got %r' % (args['retries'],))
        if args['backoff'] < 0 or args['max_backoff'] < 0:
            raise AnsibleActionFail('backoff and max_backoff must be >= 0')
        if not 1 <= args['workers'] <= MAX_WORKERS:
            raise AnsibleActionFail('workers must be between 1 and %d, got %r' % (MAX_WORKERS, args['workers']))
        unknown = sorted(set(args['drop_fields']) - set(PROPERTY_NAMES))
        if unknown:
            raise AnsibleActionFail('drop_fields: unknown property name(s) %s; known names are those '
                                    'of anonymous-statistics.sh (for example host_os_name, system_total_ram)'
                                    % ', '.join(unknown))
        if args['hash_guid_key'] is not None and not args['hash_guid_key']:
            raise AnsibleActionFail('hash_guid_key must not be empty (omit it to send the GUID)')
        if args['mode'] == 'flush' and not args['spool']:
            raise AnsibleActionFail('mode=flush needs spool (the spool file to deliver)')
        loopback_only = bool(os.environ.get(stats_delivery.LOOPBACK_GUARD_ENV))
        try:
            stats_delivery.validate_endpoint(str(args['endpoint']), args['allow_insecure_http'], loopback_only)
        except stats_delivery.EndpointError as e:
            raise AnsibleActionFail(str(e))
        if args['hosts'] is not None:
            batch = task_vars.get('ansible_play_batch') or []
            if not self._task.run_once and len(batch) > 1:
                raise AnsibleActionFail(
                    'hosts: is given but the task is not run_once while the play batch has %d hosts: every '
                    'host would send the whole list again. Add run_once: true (or drop hosts: to send for '
                    'each host itself).' % len(batch))
        return args

    # -- facts ---------------------------------------------------------------------------

    @staticmethod
    def _read_netdata_facts(task_vars, host):
        """Return (found, netdata_facts); reads the host's facts once (each access templates)."""
        hostvars = task_vars.get('hostvars')
        facts = None
        if hostvars is not None:
            try:
                if host not in hostvars:
                    return False, None
                facts = hostvars[host].get('ansible_facts')
            except Exception as e:  # a host var that fails to template must not crash the batch
                display.warning('stats_event: cannot read facts of %s: %s' % (host, e))
                return False, None
        elif host == task_vars.get('inventory_hostname'):
            facts = task_vars.get('ansible_facts')
        if facts is None:
            return False, None
        try:
            netdata = facts.get('netdata')
        except AttributeError:
            return True, facts  # malformed ansible_facts: let the gate say so
        return netdata is not None, netdata

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
                   run_id=run_id, endpoint=endpoint)
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
                found, netdata = self._read_netdata_facts(task_vars, h)
                if not found and per_host and args['gather_missing_facts']:
                    if delegated:
                        reason = 'facts missing (the task is delegated, so they are not gathered here; gather them first)'
                    else:
                        netdata, reason = self._gather(task_vars)
                elif not found:
                    reason = 'facts missing' + ('' if per_host else ' (gather netdata_facts on the hosts first)')
                    if task_vars.get('hostvars') is not None and h not in task_vars['hostvars']:
                        reason = 'not in inventory'
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
        out = dict(changed=False, sent=[], suppressed=[], failed_hosts=[], results={}, spooled=0,
                   spool_pending=0, endpoint=endpoint)
        if check_mode:
            out['would_send'] = []

        permitted, reason = controller_permits_sending(os.environ)
        if not permitted:
            out['msg'] = 'nothing flushed: %s (the spool is kept)' % reason
            try:
                out['spool_pending'] = len(stats_spool.read_lines(os.path.expanduser(args['spool'])))
            except stats_spool.SpoolError as e:
                out['spool_error'] = str(e)
            return out

        try:
            with stats_spool.locked(args['spool']) as path:
                return self._flush_locked(args, task_vars, path, out, check_mode)
        except stats_spool.SpoolError as e:
            raise AnsibleActionFail(str(e))

    def _flush_locked(self, args, task_vars, path, out, check_mode):
        endpoint = out['endpoint']
        entries = stats_spool.read_lines(path)
        keep = []          # lines to write back, in order
        deliver = []       # (line_index_in_keep_or_None, record)
        seen = set()
        hosts_facts = {}

        def add_list(name, host):
            if host not in out[name]:
                out[name].append(host)

        for line, rec in entries:
            if rec is None:
                keep.append(line)  # unreadable: kept verbatim, never lost
                continue
            eid = str(rec['event_id'])
            host = str(rec.get('host'))
            if eid in seen:
                continue  # the same event spooled twice: one copy is enough
            seen.add(eid)
            if str(rec.get('endpoint')) != endpoint:
                keep.append(line)
                out['results'][eid] = dict(host=host, status='kept', reason='spooled for another endpoint (%s)'
                                           % rec.get('endpoint'), http_status=None, attempts=0)
                continue
            # Fail closed at flush time too: a host whose current facts no longer permit
            # sending (it opted out since) has its event dropped.
            if host not in hosts_facts:
                hosts_facts[host] = self._read_netdata_facts(task_vars, host)
            found, netdata = hosts_facts[host]
            if found:
                ok, gate_reason = telemetry_permits_sending(netdata)
                if not ok:
                    add_list('suppressed', host)
                    out['results'][eid] = dict(host=host, status='suppressed', reason='dropped: %s' % gate_reason,
                                               http_status=None, attempts=0)
                    if check_mode:
                        keep.append(line)
                    continue
            deliver.append((len(keep), rec))
            keep.append(line)

        if check_mode:
            for _i, rec in deliver:
                out['would_send'].append(dict(host=rec.get('host'), event_id=rec['event_id'],
                                              payload=with_api_key(rec['payload'], MASK)))
                out['results'][str(rec['event_id'])] = dict(host=str(rec.get('host')), status='would_send',
                                                            reason='check mode: nothing sent',
                                                            http_status=None, attempts=0)
            out['changed'] = bool(deliver)
            out['spool_pending'] = len(entries)
            out['msg'] = 'check mode: would flush %d event(s)' % len(deliver)
            return out

        outcomes = {}
        if deliver:
            deliverer = self._deliverer(args)
            try:
                outcomes = deliverer.deliver_all(
                    [(str(rec['event_id']), self._body_bytes(rec['payload'], args['api_key'])) for _i, rec in deliver])
            finally:
                deliverer.close()

        drop_index = set()
        for index, rec in deliver:
            eid = str(rec['event_id'])
            host = str(rec.get('host'))
            oc = outcomes[eid]
            if oc.ok:
                drop_index.add(index)
                add_list('sent', host)
                out['results'][eid] = dict(host=host, status='sent', reason='delivered',
                                           http_status=oc.status, attempts=oc.attempts)
            else:
                add_list('failed_hosts', host)
                rec = dict(rec)
                rec['attempts'] = int(rec.get('attempts') or 0) + oc.attempts
                rec['last_error'] = oc.error
                keep[index] = stats_spool.dumps(rec)
                out['results'][eid] = dict(host=host, status='failed', reason=oc.error,
                                           http_status=oc.status, attempts=oc.attempts)
        # Suppressed (dropped) records were not added to keep; delivered ones go now.
        new_lines = [line for i, line in enumerate(keep) if i not in drop_index]
        if new_lines != [line for line, _r in entries]:
            stats_spool.write_lines(path, new_lines)
        out['spool_pending'] = len(new_lines)
        out['changed'] = bool(out['sent']) or len(new_lines) != len(entries)
        out['msg'] = 'flushed: sent %d, failed %d, dropped %d, still spooled %d' % (
            len(drop_index), len(deliver) - len(drop_index),
            sum(1 for r in out['results'].values() if r['status'] == 'suppressed'), len(new_lines))
        return out
