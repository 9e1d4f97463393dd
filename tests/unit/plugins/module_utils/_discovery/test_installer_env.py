# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.installer_env import (
    installer_environment, parse_etc_environment, parse_shell_exports)


def write(root, path, text):
    full = os.path.join(str(root), path.lstrip('/'))
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, 'w') as handle:
        handle.write(text)


def test_parse_etc_environment():
    text = '# c\nPATH="/usr/bin"\nDO_NOT_TRACK=1\nexport DISABLE_TELEMETRY=\'1\'\nbad line\nX="unbalanced\n'
    assert parse_etc_environment(text) == [
        ('PATH', '/usr/bin'), ('DO_NOT_TRACK', '1'), ('DISABLE_TELEMETRY', '1'), ('X', '"unbalanced')]


def test_parse_shell_exports_forms():
    ops = parse_shell_exports(
        'export A=1\n'
        'B=2; export B\n'
        'export C="3 3"  # comment\n'
        "D='x'\n"
        'E=5 some_command\n'
        'if [ -z "$F" ]; then export F=1; fi\n'
        'unset A\n'
        'declare -x G=7\n'
        'H=$(date)\n')
    sets = [(name, value) for op, name, value, _unused in ops if op == 'set']
    exports = [name for op, name, _unused, _unused in ops if op == 'export']
    assert ('A', '1') in sets and ('B', '2') in sets and ('C', '3 3') in sets and ('D', 'x') in sets
    assert ('F', '1') in sets and ('G', '7') in sets
    assert 'E' not in [n for n, _unused in sets]  # a per-command assignment does not change the shell
    assert exports[:3] == ['A', 'B', 'C'] and 'F' in exports and 'G' in exports and 'D' not in exports
    assert ('unset', 'A', None, False) in ops
    assert [u for op, name, _unused, u in ops if name == 'H'] == [True]


def test_installer_environment_views(tmp_path):
    write(tmp_path, '/etc/environment', 'DO_NOT_TRACK=1\nLANG=C\n')
    write(tmp_path, '/etc/profile.d/10-a.sh', 'DISABLE_TELEMETRY=1; export DISABLE_TELEMETRY\n')
    write(tmp_path, '/etc/profile.d/20-b.sh', 'DO_NOT_TRACK=0\n')  # already exported: changes it
    write(tmp_path, '/etc/profile.d/30-c.sh', 'export UNRELATED=1\n')
    write(tmp_path, '/etc/profile.d/40-d.csh', 'setenv DO_NOT_TRACK 5\n')  # not sourced by sh
    result = installer_environment(root=str(tmp_path))
    assert result['environment'] == {'DO_NOT_TRACK': '0', 'DISABLE_TELEMETRY': '1'}
    assert result['cron_environment'] == {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}
    assert result['sources'] == ['/etc/environment', '/etc/profile.d/10-a.sh', '/etc/profile.d/20-b.sh']
    assert result['errors'] == []


def test_unexported_and_unset(tmp_path):
    write(tmp_path, '/etc/profile.d/a.sh', 'DO_NOT_TRACK=1\nexport DISABLE_TELEMETRY=1\n')
    write(tmp_path, '/etc/profile.d/b.sh', 'unset DISABLE_TELEMETRY\n')
    result = installer_environment(root=str(tmp_path))
    assert result['environment'] == {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None}


def test_nothing_and_odd_files(tmp_path):
    assert installer_environment(root=str(tmp_path)) == {
        'environment': {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None},
        'cron_environment': {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None},
        'sources': [], 'errors': []}
    os.makedirs(str(tmp_path / 'etc/environment'))
    os.makedirs(str(tmp_path / 'etc/profile.d'))
    os.mkfifo(str(tmp_path / 'etc/profile.d/fifo.sh'))
    (tmp_path / 'etc/profile.d/bin.sh').write_bytes(b'\x7fELF\x00\x00export DO_NOT_TRACK=1')
    result = installer_environment(root=str(tmp_path))
    assert len(result['errors']) == 3
    assert result['environment']['DO_NOT_TRACK'] is None


def test_expansion_is_flagged(tmp_path):
    write(tmp_path, '/etc/profile.d/a.sh', 'export DO_NOT_TRACK="$SOMETHING"\n')
    result = installer_environment(root=str(tmp_path))
    assert result['environment']['DO_NOT_TRACK'] == '$SOMETHING'
    assert any('shell expansion' in e for e in result['errors'])
