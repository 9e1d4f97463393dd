# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/inventory.yml on a lab fleet: every host in inventory.json, inventory.csv and
report.html with the facts netdata_facts returned; an unreachable host recorded as such; a
hostile os-release NAME shown as text; the page rendered by real headless Chromium.

Tests run in file order on one module-scoped fleet and one playbook run."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.lab import Fleet, HostSpec, snippets

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "playbooks" / "inventory.yml"
EVIL_NAME = "<script>alert(1)</script>"
EVIL_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
DEAD = "inv-dead"

OPTOUT, CLEAN, BARE, EVIL, STATIC = "inv-optout", "inv-clean", "inv-bare", "inv-evil", "inv-static"
REACHABLE = [OPTOUT, CLEAN, BARE, EVIL, STATIC]


@pytest.fixture(scope="module")
def fleet(lab_fleet_factory) -> Fleet:
    return lab_fleet_factory([
        HostSpec.debian_default(OPTOUT, daemon=True, setup=snippets.os_release(**snippets.ROCKY_9)),
        HostSpec.clean(CLEAN, setup=snippets.os_release(**snippets.UBUNTU_2204)),
        HostSpec.no_netdata(BARE, container="docker"),
        HostSpec.debian_default(EVIL, setup=snippets.os_release(
            NAME=EVIL_NAME, ID="evil", VERSION_ID="1", VERSION="1 (<b>bold</b>)")),
        HostSpec.static_install(STATIC, version="2.3.1"),
    ])


@pytest.fixture(scope="module")
def extra_inventory(fleet, tmp_path_factory) -> Path:
    """The fleet plus a host whose address answers nothing (port 1 on an unused 127.x)."""
    path = tmp_path_factory.mktemp("inv") / "dead.ini"
    path.write_text(f"[lab]\n{DEAD} ansible_host={fleet.addr_base}254 ansible_port=1 "
                    "ansible_ssh_timeout=5\n")
    return path


@pytest.fixture(scope="module")
def expected_facts(fleet, tmp_path_factory) -> dict:
    """What netdata_facts returns for each reachable host, from a separate run."""
    work = tmp_path_factory.mktemp("facts")
    pb = work / "facts.yml"
    pb.write_text(
        "- hosts: lab\n  gather_facts: false\n  tasks:\n"
        "    - netdata_fleet.telemetry.netdata_facts:\n        gather_subset: [all]\n"
        "      register: r\n"
        "    - ansible.builtin.copy:\n"
        "        content: \"{{ r.ansible_facts.netdata | to_json }}\"\n"
        f"        dest: \"{work}/{{{{ inventory_hostname }}}}.json\"\n"
        "        mode: '0644'\n"
        "      delegate_to: localhost\n")
    r = fleet.ansible_playbook(pb)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return {h: json.loads((work / f"{h}.json").read_text()) for h in REACHABLE}


@pytest.fixture(scope="module")
def out(fleet, extra_inventory, tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("inventory") / "nested" / "netdata-inventory"
    r = fleet.ansible_playbook(PLAYBOOK, "-i", str(extra_inventory),
                               extra_vars={"netdata_inventory_dir": str(outdir)})
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-3000:]
    assert f"{outdir}/report.html - 6 hosts:" in r.stdout
    return outdir


def _stable(facts: dict) -> dict:
    """The facts that do not change between two runs a few seconds apart."""
    return {
        "installed": facts.get("installed"),
        "state": facts["telemetry"]["state"],
        "installs": [(i["config_dir"], i["kind"], i["version"], i["machine_guid"], i["install_type"],
                      dict((k, (c["applies"], c.get("configured"))) for k, c in
                           i["telemetry"]["channels"].items()))
                     for i in facts["installs"]],
        "system_info": facts["system_info"],
    }


def test_three_files_written(out):
    for name in ("inventory.json", "inventory.csv", "report.html"):
        st = (out / name).stat()
        assert stat.S_IMODE(st.st_mode) == 0o644, name
        assert st.st_size > 0


def test_every_host_in_json_with_its_facts(out, expected_facts):
    records = json.loads((out / "inventory.json").read_text())
    assert [r["hostname"] for r in records] == REACHABLE + [DEAD]
    by = {r["hostname"]: r for r in records}
    for host in REACHABLE:
        assert by[host]["reachable"] is True
        assert _stable(by[host]["netdata"]) == _stable(expected_facts[host]), host
        assert by[host]["state"] == expected_facts[host]["telemetry"]["state"]
    assert by[OPTOUT]["status"] == "opted_out"
    assert by[BARE]["status"] == "absent" and by[BARE]["system"]["container"] == "docker"
    assert by[STATIC]["installs"][0]["kind"] == "static"
    assert by[STATIC]["installs"][0]["version"] == "2.3.1"
    assert by[OPTOUT]["system"]["os"] == "Rocky Linux"
    assert by[EVIL]["system"]["os"] == EVIL_NAME


def test_unreachable_host_is_recorded(out):
    records = json.loads((out / "inventory.json").read_text())
    dead = [r for r in records if r["hostname"] == DEAD][0]
    assert dead["reachable"] is False and dead["status"] == "unreachable"
    assert "port 1" in dead["error"] or "refused" in dead["error"].lower()
    rows = list(csv.DictReader(io.StringIO((out / "inventory.csv").read_text())))
    row = [r for r in rows if r["hostname"] == DEAD][0]
    assert (row["reachable"], row["status"]) == ("false", "unreachable")
    assert f"<td>{DEAD}</td>" in (out / "report.html").read_text()


def test_csv_has_every_host_with_its_facts(out, expected_facts):
    rows = list(csv.DictReader(io.StringIO((out / "inventory.csv").read_text())))
    assert [r["hostname"] for r in rows] == REACHABLE + [DEAD]
    for row in rows[:-1]:
        facts = expected_facts[row["hostname"]]
        info = facts["system_info"]
        assert row["state"] == facts["telemetry"]["state"]
        assert row["kernel_version"] == info["system_kernel_version"]
        assert row["host_os_name"] == info["host_os_name"]
        assert row["container"] == info["system_container"]
        assert row["ram_bytes"] == str(info["system_total_ram"])
        assert row["netdata_versions"] == ";".join(i["version"] or "" for i in facts["installs"])
        for channel in ("statistics_script", "daemon_analytics", "crash_reports", "installer"):
            assert row[channel] in ("on", "off", "unknown", "n/a")


def test_html_lists_every_host_and_escapes_the_hostile_name(out):
    page = (out / "report.html").read_text()
    for host in REACHABLE + [DEAD]:
        assert f"<td>{host}</td>" in page
    assert EVIL_NAME not in page and "<b>bold" not in page
    assert EVIL_ESCAPED in page
    assert page.count("<script") == 1


# ---- real Chromium ----------------------------------------------------------------------
def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        msg = ("chromium is not installed (Debian package `chromium`; "
               "scripts/bootstrap.sh test should install it)")
        if os.environ.get("LAB_REQUIRED") == "1" or os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)
    return exe


def _run_chromium(exe: str, tmp: Path, url: str, *action: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.iterdir()))}"
    profile.mkdir()
    argv = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--enable-logging=stderr", "--v=0",
            f"--user-data-dir={profile}", "--window-size=1400,2000", *action, url]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "HOME": str(tmp)}, check=False)


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        rows.append(bytes(line) if bpp == 3 else bytes(v for j, v in enumerate(line) if j % 4 != 3))
    return width, height, rows


def test_report_renders_in_chromium(out, tmp_path):
    exe = _chromium()
    url = (out / "report.html").as_uri()
    png = tmp_path / "report.png"
    shot = _run_chromium(exe, tmp_path, url, f"--screenshot={png}")
    assert png.exists() and png.stat().st_size > 10000, shot.stderr[-2000:]
    # the page's CSP allowed its own sort script and nothing had to be blocked
    assert "Content Security Policy" not in shot.stderr, shot.stderr[-2000:]

    width, height, rows = decode_png(png.read_bytes())
    assert (width, height) == (1400, 2000)
    colours, ink = set(), 0
    green = bytes((0x2f, 0x9e, 0x5d))  # opted out, in the donut, the bar and the matrix
    green_px = 0
    for row in rows[120:900]:  # the compliance and channel charts
        for x in range(0, width * 3, 3):
            px = row[x:x + 3]
            colours.add(px)
            if px != b"\xff\xff\xff" and px != b"\xf3\xf5\xf7":
                ink += 1
            if px == green:
                green_px += 1
    assert len(colours) > 50, len(colours)
    assert ink > 0.1 * width * 780, ink
    assert green_px > 1000, green_px

    dom = _run_chromium(exe, tmp_path, url, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = dom.stdout
    assert text.count("<svg") >= 12
    assert "<circle" in text and "<rect" in text
    assert EVIL_ESCAPED in text  # the hostile NAME is a text node ...
    assert EVIL_NAME not in text  # ... not an element
    assert text.count("<script") == 1
    for host in REACHABLE + [DEAD]:
        assert f">{host}</td>" in text
