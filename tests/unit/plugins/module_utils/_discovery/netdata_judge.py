# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask real Netdata daemons what a netdata.conf says: ``netdata -c FILE -W get SECTION KEY DEFAULT``.

``-W get`` (``src/daemon/main.c``, v1.37.1 and v2.10.4) loads the file with the daemon's own
``appconfig_load``/``inicfg_load``, runs the backwards-compatibility moves and prints the
value (or DEFAULT) without starting anything. It still runs inside ``unshare --net
--mount`` (no network) with throwaway tmpfs over Netdata's state dirs: v1.37.1 writes
``/var/lib/netdata/dbengine_multihost_size`` while it prepares.

Binaries: Debian's 1.37.1 at ``/usr/sbin/netdata``; v2.10.4 from the shared tarball
``<repo>/../shared/netdata-v2/netdata-v2.10.4-debian12-amd64.tar.gz`` (unpacked into a
scratch dir by :func:`v2_binary`).
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess
import tarfile

# the checkout itself, not the .build/collections link to it: the tarball sits next to it
REPO = os.path.realpath(os.path.join(os.path.dirname(os.path.realpath(__file__)), '..', '..', '..', '..', '..'))
V1_BINARY = '/usr/sbin/netdata'
V2_TARBALL = os.path.join(os.path.dirname(REPO), 'shared', 'netdata-v2', 'netdata-v2.10.4-debian12-amd64.tar.gz')
V2_MEMBER = 'opt/netdata/usr/sbin/netdata'
STATE_DIRS = ('/var/lib/netdata', '/var/cache/netdata', '/var/log/netdata')


def _namespace_problem():
    if shutil.which('unshare') is None:
        return 'unshare (util-linux) is not installed'
    probe = subprocess.run(['unshare', '--net', '--mount', '--fork', 'true'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, check=False)
    if probe.returncode != 0:
        return 'cannot make a private mount+net namespace: %s' % probe.stderr.decode('utf-8', 'replace').strip()
    return None


def _version(binary):
    out = run_netdata(binary, ['-v'])
    return out.decode('utf-8', 'replace').strip()


def v1_binary():
    """``(path, None)`` or ``(None, why not)``."""
    if not os.access(V1_BINARY, os.X_OK):
        return None, '%s is not installed (Debian package netdata-core 1.37.1)' % V1_BINARY
    problem = _namespace_problem()
    if problem:
        return None, problem
    version = _version(V1_BINARY)
    if version != 'netdata v1.37.1':
        return None, '%s is %r, expectations were measured with v1.37.1' % (V1_BINARY, version)
    return V1_BINARY, None


def v2_binary(scratch):
    """Unpack the v2.10.4 daemon under *scratch*: ``(path, None)`` or ``(None, why not)``."""
    if not os.path.isfile(V2_TARBALL):
        return None, '%s is missing' % V2_TARBALL
    problem = _namespace_problem()
    if problem:
        return None, problem
    dest = os.path.join(str(scratch), 'netdata-v2')
    binary = os.path.join(dest, V2_MEMBER)
    if not os.path.exists(binary):
        os.makedirs(os.path.dirname(binary))
        # only the daemon itself is needed; it reads no other file of the tarball for -W get
        with tarfile.open(V2_TARBALL) as tar:
            data = tar.extractfile(V2_MEMBER).read()
        with open(binary, 'wb') as handle:
            handle.write(data)
        os.chmod(binary, 0o755)
    version = _version(binary)
    if version != 'netdata v2.10.4':
        return None, '%s is %r, expected v2.10.4' % (binary, version)
    return binary, None


def run_netdata(binary, args, timeout=60):
    """Run *binary* with *args* in a private net+mount namespace; its stdout (bytes)."""
    script = ('for d in %s; do [ -d "$d" ] && mount -t tmpfs tmpfs "$d"; done; exec "$@"'
              % ' '.join(STATE_DIRS))
    proc = subprocess.run(
        ['unshare', '--net', '--mount', '--fork', 'sh', '-c', script, 'sh', binary] + list(args),
        env={'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        timeout=timeout, check=False)
    return proc.stdout


def netdata_get(binary, conf_path, section, key, default):
    """What *binary* reads for ``[section] key`` in *conf_path* (bytes, no trailing newline)."""
    out = run_netdata(binary, ['-c', conf_path, '-W', 'get', section, key, default])
    if not out.endswith(b'\n'):
        raise RuntimeError('%s -W get printed %r' % (binary, out[-200:]))
    # -W get prints only the value and a newline (printf("%s\n", value)); v1.37.1 logs
    # to stderr.
    return out[:-1].split(b'\n')[-1]
