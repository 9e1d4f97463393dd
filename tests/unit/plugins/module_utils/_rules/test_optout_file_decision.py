# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Facts and verdicts over fixture roots: the opt-out file counts only as the agent checks it
(access(R_OK) as the right user, in the config dir it really uses), and netdata.conf is the
one it really reads (-c).

What the real daemons answered (registry?action=hello, each in `unshare --net`), the truth
these cases encode:
  1.37.1 (Debian, run as netdata): file 0600 root:root -> true, 0640 root:root -> true,
    0644 -> false, 0640 root:netdata or root:adm -> false, file 0644 in a 0700 config dir
    -> true; [directories] config = /srv/nd-config with the file only in /etc/netdata -> true
    (and the statistics script, which tests /etc/netdata, sends nothing); -c file without
    [directories] -> the file in /etc/netdata counts.
  v2.10.4 started as root, run as netdata: 0600 / 0640 / 0644 -> false (checked before it
    drops privileges); started as netdata: 0600 -> true, 0644 -> false.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import gather_telemetry

PASSWD = 'root:x:0:0::/root:/bin/sh\nnetdata:x:999:995::/var/lib/netdata:/usr/sbin/nologin\n'
GROUP = 'root:x:0:\nadm:x:4:netdata\nnetdata:x:995:\n'
OPTOUT = '.opt-out-from-anonymous-statistics'
DEBIAN_UNIT = '[Service]\nExecStart=/usr/sbin/netdata -D\nUser=netdata\nGroup=netdata\n'
# Netdata's own unit, system/systemd/netdata.service.in v2.10.4
OFFICIAL_UNIT = '[Service]\nUser=root\nGroup=netdata\nExecStart=/opt/netdata/usr/sbin/netdata -P /run/netdata/netdata.pid -D\n'


def write(root, path, text='', mode=None):
    full = os.path.join(str(root), path.lstrip('/'))
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, 'w') as handle:
        handle.write(text)
    if mode is not None:
        os.chmod(full, mode)


def runner(versions):
    def run(argv):
        return 0, 'netdata v%s\n' % versions[argv[0]], ''
    return run


def native(root, version='1.37.1', conf='[global]\n  run as user = netdata\n', unit=DEBIAN_UNIT):
    write(root, '/etc/passwd', PASSWD)
    write(root, '/etc/group', GROUP)
    write(root, '/etc/netdata/netdata.conf', conf)
    write(root, '/usr/sbin/netdata', '', 0o755)
    write(root, '/var/lib/netdata/registry/x', '')
    if unit:
        write(root, '/lib/systemd/system/netdata.service', unit)
    return runner({'/usr/sbin/netdata': version})


def static(root, version='2.10.4', unit=OFFICIAL_UNIT):
    write(root, '/etc/passwd', PASSWD)
    write(root, '/etc/group', GROUP)
    write(root, '/opt/netdata/etc/netdata/netdata.conf', '')
    write(root, '/opt/netdata/usr/sbin/netdata', '', 0o755)
    write(root, '/opt/netdata/var/lib/netdata/registry/x', '')
    if unit:
        write(root, '/lib/systemd/system/netdata.service', unit)
    return runner({'/opt/netdata/usr/sbin/netdata': version})


def gather(root, run):
    facts = gather_telemetry(root=str(root), live_query=False, run_command=run)
    install = facts['installs'][0]
    channels = install['telemetry']['channels']
    return facts, install, dict((name, channels[name]['enabled']) for name in channels if channels[name]['applies'])


@pytest.mark.parametrize('mode,group,analytics,state', [
    (0o600, 0, True, 'partial'),
    (0o640, 0, True, 'partial'),
    (0o644, 0, False, 'opted_out'),
    (0o640, 995, False, 'opted_out'),
    (0o640, 4, False, 'opted_out'),
])
def test_v137_file_counts_only_when_netdata_can_read_it(tmp_path, mode, group, analytics, state):
    run = native(tmp_path)
    write(tmp_path, '/etc/netdata/' + OPTOUT, '', mode)
    os.chown(str(tmp_path / 'etc/netdata' / OPTOUT), 0, group)
    facts, install, enabled = gather(tmp_path, run)
    assert install['optout_file']['readable_by_agent'] is (not analytics)
    # The daemon's flag (what registry?action=hello says, and the dashboard's analytics)
    # follows access(R_OK) as netdata; the script ([ -f ]) finds the file either way.
    assert enabled == {'daemon_analytics': analytics, 'statistics_script': False, 'installer': True}
    assert facts['telemetry']['state'] == state
    assert facts['telemetry']['opted_in'] is False  # a present file always blocks opted_in
    if analytics:
        assert any('cannot read it' in r and 'user netdata cannot read' in r for r in install['telemetry']['reasons'])


def test_v137_config_dir_not_searchable(tmp_path):
    run = native(tmp_path)
    write(tmp_path, '/etc/netdata/' + OPTOUT, '', 0o644)
    os.chmod(str(tmp_path / 'etc/netdata'), 0o700)
    _facts, install, enabled = gather(tmp_path, run)
    assert enabled == {'daemon_analytics': True, 'statistics_script': True, 'installer': True}
    assert 'cannot search /etc/netdata' in install['optout_file']['reason']


def test_v137_unknown_run_as_user_is_not_opted_out(tmp_path):
    run = native(tmp_path, conf='[global]\n  run as user = ghost\n', unit='[Service]\nExecStart=/usr/sbin/netdata -D\n')
    write(tmp_path, '/etc/netdata/' + OPTOUT, '', 0o644)
    facts, _install, enabled = gather(tmp_path, run)
    assert enabled['daemon_analytics'] is None and facts['telemetry']['state'] == 'partial'


@pytest.mark.parametrize('unit,mode,analytics', [
    (OFFICIAL_UNIT, 0o600, False),                      # started as root: read before dropping privileges
    (OFFICIAL_UNIT.replace('User=root', 'User=netdata'), 0o600, True),
    (OFFICIAL_UNIT.replace('User=root', 'User=netdata'), 0o644, False),
    (None, 0o600, None),                               # who starts it is unknown
    (None, 0o644, False),
])
def test_v2_first_check_is_as_the_user_it_starts_as(tmp_path, unit, mode, analytics):
    run = static(tmp_path, unit=unit)
    write(tmp_path, '/opt/netdata/etc/netdata/' + OPTOUT, '', mode)
    facts, install, enabled = gather(tmp_path, run)
    assert enabled['daemon_analytics'] is analytics, install['telemetry']['reasons']
    # crash reports default: "all" unless analytics is off (not claimed)
    assert enabled['crash_reports'] is (None if analytics is None else analytics)
    assert facts['telemetry']['state'] == ('opted_out' if analytics is False else 'partial')


def test_directories_config_v137(tmp_path):
    """The daemon looks in [directories] config; the script in its compiled-in dir."""
    run = native(tmp_path, conf='[global]\n  run as user = netdata\n[directories]\n  config = /srv/nd-config\n')
    write(tmp_path, '/etc/netdata/' + OPTOUT, '', 0o644)
    os.makedirs(str(tmp_path / 'srv/nd-config'))
    facts, install, enabled = gather(tmp_path, run)
    assert install['optout_file']['path'] == '/srv/nd-config/' + OPTOUT
    assert enabled == {'daemon_analytics': True, 'statistics_script': False, 'installer': True}
    assert facts['telemetry']['state'] == 'partial'
    # Only in the moved dir: the daemon's flag is off, so it never spawns the script.
    os.remove(str(tmp_path / 'etc/netdata' / OPTOUT))
    write(tmp_path, '/srv/nd-config/' + OPTOUT, '', 0o644)
    facts, _install, enabled = gather(tmp_path, run)
    assert enabled == {'daemon_analytics': False, 'statistics_script': False, 'installer': True}
    assert facts['telemetry']['state'] == 'opted_out'


def test_c_in_exec_start_decides_crash_reports_of_a_claimed_v2_node(tmp_path):
    run = static(tmp_path, unit=OFFICIAL_UNIT.replace('-D', '-D -c /srv/nd/netdata.conf'))
    write(tmp_path, '/opt/netdata/etc/netdata/netdata.conf', '[global]\n  crash reports = off\n')
    write(tmp_path, '/srv/nd/netdata.conf', '[global]\n  run as user = netdata\n')
    write(tmp_path, '/opt/netdata/etc/netdata/' + OPTOUT, '', 0o644)
    write(tmp_path, '/opt/netdata/var/lib/netdata/cloud.d/claimed_id', 'abc\n')
    facts, install, enabled = gather(tmp_path, run)
    assert install['netdata_conf']['path'] == '/srv/nd/netdata.conf'
    assert install['netdata_conf']['crash_reports'] is None
    # claimed + unset = "all", whatever the file in the default dir says
    assert enabled['crash_reports'] is True and facts['telemetry']['state'] == 'partial'
