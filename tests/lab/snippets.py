# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shell snippets for HostSpec.setup: each returns bash text run as root inside the host
(after the host's overlay is in place, before sshd starts). Compose with "\n".join(...)
or HostSpec.with_setup(...). All writes land in the host's private overlay."""
from __future__ import annotations

import shlex

DEBIAN_NETDATA_PATHS = [
    "/etc/netdata", "/usr/sbin/netdata", "/usr/lib/netdata", "/usr/share/netdata",
    "/var/lib/netdata", "/var/cache/netdata", "/var/log/netdata",
    "/lib/systemd/system/netdata.service", "/usr/lib/systemd/system/netdata.service",
    "/etc/init.d/netdata", "/etc/logrotate.d/netdata", "/etc/default/netdata",
    "/usr/share/doc/netdata", "/usr/share/doc/netdata-core",
]


def q(s: str) -> str:
    return shlex.quote(str(s))


def write_file(path: str, text: str, mode: str = "0644") -> str:
    """Write `text` verbatim to `path` (parents created)."""
    marker = "LAB_EOF_7f3a"
    assert marker not in text
    return (f"mkdir -p {q(path.rsplit('/', 1)[0] or '/')}\n"
            f"cat > {q(path)} <<'{marker}'\n{text}{'' if text.endswith(chr(10)) or not text else chr(10)}{marker}\n"
            f"chmod {mode} {q(path)}\n")


def remove(*paths: str) -> str:
    return "rm -rf -- " + " ".join(q(p) for p in paths) + "\n"


def _kv_file(fields: dict) -> str:
    lines = []
    for k, v in fields.items():
        lines.append(f'{k}="{v}"' if not str(v).startswith('"') else f"{k}={v}")
    return "\n".join(lines) + "\n"


def os_release(**fields: str) -> str:
    """/etc/os-release with exactly these KEY="value" lines, e.g.
    os_release(NAME="Ubuntu", ID="ubuntu", ID_LIKE="debian", VERSION="22.04.4 LTS (Jammy Jellyfish)",
    VERSION_ID="22.04")."""
    return ("rm -f /etc/os-release\n" + write_file("/etc/os-release", _kv_file(fields))
            + "rm -f /usr/lib/os-release && cp /etc/os-release /usr/lib/os-release\n")


def lsb_release(**fields: str) -> str:
    """/etc/lsb-release, e.g. lsb_release(DISTRIB_ID="Ubuntu", DISTRIB_RELEASE="22.04",
    DISTRIB_CODENAME="jammy")."""
    return write_file("/etc/lsb-release", _kv_file(fields))


def remove_os_identity() -> str:
    """No /etc/os-release, /usr/lib/os-release, /etc/lsb-release (and no lsb_release)."""
    return remove("/etc/os-release", "/usr/lib/os-release", "/etc/lsb-release",
                  "/usr/bin/lsb_release")


UBUNTU_2204 = dict(NAME="Ubuntu", ID="ubuntu", ID_LIKE="debian",
                   VERSION="22.04.4 LTS (Jammy Jellyfish)", VERSION_ID="22.04",
                   PRETTY_NAME="Ubuntu 22.04.4 LTS")
ROCKY_9 = dict(NAME="Rocky Linux", ID="rocky", ID_LIKE="rhel centos fedora",
               VERSION="9.3 (Blue Onyx)", VERSION_ID="9.3", PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)")


def opt_out_file(present: bool = True, confdir: str = "/etc/netdata") -> str:
    f = f"{confdir}/.opt-out-from-anonymous-statistics"
    return f"mkdir -p {q(confdir)} && touch {q(f)}\n" if present else remove(f)


def systemd_dropin(text: str, name: str = "10-lab.conf", unit: str = "netdata.service") -> str:
    """A drop-in /etc/systemd/system/<unit>.d/<name>, e.g.
    systemd_dropin('[Service]\\nEnvironment=DO_NOT_TRACK=1\\n')."""
    return write_file(f"/etc/systemd/system/{unit}.d/{name}", text)


def environment_file(text: str) -> str:
    return write_file("/etc/environment", text)


def profile_d(name: str, text: str) -> str:
    return write_file(f"/etc/profile.d/{name}", text)


def machine_guid(guid: str, libdir: str = "/var/lib/netdata") -> str:
    return write_file(f"{libdir}/registry/netdata.public.unique.id", guid)


def cloud_conf(text: str, libdir: str = "/var/lib/netdata") -> str:
    """e.g. cloud_conf('[global]\\n  enabled = yes\\n  claimed_id = 1234...\\n')"""
    return write_file(f"{libdir}/cloud.d/cloud.conf", text)


def remove_netdata(dpkg: bool = True) -> str:
    """A host without Netdata: the Debian package's files are gone and (dpkg=True) dpkg's
    status no longer lists netdata* packages."""
    s = remove(*DEBIAN_NETDATA_PATHS)
    if dpkg:
        s += r"""python3 - <<'LAB_PY'
import re
p = "/var/lib/dpkg/status"
stanzas = open(p).read().split("\n\n")
keep = [s for s in stanzas if not re.match(r"Package: netdata(-|$|\n)", s.lstrip("\n"))]
open(p, "w").write("\n\n".join(keep))
LAB_PY
rm -f /var/lib/dpkg/info/netdata*
"""
    return s


def static_install(version: str = "2.3.1", install_type: str = "kickstart-static",
                   opted_out: bool = False) -> str:
    """A stand-in for a static (kickstart) install under /opt/netdata: config dir
    /opt/netdata/etc/netdata with .install-type, a `netdata` that prints
    `netdata v<version>` for -v/-V, lib dir /opt/netdata/var/lib/netdata, and the
    scripts dir /opt/netdata/usr/libexec/netdata/plugins.d (copied from Debian's)."""
    nd = f"""#!/bin/sh
case "$1" in
  -v|-V|--version) echo "netdata v{version}"; exit 0 ;;
  -W) [ "$2" = buildinfo ] && {{ echo "Version: netdata v{version}"; echo "Install type: {install_type}"; exit 0; }} ;;
esac
echo "netdata v{version} (lab stand-in: cannot run)" >&2
exit 1
"""
    s = write_file("/opt/netdata/usr/sbin/netdata", nd, "0755")
    s += write_file("/opt/netdata/etc/netdata/.install-type",
                    f"INSTALL_TYPE='{install_type}'\nPREBUILT_ARCH='x86_64'\n")
    s += write_file("/opt/netdata/etc/netdata/netdata.conf",
                    "[global]\n\trun as user = netdata\n")
    s += "mkdir -p /opt/netdata/var/lib/netdata/registry /opt/netdata/var/lib/netdata/cloud.d " \
         "/opt/netdata/usr/libexec/netdata/plugins.d\n"
    s += "if [ -d /usr/lib/netdata/plugins.d ]; then cp -a /usr/lib/netdata/plugins.d/*.sh " \
         "/opt/netdata/usr/libexec/netdata/plugins.d/ 2>/dev/null || true; fi\n"
    if opted_out:
        s += opt_out_file(True, "/opt/netdata/etc/netdata")
    return s


def openrc_layout(conf_d: str | None = None) -> str:
    """The host looks run by OpenRC, as Alpine is: /run/openrc (OpenRC's runtime state,
    runlevel `default`), an openrc-run script at /etc/init.d/netdata shaped like Netdata's
    own (system/openrc/init.d/netdata.in: command, `-P <pidfile>`, no environment of its
    own) with its /etc/conf.d/netdata (`conf_d`, default: settings like the ones Netdata's
    system/openrc/conf.d/netdata.in ships, none of them exported), and
    `rc-service`/`rc-update` commands. The lab has no OpenRC itself: `rc-service netdata
    VERB` drives the lab's service stand-in, which gives the daemon the environment
    openrc-run would (the conf.d exports, see tests/lab/bin/netdata-lab-service), and
    records each call in /run/netdata-lab/rc-service.calls, so a test sees what the role
    asked for."""
    init_script = ("#!/sbin/openrc-run\n# Netdata under OpenRC (the lab's, shaped like Netdata's own)\n"
                   "description=\"Netdata agent\"\n"
                   "command_prefix=/usr/sbin\ncommand=\"${command_prefix}/netdata\"\n"
                   "command_args=\"-P /run/netdata/netdata.pid ${NETDATA_EXTRA_ARGS}\"\n"
                   "command_args_foreground=\"-D\"\n"
                   "depend() {\n  need net\n  use logger\n}\n"
                   "start_pre() {\n  if [ -z \"${supervisor}\" ]; then\n    pidfile=/run/netdata/netdata.pid\n  fi\n}\n")
    if conf_d is None:
        conf_d = ("# Netdata's OpenRC settings\n"
                  "# The user the agent runs as (its files change owner to it)\n"
                  "NETDATA_OWNER=\"netdata:netdata\"\n"
                  "# Seconds to wait for the agent to save its database at stop\n"
                  "NETDATA_WAIT_EXIT_TIMEOUT=60\n"
                  "NETDATA_FORCE_EXIT=0\n"
                  "NETDATA_PIDFILE=\"/run/netdata/netdata.pid\"\n"
                  "#supervisor=\"supervise-daemon\"\n")
    rc_service = ("#!/bin/sh\n# lab stand-in for OpenRC's rc-service\n"
                  "echo \"$*\" >> /run/netdata-lab/rc-service.calls\n"
                  "[ \"$1\" = netdata ] || { echo \"rc-service: service '$1' does not exist\" >&2; exit 1; }\n"
                  "case \"$2\" in\n"
                  "  status) if /usr/local/sbin/netdata-lab-service status >/dev/null 2>&1; then\n"
                  "            echo ' * status: started'; else echo ' * status: stopped'; exit 3; fi ;;\n"
                  "  start|stop|restart) exec /usr/local/sbin/netdata-lab-service \"$2\" ;;\n"
                  "  *) echo \"rc-service: unknown verb $2\" >&2; exit 1 ;;\n"
                  "esac\n")
    return ("mkdir -p /run/openrc && echo default > /run/openrc/softlevel\n"
            + write_file("/etc/init.d/netdata", init_script, "0755")
            + write_file("/etc/conf.d/netdata", conf_d)
            + write_file("/sbin/rc-service", rc_service, "0755")
            + write_file("/sbin/rc-update", "#!/bin/sh\nexit 0\n", "0755")
            + "touch /run/netdata-lab/rc-service.calls && chmod 0666 /run/netdata-lab/rc-service.calls\n")
