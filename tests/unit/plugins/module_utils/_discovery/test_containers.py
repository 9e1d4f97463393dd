# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""containers.py: parsers over text captured from real docker and podman (fixtures/containers),
collectors over fixture trees, and the version read from real Netdata binaries."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery import containers as ct

FIX = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..',
                                    'fixtures', 'containers'))
D1 = '5883860f115e6149672a496ed255178796f4d8b15af80e455173209154fc56ee'
D2 = '9390f66488484af8fc2d2cde9d29ba956a9ce36c9a36ca714e7f415204e15f80'
P1 = 'd486614c31097b8a7472079b8befd05a58d688dbcbf25fd12c589b8f8b0647e0'
P2 = '72d1d22a4d7db4083a90ee6c7d0237f490273fd21a1b6bf6e0fdaa31be30124a'
ID = 'ab' * 32


def fixture(name):
    with open(os.path.join(FIX, name)) as handle:
        return handle.read()


# ---------------------------------------------------------------- cgroup

@pytest.mark.parametrize('name, expected', [
    ('cgroup-docker-d1-layer.txt', ('docker', D1)),
    ('cgroup-docker-d2-volume.txt', ('docker', D2)),
    ('cgroup-podman-p1-bind.txt', ('podman', P1)),
    ('cgroup-podman-p2-layer.txt', ('podman', P2)),
])
def test_cgroup_of_real_containers(name, expected):
    assert ct.parse_cgroup_container(fixture(name)) == expected


@pytest.mark.parametrize('text, expected', [
    # systemd cgroup driver, cgroup v2
    ('0::/system.slice/docker-%s.scope\n' % ID, ('docker', ID)),
    ('0::/machine.slice/libpod-%s.scope/container\n' % ID, ('podman', ID)),
    # rootless podman
    ('0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-%s.scope/container\n' % ID,
     ('podman', ID)),
    # Kubernetes: containerd with systemd, cgroupfs
    ('0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-%s.scope\n' % ID,
     ('containerd', ID)),
    ('0::/kubepods/burstable/pod0a1b2c3d-0000-1111-2222-333344445555/%s\n' % ID, ('containerd', ID)),
    ('0::/kubepods.slice/kubepods-pod1.slice/crio-%s.scope\n' % ID, ('unknown', ID)),
    # Docker in Docker: the inner container
    ('0::/docker/%s/docker/%s\n' % ('cd' * 32, ID), ('docker', ID)),
    # podman's monitor is not the container
    ('0::/machine.slice/libpod-conmon-%s.scope\n' % ID, (None, None)),
    # a host service, the root, nothing
    ('0::/system.slice/netdata.service\n', (None, None)),
    ('0::/\n', (None, None)),
    ('', (None, None)),
    ('garbage', (None, None)),
])
def test_cgroup_patterns(text, expected):
    assert ct.parse_cgroup_container(text) == expected


# ---------------------------------------------------------------- mountinfo

@pytest.mark.parametrize('name, persistence, mount_root', [
    ('mountinfo-docker-d1-layer.txt', 'layer', '/'),
    ('mountinfo-podman-p2-layer.txt', 'layer', '/'),
    ('mountinfo-docker-d2-volume.txt', 'volume', None),
    ('mountinfo-podman-p1-bind.txt', 'bind', '/srv/p1conf'),
])
def test_config_dir_persistence_of_real_containers(name, persistence, mount_root):
    mounts = ct.parse_mountinfo(fixture(name))
    kind, mount = ct.mount_persistence(mounts, '/etc/netdata')
    assert kind == persistence
    if mount_root:
        assert mount['root'] == mount_root
    # a file inside the dir lives where the dir does
    assert ct.mount_persistence(mounts, '/etc/netdata/.opt-out-from-anonymous-statistics')[0] == persistence
    # /etc/netdata.stock is not under /etc/netdata
    assert ct.mount_persistence(mounts, '/etc/netdata.stock')[0] == 'layer'


def test_mountinfo_escapes_tmpfs_and_stacking():
    text = ('1 0 0:1 / / rw - overlay overlay rw\n'
            '2 1 0:2 /srv/my\\040conf /etc/netdata rw - ext4 /dev/sda1 rw\n'
            '3 1 0:3 / /etc/netdata rw - tmpfs tmpfs rw\n'
            '4 1 0:4 /var/lib/containers/storage/volumes/nd-lib/_data /var/lib/netdata rw shared:1 - xfs /dev/sdb rw\n'
            'broken line\n')
    mounts = ct.parse_mountinfo(text)
    assert mounts[1]['root'] == '/srv/my conf'
    assert ct.mount_persistence(mounts, '/etc/netdata')[0] == 'tmpfs'  # the later mount is on top
    assert ct.mount_persistence(mounts[:2], '/etc/netdata')[0] == 'bind'
    assert ct.mount_persistence(mounts, '/var/lib/netdata/registry')[0] == 'volume'
    assert ct.mount_persistence([], '/etc/netdata') == ('unknown', None)


# ---------------------------------------------------------------- inspect

def test_docker_inspect_of_real_containers():
    found, err = ct.parse_inspect_output(fixture('docker-inspect.json'), 'docker')
    assert err is None
    by_name = dict((c['name'], c) for c in found)
    assert sorted(by_name) == ['d1', 'd2', 'd3']
    d1, d2, d3 = by_name['d1'], by_name['d2'], by_name['d3']
    assert d1['id'] == D1 and d1['running'] is True and d1['pid'] == 327
    assert d1['environment'] == {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}
    assert d1['image'] == 'localhost/netdata-lab:1.37.1'
    assert d1['entrypoint'] == ['/usr/sbin/run.sh']
    assert d1['mounts'] == [] and d1['layers']['upper'].endswith('/diff')
    assert d2['mounts'] == [{'type': 'volume', 'source': '/var/lib/docker/volumes/d2-config/_data',
                             'destination': '/etc/netdata', 'name': 'd2-config'}]
    assert ct.inspect_mount_persistence(d2['mounts'], '/etc/netdata')[0] == 'volume'
    assert ct.inspect_mount_persistence(d1['mounts'], '/etc/netdata') == (None, None)
    assert (d3['status'], d3['running'], d3['pid']) == ('exited', False, None)


def test_podman_inspect_of_real_containers():
    found, err = ct.parse_inspect_output(fixture('podman-inspect.json'), 'podman')
    assert err is None
    by_name = dict((c['name'], c) for c in found)
    assert sorted(by_name) == ['p1', 'p2', 'p3']
    # podman 4.3 gives the entrypoint as a string, no leading "/" on names
    assert by_name['p1']['entrypoint'] == ['/usr/sbin/run.sh']
    assert by_name['p1']['mounts'][0]['type'] == 'bind'
    assert by_name['p1']['mounts'][0]['source'] == '/srv/p1conf'
    assert by_name['p2']['environment'] == {'DO_NOT_TRACK': '0', 'DISABLE_TELEMETRY': None}
    assert by_name['p3']['mounts'][0]['source'] == '/var/lib/containers/storage/volumes/p3-config/_data'
    assert by_name['p3']['running'] is False


@pytest.mark.parametrize('text', ['', 'not json', '{"Id": "x"}', '[1, "a", {}]'])
def test_inspect_junk(text):
    found, err = ct.parse_inspect_output(text, 'docker')
    assert found == []
    if text.startswith('['):
        assert err is None
    else:
        assert err


def test_env_list_last_assignment_wins():
    env = ct.env_list_to_dict(['DO_NOT_TRACK=1', 'X=y', 'DO_NOT_TRACK=', 'junk', 5])
    assert env == {'DO_NOT_TRACK': '', 'DISABLE_TELEMETRY': None}


@pytest.mark.parametrize('container, expected', [
    ({'image': 'netdata/netdata:stable'}, True),
    ({'image': 'docker.io/netdata/netdata@sha256:abc'}, True),
    ({'image': 'registry.local:5000/mirror/netdata'}, True),
    ({'image': 'netdata-exporter:1'}, False),
    ({'image': 'nginx', 'labels': {'org.opencontainers.image.title': 'Netdata Agent'}}, True),
    ({'image': 'mine', 'entrypoint': ['/opt/netdata/bin/netdata'], 'command': []}, True),
    ({'image': 'mine', 'entrypoint': ['/usr/sbin/run.sh'], 'command': ['-W', 'x']}, False),
])
def test_looks_like_netdata(container, expected):
    assert ct.looks_like_netdata(container) is expected


def test_ps_ids():
    out = '%s\n%s\n\nWARNING: junk\n%s\n' % (D1, D2, D1)
    assert ct.parse_ps_ids(out) == [D1, D2]


# ---------------------------------------------------------------- version without running anything

def test_versions_in_binary_data():
    data = b'\0zlib 1.2.13\0v1.2\0v1.37.1\0\0x v9.9.9\0v2.10.0-45-nightly\0v10.0.0\0'
    assert ct.versions_in_binary_data(data) == ['1.37.1', '2.10.0-45-nightly', '10.0.0']
    assert ct.pick_binary_version(['1.37.1', '10.0.0']) == ('1.37.1', None)
    assert ct.pick_binary_version(['1.37.1', '2.1.0'])[0] is None
    assert ct.pick_binary_version([])[0] is None


def test_version_of_debians_real_netdata_binary():
    if not os.path.isfile('/usr/sbin/netdata'):
        pytest.skip('Debian\'s netdata package is not installed here')
    found, err = ct.versions_in_binary('/usr/sbin/netdata')
    assert err is None
    assert ct.pick_binary_version(found) == ('1.37.1', None)
    # read from its .rodata section only (the whole file gives the same)
    with open('/usr/sbin/netdata', 'rb') as handle:
        offset, size = ct.elf_rodata(handle)
        handle.seek(0)
        whole = handle.read()
    assert 0 < size < len(whole)
    assert ct.versions_in_binary_data(whole) == found


def test_version_of_the_real_v2_binary(tmp_path):
    tarball = '/work/shared/netdata-v2/netdata-v2.10.4-debian12-amd64.tar.gz'
    if not os.path.isfile(tarball):
        pytest.skip('no v2.10.4 build here')
    with tarfile.open(tarball) as tar:
        member = tar.getmember('opt/netdata/usr/sbin/netdata')
        with tar.extractfile(member) as src, open(str(tmp_path / 'netdata'), 'wb') as dst:
            shutil.copyfileobj(src, dst)
    started = time.time()
    found, err = ct.versions_in_binary(str(tmp_path / 'netdata'))
    took = time.time() - started
    assert err is None
    assert ct.pick_binary_version(found) == ('2.10.4', None)
    assert took < 1  # 0.8 MB of .rodata, not 22 MB of binary


def test_version_string_across_a_chunk_boundary(tmp_path):
    path = tmp_path / 'netdata'
    data = b'x' * (ct._CHUNK - 4) + b'\0v2.9.0\0' + b'y' * 100
    path.write_bytes(data)
    assert ct.versions_in_binary(str(path)) == (['2.9.0'], None)
    assert ct.versions_in_binary(str(tmp_path / 'missing'))[1]


def test_dpkg_status_of_this_machine():
    if not os.path.isfile('/var/lib/dpkg/status'):
        pytest.skip('no dpkg database')
    with open('/var/lib/dpkg/status') as handle:
        text = handle.read()
    if '\nPackage: netdata\n' not in '\n' + text:
        pytest.skip('netdata not installed from a package here')
    assert ct.parse_dpkg_status(text).startswith('1.37.1')


def test_package_databases():
    dpkg = ('Package: netdata-core\nStatus: deinstall ok config-files\nVersion: 1.30.0-1\n\n'
            'Package: netdata\nStatus: install ok installed\nVersion: 1.37.1-2\n')
    assert ct.parse_dpkg_status(dpkg) == '1.37.1-2'
    assert ct.parse_dpkg_status('Package: netdata\nStatus: deinstall ok config-files\nVersion: 1\n') is None
    apk = 'C:Q1x\nP:musl\nV:1.2\n\nC:Q1y\nP:netdata\nV:1.36.1-r0\n'
    assert ct.parse_apk_installed(apk) == '1.36.1-r0'
    assert ct.parse_apk_installed('') is None


def test_image_version_prefers_the_binary_then_packages_then_the_label(tmp_path):
    root = tmp_path / 'root'
    (root / 'var/lib/dpkg').mkdir(parents=True)
    (root / 'var/lib/dpkg/status').write_text('Package: netdata\nStatus: install ok installed\nVersion: 1.37.1-2\n')
    binary = tmp_path / 'netdata'
    binary.write_bytes(b'\0v2.10.4\0')
    labels = {'org.opencontainers.image.version': 'v2.8.0'}
    assert ct.image_version(str(root), str(binary), labels)[:2] == ('2.10.4', 'binary')
    binary.write_bytes(b'nothing')
    assert ct.image_version(str(root), str(binary), labels)[:2] == ('1.37.1', 'dpkg')
    assert ct.image_version(str(tmp_path / 'empty'), None, labels)[:2] == ('2.8.0', 'label')
    assert ct.image_version(str(tmp_path / 'empty'), None, {'org.opencontainers.image.version': 'latest'})[0] is None


# ---------------------------------------------------------------- paths inside a container

def test_resolve_in_root_keeps_absolute_symlinks_inside(tmp_path):
    """The v2 image's /opt/netdata/etc/netdata -> /etc/netdata: through /proc/PID/root the
    kernel would resolve it against our root (the host's /etc/netdata)."""
    root = tmp_path / 'root'
    (root / 'etc/netdata').mkdir(parents=True)
    (root / 'opt/netdata/etc').mkdir(parents=True)
    os.symlink('/etc/netdata', str(root / 'opt/netdata/etc/netdata'))
    os.symlink('../../..', str(root / 'opt/netdata/etc/up'))
    assert ct.resolve_in_root(str(root), '/opt/netdata/etc/netdata') == ('/etc/netdata', None)
    assert ct.resolve_in_root(str(root), '/opt/netdata/etc/netdata/.opt-out-from-anonymous-statistics') == \
        ('/etc/netdata/.opt-out-from-anonymous-statistics', None)
    # ".." never climbs above the container's root
    assert ct.resolve_in_root(str(root), '/opt/netdata/etc/up/../../etc/netdata') == ('/etc/netdata', None)
    assert ct.resolve_in_root(str(root), '/missing/dir/file')[0] is None
    assert ct.resolve_in_root(str(root), 'relative')[0] is None
    os.symlink('loop', str(root / 'loop'))
    assert 'too many' in ct.resolve_in_root(str(root), '/loop/x')[1]
    assert ct.symlink_on_the_way(str(root), '/opt/netdata/etc/netdata/x') == '/opt/netdata/etc/netdata'
    assert ct.symlink_on_the_way(str(root), '/etc/netdata/x') is None


def test_overlay_lookup_and_whiteouts(tmp_path):
    upper, lower1, lower2 = tmp_path / 'upper', tmp_path / 'l1', tmp_path / 'l2'
    for d in (upper / 'etc/netdata', lower1 / 'etc/netdata', lower2 / 'usr/sbin'):
        d.mkdir(parents=True)
    (upper / 'etc/netdata/.opt-out-from-anonymous-statistics').write_text('')
    (lower1 / 'etc/netdata/netdata.conf').write_text('[global]\n')
    (lower2 / 'usr/sbin/netdata').write_text('bin')
    layers = {'upper': str(upper), 'lower': [str(lower1), str(lower2)]}
    assert ct.overlay_lookup(layers, '/etc/netdata/.opt-out-from-anonymous-statistics') == \
        str(upper / 'etc/netdata/.opt-out-from-anonymous-statistics')
    assert ct.overlay_lookup(layers, '/usr/sbin/netdata') == str(lower2 / 'usr/sbin/netdata')
    assert ct.overlay_lookup(layers, '/nothing') is None
    assert ct.overlay_lookup(None, '/usr/sbin/netdata') is None
    try:
        os.mknod(str(upper / 'etc/netdata/netdata.conf'), 0o600 | 0o020000, os.makedev(0, 0))
    except (OSError, AttributeError):
        pytest.skip('cannot make a whiteout (character device 0:0) here')
    assert ct.overlay_lookup(layers, '/etc/netdata/netdata.conf') is None


def test_entrypoint_scripts():
    official = ('if [ "${DISABLE_TELEMETRY:-0}" != "0" ] ||\n  [ "${DO_NOT_TRACK:-0}" != "0" ]; then\n'
                '  touch /etc/netdata/.opt-out-from-anonymous-statistics\nfi\n')
    assert ct.entrypoint_creates_optout(official) is True
    assert ct.entrypoint_creates_optout('#!/bin/sh\nexec netdata -D\n') is False
    assert ct.entrypoint_creates_optout(None) is False


def test_install_label():
    host = {'kind': 'native', 'config_dir': '/etc/netdata'}
    assert ct.install_label(host) == '/etc/netdata'
    named = {'kind': 'container', 'config_dir': '/etc/netdata',
             'container': {'runtime': 'docker', 'name': 'nd1', 'id': D1}}
    assert ct.install_label(named) == 'docker:nd1:/etc/netdata'
    anon = {'kind': 'container', 'config_dir': '/etc/netdata',
            'container': {'runtime': 'podman', 'name': None, 'id': P1}}
    assert ct.install_label(anon) == 'podman:%s:/etc/netdata' % P1[:12]


# ---------------------------------------------------------------- the runtime's CLI

class FakeCli(object):
    """Answers like docker/podman would, from the real captured output."""

    def __init__(self, runtime, ps_rc=0, inspect_rc=0, inspect_out=None):
        self.runtime = runtime
        self.calls = []
        self.ps_rc, self.inspect_rc = ps_rc, inspect_rc
        self.inspect_out = inspect_out if inspect_out is not None else fixture('%s-inspect.json' % runtime)

    def __call__(self, argv):
        self.calls.append(list(argv))
        if argv[1] == 'ps':
            if self.ps_rc:
                return self.ps_rc, '', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n'
            ids = [c['Id'] for c in json.loads(fixture('%s-inspect.json' % self.runtime))]
            return 0, '\n'.join(ids) + '\n', ''
        if argv[1:3] == ['container', 'inspect']:
            return self.inspect_rc, self.inspect_out, 'Error: No such container: x' if self.inspect_rc else ''
        return 127, '', 'unexpected call'


def test_runtime_listing_keeps_what_it_is_told():
    cli = FakeCli('docker')
    listing = ct.runtime_listing('docker', '/usr/bin/docker', cli, keep=lambda c: c['name'] != 'd3')
    assert sorted(c['name'] for c in listing['containers']) == ['d1', 'd2']
    assert listing['errors'] == []
    assert cli.calls[0] == ['/usr/bin/docker', 'ps', '-a', '-q', '--no-trunc']
    assert cli.calls[1][:3] == ['/usr/bin/docker', 'container', 'inspect'] and len(cli.calls[1]) == 6


def test_runtime_listing_without_a_daemon_is_an_error_not_an_exception():
    listing = ct.runtime_listing('docker', '/usr/bin/docker', FakeCli('docker', ps_rc=1))
    assert listing['containers'] == []
    assert 'Cannot connect' in listing['errors'][0]


def test_runtime_listing_keeps_what_inspect_printed_when_one_container_vanished():
    listing = ct.runtime_listing('podman', '/usr/bin/podman', FakeCli('podman', inspect_rc=125))
    assert len(listing['containers']) == 3
    assert 'No such container' in listing['errors'][0]
    listing = ct.runtime_listing('podman', '/usr/bin/podman', FakeCli('podman', inspect_rc=125, inspect_out=''))
    assert listing['containers'] == [] and listing['errors']


# ---------------------------------------------------------------- the agent's own answer

def test_hello_inside_a_private_network_namespace(tmp_path):
    """A real setns(2) into a network namespace of its own (unshare --net), where a tiny
    server answers hello on that namespace's loopback only: this process's own loopback
    has nothing on that port."""
    if os.geteuid() != 0 or not shutil.which('unshare'):
        pytest.skip('needs root and unshare')
    server = (
        'import http.server, sys\n'
        'class H(http.server.BaseHTTPRequestHandler):\n'
        '    def do_GET(self):\n'
        '        body = b\'{"action": "hello", "anonymous_statistics": false}\'\n'
        '        self.send_response(200); self.send_header("Content-Length", str(len(body)))\n'
        '        self.end_headers(); self.wfile.write(body)\n'
        '    def log_message(self, *a): pass\n'
        's = http.server.HTTPServer(("127.0.0.1", 19999), H)\n'
        'print("ready", flush=True)\n'
        's.serve_forever()\n')
    proc = subprocess.Popen(['unshare', '--net', '/bin/sh', '-c', 'ip link set lo up; exec "$0" -c "$1"',
                             sys.executable, server], stdout=subprocess.PIPE)
    try:
        line = proc.stdout.readline()
        if b'ready' not in line:
            pytest.skip('cannot start a server in a private network namespace here')
        answer = ct.query_hello_in_netns('/proc/%d/ns/net' % proc.pid, '*', 19999, timeout=3)
        assert answer['anonymous_statistics'] is False, answer
        assert answer['url'] == 'http://127.0.0.1:19999/api/v1/registry?action=hello'
    finally:
        proc.kill()
        proc.wait()
    gone = ct.query_hello_in_netns('/proc/%d/ns/net' % proc.pid, '127.0.0.1', 19999, timeout=1)
    assert gone['anonymous_statistics'] is None and gone['error']
