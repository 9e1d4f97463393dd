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


def _send_targets(hosts, task_vars):
    """``(hosts to send for, per_host)``: the C(hosts) option without repeats, or the
    current host alone (per-host mode)."""
    if hosts is None:
        return [str(task_vars.get('inventory_hostname', ''))], True
    targets = []
    for host in hosts:
        host = str(host)
        if host not in targets:
            targets.append(host)
    return targets, False


def _failed_earlier_in_play(task_vars):
    """The play's hosts that failed or were unreachable earlier in it."""
    play_all = set(str(h) for h in task_vars.get('ansible_play_hosts_all') or [])
    play_active = set(str(h) for h in task_vars.get('ansible_play_hosts') or [])
    return play_all - play_active


def _record_would_send(out, pending):
    """Check mode: what would be sent, with the api_key masked."""
    for host, payload in pending:
        out['would_send'].append(dict(host=host, event_id=payload['uuid'], payload=with_api_key(payload, MASK)))
        out['results'][host] = dict(status='would_send', reason='check mode: nothing sent',
                                    event_id=payload['uuid'], http_status=None, attempts=0)
    out['changed'] = bool(pending)
    out['msg'] = 'check mode: would send %d, suppressed %d' % (len(pending), len(out['suppressed']))
    return out


def _record_sent(out, pending, outcomes, spool, endpoint, timestamp):
    """Each pending host's outcome; what could not be delivered goes to the *spool*."""
    to_spool = []
    for host, payload in pending:
        outcome = outcomes[payload['uuid']]
        detail = dict(event_id=payload['uuid'], http_status=outcome.status, attempts=outcome.attempts)
        if outcome.ok:
            out['sent'].append(host)
            detail.update(status='sent', reason='delivered')
        else:
            out['failed_hosts'].append(host)
            detail.update(status='failed', reason=outcome.error, spooled=False)
            if spool:
                to_spool.append(stats_spool.make_record(host, endpoint, payload, timestamp, outcome.attempts,
                                                        outcome.error))
        out['results'][host] = detail
        display.vv('stats_event: %s %s (%s)' % (host, detail['status'], detail['reason']))

    if to_spool:
        try:
            out['spooled'] = stats_spool.append_records(spool, to_spool)
            for record in to_spool:
                out['results'][record['host']]['spooled'] = True
        except (stats_spool.SpoolError, OSError) as e:
            out['spool_error'] = str(e)
            display.warning('stats_event: could not spool %d undelivered event(s): %s' % (len(to_spool), e))

    out['changed'] = bool(out['sent'])
    out['msg'] = 'sent %d, suppressed %d, failed %d (spooled %d)' % (
        len(out['sent']), len(out['suppressed']), len(out['failed_hosts']), out['spooled'])
    return out


class _FlushTally(object):
    """What a flush records per host: the host lists and the per_host counts of *out*."""

    def __init__(self, out):
        self.out = out

    def add_host(self, list_name, host):
        if host not in self.out[list_name]:
            self.out[list_name].append(host)

    def count(self, host, what, reason=None):
        row = self.out['per_host'].setdefault(host, dict(sent=0, failed=0, kept=0, dropped=0, would_send=0,
                                                         reasons={}))
        row[what] += 1
        if reason:
            row['reasons'][reason] = row['reasons'].get(reason, 0) + 1

    def total(self, what):
        return sum(row[what] for row in self.out['per_host'].values())

    def judged(self, event_id, host, verdict, reason):
        """A record kept (its host cannot be checked) or dropped (its host refuses now)."""
        if verdict == 'kept':
            self.add_host('kept_hosts', host)
            self.count(host, 'kept', reason)
            self.out['results'][event_id] = dict(host=host, status='kept', reason=reason, http_status=None,
                                                 attempts=0)
        else:
            # Fail closed at flush time too: a host whose current facts no longer permit
            # sending (it opted out since) has its event dropped.
            self.add_host('suppressed', host)
            self.count(host, 'dropped', reason)
            self.out['results'][event_id] = dict(host=host, status='suppressed', reason='dropped: %s' % reason,
                                                 http_status=None, attempts=0)


def _record_would_flush(tally, entries, deliver):
    """Check mode: what a flush would send (api_key masked); the spool is left as it is."""
    out = tally.out
    for _index, host, record in deliver:
        out['would_send'].append(dict(host=host, event_id=record['event_id'],
                                      payload=with_api_key(record['payload'], MASK)))
        out['results'][record['event_id']] = dict(host=host, status='would_send', reason='check mode: nothing sent',
                                                  http_status=None, attempts=0)
        tally.count(host, 'would_send')
    out['changed'] = bool(deliver)
    out['spool_pending'] = len(entries)
    out['msg'] = 'check mode: would flush %d event(s), drop %d, keep %d unchecked' % (
        len(deliver), tally.total('dropped'), tally.total('kept'))
    return out


def _record_flushed(tally, path, entries, keep, deliver, outcomes):
    """Each delivery's outcome; the spool is rewritten without what was sent (and with the
    attempts and last error of what failed again)."""
    out = tally.out
    delivered = set()  # indexes in keep
    for index, host, record in deliver:
        event_id = record['event_id']
        outcome = outcomes[event_id]
        if outcome.ok:
            delivered.add(index)
            tally.add_host('sent', host)
            tally.count(host, 'sent')
            out['results'][event_id] = dict(host=host, status='sent', reason='delivered',
                                            http_status=outcome.status, attempts=outcome.attempts)
        else:
            tally.add_host('failed_hosts', host)
            tally.count(host, 'failed', outcome.error)
            record = dict(record)
            record['attempts'] = (record['attempts'] if _is_number(record.get('attempts')) else 0) + outcome.attempts
            record['last_error'] = outcome.error
            keep[index] = stats_spool.dumps(record)
            out['results'][event_id] = dict(host=host, status='failed', reason=outcome.error,
                                            http_status=outcome.status, attempts=outcome.attempts)
    # Dropped records were not added to keep; delivered ones go now.
    new_lines = [line for i, line in enumerate(keep) if i not in delivered]
    if new_lines != [line for line, _record in entries]:
        stats_spool.write_lines(path, new_lines)
    out['spool_pending'] = len(new_lines)
    out['changed'] = bool(out['sent']) or len(new_lines) != len(entries)
    out['msg'] = 'flushed: sent %d, failed %d, dropped %d, kept unchecked %d, still spooled %d' % (
        len(delivered), len(deliver) - len(delivered), tally.total('dropped'), tally.total('kept'), len(new_lines))
    return out


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

    def _deliver(self, args, events):
        """Send ``[(event_id, payload)]`` -> ``{event_id: outcome}`` (nothing to send: {})."""
        if not events:
            return {}
        deliverer = self._deliverer(args)
        try:
            return deliverer.deliver_all(
                [(event_id, self._body_bytes(payload, args['api_key'])) for event_id, payload in events])
        finally:
            deliverer.close()

    # -- mode=send: plan (gate each host), send, record ----------------------------------

    def _send(self, args, task_vars):
        check_mode = bool(self._task.check_mode)
        run_id = _plain_str(args['run_id']) or uuid.uuid4().hex
        timestamp = _utc_now()
        endpoint = str(args['endpoint'])
        targets, per_host = _send_targets(args['hosts'], task_vars)
        out = dict(changed=False, sent=[], suppressed=[], failed_hosts=[], results={}, spooled=0,
                   run_id=run_id, endpoint=stats_delivery.redact_url(endpoint))
        if check_mode:
            out['would_send'] = []

        permitted, reason = controller_permits_sending(os.environ)
        if not permitted:
            for host in targets:
                out['suppressed'].append(host)
                out['results'][host] = dict(status='suppressed', reason=reason, event_id=None,
                                            http_status=None, attempts=0)
            out['msg'] = 'nothing sent: %s' % reason
            return out

        failed_earlier = _failed_earlier_in_play(task_vars)
        pending = []  # (host, payload)
        seen_ids = {}  # event id -> the host whose event it is
        for host in targets:
            payload, reason = self._plan_event(args, task_vars, host, per_host, failed_earlier, run_id, timestamp,
                                               seen_ids)
            if payload is not None:
                pending.append((host, payload))
                continue
            out['suppressed'].append(host)
            out['results'][host] = dict(status='suppressed', reason=reason, event_id=None, http_status=None, attempts=0)
            display.vv('stats_event: %s suppressed: %s' % (host, reason))

        if check_mode:
            return _record_would_send(out, pending)
        outcomes = self._deliver(args, [(payload['uuid'], payload) for _host, payload in pending])
        return _record_sent(out, pending, outcomes, args['spool'], endpoint, timestamp)

    def _plan_event(self, args, task_vars, host, per_host, failed_earlier, run_id, timestamp, seen_ids):
        """``(payload, None)`` when *host*'s event is to be sent, else ``(None, why it is
        suppressed)``. *seen_ids* maps the event ids planned so far to their hosts."""
        netdata, reason = self._event_facts(args, task_vars, host, per_host, failed_earlier)
        if reason is None:
            permitted, gate_reason = telemetry_permits_sending(netdata)
            if not permitted:
                reason = gate_reason
        if reason is not None:
            return None, reason
        payload = build_payload(netdata, args['event'], args['result'], args['data'], run_id, timestamp,
                                drop_fields=args['drop_fields'], guid_key=args['hash_guid_key'])
        event_id = payload['uuid']
        if event_id in seen_ids:
            return None, 'duplicate event: same machine GUID and event as %s' % seen_ids[event_id]
        seen_ids[event_id] = host
        return payload, None

    def _event_facts(self, args, task_vars, host, per_host, failed_earlier):
        """``(netdata_facts, None)`` for *host*, gathered on the current host when missing
        (per-host mode, not delegated); else ``(None, why there are none)``."""
        if host in failed_earlier:
            return None, 'host failed or unreachable earlier in this play'
        netdata, missing = self._host_netdata(task_vars, host)
        if missing == 'facts missing' and per_host and args['gather_missing_facts']:
            if getattr(self._task, 'delegate_to', None):
                return None, 'facts missing (the task is delegated, so they are not gathered here; gather them first)'
            return self._gather(task_vars)
        if missing == 'facts missing' and not per_host:
            return None, 'facts missing (gather netdata_facts on the hosts first)'
        if missing:
            return None, missing
        return netdata, None

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
        if host in _failed_earlier_in_play(task_vars):
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
        entries = stats_spool.read_lines(path)
        tally = _FlushTally(out)
        keep, deliver = self._plan_flush(args, task_vars, entries, tally, check_mode)
        if check_mode:
            return _record_would_flush(tally, entries, deliver)
        outcomes = self._deliver(args, [(record['event_id'], record['payload']) for _i, _h, record in deliver])
        return _record_flushed(tally, path, entries, keep, deliver, outcomes)

    def _plan_flush(self, args, task_vars, entries, tally, check_mode):
        """Judge every spool line: ``(keep, deliver)``, the lines to write back (in order;
        a dropped record is left out, but for check mode) and ``[(index in keep, host,
        record)]`` to send. Kept and dropped records are recorded in *tally* as judged."""
        endpoint = str(args['endpoint'])
        keep = []
        deliver = []
        seen = set()
        checked = {}       # host -> _check_host_now's answer (each host's vars read once)
        for number, (line, record) in enumerate(entries, 1):
            if record is None:
                keep.append(line)  # unreadable: kept verbatim, never lost
                tally.out['spool_unreadable'] += 1
                continue
            has_id = isinstance(record['event_id'], str)
            event_id = record['event_id'] if has_id else 'spool line %d' % number
            if has_id:
                if event_id in seen:
                    continue  # the same event spooled twice: one copy is enough
                seen.add(event_id)
            host = record.get('host') if _valid_host_name(record.get('host')) else None
            key = host if host is not None else NO_HOST_KEY
            verdict, reason = self._judge_record(record, endpoint, args['hash_guid_key'], task_vars, checked)
            if verdict == 'deliver':
                deliver.append((len(keep), host, record))
                keep.append(line)
                continue
            if verdict == 'kept' or check_mode:
                keep.append(line)
            tally.judged(event_id, key, verdict, reason)
            display.vv('stats_event: flush %s for %s: %s (%s)' % (event_id, key, verdict, reason))
        return keep, deliver
