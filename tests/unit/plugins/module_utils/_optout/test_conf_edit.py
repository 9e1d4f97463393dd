# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netdata_conf_edit: byte-preserving [global] crash reports edits.

Parsing rules follow appconfig_load (libnetdata/config/appconfig.c v1.37.1) and
inicfg_load (src/libnetdata/inicfg/inicfg_conf_file.c v2.11.0): split on \\n, trim
isspace, '#' lines skipped, exact case-sensitive section and option names, the last
repeated option wins, no inline comments.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout.conf_edit import (
    MANAGED_MARKER,
    effective_crash_reports,
    ensure_crash_reports,
    remove_managed_crash_reports,
)

M = MANAGED_MARKER


def survives(original, new, skip=None):
    """Every original line (but the 1-based line ``skip``) is still in ``new``, in order."""
    new_lines = new.split(b'\n')
    pos = 0
    for number, line in enumerate(original.split(b'\n'), 1):
        if number == skip:
            continue
        while pos < len(new_lines) and new_lines[pos] != line:
            pos += 1
        assert pos < len(new_lines), 'line lost: %r' % line
        pos += 1


CASES = [
    # id, input, expected output, expected note prefix
    ('missing-file', None,
     b'[global]\n    ' + M + b'\n    crash reports = off\n', 'created'),
    ('empty-file', b'',
     b'[global]\n    ' + M + b'\n    crash reports = off\n', 'created'),
    ('no-global-section-appended',
     b'[web]\n    default port = 19999\n',
     b'[web]\n    default port = 19999\n\n[global]\n    ' + M + b'\n    crash reports = off\n',
     'added'),
    ('no-global-no-final-newline',
     b'[web]\n\tbind to = *',
     b'[web]\n\tbind to = *\n\n[global]\n    ' + M + b'\n    crash reports = off\n', 'added'),
    ('global-without-key-inserted-after-header-tab-indent',
     b'# netdata.conf\n[global]\n\t# hostname = x\n\thostname = a\n[web]\n\tx = 1\n',
     b'# netdata.conf\n[global]\n\t' + M + b'\n\tcrash reports = off\n\t# hostname = x\n'
     b'\thostname = a\n[web]\n\tx = 1\n', 'added'),
    ('global-header-last-line-no-newline',
     b'[web]\nx = 1\n[global]',
     b'[web]\nx = 1\n[global]\n    ' + M + b'\n    crash reports = off\n', 'added'),
    ('crlf-file-new-lines-use-crlf',
     b'[global]\r\n  hostname = a\r\n',
     b'[global]\r\n  ' + M + b'\r\n  crash reports = off\r\n  hostname = a\r\n', 'added'),
    ('crlf-replace-keeps-cr',
     b'[global]\r\n  crash reports = all\r\n',
     b'[global]\r\n  ' + M + b'\r\n  crash reports = off\r\n', 'replaced'),
    ('on-replaced-in-place-odd-spacing',
     b'[global]\n\tcrash reports=on   \n',
     b'[global]\n\t' + M + b'\n\tcrash reports=off   \n', 'replaced'),
    ('empty-value-filled',
     b'[global]\ncrash reports =\n',
     b'[global]\n' + M + b'\ncrash reports = off\n', 'replaced'),
    ('commented-out-stays-and-real-line-added',
     b'[global]\n    # crash reports = on\n',
     b'[global]\n    ' + M + b'\n    crash reports = off\n    # crash reports = on\n', 'added'),
    ('other-section-key-is-not-global',
     b'[web]\n    crash reports = all\n',
     b'[web]\n    crash reports = all\n\n[global]\n    ' + M + b'\n    crash reports = off\n',
     'added'),
    ('case-differs-is-another-key',
     b'[global]\n    Crash Reports = all\n',
     b'[global]\n    ' + M + b'\n    crash reports = off\n    Crash Reports = all\n', 'added'),
    ('capital-section-is-another-section',
     b'[Global]\n    crash reports = all\n',
     b'[Global]\n    crash reports = all\n\n[global]\n    ' + M + b'\n    crash reports = off\n',
     'added'),
    ('two-globals-last-key-edited',
     b'[global]\n  crash reports = off\n[web]\n[global]\n  crash reports = all\n',
     b'[global]\n  crash reports = off\n[web]\n[global]\n  ' + M + b'\n  crash reports = off\n',
     'replaced'),
    ('two-globals-no-key-first-gets-it',
     b'[global]\n  a = 1\n[web]\n[global]\n  b = 2\n',
     b'[global]\n  ' + M + b'\n  crash reports = off\n  a = 1\n[web]\n[global]\n  b = 2\n', 'added'),
    ('lines-before-any-section-ignored',
     b'crash reports = off\n',
     b'crash reports = off\n\n[global]\n    ' + M + b'\n    crash reports = off\n', 'added'),
    ('inline-comment-is-part-of-value',
     b'[global]\n crash reports = off # mine\n',
     b'[global]\n ' + M + b'\n crash reports = off\n', 'replaced'),
    ('bom-first-line-is-not-a-header',
     b'\xef\xbb\xbf[global]\n',
     b'\xef\xbb\xbf[global]\n\n[global]\n    ' + M + b'\n    crash reports = off\n', 'added'),
]


@pytest.mark.parametrize('content,expected,note', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_ensure_crash_reports(content, expected, note):
    new, changed, msg = ensure_crash_reports(content)
    assert new == expected
    assert changed is True
    assert msg.startswith(note)
    if content:
        edited = effective_crash_reports(content)['line'] if note == 'replaced' else None
        survives(content, new, skip=edited)
    # idempotent
    again, changed2, msg2 = ensure_crash_reports(new)
    assert (again, changed2) == (new, False)
    assert msg2.startswith('unchanged')
    assert effective_crash_reports(new)['value'] == 'off'


@pytest.mark.parametrize('content', [
    b'[global]\n    crash reports = off\n',
    b'[global]\n\tcrash reports=off\r\n',
    b'[global]\n    crash reports = all\n    crash reports = off\n',
], ids=['already-off', 'already-off-odd-spacing-crlf', 'last-one-wins-already-off'])
def test_ensure_unchanged(content):
    assert ensure_crash_reports(content) == (content, False, ensure_crash_reports(content)[2])
    assert ensure_crash_reports(content)[2].startswith('unchanged')


@pytest.mark.parametrize('content', [
    b'[global]\n\x00crash reports = on\n',
    b'[global]\n  hostname = \xff\xfe\n',
], ids=['nul-bytes', 'invalid-utf8'])
def test_refuses_binary_or_invalid(content):
    new, changed, note = ensure_crash_reports(content)
    assert (new, changed) == (content, False)
    assert note.startswith('refused:')
    new, changed, note = remove_managed_crash_reports(content)
    assert (new, changed) == (content, False)
    assert note.startswith('refused:')


@pytest.mark.parametrize('value', ['', ' off', 'off\n', '#x', 5], ids=['empty', 'space', 'nl', 'hash', 'int'])
def test_refuses_bad_value(value):
    new, changed, note = ensure_crash_reports(b'[global]\n', value)
    assert (new, changed) == (b'[global]\n', False)
    assert note.startswith('refused:')


def test_other_value_all():
    new, changed, _unused = ensure_crash_reports(b'[global]\n  crash reports = off\n', 'all')
    assert new == b'[global]\n  ' + M + b'\n  crash reports = all\n'
    assert changed


# -- opt-in: remove only the managed line -----------------------------------------

def test_remove_round_trip_restores_original():
    original = b'# top\n[global]\n\thostname = a\n[web]\n\tdefault port = 19999\n'
    added, _unused, _unused = ensure_crash_reports(original)
    back, changed, note = remove_managed_crash_reports(added)
    assert back == original
    assert changed is True
    assert note.startswith('removed: 2 managed line(s)')


def test_remove_round_trip_crlf():
    original = b'[global]\r\n  hostname = a\r\n'
    back, changed, _unused = remove_managed_crash_reports(ensure_crash_reports(original)[0])
    assert (back, changed) == (original, True)


def test_remove_created_file_leaves_empty_global():
    created = ensure_crash_reports(None)[0]
    back, changed, note = remove_managed_crash_reports(created)
    assert back == b'[global]\n'
    assert changed and 'user setting' not in note


def test_remove_leaves_user_off_and_reports_it():
    content = b'[global]\n    crash reports = off\n'
    back, changed, note = remove_managed_crash_reports(content)
    assert (back, changed) == (content, False)
    assert 'user setting: [global] crash reports = off (line 2) keeps crash reports off' in note


def test_remove_reports_user_on_value_as_off():
    # status-file.c check_crash_reports_config (v2.3.0..v2.11.0): only "all"/"crashes" are on
    content = b'[global]\n    crash reports = on\n'
    _unused, _unused, note = remove_managed_crash_reports(content)
    assert 'keeps crash reports off' in note


def test_remove_managed_but_user_line_below_remains():
    content = b'[global]\n  ' + M + b'\n  crash reports = off\n  crash reports = crashes\n'
    back, changed, note = remove_managed_crash_reports(content)
    assert back == b'[global]\n  crash reports = crashes\n'
    assert changed and 'keeps crash reports on' in note


def test_remove_orphan_marker_and_missing_file():
    assert remove_managed_crash_reports(b'[global]\n  ' + M + b'\n  hostname = a\n')[0] == \
        b'[global]\n  hostname = a\n'
    assert remove_managed_crash_reports(None) == (None, False, 'unchanged: netdata.conf does not exist')


def test_replaced_user_line_becomes_managed_and_is_removed_on_opt_in():
    content = b'[global]\n  crash reports = all\n'
    new, _unused, note = ensure_crash_reports(content)
    assert 'now managed' in note
    assert remove_managed_crash_reports(new)[0] == b'[global]\n'


def test_effective_crash_reports():
    assert effective_crash_reports(b'[global]\n a = 1\n') == {'value': None, 'line': None, 'managed': False}
    assert effective_crash_reports(b'[global]\n crash reports = all\n[global]\ncrash reports=  crashes \n') == \
        {'value': 'crashes', 'line': 4, 'managed': False}
    assert effective_crash_reports(ensure_crash_reports(None)[0])['managed'] is True
    assert effective_crash_reports(b'\x00')['value'] is None
    assert effective_crash_reports(None)['value'] is None


# -- what Netdata's fgets() reads (8191-byte pieces, NUL ends a line) -----------------

LONG = b'#' + b'x' * 8190   # one full 8191-byte fgets() piece


def test_long_comment_tail_is_read_like_netdata():
    content = b'[global]\n    crash reports = off\n' + LONG + b'crash reports = all\n'
    assert effective_crash_reports(content) == {'value': 'all', 'line': 3, 'managed': False}
    new, changed, note = ensure_crash_reports(content)
    assert changed and note.startswith('replaced: [global] crash reports = all with off (line 3)')
    assert new == b'[global]\n    crash reports = off\n' + LONG + M + b'\ncrash reports = off\n'
    assert effective_crash_reports(new)['value'] == 'off'
    assert ensure_crash_reports(new)[2].startswith('unchanged')
    back, changed, note = remove_managed_crash_reports(new)
    assert back == b'[global]\n    crash reports = off\n' + LONG
    assert changed and 'crash reports = off (line 2) keeps crash reports off' in note


def test_long_comment_tail_can_be_a_header():
    content = b'[web]\n' + LONG + b'[global]\ncrash reports = all\n'
    assert effective_crash_reports(content)['value'] == 'all'
    new, changed, _unused = ensure_crash_reports(content)
    assert changed and effective_crash_reports(new)['value'] == 'off'


def test_nul_ends_the_line_for_the_reader_and_the_editor_refuses():
    content = b'[global]\ncrash reports = all\x00crash reports = off\n'
    assert effective_crash_reports(content)['value'] == 'all'
    assert ensure_crash_reports(content)[2].startswith('refused:')
