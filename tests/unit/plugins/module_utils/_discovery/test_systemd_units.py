# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest


from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery import systemd_units as systemd_env
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.systemd_units import (
    environment_file_spec, parse_environment_assignments, parse_environment_file, parse_unit_file,
    parse_unit_text, read_lines, service_environment, split_systemd_words, utf8_valid)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'fixtures', 'discovery')


def write(root, path, text):
    full = os.path.join(str(root), path.lstrip('/'))
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, 'w') as handle:
        handle.write(text)
    return full


def debian_unit():
    with open(os.path.join(FIXTURES, 'debian-1.37.1', 'netdata.service')) as handle:
        return handle.read()


# ------------------------------------------------------------ parsers

def test_parse_unit_text_sections_comments_continuation():
    entries = parse_unit_text(
        '[Unit]\nDescription=x\n'
        '[Service]\n'
        '# comment\n; another\n'
        'Environment=A=1 \\\n'
        '# comment inside a continuation is skipped\n'
        '  B=2\n'
        'Environment=C=3 # not a comment\n'
        '\r\nExecStart=/usr/sbin/netdata -D\r\n')
    assert entries == [
        ('Unit', 'Description', 'x'),
        # the backslash becomes a space and the next line is appended as it is (conf-parser.c)
        ('Service', 'Environment', 'A=1    B=2'),
        ('Service', 'Environment', 'C=3 # not a comment'),
        ('Service', 'ExecStart', '/usr/sbin/netdata -D'),
    ]


@pytest.mark.parametrize('value, words', [
    ('A=1 B=2', ['A=1', 'B=2']),
    ('"VAR1=word1 word2" VAR2=word3 "VAR3=$word 5 6"', ['VAR1=word1 word2', 'VAR2=word3', 'VAR3=$word 5 6']),
    ("A='x y' B=\"q\\\"z\"", ['A=x y', 'B=q"z']),
    ('A=a\\tb', ['A=a\tb']),
    ('A=\\x41', ['A=A']),
])
def test_split_systemd_words(value, words):
    assert split_systemd_words(value) == (words, None)


def test_split_unterminated_quote_keeps_earlier_words():
    words, error = split_systemd_words('A=1 "B=2')
    assert words == ['A=1']
    assert 'unterminated' in error


def test_parse_environment_assignments():
    assert parse_environment_assignments('') == (None, [])
    assert parse_environment_assignments('DO_NOT_TRACK=1 DISABLE_TELEMETRY=') == (
        [('DO_NOT_TRACK', '1'), ('DISABLE_TELEMETRY', '')], [])
    pairs, errors = parse_environment_assignments('1BAD=x noequals GOOD=%%y')
    assert pairs == [('GOOD', '%y')]
    assert len(errors) == 2


def test_parse_environment_file():
    text = (
        '# comment\n; comment\n'
        'A=1\n'
        '  B = spaced value   \n'
        "C='single $x \\n'\n"
        'D="dq \\"q\\" \\$x \\n"\n'
        'E=line\\\ncontinued\n'
        'export F=1\n'
        'noequals\n'
        'G=\n'
        'A=2\n')
    pairs, errors = parse_environment_file(text)
    # a repeated name keeps its first place and takes the last value (strv_env_replace)
    assert pairs == [
        ('A', '2'), ('B', 'spaced value'), ('C', 'single $x \\n'), ('D', 'dq "q" $x \\n'),
        ('E', 'linecontinued'), ('G', '')]
    assert any('export F' in e for e in errors)


@pytest.mark.parametrize('data, lines', [
    # fileio.c read_line(): one of each of LF/CR plus a NUL make one line end
    (b'a\nb', [b'a', b'b']),
    (b'a\r\nb\n\rc\r\rd', [b'a', b'b', b'c', b'', b'd']),
    (b'a\n\nb', [b'a', b'', b'b']),
    (b'a\0b\0\nc\n\0d\r\n\0e', [b'a', b'b', b'', b'c', b'd', b'e']),
    (b'a\x0bb\x0cc\x1cd\xc2\x85e\xe2\x80\xa8f\n', [b'a\x0bb\x0cc\x1cd\xc2\x85e\xe2\x80\xa8f']),
    (b'', []),
    (b'\n', [b'']),
])
def test_read_lines(data, lines):
    assert read_lines(data) == (lines, None)


def test_read_lines_and_units_stop_at_a_long_line():
    assert read_lines(b'a\n' + b'x' * 9 + b'\nb', limit=10) == ([b'a', b'x' * 9, b'b'], None)
    lines, error = read_lines(b'a\n' + b'x' * 10 + b'\nb', limit=10)
    assert lines == [b'a'] and 'line 2 is 10 bytes or longer' in error
    entries, error = parse_unit_file(b'[Service]\nEnvironment=A=1\nEnvironment=B=' + b'x' * (1024 * 1024) + b'\n')
    assert entries == [('Service', 'Environment', 'A=1')] and 'longer' in error


def test_parse_unit_file_errors_stop_parsing():
    assert parse_unit_file(b'[Service]\nA=1\n[Bad"]\nB=2\n') == (
        [('Service', 'A', '1')], 'line 3: bad characters in section header \'[Bad"]\'')
    assert parse_unit_file(b'[Service]\nA=1\n[Service\nB=2\n')[1] == "line 3: invalid section header '[Service'"


def test_utf8_valid_like_systemd():
    assert utf8_valid(b'caf\xc3\xa9 \xf0\x9f\x98\x80')
    for bad in (b'\xff', b'\xc0\x80', b'\xed\xa0\x80', b'\xef\xb7\x90', b'\xef\xbf\xbe', b'\xf4\x90\x80\x80'):
        assert not utf8_valid(bad), bad


@pytest.mark.parametrize('value, spec', [
    ('/etc/default/netdata', b'/etc/default/netdata'),
    ('-/etc//default/./netdata/', b'-/etc/default/netdata'),
    ('-/etc/%%x', b'-/etc/%x'),
    ('/etc/%n.env', b'/etc/netdata.service.env'),
])
def test_environment_file_spec(value, spec):
    assert environment_file_spec(value, systemd_env.Specifiers('netdata.service')) == (spec, None)


@pytest.mark.parametrize('value, why', [
    ('relative', 'not an absolute path'),
    ('-/etc/../x', 'not normalized'),
    ('/etc/%z', 'unknown specifier'),
    ('/etc/%H.env', 'unresolved'),
])
def test_environment_file_spec_ignored(value, why):
    spec, error = environment_file_spec(value, systemd_env.Specifiers('netdata.service'))
    assert spec is None and why in error


def test_environment_file_refused_whole():
    assert parse_environment_file(b'DO_NOT_TRACK=1\nX=\x00\n')[0] is None
    pairs, errors = parse_environment_file(b'DO_NOT_TRACK=1\nX=caf\xe9\n')
    assert pairs is None and 'invalid UTF-8' in errors[0]


def test_environment_file_over_64_mib(tmp_path, monkeypatch):
    monkeypatch.setattr(systemd_env, 'READ_FULL_BYTES_MAX', 20)
    write(tmp_path, '/etc/default/big', 'DO_NOT_TRACK=1\n' + '#' * 20 + '\n')
    write(tmp_path, '/lib/systemd/system/netdata.service', '[Service]\nEnvironmentFile=-/etc/default/big\n')
    result = service_environment(root=str(tmp_path))
    assert result['environment'] == {} and 'larger than 20 bytes' in result['errors'][0]
    write(tmp_path, '/lib/systemd/system/netdata.service', '[Service]\nEnvironmentFile=/etc/default/big\n')
    assert 'refuse to start' in service_environment(root=str(tmp_path))['errors'][0]


def test_big_unit_file_is_not_cut_silently(tmp_path, monkeypatch):
    monkeypatch.setattr(systemd_env, 'MAX_FILE_BYTES', 30)
    write(tmp_path, '/lib/systemd/system/netdata.service', '[Service]\n')
    write(tmp_path, '/etc/systemd/system/netdata.service.d/x.conf', '[Service]\n#' + 'x' * 30 + '\nEnvironment=DO_NOT_TRACK=1\n')
    result = service_environment(root=str(tmp_path))
    assert any('larger than 30 bytes, not read' in e for e in result['errors'])


def test_host_specifiers_stay_as_written():
    pairs, errors = parse_environment_assignments('DO_NOT_TRACK=%H X=%m', systemd_env.Specifiers('netdata.service'))
    assert pairs == [('DO_NOT_TRACK', '%H'), ('X', '%m')]
    assert len(errors) == 2 and 'depends on the host' in errors[0]
    # the manager's DefaultEnvironment= has no unit: %n is an unknown specifier there
    assert parse_environment_assignments('A=%n B=1', systemd_env.Specifiers())[0] == [('B', '1')]


def test_dropin_with_bom_and_cr_opt_out(tmp_path):
    write(tmp_path, '/lib/systemd/system/netdata.service', debian_unit())
    full = write(tmp_path, '/etc/systemd/system/netdata.service.d/10-telemetry.conf', '')
    with open(full, 'wb') as handle:
        handle.write(b'\xef\xbb\xbf[Service]\r\nEnvironment=DO_NOT_TRACK=1\r\n')
    result = service_environment(root=str(tmp_path))
    assert result['environment']['DO_NOT_TRACK'] == '1' and result['errors'] == []


# ------------------------------------------------------------ collector

def test_real_debian_unit_has_no_telemetry_env(tmp_path):
    write(tmp_path, '/lib/systemd/system/netdata.service', debian_unit())
    result = service_environment(root=str(tmp_path))
    assert result['unit'] == '/lib/systemd/system/netdata.service'
    assert result['environment'] == {'netdata_LOG_LOCATION': '/var/log/netdata/log'}
    assert result['exec_start'] == '/usr/sbin/netdata -D'
    assert result['masked'] is False and result['dropins'] == [] and result['errors'] == []


def test_no_unit(tmp_path):
    result = service_environment(root=str(tmp_path))
    assert result['unit'] is None and result['environment'] == {} and result['errors'] == []


def test_first_unit_wins(tmp_path):
    write(tmp_path, '/lib/systemd/system/netdata.service', '[Service]\nEnvironment=FROM=lib\n')
    write(tmp_path, '/etc/systemd/system/netdata.service', '[Service]\nEnvironment=FROM=etc\n')
    result = service_environment(root=str(tmp_path))
    assert result['unit'] == '/etc/systemd/system/netdata.service'
    assert result['environment'] == {'FROM': 'etc'}


def test_dropins_merge_by_name_and_order(tmp_path):
    write(tmp_path, '/lib/systemd/system/netdata.service', debian_unit())
    write(tmp_path, '/lib/systemd/system/netdata.service.d/10-telemetry.conf',
          '[Service]\nEnvironment=DO_NOT_TRACK=from-lib\n')
    # same name in /etc replaces the /lib one
    write(tmp_path, '/etc/systemd/system/netdata.service.d/10-telemetry.conf',
          '[Service]\nEnvironment=DO_NOT_TRACK=1\n')
    write(tmp_path, '/run/systemd/system/netdata.service.d/20-later.conf',
          '[Service]\nEnvironment="DISABLE_TELEMETRY=1"\n')
    write(tmp_path, '/etc/systemd/system/netdata.service.d/05-early.conf',
          '[Service]\nEnvironment=DISABLE_TELEMETRY=0\n')
    write(tmp_path, '/etc/systemd/system/netdata.service.d/30-wrong-section.conf',
          '[Unit]\nEnvironment=DO_NOT_TRACK=ignored\n')
    write(tmp_path, '/etc/systemd/system/netdata.service.d/notaconf.txt',
          '[Service]\nEnvironment=DO_NOT_TRACK=ignored\n')
    result = service_environment(root=str(tmp_path))
    assert result['dropins'] == [
        '/etc/systemd/system/netdata.service.d/05-early.conf',
        '/etc/systemd/system/netdata.service.d/10-telemetry.conf',
        '/run/systemd/system/netdata.service.d/20-later.conf',
        '/etc/systemd/system/netdata.service.d/30-wrong-section.conf',
    ]
    assert result['environment']['DO_NOT_TRACK'] == '1'
    assert result['environment']['DISABLE_TELEMETRY'] == '1'


def test_empty_environment_resets(tmp_path):
    write(tmp_path, '/lib/systemd/system/netdata.service', debian_unit())
    write(tmp_path, '/etc/systemd/system/netdata.service.d/override.conf',
          '[Service]\nEnvironment=\nEnvironment=DO_NOT_TRACK=1\n')
    result = service_environment(root=str(tmp_path))
    assert result['environment'] == {'DO_NOT_TRACK': '1'}


def test_masked_unit_symlink_and_empty(tmp_path):
    os.makedirs(str(tmp_path / 'etc/systemd/system'))
    write(tmp_path, '/lib/systemd/system/netdata.service', debian_unit())
    os.symlink('/dev/null', str(tmp_path / 'etc/systemd/system/netdata.service'))
    result = service_environment(root=str(tmp_path))
    assert result['masked'] is True
    assert result['unit'] == '/etc/systemd/system/netdata.service'
    assert result['environment'] == {}
    os.unlink(str(tmp_path / 'etc/systemd/system/netdata.service'))
    write(tmp_path, '/etc/systemd/system/netdata.service', '')
    assert service_environment(root=str(tmp_path))['masked'] is True


def test_masked_dropin_is_skipped(tmp_path):
    write(tmp_path, '/lib/systemd/system/netdata.service', '[Service]\n')
    write(tmp_path, '/lib/systemd/system/netdata.service.d/telemetry.conf', '[Service]\nEnvironment=DO_NOT_TRACK=1\n')
    os.makedirs(str(tmp_path / 'etc/systemd/system/netdata.service.d'))
    os.symlink('/dev/null', str(tmp_path / 'etc/systemd/system/netdata.service.d/telemetry.conf'))
    result = service_environment(root=str(tmp_path))
    assert result['environment'] == {} and result['dropins'] == []


def test_environment_file_overrides_environment_regardless_of_order(tmp_path):
    write(tmp_path, '/etc/default/netdata', 'DO_NOT_TRACK=from-file\n')
    write(tmp_path, '/lib/systemd/system/netdata.service',
          '[Service]\nEnvironmentFile=/etc/default/netdata\nEnvironment=DO_NOT_TRACK=from-env\n')
    result = service_environment(root=str(tmp_path))
    assert result['environment'] == {'DO_NOT_TRACK': 'from-file'}
    assert result['environment_files'] == ['/etc/default/netdata']


def test_environment_file_optional_missing_and_relative(tmp_path):
    write(tmp_path, '/lib/systemd/system/netdata.service',
          '[Service]\nEnvironmentFile=-/etc/default/absent\nEnvironment=X=1\n')
    result = service_environment(root=str(tmp_path))
    assert result['errors'] == [] and result['environment'] == {'X': '1'}

    write(tmp_path, '/lib/systemd/system/netdata.service',
          '[Service]\nEnvironmentFile=/etc/default/absent\nEnvironmentFile=relative/file\n')
    result = service_environment(root=str(tmp_path))
    assert any('/etc/default/absent is missing' in e for e in result['errors'])
    assert any('not an absolute path' in e for e in result['errors'])


def test_environment_file_that_is_a_directory_or_fifo(tmp_path):
    os.makedirs(str(tmp_path / 'etc/default/netdata'))
    os.mkfifo(str(tmp_path / 'etc/default/fifo'))
    write(tmp_path, '/lib/systemd/system/netdata.service',
          '[Service]\nEnvironmentFile=/etc/default/netdata\nEnvironmentFile=-/etc/default/fifo\n')
    result = service_environment(root=str(tmp_path))  # must not block on the FIFO
    assert len([e for e in result['errors'] if 'not a regular file' in e]) == 2


def test_environment_file_glob_and_reset(tmp_path):
    write(tmp_path, '/etc/netdata-env/a.env', 'A=1\n')
    write(tmp_path, '/etc/netdata-env/b.env', 'A=2\nB=2\n')
    write(tmp_path, '/etc/default/old', 'OLD=1\n')
    write(tmp_path, '/lib/systemd/system/netdata.service',
          '[Service]\nEnvironmentFile=/etc/default/old\nEnvironmentFile=\nEnvironmentFile=/etc/netdata-env/*.env\n')
    result = service_environment(root=str(tmp_path))
    assert result['environment'] == {'A': '2', 'B': '2'}


def test_unset_and_manager_default_environment(tmp_path):
    write(tmp_path, '/etc/systemd/system.conf', '[Manager]\nDefaultEnvironment=DO_NOT_TRACK=1 KEEP=x\n')
    write(tmp_path, '/etc/systemd/system.conf.d/50-telemetry.conf', '[Manager]\nDefaultEnvironment=DISABLE_TELEMETRY=1\n')
    write(tmp_path, '/lib/systemd/system/netdata.service', '[Service]\nUnsetEnvironment=KEEP=y DISABLE_TELEMETRY\n')
    result = service_environment(root=str(tmp_path))
    assert result['environment'] == {'DO_NOT_TRACK': '1', 'KEEP': 'x'}
    assert result['manager_files'] == ['/etc/systemd/system.conf', '/etc/systemd/system.conf.d/50-telemetry.conf']


def test_unit_is_a_directory_and_binary_junk(tmp_path):
    os.makedirs(str(tmp_path / 'etc/systemd/system/netdata.service'))
    result = service_environment(root=str(tmp_path))
    assert result['unit'] == '/etc/systemd/system/netdata.service'
    assert any('not a regular file' in e for e in result['errors'])

    junk = tmp_path / 'j'
    (junk / 'lib/systemd/system').mkdir(parents=True)
    (junk / 'lib/systemd/system/netdata.service').write_bytes(b'\x00\xff\xfe\n[Service]\nEnvironment=A=1\n\x00\x01')
    result = service_environment(root=str(junk))
    # line 2 (\xff\xfe) is not UTF-8: systemd stops there and the unit does not load
    assert result['environment'] == {}
    assert any('line 2: not valid UTF-8' in e and 'cannot start' in e for e in result['errors'])


def test_same_dir_through_symlink_is_read_once(tmp_path):
    write(tmp_path, '/usr/lib/systemd/system/netdata.service', '[Service]\n')
    write(tmp_path, '/usr/lib/systemd/system/netdata.service.d/x.conf', '[Service]\nEnvironment=A=1\n')
    os.symlink('usr/lib', str(tmp_path / 'lib'))
    result = service_environment(root=str(tmp_path))
    assert result['unit'] == '/lib/systemd/system/netdata.service'
    assert result['dropins'] == ['/lib/systemd/system/netdata.service.d/x.conf']
