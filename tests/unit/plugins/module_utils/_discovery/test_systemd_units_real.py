# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""systemd_env against systemd 252 itself, on a table of odd unit files and env files.

Every ``expect`` below was measured with systemd 252 (Debian 12's 252.39): its service
manager (run as ``systemd --user`` over a scratch unit dir, see ``systemd_judge.py``)
started each case as a oneshot running ``env -0``. ``test_collector_matches_table``
always runs and holds the collector to those measurements; ``test_real_systemd`` runs
the table through the real manager where it can run and checks both the table and the
collector against it (skipped, with the reason, elsewhere).

``expect`` is the environment the service got, limited to ``T_*``, ``DO_NOT_TRACK``,
``DISABLE_TELEMETRY`` and ``Environment``; ``FAILS`` when systemd did not start the
service (a unit that does not load, a required environment file it refuses).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.systemd_units import service_environment
from ansible_collections.netdata_fleet.telemetry.tests.unit.plugins.module_utils._discovery import systemd_judge

FAILS = 'service does not start'
S = b'[Service]\n'
EF = b'EnvironmentFile=@ENV@/a.env\n'
BOM = b'\xef\xbb\xbf'
MIB = 1024 * 1024


def case(cid, expect, unit=b'', dropins=None, envfiles=None):
    return {'id': cid, 'unit': unit, 'dropins': dropins or {}, 'envfiles': envfiles or {}, 'expect': expect}


CASES = [
    # --- the opt-outs the collector used to miss
    case('bom-dropin', {'DO_NOT_TRACK': '1'},
         dropins={'10-telemetry.conf': BOM + b'[Service]\nEnvironment=DO_NOT_TRACK=1\n'}),
    case('cr-ends-environmentfile-line', {'DO_NOT_TRACK': '1', 'T_B': '2'},
         unit=S + b'EnvironmentFile=@ENV@/a.env\rEnvironment=T_B=2\n', envfiles={'a.env': b'DO_NOT_TRACK=1\n'}),
    case('nul-ends-unit-line', {'T_A': '1', 'DO_NOT_TRACK': '1'},
         unit=S + b'Environment=T_A=1\0Environment=DO_NOT_TRACK=1\n'),
    # --- the opt-outs the collector used to invent
    case('cr-in-envfile-value', {'DISABLE_TELEMETRY': '', 'T_B': 'x', 'T_C': 'q\rr'},
         unit=S + EF, envfiles={'a.env': b'DISABLE_TELEMETRY=\r1\nT_B=x\ry\nT_C="q\rr"\n'}),
    case('x1c-is-no-line-end', {'T_A': '1\x1cEnvironment=T_B=1'}, unit=S + b'Environment=T_A=1\x1cEnvironment=T_B=1\n'),
    case('u0085-is-no-line-end', {'T_A': '1\x85Environment=T_B=1'},
         unit=S + b'Environment=T_A=1\xc2\x85Environment=T_B=1\n'),
    case('u2028-is-no-line-end', {'T_A': '1\u2028Environment=T_B=1'},
         unit=S + b'Environment=T_A=1\xe2\x80\xa8Environment=T_B=1\n'),
    case('vt-ff-are-no-line-end', {'T_A': '1\x0bEnvironment=T_B=1\x0c'},
         unit=S + b'Environment=T_A=1\x0bEnvironment=T_B=1\x0c\n'),
    case('envfile-x1c-vt-ff', {'T_A': '1\x1cT_B=2', 'T_C': '3\x0bT_D=4\x0c'},
         unit=S + EF, envfiles={'a.env': b'T_A=1\x1cT_B=2\nT_C=3\x0bT_D=4\x0c\n'}),
    case('cr-ends-envfile-comment', {'DO_NOT_TRACK': '1'},
         unit=S + EF, envfiles={'a.env': b'# set by hand\rDO_NOT_TRACK=1\n'}),
    case('cr-in-envfile-key', {'T_B': '1'}, unit=S + EF, envfiles={'a.env': b'DO_NOT_TRACK\r=1\nT_B=1\n'}),
    case('envfile-latin1-optional-skipped', {},
         unit=S + b'EnvironmentFile=-@ENV@/a.env\n', envfiles={'a.env': b'DO_NOT_TRACK=1\nT_B=caf\xe9\n'}),
    case('envfile-nul-optional-skipped', {},
         unit=S + b'EnvironmentFile=-@ENV@/a.env\n', envfiles={'a.env': b'DO_NOT_TRACK=1\nT_B=x\0y\n'}),
    case('envfile-nul-required', FAILS,
         unit=S + EF, envfiles={'a.env': b'DO_NOT_TRACK=1\nT_B=x\0y\n'}),
    case('envfile-bad-utf8-key-skipped', {},
         unit=S + b'EnvironmentFile=-@ENV@/a.env\n', envfiles={'a.env': b'T_\xff=1\nDO_NOT_TRACK=1\n'}),
    case('envfile-nonchar-value-skipped', {},
         unit=S + b'EnvironmentFile=-@ENV@/a.env\n', envfiles={'a.env': b'T_A=\xef\xbf\xbe\nDO_NOT_TRACK=1\n'}),
    case('envfile-latin1-comment-is-fine', {'DO_NOT_TRACK': '1', 'T_F': 'x'},
         unit=S + EF, envfiles={'a.env': b'# caf\xe9\nDO_NOT_TRACK=1\nT_F=x\n'}),
    case('envfile-latin1-line-without-equals', {'DO_NOT_TRACK': '1'},
         unit=S + EF, envfiles={'a.env': b'caf\xe9\nDO_NOT_TRACK=1\n'}),
    case('envfile-bom-is-part-of-the-name', {'T_B': '2'}, unit=S + EF, envfiles={'a.env': BOM + b'T_A=1\nT_B=2\n'}),
    # --- unit files: line ends, BOM, comments, continuation lines
    case('cr-ends-unit-line', {'T_A': '1', 'T_B': '2'}, unit=S + b'Environment=T_A=1\rEnvironment=T_B=2\n'),
    case('nul-newline-is-two-line-ends', {'T_A': '1', 'T_B': '1'},
         unit=S + b'Environment=T_A=1\0\nEnvironment=T_B=1\n'),
    case('lf-cr-and-cr-cr-lf', {'T_A': '1', 'T_B': '1', 'T_C': '1'},
         unit=S + b'Environment=T_A=1\n\rEnvironment=T_B=1\r\r\nEnvironment=T_C=1\n'),
    case('bom-on-second-line-stripped-once', {'T_A': '1'},
         dropins={'10.conf': b'[Service]\n' + BOM + b'Environment=T_A=1\n' + BOM + b'Environment=T_B=1\n'}),
    case('bom-before-comment-is-no-comment', {'T_A': '1'},
         dropins={'10.conf': BOM + b'# c\n[Service]\nEnvironment=T_A=1\n'}),
    case('bom-on-later-header', {'T_A': '1', 'T_B': '1'},
         dropins={'10.conf': b'[Service]\nEnvironment=T_A=1\n' + BOM + b'[Service]\nEnvironment=T_B=1\n'}),
    case('continuation-keeps-indent', {'T_A': '1', 'T_B': '2', 'T_C': 'x    y'},
         unit=S + b'Environment=T_A=1 \\\n   T_B=2\nEnvironment="T_C=x \\\n  y"\n'),
    case('continuation-skips-comments', {'T_A': '1', 'T_B': '2'},
         unit=S + b'Environment=T_A=1 \\\n# comment\n; c2\n T_B=2\n'),
    case('continuation-ends-at-blank-line', {'T_A': '1', 'T_B': '2'},
         unit=S + b'Environment=T_A=1 \\\n\nEnvironment=T_B=2\n'),
    case('continuation-at-eof', {'T_A': '1'}, unit=S + b'Environment=T_A=1 \\'),
    case('continuation-lf-cr-is-one-line-end', {'T_A': '1', 'Environment': 'T_B=2'},
         unit=S + b'Environment=T_A=1 \\\n\rEnvironment=T_B=2\n'),
    case('continuation-cr-cr-is-two-line-ends', {'T_A': '1', 'T_B': '2'},
         unit=S + b'Environment=T_A=1 \\\r\rEnvironment=T_B=2\n'),
    case('continuation-nul-lf-is-two-line-ends', {'T_A': '1', 'T_B': '2'},
         unit=S + b'Environment=T_A=1 \\\0\nEnvironment=T_B=2\n'),
    case('continuation-lf-nul-is-one-line-end', {'T_A': '1', 'Environment': 'T_B=2'},
         unit=S + b'Environment=T_A=1 \\\n\0Environment=T_B=2\n'),
    case('comment-with-backslash-does-not-continue', {'T_A': '1'}, unit=S + b'# c \\\nEnvironment=T_A=1\n'),
    case('comment-after-continuation-at-eof', {'T_A': '1'}, unit=S + b'Environment=T_A=1 \\\n# c'),
    case('inline-hash-is-a-word', {'T_A': '1', 'T_B': '2'},
         unit=S + b'Environment=T_A=1 # T_B=2\n  # Environment=T_C=1\n;Environment=T_D=1\n'),
    case('key-whitespace-and-case', {'T_A': '1'},
         unit=S + b'  Environment  =   T_A=1   \nenvironment=T_B=1\n[service]\nEnvironment=T_C=1\n'),
    case('tabs', {'T_A': '1', 'T_B': '2'}, unit=S + b'\tEnvironment\t=\tT_A=1\tT_B=2\t\n'),
    case('vt-is-no-whitespace', {'T_A': '1\x0b'}, unit=S + b'Environment=T_A=1\x0b\n'),
    case('sections', {'T_B': '1'},
         dropins={'10.conf': b'Environment=T_A=1\n[X-Foo]\nEnvironment=T_X=1\n[ Service ]\nEnvironment=T_Y=1\n'
                             b'[Service] \nEnvironment=T_B=1\n[Unit]\nEnvironment=T_C=1\n'}),
    case('line-without-equals-or-key', {'T_B': '1'},
         dropins={'10.conf': b'[Service]\nEnvironment\n=T_X\nEnvironment=T_B=1\n'}),
    # a parse error ends the file: a unit does not load, a drop-in keeps what came before
    case('invalid-utf8-unit', FAILS, unit=S + b'Environment=T_A=1\nEnvironment=T_B=\xff\nEnvironment=T_C=1\n'),
    case('noncharacter-unit', FAILS, unit=S + b'Environment=T_A=\xef\xb7\x90\nEnvironment=T_B=ok\n'),
    case('invalid-utf8-dropin', {'T_A': '1'},
         dropins={'10.conf': b'[Service]\nEnvironment=T_A=1\nEnvironment=T_B=\xff\nEnvironment=T_C=1\n'}),
    case('unclosed-header-dropin', {'T_A': '1'},
         dropins={'10.conf': b'[Service]\nEnvironment=T_A=1\n[Service\nEnvironment=T_C=1\n'}),
    case('junk-after-header-dropin', {'T_A': '1'},
         dropins={'10.conf': b'[Service]\nEnvironment=T_A=1\n[Service]x\nEnvironment=T_B=1\n'}),
    # read_line() gives up on a line of LONG_LINE_MAX (1 MiB) bytes; so does a continuation
    case('line-just-under-1mib', {'T_A': '1', 'T_B': '1'},
         dropins={'10.conf': b'[Service]\nEnvironment=T_A=1\nX-Long=' + b'x' * (MIB - 1 - 7) + b'\nEnvironment=T_B=1\n'}),
    case('line-of-1mib-ends-dropin', {'T_A': '1'},
         dropins={'10.conf': b'[Service]\nEnvironment=T_A=1\nX-Long=' + b'x' * (MIB - 7) + b'\nEnvironment=T_B=1\n'}),
    case('continuation-over-1mib-ends-dropin', {'T_A': '1'},
         dropins={'10.conf': b'[Service]\nEnvironment=T_A=1\nX-Long=' + b'x' * (MIB // 2) + b'\\\n' + b'y' * (MIB // 2)
                             + b'\nEnvironment=T_B=1\n'}),
    case('quote-in-header-ends-dropin', {'T_A': '1'},
         dropins={'10.conf': b'[Service]\nEnvironment=T_A=1\n[Bad"]\n[Service]\nEnvironment=T_B=1\n'}),
    case('empty-dropin', {'T_B': '1'}, dropins={'10.conf': b'', '20.conf': b'[Service]\nEnvironment=T_B=1\n'}),
    # --- Environment= quoting, escapes, specifiers, resets
    case('escapes', {'T_A': 'A', 'T_B': 'A', 'T_C': '\xe9'},
         unit=S + b'Environment=T_A=\\x41 T_B=\\101 T_C=\\u00e9 T_D=\\xff T_E=\\777 T_F=a\\sb\n'),
    case('escapes-bytes-and-surrogates', {'T_A': '\xe9', 'T_B': '\xe9', 'T_D': '4'},
         unit=S + b'Environment=T_A=\\xc3\\xa9 T_B=\\303\\251 T_C=\\ud800 T_D=4\n'),
    case('escape-U', {'T_A': '\U0001F600'}, unit=S + b'Environment=T_A=\\U0001F600 T_B=\\U00110000 T_C=3\n'),
    case('bad-escape-ends-line', {'T_A': '1'}, unit=S + b'Environment=T_A=1 T_B=\\q T_C=3\n'),
    case('nul-escape-ends-line', {'T_A': '1'}, unit=S + b'Environment=T_A=1 T_B=\\x00 T_C=3\n'),
    case('quotes', {'T_A': 'x yz', 'T_B': 'ab cd', 'T_C': '1'},
         unit=S + b'Environment=T_A="x y"z T_B=a\'b c\'d "T_C=1" T_D="unterminated\n'),
    case('quotes-mid-word', {'T_A': 'ab cd ef'}, unit=S + b'Environment=T_A=a"b c"\'d e\'f\n'),
    case('escapes-inside-quotes', {'T_A': 'x\ty', 'T_B': '"q"'},
         unit=S + b'Environment=\'T_A=x\\ty\' "T_B=\\"q\\""\n'),
    case('specifiers', {'T_A': '%', 'T_B': 'case-specifiers.service', 'T_D': '1%', 'T_E': '2'},
         unit=S + b'Environment=T_A=%% T_B=%n T_C=%z T_D=1% T_E=2\n'),
    case('specifiers-name-parts', {'T_A': '', 'T_B': '%n', 'T_C': '%', 'T_D': 'case-specifiers-name-parts',
                                   'T_E': 'parts'},
         unit=S + b'Environment=T_A=%i T_B=%%n T_C=% T_D=%p T_E=%j\n'),
    case('empty-assignment-resets', {'T_B': '2'}, unit=S + b'Environment=T_A=1\nEnvironment=\nEnvironment=T_B=2\n'),
    case('later-word-wins', {'T_A': '3', 'T_B': '4'}, unit=S + b'Environment=T_A=1 T_A=2\nEnvironment=T_A=3 \\u0054_B=4\n'),
    case('words-without-valid-assignment', {'T_B': '1', 'T_C': '=y'}, unit=S + b'Environment=T_A T_B=1 =x T_C==y\n'),
    # --- EnvironmentFile=: paths, "-", globs, resets, order
    case('envfile-syntax', {'T_A': 'spaced', 'T_B': 'sq \\n', 'T_C': 'dq "q" $x \\n', 'T_D': 'ab', 'T_G': '',
                            'T_H': 'unterminated\n'},
         unit=S + EF, envfiles={'a.env': b'# c \\\nT_X=hidden\n T_A = spaced  \nT_B=\'sq \\n\'\n'
                                         b'T_C="dq \\"q\\" \\$x \\n"\nT_D=a\\\nb\nexport T_E=1\nT_F\nT_G=\n'
                                         b'T_H="unterminated\n'}),
    case('envfile-cr-escapes', {'T_A': 'ab', 'T_B': 'x\\\ry', 'T_C': 'c', 'T_D': '1', 'T_E': 'x\\'},
         unit=S + EF, envfiles={'a.env': b'T_A=a\\\rb\nT_B="x\\\ry"\nT_C=c\\\r\nd\n#c\rT_D=1\nT_E=\'x\\\'\n'}),
    case('envfile-quotes-and-spaces', {'T_A': 'val # c', 'T_B': '2', 'T_C': 'a b', 'T_D': 'qx', 'T_E': 'abc', 'T_F': ''},
         unit=S + EF, envfiles={'a.env': b'T_A=val # c\n\tT_B\t=\t2\t\nT_C=a b  \nT_D = "q" x\nT_E="a"\'b\'c\n'
                                         b'=T_X\nT_F=\n'}),
    case('envfile-key-spaces', {'T_B': '2', 'T_C': '3'}, unit=S + EF, envfiles={'a.env': b'T A=1\nT_B =2\n T_C\t= 3\n'}),
    case('envfile-dq-continuation', {'T_A': 'xy', 'T_B': '\\a\\b'},
         unit=S + EF, envfiles={'a.env': b'T_A="x\\\ny"\nT_B="\\a\\b"\n'}),
    case('envfile-eof-backslash', {'T_A': '1'}, unit=S + EF, envfiles={'a.env': b'T_A=1\\'}),
    case('envfile-eof-in-quote', {'T_A': 'abc\n'}, unit=S + EF, envfiles={'a.env': b"T_A='abc\n"}),
    case('envfile-order', {'T_A': '2', 'T_B': 'b', 'T_C': 'env'},
         unit=S + EF + b'EnvironmentFile=@ENV@/b.env\nEnvironment=T_A=env T_C=env\n',
         envfiles={'a.env': b'T_A=1\nT_A=2\nT_B=a\n', 'b.env': b'T_B=b\n'}),
    case('envfile-space-in-path', {'T_A': '1'}, unit=S + b'EnvironmentFile= -@ENV@/a b.env \n',
         envfiles={'a b.env': b'T_A=1\n'}),
    case('envfile-glob', {'T_A': 'b', 'T_B': 'a'}, unit=S + b'EnvironmentFile=@ENV@/*.env\n',
         envfiles={'b.env': b'T_A=b\n', 'a.env': b'T_A=a\nT_B=a\n'}),
    case('envfile-glob-no-match-optional', {'T_A': '1'},
         unit=S + b'EnvironmentFile=-@ENV@/*.none\nEnvironment=T_A=1\n', envfiles={'a.env': b'T_Z=1\n'}),
    case('envfile-glob-no-match-required', FAILS,
         unit=S + b'EnvironmentFile=@ENV@/*.none\nEnvironment=T_A=1\n', envfiles={'a.env': b'T_Z=1\n'}),
    case('envfile-missing-required', FAILS, unit=S + b'EnvironmentFile=@ENV@/missing\nEnvironment=T_A=1\n'),
    case('envfile-reset', {'T_A': '1'}, unit=S + EF + b'EnvironmentFile=\nEnvironment=T_A=1\n',
         envfiles={'a.env': b'T_Z=1\n'}),
    case('envfile-percent', {'T_A': '1'}, unit=S + b'EnvironmentFile=@ENV@/%%a.env\n', envfiles={'%a.env': b'T_A=1\n'}),
    case('envfile-dotdot-ignored', {}, unit=S + b'EnvironmentFile=@ENV@/../envfile-dotdot-ignored/a.env\n',
         envfiles={'a.env': b'T_A=1\n'}),
    case('envfile-relative-ignored', {'T_A': '1'}, unit=S + b'EnvironmentFile=rel.env\nEnvironment=T_A=1\n'),
    case('envfile-quoted-path-ignored', {'T_A': '1'}, unit=S + b'EnvironmentFile="@ENV@/a.env"\nEnvironment=T_A=1\n',
         envfiles={'a.env': b'T_Z=1\n'}),
    case('envfile-component-over-255-ignored', {'T_A': '1'},
         unit=S + b'EnvironmentFile=@ENV@/' + b'a' * 256 + b'\nEnvironment=T_A=1\n'),
    case('envfile-unknown-specifier-ignored', {'T_A': '1'},
         unit=S + b'EnvironmentFile=@ENV@/%z.env\nEnvironment=T_A=1\n', envfiles={'%z.env': b'T_Z=1\n'}),
    case('envfile-directory-required', FAILS, unit=S + b'EnvironmentFile=@ENV@\nEnvironment=T_A=1\n',
         envfiles={'a.env': b'T_Z=1\n'}),
    case('envfile-directory-optional', {'T_A': '1'}, unit=S + b'EnvironmentFile=-@ENV@\nEnvironment=T_A=1\n',
         envfiles={'a.env': b'T_Z=1\n'}),
    case('envfile-glob-skips-dot-files', {'T_V': '1'}, unit=S + b'EnvironmentFile=@ENV@/*\n',
         envfiles={'.h': b'T_H=1\n', 'v': b'T_V=1\n'}),
    case('non-alphanumeric-specifier-stays', {'T_A': '%-x'}, unit=S + b'Environment=T_A=%-x\n'),
    # --- UnsetEnvironment=
    case('unset', {'T_B': '2'}, unit=S + b'Environment=T_A=1 T_B=2 T_C=3\nUnsetEnvironment=T_A T_B=9 T_C=3\n'),
    case('unset-applies-to-envfiles', {}, unit=S + EF + b'UnsetEnvironment=T_A\n', envfiles={'a.env': b'T_A=1\n'}),
    case('unset-empty-resets', {'T_A': '1'},
         unit=S + b'Environment=T_A=1 T_B=2\nUnsetEnvironment=T_A\nUnsetEnvironment=\nUnsetEnvironment=T_B\n'),
    case('unset-quoted-and-escaped', {}, unit=S + b'Environment=T_A=1 "T_B=x y"\nUnsetEnvironment="T_B=x y" \\x54_A\n'),
    case('unset-keeps-words-before-error', {},
         unit=S + b'Environment=T_A=1 T_B=2\nUnsetEnvironment=1bad T_A "unterminated\nUnsetEnvironment=T_B\n'),
]

WATCH = ('DO_NOT_TRACK', 'DISABLE_TELEMETRY', 'Environment')


def watched(environment):
    return dict((k, v) for k, v in environment.items() if k.startswith('T_') or k in WATCH)


def collector_view(tmp_path, one):
    root = str(tmp_path / one['id'])
    name = systemd_judge.materialize(one, root)
    result = service_environment(name, root=root)
    if any('cannot start' in e or 'refuse to start' in e for e in result['errors']):
        return FAILS
    return watched(result['environment'])


@pytest.mark.parametrize('one', CASES, ids=[c['id'] for c in CASES])
def test_collector_matches_table(tmp_path, one):
    assert collector_view(tmp_path, one) == one['expect']


def test_table_ids_are_unique():
    ids = [c['id'] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.fixture(scope='module')
def judged(tmp_path_factory):
    why = systemd_judge.unavailable()
    if why:
        pytest.skip('real systemd not usable here: %s' % why)
    judge = systemd_judge.SystemdJudge(tmp_path_factory.mktemp('systemd-judge'))
    for one in CASES:
        judge.add(one)
    try:
        judge.start()
    except RuntimeError as exc:
        judge.stop()
        pytest.skip('real systemd did not start here: %s' % exc)
    try:
        results = {}
        for one in CASES:
            got = judge.run(one)
            results[one['id']] = watched(got['environment']) if got['started'] else FAILS
        yield results
    finally:
        judge.stop()


@pytest.mark.parametrize('one', CASES, ids=[c['id'] for c in CASES])
def test_real_systemd(judged, tmp_path, one):
    real = judged[one['id']]
    assert real == one['expect'], 'systemd no longer does what the table says'
    assert collector_view(tmp_path, one) == real
