# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import threading

import pytest

try:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer as HTTPServer
except ImportError:  # pragma: no cover
    from BaseHTTPServer import BaseHTTPRequestHandler, HTTPServer

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.installs import (
    claimed_id_from_cloud_conf, config_dir_problems, config_file_from_exec_start, default_run_command, discover_installs,
    parse_install_type, parse_machine_guid, prefix_from_config_dir)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'discovery', 'debian-1.37.1')
GUID = '3a4c9f0e-1b2d-11ee-9d2f-0242ac120002'
CONTRACT_KEYS = {
    'config_dir', 'prefix', 'kind', 'lib_dir', 'binary', 'version', 'version_string', 'install_type',
    'machine_guid', 'claimed', 'optout_file', 'netdata_conf', 'service', 'daemon', 'start', 'errors', 'evidence'}


def write(root, path, text, mode=None):
    full = os.path.join(str(root), path.lstrip('/'))
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, 'wb' if isinstance(text, bytes) else 'w') as handle:
        handle.write(text)
    if mode:
        os.chmod(full, mode)
    return full


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


class FakeRunner(object):
    """Stands in for run_command: `<binary> -v` prints what the test says."""

    def __init__(self, outputs):
        self.outputs = outputs
        self.calls = []

    def __call__(self, argv):
        self.calls.append(list(argv))
        out = self.outputs.get(argv[0])
        if out is None:
            return 127, '', 'not found'
        return 0, out, ''


# Debian 12's entries for the agent's user (netdata is also in adm, as the package makes it).
PASSWD = 'root:x:0:0:root:/root:/bin/bash\nnetdata:x:999:995::/var/lib/netdata:/usr/sbin/nologin\n'
GROUP = 'root:x:0:\nadm:x:4:netdata\nnetdata:x:995:\n'
OPTOUT = '/etc/netdata/.opt-out-from-anonymous-statistics'


def users(root):
    write(root, '/etc/passwd', PASSWD)
    write(root, '/etc/group', GROUP)


def native_tree(root, optout=True):
    users(root)
    write(root, '/etc/netdata/netdata.conf', fixture('netdata.conf'))
    if optout:
        write(root, '/etc/netdata/.opt-out-from-anonymous-statistics', '')
    write(root, '/usr/sbin/netdata', '#!/bin/sh\necho netdata v1.37.1\n', 0o755)
    write(root, '/lib/systemd/system/netdata.service', fixture('netdata.service'))
    os.makedirs(os.path.join(str(root), 'var/lib/netdata/registry'))
    write(root, '/var/lib/netdata/registry/netdata.public.unique.id', GUID + '\n')


def static_tree(root):
    write(root, '/opt/netdata/etc/netdata/.install-type', "INSTALL_TYPE='kickstart-static'\nPREBUILT_ARCH='x86_64'\n")
    write(root, '/opt/netdata/etc/netdata/netdata.conf', '[web]\n  default port = 20001\n[global]\n  crash reports = off\n')
    write(root, '/opt/netdata/usr/sbin/netdata', '#!/bin/sh\necho netdata v2.3.1\n', 0o755)
    os.makedirs(os.path.join(str(root), 'opt/netdata/var/lib/netdata'))


RUNNER = {'/usr/sbin/netdata': 'netdata v1.37.1\n', '/opt/netdata/usr/sbin/netdata': 'netdata v2.3.1\n'}


def discover(root, **kwargs):
    kwargs.setdefault('run_command', FakeRunner(RUNNER))
    return discover_installs(root=str(root), **kwargs)


# ------------------------------------------------------------ parsers

def test_parsers():
    assert parse_install_type("INSTALL_TYPE='kickstart-static'\n") == 'kickstart-static'
    assert parse_install_type('export INSTALL_TYPE="binpkg-deb" # x\n') == 'binpkg-deb'
    assert parse_install_type('INSTALL_TYPE=\n') is None
    assert parse_install_type('junk') is None
    assert parse_machine_guid(GUID + '\n') == (GUID, None)
    assert parse_machine_guid('not-a-guid') == (None, 'not a UUID')
    assert parse_machine_guid('') == (None, 'empty')
    assert claimed_id_from_cloud_conf('[global]\n  claimed_id = abc\n') == 'abc'
    assert claimed_id_from_cloud_conf('[global]\n  claimed_id =\n') is None
    assert claimed_id_from_cloud_conf('[cloud]\nclaimed_id = x\n') == 'x'
    assert prefix_from_config_dir('/etc/netdata') == '/'
    assert prefix_from_config_dir('/opt/netdata/etc/netdata/') == '/opt/netdata'
    assert prefix_from_config_dir('/srv/conf') is None


# ------------------------------------------------------------ discovery

def test_none(tmp_path):
    assert discover(tmp_path) == []


def test_native_only(tmp_path):
    native_tree(tmp_path)
    runner = FakeRunner(RUNNER)
    installs = discover(tmp_path, run_command=runner)
    assert len(installs) == 1
    one = installs[0]
    assert set(one) == CONTRACT_KEYS
    assert one['config_dir'] == '/etc/netdata' and one['prefix'] == '/' and one['kind'] == 'native'
    assert one['binary'] == '/usr/sbin/netdata' and one['lib_dir'] == '/var/lib/netdata'
    assert one['version'] == '1.37.1' and one['version_string'] == 'netdata v1.37.1'
    assert one['install_type'] is None and one['machine_guid'] == GUID and one['claimed'] is False
    readable = 'user netdata can read %s (mode 0644, owner 0:0)' % OPTOUT
    assert one['optout_file'] == {
        'path': OPTOUT, 'exists': True, 'readable_by_agent': True, 'reason': readable,
        'agent_user': 'netdata', 'readable_at_start': True, 'start_user': 'netdata',
        'reason_at_start': readable,
        'script': {'path': OPTOUT, 'exists': True, 'found_by_agent': True,
                   'reason': 'user netdata can see %s (a regular file)' % OPTOUT}}
    assert one['netdata_conf'] == {'path': '/etc/netdata/netdata.conf', 'exists': True, 'crash_reports': None,
                                   'web_address': '127.0.0.1', 'web_port': 19999, 'source': 'default',
                                   'config_dir': '/etc/netdata', 'run_as_user': 'netdata'}
    assert one['service'] == {'unit': '/lib/systemd/system/netdata.service', 'dropins': [],
                              'environment': {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None}}
    assert one['daemon'] == {'running': False, 'pid': None, 'environment': None}
    assert one['errors'] == []
    assert one['evidence']['optout_file_mtime'] is not None
    assert one['evidence']['service_starts_this_install'] is True
    assert runner.calls == [['/usr/sbin/netdata', '-v']]
    json.dumps(installs)  # plain data only


def test_static_only(tmp_path):
    static_tree(tmp_path)
    installs = discover(tmp_path)
    assert [i['kind'] for i in installs] == ['static']
    one = installs[0]
    assert one['prefix'] == '/opt/netdata' and one['lib_dir'] == '/opt/netdata/var/lib/netdata'
    assert one['version'] == '2.3.1' and one['install_type'] == 'kickstart-static'
    assert one['optout_file']['exists'] is False
    assert one['netdata_conf']['crash_reports'] == 'off' and one['netdata_conf']['web_port'] == 20001
    assert one['machine_guid'] is None and one['errors'] == []
    assert one['service']['unit'] is None


def test_both_and_real_script_binary(tmp_path):
    native_tree(tmp_path)
    static_tree(tmp_path)

    # The default runner executes the stand-in scripts for real; fixture paths are mapped
    # back under tmp_path because the installs report target paths.
    def runner(argv):
        return default_run_command([os.path.join(str(tmp_path), argv[0].lstrip('/'))] + argv[1:])
    installs = discover_installs(root=str(tmp_path), run_command=runner)
    assert [(i['kind'], i['version']) for i in installs] == [('native', '1.37.1'), ('static', '2.3.1')]
    assert installs[1]['evidence']['service_starts_this_install'] is False


def test_binary_only_is_an_install(tmp_path):
    write(tmp_path, '/usr/sbin/netdata', '#!/bin/sh\n', 0o755)
    installs = discover(tmp_path)
    assert len(installs) == 1 and installs[0]['optout_file']['exists'] is False
    assert any('does not exist' in e for e in installs[0]['errors'])


def test_usr_local_does_not_borrow_native_paths(tmp_path):
    native_tree(tmp_path)
    write(tmp_path, '/usr/local/etc/netdata/netdata.conf', '')
    installs = discover(tmp_path)
    local = installs[1]
    assert local['config_dir'] == '/usr/local/etc/netdata' and local['prefix'] == '/usr/local'
    assert local['binary'] is None and local['lib_dir'] == '/usr/local/var/lib/netdata'
    assert local['machine_guid'] is None


def test_custom_config_dirs(tmp_path):
    write(tmp_path, '/srv/nd/etc/netdata/netdata.conf', '')
    write(tmp_path, '/srv/nd/usr/sbin/netdata', '#!/bin/sh\n', 0o755)
    write(tmp_path, '/srv/nd/var/lib/netdata/cloud.d/claimed_id', 'abc\n')
    write(tmp_path, '/data/conf/netdata.conf', '[directories]\n lib = /data/lib\n')
    write(tmp_path, '/data/lib/registry/netdata.public.unique.id', GUID)
    runner = FakeRunner({'/srv/nd/usr/sbin/netdata': 'netdata v2.5.0-3-nightly\n'})
    installs = discover(tmp_path, run_command=runner,
                        extra_config_dirs=['/srv/nd/etc/netdata/', '/data/conf', '/etc/netdata', '/absent'])
    assert [i['config_dir'] for i in installs] == ['/srv/nd/etc/netdata', '/data/conf']
    srv, data = installs
    assert srv['prefix'] == '/srv/nd' and srv['kind'] == 'custom' and srv['version'] == '2.5.0'
    assert srv['claimed'] is True and srv['evidence']['claimed_via'].endswith('cloud.d/claimed_id')
    assert data['prefix'] is None and data['binary'] is None and data['lib_dir'] == '/data/lib'
    assert data['machine_guid'] == GUID


def test_config_dir_that_is_a_file(tmp_path):
    write(tmp_path, '/etc/netdata', 'oops')
    write(tmp_path, '/srv/given', 'oops')
    installs = discover(tmp_path, extra_config_dirs=['/srv/given'])
    assert [i['config_dir'] for i in installs] == ['/etc/netdata', '/srv/given']
    assert all(any('not a directory' in e for e in i['errors']) for i in installs)
    assert installs[0]['optout_file']['exists'] is False
    assert config_dir_problems(['/srv/given', '/absent', 'relative'], root=str(tmp_path)) == [
        'config_dir /srv/given exists but is not a directory', "config_dir 'relative': not an absolute path"]


def test_guid_garbage_and_odd_files(tmp_path):
    native_tree(tmp_path)
    write(tmp_path, '/var/lib/netdata/registry/netdata.public.unique.id', 'garbage\n')
    os.makedirs(os.path.join(str(tmp_path), 'etc/netdata/.install-type'))  # a dir where a file belongs
    one = discover(tmp_path)[0]
    assert one['machine_guid'] is None
    assert any('not a UUID' in e for e in one['errors'])
    assert any('.install-type: not a regular file' in e for e in one['errors'])

    write(tmp_path, '/var/lib/netdata/registry/netdata.public.unique.id', b'\x00\xff' * 10)
    one = discover(tmp_path)[0]
    assert one['machine_guid'] is None and any('binary content' in e for e in one['errors'])


def test_claimed_via_cloud_conf_and_not_claimed(tmp_path):
    native_tree(tmp_path)
    write(tmp_path, '/var/lib/netdata/cloud.d/claimed_id', '  \n')  # empty: not claimed
    assert discover(tmp_path)[0]['claimed'] is False
    write(tmp_path, '/var/lib/netdata/cloud.d/cloud.conf', '[global]\n  url = https://app.netdata.cloud\n  claimed_id = 1234\n')
    one = discover(tmp_path)[0]
    assert one['claimed'] is True and one['evidence']['claimed_via'].endswith('cloud.conf')
    os.remove(os.path.join(str(tmp_path), 'var/lib/netdata/cloud.d/claimed_id'))
    os.mkfifo(os.path.join(str(tmp_path), 'var/lib/netdata/cloud.d/claimed_id'))  # must not block
    one = discover(tmp_path)[0]
    assert one['claimed'] is True and any('not a regular file' in e for e in one['errors'])


def test_service_dropins_and_mask(tmp_path):
    native_tree(tmp_path)
    write(tmp_path, '/lib/systemd/system/netdata.service.d/telemetry.conf', '[Service]\nEnvironment=DO_NOT_TRACK=0\n')
    write(tmp_path, '/etc/systemd/system/netdata.service.d/telemetry.conf',
          '[Service]\nEnvironment="DO_NOT_TRACK=1" DISABLE_TELEMETRY=1\n')
    one = discover(tmp_path)[0]
    assert one['service']['environment'] == {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': '1'}
    assert one['service']['dropins'] == ['/etc/systemd/system/netdata.service.d/telemetry.conf']
    os.symlink('/dev/null', os.path.join(str(tmp_path), 'etc/systemd/system/netdata.service'))
    one = discover(tmp_path)[0]
    assert one['evidence']['service_masked'] is True
    assert one['service']['environment'] == {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None}


def test_environment_file_missing_is_reported(tmp_path):
    native_tree(tmp_path)
    write(tmp_path, '/etc/systemd/system/netdata.service.d/env.conf',
          '[Service]\nEnvironmentFile=-/etc/default/netdata-optional\nEnvironmentFile=/etc/default/netdata\n')
    one = discover(tmp_path)[0]
    assert any('/etc/default/netdata is missing' in e for e in one['evidence']['service_errors'])
    write(tmp_path, '/etc/default/netdata', 'DISABLE_TELEMETRY=1\n')
    one = discover(tmp_path)[0]
    assert one['service']['environment']['DISABLE_TELEMETRY'] == '1'


# ------------------------------------------------------------ running daemon + live hello

class Hello(BaseHTTPRequestHandler):
    answer = b'{"anonymous_statistics":false}'

    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Length', str(len(Hello.answer)))
        self.end_headers()
        self.wfile.write(Hello.answer)

    def log_message(self, *args):
        pass


def fake_daemon(root, pid, exe, environ, cmdline):
    base = os.path.join(str(root), 'proc', str(pid))
    os.makedirs(base)
    write(root, '/proc/stat', 'btime 1700000000\n')
    write(root, '/proc/%d/comm' % pid, 'netdata\n')
    write(root, '/proc/%d/stat' % pid, '%d (netdata) S 1 %s 4200 %s\n' % (pid, ' '.join(['0'] * 17), ' '.join(['0'] * 10)))
    write(root, '/proc/%d/environ' % pid, environ)
    write(root, '/proc/%d/cmdline' % pid, b'\0'.join(cmdline) + b'\0')
    os.symlink(exe, os.path.join(base, 'exe'))


def test_running_daemon_and_live_hello(tmp_path):
    server = HTTPServer(('127.0.0.1', 0), Hello)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever)
    thread.daemon = True
    thread.start()
    try:
        native_tree(tmp_path)
        static_tree(tmp_path)
        port = server.server_address[1]
        fake_daemon(tmp_path, 321, '/usr/sbin/netdata', b'DO_NOT_TRACK=1\0PATH=/bin\0',
                    [b'/usr/sbin/netdata', b'-D', b'-p', str(port).encode()])
        installs = discover(tmp_path)
        native, static = installs
        assert native['daemon'] == {'running': True, 'pid': 321,
                                    'environment': {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}}
        assert native['evidence']['daemon_started_at'] == 1700000000 + 4200.0 / os.sysconf('SC_CLK_TCK')
        live = native['evidence']['live']
        assert live['anonymous_statistics'] is False and live['url'].endswith(':%d/api/v1/registry?action=hello' % port)
        assert static['daemon']['running'] is False and static['evidence']['live'] is None
        assert discover(tmp_path, live_query=False)[0]['evidence']['live'] is None
    finally:
        server.shutdown()
        server.server_close()


def test_live_hello_unreachable_is_an_answer_not_a_crash(tmp_path):
    native_tree(tmp_path)
    write(tmp_path, '/etc/netdata/netdata.conf', '[web]\nbind to = 127.0.0.1:9\n')
    fake_daemon(tmp_path, 55, '/usr/sbin/netdata', b'', [b'/usr/sbin/netdata', b'-D'])
    one = discover(tmp_path, live_timeout=0.5)[0]
    assert one['daemon']['running'] is True
    assert one['daemon']['environment'] == {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None}
    assert one['evidence']['live']['anonymous_statistics'] is None and one['evidence']['live']['error']


def test_runner_that_raises_or_prints_junk(tmp_path):
    native_tree(tmp_path)

    def boom(argv):
        raise RuntimeError('nope')
    one = discover(tmp_path, run_command=boom)[0]
    assert one['version'] is None and any('nope' in e for e in one['errors'])
    one = discover(tmp_path, run_command=lambda argv: (1, 'Segmentation fault', ''))[0]
    assert one['version'] is None and one['version_string'] == 'Segmentation fault'


# ------------------------------------------------------------ the opt-out file as the agent sees it

def _mode_tree(root, mode, uid=0, gid=0, dir_mode=0o755):
    native_tree(root)
    full = os.path.join(str(root), OPTOUT.lstrip('/'))
    os.chown(full, uid, gid)
    os.chmod(full, mode)
    os.chmod(os.path.dirname(full), dir_mode)


@pytest.mark.parametrize('mode,uid,gid,dir_mode,readable,script_found', [
    (0o600, 0, 0, 0o755, False, True),     # touch as root under umask 077
    (0o640, 0, 0, 0o755, False, True),     # touch as root under umask 027
    (0o644, 0, 0, 0o755, True, True),
    (0o640, 0, 995, 0o755, True, True),    # the agent's primary group
    (0o640, 0, 4, 0o755, True, True),      # a supplementary group (adm)
    (0o600, 999, 995, 0o755, True, True),  # the agent owns it
    (0o044, 999, 995, 0o755, False, True),  # owner bits apply to the owner, not group/other
    (0o644, 0, 0, 0o700, False, False),    # the config dir is not searchable for it
    (0o644, 0, 0, 0o711, True, True),      # search without list is enough
])
def test_optout_file_judged_as_the_agent_user(tmp_path, mode, uid, gid, dir_mode, readable, script_found):
    _mode_tree(tmp_path, mode, uid, gid, dir_mode)
    one = discover(tmp_path)[0]
    f = one['optout_file']
    assert f['exists'] is True and f['agent_user'] == 'netdata' and f['start_user'] == 'netdata'
    assert f['readable_by_agent'] is readable, f['reason']
    assert f['readable_at_start'] is readable  # Debian's unit starts it as netdata already
    assert f['script']['found_by_agent'] is script_found, f['script']['reason']
    if not readable:
        assert 'user netdata cannot' in f['reason']


def test_unknown_run_as_user_proves_nothing(tmp_path):
    native_tree(tmp_path)
    write(tmp_path, '/etc/netdata/netdata.conf', '[global]\n  run as user = ghost\n')
    write(tmp_path, '/lib/systemd/system/netdata.service', '[Service]\nExecStart=/usr/sbin/netdata -D\n')
    f = discover(tmp_path)[0]['optout_file']
    assert f['agent_user'] == 'ghost' and f['start_user'] == 'root'
    assert f['readable_by_agent'] is None and 'ghost does not exist' in f['reason']
    assert f['readable_at_start'] is True  # root, before it drops privileges
    assert f['script']['found_by_agent'] is None


def test_start_user_from_unit_and_dropins(tmp_path):
    _mode_tree(tmp_path, 0o600)
    # Netdata's own unit (system/systemd/netdata.service.in v2.10.4): User=root, Group=netdata.
    write(tmp_path, '/etc/systemd/system/netdata.service.d/user.conf', '[Service]\nUser=root\n')
    f = discover(tmp_path)[0]['optout_file']
    assert (f['start_user'], f['agent_user']) == ('root', 'netdata')
    assert f['readable_at_start'] is True and f['readable_by_agent'] is False
    write(tmp_path, '/etc/systemd/system/netdata.service.d/user.conf', '[Service]\nUser=\n')  # reset: root
    assert discover(tmp_path)[0]['optout_file']['start_user'] == 'root'


def test_no_unit_for_the_install_start_user_unknown(tmp_path):
    _mode_tree(tmp_path, 0o600)
    os.remove(os.path.join(str(tmp_path), 'lib/systemd/system/netdata.service'))
    f = discover(tmp_path)[0]['optout_file']
    assert f['start_user'] is None and f['agent_user'] == 'netdata'
    # root would read it, netdata would not: who starts the daemon decides, unknown here.
    assert f['readable_by_agent'] is False and f['readable_at_start'] is None
    os.chmod(os.path.join(str(tmp_path), OPTOUT.lstrip('/')), 0o644)
    assert discover(tmp_path)[0]['optout_file']['readable_at_start'] is True


def test_symlinked_optout_file_is_followed_as_the_kernel_does(tmp_path):
    native_tree(tmp_path, optout=False)
    write(tmp_path, '/srv/private/flag', '')
    os.chmod(os.path.join(str(tmp_path), 'srv/private'), 0o700)
    write(tmp_path, '/srv/public/flag', '')
    link = os.path.join(str(tmp_path), OPTOUT.lstrip('/'))
    os.symlink('../../srv/private/flag', link)
    f = discover(tmp_path)[0]['optout_file']
    assert f['readable_by_agent'] is False and 'cannot search /srv/private' in f['reason']
    os.remove(link)
    os.symlink('../../srv/public/flag', link)
    f = discover(tmp_path)[0]['optout_file']
    assert f['readable_by_agent'] is True and '-> /srv/public/flag' in f['reason']


def test_posix_acl_is_undecidable(tmp_path, monkeypatch):
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery import agent_access
    _mode_tree(tmp_path, 0o600)
    monkeypatch.setattr(agent_access, '_has_acl', lambda host: host.endswith('statistics'))
    f = discover(tmp_path)[0]['optout_file']
    assert f['readable_by_agent'] is None and 'POSIX ACL' in f['reason']


# ------------------------------------------------------------ which netdata.conf, which config dir

def test_config_file_from_exec_start():
    assert config_file_from_exec_start('/usr/sbin/netdata -D -c /srv/nd/netdata.conf') == '/srv/nd/netdata.conf'
    assert config_file_from_exec_start('-/usr/sbin/netdata -D -c/srv/x.conf') == '/srv/x.conf'
    assert config_file_from_exec_start('@/usr/sbin/netdata netdata -c "/srv/a b.conf"') == '/srv/a b.conf'
    assert config_file_from_exec_start('/usr/sbin/netdata -P /run/netdata/netdata.pid -D') is None
    assert config_file_from_exec_start(None) is None


def test_netdata_conf_from_service_exec_start(tmp_path):
    native_tree(tmp_path)
    write(tmp_path, '/etc/netdata/netdata.conf', '[global]\n  crash reports = off\n')
    write(tmp_path, '/srv/nd/netdata.conf', '[web]\n  default port = 20002\n')
    write(tmp_path, '/etc/systemd/system/netdata.service.d/c.conf',
          '[Service]\nExecStart=\nExecStart=/usr/sbin/netdata -D -c /srv/nd/netdata.conf\n')
    one = discover(tmp_path)[0]
    conf = one['netdata_conf']
    assert (conf['path'], conf['source'], conf['crash_reports'], conf['web_port']) == (
        '/srv/nd/netdata.conf', 'service', None, 20002)
    assert one['optout_file']['path'] == OPTOUT  # no [directories] config there
    assert one['errors'] == []


def test_running_daemons_c_beats_the_units(tmp_path):
    native_tree(tmp_path)
    write(tmp_path, '/srv/nd/netdata.conf', '[global]\n  crash reports = all\n')
    write(tmp_path, '/srv/run/netdata.conf', '[global]\n  crash reports = crashes\n')
    write(tmp_path, '/etc/systemd/system/netdata.service.d/c.conf',
          '[Service]\nExecStart=\nExecStart=/usr/sbin/netdata -D -c /srv/nd/netdata.conf\n')
    daemon = {'pid': 7, 'ppid': 1, 'exe': '/usr/sbin/netdata', 'prefix': '/', 'environment': {},
              'started_at': None, 'foreign': False, 'errors': [],
              'args': {'port': None, 'bind_to': None, 'config_file': '/srv/run/netdata.conf'}}
    one = discover(tmp_path, proc_scan={'daemons': [daemon], 'errors': []}, live_query=False)[0]
    assert (one['netdata_conf']['path'], one['netdata_conf']['source']) == ('/srv/run/netdata.conf', 'daemon')
    assert one['netdata_conf']['crash_reports'] == 'crashes'
    daemon['args']['config_file'] = None  # no -c on its command line: the unit's
    one = discover(tmp_path, proc_scan={'daemons': [daemon], 'errors': []}, live_query=False)[0]
    assert one['netdata_conf']['path'] == '/srv/nd/netdata.conf'


def test_c_of_a_unit_that_starts_another_install_is_not_followed(tmp_path):
    native_tree(tmp_path)
    static_tree(tmp_path)
    write(tmp_path, '/srv/nd/netdata.conf', '')
    write(tmp_path, '/lib/systemd/system/netdata.service',
          '[Service]\nExecStart=/opt/netdata/usr/sbin/netdata -D -c /srv/nd/netdata.conf\n')
    native, static = discover(tmp_path)
    assert native['netdata_conf']['path'] == '/etc/netdata/netdata.conf'
    assert static['netdata_conf']['path'] == '/srv/nd/netdata.conf'
    assert static['optout_file']['start_user'] == 'root' and native['optout_file']['start_user'] is None


def test_missing_or_relative_c_is_an_error(tmp_path):
    native_tree(tmp_path)
    write(tmp_path, '/etc/systemd/system/netdata.service.d/c.conf',
          '[Service]\nExecStart=\nExecStart=/usr/sbin/netdata -D -c /srv/none.conf\n')
    one = discover(tmp_path)[0]
    assert one['netdata_conf']['path'] == '/srv/none.conf' and one['netdata_conf']['exists'] is False
    assert any('would not start' in e for e in one['errors'])
    write(tmp_path, '/etc/systemd/system/netdata.service.d/c.conf',
          '[Service]\nExecStart=\nExecStart=/usr/sbin/netdata -D -c nd.conf\n')
    one = discover(tmp_path)[0]
    assert one['netdata_conf']['path'] == '/etc/netdata/netdata.conf'
    assert any('relative path' in e for e in one['errors'])


def test_directories_config_moves_the_daemons_optout_file_not_the_scripts(tmp_path):
    native_tree(tmp_path)  # the file is in /etc/netdata
    write(tmp_path, '/etc/netdata/netdata.conf', '[directories]\n  config = /srv/nd-config/\n')
    os.makedirs(os.path.join(str(tmp_path), 'srv/nd-config'))
    one = discover(tmp_path)[0]
    f = one['optout_file']
    assert (f['path'], f['exists'], f['readable_by_agent']) == (
        '/srv/nd-config/.opt-out-from-anonymous-statistics', False, False)
    assert f['script'] == {'path': OPTOUT, 'exists': True, 'found_by_agent': True,
                           'reason': 'user netdata can see %s (a regular file)' % OPTOUT}
    assert one['netdata_conf']['config_dir'] == '/srv/nd-config'
    write(tmp_path, '/etc/netdata/netdata.conf', '[directories]\n  config = srv/rel\n')
    one = discover(tmp_path)[0]
    assert one['optout_file']['path'] == OPTOUT and any('not an absolute path' in e for e in one['errors'])


# ------------------------------------------------------------ who starts it: user and -c of the mechanism

# Shaped like Netdata's OpenRC script (system/openrc/init.d/netdata.in v2.10.4): no user,
# no -c of its own, NETDATA_EXTRA_ARGS from /etc/conf.d/netdata.
OPENRC_SCRIPT = ('#!/sbin/openrc-run\nNETDATA_PIDFILE="/run/netdata/netdata.pid"\ncommand_prefix="/usr/sbin"\n'
                 'command="${command_prefix}/netdata"\n'
                 'command_args="-P ${NETDATA_PIDFILE} ${NETDATA_EXTRA_ARGS}"\ncommand_args_foreground="-D"\n'
                 'depend() {\n    need net\n}\n'
                 'start_pre() {\n    if [ -z "${supervisor}" ]; then\n        pidfile="${NETDATA_PIDFILE}"\n    fi\n}\n')
UNIT_C = '[Service]\nExecStart=\nExecStart=/usr/sbin/netdata -D -c /srv/unit/netdata.conf\n'


def openrc_host(root, conf_d='', user='netdata'):
    """A host OpenRC runs (/run/openrc) that also has a systemd unit (User=*user*, -c
    /srv/unit/netdata.conf) nobody starts, and a root-only (0600) opt-out file."""
    _mode_tree(root, 0o600)
    write(root, '/etc/systemd/system/netdata.service.d/c.conf', UNIT_C + 'User=%s\n' % user)
    write(root, '/srv/unit/netdata.conf', '[global]\n  crash reports = all\n')
    write(root, '/run/openrc/softlevel', 'default\n')
    write(root, '/etc/init.d/netdata', OPENRC_SCRIPT, 0o755)
    write(root, '/etc/conf.d/netdata', conf_d)


def test_openrc_starts_the_agent_as_root_whatever_the_unit_says(tmp_path):
    """Netdata's OpenRC script starts the agent as root (it switches to its run-as user
    later): a v2.3+ agent reads a root-only opt-out file at start. The unit's User=netdata
    and -c start nothing here."""
    openrc_host(tmp_path, user='netdata')
    one = discover(tmp_path)[0]
    assert one['start']['mechanism'] == 'openrc' and one['start']['starts_this_install'] is True
    f = one['optout_file']
    assert (f['start_user'], f['agent_user']) == ('root', 'netdata')
    assert f['readable_at_start'] is True and f['readable_by_agent'] is False
    assert (one['netdata_conf']['path'], one['netdata_conf']['source']) == ('/etc/netdata/netdata.conf', 'default')
    assert one['errors'] == []


def test_openrc_command_user_and_c_beat_the_unit(tmp_path):
    """The reverse: the unit says root and its own -c; OpenRC starts the agent as netdata
    (supervise-daemon's --user, whatever start-stop-daemon the host has) with the -c of
    NETDATA_EXTRA_ARGS."""
    openrc_host(tmp_path, user='root', conf_d='supervisor=supervise-daemon\ncommand_user="netdata:netdata"\n'
                                              'NETDATA_EXTRA_ARGS="-c /srv/nd/netdata.conf"\n')
    write(tmp_path, '/srv/nd/netdata.conf', '[global]\n  crash reports = off\n')
    one = discover(tmp_path)[0]
    f = one['optout_file']
    assert (f['start_user'], f['agent_user']) == ('netdata', 'netdata')
    assert f['readable_at_start'] is False and f['readable_by_agent'] is False
    conf = one['netdata_conf']
    assert (conf['path'], conf['source'], conf['crash_reports']) == ('/srv/nd/netdata.conf', 'service', 'off')
    write(tmp_path, '/etc/conf.d/netdata', 'supervisor=supervise-daemon\nNETDATA_EXTRA_ARGS="-c /srv/none.conf"\n')
    one = discover(tmp_path)[0]
    assert one['netdata_conf']['path'] == '/srv/none.conf' and one['optout_file']['start_user'] == 'root'
    assert any('OpenRC command_args) does not exist' in e for e in one['errors'])


def test_openrc_user_it_cannot_tell_is_null_not_the_units(tmp_path):
    openrc_host(tmp_path, user='root', conf_d='[ -e /etc/netdata/as-netdata ] && command_user=netdata\n'
                                              'NETDATA_EXTRA_ARGS="$(cat /etc/netdata/args)"\n')
    one = discover(tmp_path)[0]
    f = one['optout_file']
    assert f['start_user'] is None and f['readable_at_start'] is None
    assert 'OpenRC: command_user' in f['reason_at_start']
    assert one['netdata_conf']['path'] == '/etc/netdata/netdata.conf'
    assert any('OpenRC starts this install with arguments that cannot be told' in e for e in one['errors'])


def test_openrc_starting_another_install_starts_nothing_here(tmp_path):
    openrc_host(tmp_path)
    write(tmp_path, '/etc/init.d/netdata', OPENRC_SCRIPT.replace('"/usr/sbin"', '"/opt/netdata/usr/sbin"'))
    one = discover(tmp_path)[0]
    assert one['start']['starts_this_install'] is False
    f = one['optout_file']
    assert f['start_user'] is None and 'OpenRC starts another install' in f['reason_at_start']
    assert one['netdata_conf']['path'] == '/etc/netdata/netdata.conf'


def test_runit_user_and_c_are_not_read(tmp_path):
    _mode_tree(tmp_path, 0o600)
    write(tmp_path, '/etc/systemd/system/netdata.service.d/c.conf', UNIT_C + 'User=root\n')
    write(tmp_path, '/run/runit/.keep', '')
    write(tmp_path, '/etc/sv/netdata/run', '#!/bin/sh\nexec /usr/sbin/netdata -D -c /srv/runit.conf\n')
    one = discover(tmp_path)[0]
    assert one['start']['mechanism'] == 'runit'
    assert one['optout_file']['start_user'] is None and one['optout_file']['readable_at_start'] is None
    assert one['netdata_conf']['path'] == '/etc/netdata/netdata.conf'
    assert any('runit starts this install; its command line (a -c there) is not read' in e for e in one['errors'])


def test_nothing_starts_it_the_unit_still_tells(tmp_path):
    """OpenRC runs the host but has no script for Netdata (mechanism none): the unit, which
    runs this install, is what would start it, as before."""
    openrc_host(tmp_path, user='root')
    os.remove(os.path.join(str(tmp_path), 'etc/init.d/netdata'))
    one = discover(tmp_path)[0]
    assert one['start']['mechanism'] == 'none'
    assert one['optout_file']['start_user'] == 'root' and one['optout_file']['readable_at_start'] is True
    assert one['netdata_conf']['path'] == '/srv/unit/netdata.conf'
