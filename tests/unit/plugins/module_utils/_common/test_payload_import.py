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
OWN_PACKAGE = OWN.replace('/', '.')  # the cache names entries by module
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
import builtins, collections, importlib.util, json, marshal, os, sys, traceback, types, zipfile
zip_path, mode, hook_source, module_args, variant = sys.argv[1:6]
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
    OWN + '_pkg/sibling.py': 'VALUE = 41\n# ' + variant + '\n',
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
if module_args:  # as AnsiballZ leaves them for the module
    sys.modules['ansible.module_utils.basic'] = basic = types.ModuleType('ansible.module_utils.basic')
    basic._ANSIBLE_ARGS = json.dumps({'ANSIBLE_MODULE_ARGS': json.loads(module_args)}).encode()
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


def _probe_env(tmp_path, dont_write_bytecode):
    env = {'PATH': '/usr/bin:/bin', 'PYTHONPYCACHEPREFIX': str(tmp_path / 'pycache-prefix')}
    if dont_write_bytecode:
        env['PYTHONDONTWRITEBYTECODE'] = '1'
    return env


def _probe(python, tmp_path, mode, module_args=None, run='', variant='one', dont_write_bytecode=False):
    hook_source = payload_import.__file__.replace('.pyc', '.py')
    zip_path = str(tmp_path / ('ansible_probe_%s%s_payload.zip' % (mode, run)))
    args = json.dumps(module_args) if module_args is not None else ''
    done = subprocess.run([python, '-S', '-c', PROBE, zip_path, mode, hook_source, args, variant],
                          capture_output=True, text=True, cwd=str(tmp_path), timeout=60,
                          env=_probe_env(tmp_path, dont_write_bytecode), check=False)
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


# ------------------------------------------------------------------ the bytecode cache

CACHED = ('_pkg/__init__.py', '_pkg/mod.py', '_pkg/sibling.py', 'flat.py')


def _own_compiles(result):
    return dict((name[len(OWN):], count) for name, count in result['counts'].items() if name.startswith(OWN))


def _entries(directory):
    return sorted(os.listdir(str(directory))) if directory.exists() else []


@pytest.mark.parametrize('python', _interpreters())
def test_a_second_run_loads_the_cache_and_imports_as_zipimport_does(python, tmp_path):
    remote_tmp = tmp_path / 'home' / '.ansible' / 'tmp'
    cache = remote_tmp / payload_import.CACHE_DIR_NAME
    args = {'_ansible_remote_tmp': str(remote_tmp)}
    plain = _probe(python, tmp_path, 'plain')
    first = _probe(python, tmp_path, 'hook', args, run='1')
    assert all(_own_compiles(first).get(name) == 1 for name in CACHED), first['counts']
    # created as Ansible creates its remote_tmp: private to the user, parents too
    for directory in (cache, remote_tmp, remote_tmp.parent):
        assert oct(directory.stat().st_mode & 0o777) == oct(0o700), directory
    # one entry per module that compiled (not the broken one, not the shipped .pyc)
    assert sorted(n.split('.cpython-')[0] for n in _entries(cache)) == [
        OWN_PACKAGE + m for m in ('_pkg', '_pkg.mod', '_pkg.sibling', 'flat')]
    second = _probe(python, tmp_path, 'hook', args, run='2')  # another payload path, as every run
    assert all(name not in _own_compiles(second) for name in CACHED), second['counts']
    assert _own_compiles(second)['broken.py'] == 1  # a syntax error is never stored
    for key in ('value', 'compiled', 'files', 'pkg_path', 'missing', 'broken', 'traceback'):
        assert second[key] == plain[key], key
    # the code loaded from the cache names this run's file: the traceback shows its lines
    assert 'raise ValueError("the line the traceback shows")' in second['traceback']


def _entry(cache, module):
    found = [n for n in os.listdir(str(cache)) if n.startswith(OWN_PACKAGE + module + '.')]
    assert len(found) == 1, found
    return cache / found[0]


@pytest.mark.parametrize('spoil, recompiled', [
    ('garbage', 'flat.py'),             # not an entry of ours: compiled, and replaced
    ('other_digest', 'flat.py'),        # an entry whose digest is not its name's
    ('group_writable', 'flat.py'),      # someone else could have written it
    ('symlink', 'flat.py'),             # a link: never followed
    ('source_changed', '_pkg/sibling.py'),  # a new release of the module: its old entry goes
])
def test_a_spoilt_or_stale_entry_is_compiled_anew(tmp_path, spoil, recompiled):
    python = sys.executable
    remote_tmp = tmp_path / 'rt'
    cache = remote_tmp / payload_import.CACHE_DIR_NAME
    args = {'_ansible_remote_tmp': str(remote_tmp)}
    _probe(python, tmp_path, 'hook', args, run='1')
    variant, old = 'one', None
    flat = _entry(cache, 'flat')
    if spoil == 'garbage':
        flat.write_bytes(b'not bytecode')
    elif spoil == 'other_digest':
        data = flat.read_bytes()
        flat.write_bytes(data[:8] + b'0' * 64 + data[72:])
    elif spoil == 'group_writable':
        flat.chmod(0o664)
    elif spoil == 'symlink':
        target = tmp_path / 'elsewhere'
        target.write_bytes(flat.read_bytes())
        flat.unlink()
        flat.symlink_to(target)
    else:
        variant = 'two'
        old = _entry(cache, '_pkg.sibling')
    again = _probe(python, tmp_path, 'hook', args, run='2', variant=variant)
    compiled = _own_compiles(again)
    assert compiled.get(recompiled) == 1, compiled
    assert all(name not in compiled for name in CACHED if name != recompiled), compiled
    assert again['value'] == 42
    rewritten = _entry(cache, recompiled[:-3].replace('/', '.'))
    assert not rewritten.is_symlink() and oct(rewritten.stat().st_mode & 0o777) == oct(0o600)
    if spoil == 'source_changed':
        assert rewritten != old and not old.exists()
    third = _probe(python, tmp_path, 'hook', args, run='3', variant=variant)
    assert all(name not in _own_compiles(third) for name in CACHED), third['counts']


@pytest.mark.parametrize('setup', ['open_to_others', 'someone_elses', 'a_link', 'switched_off'])
def test_no_cache_where_it_is_not_private_or_not_wanted(tmp_path, setup):
    """Anywhere another user could have put code, nothing is loaded or written: every
    module compiles, as without a cache."""
    remote_tmp = tmp_path / 'rt'
    cache = remote_tmp / payload_import.CACHE_DIR_NAME
    args = {'_ansible_remote_tmp': str(remote_tmp)}
    _probe(sys.executable, tmp_path, 'hook', args, run='1')
    before = _entries(cache)
    assert before
    if setup == 'open_to_others':
        cache.chmod(0o777)
    elif setup == 'someone_elses':
        if os.geteuid() != 0:
            pytest.skip('chown needs root')
        os.chown(str(cache), 4242, 4242)
    elif setup == 'a_link':
        real = tmp_path / 'real-cache'
        cache.rename(real)
        cache.symlink_to(real)
    else:
        args['bytecode_cache'] = False
    again = _probe(sys.executable, tmp_path, 'hook', args, run='2', variant='changed')
    assert all(_own_compiles(again).get(name) == 1 for name in CACHED), again['counts']
    assert _entries(cache) == before or setup == 'a_link' and _entries(tmp_path / 'real-cache') == before


def test_switched_off_creates_nothing(tmp_path):
    remote_tmp = tmp_path / 'rt'
    _probe(sys.executable, tmp_path, 'hook', {'_ansible_remote_tmp': str(remote_tmp), 'bytecode_cache': False})
    assert not remote_tmp.exists()


def test_told_not_to_write_bytecode_it_writes_none(tmp_path):
    cache = tmp_path / 'rt' / payload_import.CACHE_DIR_NAME
    args = {'_ansible_remote_tmp': str(tmp_path / 'rt')}
    _probe(sys.executable, tmp_path, 'hook', args, dont_write_bytecode=True)
    assert _entries(cache) == []
    _probe(sys.executable, tmp_path, 'hook', args, run='1')
    # what is there is still used
    again = _probe(sys.executable, tmp_path, 'hook', args, run='2', dont_write_bytecode=True)
    assert all(name not in _own_compiles(again) for name in CACHED), again['counts']


@pytest.mark.parametrize('value, wanted', [
    (True, True), (False, False), ('no', False), ('off', False), (0, False), ('yes', True),
    ('nonsense', True),  # AnsibleModule refuses it and fails the task before any work
])
def test_the_option_reads_as_ansible_reads_a_bool(value, wanted):
    assert payload_import._true(value) is wanted


def test_not_run_by_ansible_no_cache(tmp_path):
    """Without Ansible's module arguments (a payload run by hand, a test) there is no
    cache: run twice, every module compiles both times."""
    for run in ('1', '2'):
        result = _probe(sys.executable, tmp_path, 'hook', run=run)
        assert all(_own_compiles(result).get(name) == 1 for name in CACHED), result['counts']


@pytest.mark.parametrize('module', _modules_importing_module_utils())
def test_modules_take_and_document_the_cache_option(module):
    """compile_sources_once reads bytecode_cache from the module's arguments: a module
    that did not accept it would fail every task that sets it."""
    with open(os.path.join(REPO, 'plugins', 'modules', module + '.py')) as handle:
        source = handle.read()
    assert '**PAYLOAD_ARGUMENT_SPEC' in source
    assert '  - netdata_fleet.telemetry.payload\n' in source
