# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The judge: Debian's real system-info.sh and collect_system_info() on the same "host".

Each case builds a throw-away host on this machine, without SSH:

- ``unshare --mount --net``: a private mount namespace and a network namespace with
  only a (down) loopback, so nothing can leave the machine. On top, a fake ``curl``
  that exits 28 (curl's timeout) is first on PATH, so the script's cloud probe stops
  right after its first try, exactly as our collector with cloud detection off.
- An overlayfs whose lower layer is ``/`` and whose upper layer is a tmpfs, mounted on a
  scratch dir, with /proc, /sys and /dev bind-mounted in; both programs run in a
  ``chroot`` into it. Files are added (a regular /etc/os-release replaces Debian's
  symlink) or removed (whiteouts) in the upper layer only; the machine is untouched.

Why a chroot and not just a mount over /etc: this machine is a Docker-looking VM.
``systemd-detect-virt -c`` says ``docker`` only because ``/.dockerenv`` exists (PID 1
has no ``container=`` variable; systemd 252 checks /.dockerenv last). Removing
/.dockerenv in the overlay turns it into ``none``, i.e. a bare host: then the script
reports the OS as ``host_os_*`` and ``container_os_*`` become ``none``. Keeping it gives
the container path (``container_os_*`` filled, ``host_os_*`` from /host/etc/os-release
or ``unknown``). Removing /usr/bin/systemd-detect-virt (or lscpu, nproc, lsb_release)
makes the script take its fallbacks (lscpu, heuristics, sysfs/procfs, lsb-release).

Normalisations, the only ones: the four number keys are ints on our side and strings in
the script's output; ``system_cpu_freq`` may be mawk's ``%.6g`` (``2.445e+09``) there, which
must equal our integer exactly as a number. Everything else must be equal as text.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = "/usr/lib/netdata/plugins.d/system-info.sh"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(REPO, ".build", "collections")
PYTHON = sys.executable  # the venv (its pyvenv.cfg sits next to this path)
INTEGER_KEYS = ("system_cpu_logical_cpu_count", "system_cpu_freq", "system_total_ram",
                "system_total_disk_size")
FAKEBIN = "/judge-fakebin"
PATH = FAKEBIN + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

pytestmark = [
    pytest.mark.skipif(not os.path.exists(SCRIPT), reason="Debian's netdata package is not installed"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for unshare, overlayfs and chroot"),
    pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare"),
    pytest.mark.skipif(not os.path.isdir(COLLECTIONS), reason="run scripts/bootstrap.sh test first"),
]

FAKE_CURL = "#!/bin/sh\n# judge: never reach the network; 28 is curl's timeout\nexit 28\n"

COLLECTOR = (
    "import json, sys; sys.path.insert(0, %r); "
    "from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.collect "
    "import collect_system_info; print(json.dumps(collect_system_info()))" % COLLECTIONS
)

HOST_SETUP = r"""
set -eu
H="$1"; PAYLOAD="$2"; REMOVE="$3"
mount --make-rprivate /
mount -t tmpfs judge "$H"
mkdir "$H/up" "$H/wk" "$H/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$H/up,workdir=$H/wk" "$H/root"
R="$H/root"
while IFS= read -r p; do [ -n "$p" ] && rm -rf "$R$p"; done < "$REMOVE"
(cd "$PAYLOAD" && find . -type f -o -type l) | while IFS= read -r f; do
  f="${f#.}"; mkdir -p "$R$(dirname "$f")"; rm -f "$R$f"; cp -a "$PAYLOAD$f" "$R$f"
done
for d in proc sys dev; do mount --rbind "/$d" "$R/$d"; done
shift 3
echo "===SCRIPT==="
chroot "$R" /usr/bin/env -i "PATH=$PATH_FOR_CASE" HOME=/root LANG=C "$@" /bin/sh __SCRIPT__ 2>/dev/null || echo "===SCRIPT-RC=$?"
echo "===COLLECTOR==="
chroot "$R" /usr/bin/env -i "PATH=$PATH_FOR_CASE" HOME=/root LANG=C "$@" __PYTHON__ -c "$COLLECTOR"
""".replace("__SCRIPT__", SCRIPT).replace("__PYTHON__", PYTHON)

UBUNTU_OS_RELEASE = '''PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
'''
UBUNTU_LSB = '''DISTRIB_ID=Ubuntu
DISTRIB_RELEASE=22.04
DISTRIB_CODENAME=jammy
DISTRIB_DESCRIPTION="Ubuntu 22.04.4 LTS"
'''
ALPINE_OS_RELEASE = '''NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.19.1
PRETTY_NAME="Alpine Linux v3.19"
HOME_URL="https://alpinelinux.org/"
'''
ARCH_OS_RELEASE = '''NAME="Arch Linux"
PRETTY_NAME="Arch Linux"
ID=arch
BUILD_ID=rolling
'''
QUIRKY_OS_RELEASE = '''NAME='Quirky  Linux'   # single quotes, comment
ID=quirky
ID=quirky2
VERSION="1.0 \\"beta\\" $UNSET_VAR end"
VERSION_ID=1.0\t
ID_LIKE="a b"
'''
FAKE_LSCPU = '''#!/bin/sh
cat <<'EOF'
Architecture:                    x86_64
CPU(s):                          4
Vendor ID:                       GenuineIntel
Model name:                      Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz
Hypervisor vendor:               User-mode Linux
Virtualization type:             full
EOF
'''

LAB_OS_RELEASE = (Path(__file__).resolve().parents[1] / "lab" / "files" / "os-release").read_text()
# Files that decide the OS identity: every case starts without the machine's and gets the
# lab's Debian 12 os-release unless it brings or removes its own.
OS_IDENTITY = ("/etc/os-release", "/usr/lib/os-release", "/etc/lsb-release", "/host")

DOCKERENV = "/.dockerenv"
DETECT_VIRT = "/usr/bin/systemd-detect-virt"

# name: (files to write, paths to remove, extra environment)
CASES = {
    "debian_as_is_docker": ({}, [], {}),
    "debian_bare_host": ({}, [DOCKERENV], {}),
    "ubuntu_with_lsb_release": ({"/etc/os-release": UBUNTU_OS_RELEASE, "/etc/lsb-release": UBUNTU_LSB},
                                [DOCKERENV], {}),
    "alpine_unquoted": ({"/etc/os-release": ALPINE_OS_RELEASE}, [DOCKERENV], {}),
    "quoting_edge_cases": ({"/etc/os-release": QUIRKY_OS_RELEASE}, [DOCKERENV], {}),
    "arch_no_version_lsb_mixed": ({"/etc/os-release": ARCH_OS_RELEASE, "/etc/lsb-release": UBUNTU_LSB},
                                  [DOCKERENV], {}),
    "arch_no_version_no_lsb_file_lsb_release_cmd": ({"/etc/os-release": ARCH_OS_RELEASE},
                                                    [DOCKERENV], {}),
    "only_lsb_release_file": ({"/etc/lsb-release": UBUNTU_LSB},
                              [DOCKERENV, "/etc/os-release", "/usr/bin/lsb_release"], {}),
    "only_lsb_release_file_and_cmd": ({"/etc/lsb-release": UBUNTU_LSB}, [DOCKERENV, "/etc/os-release"], {}),
    "no_os_files_lsb_release_cmd_only": ({}, [DOCKERENV, "/etc/os-release", "/usr/lib/os-release"], {}),
    "no_os_files_at_all": ({}, [DOCKERENV, "/etc/os-release", "/usr/bin/lsb_release"], {}),
    "container_with_host_os_release": ({"/host/etc/os-release": UBUNTU_OS_RELEASE}, [], {}),
    "container_host_partial_host_lsb_bug": (
        {"/host/etc/os-release": ARCH_OS_RELEASE, "/host/etc/lsb-release": UBUNTU_LSB,
         "/etc/lsb-release": "DISTRIB_RELEASE=from-the-container\n"}, [], {}),
    "container_env_ignored_when_detect_virt_says_none": ({}, [DOCKERENV], {"container": "lxc"}),
    "lxc_env_without_detect_virt": ({}, [DOCKERENV, DETECT_VIRT], {"container": "lxc"}),
    "dockerenv_without_detect_virt": ({}, [DETECT_VIRT], {}),
    "running_in_container_without_detect_virt": (
        {"/bin/running-in-container": "#!/bin/sh\nexit 0\n"}, [DOCKERENV, DETECT_VIRT], {}),
    "fake_lscpu_user_mode_linux_and_ghz_model": ({FAKEBIN + "/lscpu": FAKE_LSCPU}, [DOCKERENV, DETECT_VIRT], {}),
    "no_lscpu_no_nproc_sysfs_procfs": ({}, [DOCKERENV, DETECT_VIRT, "/usr/bin/lscpu", "/usr/bin/nproc"], {}),
    "provided_virtualization_k8s_official_image": (
        {}, [DOCKERENV],
        {"VIRTUALIZATION": "Some Hypervisor", "KUBERNETES_SERVICE_HOST": "10.0.0.1",
         "KUBERNETES_SERVICE_PORT": "443", "NETDATA_OFFICIAL_IMAGE": "true"}),
}


def parse_script_output(text):
    values = {}
    for line in text.split("\n"):
        if line.startswith("NETDATA_") and "=" in line:
            key, value = line.split("=", 1)
            values[key[len("NETDATA_"):].lower()] = value
    return values


def run_case(tmp_path, files, remove, env):
    payload = tmp_path / "payload"
    payload.mkdir()
    all_files = dict(files)
    all_files[FAKEBIN + "/curl"] = FAKE_CURL
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        if path not in remove:
            all_files.setdefault(path, LAB_OS_RELEASE)
    for path, content in all_files.items():
        target = payload / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        if path.startswith(FAKEBIN) or "/bin/" in path:
            target.chmod(0o755)
    remove_list = tmp_path / "remove"
    remove_list.write_text("\n".join(OS_IDENTITY + tuple(remove)) + "\n")
    scratch = tmp_path / "host"
    scratch.mkdir()
    setup = tmp_path / "setup.sh"
    setup.write_text(HOST_SETUP)
    run_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PATH_FOR_CASE": PATH, "COLLECTOR": COLLECTOR}
    argv = ["unshare", "--mount", "--net", "/bin/sh", str(setup), str(scratch), str(payload), str(remove_list)]
    argv += ["%s=%s" % kv for kv in sorted(env.items())]
    proc = subprocess.run(argv, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "===COLLECTOR===" in out, out + proc.stderr
    script_part, collector_part = out.split("===SCRIPT===", 1)[1].split("===COLLECTOR===", 1)
    assert "===SCRIPT-RC=" not in script_part, script_part
    return parse_script_output(script_part), json.loads(collector_part.strip().splitlines()[-1])


def assert_same(script, ours):
    # Sanity: the real script ran and printed its whole block.
    assert script.get("system_kernel_name") == os.uname()[0], script
    assert len(script) == 33, sorted(script)
    assert set(ours) == set(script)
    diffs = []
    for key in sorted(script):
        theirs, mine = script[key], ours[key]
        if key in INTEGER_KEYS and mine != "unknown":
            if not isinstance(mine, int):
                diffs.append((key, theirs, mine))
            elif key == "system_cpu_freq" and "e+" in theirs:
                if float(theirs) != float(mine):
                    diffs.append((key, theirs, mine))
            elif theirs != str(mine):
                diffs.append((key, theirs, mine))
        elif theirs != mine:
            diffs.append((key, theirs, mine))
    assert not diffs, "key, script, collector: %r" % diffs


@pytest.mark.parametrize("case", sorted(CASES))
def test_collector_matches_system_info_sh(tmp_path, case):
    files, remove, env = CASES[case]
    script, ours = run_case(tmp_path, files, remove, env)
    assert_same(script, ours)


def test_cases_really_reach_their_paths(tmp_path):
    """The cases above are only worth something if the script took the intended path."""
    expect = {
        "debian_bare_host": {"system_container": "none", "host_os_id": "debian", "container_os_id": "none"},
        "debian_as_is_docker": {"system_container": "docker", "container_os_id": "debian",
                                "host_os_detection": "unknown"},
        "arch_no_version_lsb_mixed": {"host_os_detection": "Mixed", "host_os_version": "22.04"},
        "only_lsb_release_file": {"host_os_detection": "/etc/lsb-release", "host_os_id": "jammy"},
        "container_with_host_os_release": {"host_os_detection": "/host/etc/os-release", "host_os_id": "ubuntu"},
        "lxc_env_without_detect_virt": {"system_container": "lxc", "system_virt_detection": "lscpu"},
        "fake_lscpu_user_mode_linux_and_ghz_model": {"system_virtualization": "user-mode",
                                                     "system_cpu_freq": "2300000000"},
        "no_lscpu_no_nproc_sysfs_procfs": {"system_cpu_detection": "sysfs uname procfs"},
        "provided_virtualization_k8s_official_image": {"system_virt_detection": "provided",
                                                       "host_is_k8s_node": "true"},
    }
    for i, (case, wanted) in enumerate(sorted(expect.items())):
        d = tmp_path / str(i)
        d.mkdir()
        script, _ours = run_case(d, *CASES[case])
        for key, value in wanted.items():
            assert script[key] == value, (case, key, script[key])
