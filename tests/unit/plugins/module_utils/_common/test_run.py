# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""run_argv, the one runner, with real processes; and the two contracts built on it
(installs' rc None, system_info's 127/124)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import time

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.run import find_executable, run_argv
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.installs import default_run_command
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.common import (
    COMMAND_MISSING, COMMAND_TIMEOUT, make_run_command)

SH = '/bin/sh'
SLEEP = find_executable('sleep', '/usr/bin:/bin')


def executable(path, text, mode=0o755):
    with open(str(path), 'w') as handle:
        handle.write(text)
    os.chmod(str(path), mode)
    return str(path)


# ---------------------------------------------------------------- run_argv

def test_exit_status_and_output_decoded_with_undecodable_bytes_replaced():
    result = run_argv([SH, '-c', 'printf "a\\377"; printf e >&2; exit 3'], 5)
    assert (result.rc, result.out, result.err) == (3, u'a\ufffd', u'e')
    assert result.start_error is None and result.timed_out is False


def test_stdin_is_dev_null():
    # cat would wait for input forever with an inherited terminal or pipe
    result = run_argv([SH, '-c', 'cat; readlink /proc/self/fd/0 || true'], 5)
    assert result.rc == 0 and result.out.strip() == '/dev/null'


def test_env_is_the_whole_environment():
    result = run_argv([SH, '-c', 'echo "$ONLY|${HOME-unset}"'], 5, env={'ONLY': 'x', 'PATH': '/usr/bin:/bin'})
    assert result.out == 'x|unset\n'


def test_without_env_the_process_environment_is_inherited(monkeypatch):
    monkeypatch.setenv('NETDATA_FLEET_RUN_TEST', 'inherited')
    assert run_argv([SH, '-c', 'echo "$NETDATA_FLEET_RUN_TEST"'], 5).out == 'inherited\n'


def test_inheritable_descriptors_are_closed():
    read_end, write_end = os.pipe()
    try:
        os.set_inheritable(write_end, True)
        result = run_argv([SH, '-c', 'test -e /proc/self/fd/%d && echo open || echo closed' % write_end], 5)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert result.out == 'closed\n'


@pytest.mark.skipif(SLEEP is None, reason='no sleep binary')
def test_timeout_kills_the_command():
    started = time.monotonic()
    result = run_argv([SLEEP, '30'], 0.3)
    assert time.monotonic() - started < 10
    assert result == (None, '', '', None, True)


def test_start_errors_are_reported_never_raised(tmp_path):
    missing = run_argv([str(tmp_path / 'missing')], 5)
    assert missing.rc is None and missing.start_error.errno == errno.ENOENT
    not_executable = run_argv([executable(tmp_path / 'plain', 'echo hi\n', 0o644)], 5)
    assert not_executable.start_error.errno == errno.EACCES
    no_format = run_argv([executable(tmp_path / 'noshebang', '\x7fELF junk')], 5)
    assert no_format.start_error.errno == errno.ENOEXEC
    nul = run_argv([SH, '-c', 'echo \x00'], 5)
    assert isinstance(nul.start_error, ValueError) and nul.timed_out is False


# ---------------------------------------------------------------- find_executable

def test_find_executable(tmp_path, monkeypatch):
    first, second = tmp_path / 'a', tmp_path / 'b'
    first.mkdir()
    second.mkdir()
    executable(first / 'tool', 'x', 0o644)       # not executable: skipped
    (first / 'dir').mkdir()                      # a directory: skipped
    found = executable(second / 'tool', '#!/bin/sh\n')
    path = '%s:%s' % (first, second)
    assert find_executable('tool', path) == found
    assert find_executable('dir', path) is None
    assert find_executable('missing', path) is None
    assert find_executable(found, '') == found              # a name with / is taken as is
    assert find_executable(str(first / 'tool'), path) is None
    monkeypatch.chdir(str(second))
    assert find_executable('tool', ':/nonexistent') == './tool'  # an empty entry is the cwd


# ---------------------------------------------------------------- the callers' contracts

def test_installs_contract_rc_none_when_it_did_not_complete(tmp_path):
    assert default_run_command([SH, '-c', 'echo v1.37.1; exit 2']) == (2, 'v1.37.1\n', '')
    rc, out, err = default_run_command([str(tmp_path / 'netdata'), '-v'])
    assert (rc, out) == (None, '') and err.startswith('cannot run %s: [Errno 2]' % (tmp_path / 'netdata'))
    if SLEEP is not None:
        assert default_run_command([SLEEP, '30'], timeout=0.3) == (None, '', '%s timed out after 0.3s' % SLEEP)


def test_system_info_contract_127_and_124(tmp_path):
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    executable(bin_dir / 'show', '#!/bin/sh\necho "$LC_NUMERIC|$BASE|$#"\n')
    executable(bin_dir / 'broken', '\x7fELF junk')
    run = make_run_command({'PATH': str(bin_dir), 'BASE': 'b', 'LC_NUMERIC': 'de_DE'}, timeout=0.3)
    # PATH comes from the given environment, extra variables override it for one call
    assert run(['show', 'x']) == (0, 'de_DE|b|1\n', '')
    assert run(['show'], env={'LC_NUMERIC': 'C'}) == (0, 'C|b|0\n', '')
    assert run(['lscpu']) == (COMMAND_MISSING, '', 'lscpu: command not found')
    rc, out, err = run(['broken'])
    assert (rc, out) == (COMMAND_MISSING, '') and 'Exec format error' in err
    if SLEEP is not None:
        assert run([SLEEP, '30']) == (COMMAND_TIMEOUT, '', '%s: timed out' % SLEEP)
