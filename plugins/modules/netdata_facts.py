#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
---
module: netdata_facts
short_description: Netdata installs, per-channel telemetry state and the environment facts Netdata reports
version_added: "0.1.0"
description:
  - Sets C(ansible_facts.netdata) on the target.
  - C(system_info) holds the environment facts that Netdata's own C(system-info.sh) reports,
    keyed as that script names them (lowercased, without the C(NETDATA_) prefix), with the
    same V(unknown)/V(none) conventions, container-versus-host split and os-release then
    lsb-release fallbacks. Numbers are integers.
  - C(installs) lists every Netdata installation found (native C(/etc/netdata), static
    C(/opt/netdata/etc/netdata), C(/usr/local/etc/netdata), or the O(config_dir) given),
    with its version, install type, machine GUID, claimed state, daemon and service
    environment, and a verdict for each telemetry channel.
  - Every Netdata agent in a container on the host (Docker, Podman, containerd, or a runtime
    not known here) is an install of C(kind=container) with a C(container) object. Its files
    are read as the agent sees them, through C(/proc/PID/root), its environment from
    C(/proc/PID/environ) or the runtime's C(Config.Env), its version from the version string
    compiled into its binary (or the image's package database); nothing is run inside the
    container. Where the runtime's CLI answers (O(containers)), stopped containers are judged
    from the environment and mounts they will start with.
  - A Netdata agent has several telemetry channels and which of them a host honours depends
    on its version. The statistics script (up to v2.5) honours the opt-out file and a
    non-empty C(DO_NOT_TRACK) or C(DISABLE_TELEMETRY); the daemon's analytics flag honours
    only the file before v2.3 and the file or C(DISABLE_TELEMETRY) from v2.3; crash reports
    (from v2.3) stop only with C(crash reports = off) in C(netdata.conf). An install is
    opted out only when every channel that applies to its version is off.
  - Where an install's daemon runs, its own C(registry?action=hello) answer (the live
    analytics flag) decides that channel, and any disagreement with the configuration is
    reported as drift.
  - A host without Netdata is reported as such (C(installed=false)), not as an error.
  - Runs on the target with the Python standard library only.
extends_documentation_fragment:
  - netdata_fleet.telemetry.discovery
  - netdata_fleet.telemetry.payload
author:
  - netdata_fleet maintainers (!UNKNOWN)
options:
  gather_subset:
    description:
      - Which facts to gather. C(telemetry) gathers installs and their telemetry state
        (cheap); C(system) gathers C(system_info); C(all) gathers both.
      - A subset prefixed with C(!) is left out, for example C(!system).
    type: list
    elements: str
    default: [all]
  cloud_detection:
    description:
      - Probe the cloud metadata service for C(instance_cloud_*), as C(system-info.sh) does.
        Off by default, so the module never touches the network unless asked.
    type: bool
    default: false
  cloud_metadata_url:
    description: Base URL of the cloud metadata service probed when O(cloud_detection=true).
    type: str
    default: http://169.254.169.254
  cloud_timeout:
    description: Seconds to wait for each cloud metadata request.
    type: float
    default: 1.0
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
    description: The module changes nothing, so there is nothing to show a difference for.
  facts:
    support: full
    description: Sets C(ansible_facts.netdata).
notes:
  - The agent's environment is the running daemon's (C(/proc/PID/environ)) when it runs,
    else what the mechanism that starts it would start it with
    (RV(ansible_facts.netdata.installs[].start)), that is the systemd unit plus drop-ins
    (C(Environment=) and C(EnvironmentFile=), later assignments winning), OpenRC's
    C(/etc/conf.d/netdata) exports, a SysV script's, a runit C(run) script's or dinit's
    C(env-file). A daemon that nothing we found starts (started by hand) is expected to
    start again with its own environment.
  - Values of C(DO_NOT_TRACK) and C(DISABLE_TELEMETRY) are reported as found; V(null)
    means unset, which differs from an empty value.
seealso:
  - name: Netdata anonymous statistics
    description: What Netdata collects and how to opt out.
    link: https://learn.netdata.cloud/docs/netdata-agent/configuration/anonymous-telemetry-events
"""

EXAMPLES = r"""
- name: Gather Netdata telemetry state and environment facts
  netdata_fleet.telemetry.netdata_facts:

- name: Only the (cheap) telemetry state
  netdata_fleet.telemetry.netdata_facts:
    gather_subset: [telemetry]

- name: Show whether the host is opted out, channel by channel
  ansible.builtin.debug:
    msg: "{{ ansible_facts['netdata']['telemetry'] }}"

- name: Inspect an install under a custom prefix, counting installer runs too
  netdata_fleet.telemetry.netdata_facts:
    config_dir: [/srv/netdata/etc/netdata]
    strict: true
"""

RETURN = r"""
ansible_facts:
  description: Facts set on the host.
  returned: always
  type: dict
  contains:
    netdata:
      description: Everything the module found, under one key.
      returned: always
      type: dict
      contains:
        gather_subset:
          description: The subsets actually gathered.
          returned: always
          type: list
          elements: str
          sample: [system, telemetry]
        collected_at:
          description:
            - When the facts were gathered, in seconds since the epoch (the target's clock).
              A report read from a fact cache uses it to tell how old a host's facts are.
          returned: always
          type: int
          sample: 1767225600
        installed:
          description: Whether at least one Netdata install was found.
          returned: when the telemetry subset is gathered
          type: bool
        service_manager:
          description:
            - The host's service manager. V(systemd) only where systemd runs the host
              (C(/run/systemd/system) exists, systemd's own test), not where unit files merely
              exist; V(none) where no manager runs (a container whose PID 1 is the agent).
          returned: when the telemetry subset is gathered
          type: str
          choices: [systemd, openrc, runit, dinit, sysvinit, none]
          sample: systemd
        installs:
          description: One entry per Netdata install found, in discovery order.
          returned: when the telemetry subset is gathered
          type: list
          elements: dict
          contains:
            config_dir:
              description: The install's config dir.
              type: str
              sample: /etc/netdata
            prefix:
              description: The install prefix (C(/) for native, C(/opt/netdata) for static).
              type: str
            kind:
              description: C(native), C(static), C(custom), or C(container) for an agent in a
                container (see RV(ansible_facts.netdata.installs[].container)).
              type: str
            lib_dir:
              description: The install's state dir (holds the registry and C(cloud.d)).
              type: str
              sample: /var/lib/netdata
            binary:
              description: Path of the install's C(netdata) binary, or null when missing.
              type: str
            version:
              description: The version as C(X.Y.Z) from C(netdata -v), or null when unreadable.
              type: str
              sample: 1.37.1
            version_string:
              description: What C(netdata -v) printed, or null.
              type: str
              sample: netdata v1.37.1
            install_type:
              description: C(INSTALL_TYPE) from the installer's C(.install-type) file, or null.
              type: str
              sample: kickstart-static
            machine_guid:
              description: The machine GUID from C(registry/netdata.public.unique.id), or null
                when missing or not a UUID.
              type: str
            claimed:
              description: Whether the node is claimed to Netdata Cloud (C(cloud.d/claimed_id)
                or C(claimed_id) in C(cloud.d/cloud.conf)).
              type: bool
            optout_file:
              description:
                - The opt-out file of this install, as the agent itself checks it. The daemon
                  tests it with C(access(R_OK)), so a file its user cannot read (for example
                  C(0600) or C(0640) C(root:root), what C(touch) makes under umask C(077) or
                  C(027)) does not opt it out.
              type: dict
              contains:
                path:
                  description: The file the daemon checks, in the config dir it uses
                    (C([directories] config) of the C(netdata.conf) it reads, else the install's
                    config dir).
                  type: str
                exists:
                  description: Whether it exists.
                  type: bool
                readable_by_agent:
                  description:
                    - Whether the user the daemon runs as (C(agent_user)) can read it, every
                      directory on the way searchable, with its primary and supplementary groups.
                      This is the check of a daemon below v2.3.0, and of the re-checks of v2.3 to v2.5.
                    - V(false) when the file is missing. V(null) when undecidable (unknown user, a
                      POSIX ACL); the file then does not count as an opt-out.
                  type: bool
                reason:
                  description: Why C(readable_by_agent) is what it is (user, mode, owner).
                  type: str
                  sample: user netdata cannot read /etc/netdata/.opt-out-from-anonymous-statistics (mode 0600, owner 0:0)
                agent_user:
                  description: The user the daemon runs as (C([global] run as user), default
                    C(netdata); C(start_user) when that is not root), or null.
                  type: str
                readable_at_start:
                  description: The same check as the user the daemon starts as (C(start_user)).
                    From v2.3.0 the daemon checks the file first while it still has that user's
                    rights, before dropping privileges, and off stays off; a daemon started as root
                    therefore honours a root-only file. V(null) when it cannot be decided (for example
                    the start user is unknown and only root could read the file).
                  type: bool
                reason_at_start:
                  description: Why C(readable_at_start) is what it is.
                  type: str
                start_user:
                  description:
                    - The user the daemon starts as, from what starts this install
                      (RV(ansible_facts.netdata.installs[].start)) - systemd's C(User=) (V(root) when
                      unset); OpenRC's C(command_user), or C(-u)/C(--user)/C(-c)/C(--chuid) in
                      C(start_stop_daemon_args)/C(supervise_daemon_args) as the host's
                      C(start-stop-daemon) or C(supervise-daemon) takes them (V(root) without one).
                    - V(null) when that cannot be told, under runit, SysV init or dinit (not read), or
                      when nothing starts this install; where no mechanism starts the agent at all,
                      the systemd unit that runs this install still counts.
                  type: str
                script:
                  description: The file C(anonymous-statistics.sh) (up to v2.5) tests with C([ -f ]),
                    in the install's compiled-in config dir, whatever C([directories] config) says;
                    C(found_by_agent) (bool or null) tells whether the daemon's user finds it (it needs
                    search permission on the way, not read permission), with C(path), C(exists) and
                    C(reason).
                  type: dict
            netdata_conf:
              description: What matters for telemetry in the C(netdata.conf) the install's daemon reads.
              type: dict
              contains:
                path:
                  description: Its path. The C(-c) of the running daemon's command line, else of
                    what starts this install (systemd's C(ExecStart); OpenRC's C(command_args) with
                    its foreground or background arguments), else C(<config_dir>/netdata.conf).
                    Under runit, SysV init or dinit the start arguments are not read (an error line
                    says so) and the default is judged.
                  type: str
                source:
                  description: Where the path came from, C(daemon), C(service) (what starts the
                    install, a systemd unit or an OpenRC script) or C(default).
                  type: str
                config_dir:
                  description: The config dir the daemon uses (C([directories] config) when set, else the
                    install's); the opt-out file it checks is there.
                  type: str
                run_as_user:
                  description: The raw C([global] run as user), or null when unset.
                  type: str
                exists:
                  description: Whether it exists.
                  type: bool
                crash_reports:
                  description: The raw C([global] crash reports) value, or null when unset.
                  type: str
                web_address:
                  description: The address the live query uses.
                  type: str
                  sample: 127.0.0.1
                web_port:
                  description: The port the live query uses.
                  type: int
                  sample: 19999
            service:
              description: The environment the install's systemd service would start the daemon with
                (read wherever its unit exists; it counts where systemd starts the agent, see
                RV(ansible_facts.netdata.installs[].start)).
              type: dict
              contains:
                unit:
                  description: Path of the unit file found, or null.
                  type: str
                dropins:
                  description: Drop-in files applied, in order.
                  type: list
                  elements: str
                environment:
                  description: C(DO_NOT_TRACK) and C(DISABLE_TELEMETRY) as configured (null when unset).
                  type: dict
                starts_this_install:
                  description: Whether the unit's C(ExecStart) runs this install's binary (null when
                    unknown). The service environment applies only to the install it starts.
                  type: bool
            start:
              description:
                - What starts this install's agent and the environment it gives it at its next
                  start (a host install; a container's agent is started by its runtime, see
                  RV(ansible_facts.netdata.installs[].container)).
                - The mechanism is the one of the host's service manager (RV(ansible_facts.netdata.service_manager)),
                  from its files for the service C(netdata), or V(none) when it has none. Where no manager
                  runs the host (a chroot, an image being built), the first that exists of the systemd
                  unit, an OpenRC script, a runit C(run) script, a dinit description and a SysV script,
                  which is what starts the agent once the host boots.
              type: dict
              returned: for host installs
              contains:
                mechanism:
                  description: How the agent is started.
                  type: str
                  choices: [systemd, openrc, runit, sysvinit, dinit, none]
                files:
                  description:
                    - The files it was read from, in the order they apply. OpenRC
                      C(/etc/rc.conf), C(/etc/rc.conf.d/*.conf), C(/etc/conf.d/netdata.<runlevel>) or
                      else C(/etc/conf.d/netdata), the init script (as C(openrc-run) sources them); the
                      systemd unit and its drop-ins; the script and what it sources.
                  type: list
                  elements: str
                  sample: [/etc/conf.d/netdata, /etc/init.d/netdata]
                command:
                  description: The program it starts (OpenRC's C(command), a SysV script's C(DAEMON)),
                    or null when not a plain value (and for systemd, whose C(ExecStart) is read with RV(ansible_facts.netdata.installs[].service)).
                  type: str
                starts_this_install:
                  description: Whether that program is this install's binary (null when unknown). The
                    environment applies only to the install it starts.
                  type: bool
                environment:
                  description:
                    - C(DO_NOT_TRACK) and C(DISABLE_TELEMETRY) as the agent would get them (null when
                      unset). For OpenRC, SysV and runit only what is exported reaches it
                      (C(export DO_NOT_TRACK=1)); a plain assignment does not.
                    - Null for the whole mapping when it cannot be told (a value set under a condition or
                      by a command, C(rc_env_allow) passing the caller's value through, an env dir), and
                      for V(none).
                  type: dict
                  sample: {DO_NOT_TRACK: '1', DISABLE_TELEMETRY: '1'}
                errors:
                  description: Why something could not be read or told, one line each.
                  type: list
                  elements: str
            daemon:
              description: The install's running daemon, if any.
              type: dict
              contains:
                running:
                  description: Whether a daemon of this install runs.
                  type: bool
                pid:
                  description: Its pid, or null.
                  type: int
                environment:
                  description: C(DO_NOT_TRACK) and C(DISABLE_TELEMETRY) in its environment (null when unset),
                    or null when no daemon runs or its environment cannot be read.
                  type: dict
            telemetry:
              description: This install's telemetry verdict.
              type: dict
              contains:
                opted_out:
                  description: True only when every channel that applies (and counts) is off.
                  type: bool
                opted_in:
                  description: True only when every channel that applies is on.
                  type: bool
                drift:
                  description: True when the running state differs from the configured one
                    (a restart is needed for the configuration to take effect).
                  type: bool
                reasons:
                  description: Why, one line per finding, each starting with its channel's name.
                  type: list
                  elements: str
                channels:
                  description: One verdict per channel, keyed C(statistics_script), C(daemon_analytics),
                    C(crash_reports) and C(installer). Each holds C(applies) (bool), C(enabled)
                    (bool, or null when unknown), C(configured) (bool or null), C(running) (bool or null),
                    C(drift) (bool), C(counted) (bool) and C(reasons) (list); C(daemon_analytics) adds
                    C(live) (bool or null, the daemon's own answer).
                  type: dict
            container:
              description:
                - Only for C(kind=container). Where the container's agent runs and what decides
                  its telemetry beyond its files. Its C(config_dir), C(optout_file),
                  C(netdata_conf), C(lib_dir) and C(binary) are paths inside the container (every
                  symlink resolved inside it); C(service) is empty (its runtime starts it) and
                  C(daemon) is its agent.
                - Its verdict (C(telemetry)) counts the image's entrypoint (the official image's
                  C(run.sh) creates the opt-out file at every start when C(DO_NOT_TRACK) or
                  C(DISABLE_TELEMETRY) is non-empty up to v2.8.1, set and not C(0) from v2.8.2);
                  for a stopped container it is what its next start does.
              returned: for container agents
              type: dict
              contains:
                runtime:
                  description: C(docker), C(podman), C(containerd) (Kubernetes CRI), or V(unknown)
                    (a root of its own whose cgroup names no runtime known here).
                  type: str
                id:
                  description: The container id (64 hex digits), or null when unknown.
                  type: str
                name:
                  description: The container name, where the runtime's CLI tells, else null.
                  type: str
                image:
                  description: The image as the container was created from it, where the runtime's CLI tells.
                  type: str
                  sample: netdata/netdata:stable
                status:
                  description: The runtime's state (C(running), C(exited), C(created), ...).
                  type: str
                running:
                  description: Whether the container runs.
                  type: bool
                host_pid:
                  description: The agent's PID in the host's PID namespace (for a running container
                    without a Netdata daemon yet, its init's), or null.
                  type: int
                view_root:
                  description: The host path the agent's files were read through
                    (C(/proc/<host_pid>/root)), or null for a stopped container.
                  type: str
                cli:
                  description: The runtime CLI that described it (and restarts it), or null.
                  type: str
                environment:
                  description: C(DO_NOT_TRACK) and C(DISABLE_TELEMETRY) the container starts with (null
                    when unset); null when unknown.
                  type: dict
                environment_source:
                  description: C(inspect) (the runtime's C(Config.Env)) or C(proc) (the running agent's
                    C(/proc/PID/environ)), or null.
                  type: str
                entrypoint:
                  description: The container's entrypoint script that was read, or null.
                  type: str
                  sample: /usr/sbin/run.sh
                entrypoint_creates_optout:
                  description: Whether that entrypoint creates the opt-out file from the environment at
                    every start (null when it cannot be read).
                  type: bool
                config_persistence:
                  description:
                    - Where the config dir lives. V(volume) or V(bind) (a mount point in the
                      container) survive re-creation; V(layer) (the container's own layer) is lost
                      when the container is re-created; V(tmpfs) at every stop; V(unknown) without
                      the runtime's CLI or the container's mount table.
                  type: str
                  choices: [volume, bind, layer, tmpfs, unknown]
                config_mount:
                  description: The mount point in the container that holds the config dir, or null.
                  type: str
                config_host_path:
                  description: The host path of the config dir's volume or bind mount, where the
                    runtime's CLI tells, else null.
                  type: str
                compose:
                  description: C(project), C(service), C(working_dir) and C(config_files) from the
                    container's Docker Compose labels, or null.
                  type: dict
                version_source:
                  description: Where C(version) came from, nothing run inside the container;
                    V(binary) (the version string compiled into the agent's binary), V(dpkg) or
                    V(apk) (the image's package database), V(label) (the image's
                    C(org.opencontainers.image.version)), or null.
                  type: str
                next_start_optout_file:
                  description: For an agent not running, whether the opt-out file will be there at its
                    next start (there now, or made by the entrypoint); null otherwise or when unknown.
                  type: bool
                stock_crash_reports:
                  description: C([global] crash reports) of the image's own config
                    (C(/etc/netdata.stock/netdata.conf)), what a re-created container starts with when
                    its config dir is its layer; null when unset or unknown.
                  type: str
                after_recreate:
                  description: The verdict of the same container re-created from the same run
                    arguments (environment and volumes kept, its layer back to the image's), with
                    C(opted_out), C(opted_in) and C(reasons).
                  type: dict
                opted_out_until_recreated:
                  description: True when the agent is opted out now but would not be after re-creation;
                    a line in C(telemetry.reasons) says what makes it last.
                  type: bool
            errors:
              description: What could not be read for this install, one line each.
              type: list
              elements: str
        container_errors:
          description: What the container runtimes' CLIs could not tell (a runtime that does not
            answer, a failed inspect), one line each. Container agents are then judged from
            C(/proc) alone.
          returned: when the telemetry subset is gathered
          type: list
          elements: str
        installer:
          description: The environment installer and updater runs get (C(/etc/environment),
            C(/etc/profile.d/*)).
          returned: when the telemetry subset is gathered
          type: dict
          contains:
            environment:
              description: C(DO_NOT_TRACK) and C(DISABLE_TELEMETRY) (null when unset).
              type: dict
            sources:
              description: Files that set them.
              type: list
              elements: str
        telemetry:
          description: The host's verdict, over every install.
          returned: when the telemetry subset is gathered
          type: dict
          contains:
            state:
              description: C(absent) (no Netdata), C(opted_out), C(opted_in) or C(partial).
              type: str
            opted_out:
              description: True when every install is opted out (and for a host without Netdata,
                unless O(strict) and the installer channel is on).
              type: bool
            opted_in:
              description: True only when every install is opted in. False for a host without Netdata.
              type: bool
            drift:
              description: True when any install drifts.
              type: bool
            reasons:
              description: Every install's reasons, each prefixed with its config dir, for a container's
                C([<runtime>:<name or short id>:<config dir>]).
              type: list
              elements: str
        system_info:
          description:
            - The environment facts C(system-info.sh) reports, keyed as it names them,
              lowercased and without C(NETDATA_). Counts, frequency (Hz), RAM and disk
              size (bytes) are integers, or V(unknown).
          returned: when the system subset is gathered
          type: dict
          sample:
            system_kernel_name: Linux
            system_architecture: x86_64
            system_virtualization: kvm
            system_container: none
            host_os_name: Debian GNU/Linux
            host_os_id: debian
            container_os_name: none
            system_cpu_freq: 2445000000
            system_total_ram: 25276063744
"""

# Before any other of this collection's imports: on a target, each is compiled once
# instead of twice (see payload_import).
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.payload_import import (
    PAYLOAD_ARGUMENT_SPEC, compile_sources_once)

compile_sources_once()

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._facts import (
    GatherSubsetError, config_dir_problems, discovery_argument_problems, discovery_argument_spec,
    fixture_root, gather_netdata_facts, resolve_gather_subset, timeout_problem)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._common.module import NulSafeModule


def main():
    module = NulSafeModule(
        argument_spec=discovery_argument_spec(
            gather_subset=dict(type='list', elements='str', default=['all']),
            cloud_detection=dict(type='bool', default=False),
            cloud_metadata_url=dict(type='str', default='http://169.254.169.254'),
            cloud_timeout=dict(type='float', default=1.0),
            **PAYLOAD_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        subsets = resolve_gather_subset(params['gather_subset'])
    except GatherSubsetError as exc:
        module.fail_json(msg=str(exc))
    problems = discovery_argument_problems(params)
    cloud_timeout = timeout_problem('cloud_timeout', params['cloud_timeout'])
    if cloud_timeout:
        problems.append(cloud_timeout)
    if '\0' in params['cloud_metadata_url']:
        problems.append('cloud_metadata_url holds a NUL byte')
    if problems:
        module.fail_json(msg='; '.join(problems))
    if params['cloud_detection'] and not params['cloud_metadata_url'].startswith(('http://', 'https://')):
        module.fail_json(msg='cloud_metadata_url must be an http:// or https:// URL, got %r'
                         % params['cloud_metadata_url'])
    # The integration tests' fixture tree (FIXTURE_ROOT_ENV in module_utils/_facts.py), else /.
    root, problem = fixture_root()
    if problem:
        module.fail_json(msg=problem)
    if root != '/':
        module.warn('reading the test fixture tree %s instead of /' % root)
    problems = config_dir_problems(params['config_dir'], root=root)
    if problems:
        module.fail_json(msg='; '.join(problems))

    facts = gather_netdata_facts(
        subsets,
        root=root,
        config_dirs=params['config_dir'],
        strict=params['strict'],
        live_query=params['live_query'],
        live_timeout=params['live_timeout'],
        cloud_detection=params['cloud_detection'],
        cloud_metadata_url=params['cloud_metadata_url'],
        cloud_timeout=params['cloud_timeout'],
        containers=params['containers'],
    )
    module.exit_json(changed=False, ansible_facts={'netdata': facts})


if __name__ == '__main__':
    main()
