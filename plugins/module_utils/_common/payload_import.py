# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compile this collection's code once per module run, not twice.

A module runs on a target from Ansible's payload, a zip: Python imports every module of
it with ``zipimport`` and compiles its source (nothing is cached as bytecode). CPython's
``zipimporter.get_filename()`` compiles the whole module to learn its file name, and the
import system asks for that name while it builds the module's spec, before it compiles
the module again to run it (python/cpython#141276, open for every Python a target may
have, 3.8 to 3.14). Compiling is most of what this collection's code costs a run, so
half of it was that second compile.

:func:`compile_sources_once` gives this collection's own packages, from the call on, a
``zipimporter`` whose ``get_filename()`` answers from the archive's table of contents.
Everything else (other collections, ``ansible.module_utils``, the standard library)
imports as Python does it. Importing from a directory, as the unit tests and
``ansible-test`` do, is left alone.

Once is still every run: a zip holds no bytecode Python could reuse. With the module's
``bytecode_cache`` option (on by default) the code each module compiles to is kept on the
target, in ``<remote_tmp>/netdata_fleet_telemetry_bytecode/`` (the ``remote_tmp`` Ansible
itself uses, ``~/.ansible/tmp`` unless configured), and the next run loads it instead
of compiling: one compile per target, interpreter and release of this collection. An
entry is named by its module, the interpreter's bytecode tag and the SHA-256 of its
source, and holds that digest again: a changed source never loads an old entry. It is
loaded only from a directory and a file that are the running user's, not a link and not
writable by anyone else, so nobody but that user (usually root, who could change the
payload anyway) can put code there; anything else, or anything unreadable, means
compiling as without a cache. Writes are atomic (a temporary file renamed), an entry
replaces the older entries of its module, and nothing is written where Python is told
not to write bytecode (``PYTHONDONTWRITEBYTECODE``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import marshal
import os
import stat
import sys
import tempfile

try:
    import zipimport
except ImportError:  # pragma: no cover - every CPython has it; then nothing to mend
    zipimport = None
try:
    import _imp
    import importlib.util
    _FIX_FILENAME = _imp._fix_co_filename  # what importlib does to a code loaded from bytecode
    _MAGIC = importlib.util.MAGIC_NUMBER
except (ImportError, AttributeError):  # pragma: no cover - CPython 3 has both
    _FIX_FILENAME = _MAGIC = None

# The root of this collection's code inside a payload (a path below the zip file).
_OWN_ROOT = '/ansible_collections/netdata_fleet/telemetry/'

# The option of every module that calls compile_sources_once (doc fragment: payload).
PAYLOAD_ARGUMENT_SPEC = {'bytecode_cache': dict(type='bool', default=True)}
CACHE_DIR_NAME = 'netdata_fleet_telemetry_bytecode'
_DEFAULT_REMOTE_TMP = '~/.ansible/tmp'
_HEADER = b'NDFT'


def _own_zip_path(path):
    """Whether *path* (a package's ``__path__`` entry) is inside this collection, in a zip."""
    return isinstance(path, str) and _OWN_ROOT in path.replace('\\', '/') and '.zip' in path


if zipimport is not None:
    class _CompileOnceZipImporter(zipimport.zipimporter):
        """A ``zipimporter`` whose ``get_filename()`` does not compile the module, and whose
        ``get_code()`` asks the bytecode cache first when there is one."""

        def __init__(self, path):
            if not _own_zip_path(path):
                raise ImportError('not this collection\'s code in a zip: %s' % path, path=path)
            zipimport.zipimporter.__init__(self, path)

        # Set by compile_sources_once: a BytecodeCache, or None.
        cache = None

        def _source_path(self, fullname):
            """The file zipimport itself would load: <archive>/<prefix><name>.py or
            .../__init__.py; None when a compiled .pyc is in the archive (zipimport
            prefers it, and checks it against its source: left to zipimport)."""
            package = self.is_package(fullname)  # reads the table of contents only
            stem = self.prefix + fullname.rpartition('.')[2] + ('/__init__' if package else '')
            try:
                self.get_data(self.archive + '/' + stem + '.pyc')
            except OSError:
                return self.archive + '/' + stem + '.py'
            return None

        def get_filename(self, fullname):
            path = self._source_path(fullname)
            return path if path is not None else zipimport.zipimporter.get_filename(self, fullname)

        def get_code(self, fullname):
            path = self._source_path(fullname)
            if path is None:
                return zipimport.zipimporter.get_code(self, fullname)
            # zipimport's own compile: universal newlines, no inherited future flags
            source = self.get_data(path).replace(b'\r\n', b'\n').replace(b'\r', b'\n')
            if self.cache is not None:
                return self.cache.code(fullname, path, source)
            return compile(source, path, 'exec', dont_inherit=True)

        # Python 3.8 and 3.9 import through zipimport's load_module, which compiles on
        # its own; with these the import system goes through get_code there too, as it
        # does from 3.10.
        def create_module(self, spec):
            return None

        def exec_module(self, module):
            exec(self.get_code(module.__spec__.name), module.__dict__)


class BytecodeCache(object):
    """Code objects of this collection's modules, kept in *directory* (see the module doc)."""

    def __init__(self, directory):
        self.directory = directory
        self.tag = '%s-opt%d' % (sys.implementation.cache_tag, sys.flags.optimize)

    def code(self, fullname, path, source):
        """The code of *source* (the module *fullname*, at *path*): loaded from the cache
        when it holds it, else compiled and stored. Never raises for the cache's sake."""
        digest = hashlib.sha256(source).hexdigest()
        name = '%s.%s.%s' % (fullname, self.tag, digest)
        header = _HEADER + _MAGIC + digest.encode('ascii')
        code = self._load(name, header)
        if code is not None:
            _FIX_FILENAME(code, path)
            return code
        code = compile(source, path, 'exec', dont_inherit=True)
        if not sys.dont_write_bytecode:  # PYTHONDONTWRITEBYTECODE, -B: as Python's own caching
            self._store(name, header, code, '%s.%s.' % (fullname, self.tag))
        return code

    def _load(self, name, header):
        try:
            fd = os.open(os.path.join(self.directory, name), os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
        except OSError:
            return None
        try:
            if not _private(os.fstat(fd)):
                return None
            with os.fdopen(fd, 'rb') as handle:
                fd = None
                data = handle.read()
            if not data.startswith(header):
                return None
            code = marshal.loads(data[len(header):])
            return code if type(code).__name__ == 'code' else None
        except (OSError, ValueError, EOFError, TypeError):
            return None
        finally:
            if fd is not None:
                os.close(fd)

    def _store(self, name, header, code, stale_prefix):
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix='.tmp-')
            with os.fdopen(fd, 'wb') as handle:
                handle.write(header + marshal.dumps(code))
            os.rename(tmp, os.path.join(self.directory, name))
            tmp = None
            for other in os.listdir(self.directory):
                if other.startswith(stale_prefix) and other != name:
                    os.unlink(os.path.join(self.directory, other))
        except (OSError, ValueError):
            pass
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def _private(st, directory=False):
    """Whether *st* is the running user's (a directory or a regular file as asked, never
    a link) and nobody else may write to it."""
    kind = stat.S_ISDIR if directory else stat.S_ISREG
    return kind(st.st_mode) and st.st_uid == os.geteuid() and not st.st_mode & 0o022


def _module_args():
    """The arguments Ansible handed this module run, read as the module itself will
    read them (AnsiballZ sets them on ansible.module_utils.basic before the module
    runs); None when there are none (not run by Ansible)."""
    basic = sys.modules.get('ansible.module_utils.basic')
    raw = getattr(basic, '_ANSIBLE_ARGS', None)
    try:
        args = json.loads(raw.decode('utf-8') if isinstance(raw, bytes) else raw)['ANSIBLE_MODULE_ARGS']
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    return args if isinstance(args, dict) else None


def cache_directory(remote_tmp):
    """``<remote_tmp>/netdata_fleet_telemetry_bytecode``, created (0700) when missing, or
    None when it is not private to the running user. ``~`` is the running user's home
    from the password database, not ``$HOME`` (which ``sudo`` may leave as the caller's)."""
    try:
        path = remote_tmp if isinstance(remote_tmp, str) and remote_tmp else _DEFAULT_REMOTE_TMP
        if path == '~' or path.startswith('~/'):
            import pwd
            path = pwd.getpwuid(os.geteuid()).pw_dir + path[1:]
        path = os.path.join(os.path.expandvars(path), CACHE_DIR_NAME)
        if not os.path.isabs(path):
            return None
        _make_private_dirs(path)
        return path if _private(os.lstat(path), directory=True) else None
    except (OSError, KeyError, ImportError):
        return None


def _true(value):
    """*value* as AnsibleModule will read a bool option; a value it refuses (it fails the
    task before any work) counts as true."""
    try:
        from ansible.module_utils.parsing.convert_bool import boolean
    except ImportError:  # not run by Ansible
        return value is not False
    try:
        return boolean(value)
    except TypeError:
        return True


def _make_private_dirs(path):
    """Create *path* and its missing parents 0700, as Ansible creates its remote_tmp."""
    missing = []
    while not os.path.lexists(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for directory in reversed(missing):
        os.mkdir(directory, 0o700)


def _wanted_cache():
    """The BytecodeCache the module's arguments ask for, or None."""
    if _FIX_FILENAME is None or _MAGIC is None:
        return None
    args = _module_args()
    if args is None or not _true(args.get('bytecode_cache', True)):
        return None
    directory = cache_directory(args.get('_ansible_remote_tmp'))
    return BytecodeCache(directory) if directory else None


def compile_sources_once():
    """From now on, import this collection's modules from a payload zip with one compile
    each at most, and none when the bytecode cache holds them (see the module doc). Does
    nothing outside a zip; never raises (without it, imports work as Python does them,
    only slower)."""
    if zipimport is None:
        return False
    try:
        # The packages imported so far (the module's own, this one's) have a plain
        # zipimporter cached for their directory: the next import from there asks it.
        own = [path for path, finder in sys.path_importer_cache.items()
               if isinstance(finder, zipimport.zipimporter) and _own_zip_path(path)]
        if not own:
            return False  # not run from a payload: nothing to import cheaper
        _CompileOnceZipImporter.cache = _wanted_cache()
        if _CompileOnceZipImporter not in sys.path_hooks:
            sys.path_hooks.insert(0, _CompileOnceZipImporter)
        for path in own:
            if not isinstance(sys.path_importer_cache[path], _CompileOnceZipImporter):
                sys.path_importer_cache[path] = _CompileOnceZipImporter(path)
        return True
    except Exception:  # an optimisation only: the import system as it was still works
        return False
