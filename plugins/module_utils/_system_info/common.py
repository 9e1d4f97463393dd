# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every system-info collector shares: a view of the host (files under a root,
commands through an injectable runner, an environment) and the shell's text helpers.

Files are resolved under ``root`` so tests can use a fixture tree. Commands always run
on the live system (or through the injected ``run_command``): root only moves files.

``run_command(argv, env=None) -> (rc, stdout, stderr)``: ``env`` holds *extra*
environment variables (e.g. ``{"LC_NUMERIC": "C"}`` for lscpu); rc 127 means the
command does not exist (what the shell's ``command -v`` checks).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.run import find_executable, run_argv

UNKNOWN = "unknown"
COMMAND_MISSING = 127
COMMAND_TIMEOUT = 124


def make_run_command(environ, timeout=10.0):
    """The default runner: :func:`run_argv` with ``environ`` (its PATH finds commands) and
    a timeout; rc 127 for a command that is missing or cannot start, 124 on timeout.
    Never raises."""
    base_env = dict(environ)

    def run_command(argv, env=None):
        exe = find_executable(argv[0], base_env.get("PATH", os.defpath))
        if exe is None:
            return COMMAND_MISSING, "", "%s: command not found" % argv[0]
        full_env = dict(base_env)
        if env:
            full_env.update(env)
        result = run_argv([exe] + list(argv[1:]), timeout, env=full_env)
        if result.start_error is not None:
            return COMMAND_MISSING, "", str(result.start_error)
        if result.timed_out:
            return COMMAND_TIMEOUT, "", "%s: timed out" % argv[0]
        return result.rc, result.out, result.err

    return run_command


class Host(object):
    """Files under ``root``, commands through ``run_command``, the script's environment."""

    def __init__(self, root="/", run_command=None, environ=None, errors=None):
        self.root = root or "/"
        self.environ = dict(os.environ if environ is None else environ)
        self.run_command = run_command or make_run_command(self.environ)
        self.errors = errors if errors is not None else []

    def path(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def is_file(self, path):
        return os.path.isfile(self.path(path))

    def is_dir(self, path):
        return os.path.isdir(self.path(path))

    def exists(self, path):
        return os.path.exists(self.path(path))

    def readable(self, path):
        """The shell's ``[ -r path ]``."""
        p = self.path(path)
        return os.path.exists(p) and os.access(p, os.R_OK)

    def read(self, path, record_error=True):
        """The file's text (UTF-8, undecodable bytes replaced), or None. Never raises."""
        try:
            with open(self.path(path), "rb") as handle:
                return handle.read().decode("utf-8", "replace")
        except (IOError, OSError) as e:
            if record_error:
                self.errors.append("cannot read %s: %s" % (path, e))
            return None
        except Exception as e:  # e.g. a sysfs attribute that errors on read
            if record_error:
                self.errors.append("cannot read %s: %s" % (path, e))
            return None

    def listdir(self, path):
        try:
            return sorted(os.listdir(self.path(path)))
        except (IOError, OSError):
            return []

    def run(self, argv, env=None):
        """(rc, stdout, stderr); a runner that raises counts as a missing command."""
        try:
            rc, out, err = self.run_command(list(argv), env)
        except Exception as e:
            self.errors.append("cannot run %s: %s" % (argv[0], e))
            return COMMAND_MISSING, "", str(e)
        return rc, out or "", err or ""


def command_output(stdout):
    """``$(cmd)``: the output with trailing newlines removed."""
    return (stdout or "").rstrip("\n")


def grep_fixed(text, needle):
    """Lines of ``text`` containing ``needle`` (``grep -F``)."""
    return [line for line in (text or "").split("\n") if needle in line]


def field_value(line):
    """``cut -f 2 -d ':' | sed 's/^[[:space:]]*//;s/[[:space:]]*$//'``."""
    parts = line.split(":")
    return (parts[1] if len(parts) > 1 else parts[0]).strip()


def first_value(text, needle, starts=False):
    """Field 2 of the first line with ``needle`` (at the start when ``starts``), or None."""
    for line in (text or "").split("\n"):
        if (line.startswith(needle) if starts else needle in line):
            return field_value(line)
    return None


def to_int(value):
    """An int from a decimal string, else None."""
    try:
        value = value.strip()
        if value.lstrip("-").isdigit():
            return int(value)
    except AttributeError:
        pass
    return None
