# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netdata.conf as the real daemons read it: ``[global] crash reports`` on odd files.

Every ``expect`` was measured with ``netdata -c FILE -W get global 'crash reports' X``
of Debian's 1.37.1 and of v2.10.4 (both agree on every case; see ``netdata_judge.py``);
``UNSET`` is what they print when the file does not set the option. The reader
(``netdata_conf``) and the editor (``netdata_conf_edit``) are held to the table
always; ``test_real_netdata`` re-measures it where the binaries are at hand and also
checks that every file the editor writes reads as ``off`` for the real daemons.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.netdata_conf import (
    read_netdata_conf, telemetry_settings)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout.conf_edit import (
    effective_crash_reports, ensure_crash_reports, remove_managed_crash_reports)
from ansible_collections.netdata_fleet.telemetry.tests.unit.plugins.module_utils._discovery import netdata_judge

UNSET = None
G = b'[global]\n    crash reports = off\n'
PAD = b'x' * 8190   # '#' + PAD is 8191 bytes: one full fgets() buffer

CASES = [
    ('plain', G, b'off'),
    # fgets(buffer, 8192, fp): 8191 bytes at a time; the rest of a long line is a line of its own
    ('long-comment-tail-is-an-option', G + b'#' + PAD + b'crash reports = all\n', b'all'),
    ('long-comment-one-byte-shorter', G + b'#' + PAD[1:] + b'crash reports = all\n', b'off'),
    ('long-comment-one-byte-longer', G + b'#' + PAD + b'xcrash reports = all\n', b'off'),
    ('long-comment-tail-is-a-header', b'[web]\n#' + PAD + b'[global]\ncrash reports = all\n', b'all'),
    ('long-value-spaces', b'[global]\ncrash reports = off' + b' ' * 8200 + b'\n', b'off'),
    ('long-value-tail-is-an-option', b'[global]\ncrash reports = off ' + b'y' * 8171 + b'crash reports = all\n',
     b'all'),
    ('two-long-lines', G + b'#' + PAD + b'#' + PAD + b'crash reports = all\n', b'all'),
    # a NUL ends the line for Netdata (C string); the rest up to the newline is never seen
    ('nul-cuts-the-line', b'[global]\ncrash reports = all\0crash reports = off\n', b'all'),
    ('nul-starts-a-line', b'[global]\ncrash reports = all\n\0crash reports = off\n', b'all'),
    ('nul-hides-a-header', b'[global]\ncrash reports = all\n\0[web]\ncrash reports = off\n', b'off'),
    ('nul-hides-global', b'[web]\ncrash reports = all\n\0[global]\ncrash reports = off\n', UNSET),
    # line ends, spaces, encodings
    ('crlf', b'[global]\r\ncrash reports = off\r\n', b'off'),
    ('bare-cr-is-no-line-end', b'[global]\rcrash reports = off\n', UNSET),
    ('bom-is-no-space', b'\xef\xbb\xbf[global]\ncrash reports = off\n', UNSET),
    ('tabs-and-spaces', b'[global]\n\t crash reports\t=\t off \t\n', b'off'),
    ('vt-ff-are-spaces', b'[global]\n\x0bcrash reports = off\x0c\n', b'off'),
    ('inner-double-space', b'[global]\ncrash  reports = off\n', UNSET),
    ('latin1-byte-kept', b'[global]\ncrash reports = off\xe9\n', b'off\xe9'),
    ('nbsp-is-no-space', b'[global]\ncrash reports = \xc2\xa0all\n', b'\xc2\xa0all'),
    ('u0085-is-no-space', b'[global]\ncrash reports = off\xc2\x85\n', b'off\xc2\x85'),
    ('no-final-newline', b'[global]\ncrash reports = all', b'all'),
    ('empty-value', b'[global]\ncrash reports =\n', b''),
    ('equals-in-value', b'[global]\ncrash reports = a=b\n', b'a=b'),
    # sections
    ('section-with-spaces', b'[ global ]\ncrash reports = off\n', UNSET),
    ('section-capitalised', b'[Global]\ncrash reports = off\n', UNSET),
    ('section-trailing-space', b'[global]  \ncrash reports = off\n', b'off'),
    ('section-with-comment-is-no-header', b'[web]\n[global] # x\ncrash reports = off\n', UNSET),
    ('empty-section-name', b'[]\ncrash reports = off\n', UNSET),
    ('before-any-section', b'crash reports = off\n[global]\n', UNSET),
    ('daemon-section-is-no-alias', b'[daemon]\ncrash reports = off\n', UNSET),
    ('repeated-section-merges', b'[global]\ncrash reports = off\n[web]\nx=1\n[global]\ncrash reports = all\n', b'all'),
    # keys, comments
    ('last-of-two-wins', b'[global]\ncrash reports = all\ncrash reports = off\n', b'off'),
    ('semicolon-is-no-comment', b'[global]\n; crash reports = off\n', UNSET),
    ('hash-comment', b'[global]\n #crash reports = off\n', UNSET),
    ('key-case', b'[global]\nCrash Reports = off\n', UNSET),
    ('inline-comment-is-value', b'[global]\ncrash reports = off # c\n', b'off # c'),
    ('no-include-directive', b'include /etc/other.conf\n@include x\n[global]\ncrash reports = off\n', b'off'),
]
IDS = [c[0] for c in CASES]


def _text(value):
    return None if value is None else value.decode('utf-8', 'replace')


@pytest.mark.parametrize('name,data,expect', CASES, ids=IDS)
def test_reader_matches_table(tmp_path, name, data, expect):
    assert telemetry_settings(data)['crash_reports'] == _text(expect)
    path = tmp_path / 'netdata.conf'
    path.write_bytes(data)
    read = read_netdata_conf('/netdata.conf', root=str(tmp_path))
    assert read['crash_reports'] == _text(expect)
    assert read['complete'] is True


@pytest.mark.parametrize('name,data,expect', CASES, ids=IDS)
def test_editor_matches_table(name, data, expect):
    assert effective_crash_reports(data)['value'] == _text(expect)
    new, changed, note = ensure_crash_reports(data)
    if note.startswith('refused'):
        assert (new, changed) == (data, False)
        return
    if not changed:
        # "unchanged" only for a file Netdata already reads as off
        assert expect == b'off', note
        return
    assert telemetry_settings(new)['crash_reports'] == 'off'
    assert ensure_crash_reports(new)[1] is False
    back, _unused, _unused = remove_managed_crash_reports(new)
    assert effective_crash_reports(back)['value'] == telemetry_settings(back)['crash_reports']


def test_editor_refuses_an_edit_that_would_move_fgets_cuts():
    # the effective line is a full 8191-byte piece: writing a shorter value would move
    # where Netdata cuts the rest of the physical line
    data = (b'[global]\n#' + PAD + b'crash reports = crashes' + b'y' * 8168 + b'[web]\n')
    assert effective_crash_reports(data)['value'].startswith('crashesy')
    new, changed, note = ensure_crash_reports(data)
    assert (new, changed) == (data, False)
    assert note.startswith('refused: netdata.conf has a line longer than 8191 bytes')


def test_reader_gives_up_past_its_limit(tmp_path, monkeypatch):
    from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery import netdata_conf
    monkeypatch.setattr(netdata_conf, 'MAX_FILE_BYTES', 100)
    (tmp_path / 'netdata.conf').write_bytes(G + b'#' * 200 + b'\n[global]\ncrash reports = all\n')
    read = netdata_conf.read_netdata_conf('/netdata.conf', root=str(tmp_path))
    assert read['complete'] is False and read['crash_reports'] is None
    assert 'settings are unknown' in read['errors'][0]


@pytest.fixture(scope='module')
def binaries(tmp_path_factory):
    found = {}
    reasons = []
    v1, why = netdata_judge.v1_binary()
    if v1:
        found['v1.37.1'] = v1
    else:
        reasons.append('1.37.1: %s' % why)
    v2, why = netdata_judge.v2_binary(tmp_path_factory.mktemp('netdata-v2'))
    if v2:
        found['v2.10.4'] = v2
    else:
        reasons.append('v2.10.4: %s' % why)
    return found, reasons


@pytest.mark.parametrize('version', ['v1.37.1', 'v2.10.4'])
@pytest.mark.parametrize('name,data,expect', CASES, ids=IDS)
def test_real_netdata(binaries, tmp_path, version, name, data, expect):
    found, reasons = binaries
    if version not in found:
        pytest.skip('real Netdata not usable here: %s' % '; '.join(reasons))
    binary = found[version]
    conf = tmp_path / 'netdata.conf'
    conf.write_bytes(data)
    real = netdata_judge.netdata_get(binary, str(conf), 'global', 'crash reports', '<unset>')
    assert (None if real == b'<unset>' else real) == expect, 'Netdata no longer reads the file as the table says'
    new, changed, _unused = ensure_crash_reports(data)
    if changed:
        conf.write_bytes(new)
        assert netdata_judge.netdata_get(binary, str(conf), 'global', 'crash reports', '<unset>') == b'off'
