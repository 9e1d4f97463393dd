# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function

import json
import os
import threading

import pytest

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))

from http.server import BaseHTTPRequestHandler, HTTPServer  # noqa: E402

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info import cpu  # noqa: E402
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.collect import (  # noqa: E402
    SYSTEM_INFO_KEYS, collect_system_info,
)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.capacity import (  # noqa: E402
    device_major_whitelist, meminfo_total_bytes,
)
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.cloud import detect_cloud  # noqa: E402
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.common import Host  # noqa: E402
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.virt import (  # noqa: E402
    container_heuristics, detect_virtualization, normalize_virtualization_name, pid1_process_name,
)

FIXTURES = os.path.join(_REPO, "tests", "unit", "fixtures", "system_info")
UNAME = ("Linux", "node", "6.1.0-18-amd64", "#1 SMP", "x86_64")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


class FakeCommands(object):
    """run_command stand-in: {"cmd arg": (rc, out)}; anything else is a missing command."""

    def __init__(self, table=None):
        self.table = dict(table or {})
        self.calls = []

    def __call__(self, argv, env=None):
        self.calls.append((tuple(argv), env))
        key = " ".join(argv)
        if key in self.table:
            rc, out = self.table[key]
            return rc, out, ""
        return 127, "", "not found"


def make_tree(root, files):
    for path, content in files.items():
        full = os.path.join(str(root), path.lstrip("/"))
        if content is None:
            os.makedirs(full)
            continue
        d = os.path.dirname(full)
        if not os.path.isdir(d):
            os.makedirs(d)
        with open(full, "wb" if isinstance(content, bytes) else "w") as f:
            f.write(content)
    return str(root)


BASE_FILES = {
    "/proc/meminfo": "MemTotal:       24683656 kB\nMemFree:  1 kB\n",
    "/proc/cpuinfo": "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n"
                     "cpu MHz\t\t: 2445.404\nprocessor\t: 1\ncpu MHz\t\t: 2445.404\n",
    "/proc/devices": fixture("proc-devices.txt"),
    "/sys/block/sda/size": "41943040\n", "/sys/block/sda/dev": "8:0\n", "/sys/block/sda/removable": "0\n",
    "/proc/1/sched": "systemd (1, #threads: 1)\n----\n",
}


def collect(tmp_path, files=None, commands=None, environ=None, **kw):
    tree = dict(BASE_FILES)
    tree.update(files or {})
    tree = dict((k, v) for k, v in tree.items() if v is not False)
    root = make_tree(tmp_path, tree)
    errors = []
    info = collect_system_info(root=root, run_command=FakeCommands(commands), environ=environ or {},
                               uname=UNAME, errors=errors, **kw)
    return info, errors


BARE = {"systemd-detect-virt -v": (0, "kvm\n"), "systemd-detect-virt -c": (1, "none\n")}
DOCKER = {"systemd-detect-virt -v": (0, "kvm\n"), "systemd-detect-virt -c": (0, "docker\n")}


# ---- the whole dict -------------------------------------------------------------------

def test_all_keys_and_types_on_a_bare_debian_host(tmp_path):
    info, errors = collect(tmp_path, {"/etc/os-release": fixture("os-release/debian12")}, BARE)
    assert list(info) == list(SYSTEM_INFO_KEYS) and len(info) == 33
    assert info["system_kernel_name"] == "Linux" and info["system_kernel_version"] == "6.1.0-18-amd64"
    assert info["system_architecture"] == "x86_64"
    assert (info["system_virtualization"], info["system_virt_detection"]) == ("kvm", "systemd-detect-virt")
    assert (info["system_container"], info["system_container_detection"]) == ("none", "systemd-detect-virt")
    assert info["host_os_name"] == "Debian GNU/Linux" and info["host_os_version_id"] == "12"
    assert info["host_os_detection"] == "/etc/os-release" and info["host_os_id_like"] == "unknown"
    assert all(info["container_" + k] == "none" for k in (
        "os_name", "os_id", "os_id_like", "os_version", "os_version_id", "os_detection"))
    assert info["container_is_official_image"] == "false" and info["host_is_k8s_node"] == "false"
    # no lscpu/dmidecode/nproc/uname in the fake: sysfs missing -> procfs counts
    assert info["system_cpu_logical_cpu_count"] == 2 and info["system_cpu_detection"] == "procfs"
    assert info["system_cpu_model"] == "AMD EPYC" and info["system_cpu_vendor"] == "AuthenticAMD"
    assert info["system_cpu_freq"] == 2445000000  # the script prints 2.445e+09
    assert info["system_total_ram"] == 24683656 * 1024 and info["system_ram_detection"] == "procfs"
    assert info["system_total_disk_size"] == 41943040 * 512 and info["system_disk_detection"] == "sysfs"
    assert info["instance_cloud_type"] == "unknown"
    assert errors == []
    json.dumps(info)


def test_empty_root_never_raises(tmp_path):
    info = collect_system_info(root=str(tmp_path), run_command=FakeCommands(), environ={}, uname=UNAME)
    assert info["system_virtualization"] == "unknown" and info["system_virt_detection"] == "none"
    assert info["host_os_detection"] == "unknown" and info["container_os_name"] == "none"
    assert info["system_total_ram"] == "unknown" and info["system_ram_detection"] == "none"
    assert info["system_cpu_detection"] == "none" and info["system_cpu_freq"] == "unknown"
    assert info["system_disk_detection"] == "df" and info["system_total_disk_size"] == "unknown"


def test_binary_and_odd_files_never_raise(tmp_path):
    junk = b"\x00\xff\xfe\x01" * 50
    files = dict((k, junk) for k in ("/etc/os-release", "/etc/lsb-release", "/proc/meminfo", "/proc/cpuinfo",
                                     "/proc/devices", "/proc/1/sched", "/host/etc/os-release"))
    files["/sys/block/sda/size"] = "not a number\n"
    info, _errors = collect(tmp_path, files, DOCKER)
    # the (binary) lsb-release exists, so the detection is Mixed; nothing could be read
    assert info["container_os_detection"] == "Mixed" and info["container_os_name"] == "unknown"
    assert info["system_total_ram"] == "unknown" and info["system_total_disk_size"] == 0


def test_a_runner_that_raises_is_a_missing_command(tmp_path):
    def boom(argv, env=None):
        raise RuntimeError("no")
    info = collect_system_info(root=make_tree(tmp_path, BASE_FILES), run_command=boom, environ={}, uname=UNAME)
    assert info["system_virt_detection"] == "none" and info["system_ram_detection"] == "procfs"


# ---- OS identity and the container/host split -------------------------------------------

@pytest.mark.parametrize("files, commands, expected", [
    ({"/etc/os-release": fixture("os-release/ubuntu2204"), "/etc/lsb-release": fixture("lsb-release-ubuntu")},
     {}, {"name": "Ubuntu", "id": "ubuntu", "id_like": "debian", "version": "22.04.4 LTS (Jammy Jellyfish)",
          "version_id": "22.04", "detection": "/etc/os-release"}),
    ({"/etc/os-release": fixture("os-release/alpine319")}, {},
     {"name": "Alpine Linux", "id": "alpine", "version": "unknown", "version_id": "3.19.1",
      "detection": "/etc/os-release"}),
    ({"/etc/os-release": fixture("os-release/centos7")}, {},
     {"name": "CentOS Linux", "id": "centos", "id_like": "rhel fedora", "version": "7 (Core)",
      "detection": "/etc/os-release"}),
    # Arch has no VERSION: lsb-release fills it and says Mixed
    ({"/etc/os-release": fixture("os-release/arch"), "/etc/lsb-release": fixture("lsb-release-ubuntu")}, {},
     {"name": "Arch Linux", "id": "arch", "version": "22.04", "detection": "Mixed"}),
    # only NAME; no lsb file but the lsb_release command fills the rest
    ({"/etc/os-release": fixture("os-release/only-name")},
     {"lsb_release -is": (0, "Ignored\n"), "lsb_release -rs": (0, "1.2\n"), "lsb_release -cs": (0, "cody\n")},
     {"name": "Only Name OS", "id": "cody", "version": "1.2", "version_id": "unknown", "detection": "Mixed"}),
    # lsb-release only: DISTRIB_CODENAME becomes the ID, as in the script
    ({"/etc/lsb-release": fixture("lsb-release-ubuntu")}, {},
     {"name": "Ubuntu", "id": "jammy", "version": "22.04", "id_like": "unknown", "detection": "/etc/lsb-release"}),
    ({"/etc/lsb-release": fixture("lsb-release-ubuntu")}, {"lsb_release -is": (0, "Ubuntu\n")},
     {"name": "Ubuntu", "id": "jammy", "detection": "Mixed"}),
    ({}, {"lsb_release -is": (0, "Foo\n"), "lsb_release -rs": (0, "9\n"), "lsb_release -cs": (0, "bar\n")},
     {"name": "Foo", "id": "bar", "version": "9", "detection": "lsb_release"}),
    # lsb_release prints nothing: empty, not unknown (command substitution)
    ({}, {"lsb_release -is": (1, ""), "lsb_release -rs": (1, ""), "lsb_release -cs": (1, "")},
     {"name": "", "id": "", "version": "", "detection": "lsb_release"}),
])
def test_os_identity_on_a_bare_host(tmp_path, files, commands, expected):
    table = dict(BARE)
    table.update(commands)
    info, _unused = collect(tmp_path, files, table)
    for field, value in expected.items():
        key = "host_os_detection" if field == "detection" else "host_os_" + field
        assert info[key] == value, key
    assert info["container_os_detection"] == "none" and info["container_os_name"] == "none"


def test_in_a_container_the_local_os_is_the_container_os(tmp_path):
    info, _unused = collect(tmp_path, {"/etc/os-release": fixture("os-release/alpine319")}, DOCKER)
    assert info["container_os_name"] == "Alpine Linux" and info["container_os_detection"] == "/etc/os-release"
    assert info["host_os_name"] == "unknown" and info["host_os_detection"] == "unknown"


def test_container_reads_host_os_release_bind_mount(tmp_path):
    info, _unused = collect(tmp_path, {"/etc/os-release": fixture("os-release/alpine319"),
                                       "/host/etc/os-release": fixture("os-release/ubuntu2204")}, DOCKER)
    assert info["container_os_id"] == "alpine"
    assert info["host_os_id"] == "ubuntu" and info["host_os_version_id"] == "22.04"
    assert info["host_os_detection"] == "/host/etc/os-release"


def test_host_lsb_fallback_reads_the_containers_file_like_the_script(tmp_path):
    info, _unused = collect(tmp_path, {"/etc/os-release": fixture("os-release/alpine319"),
                                       "/host/etc/os-release": fixture("os-release/arch"),
                                       "/host/etc/lsb-release": "DISTRIB_RELEASE=host\n",
                                       "/etc/lsb-release": "DISTRIB_RELEASE=container\n"}, DOCKER)
    assert info["host_os_version"] == "container" and info["host_os_detection"] == "Mixed"
    info, _unused = collect(tmp_path / "x", {"/host/etc/lsb-release": "DISTRIB_ID=h\n"}, DOCKER)
    assert info["host_os_detection"] == "/etc/lsb-release" and info["host_os_name"] == "unknown"


# ---- virtualization and containers -----------------------------------------------------

@pytest.mark.parametrize("raw, normalized", [
    ("KVM", "kvm"), ("VMware", "vmware"), ("Microsoft", "microsoft"),
    # the script passes the name unquoted: only the first word reaches its function
    ("User-mode Linux", "user-mode"), ("Windows Subsystem for Linux", "windows"),
    ("Innotek GmbH", "innotek"), ("  ", ""),
])
def test_normalize_virtualization_name(raw, normalized):
    assert normalize_virtualization_name(raw) == normalized


def _host(tmp_path, commands=None, environ=None, files=None):
    return Host(root=make_tree(tmp_path, files or {}), run_command=FakeCommands(commands), environ=environ or {})


def test_virtualization_order(tmp_path):
    lscpu_uml = "Hypervisor vendor:   User-mode   Linux \nVirtualization type: full\n"
    assert detect_virtualization(_host(tmp_path, {"systemd-detect-virt -v": (1, "none\n"),
                                                  "systemd-detect-virt -c": (0, "lxc\n"),
                                                  "lscpu": (0, lscpu_uml)})) == \
        ("none", "systemd-detect-virt", "lxc", "systemd-detect-virt")
    assert detect_virtualization(_host(tmp_path, {"lscpu": (0, lscpu_uml)})) == \
        ("user-mode", "lscpu", "unknown", "none")
    assert detect_virtualization(_host(tmp_path, {"lscpu": (0, fixture("lscpu-xeon-maxmhz.txt"))})) == \
        ("none", "none", "unknown", "none")
    assert detect_virtualization(_host(tmp_path, {"lscpu": (0, "CPU(s): 1\n")})) == \
        ("unknown", "none", "unknown", "none")
    assert detect_virtualization(_host(tmp_path, {"dmidecode -s system-product-name": (0, "VMware Virtual Platform\n")})) == \
        ("vmware", "dmidecode", "unknown", "none")
    assert detect_virtualization(_host(tmp_path, {"dmidecode -s system-product-name": (0, "Standard PC\n")})) == \
        ("unknown", "none", "unknown", "none")
    assert detect_virtualization(_host(tmp_path, {"systemd-detect-virt -v": (0, "kvm\n")},
                                       environ={"VIRTUALIZATION": "Given Value"})) == \
        ("Given Value", "provided", "unknown", "none")


def test_container_heuristics_order(tmp_path):
    files = {"/proc/1/sched": "netdata (1, #threads: 3)\n", "/bin/running-in-container": "#!/bin/sh\n",
             "/.dockerenv": ""}
    h = _host(tmp_path, {"/bin/running-in-container": (0, "")}, {"container": "podman"}, files)
    assert container_heuristics(h, "unknown", "none") == ("docker", "dockerenv")
    os.remove(os.path.join(h.root, ".dockerenv"))
    assert container_heuristics(h, "unknown", "none") == ("lxc", "containerenv")
    h.environ = {"container": ""}
    assert container_heuristics(h, "unknown", "none") == ("container", "/bin/running-in-container")
    h.run_command = FakeCommands({"/bin/running-in-container": (1, "")})
    assert container_heuristics(h, "unknown", "none") == ("container", "process")
    # systemd-detect-virt already answered (even "none"): no heuristics
    assert container_heuristics(h, "none", "systemd-detect-virt") == ("none", "systemd-detect-virt")


@pytest.mark.parametrize("line, name", [
    ("netdata (1, #threads: 3)", "netdata"), ("  netdata(1, x)", "netdata"),
    ("my netdata (1, x)", "my"), ("(odd", ""), ("", ""),
])
def test_pid1_process_name(line, name):
    assert pid1_process_name(line) == name


# ---- CPU ------------------------------------------------------------------------------

def _cpu(tmp_path, commands, files=None):
    return cpu.collect_cpu(_host(tmp_path, commands, files=dict(BASE_FILES, **(files or {}))))


def test_cpu_from_lscpu_with_lc_numeric_c(tmp_path):
    h = _host(tmp_path, {"lscpu": (0, fixture("lscpu-xeon-maxmhz.txt"))}, files=BASE_FILES)
    got = cpu.collect_cpu(h)
    assert got == {"system_cpu_logical_cpu_count": 8, "system_cpu_vendor": "GenuineIntel",
                   "system_cpu_model": "Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz",
                   "system_cpu_freq": 4000000000, "system_cpu_detection": "lscpu"}
    assert (("lscpu",), {"LC_NUMERIC": "C"}) in h.run_command.calls


@pytest.mark.parametrize("lscpu_text, mhz", [
    ("CPU max MHz: 3400.0000\nCPU MHz: 1200.000\n", "3400"),
    ("CPU MHz:   2445.404\n", "2445"),
    ("Model name: Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz\n", "2300"),
    ("Model name: Odd 1.005GHz\n", "1004"),  # doubles, as mawk: int(1.005*1000) == 1004
    ("Model name: AMD EPYC\n", ""),
])
def test_lscpu_frequency(lscpu_text, mhz):
    assert cpu.lscpu_frequency_mhz(lscpu_text) == mhz


def test_frequency_precedence(tmp_path):
    lscpu_epyc = fixture("lscpu-epyc.txt")  # no MHz lines at all
    base = {"/sys/devices/system/cpu/cpu0/cpufreq/base_frequency": "2100000\n",
            "/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq": "3900000\n"}
    got = _cpu(tmp_path / "a", {"lscpu": (0, fixture("lscpu-xeon-maxmhz.txt"))}, base)
    assert (got["system_cpu_freq"], got["system_cpu_detection"]) == (2100000000, "lscpu sysfs")
    got = _cpu(tmp_path / "b", {"lscpu": (0, lscpu_epyc)},
               {"/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq": "3900000\n"})
    assert (got["system_cpu_freq"], got["system_cpu_detection"]) == (3900000000, "lscpu sysfs")
    got = _cpu(tmp_path / "c", {"lscpu": (0, lscpu_epyc)})
    assert (got["system_cpu_freq"], got["system_cpu_detection"]) == (2445000000, "lscpu procfs")
    assert isinstance(got["system_cpu_freq"], int)


def test_procfs_frequency_is_the_integer_behind_e_plus_09():
    hz = cpu.procfs_frequency_hz("cpu MHz\t\t: 2445.404\n")
    assert hz == 2445000000 and float("2.445e+09") == hz
    assert cpu.procfs_frequency_hz("model name: x\n") is None


def test_cpu_dmidecode_then_nproc_then_sysfs(tmp_path):
    dmi = "Processor Information\n\tManufacturer: Intel\n\tVersion: Xeon Gold\n\tCurrent Speed: 2600 MHz\n" \
          "\tThread Count: 16\n"
    got = _cpu(tmp_path / "a", {"dmidecode -t processor": (0, dmi)})
    assert got == {"system_cpu_logical_cpu_count": 16, "system_cpu_vendor": "Intel", "system_cpu_model": "Xeon Gold",
                   "system_cpu_freq": 2600000000, "system_cpu_detection": "dmidecode"}
    got = _cpu(tmp_path / "b", {"nproc": (0, "4\n"), "uname --version": (0, "uname (GNU coreutils) 9.1\n"),
                                "uname -p": (0, "unknown\n"), "uname -i": (0, "unknown\n")})
    assert got["system_cpu_logical_cpu_count"] == 4 and got["system_cpu_detection"] == "nproc uname procfs"
    assert got["system_cpu_model"] == "unknown"
    sysfs = {"/sys/devices/system/cpu/cpu0": None, "/sys/devices/system/cpu/cpu1": None,
             "/sys/devices/system/cpu/cpu2": None, "/sys/devices/system/cpu/cpuidle": None,
             "/sys/devices/system/cpu/cpufreq": None, "/sys/devices/system/cpu/cpu_list": "x",
             "/sys/devices/system/cpu/online": "0-2\n"}
    got = _cpu(tmp_path / "c", {}, sysfs)
    assert got["system_cpu_logical_cpu_count"] == 3 and got["system_cpu_detection"] == "sysfs procfs"
    assert got["system_cpu_model"] == "AMD EPYC" and got["system_cpu_freq"] == 2445000000


def test_cpu_non_numbers_become_unknown(tmp_path):
    dmi = "\tCurrent Speed: Unknown\n\tThread Count: \n"
    got = _cpu(tmp_path, {"dmidecode -t processor": (0, dmi)})
    assert got["system_cpu_freq"] == "unknown" and got["system_cpu_logical_cpu_count"] == "unknown"


# ---- RAM, disk ------------------------------------------------------------------------

def test_meminfo():
    assert meminfo_total_bytes("MemTotal:       24683656 kB\n") == 24683656 * 1024
    assert meminfo_total_bytes("MemFree: 1 kB\n") is None


def test_disk_whitelist_string_matches_the_script():
    wl = device_major_whitelist(fixture("proc-devices.txt"))
    assert wl == ":8:65:66::" + ":202::" + ":253::" + ":259::"
    assert ":7:" not in wl and ":252:" not in wl and ":11:" not in wl


def test_disk_size_sums_whitelisted_non_removable_disks(tmp_path):
    files = {
        "/sys/block/sdb/size": "100\n", "/sys/block/sdb/dev": "8:16\n", "/sys/block/sdb/removable": "1\n",
        "/sys/block/loop0/size": "1000\n", "/sys/block/loop0/dev": "7:0\n", "/sys/block/loop0/removable": "0\n",
        "/sys/block/vda/size": "2000\n", "/sys/block/vda/dev": "253:0\n", "/sys/block/vda/removable": "0\n",
        "/sys/block/nvme0n1/size": "3000\n", "/sys/block/nvme0n1/dev": "259:0\n",
        "/sys/block/nvme0n1/removable": "0\n",
        "/sys/block/xvda/size": "4000\n", "/sys/block/xvda/dev": "202:0\n", "/sys/block/xvda/removable": "",
        "/sys/block/dm-0/size": "5000\n", "/sys/block/dm-0/dev": "252:0\n", "/sys/block/dm-0/removable": "0\n",
    }
    info, _unused = collect(tmp_path, files, BARE)
    assert info["system_total_disk_size"] == (41943040 + 2000 + 3000) * 512


def test_disk_falls_back_to_gnu_df(tmp_path):
    df = "Filesystem 1B-blocks\n/dev/sda1 1000\n/dev/sda1 1000\n/dev/sdb1 24\n"
    info, _unused = collect(tmp_path, {"/proc/devices": False}, dict(BARE, **{
        "df --version": (0, "df (GNU coreutils) 9.1\n"),
        "df -x tmpfs -x devtmpfs -x squashfs -l -B1 --output=source,size": (0, df)}))
    assert (info["system_total_disk_size"], info["system_disk_detection"]) == (1024, "df")


# ---- environment-driven keys ----------------------------------------------------------

def test_k8s_and_official_image(tmp_path):
    info, _unused = collect(tmp_path, {}, BARE, {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443",
                                                 "NETDATA_OFFICIAL_IMAGE": "true"})
    assert info["host_is_k8s_node"] == "true" and info["container_is_official_image"] == "true"
    info, _unused = collect(tmp_path / "b", {}, BARE,
                            {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "NETDATA_OFFICIAL_IMAGE": ""})
    assert info["host_is_k8s_node"] == "false" and info["container_is_official_image"] == "false"
    info, _unused = collect(tmp_path / "c", {"/proc/4242/comm": "kubelet\n", "/proc/self/comm": "kubelet\n"}, BARE)
    assert info["host_is_k8s_node"] == "true"


# ---- cloud, against a loopback server -------------------------------------------------

class _Metadata(BaseHTTPRequestHandler):
    routes = {}

    def _answer(self):
        key = (self.command, self.path)
        if key not in self.routes:
            self.send_response(404)
            self.end_headers()
            return
        status, body, need = self.routes[key]
        if need and self.headers.get(need[0]) != need[1]:
            status, body = 401, ""
        self.send_response(status)
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_PUT = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def metadata_server():
    server = HTTPServer(("127.0.0.1", 0), _Metadata)
    t = threading.Thread(target=server.serve_forever)
    t.daemon = True
    t.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_cloud_aws(metadata_server):
    tok = ("X-aws-ec2-metadata-token", "tok")
    _Metadata.routes = {
        ("GET", "/"): (200, "", None),
        ("PUT", "/latest/api/token"): (200, "tok", ("X-aws-ec2-metadata-token-ttl-seconds", "21600")),
        ("GET", "/latest/meta-data/instance-type"): (200, "t3.micro", tok),
        ("GET", "/latest/meta-data/placement/region"): (200, "eu-west-1\n", tok),
    }
    assert detect_cloud("kvm", metadata_server, metadata_server, 2.0) == {
        "instance_cloud_type": "AWS", "instance_cloud_instance_type": "t3.micro",
        "instance_cloud_instance_region": "eu-west-1"}


def test_cloud_gcp_after_aws_fails(metadata_server):
    g = ("Metadata-Flavor", "Google")
    _Metadata.routes = {
        ("GET", "/computeMetadata/v1"): (200, "instance/\n", g),
        ("GET", "/computeMetadata/v1/instance/machine-type"): (200, "projects/1/machineTypes/e2-medium", g),
        ("GET", "/computeMetadata/v1/instance/zone"): (200, "projects/1/zones/us-central1-a", g),
    }
    # the first probe gets a 404: only a timeout stops the script
    got = collect_system_info(root="/nonexistent", run_command=FakeCommands(BARE), environ={}, uname=UNAME,
                              cloud_detection=True, cloud_metadata_url=metadata_server,
                              cloud_gcp_metadata_url=metadata_server, cloud_timeout=2.0)
    assert (got["instance_cloud_type"], got["instance_cloud_instance_type"],
            got["instance_cloud_instance_region"]) == ("GCP", "e2-medium", "us-central1")


def test_cloud_skipped_without_virtualization_or_when_off(metadata_server):
    _Metadata.routes = {("PUT", "/latest/api/token"): (200, "tok", None)}
    assert detect_cloud("none", metadata_server, metadata_server)["instance_cloud_type"] == "unknown"
    got = collect_system_info(root="/nonexistent", run_command=FakeCommands(BARE), environ={}, uname=UNAME,
                              cloud_metadata_url=metadata_server)
    assert got["instance_cloud_type"] == "unknown"


def test_cloud_unreachable_never_raises():
    # a closed loopback port: refused, not a timeout, so every step runs and finds nothing
    got = detect_cloud("kvm", "http://127.0.0.1:9", "http://127.0.0.1:9", 0.5)
    assert got == {"instance_cloud_type": "unknown", "instance_cloud_instance_type": "unknown",
                   "instance_cloud_instance_region": "unknown"}


COLLECT_WITHOUT_CLOUD = '''
import sys
from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.collect import collect_system_info
collect_system_info(root=sys.argv[1], run_command=lambda argv: (127, '', ''), cloud_detection=False)
print('urllib.request' in sys.modules)
'''


def test_urllib_is_not_imported_unless_cloud_detection_asks(tmp_path):
    """urllib.request is about 20 ms of a module run, and cloud detection is off by default."""
    import subprocess
    import sys
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, '-c', COLLECT_WITHOUT_CLOUD, str(tmp_path)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ['False']
