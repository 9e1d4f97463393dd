# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A v2.10.4 daemon started by hand, with no service unit that starts it.

Judged by the real daemon in tests/lab_integration/test_v2_judge_lab.py (the hand-started
hosts): with DISABLE_TELEMETRY=1 in its environment it answered hello false and posted no
status report; with defaults or DO_NOT_TRACK=1 it answered true and posted. The facts used
to call crash reports "unknown" ("daemon analytics is unknown") in all three, because the
next start's environment came only from a unit: an agent entirely off read "not opted
out". The running daemon's environment (/proc/PID/environ) is what it decided with, and,
with no unit, the only evidence of how it is started.

Everything below runs the real collectors over a fake root (its /proc included), then
the rules, as netdata_facts does on a host.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import gather_netdata_facts

PID = 4242


def _write(root, path, data, mode=None):
    full = os.path.join(str(root), path.lstrip('/'))
    if not os.path.isdir(os.path.dirname(full)):
        os.makedirs(os.path.dirname(full))
    with open(full, 'wb' if isinstance(data, bytes) else 'w') as handle:
        handle.write(data)
    if mode is not None:
        os.chmod(full, mode)


def _static_v2_by_hand(root, environ, unit=False):
    """/opt/netdata as kickstart-static leaves it, its daemon started by hand
    (`DISABLE_TELEMETRY=1 /opt/netdata/usr/sbin/netdata -D`), no opt-out file."""
    _write(root, '/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nnetdata:x:999:995::/opt/netdata/var/lib/netdata:/usr/sbin/nologin\n')
    _write(root, '/etc/group', 'root:x:0:\nnetdata:x:995:\n')
    _write(root, '/opt/netdata/etc/netdata/netdata.conf', '[db]\n\tmode = ram\n')
    _write(root, '/opt/netdata/etc/netdata/.install-type', "INSTALL_TYPE='kickstart-static'\n")
    _write(root, '/opt/netdata/usr/sbin/netdata', '', 0o755)
    os.makedirs(os.path.join(str(root), 'opt/netdata/var/lib/netdata/cloud.d'))
    if unit:
        _write(root, '/lib/systemd/system/netdata.service',
               '[Service]\nExecStart=/opt/netdata/usr/sbin/netdata -P /run/netdata/netdata.pid -D\n')
    # /proc of the running daemon: comm, stat (start time), environ, cmdline, exe
    base = os.path.join(str(root), 'proc', str(PID))
    os.makedirs(base)
    _write(root, '/proc/stat', 'btime 1700000000\n')
    _write(root, '/proc/%d/comm' % PID, 'netdata\n')
    _write(root, '/proc/%d/stat' % PID, '%d (netdata) S 1 %s 4200 %s\n'
           % (PID, ' '.join(['0'] * 17), ' '.join(['0'] * 10)))
    _write(root, '/proc/%d/environ' % PID, environ)
    _write(root, '/proc/%d/cmdline' % PID, b'/opt/netdata/usr/sbin/netdata\0-D\0')
    os.symlink('/opt/netdata/usr/sbin/netdata', os.path.join(base, 'exe'))
    # the config, as on a host, is older than the daemon (started at btime + 42 s)
    for path in ('opt/netdata/etc/netdata/netdata.conf', 'opt/netdata/etc/netdata'):
        os.utime(os.path.join(str(root), path), (1700000000, 1700000000))


def _v2(argv, *args, **kwargs):
    return 0, 'netdata v2.10.4\n', ''


def _facts(root):
    facts = gather_netdata_facts({'telemetry'}, root=str(root), live_query=False, run_command=_v2)
    assert len(facts['installs']) == 1, facts['installs']
    return facts, facts['installs'][0]


# environ, daemon analytics (hello, as the real daemon answered), crash reports (posted)
CASES = [
    (b'PATH=/usr/bin\0DISABLE_TELEMETRY=1\0', False, False),
    (b'PATH=/usr/bin\0', True, True),
    (b'PATH=/usr/bin\0DO_NOT_TRACK=1\0', True, True),
]


@pytest.mark.parametrize('environ,analytics,crash', CASES, ids=['dt1', 'defaults', 'dnt1'])
def test_hand_started_daemon_without_unit_is_judged_by_its_own_environment(tmp_path, environ, analytics, crash):
    _static_v2_by_hand(tmp_path, environ)
    facts, install = _facts(tmp_path)
    assert install['service']['unit'] is None and install['daemon']['running'] is True
    channels = install['telemetry']['channels']
    da, cr = channels['daemon_analytics'], channels['crash_reports']
    assert (da['running'], da['configured'], da['enabled']) == (analytics, analytics, analytics), da['reasons']
    assert (cr['running'], cr['configured'], cr['enabled']) == (crash, crash, crash), cr['reasons']
    assert install['telemetry']['drift'] is False
    assert install['telemetry']['opted_out'] is (not analytics)
    assert facts['telemetry']['state'] == ('opted_out' if not analytics else 'partial' if b'DO_NOT' in environ
                                           else 'opted_in')
    assert any("running daemon's environment" in r for r in da['reasons'])


def test_a_unit_that_starts_the_install_still_decides_the_next_start(tmp_path):
    """With netdata.service present, the next start is the unit's, not the hand-started
    daemon's: off now, on after a restart through the unit (drift)."""
    _static_v2_by_hand(tmp_path, b'DISABLE_TELEMETRY=1\0', unit=True)
    _facts_, install = _facts(tmp_path)
    da = install['telemetry']['channels']['daemon_analytics']
    assert (da['running'], da['configured'], da['drift']) == (False, True, True)
    assert install['telemetry']['channels']['crash_reports']['configured'] is True


def test_unreadable_daemon_environment_stays_unknown(tmp_path):
    _static_v2_by_hand(tmp_path, b'')
    os.remove(os.path.join(str(tmp_path), 'proc', str(PID), 'environ'))
    _facts_, install = _facts(tmp_path)
    assert install['daemon']['environment'] is None
    assert install['telemetry']['channels']['crash_reports']['configured'] is None
    assert install['telemetry']['opted_out'] is False
