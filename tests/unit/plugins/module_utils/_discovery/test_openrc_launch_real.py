# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The user and arguments OpenRC starts the agent with, against OpenRC 0.45.2 itself.

Every ``user`` / ``args`` below was measured with Debian 12's OpenRC 0.45.2 and its
start-stop-daemon, dpkg's (``openrc_judge.py``: ``rc-service netdata start`` in a
throwaway namespace started a stand-in that saved ``id -un`` and its arguments).
``test_reader_matches_table`` always runs and holds ``openrc_launch`` (through
``start_mechanisms.openrc_start``) to them, on a tree that has what the judge's host has
(dpkg's start-stop-daemon, Debian's ``start-stop-daemon.sh`` passing ``command_user`` as
``--chuid``); ``test_real_openrc`` runs the table through the real ``openrc-run``.

``user`` None: OpenRC does not start it. ``reader`` ``UNKNOWN``: the reader must say it
cannot tell (its user and arguments both None), never a wrong value.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery import openrc_launch as ol
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.start_mechanisms import openrc_start
from ansible_collections.netdata_fleet.telemetry.tests.unit.plugins.module_utils._discovery import openrc_judge

UNKNOWN = 'unknown'
CONF = '/etc/conf.d/netdata'
PIDFILE = '/run/netdata/netdata.pid'
# Shaped like system/openrc/init.d/netdata.in at v2.10.4: no user, no -c of its own.
V2 = (b'#!/sbin/openrc-run\n'
      b'NETDATA_PIDFILE="/run/netdata/netdata.pid"\n'
      b'command_prefix="/run/judge-bin"\ncommand="${command_prefix}/netdata"\n'
      b'command_args="-P ${NETDATA_PIDFILE} ${NETDATA_EXTRA_ARGS}"\ncommand_args_foreground="-D"\n'
      b'depend() {\n    need net\n}\n'
      b'start_pre() {\n    checkpath -d /run/netdata\n'
      b'    if [ -z "${supervisor}" ]; then\n        pidfile="${NETDATA_PIDFILE}"\n    fi\n}\n')
# Shaped like system/netdata-openrc.in at v1.37.1: the user in start_stop_daemon_args.
V1 = (b'#!/sbin/openrc-run\n'
      b': "${NETDATA_OWNER:=netdata:netdata}"\n: "${NETDATA_PIDFILE:=/run/netdata/netdata.pid}"\n'
      b'command_prefix="/run/judge-bin"\ncommand="${command_prefix}/netdata"\n'
      b'command_args="-P ${NETDATA_PIDFILE} ${NETDATA_EXTRA_ARGS}"\ncommand_args_foreground="-D"\n'
      b'start_stop_daemon_args="-u ${NETDATA_OWNER}"\n'
      b'depend() {\n    need net\n}\n'
      b'start_pre() {\n    checkpath -o ${NETDATA_OWNER} -d /run/netdata\n'
      b'    if [ -z "${supervisor}" ]; then\n        pidfile="${NETDATA_PIDFILE}"\n    fi\n}\n')
BG = ['-P', PIDFILE]
FG = ['-P', PIDFILE, '-D']


def case(cid, init, files, user, args, reader='same'):
    return {'id': cid, 'init_script': init, 'files': files, 'user': user, 'args': args, 'reader': reader,
            'caller': {}, 'runlevel': 'default'}


CASES = [
    # Netdata's own scripts
    case('v2-stock', V2, {}, 'root', BG),
    case('v2-stock-supervised', V2, {CONF: b'supervisor=supervise-daemon\n'}, 'root', FG),
    case('v2-extra-args-c', V2, {CONF: b'NETDATA_EXTRA_ARGS="-c /etc/netdata/other.conf"\n'},
         'root', BG + ['-c', '/etc/netdata/other.conf']),
    case('v2-extra-args-quoted', V2, {CONF: b'NETDATA_EXTRA_ARGS="-c \'/srv/a b.conf\'"\n'},
         'root', BG + ['-c', '/srv/a b.conf']),
    case('v1-stock', V1, {}, None, None),  # dpkg's start-stop-daemon: user 'netdata:netdata' not found
    case('v1-stock-supervised', V1, {CONF: b'supervisor=supervise-daemon\n'}, 'netdata', FG),
    case('v1-owner-root-supervised', V1, {CONF: b'supervisor=supervise-daemon\nNETDATA_OWNER=root\n'}, 'root', FG),
    case('v1-owner-user-only', V1, {CONF: b'NETDATA_OWNER=netdata\n'}, 'root', BG),  # dpkg's -u only matches
    # OpenRC's own variables
    case('command-user', V2, {CONF: b'command_user="netdata"\n'}, 'netdata', BG),
    case('command-user-group', V2, {CONF: b'command_user="netdata:netdata"\n'}, 'netdata', BG),
    case('command-user-supervised', V2, {CONF: b'command_user="netdata:netdata"\nsupervisor=supervise-daemon\n'},
         'netdata', FG),
    case('ssd-args-u', V2, {CONF: b'start_stop_daemon_args="-u netdata"\n'}, 'root', BG),
    case('ssd-args-c', V2, {CONF: b'start_stop_daemon_args="-c netdata"\n'}, 'netdata', BG),
    case('ssd-args-chuid-after-command-user', V2, {CONF: b'command_user=root\nstart_stop_daemon_args="--chuid netdata"\n'},
         'netdata', BG),
    case('ssd-args-u-supervised', V2, {CONF: b'start_stop_daemon_args="-u netdata"\nsupervisor=supervise-daemon\n'},
         'netdata', FG),
    case('supervise-args-over-ssd-args', V2, {CONF: b'start_stop_daemon_args="-u netdata"\n'
                                                    b'supervise_daemon_args="-u root"\nsupervisor=supervise-daemon\n'},
         'root', FG),
    case('supervise-args-after-command-user', V2, {CONF: b'command_user=root\nsupervise_daemon_args="--user=netdata"\n'
                                                         b'supervisor=supervise-daemon\n'}, 'netdata', FG),
    # what the reader does not run: unknown
    case('command-user-in-start-pre', V2.replace(b'    checkpath -d', b'    command_user=netdata\n    checkpath -d'),
         {}, 'netdata', BG, reader=UNKNOWN),
    case('args-by-command-substitution', V2, {CONF: b'NETDATA_EXTRA_ARGS="$(echo -c /etc/netdata/x.conf)"\n'},
         'root', BG + ['-c', '/etc/netdata/x.conf'], reader=UNKNOWN),
    case('own-start-function', V2 + b'start() {\n    start-stop-daemon --start --exec /run/judge-bin/netdata '
                                    b'-- -P /run/netdata/netdata.pid\n}\n', {}, 'root', BG, reader=UNKNOWN),
]
# What the judge's host has (checked by test_judge_host_is_the_tree's): dpkg's
# start-stop-daemon (its version line) and Debian's start-stop-daemon.sh.
JUDGE_HOST = {'/sbin/start-stop-daemon': b'\x7fELF...start-stop-daemon %s for Debian\n...',
              '/lib/rc/sh/start-stop-daemon.sh': b'\t\t${command_user+--chuid} $command_user \\\n'}


def materialize(one, root, host=None):
    files = dict(JUDGE_HOST if host is None else host)
    files.update(one['files'])
    files['/etc/init.d/netdata'] = one['init_script']
    files['/run/openrc/softlevel'] = one['runlevel'].encode() + b'\n'
    for path, data in files.items():
        target = os.path.join(str(root), path.lstrip('/'))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, 'wb') as handle:
            handle.write(data)
    return str(root)


def reader_view(tmp_path, one, host=None):
    launch = openrc_start(materialize(one, tmp_path / one['id'], host))['launch']
    return launch['user'], launch['args']


@pytest.mark.parametrize('one', CASES, ids=[c['id'] for c in CASES])
def test_reader_matches_table(tmp_path, one):
    user, args = reader_view(tmp_path, one)
    if one['reader'] == UNKNOWN:
        assert user is None or args is None, (user, args)
        assert (user, args) != (one['user'], one['args'])
    elif one['user'] is None:
        assert user is None  # it does not start
    else:
        assert (user, args) == (one['user'], one['args'])


def test_table_ids_are_unique():
    ids = [c['id'] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize('host, cid, user', [
    # OpenRC's own start-stop-daemon (Alpine, Gentoo) changes to -u's user, and gets
    # command_user as --user (upstream's start-stop-daemon.sh)
    ({'/sbin/start-stop-daemon': b'\x7fELF libeinfo.so.1 librc.so.1',
      '/lib/rc/sh/start-stop-daemon.sh': b'${command_user+--user} $command_user'}, 'v1-stock', 'netdata'),
    ({'/sbin/start-stop-daemon': b'\x7fELF libeinfo.so.1 librc.so.1',
      '/usr/libexec/rc/sh/start-stop-daemon.sh': b'${command_user+--user} $command_user'}, 'command-user', 'netdata'),
    # upstream's --user with dpkg's start-stop-daemon only matches: root
    ({'/usr/sbin/start-stop-daemon': b'start-stop-daemon %s for Debian',
      '/lib/rc/sh/start-stop-daemon.sh': b'${command_user+--user} $command_user'}, 'command-user', 'root'),
    # which start-stop-daemon is unknown: only what every one does is known
    ({}, 'command-user', None),
    ({}, 'ssd-args-c', 'netdata'),
    ({}, 'v2-stock', 'root'),
    ({}, 'v1-stock', None),
    ({}, 'v1-stock-supervised', 'netdata'),
])
def test_start_stop_daemon_flavours(tmp_path, host, cid, user):
    one = next(c for c in CASES if c['id'] == cid)
    assert reader_view(tmp_path, one, host)[0] == user


@pytest.mark.parametrize('words, supervised, expected', [
    (['-u', 'a', '--user', 'b', '--user=c', '-ud', '-c', 'e', '--chuid=f'], False,
     [('u', 'a'), ('u', 'b'), ('u', 'c'), ('u', 'd'), ('c', 'e'), ('c', 'f')]),
    (['--chdir', '/var/lib/netdata', '-k', '022'], False, []),
    (['-bu', 'netdata'], False, None),      # a cluster may hide -u
    (['--us', 'netdata'], False, None),     # getopt_long's abbreviation
    (['-u'], False, None),                  # no value: start-stop-daemon fails
    (['-c', 'netdata'], True, None),        # supervise-daemon has no -c: it fails
    (['--', '-u', 'netdata'], False, []),
])
def test_user_options(words, supervised, expected):
    assert ol.user_options(words, supervised) == expected


@pytest.mark.parametrize('text, expected', [
    ('-P /run/x.pid  -c "/srv/a b.conf"', ['-P', '/run/x.pid', '-c', '/srv/a b.conf']),
    ('', []),
    ('-c $HOME/x', None),
    ('-c /etc/*.conf', None),
    ('-c "unterminated', None),
])
def test_split_eval(text, expected):
    assert ol.split_eval(text) == expected


def test_odd_trees_never_raise(tmp_path):
    one = case('odd', b'#!/sbin/openrc-run\nif [ x ]; then\n(\ncase\n"unterminated \'\n', {}, None, None)
    assert reader_view(tmp_path, one) in ((None, None), ('root', []))


@pytest.fixture(scope='module')
def judged(tmp_path_factory):
    why = openrc_judge.unavailable()
    if why:
        pytest.skip('real OpenRC not usable here: %s' % why)
    work = tmp_path_factory.mktemp('openrc-launch-judge')
    return dict((one['id'], openrc_judge.run_case_started(one, work)) for one in CASES)


def test_judge_host_is_the_tree(judged):
    root, _why = openrc_judge.openrc_root()
    assert ol.ssd_flavour('/') == 'dpkg'
    assert ol.command_user_flag(lambda path: _read(root + path)) == 'c'


def _read(path):
    try:
        with open(path) as handle:
            return handle.read(), None
    except (IOError, OSError):
        return None, None


@pytest.mark.parametrize('one', CASES, ids=[c['id'] for c in CASES])
def test_real_openrc(judged, tmp_path, one):
    real = judged[one['id']]
    assert (real['user'], real['argv']) == (one['user'], one['args']), \
        'OpenRC no longer does what the table says: %s' % real['output'][-600:]
    if one['reader'] != UNKNOWN and one['user'] is not None:
        assert reader_view(tmp_path, one) == (real['user'], real['argv'])
