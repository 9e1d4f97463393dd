#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: netdata_optout
short_description: Opt every Netdata install of a host out of (or back into) telemetry, in one pass
version_added: "0.1.0"
description:
  - Discovers every Netdata install of the host (as M(netdata_fleet.telemetry.netdata_facts)
    does) and writes, in one round trip, everything that turns each telemetry channel off
    (O(opt_out=true)) or back on (O(opt_out=false)).
  - "Opt-out, per install: the empty opt-out file C(.opt-out-from-anonymous-statistics),
    mode C(0644), in the config dir the daemon uses (C([directories] config) of the
    C(netdata.conf) it reads) and, below v2.6.0, also in the install's compiled-in config
    dir that C(anonymous-statistics.sh) tests; C([global] crash reports = off) in the
    C(netdata.conf) the daemon reads (the C(-c) of the running daemon or of the service's
    C(ExecStart), else the install's; every other byte kept); and, once per host, the agent's
    start environment C(DO_NOT_TRACK=1) and C(DISABLE_TELEMETRY=1) where the host's init
    takes it (see the next paragraph)."
  - "The start environment, by the host's service manager (RV(service_manager)): systemd, or
    none at all (a chroot, an image being built, which a later systemd boot reads), gets a
    systemd drop-in for the service. OpenRC gets a managed block at the end of the service's
    C(/etc/conf.d) file (C(/etc/conf.d/<service>.<runlevel>) when that exists, since
    C(openrc-run) then reads only it), C(export DO_NOT_TRACK=1) and
    C(export DISABLE_TELEMETRY=1), the file created when missing and every other line kept;
    also where no manager runs and C(/etc/init.d/<service>) is an C(openrc-run) script. runit,
    SysV init and dinit get nothing: Netdata's files for them read no environment file, and
    RV(notes) says the drop-in and the environment do not apply; the opt-out file and
    C(crash reports = off) do the opt-out there. No drop-in is written where another init
    runs the host."
  - An existing opt-out file that not everyone may read (for example C(0600) or C(0640)
    C(root:root)) is made C(0644), its content and owner kept, because the daemon checks it
    with C(access(R_OK)) as its own user and ignores a file it cannot read. A file that is
    readable but behind a directory the agent's user cannot search is reported in
    RV(notes) and by RV(verify); the directory's mode is left to the admin.
  - "Opt-in: removes the opt-out file, the managed C(crash reports) line and the managed
    drop-in. When the unit or another drop-in sets C(DO_NOT_TRACK) or C(DISABLE_TELEMETRY),
    the managed drop-in is written with empty values and C(UnsetEnvironment=) instead, which
    neutralises them without touching the user's files. On OpenRC the managed block goes
    (with the file, when it held nothing else); when the variables would still reach the
    agent (the user's own C(export) in the file, C(/etc/rc.conf), C(/etc/profile.env)), the
    block becomes C(unset DO_NOT_TRACK DISABLE_TELEMETRY) instead, the user's lines kept, and
    RV(notes) says so."
  - Optionally also the environment installer and updater runs get (C(/etc/profile.d),
    C(/etc/environment)) and env files of container deployments.
  - "Container agents (Docker, Podman; see M(netdata_fleet.telemetry.netdata_facts)) get the
    same files in their own config dir: written through the running container's root
    (C(/proc/PID/root)), or into the host path of a stopped container's config volume. A
    running one that must restart is listed in RV(restart_containers) for the role to restart
    through its runtime. A container whose opt-out lasts only until it is re-created (its
    config dir is its own layer and its environment does not make the image opt it out at
    start) is listed in RV(until_recreated); opting in a container whose environment opts it
    out is reported, never pretended (the image makes the file again at every start)."
  - Files are written atomically (temporary file in the same directory, fsync, rename) with
    explicit owner and mode; a symlink planted at a target path is refused, never followed.
  - A missing or read-only config dir fails the host before anything is written.
  - Returns the post-apply facts under C(ansible_facts.netdata), so a caller needs no
    second round trip to verify.
extends_documentation_fragment:
  - netdata_fleet.telemetry.discovery
  - netdata_fleet.telemetry.payload
author:
  - netdata_fleet maintainers (!UNKNOWN)
options:
  opt_out:
    description: V(true) opts every install out of every telemetry channel, V(false) opts it back in.
    type: bool
    default: true
  service_name:
    description:
      - The service of the agent (with or without C(.service)), which names the systemd unit
        and, without the suffix, OpenRC's C(/etc/conf.d/<name>). A name systemd would refuse as
        a unit name fails the task before anything is read or written.
    type: str
    default: netdata
  dropin_name:
    description:
      - File name of the managed drop-in in C(/etc/systemd/system/<service>.service.d/).
        It should sort after every other drop-in, since later assignments win.
    type: str
    default: zz-netdata-fleet-telemetry.conf
  dropin_content:
    description:
      - Content of the drop-in written on opt-out.
      - Default (what the role writes) a comment naming this collection, then
        C(Environment=DO_NOT_TRACK=1) and C(Environment=DISABLE_TELEMETRY=1) in C([Service]).
    type: str
  dropin_neutral_content:
    description:
      - Content of the drop-in written on opt-in when another unit file sets the variables.
      - Default (what the role writes) a comment naming this collection, then empty
        C(Environment=) assignments of both variables and C(UnsetEnvironment=) of both.
    type: str
  manage_crash_reports:
    description: Manage C([global] crash reports) in each install's C(netdata.conf).
    type: bool
    default: true
  installer_env:
    description:
      - Also manage the environment kickstart and C(netdata-updater) runs get. Opt-out writes
        O(profile_path) and C(DO_NOT_TRACK=1) / C(DISABLE_TELEMETRY=1) in C(/etc/environment);
        opt-in removes the profile file when it is managed by this collection and those
        exact lines.
    type: bool
    default: false
  profile_path:
    description: The profile snippet managed when O(installer_env=true).
    type: path
    default: /etc/profile.d/netdata-telemetry.sh
  profile_content:
    description:
      - Content of the profile snippet.
      - Default (what the role writes) a comment naming this collection, then
        C(export DO_NOT_TRACK=1) and C(export DISABLE_TELEMETRY=1).
    type: str
  container_env_files:
    description:
      - Env files of container deployments. Opt-out ensures C(DO_NOT_TRACK=1) and
        C(DISABLE_TELEMETRY=1) (creating the file when missing), opt-in removes every
        assignment of them.
    type: list
    elements: path
    default: []
attributes:
  check_mode:
    support: full
    description: Reports exactly what would change and writes nothing.
  diff_mode:
    support: full
    description: Before and after of every file that changes.
  facts:
    support: full
    description: Returns the post-apply facts under C(ansible_facts.netdata).
notes:
  - The environment change reaches a running daemon only at restart; the module does not
    restart, it returns RV(restart_required) and the reasons per install.
seealso:
  - module: netdata_fleet.telemetry.netdata_facts
  - name: The optout role
    description: Renders the templates, restarts when needed and verifies.
    link: https://example.invalid/netdata_fleet/telemetry/roles/optout
"""

EXAMPLES = r"""
- name: Opt every Netdata install out of every telemetry channel
  netdata_fleet.telemetry.netdata_optout:
  register: optout

- name: Opt back in, also removing the installer environment entries
  netdata_fleet.telemetry.netdata_optout:
    opt_out: false
    installer_env: true

- name: Opt-out for the Docker deployments too
  netdata_fleet.telemetry.netdata_optout:
    container_env_files: [/srv/netdata/netdata.env]
"""

RETURN = r"""
changed:
  description: Whether any file changed (or would change, in check mode).
  returned: always
  type: bool
service_manager:
  description:
    - The host's service manager, which the role restarts agents with. V(systemd) only where
      systemd runs the host (C(/run/systemd/system) exists); V(none) where no manager runs
      (a container whose PID 1 is the agent, a chroot).
  returned: always
  type: str
  choices: [systemd, openrc, runit, dinit, sysvinit, none]
  sample: systemd
changes:
  description: One entry per file changed (or that would change).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
    action:
      description: C(create), C(update) or C(remove) (C(update) also for an opt-out file whose
        mode is made C(0644); the diff headers then show both modes).
      type: str
    purpose:
      description: C(optout_file), C(netdata_conf), C(dropin), C(openrc_conf) (the managed block
        of OpenRC's C(conf.d) file), C(installer_profile), C(installer_environment) or C(container_env).
      type: str
    install:
      description: The config dir of the install the file belongs to, or null for host-wide files.
      type: str
notes:
  description: Findings worth reading, one line each (for example a user's own
    C(crash reports) setting left alone, a variable neutralised, or a systemd drop-in and a
    start environment that do not apply on a host another init runs).
  returned: always
  type: list
  elements: str
diff:
  description: Before and after of each change (in diff mode).
  returned: when diff mode is on and something changes
  type: list
  elements: dict
restart_required:
  description: True when a running daemon (the host's or a container's) needs a restart for
    the change to reach it.
  returned: always
  type: bool
restart:
  description: Each install whose running daemon needs a restart, with the reasons; keyed by
    its config dir, or C(<runtime>:<container name or short id>:<config dir>) for a container's.
  returned: always
  type: dict
  sample: {/etc/netdata: [service environment (drop-in) changed], "docker:netdata:/etc/netdata": [opt-out file changed and this daemon reads it only at start]}
restart_service:
  description: True when a host install's daemon needs a restart (through the host's service manager).
  returned: always
  type: bool
restart_containers:
  description: The container agents that need a restart, each through its runtime
    (C(<cli> restart <id>)); C(cli) is null where no runtime CLI can do it (containerd, an
    unknown runtime), and the role then fails the host saying so.
  returned: always
  type: list
  elements: dict
  contains:
    label:
      description: The install, as in RV(restart).
      type: str
    runtime:
      description: C(docker), C(podman), C(containerd) or V(unknown).
      type: str
    id:
      description: The container id.
      type: str
    name:
      description: The container name, or null.
      type: str
    cli:
      description: The runtime CLI to restart it with, or null.
      type: str
    reasons:
      description: Why it must restart.
      type: list
      elements: str
until_recreated:
  description:
    - Container agents opted out only until their container is re-created (the opt-out file
      or C(crash reports = off) sit in the container's own layer and its environment does not
      make the image opt it out at start), one line each, with what makes it last. Empty when
      none, and always when opting in.
  returned: always
  type: list
  elements: str
msg:
  description: One line saying whether the host is in the state asked for, and if not, why.
  returned: always
  type: str
verify:
  description:
    - Whether the facts after applying (before, in check mode) show the state asked for.
      Opt-out wants every applicable channel that counts off, opt-in every applicable
      channel on; a drifting channel (the running agent differs from its configuration
      until a restart) is a problem either way.
  returned: always
  type: dict
  contains:
    asked:
      description: C(opted_out) or C(opted_in).
      type: str
    compliant:
      description: True when there is no problem.
      type: bool
    problems:
      description: One line per install and channel that is not as asked, with the facts' reasons.
      type: list
      elements: str
ansible_facts:
  description: The facts after applying (before, in check mode), as
    M(netdata_fleet.telemetry.netdata_facts) with C(gather_subset=telemetry) returns them.
  returned: always
  type: dict
  contains:
    netdata:
      description: See M(netdata_fleet.telemetry.netdata_facts).
      type: dict
"""

import re

# Before any other of this collection's imports: on a target, each is compiled once
# instead of twice (see payload_import).
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.payload_import import (
    PAYLOAD_ARGUMENT_SPEC, compile_sources_once)

compile_sources_once()

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import apply as optout_apply
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import plan as optout_plan
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import restart as optout_restart
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._optout import verify as optout_verify
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import (
    config_dir_problems, discovery_argument_problems, discovery_argument_spec, fixture_root,
    gather_netdata_facts)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.module import NulSafeModule

# Tests point this at a fixture tree.
ROOT = '/'

# systemd's unit name grammar (unit_name_is_valid() in src/basic/unit-name.c): letters,
# digits and ``:-_.\``, an optional ``@instance``, at most 255 bytes with the suffix. A
# name outside it could never be a unit, and one with ``/`` or ``..`` would put the drop-in
# outside /etc/systemd/system.
_UNIT_NAME_RE = re.compile(r'\A[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\Z')
_DROPIN_NAME_RE = re.compile(r'\A[A-Za-z0-9_][A-Za-z0-9:_.@+\-]*\.conf\Z')
_PATH_OPTIONS = ('profile_path', 'container_env_files')
_TEXT_OPTIONS = ('dropin_content', 'dropin_neutral_content', 'profile_content')


def gather_facts(params, root='/'):
    """The facts ``netdata_facts`` returns for ``gather_subset: [telemetry]`` (the same
    shared gatherer, so the two modules can never disagree)."""
    return gather_netdata_facts(
        {'telemetry'}, root=root, config_dirs=params['config_dir'], strict=params['strict'],
        live_query=params['live_query'], live_timeout=params['live_timeout'],
        containers=params['containers'])


def settings_from(params):
    return {
        'opt_out': params['opt_out'],
        'service_name': params['service_name'],
        'dropin_name': params['dropin_name'],
        'dropin_content': params['dropin_content'],
        'dropin_neutral_content': params['dropin_neutral_content'],
        'manage_crash_reports': params['manage_crash_reports'],
        'installer_env': params['installer_env'],
        'profile_path': params['profile_path'],
        'profile_content': params['profile_content'],
        'container_env_files': params['container_env_files'],
    }


def argument_problems(params):
    """Every bad argument, as messages naming the option; checked before anything is read,
    planned or written."""
    problems = []
    service = params['service_name']
    unit = service[:-len('.service')] if service.endswith('.service') else service
    if not _UNIT_NAME_RE.match(unit) or unit in ('.', '..') or len(unit) + len('.service') > 255:
        problems.append('service_name must be a systemd service name (letters, digits, ":-_.\\", '
                        'an optional @instance), not %r' % service)
    name = params['dropin_name']
    if not _DROPIN_NAME_RE.match(name) or len(name) > 255:
        problems.append('dropin_name must be a plain file name ending in .conf, not %r' % name)
    for option in _PATH_OPTIONS:
        value = params[option]
        for path in (value if isinstance(value, list) else [value]):
            if '\0' in path:
                problems.append('%s: %r holds a NUL byte' % (option, path))
            elif not path.startswith('/'):
                problems.append('%s: %r is not an absolute path' % (option, path))
    for option in _TEXT_OPTIONS:
        if params[option] is not None and '\0' in params[option]:
            problems.append('%s holds a NUL byte' % option)
    problems.extend(discovery_argument_problems(params))
    return problems


def _module():
    return NulSafeModule(
        argument_spec=discovery_argument_spec(
            opt_out=dict(type='bool', default=True),
            service_name=dict(type='str', default='netdata'),
            dropin_name=dict(type='str', default='zz-netdata-fleet-telemetry.conf'),
            dropin_content=dict(type='str'),
            dropin_neutral_content=dict(type='str'),
            manage_crash_reports=dict(type='bool', default=True),
            installer_env=dict(type='bool', default=False),
            profile_path=dict(type='path', default=optout_plan.PROFILE_PATH),
            profile_content=dict(type='str'),
            container_env_files=dict(type='list', elements='path', default=[]),
            **PAYLOAD_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )


def _checked_root(module):
    """The root to work on, once every argument is known good; fails the module otherwise."""
    params = module.params
    problems = argument_problems(params)
    if problems:
        module.fail_json(msg='; '.join(problems))
    # The integration tests' fixture tree (FIXTURE_ROOT_ENV in module_utils/_facts.py), else ROOT.
    root, problem = fixture_root()
    if problem:
        module.fail_json(msg=problem)
    if root == '/':
        root = ROOT
    else:
        module.warn('reading and writing the test fixture tree %s instead of /' % root)
    problems = config_dir_problems(params['config_dir'], root=root)
    if problems:
        module.fail_json(msg='; '.join(problems))
    return root


def _asked(opt_out):
    return 'opted_out' if opt_out else 'opted_in'


def _plan(module, before, root):
    """``(changes, result)``: the planned changes and the result before anything is
    written; fails the module when the plan cannot be made."""
    params = module.params
    settings = settings_from(params)
    # which service files apply: the drop-in only where systemd (or no manager) runs the
    # host, OpenRC's conf.d where OpenRC does
    settings['service_manager'] = before.get('service_manager', 'none')
    changes, notes, errors = optout_plan.plan_changes(before.get('installs') or [], settings, root)
    result = {
        'changed': False,
        'service_manager': before.get('service_manager', 'none'),
        'changes': [],
        'notes': notes,
        'restart_required': False,
        'restart': {},
        'restart_service': False,
        'restart_containers': [],
        'until_recreated': [],
        'ansible_facts': {'netdata': before},
        'verify': {'asked': _asked(params['opt_out']), 'compliant': False, 'problems': []},
    }
    if errors:
        module.fail_json(msg='Netdata telemetry %s not applied on this host: %s'
                         % ('opt-out' if params['opt_out'] else 'opt-in', '; '.join(errors)),
                         errors=errors, **result)
    result['changes'] = [{'path': c['path'], 'action': optout_apply.describe(c),
                          'purpose': c['purpose'], 'install': c['install']} for c in changes]
    result['changed'] = bool(changes)
    if module._diff and changes:
        result['diff'] = [optout_apply.change_diff(c) for c in changes]
    return changes, result


def _add_restarts(result, after, changes, opt_out):
    installs = after.get('installs') or []
    restart = optout_restart.restart_decisions(installs, changes, opt_out)
    result['restart'] = restart
    result['restart_required'] = bool(restart)
    result['restart_service'] = optout_restart.service_restart_needed(installs, restart)
    result['restart_containers'] = optout_restart.container_restarts(installs, restart)
    if opt_out:
        result['until_recreated'] = optout_restart.until_recreated(after)


def _add_verdict(module, result, after, opt_out):
    problems = optout_verify.verify_problems(after, opt_out)
    asked = 'opted out' if opt_out else 'opted in'
    result['verify'] = {'asked': _asked(opt_out), 'compliant': not problems, 'problems': problems}
    if problems:
        result['msg'] = 'Netdata telemetry is not %s on this host%s: %s' % (
            asked, ' (yet: a restart is due)' if result['restart'] else '', ' | '.join(problems))
        if module.check_mode:
            # An audit: say it where it is seen without -v.
            module.warn(result['msg'])
        return
    result['msg'] = 'Netdata telemetry is %s on this host (%d install(s))' % (
        asked, len(after.get('installs') or []))
    if result['until_recreated']:
        # never silently compliant: say how long it lasts
        result['msg'] += '; %d container agent(s) only until re-created: %s' % (
            len(result['until_recreated']), ' | '.join(result['until_recreated']))


def run_module():
    module = _module()
    params = module.params
    root = _checked_root(module)
    before = gather_facts(params, root)
    changes, result = _plan(module, before, root)
    failures = optout_apply.apply_changes(changes, root, module.check_mode)
    after = before
    if changes and not module.check_mode:
        after = gather_facts(params, root)
        result['ansible_facts'] = {'netdata': after}
    _add_restarts(result, after, changes, params['opt_out'])
    _add_verdict(module, result, after, params['opt_out'])
    if failures:
        module.fail_json(msg='Netdata telemetry: some files could not be written: %s'
                         % '; '.join(f['error'] for f in failures), failures=failures, **result)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == '__main__':
    main()
