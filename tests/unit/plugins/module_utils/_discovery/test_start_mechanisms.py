# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which mechanism starts the host's agent, and what it gives it (start_mechanisms.py);
the sh reader's rules beyond the table measured with real OpenRC
(test_start_mechanisms_real.py), and the facts' verdict fed by them."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery import start_mechanisms as sm
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.shell_env import ShellState, source_text
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import gather_netdata_facts

UNSET = {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': None}
OFF = {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': '1'}
# Shaped like Netdata's own files (system/ of netdata/netdata at v2.10.4), paths filled in.
OPENRC_SCRIPT = ('#!/sbin/openrc-run\ncommand_prefix="/usr/sbin"\ncommand="${command_prefix}/netdata"\n'
                 'command_args="-P /run/netdata/netdata.pid ${NETDATA_EXTRA_ARGS}"\n'
                 'depend() {\n    need net\n}\n')
RUNIT_RUN = ('#!/bin/sh\npiddir="/var/run/netdata"\npidfile="${piddir}/netdata.pid"\n'
             'command="/usr/sbin/netdata"\ncommand_args="-P ${pidfile} -D"\n'
             '[ ! -d "${piddir}" ] && mkdir -p "${piddir}"\nexec ${command} ${command_args}\n')
DINIT = ('type = bgprocess\ncommand = /usr/sbin/netdata -P /var/run/netdata.pid -D\n'
         'pid-file = /var/run/netdata.pid\nload-options = export-passwd-vars\n')
RHEL_INITD = ('#!/bin/sh\n. /etc/rc.d/init.d/functions\nDAEMON="netdata"\nDAEMON_PATH=/usr/sbin\n'
              '[ -e /etc/sysconfig/$DAEMON ] && . /etc/sysconfig/$DAEMON\n'
              'case "$1" in\nstart) daemon $DAEMON_PATH/$DAEMON ;;\nesac\n')
DEBIAN_INITD = ('#!/bin/sh\n### BEGIN INIT INFO\n# Provides: netdata\n### END INIT INFO\n'
                'PATH=/sbin:/bin:/usr/sbin:/usr/bin\nDAEMON=/usr/sbin/netdata\n. /lib/lsb/init-functions\n'
                'case "$1" in\n  start) start-stop-daemon --start --exec $DAEMON ;;\nesac\n')
UNIT = '[Service]\nExecStart=/usr/sbin/netdata -D\n'


def write(root, files):
    for path, text in files.items():
        full = os.path.join(str(root), path.lstrip('/'))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        if text is None:
            os.makedirs(full, exist_ok=True)
            continue
        with open(full, 'w') as handle:
            handle.write(text)
    return str(root)


@pytest.mark.parametrize('manager, files, unit, mechanism, environment, command', [
    ('systemd', {}, '/lib/systemd/system/netdata.service', 'systemd', None, None),
    ('systemd', {'/etc/init.d/netdata': OPENRC_SCRIPT}, None, 'none', None, None),
    ('openrc', {'/etc/init.d/netdata': OPENRC_SCRIPT, '/etc/conf.d/netdata': 'export DO_NOT_TRACK=1\n'},
     '/lib/systemd/system/netdata.service', 'openrc', {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None},
     '/usr/sbin/netdata'),
    ('openrc', {}, '/lib/systemd/system/netdata.service', 'none', None, None),
    ('none', {'/etc/init.d/netdata': OPENRC_SCRIPT}, '/lib/systemd/system/netdata.service', 'systemd', None, None),
    ('none', {'/etc/init.d/netdata': OPENRC_SCRIPT}, None, 'openrc', UNSET, '/usr/sbin/netdata'),
    ('none', {'/etc/sv/netdata/run': RUNIT_RUN}, None, 'runit', UNSET, '/usr/sbin/netdata'),
    ('none', {'/etc/init.d/netdata': DEBIAN_INITD}, None, 'sysvinit', UNSET, '/usr/sbin/netdata'),
    ('none', {}, None, 'none', None, None),
    ('runit', {'/etc/sv/netdata/run': RUNIT_RUN}, None, 'runit', UNSET, '/usr/sbin/netdata'),
    ('runit', {'/etc/sv/netdata/run': 'exec chpst -e ./env /usr/sbin/netdata -D\n'}, None, 'runit', None,
     '/usr/sbin/netdata'),
    ('runit', {'/etc/sv/netdata/run': 'export DISABLE_TELEMETRY=1\nexec /usr/sbin/netdata -D\n'}, None, 'runit',
     {'DO_NOT_TRACK': None, 'DISABLE_TELEMETRY': '1'}, '/usr/sbin/netdata'),
    ('dinit', {'/etc/dinit.d/netdata': DINIT}, None, 'dinit', UNSET, '/usr/sbin/netdata'),
    ('dinit', {'/etc/dinit.d/netdata': DINIT + 'env-file = netdata.env\n', '/etc/dinit.d/netdata.env': 'DO_NOT_TRACK=1\n'},
     None, 'dinit', {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}, '/usr/sbin/netdata'),
    ('sysvinit', {'/etc/init.d/netdata': RHEL_INITD, '/etc/sysconfig/netdata': 'export DO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n'},
     None, 'sysvinit', {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}, '/usr/sbin/netdata'),
    ('sysvinit', {'/etc/init.d/netdata': RHEL_INITD}, None, 'sysvinit', UNSET, '/usr/sbin/netdata'),
    ('sysvinit', {'/etc/init.d/netdata': DEBIAN_INITD}, None, 'sysvinit', UNSET, '/usr/sbin/netdata'),
])
def test_host_start(tmp_path, manager, files, unit, mechanism, environment, command):
    found = sm.host_start(manager, root=write(tmp_path, files), systemd_unit=unit)
    assert (found['mechanism'], found['environment'], found['command']) == (mechanism, environment, command), found


def test_openrc_files_in_the_order_read(tmp_path):
    root = write(tmp_path, {'/etc/init.d/netdata': OPENRC_SCRIPT, '/etc/rc.conf': 'rc_parallel="NO"\n',
                            '/etc/rc.conf.d/b.conf': '', '/etc/rc.conf.d/a.conf': '', '/etc/rc.conf.d/x.sh': '',
                            '/etc/conf.d/netdata': '', '/etc/conf.d/netdata.default': 'export DO_NOT_TRACK=1\n',
                            '/run/openrc/softlevel': 'default\n'})
    found = sm.openrc_start(root)
    assert found['files'] == ['/etc/rc.conf', '/etc/rc.conf.d/a.conf', '/etc/rc.conf.d/b.conf',
                              '/etc/conf.d/netdata.default', '/etc/init.d/netdata']
    assert found['environment'] == {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}
    assert sm.openrc_conf_target(root) == '/etc/conf.d/netdata.default'


def test_openrc_daemon_args_with_env_make_it_unknown(tmp_path):
    root = write(tmp_path, {'/etc/init.d/netdata': OPENRC_SCRIPT,
                            '/etc/conf.d/netdata': 'export DO_NOT_TRACK=1\n'
                                                   'start_stop_daemon_args="--env DISABLE_TELEMETRY=1"\n'})
    found = sm.openrc_start(root)
    assert found['environment'] is None
    assert any('start_stop_daemon_args' in e for e in found['errors'])


@pytest.mark.parametrize('files', [
    {'/etc/init.d/netdata': None},                        # a directory
    {'/etc/init.d/netdata': '#!/sbin/openrc-run\n', '/etc/conf.d/netdata': None},
    {'/etc/init.d/netdata': '#!/sbin/openrc-run\n\x00\x01binary'},
    {'/etc/init.d/netdata': '#!/sbin/openrc-run\n. /etc/conf.d/netdata\n', '/etc/conf.d/netdata': '. /etc/init.d/netdata\n'},
    {'/etc/init.d/netdata': '#!/sbin/openrc-run\nif [ x ]; then\n(\ncase\n"unterminated \'\n'},
])
def test_odd_files_never_raise(tmp_path, files):
    for manager in ('openrc', 'none', 'sysvinit', 'runit', 'dinit'):
        found = sm.host_start(manager, root=write(tmp_path, files))
        assert found['mechanism'] in sm.MECHANISMS


@pytest.mark.parametrize('command, binary, prefix, expected', [
    ('/usr/sbin/netdata', '/usr/sbin/netdata', '/', True),
    ('/usr/sbin/netdata', '/opt/netdata/usr/sbin/netdata', '/opt/netdata', False),
    ('/opt/netdata/bin/netdata', None, '/opt/netdata', True),
    (None, '/usr/sbin/netdata', '/', None),
])
def test_starts_install(command, binary, prefix, expected):
    assert sm.starts_install(command, binary, prefix) is expected


def shell(text, **kw):
    state = ShellState(('DO_NOT_TRACK', 'DISABLE_TELEMETRY'), **kw)
    source_text(text, state, 'f')
    return state.environment()


@pytest.mark.parametrize('text, expected', [
    ('cat <<EOF\nexport DO_NOT_TRACK=1\nEOF\n', None),                    # a here document: not read past it
    ('cat <<EOF\nx\nEOF\nexport FOO=1\n', UNSET),                         # ... but names nothing tracked
    ('for x in 1 2; do\n  export DO_NOT_TRACK=$x\ndone\n', None),
    ('while false; do export DISABLE_TELEMETRY=1; done\nexport DO_NOT_TRACK=1\n', None),
    ('f() {\n  g() { export DO_NOT_TRACK=1; }\n}\nexport DISABLE_TELEMETRY=1\n', None),
    ('f() {\n  :\n}\nexport DO_NOT_TRACK=1 DISABLE_TELEMETRY=1\n', OFF),     # functions that name nothing tracked
    ('set -ea\nDO_NOT_TRACK=1\nDISABLE_TELEMETRY=1\n', OFF),
    ('set -e\nDO_NOT_TRACK=1\n', UNSET),
    ('export DO_NOT_TRACK=1 >/dev/null 2>&1\nreadonly DISABLE_TELEMETRY=1\n', {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}),
    ('export DO_NOT_TRACK=1\nunset -f DO_NOT_TRACK\n', {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}),
    ('eval "export DO_NOT_TRACK=1"\n', None),
    ('. "$X/file"\n', None),                                              # a file the reader cannot name
    ('export DO_NOT_TRACK=`echo 1`\n', None),
    ('export "DO_NOT_TRACK=1"\n', {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}),
    ("export DO_NOT_TRACK='1'\"\"\\1\n", {'DO_NOT_TRACK': '11', 'DISABLE_TELEMETRY': None}),
    ('export DO_NOT_TRACK=1 &\n', UNSET),                                 # a background job: a subshell
    ('(export DO_NOT_TRACK=1)\n', None),
    ('{ export DO_NOT_TRACK=1; }\n', None),
    ('set -a\n[ -n "$x" ] && set +a\nDO_NOT_TRACK=1\n', None),            # allexport unknown from there
])
def test_shell_reader(text, expected):
    assert shell(text) == expected


def _version(argv, *args, **kwargs):
    return 0, 'netdata v1.37.1\n', ''


def test_facts_judge_the_openrc_environment_not_the_unused_unit(tmp_path):
    """OpenRC runs the host: a drop-in that nobody reads opts nothing out; the conf.d
    export does (the statistics script channel, which reads DO_NOT_TRACK)."""
    root = write(tmp_path, {
        '/etc/netdata/netdata.conf': '[global]\n', '/usr/sbin/netdata': '',
        '/lib/systemd/system/netdata.service': UNIT,
        '/etc/systemd/system/netdata.service.d/dnt.conf': '[Service]\nEnvironment=DO_NOT_TRACK=1\n',
        '/run/openrc/softlevel': 'default\n', '/etc/init.d/netdata': OPENRC_SCRIPT,
        '/etc/conf.d/netdata': 'NETDATA_OWNER="netdata:netdata"\n'})
    facts = gather_netdata_facts({'telemetry'}, root=root, live_query=False, run_command=_version)
    install = facts['installs'][0]
    assert facts['service_manager'] == 'openrc'
    assert install['start']['mechanism'] == 'openrc' and install['start']['environment'] == UNSET
    assert install['start']['starts_this_install'] is True
    assert install['telemetry']['channels']['statistics_script']['enabled'] is True
    write(tmp_path, {'/etc/conf.d/netdata': 'export DO_NOT_TRACK=1\n'})
    facts = gather_netdata_facts({'telemetry'}, root=root, live_query=False, run_command=_version)
    install = facts['installs'][0]
    assert install['start']['environment'] == {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}
    assert install['telemetry']['channels']['statistics_script']['enabled'] is False


def test_facts_keep_the_unit_where_no_manager_runs(tmp_path):
    root = write(tmp_path, {
        '/etc/netdata/netdata.conf': '[global]\n', '/usr/sbin/netdata': '',
        '/lib/systemd/system/netdata.service': UNIT,
        '/etc/systemd/system/netdata.service.d/dnt.conf': '[Service]\nEnvironment=DO_NOT_TRACK=1\n'})
    facts = gather_netdata_facts({'telemetry'}, root=root, live_query=False, run_command=_version)
    start = facts['installs'][0]['start']
    assert facts['service_manager'] == 'none'
    assert start['mechanism'] == 'systemd' and start['starts_this_install'] is True
    assert start['files'] == ['/lib/systemd/system/netdata.service', '/etc/systemd/system/netdata.service.d/dnt.conf']
    assert start['environment'] == {'DO_NOT_TRACK': '1', 'DISABLE_TELEMETRY': None}
    assert facts['installs'][0]['telemetry']['channels']['statistics_script']['enabled'] is False


def test_facts_no_start_mechanism_found(tmp_path):
    root = write(tmp_path, {'/etc/netdata/netdata.conf': '[global]\n', '/usr/sbin/netdata': ''})
    facts = gather_netdata_facts({'telemetry'}, root=root, live_query=False, run_command=_version)
    start = facts['installs'][0]['start']
    assert start == {'mechanism': 'none', 'files': [], 'environment': None, 'command': None, 'errors': [],
                     'starts_this_install': None}


def _version_2(argv, *args, **kwargs):
    return 0, 'netdata v2.10.4\n', ''


@pytest.mark.parametrize('unit_user, conf_d, start_user, analytics_on', [
    # Netdata's OpenRC script starts v2.3+ as root, which reads a root-only opt-out file
    # before dropping privileges: off, whatever User= the unused unit has
    ('netdata', 'NETDATA_OWNER="netdata:netdata"\n', 'root', False),
    # OpenRC starts it as netdata: the root-only file is not read at start, even with User=root
    ('root', 'supervisor=supervise-daemon\ncommand_user=netdata\n', 'netdata', True),
])
def test_facts_judge_the_opt_out_file_as_openrcs_start_user(tmp_path, unit_user, conf_d, start_user, analytics_on):
    root = write(tmp_path, {
        '/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnetdata:x:999:995::/var/lib/netdata:/bin/false\n',
        '/etc/group': 'root:x:0:\nnetdata:x:995:\n',
        '/etc/netdata/netdata.conf': '[global]\n', '/usr/sbin/netdata': '',
        '/etc/netdata/.opt-out-from-anonymous-statistics': '',
        '/lib/systemd/system/netdata.service': UNIT + 'User=%s\n' % unit_user,
        '/run/openrc/softlevel': 'default\n', '/etc/init.d/netdata': OPENRC_SCRIPT, '/etc/conf.d/netdata': conf_d})
    os.chmod(os.path.join(root, 'etc/netdata/.opt-out-from-anonymous-statistics'), 0o600)
    facts = gather_netdata_facts({'telemetry'}, root=root, live_query=False, run_command=_version_2)
    install = facts['installs'][0]
    assert install['optout_file']['start_user'] == start_user
    assert install['telemetry']['channels']['daemon_analytics']['enabled'] is analytics_on
