# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container agents as installs, end to end through the facts gatherer: a fixture host whose
/proc holds containers' daemons (their cgroup and mountinfo captured from real docker and
podman), their roots as directories, and the runtime CLIs answering with the real
captured `inspect` output."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import gather_telemetry
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import OPTOUT_FILE_NAME

FIX = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                                    'fixtures', 'containers'))
BTIME = 1700000000
D1 = '5883860f115e6149672a496ed255178796f4d8b15af80e455173209154fc56ee'
D2 = '9390f66488484af8fc2d2cde9d29ba956a9ce36c9a36ca714e7f415204e15f80'
P1 = 'd486614c31097b8a7472079b8befd05a58d688dbcbf25fd12c589b8f8b0647e0'
P2 = '72d1d22a4d7db4083a90ee6c7d0237f490273fd21a1b6bf6e0fdaa31be30124a'
GUID = '4f7227c4-ed80-11f1-9dc0-67e2b581f904'
# What packaging/docker/run.sh does for telemetry (v2.8.2 and later; the version's rule is
# the rules module's, this only has to say that the entrypoint creates the file).
RUN_SH = ('#!/usr/bin/env bash\nset -e\n'
          'if [ "${DISABLE_TELEMETRY:-0}" != "0" ] ||\n  [ "${DO_NOT_TRACK:-0}" != "0" ]; then\n'
          '  touch /etc/netdata/.opt-out-from-anonymous-statistics\nfi\n'
          'exec /usr/sbin/netdata -u "${DOCKER_USR}" -D -s /host -p "${NETDATA_LISTENER_PORT}" "$@"\n')


def fixture(name):
    with open(os.path.join(FIX, name)) as handle:
        return handle.read()


def write(path, data, mode=None):
    path = str(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb' if isinstance(data, bytes) else 'w') as handle:
        handle.write(data)
    if mode is not None:
        os.chmod(path, mode)


def set_mtime(path, when):
    os.utime(str(path), (when, when))


class Host(object):
    """A fixture host: <tmp>/host is its root; containers' roots live beside it."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.root = tmp_path / 'host'
        proc = self.root / 'proc'
        os.makedirs(str(proc / 'self' / 'ns'))
        os.symlink('mnt:[4026531841]', str(proc / 'self' / 'ns' / 'mnt'))
        os.symlink(str(self.root), str(proc / 'self' / 'root'))
        write(proc / 'stat', 'cpu  1 2 3\nbtime %d\n' % BTIME)
        self.cli_answers = {}
        self.hello_answers = {}
        self.hello_calls = []

    def image_root(self, name, version='1.37.1', optout=False, layout='official'):
        """A container's root filesystem as the lab's (and the official) images have it."""
        root = self.tmp / ('root-' + name)
        write(root / 'etc/passwd', 'root:x:0:0::/root:/bin/sh\nnetdata:x:201:201::/etc/netdata:/sbin/nologin\n')
        write(root / 'etc/group', 'root:x:0:\nnetdata:x:201:\n')
        write(root / 'etc/netdata/.install-type', "INSTALL_TYPE='oci'\n")
        os.makedirs(str(root / 'etc/netdata.stock'))
        write(root / 'usr/sbin/run.sh', RUN_SH, 0o755)
        write(root / 'usr/sbin/netdata', b'\x7fNOT-ELF\0stuff\0v%s\0more\0' % version.encode(), 0o755)
        write(root / 'var/lib/netdata/registry/netdata.public.unique.id', GUID + '\n')
        if layout == 'static':
            # the agent at /opt/netdata with its compiled-in config dir a symlink to /etc/netdata
            os.makedirs(str(root / 'opt/netdata/usr/sbin'))
            os.symlink('/usr/sbin/netdata', str(root / 'opt/netdata/usr/sbin/netdata'))
            os.makedirs(str(root / 'opt/netdata/etc'))
            os.symlink('/etc/netdata', str(root / 'opt/netdata/etc/netdata'))
            os.makedirs(str(root / 'opt/netdata/var/lib'))
            os.symlink('/var/lib/netdata', str(root / 'opt/netdata/var/lib/netdata'))
        if optout:
            write(root / 'etc/netdata' / OPTOUT_FILE_NAME, '', 0o644)
        return root

    def daemon(self, pid, image_root, cgroup, mountinfo, environ=(), exe='/usr/sbin/netdata',
               started=100.0):
        base = self.root / 'proc' / str(pid)
        os.makedirs(str(base / 'ns'))
        write(base / 'comm', 'netdata\n')
        fields = ['S', '1'] + ['0'] * 17 + [str(int(started * 100))] + ['0'] * 10
        write(base / 'stat', '%d (netdata) %s\n' % (pid, ' '.join(fields)))
        os.symlink(exe, str(base / 'exe'))
        write(base / 'cmdline', b'\0'.join([exe.encode(), b'-u', b'netdata', b'-D', b'-p', b'19999']) + b'\0')
        write(base / 'environ', b'\0'.join(('%s=%s' % kv).encode() for kv in environ) + b'\0')
        os.symlink('mnt:[%d]' % pid, str(base / 'ns' / 'mnt'))
        write(base / 'ns' / 'net', '')
        os.symlink(str(image_root), str(base / 'root'))
        write(base / 'cgroup', cgroup)
        write(base / 'mountinfo', mountinfo)

    def cli(self, runtime, containers, in_use=True):
        """Install `runtime`'s CLI on the host answering with *containers* (inspect objects);
        *in_use*: the runtime's socket (docker) or storage (podman) is there."""
        write(self.root / 'usr/bin' / runtime, '#!/bin/false\n', 0o755)
        self.cli_answers['/usr/bin/' + runtime] = containers
        if in_use:
            trace = {'docker': 'run/docker.sock', 'podman': 'var/lib/containers/storage/.keep'}[runtime]
            write(self.root / trace, '')

    def run_cli(self, argv):
        containers = self.cli_answers.get(argv[0])
        if containers is None:
            return 127, '', 'no such command'
        if argv[1] == 'ps':
            return 0, ''.join(c['Id'] + '\n' for c in containers), ''
        wanted = argv[3:]
        return 0, json.dumps([c for c in containers if c['Id'] in wanted]), ''

    def hello(self, netns, address, port, timeout, query=None):
        pid = int(netns.split('/proc/')[1].split('/')[0])
        if query is not None:   # the agent's /netdata.conf: not served by these fixtures
            return {'url': None, 'status': None, 'value': None, 'error': 'not asked in this test'}
        self.hello_calls.append((netns, address, port))
        value = self.hello_answers.get(pid)
        return {'url': 'http://%s:%s/api/v1/registry?action=hello' % (address, port), 'status': 200 if value is not None else None,
                'anonymous_statistics': value, 'error': None if value is not None else 'no answer'}

    def facts(self, **kwargs):
        kwargs.setdefault('containers', True)
        return gather_telemetry(root=str(self.root), run_command=lambda argv: (127, '', 'not run'),
                                cli_run_command=self.run_cli, container_hello=self.hello, **kwargs)


def inspected(runtime, name, **changes):
    """The real captured inspect object of *name*, with *changes* (dotted keys) applied."""
    data = [c for c in json.loads(fixture('%s-inspect.json' % runtime))
            if c['Name'].lstrip('/') == name][0]
    data = copy.deepcopy(data)
    for key, value in changes.items():
        where = data
        parts = key.split('.')
        for part in parts[:-1]:
            where = where[part]
        where[parts[-1]] = value
    return data


def containers_of(facts):
    return dict((i['container']['name'] or (i['container']['id'] or 'pid-%s' % i['container']['host_pid'])[:12], i)
                for i in facts['installs'] if i['kind'] == 'container')


# ---------------------------------------------------------------- running, with the runtime's CLI

def test_running_containers_become_installs_with_their_container_object(tmp_path):
    host = Host(tmp_path)
    d1 = host.image_root('d1', '1.37.1', optout=True)
    d2 = host.image_root('d2', '2.10.4')
    host.daemon(327, d1, fixture('cgroup-docker-d1-layer.txt'), fixture('mountinfo-docker-d1-layer.txt'),
                environ=[('DO_NOT_TRACK', '1')])
    host.daemon(666, d2, fixture('cgroup-docker-d2-volume.txt'), fixture('mountinfo-docker-d2-volume.txt'))
    host.cli('docker', [inspected('docker', 'd1'), inspected('docker', 'd2')])
    host.hello_answers.update({327: False, 666: True})
    set_mtime(d1 / 'etc/netdata', BTIME + 50)  # the entrypoint made the file before the daemon started
    set_mtime(d1 / 'etc/netdata' / OPTOUT_FILE_NAME, BTIME + 50)

    facts = host.facts()
    assert facts['container_errors'] == []
    by_name = containers_of(facts)
    assert sorted(by_name) == ['d1', 'd2']
    one, two = by_name['d1'], by_name['d2']
    c = one['container']
    assert (one['kind'], one['config_dir'], one['prefix'], one['version']) == ('container', '/etc/netdata', '/', '1.37.1')
    assert (c['runtime'], c['id'], c['name'], c['image']) == ('docker', D1, 'd1', 'localhost/netdata-lab:1.37.1')
    assert (c['host_pid'], c['running'], c['status'], c['cli']) == (327, True, 'running', '/usr/bin/docker')
    assert c['environment'] == {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}
    assert c['environment_source'] == 'inspect'
    assert (c['entrypoint'], c['entrypoint_creates_optout']) == ('/usr/sbin/run.sh', True)
    assert (c['config_persistence'], c['config_host_path']) == ('layer', None)
    assert c['version_source'] == 'binary' and one['version_string'] == 'v1.37.1'
    assert one['machine_guid'] == GUID and one['install_type'] == 'oci'
    assert one['daemon'] == {'running': True, 'pid': 327,
                             'environment': {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}}
    # the agent's own answer, asked inside its network namespace on the port of its -p
    assert (str(host.root / 'proc/327/ns/net'), '127.0.0.1', 19999) in host.hello_calls
    assert one['telemetry']['opted_out'] is True
    assert one['telemetry']['channels']['daemon_analytics']['live'] is False
    # DO_NOT_TRACK=1 makes the image's entrypoint opt it out again after a re-creation
    assert c['after_recreate']['opted_out'] is True and c['opted_out_until_recreated'] is False

    c2 = two['container']
    assert (c2['config_persistence'], c2['config_mount'], c2['config_host_path']) == \
        ('volume', '/etc/netdata', '/var/lib/docker/volumes/d2-config/_data')
    assert two['version'] == '2.10.4'
    assert two['telemetry']['opted_in'] is True and two['telemetry']['opted_out'] is False
    # two installs named /etc/netdata, told apart in the host's reasons
    assert facts['telemetry']['state'] == 'partial'
    assert any(r.startswith('[docker:d1:/etc/netdata] ') for r in facts['telemetry']['reasons'])
    assert any(r.startswith('[docker:d2:/etc/netdata] ') for r in facts['telemetry']['reasons'])


def test_a_file_in_the_layer_opts_out_only_until_recreated(tmp_path):
    """The role wrote the opt-out file into a layer config dir (no env var): opted out now,
    on again once the container is re-created from the same arguments."""
    host = Host(tmp_path)
    root = host.image_root('p2', '2.10.4', optout=True)
    write(root / 'etc/netdata/netdata.conf', '[global]\n    crash reports = off\n')
    host.daemon(1513, root, fixture('cgroup-podman-p2-layer.txt'), fixture('mountinfo-podman-p2-layer.txt'),
                environ=[('DO_NOT_TRACK', '0')])
    for path in (root / 'etc/netdata', root / 'etc/netdata' / OPTOUT_FILE_NAME, root / 'etc/netdata/netdata.conf'):
        set_mtime(path, BTIME + 10)  # before the daemon's start (BTIME + 100)
    host.cli('podman', [inspected('podman', 'p2')])
    host.hello_answers[1513] = False

    install = containers_of(host.facts())['p2']
    c = install['container']
    assert install['telemetry']['opted_out'] is True
    assert c['environment'] == {'DO_NOT_TRACK': '0', 'DISABLE_TELEMETRY': None}
    assert c['config_persistence'] == 'layer'
    # v2.10.4's run.sh: DO_NOT_TRACK=0 does not opt out, the layer (file and netdata.conf) goes
    assert c['after_recreate']['opted_out'] is False
    assert c['opted_out_until_recreated'] is True
    assert any('opted out only until the container is re-created' in r for r in install['telemetry']['reasons'])
    assert any('DO_NOT_TRACK=\'0\'' in r for r in c['after_recreate']['reasons'])


def test_the_same_file_on_a_volume_lasts(tmp_path):
    host = Host(tmp_path)
    root = host.image_root('p1', '1.37.1', optout=True)
    host.daemon(1174, root, fixture('cgroup-podman-p1-bind.txt'), fixture('mountinfo-podman-p1-bind.txt'))
    set_mtime(root / 'etc/netdata', BTIME + 10)
    host.cli('podman', [inspected('podman', 'p1')])
    host.hello_answers[1174] = False
    install = containers_of(host.facts())['p1']
    c = install['container']
    assert (c['config_persistence'], c['config_host_path']) == ('bind', '/srv/p1conf')
    assert install['telemetry']['opted_out'] is True
    assert c['after_recreate']['opted_out'] is True and c['opted_out_until_recreated'] is False


# ---------------------------------------------------------------- /proc alone

def test_without_any_runtime_cli_proc_alone_gives_a_verdict(tmp_path):
    host = Host(tmp_path)
    root = host.image_root('d2', '2.10.4')
    host.daemon(666, root, fixture('cgroup-docker-d2-volume.txt'), fixture('mountinfo-docker-d2-volume.txt'),
                environ=[('DISABLE_TELEMETRY', '1')])
    host.hello_answers[666] = False
    facts = host.facts()
    install = containers_of(facts)[D2[:12]]
    c = install['container']
    assert (c['runtime'], c['id'], c['name'], c['image'], c['cli']) == ('docker', D2, None, None, None)
    assert c['environment'] == {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': '1'}
    assert c['environment_source'] == 'proc'
    # from its own mount table: the config dir is a Docker named volume
    assert (c['config_persistence'], c['config_mount'], c['config_host_path']) == ('volume', '/etc/netdata', None)
    assert (c['entrypoint'], c['entrypoint_creates_optout']) == ('/usr/sbin/run.sh', True)
    assert install['version'] == '2.10.4'
    # DISABLE_TELEMETRY=1: the v2 daemon is off, the entrypoint makes the file at each start
    assert install['telemetry']['opted_out'] is True
    assert c['opted_out_until_recreated'] is False
    assert facts['installed'] is True


def test_a_daemon_in_an_unknown_container_is_still_an_install(tmp_path):
    host = Host(tmp_path)
    root = host.image_root('x', '1.37.1')
    host.daemon(77, root, '0::/lxc.payload.web/system.slice\n', '1 0 0:1 / / rw - ext4 /dev/sda rw\n')
    host.hello_answers[77] = True
    install = containers_of(host.facts())
    install = list(install.values())[0]
    c = install['container']
    assert (c['runtime'], c['id'], c['host_pid']) == ('unknown', None, 77)
    assert any('names no container runtime' in e for e in install['errors'])
    assert install['telemetry']['opted_in'] is True


def test_absolute_symlinks_inside_the_container_are_not_followed_onto_the_host(tmp_path):
    """A static-style agent whose compiled-in config dir /opt/netdata/etc/netdata is a
    symlink to /etc/netdata: read through /proc/PID/root the kernel would resolve that
    against the reader's root, i.e. the host's /etc/netdata (here: one that opts out)."""
    host = Host(tmp_path)
    write(host.root / 'etc/netdata' / OPTOUT_FILE_NAME, '')   # the host's, not the container's
    root = host.image_root('s', '2.10.4', layout='static')
    host.daemon(500, root, '0::/system.slice/docker-%s.scope\n' % ('ef' * 32), fixture('mountinfo-docker-d1-layer.txt'),
                exe='/opt/netdata/usr/sbin/netdata')
    host.hello_answers[500] = True
    facts = host.facts(config_dirs=())
    container = [i for i in facts['installs'] if i['kind'] == 'container'][0]
    assert container['prefix'] == '/opt/netdata'
    assert container['config_dir'] == '/etc/netdata'   # resolved inside the container
    assert container['lib_dir'] == '/var/lib/netdata'
    assert container['optout_file']['exists'] is False
    assert container['machine_guid'] == GUID
    assert container['telemetry']['opted_in'] is True
    # the host's own /etc/netdata is a host install of its own
    native = [i for i in facts['installs'] if i['kind'] == 'native']
    assert native and native[0]['optout_file']['exists'] is True


# ---------------------------------------------------------------- stopped containers

def _stopped(host, runtime, name, upper_files=(), volume_files=None, **changes):
    """A stopped container whose layers (and volume) the runtime names as host paths."""
    storage = '/var/lib/%s/%s' % (runtime, name)
    upper = host.root / storage.lstrip('/') / 'upper'
    lower = host.root / storage.lstrip('/') / 'lower'
    os.makedirs(str(upper))
    write(lower / 'usr/sbin/netdata', b'\0v2.10.4\0')
    write(lower / 'usr/sbin/run.sh', RUN_SH)
    for path in upper_files:
        write(upper / path.lstrip('/'), '')
    changes['GraphDriver.Data.UpperDir'] = storage + '/upper'
    changes['GraphDriver.Data.LowerDir'] = storage + '/lower'
    data = inspected(runtime, name, **changes)
    if volume_files is not None:
        os.makedirs(str(host.root / storage.lstrip('/') / 'volume'))
        for path in volume_files:
            write(host.root / storage.lstrip('/') / 'volume' / path, '')
        for mount in data['Mounts']:
            mount['Source'] = storage + '/volume'
    return data


def test_stopped_containers_are_judged_by_what_they_will_start_with(tmp_path):
    host = Host(tmp_path)
    # docker d3: stopped, config dir in its layer, the role's file left there: lasts until re-created
    d3 = _stopped(host, 'docker', 'd3', upper_files=['/etc/netdata/' + OPTOUT_FILE_NAME])
    # podman p3: stopped, volume holds nothing; run with DISABLE_TELEMETRY=1 (entrypoint opts it out)
    p3 = _stopped(host, 'podman', 'p3', volume_files=[],
                  **{'Config.Env': ['DISABLE_TELEMETRY=1', 'PATH=/usr/bin']})
    host.cli('docker', [d3])
    host.cli('podman', [p3])
    by_name = containers_of(host.facts())
    one, three = by_name['d3'], by_name['p3']
    assert one['container']['running'] is False and one['daemon']['running'] is False
    assert one['container']['view_root'] is None
    assert one['version'] == '2.10.4' and one['container']['version_source'] == 'binary'
    assert one['optout_file']['exists'] is True
    assert one['telemetry']['opted_out'] is True
    assert one['container']['opted_out_until_recreated'] is True

    assert three['optout_file']['exists'] is False
    assert three['container']['config_persistence'] == 'volume'
    assert three['container']['next_start_optout_file'] is True
    assert three['telemetry']['opted_out'] is True
    assert three['container']['opted_out_until_recreated'] is False


def test_a_stopped_container_with_nothing_that_opts_it_out_is_not_opted_out(tmp_path):
    host = Host(tmp_path)
    host.cli('docker', [_stopped(host, 'docker', 'd3')])
    install = containers_of(host.facts())['d3']
    assert install['telemetry']['opted_out'] is False
    assert install['telemetry']['opted_in'] is True   # next start: 2.10.4, no file, no env


def test_a_stopped_container_whose_files_cannot_be_read_is_unknown(tmp_path):
    host = Host(tmp_path)
    # its layer paths are another machine's: known as Netdata by its image's name only
    unnamed = inspected('docker', 'd3')
    host.cli('docker', [unnamed])
    assert containers_of(host.facts()) == {}
    host.cli('docker', [inspected('docker', 'd3', **{'Config.Image': 'netdata/netdata:stable'})])
    install = containers_of(host.facts())['d3']
    assert install['version'] is None
    assert install['telemetry']['opted_out'] is False and install['telemetry']['opted_in'] is False
    assert any('not readable here' in e for e in install['errors'])


def test_containers_false_leaves_the_clis_alone(tmp_path):
    host = Host(tmp_path)
    host.cli('docker', [_stopped(host, 'docker', 'd3')])
    facts = host.facts(containers=False)
    assert facts['installs'] == []


def test_a_runtime_that_does_not_answer_is_reported_not_raised(tmp_path):
    host = Host(tmp_path)
    root = host.image_root('d1', '1.37.1')
    host.daemon(327, root, fixture('cgroup-docker-d1-layer.txt'), fixture('mountinfo-docker-d1-layer.txt'))
    write(host.root / 'usr/bin/docker', '', 0o755)

    def broken(argv):
        return 1, '', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n'
    facts = gather_telemetry(root=str(host.root), run_command=lambda argv: (127, '', ''),
                             cli_run_command=broken, container_hello=host.hello)
    assert 'Cannot connect to the Docker daemon' in facts['container_errors'][0]
    install = containers_of(facts)[D1[:12]]
    assert install['container']['environment_source'] == 'proc'
    assert install['container']['config_persistence'] == 'layer'


@pytest.mark.parametrize('stop_at', ['cgroup', 'mountinfo', 'root'])
def test_odd_proc_files_become_errors(tmp_path, stop_at):
    host = Host(tmp_path)
    root = host.image_root('d1', '1.37.1')
    host.daemon(327, root, fixture('cgroup-docker-d1-layer.txt'), fixture('mountinfo-docker-d1-layer.txt'))
    path = host.root / 'proc/327' / stop_at
    os.remove(str(path))
    os.makedirs(str(path))  # a directory where a file (or the root link) should be
    facts = host.facts()
    installs = [i for i in facts['installs'] if i['kind'] == 'container']
    assert len(installs) <= 1
    if installs:
        assert installs[0]['errors']


def test_a_runtime_never_used_here_is_not_asked(tmp_path):
    """No docker socket, no podman storage: the CLIs are there but never run (podman would
    create its storage), unless a daemon was seen in one of their containers."""
    host = Host(tmp_path)
    host.cli('docker', [_stopped(host, 'docker', 'd3')], in_use=False)
    calls = []

    def run_cli(argv):
        calls.append(argv)
        return host.run_cli(argv)
    facts = gather_telemetry(root=str(host.root), run_command=lambda argv: (127, '', ''),
                             cli_run_command=run_cli, container_hello=host.hello)
    assert calls == [] and facts['installs'] == []
    root = host.image_root('d1', '1.37.1')
    host.daemon(327, root, fixture('cgroup-docker-d1-layer.txt'), fixture('mountinfo-docker-d1-layer.txt'))
    host.cli('docker', [inspected('docker', 'd1')], in_use=False)
    facts = gather_telemetry(root=str(host.root), run_command=lambda argv: (127, '', ''),
                             cli_run_command=run_cli, container_hello=host.hello)
    assert calls and containers_of(facts)['d1']['container']['environment_source'] == 'inspect'


def test_the_entrypoints_file_was_there_when_the_agent_started(tmp_path):
    """The container's init process runs the entrypoint, which touches the opt-out file and
    then execs the agent: /proc dates the process (and so the agent) before the file. With
    DO_NOT_TRACK=1 the entrypoint made it at this start, so the agent saw it (as the lab's
    real 1.37.1 agents answer: anonymous_statistics false)."""
    host = Host(tmp_path)
    root = host.image_root('d1', '1.37.1', optout=True)
    host.daemon(327, root, fixture('cgroup-docker-d1-layer.txt'), fixture('mountinfo-docker-d1-layer.txt'),
                environ=[('DO_NOT_TRACK', '1')], started=100.0)
    for path in (root / 'etc/netdata', root / 'etc/netdata' / OPTOUT_FILE_NAME):
        # a second and a half into the process's life: past the whole second that a
        # btime-dated start leaves open
        set_mtime(path, BTIME + 101.5)
    install = list(containers_of(host.facts(live_query=False)).values())[0]
    analytics = install['telemetry']['channels']['daemon_analytics']
    assert analytics['live'] is None
    assert analytics['running'] is False, analytics['reasons']
    assert install['telemetry']['opted_out'] is True
    # without the variable the same file is the role's (or someone's) after the start
    host2 = Host(tmp_path / 'two')
    root2 = host2.image_root('d1', '1.37.1', optout=True)
    host2.daemon(327, root2, fixture('cgroup-docker-d1-layer.txt'), fixture('mountinfo-docker-d1-layer.txt'),
                 started=100.0)
    for path in (root2 / 'etc/netdata', root2 / 'etc/netdata' / OPTOUT_FILE_NAME):
        set_mtime(path, BTIME + 101.5)
    install = list(containers_of(host2.facts(live_query=False)).values())[0]
    assert install['telemetry']['channels']['daemon_analytics']['running'] is True
