# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one way collectors run a command on the target: :func:`run_argv`.

Not ``AnsibleModule.run_command``: it has no timeout (a hung ``netdata -v`` or runtime
CLI would hang the module), it expands ``~`` and ``$VARS`` in the arguments by default,
and the collectors also run without a module (unit tests call them directly, fixture
roots run the fixture's stand-ins).

What a caller makes of a command that could not start or timed out (an rc of None, or
the shell's 127 and 124) is the caller's contract: :func:`run_argv` only reports it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import subprocess
from collections import namedtuple

from ansible.module_utils.common.text.converters import to_text

# rc: the exit status (None when it did not start or timed out); out, err: decoded as
# UTF-8, undecodable bytes replaced; start_error: the OSError or ValueError that kept it
# from starting (None when it started); timed_out: killed after the timeout.
RunResult = namedtuple('RunResult', 'rc out err start_error timed_out')


def find_executable(name, path):
    """What the shell's ``command -v`` finds: *name* itself when it holds a ``/``, else the
    first executable regular file named *name* in the ``:``-separated *path* (an empty
    entry is the current directory); None when there is none."""
    if "/" in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    for directory in (path or "").split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def run_argv(argv, timeout, env=None):
    """Run *argv* (no shell, stdin from /dev/null, no inherited descriptors) within
    *timeout* seconds, killing it then. *env*: its whole environment (None: this
    process's). Returns a :data:`RunResult`; never raises for a command that cannot start
    (missing, not executable, a NUL byte in an argument)."""
    try:
        # Popen on purpose: a possibly hung binary needs a timeout, which run_command lacks,
        # and a collector has no AnsibleModule (it never raises; tests call it directly).
        # pylint: disable-next=ansible-bad-function
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, close_fds=True, env=env)
    except (OSError, ValueError) as exc:
        return RunResult(None, '', '', exc, False)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return RunResult(None, '', '', None, True)
    return RunResult(proc.returncode, to_text(out, errors='replace'), to_text(err, errors='replace'), None, False)
