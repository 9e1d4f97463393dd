# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netdata_facts over SSH on the lab fleet, judged by Netdata itself.

- system_info must equal what Debian's system-info.sh prints on the same host;
- the statistics_script channel must agree with anonymous-statistics.sh run with the
  environment the service would start the agent with (fake curl tells if it would send);
- daemon_analytics.live must equal the running 1.37.1 daemon's own registry hello answer.
"""
from __future__ import annotations

import json
import uuid

import pytest

from tests.lab import Fleet, HostSpec, snippets

GUID = str(uuid.uuid4())
DROPIN = "/etc/systemd/system/netdata.service.d/10-lab.conf"


def _dropin(*assignments: str) -> str:
    return snippets.systemd_dropin("[Service]\n" + "".join(f"Environment={a}\n" for a in assignments))


# host -> (spec, expected host state)
CASES = {
    "f-optfile": (HostSpec.debian_default("f-optfile", setup=snippets.machine_guid(GUID)), "opted_out"),
    "f-clean": (HostSpec.clean("f-clean"), "opted_in"),
    "f-dnt1": (HostSpec.clean("f-dnt1", setup=_dropin("DO_NOT_TRACK=1")), "partial"),
    "f-dnt0": (HostSpec.clean("f-dnt0", setup=_dropin("DO_NOT_TRACK=0")), "partial"),
    "f-dnt-empty": (HostSpec.clean("f-dnt-empty", setup=_dropin("DO_NOT_TRACK=")), "opted_in"),
    "f-disable1": (HostSpec.clean("f-disable1", setup=_dropin("DISABLE_TELEMETRY=1")), "partial"),
    "f-reset": (HostSpec.clean("f-reset", setup=_dropin("DO_NOT_TRACK=1")
                               + snippets.systemd_dropin("[Service]\nEnvironment=\n", name="20-reset.conf")),
                "opted_in"),
    "f-none": (HostSpec.no_netdata("f-none"), "absent"),
    "f-static23": (HostSpec.static_install("f-static23", version="2.3.1", opted_out=True,
                                           setup=snippets.cloud_conf("[global]\n    claimed_id = 1234\n",
                                                                     libdir="/opt/netdata/var/lib/netdata")),
                   "partial"),
    "f-static26": (HostSpec.static_install("f-static26", version="2.6.0", opted_out=True,
                                           setup=snippets.write_file("/opt/netdata/etc/netdata/netdata.conf",
                                                                     "[global]\n    crash reports = off\n")),
                   "opted_out"),
    "f-ubuntu-docker": (HostSpec.debian_default("f-ubuntu-docker", container="docker",
                                                setup=snippets.os_release(**snippets.UBUNTU_2204)
                                                + snippets.lsb_release(DISTRIB_ID="Ubuntu", DISTRIB_RELEASE="22.04",
                                                                       DISTRIB_CODENAME="jammy")),
                        "opted_out"),
    "f-lsb-only": (HostSpec.debian_default("f-lsb-only", container="lxc",
                                           setup=snippets.remove_os_identity()
                                           + snippets.lsb_release(DISTRIB_ID="Ubuntu", DISTRIB_RELEASE="20.04",
                                                                  DISTRIB_CODENAME="focal")),
                   "opted_out"),
    "f-junk": (HostSpec.debian_default("f-junk", setup=snippets.machine_guid("not-a-guid\x01")
                                       + "printf '\\x00\\xff[global\\x00' > /etc/netdata/netdata.conf\n"
                                       + "printf 'NAME=\\x00\\xfe\\nID=\"junk\\n' > /etc/os-release\n"),
               "opted_out"),
    "f-installer": (HostSpec.debian_default("f-installer", setup=snippets.profile_d(
        "netdata-telemetry.sh", "export DO_NOT_TRACK=1\n")), "opted_out"),
    "d-clean": (HostSpec.clean("d-clean", daemon=True), "opted_in"),
    "d-optfile": (HostSpec.debian_default("d-optfile", daemon=True), "opted_out"),
    "d-dnt1": (HostSpec.clean("d-dnt1", daemon=True, daemon_env={"DO_NOT_TRACK": "1"}), "partial"),
}


@pytest.fixture(scope="module")
def fleet(lab_fleet_factory) -> Fleet:
    return lab_fleet_factory([spec for spec, _expected in CASES.values()])


@pytest.fixture(scope="module")
def facts(fleet, tmp_path_factory) -> dict[str, dict]:
    return fleet.netdata_facts(tmp_path_factory.mktemp("facts"))


def normalise(value):
    """system-info.sh prints numbers as text (the CPU frequency sometimes as 2.445e+09)."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return value


def test_every_host_reports_and_the_state_is_as_expected(facts):
    assert set(facts) == set(CASES)
    wrong = {h: (facts[h]["telemetry"]["state"], expected, facts[h]["telemetry"]["reasons"])
             for h, (_spec, expected) in CASES.items() if facts[h]["telemetry"]["state"] != expected}
    assert not wrong, json.dumps(wrong, indent=1)


@pytest.mark.parametrize("host", sorted(CASES))
def test_system_info_agrees_with_netdatas_script(fleet, facts, host):
    judge = fleet.system_info(host)
    assert judge["system_kernel_name"] == "Linux"  # the script really ran
    ours = facts[host]["system_info"]
    diff = {k: (ours.get(k), v) for k, v in judge.items() if normalise(ours.get(k)) != normalise(v)}
    assert not diff


@pytest.mark.parametrize("host", sorted(h for h in CASES if CASES[h][1] != "absent" and "static" not in h))
def test_statistics_script_channel_agrees_with_netdatas_script(fleet, facts, host):
    install = facts[host]["installs"][0]
    channel = install["telemetry"]["channels"]["statistics_script"]
    env = fleet.service_env(host)
    if install["daemon"]["running"]:
        env = {k: v for k, v in fleet.daemon_env(host)["env"].items() if k in ("DO_NOT_TRACK", "DISABLE_TELEMETRY")}
        view = channel["running"]
    else:
        view = channel["configured"]
    judge = fleet.run_netdata_script(host, "anonymous-statistics.sh", ["TEST", "lab", ""], env=env)
    assert view is judge.would_send, (env, channel["reasons"], judge)
    assert channel["enabled"] is judge.would_send


@pytest.mark.parametrize("host", ["d-clean", "d-optfile", "d-dnt1"])
def test_live_flag_is_the_daemons_own_answer(fleet, facts, host):
    channel = facts[host]["installs"][0]["telemetry"]["channels"]["daemon_analytics"]
    answer = fleet.hello(host)["anonymous_statistics"]
    assert channel["live"] is answer
    assert channel["enabled"] is answer


def test_env_only_optout_does_not_reach_a_v1_daemon(facts):
    channels = facts["d-dnt1"]["installs"][0]["telemetry"]["channels"]
    assert channels["statistics_script"]["enabled"] is False
    assert channels["daemon_analytics"]["live"] is True
    assert facts["d-dnt1"]["telemetry"]["opted_out"] is False


def test_install_details(facts):
    native = facts["f-optfile"]["installs"][0]
    assert (native["config_dir"], native["kind"], native["version"]) == ("/etc/netdata", "native", "1.37.1")
    assert native["machine_guid"] == GUID
    assert native["optout_file"]["exists"] is True
    static = [i for i in facts["f-static23"]["installs"] if i["kind"] == "static"][0]
    assert (static["version"], static["install_type"], static["claimed"]) == ("2.3.1", "kickstart-static", True)
    crash = static["telemetry"]["channels"]["crash_reports"]
    assert crash["applies"] is True and crash["enabled"] is True  # claimed: reports despite the file
    static26 = [i for i in facts["f-static26"]["installs"] if i["kind"] == "static"][0]
    assert static26["telemetry"]["channels"]["statistics_script"]["applies"] is False
    assert static26["telemetry"]["channels"]["crash_reports"]["enabled"] is False
    assert facts["f-none"]["installed"] is False and facts["f-none"]["installs"] == []


def test_junk_files_are_errors_not_failures(facts):
    install = facts["f-junk"]["installs"][0]
    assert install["machine_guid"] is None
    assert any("netdata.public.unique.id" in e for e in install["errors"])
    assert facts["f-junk"]["telemetry"]["state"] == "opted_out"


def test_installer_channel_reads_profile_d(facts):
    installer = facts["f-installer"]["installs"][0]["telemetry"]["channels"]["installer"]
    assert installer["enabled"] is False
    assert facts["f-installer"]["installer"]["sources"] == ["/etc/profile.d/netdata-telemetry.sh"]
    assert facts["f-optfile"]["installs"][0]["telemetry"]["channels"]["installer"]["enabled"] is True


def test_file_created_after_start_is_drift_until_restart(fleet, tmp_path):
    host = "d-clean"
    assert fleet.hello(host)["anonymous_statistics"] is True
    fleet.run(host, "touch /etc/netdata/.opt-out-from-anonymous-statistics", check=True)
    try:
        before = fleet.netdata_facts(tmp_path / "before", subset=["telemetry"], limit=host)[host]
        analytics = before["installs"][0]["telemetry"]["channels"]["daemon_analytics"]
        assert analytics["live"] is True and analytics["configured"] is False
        assert before["telemetry"]["drift"] is True
        assert before["telemetry"]["state"] == "partial"

        fleet.restart_daemon(host)
        after = fleet.netdata_facts(tmp_path / "after", subset=["telemetry"], limit=host)[host]
        analytics = after["installs"][0]["telemetry"]["channels"]["daemon_analytics"]
        assert analytics["live"] is False and analytics["enabled"] is False
        assert after["telemetry"]["drift"] is False
        assert after["telemetry"]["state"] == "opted_out"
    finally:
        fleet.run(host, "rm -f /etc/netdata/.opt-out-from-anonymous-statistics")
        fleet.restart_daemon(host)


def test_telemetry_subset_skips_system_info(fleet, tmp_path):
    got = fleet.netdata_facts(tmp_path, subset=["telemetry"], limit="f-clean")["f-clean"]
    assert "system_info" not in got and got["gather_subset"] == ["telemetry"]
