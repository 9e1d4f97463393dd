# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading and writing files as root without being tricked by what sits at the path.

Everything here runs as root on a target, in directories other users may be able to
write to. So:

- an existing target is read with ``lstat`` + ``O_NOFOLLOW``: a symlink planted at the
  path is never followed; it is refused with an ``UnsafePathError`` that says why;
- a write is atomic: a temporary file made with ``mkstemp`` in the target's own
  directory, written, ``fsync``ed, given its owner and mode explicitly (a new file
  would otherwise get ``0666 & ~umask`` and the writer's owner), renamed over the
  target (``rename`` replaces a path, it never writes through a link), then the
  directory is ``fsync``ed so the rename survives a crash;
- a directory the caller asks for is created with an explicit mode, and an existing
  one that is a symlink is refused.

Functions raise ``UnsafePathError`` for what must not be done and let ``OSError``
through for what the system refused (read-only file system, missing directory); the
caller turns both into a per-host message.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import stat
import tempfile


class UnsafePathError(Exception):
    """The path holds something we refuse to read, replace or remove (a symlink, a
    directory where a file is expected, a device...)."""


def _describe(mode):
    if stat.S_ISLNK(mode):
        return 'a symlink'
    if stat.S_ISDIR(mode):
        return 'a directory'
    if stat.S_ISFIFO(mode):
        return 'a FIFO'
    if stat.S_ISSOCK(mode):
        return 'a socket'
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return 'a device'
    return 'not a regular file'


def lstat_or_none(path):
    """``os.lstat(path)``, or None when nothing is at the path."""
    try:
        return os.lstat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise


def file_state(path):
    """``'missing'``, ``'file'``, or a phrase like ``'a symlink'`` for anything else."""
    st = lstat_or_none(path)
    if st is None:
        return 'missing'
    if stat.S_ISREG(st.st_mode):
        return 'file'
    return _describe(st.st_mode)


def read_file(path, max_bytes=16 * 1024 * 1024):
    """The bytes of the regular file at *path*, or None when it does not exist.

    A symlink (even one to a regular file) or any non-regular file raises
    ``UnsafePathError``; the file is opened with ``O_NOFOLLOW`` so a link swapped in
    between the ``lstat`` and the ``open`` fails instead of being followed.
    """
    st = lstat_or_none(path)
    if st is None:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePathError('%s is %s; refusing to read or replace it' % (path, _describe(st.st_mode)))
    flags = os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_NONBLOCK', 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError('%s became a symlink while being read; refusing it' % path)
        raise
    try:
        fst = os.fstat(fd)
        if not stat.S_ISREG(fst.st_mode):
            raise UnsafePathError('%s is %s; refusing to read it' % (path, _describe(fst.st_mode)))
        chunks = []
        total = 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise UnsafePathError('%s is larger than %d bytes; refusing to edit it' % (path, max_bytes))
            chunks.append(chunk)
        return b''.join(chunks)
    finally:
        os.close(fd)


def fsync_dir(path):
    """Make a rename or unlink in *path* durable; best effort (some filesystems refuse)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ensure_dir(path, mode=0o755, owner=0, group=0, create=True):
    """Make sure *path* is a real directory (not a symlink to one).

    Returns True when it was created. Only the last component is created; a missing
    parent raises ``OSError`` (ENOENT) so a typo never grows a tree.
    """
    st = lstat_or_none(path)
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            return False
        raise UnsafePathError('%s is %s, not a directory; refusing to use it' % (path, _describe(st.st_mode)))
    if not create:
        raise OSError(errno.ENOENT, 'No such directory', path)
    os.mkdir(path, mode)
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | getattr(os, 'O_NOFOLLOW', 0))
    try:
        os.fchmod(fd, mode)
        if owner is not None or group is not None:
            os.fchown(fd, -1 if owner is None else owner, -1 if group is None else group)
    finally:
        os.close(fd)
    fsync_dir(os.path.dirname(path) or '.')
    return True


def write_file(path, data, mode=0o644, owner=0, group=0):
    """Atomically replace (or create) the regular file at *path* with *data* (bytes).

    *owner*/*group* None keeps the id of the process. Refuses a symlink or non-regular
    file at *path* (``UnsafePathError``). The temporary file is made in *path*'s own
    directory and renamed over it, so on an SELinux host the file gets the label new
    files get in that directory, as a file the admin's editor saves there would
    (``AnsibleModule.atomic_move`` is not used: it may fail the module halfway through a
    plan, and it copies the old file's owner and mode, which these writes set).
    """
    st = lstat_or_none(path)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UnsafePathError('%s is %s; refusing to replace it' % (path, _describe(st.st_mode)))
    directory = os.path.dirname(path) or '.'
    # The directory may be reached through a symlink (an admin's layout, e.g. /etc/netdata
    # -> /srv/netdata/etc): only the last component is the planted-link risk.
    try:
        dst = os.stat(directory)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            raise OSError(errno.ENOENT, 'Directory does not exist', directory)
        raise
    if not stat.S_ISDIR(dst.st_mode):
        raise UnsafePathError('%s is %s, not a directory' % (directory, _describe(dst.st_mode)))
    fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
            os.fchmod(fd, mode)
            if owner is not None or group is not None:
                os.fchown(fd, -1 if owner is None else owner, -1 if group is None else group)
        finally:
            os.close(fd)
        os.rename(tmp, path)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    fsync_dir(directory)


def remove_file(path, allow_symlink=False):
    """Remove the regular file at *path*. Returns True when something was removed.

    A symlink is removed only with *allow_symlink* (unlinking a link never touches its
    target, but it may be the user's own); other non-regular files are refused.
    """
    st = lstat_or_none(path)
    if st is None:
        return False
    if stat.S_ISLNK(st.st_mode) and not allow_symlink:
        raise UnsafePathError('%s is a symlink; refusing to remove it' % path)
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise UnsafePathError('%s is %s; refusing to remove it' % (path, _describe(st.st_mode)))
    os.unlink(path)
    fsync_dir(os.path.dirname(path) or '.')
    return True


def file_meta(path):
    """``{'mode': int, 'uid': int, 'gid': int}`` of the regular file at *path*, or None."""
    st = lstat_or_none(path)
    if st is None or not stat.S_ISREG(st.st_mode):
        return None
    return {'mode': stat.S_IMODE(st.st_mode), 'uid': st.st_uid, 'gid': st.st_gid}
