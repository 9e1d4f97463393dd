#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only module (role-local to setup_netdata_fixture): build a fixture tree, the files
a host with Netdata installs holds, under ``root``, so that netdata_facts and
netdata_optout can judge it through NETDATA_FLEET_TELEMETRY_FIXTURE_ROOT
(plugins/module_utils/_facts.py; docs/dev/testing.md).

Options:
  root: path; a new (or empty) directory, or an earlier fixture tree (rebuilt).
  trees: several trees in one call (one module round trip): a list of dicts, each with
    its root and any of the options below (the task's own options are their defaults).
  installs: list of dicts, one per install:
    prefix: '/' (native, /etc/netdata), '/opt/netdata' (static), or another prefix
      (custom: <prefix>/etc/netdata, give it to the modules' config_dir).
    version: what '<prefix>/usr/sbin/netdata -v' prints after 'netdata v'; null: no binary.
    guid: the machine GUID (registry/netdata.public.unique.id); null: none.
    optout_file: create <config dir>/.opt-out-from-anonymous-statistics.
    netdata_conf: content of <config dir>/netdata.conf (default '[global]\\n').
    claimed_id: content of <lib dir>/cloud.d/claimed_id; null: not claimed.
  unit: write /lib/systemd/system/netdata.service starting the first install (default true).
  unit_user: the unit's User= (default root).
  service_env: dict written as Environment= lines of a drop-in
    /etc/systemd/system/netdata.service.d/50-fixture.conf (default: none).
  systemd_dir: create /etc/systemd/system (default true; false: a host without systemd's dir).
  files: dict of extra files, path -> content (for example /etc/environment).
Returns roots and, per root, the files written (paths as seen on the fixture host).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil

from ansible.module_utils.basic import AnsibleModule

MARKER = '.netdata-fleet-telemetry-fixture'
PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnetdata:x:999:999::/var/lib/netdata:/usr/sbin/nologin\n'
GROUP = 'root:x:0:\nnetdata:x:999:\n'
OS_RELEASE = ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
              'VERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n')


def _join(prefix, path):
    return '/' + '/'.join(p for p in (prefix.strip('/'), path.strip('/')) if p)


def build(params):
    root = params['root']
    if os.path.normpath(root) == '/' or not os.path.isabs(root):
        raise ValueError('root must be an absolute path other than /, not %r' % root)
    if os.path.lexists(root):
        if os.listdir(root) and not os.path.isfile(os.path.join(root, MARKER)):
            raise ValueError('%s is not empty and not a fixture tree: refusing to touch it' % root)
        shutil.rmtree(root)
    written = []

    def put(path, content, mode=0o644):
        full = os.path.join(root, path.lstrip('/'))
        if not os.path.isdir(os.path.dirname(full)):
            os.makedirs(os.path.dirname(full), 0o755)
        with open(full, 'w') as handle:
            handle.write(content)
        os.chmod(full, mode)
        written.append(path)

    os.makedirs(root, 0o755)
    put('/' + MARKER, '')
    put('/etc/passwd', PASSWD)
    put('/etc/group', GROUP)
    put('/etc/os-release', OS_RELEASE)
    installs = params['installs']
    for install in installs:
        prefix = install.get('prefix') or '/'
        config_dir = _join(prefix, 'etc/netdata')
        lib_dir = _join(prefix, 'var/lib/netdata')
        put(config_dir + '/netdata.conf', install.get('netdata_conf') or '[global]\n')
        if install.get('version'):
            put(_join(prefix, 'usr/sbin/netdata'), '#!/bin/sh\necho "netdata v%s"\n' % install['version'], 0o755)
        if install.get('guid'):
            put(lib_dir + '/registry/netdata.public.unique.id', install['guid'])
        else:
            os.makedirs(os.path.join(root, lib_dir.lstrip('/')), 0o755)
        if install.get('optout_file'):
            put(config_dir + '/.opt-out-from-anonymous-statistics', '')
        if install.get('claimed_id'):
            put(lib_dir + '/cloud.d/claimed_id', install['claimed_id'])
    if params['systemd_dir']:
        os.makedirs(os.path.join(root, 'etc/systemd/system'), 0o755)
    if params['unit'] and installs:
        binary = _join(installs[0].get('prefix') or '/', 'usr/sbin/netdata')
        put('/lib/systemd/system/netdata.service',
            '[Unit]\nDescription=Netdata, fixture\n\n[Service]\nType=simple\nUser=%s\n'
            'ExecStart=%s -D\n\n[Install]\nWantedBy=multi-user.target\n' % (params['unit_user'], binary))
    if params['service_env']:
        put('/etc/systemd/system/netdata.service.d/50-fixture.conf', '[Service]\n' + ''.join(
            'Environment=%s=%s\n' % (name, value) for name, value in sorted(params['service_env'].items())))
    for path, content in sorted((params['files'] or {}).items()):
        put(path, content)
    return written


OPTIONS = ('installs', 'unit', 'unit_user', 'service_env', 'systemd_dir', 'files')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type='path'),
            trees=dict(type='list', elements='dict'),
            installs=dict(type='list', elements='dict', default=[]),
            unit=dict(type='bool', default=True),
            unit_user=dict(type='str', default='root'),
            service_env=dict(type='dict', default={}),
            systemd_dir=dict(type='bool', default=True),
            files=dict(type='dict', default={}),
        ),
        required_one_of=[('root', 'trees')],
        mutually_exclusive=[('root', 'trees')],
    )
    specs = module.params['trees'] or [{'root': module.params['root']}]
    files = {}
    for spec in specs:
        params = dict((name, module.params[name]) for name in OPTIONS)
        params.update(spec)
        root = params.get('root')
        try:
            if not isinstance(root, str):
                raise ValueError('each tree needs a root')
            unknown = set(params) - set(OPTIONS) - set(['root'])
            if unknown:
                raise ValueError('unknown options %s' % ', '.join(sorted(unknown)))
            root = os.path.normpath(os.path.expanduser(root))
            params['root'] = root
            files[root] = build(params)
        except (OSError, ValueError) as exc:
            module.fail_json(msg='fixture tree %s: %s' % (root, exc))
    module.exit_json(changed=True, roots=sorted(files), files=files)


if __name__ == '__main__':
    main()
