# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container agents as installs of the facts contract (``kind: container``).

One install per container that ``containers.discover_containers()`` found. A running
one is read by the very collectors host installs use (``installs.describe_install``),
given the container's view root (``/proc/PID/root``) as their *root*, with every path
first resolved inside that root; nothing is started inside the container. A stopped
one (no view root) is read from the files it will start with: its config volume's host
path, else its overlay layers as the runtime names them.

Each install carries a ``container`` object (``netdata_facts`` RETURN documents it);
the verdict is made in ``_facts`` from the same rules as every install, with the
image entrypoint's rule (``_rules.channels.container_entrypoint_opts_out``) for what
the next start and a re-creation do.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.files import (
    host_path as _host, read_host_text)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import (
    OPTOUT_FILE_NAME, TELEMETRY_VARS)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery import containers as ct
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.installs import (
    HostScan, InstallSite, _broken_install, claimed_id_from_cloud_conf, daemon_web_address, describe_install,
    parse_install_type, parse_machine_guid)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery.netdata_conf import read_netdata_conf
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._discovery import registry_hello
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.netdata import V_CRASH_REPORTS
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._rules.versions import parse_version

DEFAULT_PREFIX = '/'


def _join(prefix, path):
    return os.path.normpath('/' + prefix.strip('/') + '/' + path.lstrip('/'))


def _container_object(entry):
    inspect = entry.get('inspect') or {}
    return {
        'runtime': entry.get('runtime') or 'unknown',
        'id': entry.get('id'),
        'name': entry.get('name'),
        'image': entry.get('image'),
        'status': entry.get('status'),
        'running': bool(entry.get('running')),
        'host_pid': entry.get('host_pid'),
        'view_root': entry.get('view_root'),
        'cli': entry.get('cli'),
        'environment': None,
        'environment_source': None,
        'entrypoint': None,
        'entrypoint_creates_optout': None,
        'config_persistence': 'unknown',
        'config_mount': None,
        'config_host_path': None,
        'version_source': None,
        'compose': inspect.get('compose'),
        'next_start_optout_file': None,
        'stock_crash_reports': None,
        'after_recreate': None,
        'opted_out_until_recreated': False,
    }


def _environment(entry, daemon):
    """The environment the container starts with: inspect's ``Config.Env`` (it changes
    only with re-creation), else the running daemon's own (the same, for an agent that
    is the container's entrypoint's ``exec``)."""
    inspect = entry.get('inspect')
    if inspect and inspect.get('env_known'):
        return dict(inspect['environment']), 'inspect'
    if daemon is not None and daemon.get('environment') is not None:
        env = daemon['environment']
        return dict((n, env.get(n)) for n in TELEMETRY_VARS), 'proc'
    return None, None


def _entrypoint(entry, read_text):
    """``(entrypoint path or None, creates the opt-out file: bool or None)``.

    With inspect: the entrypoint's absolute words (``tini -- /usr/sbin/run.sh`` too);
    without: the official image's ``/usr/sbin/run.sh`` when the image has it.
    """
    inspect = entry.get('inspect')
    if inspect is not None:
        words = [w for w in (inspect.get('entrypoint') or [])[:4] if w.startswith('/')]
    else:
        words = [ct.OFFICIAL_ENTRYPOINT]
    unreadable = False
    for word in words:
        text, known = read_text(word)
        if text is not None and ct.entrypoint_creates_optout(text):
            return word, True
        unreadable = unreadable or not known
    if inspect is not None and not words:
        return None, False
    if unreadable:
        return (words[0] if words else None), None
    return (words[0] if words and inspect is not None else None), False


def _persistence(entry, config_dir):
    """``(persistence, mount point or None, host path or None)`` of the config dir:
    inspect's ``Mounts`` first (it names the host path), else the container's own mount
    table (``/proc/PID/mountinfo``); with neither, ``unknown``."""
    inspect = entry.get('inspect')
    if inspect is not None:
        kind, mount = ct.inspect_mount_persistence(inspect.get('mounts'), config_dir)
        if mount is not None:
            host_path = None
            if mount.get('source') and kind in ('volume', 'bind'):
                host_path = mount['source'].rstrip('/') + config_dir[len(mount['destination'].rstrip('/')):]
            return kind, mount['destination'], host_path
    if entry.get('mounts') is not None:
        kind, mount = ct.mount_persistence(entry['mounts'], config_dir)
        return kind, (mount['mount_point'] if mount and kind != 'layer' else None), None
    return ('layer' if inspect is not None else 'unknown'), None, None


# ---------------------------------------------------------------- running and stopped alike

def _attach_container(install, entry):
    """Give *install* the ``container`` object of *entry*; returns that object."""
    container = _container_object(entry)
    install['container'] = container
    return container


def _set_version(install, container, found, unknown_reason):
    """Record ``ct.image_version()``'s *found* ``(version, source, shown, errors)``; when
    no version is known, its errors (else *unknown_reason*) go to the install's errors."""
    version, source, shown, verrs = found
    install['version'], install['version_string'] = version, shown
    container['version_source'] = source
    if version is None:
        install['errors'].extend(verrs or [unknown_reason])


def _set_start_facts(container, entry, daemon, config_dir, read_text):
    """What the container starts with: its environment, its entrypoint (and whether that
    creates the opt-out file) and where its config dir persists."""
    container['environment'], container['environment_source'] = _environment(entry, daemon)
    container['entrypoint'], container['entrypoint_creates_optout'] = _entrypoint(entry, read_text)
    kind, dest, host_path = _persistence(entry, config_dir)
    container['config_persistence'], container['config_mount'], container['config_host_path'] = kind, dest, host_path


# ---------------------------------------------------------------- running containers

def _running_install(root, entry, live_query, live_timeout, hello):
    """The install of a running container, read through its view root."""
    view_root = entry['view_root']
    daemon = entry.get('daemon')
    errors = list(entry.get('errors') or [])
    prefix = _daemon_prefix(daemon, errors)
    config_dir, lib_dir = _dirs_in_view_root(view_root, prefix, errors)
    install = _describe_in_view_root(view_root, daemon, prefix, config_dir, lib_dir, live_timeout, errors)
    container = _attach_container(install, entry)
    found = ct.image_version(view_root=view_root, binary_host_path=_daemon_binary_host_path(root, view_root, daemon),
                             labels=(entry.get('inspect') or {}).get('labels'))
    _set_version(install, container, found,
                 'version unknown: no version string in the binary, package database or image label')
    _set_start_facts(container, entry, daemon, config_dir, _view_root_text_reader(view_root))
    container['stock_crash_reports'] = _view_root_stock_crash_reports(view_root)
    _warn_symlinks_in_view_root(view_root, install)
    if daemon is not None and live_query:
        _ask_live_daemon(root, view_root, daemon, install, live_timeout, hello)
    return install


def _daemon_prefix(daemon, errors):
    """The prefix the daemon runs from; ``DEFAULT_PREFIX`` (with an error) when its
    executable is under none known, or when no daemon was seen."""
    prefix = (daemon or {}).get('prefix') or DEFAULT_PREFIX
    if daemon is not None and not daemon.get('prefix'):
        errors.append('pid %s: executable %s is not under a known prefix; judging %setc/netdata'
                      % (daemon.get('pid'), daemon.get('exe'), DEFAULT_PREFIX))
    return prefix


def _dirs_in_view_root(view_root, prefix, errors):
    """``(config dir, lib dir)`` of *prefix*, each resolved inside the container's root
    (its own symlinks followed there); as named when that fails."""
    named_config = _join(prefix, 'etc/netdata')
    config_dir, err = ct.resolve_in_root(view_root, named_config)
    if config_dir is None:
        errors.append('%s: %s' % (named_config, err))
        config_dir = named_config
    named_lib = _join(prefix, 'var/lib/netdata')
    lib_dir, err = ct.resolve_in_root(view_root, named_lib)
    if lib_dir is None:
        lib_dir = named_lib
    return config_dir, lib_dir


def _describe_in_view_root(view_root, daemon, prefix, config_dir, lib_dir, live_timeout, errors):
    """``installs.describe_install()`` with the container's root as its root; *errors*
    come first in the install's errors."""
    proc_scan = {'daemons': []}
    if daemon is not None:
        seen = dict(daemon)
        seen['foreign'] = False  # inside its own root it is the install's daemon
        seen['prefix'] = prefix
        proc_scan['daemons'].append(seen)
    # No ``<binary> -v`` (nothing runs inside the container) and no live query here: the
    # container's daemon answers in its own network namespace (_ask_live_daemon); no
    # service unit, and its runtime, not a host mechanism, starts it.
    scan = HostScan(root=view_root, run_command=None, live_query=False, live_timeout=live_timeout,
                    proc_scan=proc_scan, service={}, start=None)
    install = describe_install(scan, InstallSite(config_dir=config_dir, prefix=prefix, kind='container',
                                                 binary=None, lib_dirs=(lib_dir,)))
    install['errors'] = errors + [e for e in install['errors'] if e not in errors]
    install['binary'] = (daemon or {}).get('exe')
    return install


def _daemon_binary_host_path(root, view_root, daemon):
    """The daemon's binary as a host path, for its version: resolved in the container's
    root, or the very file it runs when that was replaced since its start
    (``/proc/PID/exe`` opens a deleted file too); None without a daemon."""
    exe = (daemon or {}).get('exe')
    if exe and exe.endswith(' (deleted)'):
        return _host(root, '/proc/%d/exe' % daemon['pid'])
    if exe:
        resolved, _err = ct.resolve_in_root(view_root, exe)
        return _host(view_root, resolved) if resolved else None
    return None


def _view_root_text_reader(view_root):
    """``read_text(path) -> (text or None, known)`` for a file inside a running container."""
    def read_text(path):
        resolved, _err = ct.resolve_in_root(view_root, path)
        if resolved is None:
            return None, True
        text, err = read_host_text(view_root, resolved, max_bytes=256 * 1024)
        return text, err is None
    return read_text


def _view_root_stock_crash_reports(view_root):
    """The crash-report setting of the image's stock netdata.conf, or None."""
    stock = read_netdata_conf(ct.STOCK_CONFIG_DIR + '/netdata.conf', root=view_root)
    return stock['crash_reports'] if stock['exists'] else None


def _warn_symlinks_in_view_root(view_root, install):
    """An error for an opt-out file or netdata.conf path with a symlink on the way: read
    from the host through the container's root, it may point outside it."""
    for path in (install['optout_file']['path'], install['netdata_conf']['path']):
        link = ct.symlink_on_the_way(view_root, path)
        if link is not None:
            install['errors'].append('%s: %s is a symlink inside the container; read through the '
                                     'container root it may point outside it' % (path, link))


def _ask_live_daemon(root, view_root, daemon, install, live_timeout, hello):
    """The live evidence: the daemon asked in its own network namespace, when its web
    server is on."""
    conf = read_netdata_conf(install['netdata_conf']['path'], root=view_root)
    address, port = daemon_web_address(conf, daemon)
    if not (conf['web_enabled'] and address and port):
        return
    netns = _host(root, '/proc/%d/ns/net' % daemon['pid'])
    install['evidence']['live'] = hello(netns, address, port, live_timeout)
    # v2.3+ shows in its /netdata.conf the crash-report value its start resolved
    version = parse_version(install['version'])
    crash_query = getattr(registry_hello, 'query_live_crash_reports', None)
    if crash_query is not None and (version is None or version >= V_CRASH_REPORTS):
        install['evidence']['live_crash_reports'] = hello(netns, address, port, live_timeout, query=crash_query)


# ---------------------------------------------------------------- stopped containers

def _stopped_files(root, entry):
    """``host_path(container path) -> (host path or None, known)`` for a stopped
    container: under a volume or bind mount, its source; else its overlay layers (the
    runtime names both as host paths, read under *root*)."""
    inspect = entry.get('inspect') or {}
    layers = inspect.get('layers')
    if layers:
        layers = {'upper': _host(root, layers['upper']),
                  'lower': [_host(root, d) for d in layers.get('lower') or []]}

    def host_file(path):
        kind, mount = ct.inspect_mount_persistence(inspect.get('mounts'), path)
        if mount is not None:
            if kind == 'tmpfs':
                return None, True  # empty at every start
            if not mount.get('source'):
                return None, False
            rel = path[len(mount['destination'].rstrip('/')):]
            host = _host(root, mount['source'].rstrip('/') + rel)
            host = host if os.path.lexists(host) else None
        else:
            if not layers or not os.path.isdir(layers.get('upper') or ''):
                return None, False  # not an overlay, or not on this side of a mount namespace
            host = ct.overlay_lookup(layers, path)
        if host is not None and os.path.islink(host):
            # the container would resolve it in its own root; here it would be ours
            return None, False
        return host, True
    return host_file


def _stopped_install(root, entry):
    """The install of a stopped container, read from the files it will start with."""
    inspect = entry.get('inspect') or {}
    host_file = _stopped_files(root, entry)
    config_dir = '/etc/netdata'
    install = _broken_install(config_dir, DEFAULT_PREFIX, 'container', None)
    install['errors'] = list(entry.get('errors') or [])
    install['lib_dir'] = '/var/lib/netdata'
    container = _attach_container(install, entry)
    binary, binary_host = _stopped_binary(host_file)
    if binary is not None:
        install['binary'] = binary
    found = ct.image_version(binary_host_path=binary_host, labels=inspect.get('labels'),
                             host_files=lambda p: host_file(p)[0])
    _set_version(install, container, found, 'version unknown: the stopped container\'s layers are not readable here')
    read_text = _stopped_text_reader(host_file)
    _set_start_facts(container, entry, None, config_dir, read_text)
    _fill_stopped_optout_file(install, config_dir, host_file, container['config_persistence'],
                              inspect.get('user') or 'root')
    _fill_stopped_netdata_conf(install, config_dir, host_file)
    container['stock_crash_reports'] = _stopped_stock_crash_reports(host_file)
    _fill_stopped_agent_files(install, config_dir, read_text)
    return install


def _stopped_binary(host_file):
    """``(path in the container, host path)`` of the first agent binary it holds, or
    ``(None, None)``."""
    for path in ct.AGENT_BINARIES:
        found, _known = host_file(path)
        if found is not None and os.path.isfile(found):
            return path, found
    return None, None


def _stopped_text_reader(host_file):
    """``read_text(path) -> (text or None, known)`` for a file of a stopped container."""
    def read_text(path):
        host, known = host_file(path)
        if host is None:
            return None, known
        text, err = read_host_text('/', host, max_bytes=256 * 1024)
        return text, err is None
    return read_text


def _fill_stopped_optout_file(install, config_dir, host_file, persistence, start_user):
    """The opt-out file the container will start with, as its volume or layers hold it."""
    optout = config_dir + '/' + OPTOUT_FILE_NAME
    host, known = host_file(optout)
    st = None
    if host is not None:
        try:
            st = os.stat(host)
        except OSError:
            st = None
    exists = (st is not None) if known else None
    readable = None
    why = 'a stopped container: read from its %s' % ('volume' if persistence in ('volume', 'bind') else 'layers')
    if st is not None and stat.S_ISREG(st.st_mode) and st.st_mode & 0o004:
        readable, why = True, '%s is readable by every user (mode %04o)' % (optout, stat.S_IMODE(st.st_mode))
    elif exists is False:
        readable, why = False, '%s does not exist' % optout
    install['optout_file'].update({
        'path': optout, 'exists': exists, 'readable_by_agent': readable, 'reason': why,
        'agent_user': 'netdata', 'readable_at_start': readable, 'reason_at_start': why,
        'start_user': start_user,
        'script': {'path': optout, 'exists': exists, 'found_by_agent': readable, 'reason': why},
    })
    if not known:
        install['errors'].append('%s: the stopped container\'s files are not readable here (no volume, no '
                                 'overlay layers from the runtime)' % optout)


def _fill_stopped_netdata_conf(install, config_dir, host_file):
    """The netdata.conf the container will start with (``exists`` None when unknown)."""
    conf_host, conf_known = host_file(config_dir + '/netdata.conf')
    if conf_host is not None:
        conf = read_netdata_conf(conf_host, root='/')
        install['errors'].extend(conf['errors'])
        install['netdata_conf'].update({'exists': True, 'crash_reports': conf['crash_reports'],
                                        'web_address': conf['web_address'], 'web_port': conf['web_port'],
                                        'run_as_user': conf.get('run_as_user')})
        install['evidence']['web_enabled'] = conf['web_enabled']
    elif not conf_known:
        install['netdata_conf']['exists'] = None


def _stopped_stock_crash_reports(host_file):
    """The crash-report setting of the image's stock netdata.conf, or None."""
    stock_host, _known = host_file(ct.STOCK_CONFIG_DIR + '/netdata.conf')
    if stock_host is None:
        return None
    return read_netdata_conf(stock_host, root='/')['crash_reports']


def _fill_stopped_agent_files(install, config_dir, read_text):
    """What the agent's own files say: its install type, machine GUID and whether it is
    claimed (read as ``installs._fill_claimed`` reads it)."""
    text, _known = read_text(config_dir + '/.install-type')
    install['install_type'] = parse_install_type(text) if text else None
    guid_text, _k = read_text('/var/lib/netdata/registry/netdata.public.unique.id')
    if guid_text:
        install['machine_guid'], _why = parse_machine_guid(guid_text)
    claimed_text, _k = read_text('/var/lib/netdata/cloud.d/claimed_id')
    if claimed_text and claimed_text.strip():
        install['claimed'] = True
        install['evidence']['claimed_via'] = '/var/lib/netdata/cloud.d/claimed_id'
    else:
        conf_text, _k = read_text('/var/lib/netdata/cloud.d/cloud.conf')
        if conf_text and claimed_id_from_cloud_conf(conf_text):
            install['claimed'] = True
            install['evidence']['claimed_via'] = '/var/lib/netdata/cloud.d/cloud.conf'


# ---------------------------------------------------------------- all of them

def discover_container_installs(root='/', daemons=(), run_command=None, use_cli=True, live_query=True,
                                live_timeout=1.0, hello=None):
    """``(installs, errors)``: one ``kind: container`` install per Netdata container.
    Never raises; *hello(netns_path, address, port, timeout)* defaults to
    ``containers.query_hello_in_netns``."""
    if hello is None:
        hello = ct.query_hello_in_netns
    found = ct.discover_containers(root=root, daemons=daemons, run_command=run_command, use_cli=use_cli)
    installs = []
    for entry in found['containers']:
        try:
            if entry.get('view_root'):
                install = _running_install(root, entry, live_query, live_timeout, hello)
            else:
                install = _stopped_install(root, entry)
        except Exception as exc:  # one odd container must not hide the others
            install = _broken_install('/etc/netdata', DEFAULT_PREFIX, 'container',
                                      'container %s: unexpected %s: %s'
                                      % (entry.get('name') or entry.get('id'), type(exc).__name__, exc))
            install['container'] = _container_object(entry)
        installs.append(install)
    return installs, found['errors']
