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
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import sys

try:
    import zipimport
except ImportError:  # pragma: no cover - every CPython has it; then nothing to mend
    zipimport = None

# The root of this collection's code inside a payload (a path below the zip file).
_OWN_ROOT = '/ansible_collections/netdata_fleet/telemetry/'


def _own_zip_path(path):
    """Whether *path* (a package's ``__path__`` entry) is inside this collection, in a zip."""
    return isinstance(path, str) and _OWN_ROOT in path.replace('\\', '/') and '.zip' in path


if zipimport is not None:
    class _CompileOnceZipImporter(zipimport.zipimporter):
        """A ``zipimporter`` whose ``get_filename()`` does not compile the module."""

        def __init__(self, path):
            if not _own_zip_path(path):
                raise ImportError('not this collection\'s code in a zip: %s' % path, path=path)
            zipimport.zipimporter.__init__(self, path)

        def get_filename(self, fullname):
            # The file zipimport itself would name: <archive>/<prefix><name>.py or
            # .../__init__.py. A compiled .pyc in the archive is preferred by zipimport
            # and checked against its source: leave that case to zipimport.
            package = self.is_package(fullname)  # reads the table of contents only
            stem = self.prefix + fullname.rpartition('.')[2] + ('/__init__' if package else '')
            try:
                self.get_data(self.archive + '/' + stem + '.pyc')
            except OSError:
                return self.archive + '/' + stem + '.py'
            return zipimport.zipimporter.get_filename(self, fullname)


def compile_sources_once():
    """From now on, import this collection's modules from a payload zip with one compile
    each (see the module doc). Does nothing outside a zip; never raises (without it,
    imports work as Python does them, only slower)."""
    if zipimport is None:
        return False
    try:
        if _CompileOnceZipImporter not in sys.path_hooks:
            sys.path_hooks.insert(0, _CompileOnceZipImporter)
        # The packages imported so far (the module's own, this one's) have a plain
        # zipimporter cached for their directory: the next import from there asks it.
        replaced = False
        for path, finder in list(sys.path_importer_cache.items()):
            if (isinstance(finder, zipimport.zipimporter) and not isinstance(finder, _CompileOnceZipImporter)
                    and _own_zip_path(path)):
                sys.path_importer_cache[path] = _CompileOnceZipImporter(path)
                replaced = True
        return replaced
    except Exception:  # an optimisation only: the import system as it was still works
        return False
