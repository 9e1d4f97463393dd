# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A synthetic fleet in the shape of netdata_facts' RETURN contract, for the inventory
report's unit tests, bench (10,000 hosts) and the README screenshot (~30 hosts).

Run as a script to write a sample report:
    .venv/bin/python tests/unit/plugins/plugin_utils/test_inventory_report_synthetic.py OUT_DIR [N]
"""
import os
import random
import sys
import uuid

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))

from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report import (  # noqa: E402
    CHANNELS, host_record, records_from_results, render_csv, render_html, summarize,
)
# The container object exactly as netdata_facts builds it (its keys and defaults).
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.container_installs import (  # noqa: E402
    _container_object,
)

OSES = [
    # (NAME, ID, VERSION_ID, kernel)
    ('Debian GNU/Linux', 'debian', '12', '6.1.0-28-amd64'),
    ('Debian GNU/Linux', 'debian', '11', '5.10.0-32-amd64'),
    ('Ubuntu', 'ubuntu', '22.04', '5.15.0-126-generic'),
    ('Ubuntu', 'ubuntu', '24.04', '6.8.0-49-generic'),
    ('Rocky Linux', 'rocky', '9.4', '5.14.0-427.42.1.el9_4.x86_64'),
    ('Alpine Linux', 'alpine', '3.20.3', '6.6.58-0-lts'),
]
VERSIONS = ['1.37.1', '1.44.3', '1.47.5', '2.2.6', '2.3.2', '2.5.4', '2.6.1']
VIRT = ['none', 'kvm', 'kvm', 'vmware', 'amazon', 'microsoft']
CONTAINERS = ['none', 'none', 'none', 'docker', 'lxc']
RUNTIMES = ['docker', 'docker', 'podman', 'containerd', 'unknown']
IMAGES = ['netdata/netdata:stable', 'netdata/netdata:v1.44.3', 'docker.io/netdata/netdata:v2.5.4',
          'registry.example/ops/netdata:2.6']


def _vt(version):
    return tuple(int(p) for p in version.split('.'))


def _channel(applies, enabled, reason, drift=False, live=None, with_live=False):
    ch = {'applies': applies, 'enabled': enabled if applies else None, 'configured': enabled,
          'running': enabled, 'drift': drift, 'counted': True,
          'reasons': [reason] if reason else []}
    if with_live:
        ch['live'] = live
    return ch


def synthetic_install(rng, version, mode, drift=False, kind='native'):
    """One install; mode: 'out' (every channel off), 'in' (every channel on), 'partial'."""
    v = _vt(version)
    off = mode == 'out'
    stats_applies = v < (2, 6)
    crash_applies = v >= (2, 3)
    channels = {
        'statistics_script': _channel(stats_applies, not off,
                                      'statistics_script: opt-out file exists' if off else
                                      'statistics_script: no opt-out signal'),
        'daemon_analytics': _channel(True, (not off) if mode != 'partial' else True,
                                     'daemon_analytics: by the opt-out file', drift=drift,
                                     live=None, with_live=True),
        'crash_reports': _channel(crash_applies, (not off) if mode != 'partial' else False,
                                  'crash_reports: crash reports = off' if off else None),
        'installer': _channel(True, mode == 'in', 'installer: DO_NOT_TRACK=1 in /etc/environment'),
    }
    if mode == 'partial':
        channels['statistics_script']['enabled'] = False if stats_applies else None
    reasons = [r for ch in channels.values() for r in ch['reasons']]
    prefix = {'native': '/', 'static': '/opt/netdata'}[kind]
    return {
        'config_dir': '/etc/netdata' if kind == 'native' else '/opt/netdata/etc/netdata',
        'prefix': prefix, 'kind': kind,
        'lib_dir': '/var/lib/netdata' if kind == 'native' else '/opt/netdata/var/lib/netdata',
        'binary': '/usr/sbin/netdata', 'version': version, 'version_string': 'netdata v' + version,
        'install_type': 'binpkg-deb' if kind == 'native' else 'kickstart-static',
        'machine_guid': str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        'claimed': rng.random() < 0.3,
        'optout_file': {'path': '/etc/netdata/.opt-out-from-anonymous-statistics', 'exists': off},
        'netdata_conf': {'path': '/etc/netdata/netdata.conf', 'exists': True,
                         'crash_reports': 'off' if off else None, 'web_address': '127.0.0.1',
                         'web_port': 19999},
        'service': {'unit': '/lib/systemd/system/netdata.service', 'dropins': [],
                    'environment': {'DO_NOT_TRACK': '1' if off else None, 'DISABLE_TELEMETRY': None}},
        'daemon': {'running': rng.random() < 0.8, 'pid': rng.randint(100, 40000), 'environment': None},
        'telemetry': {'opted_out': off, 'opted_in': mode == 'in', 'drift': drift,
                      'reasons': reasons, 'channels': channels},
        'errors': [],
    }


def synthetic_container_install(rng, version, mode, runtime='docker', index=0, until_recreated=False,
                                persistence=None):
    """A Netdata agent in a container (kind container, with netdata_facts' container object).
    ``until_recreated``: opted out now, by a file in the container's own layer, on again
    once it is re-created (mode must be 'out')."""
    install = synthetic_install(rng, version, mode)
    cid = '%064x' % rng.getrandbits(256)
    name = None if runtime == 'unknown' else 'netdata-%d' % (index + 1)
    container = _container_object({
        'runtime': runtime, 'id': cid, 'name': name,
        'image': None if name is None else rng.choice(IMAGES),
        'status': 'running', 'running': True, 'host_pid': rng.randint(1000, 90000),
        'view_root': '/proc/%d/root' % rng.randint(1000, 90000),
        'cli': None if name is None else '/usr/bin/' + ('crictl' if runtime == 'containerd' else runtime),
    })
    persistence = persistence or ('layer' if until_recreated else rng.choice(['volume', 'bind', 'layer']))
    container.update(
        environment={'DO_NOT_TRACK': '1' if mode == 'out' and not until_recreated else None,
                     'DISABLE_TELEMETRY': None},
        environment_source='inspect', entrypoint='/usr/sbin/run.sh', entrypoint_creates_optout=True,
        config_persistence=persistence, config_mount='/etc/netdata' if persistence != 'layer' else None,
        version_source='binary', opted_out_until_recreated=bool(until_recreated),
        after_recreate={'opted_out': mode == 'out' and not until_recreated, 'opted_in': mode == 'in',
                        'reasons': []})
    service = {'unit': None, 'dropins': [], 'environment': {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None}}
    install.update(kind='container', prefix='/', install_type='oci', container=container, service=service)
    if until_recreated:
        install['telemetry']['reasons'].append(
            'opted out only until the container is re-created: config dir on its own layer')
    return install


def synthetic_system_info(rng, os_entry=None, virt=None, container=None):
    name, os_id, version_id, kernel = os_entry or rng.choice(OSES)
    container = container or rng.choice(CONTAINERS)
    in_container = container != 'none'
    os_fields = {'name': name, 'id': os_id, 'id_like': 'debian' if os_id == 'ubuntu' else '',
                 'version': version_id, 'version_id': version_id, 'detection': '/etc/os-release'}
    unknown = dict((k, 'unknown') for k in os_fields)
    none = dict((k, 'none') for k in os_fields)
    info = {
        'system_kernel_name': 'Linux', 'system_kernel_version': kernel,
        'system_architecture': rng.choice(['x86_64', 'x86_64', 'x86_64', 'aarch64']),
        'system_virtualization': virt or rng.choice(VIRT), 'system_virt_detection': 'systemd-detect-virt',
        'system_container': container, 'system_container_detection': 'systemd-detect-virt',
        'system_cpu_logical_cpu_count': rng.choice([2, 4, 8, 16, 32, 64]),
        'system_cpu_vendor': 'GenuineIntel', 'system_cpu_model': 'Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz',
        'system_cpu_freq': 3000000000, 'system_cpu_detection': 'lscpu',
        'system_total_ram': rng.choice([2, 4, 8, 16, 32, 64, 128]) * 1024 ** 3,
        'system_ram_detection': 'procfs',
        'system_total_disk_size': rng.choice([20, 50, 100, 500, 2000]) * 1000 ** 3,
        'system_disk_detection': 'sysfs',
        'host_is_k8s_node': 'false', 'container_is_official_image': 'false',
        'instance_cloud_type': 'unknown', 'instance_cloud_instance_type': 'unknown',
        'instance_cloud_instance_region': 'unknown',
    }
    for key, value in (os_fields if not in_container else unknown).items():
        info['host_os_' + key] = value
    for key, value in (none if not in_container else os_fields).items():
        info['container_os_' + key] = value
    return info


def synthetic_facts(rng, mode, version=None, drift=False, two_installs=False, containers=0,
                    until_recreated=0, container_rng=None, **system):
    """ansible_facts.netdata for one host. mode: out | in | partial | absent. ``containers``
    agents in containers besides the host's own, in the host's mode (``until_recreated`` of
    them opted out only until re-created), drawn from ``container_rng`` (default ``rng``):
    with an rng of their own, adding containers leaves a synthetic fleet as it was."""
    facts = {'gather_subset': ['system', 'telemetry'],
             'installer': {'environment': {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None},
                           'sources': []},
             'system_info': synthetic_system_info(rng, **system)}
    if mode == 'absent':
        facts.update(installed=False, installs=[], telemetry={
            'state': 'absent', 'opted_out': True, 'opted_in': False, 'drift': False, 'reasons': []})
        return facts
    version = version or rng.choice(VERSIONS)
    installs = [synthetic_install(rng, version, mode, drift)]
    if two_installs:
        installs.append(synthetic_install(rng, '2.5.4', 'out', kind='static'))
    state = {'out': 'opted_out', 'in': 'opted_in', 'partial': 'partial'}[mode]
    if two_installs and mode != 'out':
        state = 'partial'
    crng = container_rng or rng
    for index in range(containers):
        installs.append(synthetic_container_install(
            crng, crng.choice(VERSIONS), mode, runtime=crng.choice(RUNTIMES), index=index,
            until_recreated=mode == 'out' and index < until_recreated))
    facts.update(installed=True, installs=installs, telemetry={
        'state': state, 'opted_out': state == 'opted_out', 'opted_in': state == 'opted_in',
        'drift': drift,
        'reasons': ['%s: %s' % (_reason_prefix(i), r) for i in installs for r in i['telemetry']['reasons']]})
    return facts


def _reason_prefix(install):
    """How netdata_facts prefixes an install's reasons in the host's: its config dir, or
    [runtime:name or short id:config dir] for a container's."""
    container = install.get('container')
    if not container:
        return install['config_dir']
    return '[%s:%s:%s]' % (container['runtime'], container['name'] or container['id'][:12], install['config_dir'])


def synthetic_results(n, seed=5):
    """(hosts, results) for ``records_from_results``: a mixed fleet of ``n`` hosts."""
    rng = random.Random(seed)
    crng = random.Random(seed + 7919)
    hosts, results = [], {}
    for index in range(n):
        host = 'node%03d.dc%d.example' % (index + 1, index % 3 + 1)
        hosts.append(host)
        roll = rng.random()
        if roll < 0.04:
            results[host] = {'unreachable': True,
                             'msg': 'Failed to connect to the host via ssh: Connection refused'}
            continue
        if roll < 0.06:
            results[host] = {'failed': True, 'msg': 'MODULE FAILURE: /usr/bin/python3: not found'}
            continue
        mode = rng.choices(['out', 'in', 'partial', 'absent'], [55, 15, 20, 10])[0]
        drift = mode != 'absent' and rng.random() < 0.1
        # about one host in eight runs Netdata agents in containers too (drawn apart: the
        # rest of the fleet is the same with or without them)
        containers = crng.choice([0] * 14 + [1, 2]) if mode != 'absent' else 0
        facts = synthetic_facts(rng, mode, drift=drift, two_installs=rng.random() < 0.05,
                                containers=containers, until_recreated=crng.choice([0, 0, 1]),
                                container_rng=crng)
        results[host] = {'ansible_facts': {'netdata': facts}, 'changed': False}
    return hosts, results


def synthetic_records(n, seed=5):
    hosts, results = synthetic_results(n, seed)
    addresses = dict((h, '10.0.%d.%d' % (i // 250, i % 250 + 1)) for i, h in enumerate(hosts))
    return records_from_results(hosts, results, addresses)


def test_synthetic_fleet_is_mixed():
    records = synthetic_records(300)
    summary = summarize(records)
    assert summary['total'] == 300
    for status in ('opted_out', 'opted_in', 'partial', 'drifting', 'absent', 'unreachable', 'failed'):
        assert summary['statuses'][status] > 0, status
    assert set(records[0]['channels']) == set(CHANNELS)


def test_synthetic_host_record_matches_contract_keys():
    rng = random.Random(1)
    record = host_record('h', synthetic_facts(rng, 'partial', version='2.3.2'))
    assert record['status'] == 'partial'
    assert record['channels']['crash_reports'] == 'off'
    assert record['channels']['daemon_analytics'] == 'on'


if __name__ == '__main__':
    out = sys.argv[1] if len(sys.argv) > 1 else 'netdata-inventory-sample'
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    os.makedirs(out, exist_ok=True)
    sample = synthetic_records(count, seed=int(os.environ.get('SEED', '5')))
    with open(os.path.join(out, 'report.html'), 'w') as handle:
        handle.write(render_html(sample, generated='2026-05-12 09:30 UTC'))
    with open(os.path.join(out, 'inventory.csv'), 'w') as handle:
        handle.write(render_csv(sample))
    print(summarize(sample)['headline'])
