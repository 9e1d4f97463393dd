# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest


from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.netdata_conf import (
    netdata_lines, parse_bind_to, parse_netdata_ini, parse_port, read_netdata_conf, telemetry_settings)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'discovery')


def test_parse_ini_rules():
    text = ('# comment\r\nouter = ignored\r\n[global]\r\n  crash reports = off  \r\n'
            '; not a comment = kept\r\n[web]\r\nbind to = 1.2.3.4\r\nnoequals\r\n'
            '[global]\r\n crash reports = all\r\nCrash Reports = X\r\nvalue = a = b # c\r\n')
    sections = parse_netdata_ini(text)
    assert sections['global'] == {
        'crash reports': 'all', '; not a comment': 'kept', 'Crash Reports': 'X', 'value': 'a = b # c'}
    assert sections['web'] == {'bind to': '1.2.3.4'}
    assert 'outer' not in str(sections)


@pytest.mark.parametrize('value, expected', [
    (None, ('127.0.0.1', 19999)),
    ('', ('127.0.0.1', 19999)),
    ('*', ('127.0.0.1', 19999)),
    ('0.0.0.0', ('127.0.0.1', 19999)),
    ('::', ('127.0.0.1', 19999)),  # Netdata reads up to the first ':' -> empty -> any
    ('[::]:20000', ('::1', 20000)),
    ('localhost', ('127.0.0.1', 19999)),
    ('127.0.0.5=dashboard|registry 10.0.0.1', ('127.0.0.5', 19999)),
    ('unix:/run/netdata/netdata.sock 10.0.0.1:1234', ('10.0.0.1', 1234)),
    ('udp:1.1.1.1 tcp:127.0.0.2:555', ('127.0.0.2', 555)),
    ('[fe80::1%eth0]:8080=streaming', ('fe80::1', 8080)),
    ('192.168.1.1%eth0:81', ('192.168.1.1', 81)),
    ('127.0.0.1,10.0.0.1', ('127.0.0.1', 19999)),
    ('unix:/run/netdata.sock', (None, None)),
])
def test_parse_bind_to(value, expected):
    assert parse_bind_to(value) == expected


def test_parse_port():
    assert parse_port('20000') == 20000
    assert parse_port('0') == 19999
    assert parse_port('junk') == 19999


def test_old_and_new_names_precedence():
    old = telemetry_settings('[global]\nbind socket to IP = 127.0.0.3\nport = 1111\ndefault port = 2222\n')
    assert (old['web_address'], old['web_port']) == ('127.0.0.3', 1111)
    new = telemetry_settings('[global]\nbind socket to IP = 127.0.0.3\n[web]\nbind to = 127.0.0.4\ndefault port = 3333\n')
    assert (new['web_address'], new['web_port']) == ('127.0.0.4', 3333)
    assert telemetry_settings('[web]\nmode = none\n')['web_enabled'] is False
    assert telemetry_settings('[directories]\nlib = /data/netdata\n')['lib_dir'] == '/data/netdata'
    assert telemetry_settings('[global]\ncrash reports = off\n')['crash_reports'] == 'off'
    assert telemetry_settings('')['crash_reports'] is None


def test_debian_1_37_1_netdata_conf(tmp_path):
    path = os.path.join(FIXTURES, 'debian-1.37.1', 'netdata.conf')
    with open(path) as handle:
        settings = telemetry_settings(handle.read())
    assert settings == {'crash_reports': None, 'web_address': '127.0.0.1', 'web_port': 19999,
                        'web_enabled': True, 'lib_dir': None, 'run_as_user': 'netdata',
                        'user_config_dir': None}


def test_run_as_user_and_user_config_dir():
    # [directories] config wins over the old [global] config directory, which
    # config_move() carries over only when the new name is unset.
    both = telemetry_settings('[global]\n config directory = /old\n run as user = nd\n'
                              '[directories]\n config = /srv/nd-config\n')
    assert both['user_config_dir'] == '/srv/nd-config' and both['run_as_user'] == 'nd'
    assert telemetry_settings('[global]\n config directory = /old\n')['user_config_dir'] == '/old'
    unset = telemetry_settings('[directories]\n lib = /x\n')
    assert unset['user_config_dir'] is None and unset['run_as_user'] is None
    assert telemetry_settings('[global]\n run as user =\n')['run_as_user'] == ''


def test_read_missing_dir_fifo_and_junk(tmp_path):
    missing = read_netdata_conf('/etc/netdata/netdata.conf', root=str(tmp_path))
    assert missing['exists'] is False and missing['errors'] == [] and missing['web_port'] == 19999
    os.makedirs(str(tmp_path / 'a/netdata.conf'))
    as_dir = read_netdata_conf('/a/netdata.conf', root=str(tmp_path))
    assert as_dir['exists'] is True and 'not a regular file' in as_dir['errors'][0]
    os.mkfifo(str(tmp_path / 'fifo.conf'))
    assert 'not a regular file' in read_netdata_conf('/fifo.conf', root=str(tmp_path))['errors'][0]
    (tmp_path / 'junk.conf').write_bytes(b'\x00\xff\xfe\x89PNG\r\n[global]\ncrash reports = off\n\x00')
    junk = read_netdata_conf('/junk.conf', root=str(tmp_path))
    assert junk['crash_reports'] == 'off' and junk['errors'] and junk['mtime'] is not None
    assert 'a NUL ends its line' in junk['errors'][0] and junk['complete'] is True
    assert as_dir['complete'] is False and missing['complete'] is True


def test_netdata_lines_are_fgets_pieces():
    # fgets(buffer, 8192, fp): at most 8191 bytes a piece; a NUL ends what Netdata sees
    data = b'a\r\n' + b'#' * 8191 + b'tail = 1 \n' + b'b = 1\x00c = 2\nlast'
    assert list(netdata_lines(data)) == [b'a', b'#' * 8191, b'tail = 1', b'b = 1', b'last']
    assert list(netdata_lines(b'#' * 8191 + b'\n')) == [b'#' * 8191, b'']


def test_text_and_bytes_read_alike():
    data = b'[global]\n#' + b'x' * 8190 + b'crash reports = all\n'
    assert parse_netdata_ini(data) == parse_netdata_ini(data.decode('utf-8')) == {'global': {'crash reports': 'all'}}
    assert parse_netdata_ini(None) == {} and parse_netdata_ini('') == {}
