# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether a given user could read (or see) a file on the target: the opt-out file
as the Netdata agent itself checks it.

Netdata checks the opt-out file with ``access(path, R_OK)`` (``send_statistics`` in
daemon/analytics.c v1.37.1; ``analytics_check_enabled`` in src/daemon/analytics.c
v2.10.4), i.e. with the process's real uid, its primary gid and its supplementary
groups (``become_user`` in daemon/daemon.c sets them with ``getgrouplist``). The
statistics script tests ``[ -f FILE ]`` (daemon/anonymous-statistics.sh.in), which
needs only search permission on the directories on the way. This module redoes the
kernel's checks for a user that is not the caller (the module runs as root, which
could read anything):

- every directory on the path (the root directory excepted: every process needs it)
  must grant search (``x``) to the user; symlinks are followed as the kernel follows
  them, their own mode does not matter;
- the file itself must grant read (``r``);
- owner bits apply when the uid owns the inode, else group bits when its group is one
  of the user's groups, else the other bits; uid 0 may read and search anything;
- an inode with a POSIX ACL (``system.posix_acl_access``) may grant or deny beyond
  its mode: undecidable (None), never guessed.

Users and groups come from ``pwd`` / ``os.getgrouplist`` on the target (so NSS sources
count) or, under a fixture *root*, from ``<root>/etc/passwd`` and ``<root>/etc/group``.
Nothing here raises: an answer is ``(True|False|None, reason)``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import (
    host_path as _host, read_host_text)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.path_walk import (
    CANNOT_READ_LINK, CANNOT_STAT, MISSING, NOT_A_DIRECTORY, STOPPED, TOO_MANY_LINKS, walk_path)
_ACL_XATTR = 'system.posix_acl_access'


# ---------------------------------------------------------------- users (pure parsers)

def parse_passwd(text):
    """``/etc/passwd`` text -> ``{name: (uid, gid)}`` (the first entry of a name wins,
    as ``getpwnam`` returns it)."""
    users = {}
    for line in (text or '').splitlines():
        parts = line.split(':')
        if len(parts) < 4 or not parts[0] or parts[0].startswith(('#', '+', '-')):
            continue
        try:
            uid, gid = int(parts[2]), int(parts[3])
        except ValueError:
            continue
        users.setdefault(parts[0], (uid, gid))
    return users


def parse_group(text):
    """``/etc/group`` text -> list of ``(gid, [member names])``."""
    groups = []
    for line in (text or '').splitlines():
        parts = line.split(':')
        if len(parts) < 4 or not parts[0] or parts[0].startswith(('#', '+', '-')):
            continue
        try:
            gid = int(parts[2])
        except ValueError:
            continue
        groups.append((gid, [m.strip() for m in parts[3].split(',') if m.strip()]))
    return groups


def resolve_user(name, root='/'):
    """``{'name', 'uid', 'gid', 'groups'}`` for the user *name* on the target, or
    ``(None, reason)`` style: returns ``(user or None, error or None)``.

    ``groups`` holds the primary gid and every supplementary group, as
    ``getgrouplist(name, gid)`` gives them to a daemon that switches to *name*.
    """
    if not name or not isinstance(name, str):
        return None, 'no user name'
    if name == 'root':  # uid 0 reads and searches anything: no lookup needed
        return {'name': name, 'uid': 0, 'gid': 0, 'groups': [0]}, None
    if not root or root == '/':
        try:
            import pwd
            entry = pwd.getpwnam(name)
        except KeyError:
            return None, 'user %s does not exist on this host' % name
        except Exception as exc:  # NSS trouble: undecidable, not "missing"
            return None, 'cannot look up user %s: %s' % (name, exc)
        uid, gid = entry.pw_uid, entry.pw_gid
        try:
            groups = set(os.getgrouplist(name, gid))
        except Exception:
            try:
                import grp
                groups = set(g.gr_gid for g in grp.getgrall() if name in g.gr_mem)
            except Exception as exc:
                return None, 'cannot list the groups of user %s: %s' % (name, exc)
        groups.add(gid)
        return {'name': name, 'uid': uid, 'gid': gid, 'groups': sorted(groups)}, None
    text, err = read_host_text(root, '/etc/passwd')
    if text is None:
        return None, err or '/etc/passwd missing: user %s unknown' % name
    users = parse_passwd(text)
    if name not in users:
        return None, 'user %s does not exist on this host' % name
    uid, gid = users[name]
    gtext, err = read_host_text(root, '/etc/group')
    if gtext is None and err:
        return None, err
    groups = set([gid])
    for group_gid, members in parse_group(gtext or ''):
        if name in members:
            groups.add(group_gid)
    return {'name': name, 'uid': uid, 'gid': gid, 'groups': sorted(groups)}, None


# ---------------------------------------------------------------- permission checks

def _has_acl(host):
    getxattr = getattr(os, 'getxattr', None)
    if getxattr is None:
        return False
    try:
        getxattr(host, _ACL_XATTR, follow_symlinks=False)
        return True
    except OSError:
        return False


def _mode_text(st):
    return 'mode %04o, owner %d:%d' % (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


def _allowed(user, st, host, bit):
    """True/False whether *user* gets permission *bit* (4 read, 1 search) on the inode;
    None when a POSIX ACL makes the mode bits not the whole answer."""
    if user['uid'] == 0:
        return True
    if _has_acl(host):
        return None
    mode = st.st_mode
    if st.st_uid == user['uid']:
        bits = (mode >> 6) & 7
    elif st.st_gid in user['groups']:
        bits = (mode >> 3) & 7
    else:
        bits = mode & 7
    return bool(bits & bit)


def check_path(root, path, user, want='read'):
    """Whether *user* (from :func:`resolve_user`) passes the check on *path* (as seen on
    the target). *want*: ``read`` = ``access(path, R_OK)``; ``regular`` = the shell's
    ``[ -f path ]`` (stat() succeeds and it is a regular file).

    Returns ``(True|False|None, reason)``. Never raises.
    """
    try:
        return _check_path(root, path, user, want)
    except Exception as exc:  # a collector never raises
        return None, 'cannot check %s: unexpected %s: %s' % (path, type(exc).__name__, exc)


def _check_path(root, path, user, want):
    who = 'user %s' % user['name']
    if not path.startswith('/'):
        return None, '%s is not an absolute path' % path

    def may_search(directory):
        st = os.stat(_host(root, directory))
        allowed = _allowed(user, st, _host(root, directory), 1)
        if allowed is None:
            return None, '%s has a POSIX ACL: whether %s may search it is not decided here' % (directory, who)
        if not allowed:
            return False, '%s cannot search %s (%s)' % (who, directory, _mode_text(st))
        return None

    walk = walk_path(root, path, before_lookup=may_search)
    if walk.outcome == STOPPED:
        return walk.refusal
    if walk.outcome == MISSING:
        return False, '%s does not exist' % walk.path
    if walk.outcome == CANNOT_STAT:
        return None, 'cannot stat %s: %s' % (walk.path, walk.error.strerror or walk.error)
    if walk.outcome == TOO_MANY_LINKS:
        return False, '%s: too many levels of symbolic links' % path
    if walk.outcome == NOT_A_DIRECTORY:
        return False, '%s is not a directory' % walk.path
    if walk.outcome == CANNOT_READ_LINK:
        raise walk.error  # as any other unexpected error: check_path words it
    current = walk.path
    host = _host(root, current)
    st = os.stat(host)
    shown = path if current == path else '%s (-> %s)' % (path, current)
    if want == 'regular':
        if stat.S_ISREG(st.st_mode):
            return True, '%s can see %s (a regular file)' % (who, shown)
        return False, '%s is not a regular file' % shown
    ok = _allowed(user, st, host, 4)
    if ok is None:
        return None, '%s has a POSIX ACL: whether %s may read it is not decided here' % (shown, who)
    if ok:
        return True, '%s can read %s (%s)' % (who, shown, _mode_text(st))
    return False, '%s cannot read %s (%s)' % (who, shown, _mode_text(st))


def user_check(root, path, user_name, want='read'):
    """:func:`check_path` for a user given by name: ``(True|False|None, reason)``.

    An unknown user is undecidable (None): the file then proves nothing.
    """
    user, err = resolve_user(user_name, root)
    if user is None:
        return None, err
    return check_path(root, path, user, want)
