# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""safe_files: atomic writes with explicit owner/mode, and no symlink is ever followed."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

import pytest


from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common import safe_files  # noqa: E402


def test_read_missing_is_none(tmp_path):
    assert safe_files.read_file(str(tmp_path / 'nope')) is None
    assert safe_files.file_state(str(tmp_path / 'nope')) == 'missing'
    assert safe_files.file_state(str(tmp_path / 'nope' / 'deeper')) == 'missing'


def test_read_regular(tmp_path):
    p = tmp_path / 'f'
    p.write_bytes(b'a\r\nb')
    assert safe_files.read_file(str(p)) == b'a\r\nb'


def test_read_refuses_symlink_even_to_regular_file(tmp_path):
    target = tmp_path / 'secret'
    target.write_text('s3cret')
    link = tmp_path / 'link'
    link.symlink_to(target)
    with pytest.raises(safe_files.UnsafePathError, match='symlink'):
        safe_files.read_file(str(link))


def test_read_refuses_fifo_without_blocking(tmp_path):
    p = tmp_path / 'fifo'
    os.mkfifo(str(p))
    with pytest.raises(safe_files.UnsafePathError, match='FIFO'):
        safe_files.read_file(str(p))


def test_write_creates_with_explicit_mode_despite_umask(tmp_path):
    p = tmp_path / 'new'
    old = os.umask(0o077)
    try:
        safe_files.write_file(str(p), b'x', mode=0o644, owner=None, group=None)
    finally:
        os.umask(old)
    assert p.read_bytes() == b'x'
    assert stat.S_IMODE(p.stat().st_mode) == 0o644
    assert [n for n in os.listdir(str(tmp_path)) if n != 'new'] == []  # no temp file left


@pytest.mark.skipif(os.geteuid() != 0, reason='chown needs root')
def test_write_sets_owner(tmp_path):
    p = tmp_path / 'owned'
    safe_files.write_file(str(p), b'x', mode=0o600, owner=1, group=2)
    st = p.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1, 2, 0o600)


def test_write_replaces_atomically_new_inode(tmp_path):
    p = tmp_path / 'f'
    p.write_bytes(b'old')
    ino = p.stat().st_ino
    safe_files.write_file(str(p), b'new', owner=None, group=None)
    assert p.read_bytes() == b'new'
    assert p.stat().st_ino != ino


def test_write_refuses_planted_symlink_and_leaves_target(tmp_path):
    target = tmp_path / 'victim'
    target.write_text('precious')
    link = tmp_path / 'zz.conf'
    link.symlink_to(target)
    with pytest.raises(safe_files.UnsafePathError, match='symlink'):
        safe_files.write_file(str(link), b'evil', owner=None, group=None)
    assert target.read_text() == 'precious'
    assert link.is_symlink()
    assert sorted(os.listdir(str(tmp_path))) == ['victim', 'zz.conf']


def test_write_refuses_dangling_symlink(tmp_path):
    link = tmp_path / 'zz.conf'
    link.symlink_to(tmp_path / 'would-be-created')
    with pytest.raises(safe_files.UnsafePathError):
        safe_files.write_file(str(link), b'evil', owner=None, group=None)
    assert not (tmp_path / 'would-be-created').exists()


def test_write_missing_dir_is_oserror(tmp_path):
    with pytest.raises(OSError):
        safe_files.write_file(str(tmp_path / 'no' / 'f'), b'x', owner=None, group=None)


def test_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    p = tmp_path / 'f'
    p.write_bytes(b'old')

    def boom(*_a):
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', boom)
    with pytest.raises(OSError):
        safe_files.write_file(str(p), b'new', owner=None, group=None)
    assert os.listdir(str(tmp_path)) == ['f']
    assert p.read_bytes() == b'old'


def test_remove_file_and_symlink_policy(tmp_path):
    f = tmp_path / 'f'
    f.write_text('x')
    assert safe_files.remove_file(str(f)) is True
    assert safe_files.remove_file(str(f)) is False
    target = tmp_path / 'target'
    target.write_text('keep')
    link = tmp_path / 'link'
    link.symlink_to(target)
    with pytest.raises(safe_files.UnsafePathError):
        safe_files.remove_file(str(link))
    assert safe_files.remove_file(str(link), allow_symlink=True) is True
    assert target.read_text() == 'keep'
    d = tmp_path / 'dir'
    d.mkdir()
    with pytest.raises(safe_files.UnsafePathError, match='directory'):
        safe_files.remove_file(str(d))


def test_ensure_dir(tmp_path):
    d = tmp_path / 'x.service.d'
    assert safe_files.ensure_dir(str(d), 0o755, owner=None, group=None) is True
    assert stat.S_IMODE(d.stat().st_mode) == 0o755
    assert safe_files.ensure_dir(str(d), owner=None, group=None) is False
    real = tmp_path / 'real'
    real.mkdir()
    link = tmp_path / 'linkdir'
    link.symlink_to(real)
    with pytest.raises(safe_files.UnsafePathError):
        safe_files.ensure_dir(str(link))
    with pytest.raises(OSError):
        safe_files.ensure_dir(str(tmp_path / 'a' / 'b'))


def test_file_meta(tmp_path):
    f = tmp_path / 'f'
    f.write_text('x')
    os.chmod(str(f), 0o640)
    assert safe_files.file_meta(str(f))['mode'] == 0o640
    assert safe_files.file_meta(str(tmp_path / 'none')) is None


def test_write_through_symlinked_directory_is_allowed(tmp_path):
    real = tmp_path / 'srv-etc'
    real.mkdir()
    (tmp_path / 'etc-netdata').symlink_to(real)
    safe_files.write_file(str(tmp_path / 'etc-netdata' / 'netdata.conf'), b'x', owner=None, group=None)
    assert (real / 'netdata.conf').read_bytes() == b'x'
