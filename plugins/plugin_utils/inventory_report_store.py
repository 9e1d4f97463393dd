# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stored facts for a report that contacts no host: Ansible's fact cache, read through
Ansible's own cache plugin loader, or an ``ansible --tree`` directory.

Both give ``lookup(host) -> (result, stored_at)`` for ``records_from_store``: ``result``
has the shape of a task result (``{'ansible_facts': <the host's cached facts>}``, or the
``--tree`` file's own result), None when nothing is stored; ``stored_at`` stands in for
facts without a timestamp (the tree file's mtime; None for a cache, whose plugins do not
share a way to tell).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import stat
import time

# A --tree file holds one module result: a host's facts are tens of KiB. A file far bigger
# than that is not one (and reading it whole would cost the controller's memory).
TREE_FILE_LIMIT = 64 * 1024 * 1024


# ansible-core 2.19's cache encoding marks a tagged value (a template, a vaulted string) with
# this key; a payload without it holds plain JSON data only.
_TYPE_MARKER = '__ansible_type'
# An escaped UTF-16 surrogate: ansible-core's decoder refuses a lone one (strict UTF-8).
_SURROGATE = re.compile(r'\\u[dD][89a-fA-F]')


class StoreError(Exception):
    """The store cannot be read at all (not one host's problem): the report fails."""


def _is_memory(plugin, name):
    # The memory plugin keeps facts in the ansible-playbook process only: a new process
    # (this report) finds it empty. ansible-core 2.19 marks it _persistent = False.
    if getattr(plugin, '_persistent', True) is False:
        return True
    return str(name).rsplit('.', 1)[-1] == 'memory'


def configured_cache():
    """``(plugin, name, persistent)``: the fact cache plugin this run of Ansible is
    configured with (``ANSIBLE_CACHE_PLUGIN`` / ``[defaults] fact_caching`` and the
    plugin's own options), loaded the way Ansible loads it for its facts.

    Going through ``cache_loader`` rather than reading a backend directly is what makes any
    cache plugin work (jsonfile, redis, memcached, yaml, mongodb, ...), with the key prefix,
    the connection and the expiry (``fact_caching_timeout``) Ansible itself applies, and
    with ansible-core 2.19's schema-qualified keys and encoded values.
    """
    from ansible import constants as C
    from ansible.plugins.loader import cache_loader
    name = C.CACHE_PLUGIN
    try:
        plugin = cache_loader.get(name)
    except Exception as exc:  # a missing Python package, a bad connection string, ...
        raise StoreError('cannot load the fact cache plugin %r: %s' % (name, _one_line(exc)))
    if plugin is None:  # ansible-core < 2.19 returns None for an unknown plugin
        raise StoreError('fact cache plugin %r not found' % (name,))
    return plugin, str(name), not _is_memory(plugin, name)


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


def _is_plain(payload):
    """Whether a payload holds plain JSON data only: then the json module decodes it to
    exactly what ansible-core's decoder gives (see ``_plain_payload_getter``)."""
    return isinstance(payload, str) and _TYPE_MARKER not in payload and not _SURROGATE.search(payload)


def _plain_payload_getter(plugin):
    """A faster ``plugin.get`` for ansible-core >= 2.19's wrapped cache plugins, or None.

    The wrapper stores each host as ``{'__payload__': <JSON text>}`` and decodes the text
    with a decoder that looks at every object for tagged values and checks every string:
    most of the time of a 20,000-host report. A payload holding no tagged value and no
    escaped surrogate decodes to exactly the same data with the json module alone; any
    other payload (and any wrapper that does not look like this one) is decoded by
    ansible-core itself.
    """
    raw = getattr(plugin, '__wrapped__', None)
    get_key = getattr(plugin, '_get_key', None)
    payload_key = getattr(plugin, '_PAYLOAD_KEY', None)
    if raw is None or not callable(get_key) or not isinstance(payload_key, str):
        return None
    read_file = _jsonfile_reader(raw)

    def get(host):
        key = get_key(host)
        if read_file is not None:
            value = read_file(key)  # KeyError when the host has no entry (or it expired)
            if value is None:  # not what it should be: ansible-core's own get() says
                return plugin.get(host)
        else:
            value = raw.get(key)  # KeyError when the host has no entry
        payload = value.get(payload_key) if isinstance(value, dict) else None
        if _is_plain(payload):
            return json.loads(payload)
        return plugin.get(host)
    return get


def _jsonfile_reader(raw):
    """``read(key)`` of ansible-core's own ``jsonfile`` cache plugin (that exact class, not a
    subclass), reading the file as the plugin does (its file name, its expiry by the file's
    mtime and ``fact_caching_timeout``) but without its per-call overhead (a pathlib path,
    a stat for the expiry, another for ``contains``) and without keeping every entry it
    read in memory, as the plugin does for a play; None for any other plugin.

    ``read(key)`` raises KeyError where the plugin's ``get`` does (no file, expired) and
    returns the decoded entry, or None for anything else (a file that is not JSON, a
    read error): then ansible-core's own ``get`` handles it (it warns and removes a
    corrupt file)."""
    try:
        from ansible.plugins.cache.jsonfile import CacheModule as JsonFileCache
    except ImportError:
        return None
    file_name = getattr(raw, '_get_cache_file_name', None)
    timeout = getattr(raw, '_timeout', None)
    # that class only: a subclass may store or expire entries its own way
    if raw.__class__ is not JsonFileCache or not callable(file_name) or not isinstance(timeout, (int, float)):
        return None

    def read(key):
        if key == '':
            raise KeyError(key)
        try:
            fd = os.open(file_name(key), os.O_RDONLY)
        except FileNotFoundError:
            raise KeyError(key)
        except OSError:
            return None
        try:
            if timeout and time.time() - os.fstat(fd).st_mtime > timeout:
                raise KeyError(key)  # expired, as BaseFileCacheModule.has_expired tells
            chunks = []
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            return None
        finally:
            os.close(fd)
        try:
            return json.loads(b''.join(chunks).decode('utf-8'))
        except ValueError:  # UnicodeDecodeError too
            return None
    return read


def cache_lookup(plugin, name='fact cache'):
    """``lookup(host)`` over a loaded cache plugin.

    On ansible-core >= 2.19 the loader wraps a persistent plugin so that keys carry a
    schema prefix and values are encoded; entries written by an older ansible-core (another
    controller, or before an upgrade) sit under the bare host name in the plain format.
    Those are read as a fallback, so a fleet cached by mixed controllers is reported whole.
    """
    raw = getattr(plugin, '__wrapped__', None)
    # A file-based plugin (jsonfile, yaml, pickle) of ansible-core < 2.19 warns on every
    # get() of a host it has no file for; asking first costs one stat. (Not for the others:
    # redis' contains() writes, to expire old keys.)
    try:
        from ansible.plugins.cache import BaseFileCacheModule
        file_based = isinstance(raw if raw is not None else plugin, BaseFileCacheModule)
    except ImportError:
        file_based = False

    fast_get = _plain_payload_getter(plugin)

    def read(cache, host):
        try:
            if cache is plugin and fast_get is not None:
                return fast_get(host)  # KeyError for a host without an entry, no warning
            if file_based and not cache.contains(host):
                return None
            return cache.get(host)
        except KeyError:
            return None
        except Exception as exc:
            # A corrupt entry (jsonfile raises AnsibleError, and removes the file, as it
            # does for Ansible itself) is that host's problem; a backend that cannot be
            # reached (redis down) is everyone's: fail rather than report a fleet of
            # "no facts".
            from ansible.errors import AnsibleError
            if isinstance(exc, AnsibleError):
                return {'__report_error__': 'unreadable fact cache entry: %s' % _one_line(exc)}
            raise StoreError('reading the fact cache (%s) failed: %s' % (name, _one_line(exc)))

    def lookup(host):
        value = read(plugin, host)
        if value is None and raw is not None:
            value = read(raw, host)
            if isinstance(value, dict) and '__payload__' in value:
                value = None  # a 2.19 envelope under a bare key: not an entry of ours
        if isinstance(value, dict) and '__report_error__' in value:
            return {'failed': True, 'msg': value['__report_error__']}, None
        return ({'ansible_facts': value} if isinstance(value, dict) else None), None
    return lookup


def hostvars_lookup(hostvars):
    """``lookup(host)`` over ``hostvars`` (each host's ``ansible_facts``): only for the
    memory cache, whose facts exist only in this process (facts gathered earlier in the
    same ansible-playbook run). Reading hostvars computes every variable of the host, so
    this is the slow path; a persistent cache is read directly."""
    from ansible_collections.netdata_fleet.telemetry.plugins.plugin_utils.inventory_report import (
        host_vars_of, read_host_var, to_plain)

    def lookup(host):
        facts = read_host_var(host_vars_of(hostvars, host), 'ansible_facts')
        if not hasattr(facts, 'get') or facts.get('netdata') is None:
            return None, None
        return {'ansible_facts': to_plain({'netdata': facts.get('netdata'),
                                           'date_time': facts.get('date_time')})}, None
    return lookup


def _tree_file(directory, host):
    """``(result, mtime)`` of one host's --tree file; ``(None, None)`` when there is none."""
    if not host or host in ('.', '..') or '/' in host or '\x00' in host:
        return None, None
    path = os.path.join(directory, host)
    try:
        st = os.lstat(path)
    except OSError:
        return None, None
    if not stat.S_ISREG(st.st_mode):
        return None, None
    mtime = int(st.st_mtime)
    if st.st_size > TREE_FILE_LIMIT:
        return {'failed': True, 'msg': '--tree file too large (%d bytes)' % st.st_size}, mtime
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, 'O_NOFOLLOW', 0))
        with os.fdopen(fd, 'rb') as handle:
            data = handle.read()
    except OSError as exc:
        return {'failed': True, 'msg': 'cannot read the --tree file: %s' % (exc.strerror or exc)}, mtime
    try:
        result = json.loads(data.decode('utf-8'))
    except ValueError as exc:
        return {'failed': True, 'msg': 'not a JSON task result in the --tree file: %s' % exc}, mtime
    if not isinstance(result, dict):
        return {'failed': True, 'msg': 'not a JSON task result in the --tree file'}, mtime
    return result, mtime


def tree_hosts(directory):
    """The hosts an ``ansible --tree`` directory has a file for (its regular files; dot
    files, links and subdirectories are not results), in no particular order."""
    try:
        names = os.listdir(directory)
    except OSError as exc:
        raise StoreError('cannot read the --tree directory %s: %s' % (directory, exc.strerror or exc))
    out = []
    for name in names:
        if name.startswith('.'):
            continue
        try:
            if stat.S_ISREG(os.lstat(os.path.join(directory, name)).st_mode):
                out.append(name)
        except OSError:
            continue
    return out


def tree_lookup(directory):
    """``lookup(host)`` over an ``ansible --tree`` directory (the file named as the host).
    A file that is not JSON is that host's failure, not the report's."""
    def lookup(host):
        return _tree_file(directory, host)
    return lookup
