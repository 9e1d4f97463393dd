# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""walk_path, the resolver agent_access and containers share, on real trees; the kernel
(os.stat, os.path.realpath on our own root) is the reference where it can answer."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import random

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common import path_walk
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.path_walk import (
    CANNOT_READ_LINK, CANNOT_STAT, MAX_SYMLINKS, MISSING, NOT_A_DIRECTORY, RESOLVED, STOPPED, TOO_MANY_LINKS,
    walk_path)


def tree(root, dirs=(), files=(), links=()):
    for d in dirs:
        os.makedirs(os.path.join(str(root), d.lstrip('/')))
    for f in files:
        open(os.path.join(str(root), f.lstrip('/')), 'w').close()
    for link, target in links:
        os.symlink(target, os.path.join(str(root), link.lstrip('/')))
    return str(root)


def outcome(walk):
    return walk.outcome, walk.path


def test_absolute_symlinks_restart_at_the_root_not_at_ours(tmp_path):
    root = tree(tmp_path, dirs=['/etc/netdata', '/opt/netdata/etc'], links=[('/opt/netdata/etc/netdata', '/etc/netdata')])
    assert outcome(walk_path(root, '/opt/netdata/etc/netdata')) == (RESOLVED, '/etc/netdata')


def test_relative_symlinks_continue_from_the_link_directory(tmp_path):
    root = tree(tmp_path, dirs=['/srv/real/deep'], links=[('/srv/rel', 'real/deep'), ('/srv/up', '../srv/real')])
    assert outcome(walk_path(root, '/srv/rel')) == (RESOLVED, '/srv/real/deep')
    assert outcome(walk_path(root, '/srv/up/deep')) == (RESOLVED, '/srv/real/deep')


def test_dot_dot_after_a_symlink_is_the_parent_of_its_target_and_never_above_the_root(tmp_path):
    root = tree(tmp_path, dirs=['/real/deep', '/a'], links=[('/a/link', '/real/deep')])
    # the kernel's way, not the lexical one (which would give /a)
    assert outcome(walk_path(root, '/a/link/..')) == (RESOLVED, '/real')
    assert outcome(walk_path(root, '/../../real/./deep/../..')) == (RESOLVED, '/')
    assert outcome(walk_path(root, '/')) == (RESOLVED, '/')


def test_loops_stop_at_the_hop_limit(tmp_path):
    root = tree(tmp_path, links=[('/self', 'self'), ('/ping', '/pong'), ('/pong', 'ping')])
    for path in ('/self', '/ping/x'):
        walk = walk_path(root, path)
        assert walk.outcome == TOO_MANY_LINKS


@pytest.mark.parametrize('links, expected', [(MAX_SYMLINKS, RESOLVED), (MAX_SYMLINKS + 1, TOO_MANY_LINKS)])
def test_hop_limit_is_the_kernels(tmp_path, links, expected):
    # l0 -> l1 -> ... -> target: `links` symlinks followed in one walk
    root = tree(tmp_path, files=['/target'],
                links=[('/l%d' % i, 'l%d' % (i + 1) if i + 1 < links else 'target') for i in range(links)])
    assert MAX_SYMLINKS == 40
    assert walk_path(root, '/l0').outcome == expected
    try:  # the kernel itself, on the same chain
        os.stat(os.path.join(root, 'l0'))
        kernel = RESOLVED
    except OSError as exc:
        assert exc.errno == errno.ELOOP
        kernel = TOO_MANY_LINKS
    assert kernel == expected


def test_missing_entries_say_where_and_whether_last(tmp_path):
    root = tree(tmp_path, dirs=['/etc'], files=['/etc/file'], links=[('/dangling', '/nowhere/x')])
    assert walk_path(root, '/etc/new')[:3] == (MISSING, '/etc/new', True)
    assert walk_path(root, '/etc/new/deeper')[:3] == (MISSING, '/etc/new', False)
    assert walk_path(root, '/dangling')[:3] == (MISSING, '/nowhere', False)
    assert walk_path(root, '/etc/new').error.errno == errno.ENOENT
    assert outcome(walk_path(root, '/etc/file/x')) == (NOT_A_DIRECTORY, '/etc/file')


def test_stat_and_readlink_failures_are_reported(tmp_path, monkeypatch):
    root = tree(tmp_path, dirs=['/etc'], links=[('/etc/link', '/etc')])
    long_name = walk_path(root, '/etc/' + 'x' * 300)
    assert long_name.outcome == CANNOT_STAT and long_name.error.errno == errno.ENAMETOOLONG

    def readlink(path):
        raise OSError(errno.EIO, 'Input/output error')
    monkeypatch.setattr(path_walk.os, 'readlink', readlink)
    walk = walk_path(root, '/etc/link/x')
    assert (walk.outcome, walk.path, walk.error.errno) == (CANNOT_READ_LINK, '/etc/link', errno.EIO)


def test_before_lookup_sees_every_directory_but_the_root_and_can_stop(tmp_path):
    root = tree(tmp_path, dirs=['/a/b', '/c'], links=[('/a/b/up', '../../c')])
    seen = []

    def record(directory):
        seen.append(directory)
    assert outcome(walk_path(root, '/a/./b/up/..', before_lookup=record)) == (RESOLVED, '/')
    # '.' is skipped; '..' is looked up in /c like any name
    assert seen == ['/a', '/a/b', '/a/b', '/a', '/c']

    walk = walk_path(root, '/a/b/up', before_lookup=lambda d: 'no' if d == '/a/b' else None)
    assert (walk.outcome, walk.path, walk.refusal) == (STOPPED, '/a/b', 'no')


def test_with_our_own_root_it_agrees_with_realpath(tmp_path):
    # Random trees of dirs, files and symlinks (absolute ones kept inside tmp_path): every
    # path that exists resolves where the kernel's resolution (realpath) puts it.
    rng = random.Random(7)
    base = str(tmp_path)
    names = ['a', 'b', 'c']

    def target():
        parts = [rng.choice(names + ['..', '.']) for _i in range(rng.randint(1, 3))]
        return (base + '/' if rng.random() < 0.3 else '') + '/'.join(parts)

    def build(directory, depth):
        for name in names:
            path = os.path.join(directory, name)
            pick = rng.random()
            if pick < 0.4 and depth < 3:
                os.mkdir(path)
                build(path, depth + 1)
            elif pick < 0.6:
                open(path, 'w').close()
            elif pick < 0.9:
                os.symlink(target(), path)
    build(base, 0)
    compared = 0
    for _i in range(400):
        path = base + '/' + '/'.join(rng.choice(names + ['..', '.']) for _j in range(rng.randint(1, 5)))
        if not os.path.exists(path):
            continue
        walk = walk_path('/', path)
        assert (walk.outcome, walk.path) == (RESOLVED, os.path.realpath(path)), path
        compared += 1
    assert compared > 50
