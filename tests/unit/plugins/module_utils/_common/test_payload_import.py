# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""compile_sources_once, on a zip laid out as Ansible's payload is, imported by real
interpreters (this one, the system's, pyenv's 3.8 to 3.13 where they are installed): each
of this collection's modules is compiled once, and everything an import gives (file
names, packages, tracebacks with their source lines, errors) is what zipimport gives."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ast
import glob
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common import payload_import

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), *(['..'] * 5)))
OWN = 'ansible_collections/netdata_fleet/telemetry/plugins/module_utils/'
OTHER = 'ansible_collections/other/coll/plugins/module_utils/'


def _interpreters():
    found = [sys.executable, '/usr/bin/python3']
    root = os.environ.get('PYENV_ROOT') or os.path.expanduser('~/.pyenv')
    for minor in range(8, 14):
        found.extend(sorted(glob.glob(os.path.join(root, 'versions', '3.%d.*' % minor, 'bin', 'python3.%d' % minor))))
    unique = []
    for path in found:
        if os.access(path, os.X_OK) and os.path.realpath(path) not in [os.path.realpath(p) for p in unique]:
            unique.append(path)
    return unique


# Run by each interpreter: builds the payload-like zip (a .pyc needs that interpreter's
# own magic number), imports from it with or without the hook, reports as JSON.
PROBE = r'''
import builtins, collections, importlib.util, json, marshal, os, sys, traceback, zipfile
zip_path, mode, hook_source = sys.argv[1], sys.argv[2], sys.argv[3]
OWN, OTHER = %(own)r, %(other)r
files = {
    'ansible_collections/__init__.py': '',
    'ansible_collections/netdata_fleet/__init__.py': '',
    'ansible_collections/netdata_fleet/telemetry/__init__.py': '',
    'ansible_collections/netdata_fleet/telemetry/plugins/__init__.py': '',
    OWN + '__init__.py': '',
    OWN + '_common/__init__.py': '',
    OWN + '_common/payload_import.py': open(hook_source).read(),
    OWN + '_pkg/__init__.py': 'PACKAGE = True\n',
    OWN + '_pkg/mod.py': 'from . import sibling\nVALUE = sibling.VALUE + 1\n',
    OWN + '_pkg/sibling.py': 'VALUE = 41\n',
    OWN + 'flat.py': 'def boom():\n    raise ValueError("the line the traceback shows")\n',
    OWN + 'broken.py': 'def (:\n',
    'ansible_collections/other/__init__.py': '',
    'ansible_collections/other/coll/__init__.py': '',
    'ansible_collections/other/coll/plugins/__init__.py': '',
    OTHER + '__init__.py': '',
    OTHER + 'theirs.py': 'X = 1\n',
}
with zipfile.ZipFile(zip_path, 'w', zipfile.ZIP_DEFLATED) as z:
    for name, text in files.items():
        z.writestr(name, text)
    # A module shipped compiled (an unchecked hash-based .pyc), beside its source.
    source = b'COMPILED = True\n'
    code = compile(source, 'precompiled.py', 'exec', dont_inherit=True)
    z.writestr(OWN + 'precompiled.py', source)
    z.writestr(OWN + 'precompiled.pyc', importlib.util.MAGIC_NUMBER + (1).to_bytes(4, 'little')
               + importlib.util.source_hash(source) + marshal.dumps(code))
sys.path.insert(0, zip_path)
counts = collections.Counter()
real_compile = builtins.compile
def counting(src, filename, *args, **kwargs):
    counts[str(filename)[len(zip_path) + 1:]] += 1
    return real_compile(src, filename, *args, **kwargs)
import ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.payload_import as hook
installed = hook.compile_sources_once() if mode == 'hook' else None
builtins.compile = counting
base = 'ansible_collections.netdata_fleet.telemetry.plugins.module_utils.'
out = {'installed': installed}
import ansible_collections.netdata_fleet.telemetry.plugins.module_utils._pkg.mod as mod
import ansible_collections.netdata_fleet.telemetry.plugins.module_utils.flat as flat
import ansible_collections.netdata_fleet.telemetry.plugins.module_utils.precompiled as pre
import ansible_collections.other.coll.plugins.module_utils.theirs as theirs
pkg = sys.modules[base + '_pkg']
out['value'] = mod.VALUE
out['compiled'] = pre.COMPILED
out['files'] = dict((m.__name__, [m.__file__, m.__spec__.origin, type(m.__loader__).__name__ != 'NoneType'])
                    for m in (mod, flat, pre, theirs, pkg))
out['pkg_path'] = list(pkg.__path__)
try:
    flat.boom()
except ValueError:
    out['traceback'] = traceback.format_exc()
for name, error in (('missing', ImportError), ('broken', SyntaxError)):
    try:
        __import__(base + name)
        out[name] = 'imported'
    except error as exc:
        out[name] = type(exc).__name__
builtins.compile = real_compile
out['counts'] = counts
print(json.dumps(out))
''' % {'own': OWN, 'other': OTHER}


def _probe(python, tmp_path, mode):
    hook_source = payload_import.__file__.replace('.pyc', '.py')
    zip_path = str(tmp_path / ('ansible_probe_%s_payload.zip' % mode))
    done = subprocess.run([python, '-S', '-c', PROBE, zip_path, mode, hook_source],
                          capture_output=True, text=True, cwd=str(tmp_path), timeout=60,
                          env={'PATH': '/usr/bin:/bin', 'PYTHONDONTWRITEBYTECODE': '1'}, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # file names relative to the zip, so the two runs compare
    result['files'] = dict((k, [v[0].replace(zip_path, 'ZIP'), v[1].replace(zip_path, 'ZIP'), v[2]])
                           for k, v in result['files'].items())
    result['pkg_path'] = [p.replace(zip_path, 'ZIP') for p in result['pkg_path']]
    result['traceback'] = result['traceback'].replace(zip_path, 'ZIP')
    return result


@pytest.mark.parametrize('python', _interpreters())
def test_own_modules_compile_once_and_import_as_zipimport_does(python, tmp_path):
    plain = _probe(python, tmp_path, 'plain')
    hooked = _probe(python, tmp_path, 'hook')
    assert hooked['installed'] is True
    own = [name for name in hooked['counts'] if name.startswith(OWN)]
    assert sorted(own) == sorted(OWN + n for n in ('_pkg/__init__.py', '_pkg/mod.py', '_pkg/sibling.py',
                                                   'flat.py', 'broken.py'))
    assert all(hooked['counts'][name] == 1 for name in own), hooked['counts']
    # What Python does without it (CPython #141276): two compiles each. Should a Python
    # fix that, the hook costs nothing there either.
    assert all(plain['counts'][name] >= hooked['counts'][name] for name in own), plain['counts']
    # Other code in the payload is not this collection's to change.
    assert hooked['counts'][OTHER + 'theirs.py'] == plain['counts'][OTHER + 'theirs.py']
    for key in ('value', 'compiled', 'files', 'pkg_path', 'missing', 'broken'):
        assert hooked[key] == plain[key], key
    assert hooked['value'] == 42 and hooked['compiled'] is True
    assert hooked['files']['ansible_collections.netdata_fleet.telemetry.plugins.module_utils.flat'][0] \
        == 'ZIP/' + OWN + 'flat.py'
    assert hooked['missing'] in ('ModuleNotFoundError', 'ImportError') and hooked['broken'] == 'SyntaxError'
    assert 'raise ValueError("the line the traceback shows")' in hooked['traceback']
    assert 'ZIP/' + OWN + 'flat.py' in hooked['traceback']
    # The compiled module is loaded from its .pyc, as zipimport does: its source is not compiled.
    assert OWN + 'precompiled.py' not in hooked['counts']


def test_outside_a_zip_nothing_changes(tmp_path):
    """As the unit tests and ansible-test import the collection: from a directory."""
    before_hooks, before_cache = list(sys.path_hooks), dict(sys.path_importer_cache)
    try:
        assert payload_import.compile_sources_once() is False
        assert not any(isinstance(f, payload_import._CompileOnceZipImporter)
                       for f in sys.path_importer_cache.values())
        with pytest.raises(ImportError):
            payload_import._CompileOnceZipImporter(str(tmp_path))
    finally:
        sys.path_hooks[:] = before_hooks
        sys.path_importer_cache.clear()
        sys.path_importer_cache.update(before_cache)


def _modules_importing_module_utils():
    found = []
    for path in sorted(glob.glob(os.path.join(REPO, 'plugins', 'modules', '*.py'))):
        with open(path) as handle:
            if '.plugins.module_utils.' in handle.read():
                found.append(os.path.basename(path)[:-3])
    return found


def test_the_modules_that_import_module_utils_are_found():
    assert {'netdata_facts', 'netdata_optout'} <= set(_modules_importing_module_utils())


@pytest.mark.parametrize('module', _modules_importing_module_utils())
def test_modules_install_it_before_their_other_imports(module):
    """Every import of this collection's code before the call is compiled twice."""
    with open(os.path.join(REPO, 'plugins', 'modules', module + '.py')) as handle:
        tree = ast.parse(handle.read())
    order = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('ansible_collections.'):
            order.append(node.module.rsplit('.', 1)[-1])
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) \
                and getattr(node.value.func, 'id', None) == 'compile_sources_once':
            order.append('call')
    assert order[:2] == ['payload_import', 'call'], order
