# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""agent_access: a user's view of a path, redone as the kernel's permission checks."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import pwd

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.agent_access import (
    check_path, parse_group, parse_passwd, resolve_user, user_check)

PASSWD = 'root:x:0:0::/root:/bin/sh\n# comment\nnetdata:x:999:995::/:/bin/false\nbad:x:y:1::/:\nnetdata:x:5:5::/:\n'
GROUP = 'adm:x:4:syslog,netdata\nnetdata:x:995:\nweird:x:nope:netdata\n'


def tree(root, files):
    for path, (mode, text) in files.items():
        full = os.path.join(str(root), path.lstrip('/'))
        if text is None:
            os.makedirs(full, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'w') as handle:
                handle.write(text)
        os.chmod(full, mode)


def test_parsers_take_the_first_entry_and_skip_junk():
    assert parse_passwd(PASSWD) == {'root': (0, 0), 'netdata': (999, 995)}
    assert parse_group(GROUP) == [(4, ['syslog', 'netdata']), (995, [])]


def test_resolve_user_under_a_fixture_root(tmp_path):
    assert resolve_user('netdata', str(tmp_path)) == (None, '/etc/passwd missing: user netdata unknown')
    tree(tmp_path, {'/etc/passwd': (0o644, PASSWD), '/etc/group': (0o644, GROUP)})
    user, err = resolve_user('netdata', str(tmp_path))
    assert err is None and user == {'name': 'netdata', 'uid': 999, 'gid': 995, 'groups': [4, 995]}
    assert resolve_user('ghost', str(tmp_path)) == (None, 'user ghost does not exist on this host')
    assert resolve_user('', str(tmp_path))[0] is None
    assert resolve_user('root', str(tmp_path))[0]['uid'] == 0


def test_resolve_user_on_this_host_uses_pwd_and_getgrouplist():
    me = pwd.getpwuid(os.getuid())
    user, err = resolve_user(me.pw_name)
    assert err is None and user['uid'] == me.pw_uid and me.pw_gid in user['groups']
    assert sorted(set(os.getgrouplist(me.pw_name, me.pw_gid))) == user['groups']
    assert resolve_user('no-such-user-here-x')[0] is None


def test_check_path_walks_dirs_and_symlinks_inside_the_root(tmp_path):
    tree(tmp_path, {'/etc/passwd': (0o644, PASSWD), '/etc/group': (0o644, GROUP),
                    '/srv/closed': (0o700, None), '/srv/closed/f': (0o644, ''),
                    '/srv/open/f': (0o644, ''), '/srv/open/g': (0o600, ''), '/srv/open/d': (0o755, None)})
    nd, _err = resolve_user('netdata', str(tmp_path))
    root = str(tmp_path)
    # An absolute link target is resolved inside the root, as the target would see it.
    os.symlink('/srv/open/f', os.path.join(root, 'srv/abs'))
    os.symlink('/srv/closed/f', os.path.join(root, 'srv/abs-closed'))
    os.symlink('loop', os.path.join(root, 'srv/loop'))
    assert check_path(root, '/srv/abs', nd)[0] is True
    assert check_path(root, '/srv/abs-closed', nd) == (
        False, 'user netdata cannot search /srv/closed (mode 0700, owner 0:0)')
    assert check_path(root, '/srv/open/g', nd)[0] is False
    assert check_path(root, '/srv/open/g', nd, want='regular')[0] is True  # [ -f ] needs no read
    assert check_path(root, '/srv/open/d', nd)[0] is True  # access(R_OK) passes on a directory
    assert check_path(root, '/srv/open/d', nd, want='regular')[0] is False
    assert check_path(root, '/srv/open/f/x', nd) == (False, '/srv/open/f is not a directory')
    assert check_path(root, '/srv/open/../open/./f', nd)[0] is True
    assert 'too many levels' in check_path(root, '/srv/loop', nd)[1]
    assert check_path(root, '/srv/none', nd) == (False, '/srv/none does not exist')
    assert check_path(root, 'relative', nd)[0] is None
    assert check_path(root, '/srv/closed/f', {'name': 'root', 'uid': 0, 'gid': 0, 'groups': [0]})[0] is True
    assert user_check(root, '/srv/open/f', 'ghost') == (None, 'user ghost does not exist on this host')
