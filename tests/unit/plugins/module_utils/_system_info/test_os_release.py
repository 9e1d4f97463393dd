# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function

import os

import pytest

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))

from ansible_collections.netdata_fleet.telemetry.plugins.module_utils._system_info.os_release import (  # noqa: E402
    grep_assignment_lines, parse_lsb_release, parse_os_release, parse_shell_assignments,
)

FIXTURES = os.path.join(_REPO, "tests", "unit", "fixtures", "system_info")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


@pytest.mark.parametrize("name, expected", [
    ("os-release/debian12", {"NAME": "Debian GNU/Linux", "ID": "debian", "VERSION": "12 (bookworm)",
                             "VERSION_ID": "12"}),
    ("os-release/ubuntu2204", {"NAME": "Ubuntu", "ID": "ubuntu", "ID_LIKE": "debian",
                               "VERSION": "22.04.4 LTS (Jammy Jellyfish)", "VERSION_ID": "22.04"}),
    ("os-release/alpine319", {"NAME": "Alpine Linux", "ID": "alpine", "VERSION_ID": "3.19.1"}),
    ("os-release/centos7", {"NAME": "CentOS Linux", "ID": "centos", "ID_LIKE": "rhel fedora",
                            "VERSION": "7 (Core)", "VERSION_ID": "7"}),
    ("os-release/arch", {"NAME": "Arch Linux", "ID": "arch"}),
    ("os-release/only-name", {"NAME": "Only Name OS"}),
])
def test_real_os_release_files(name, expected):
    assert parse_os_release(fixture(name)) == expected


def test_lsb_release():
    assert parse_lsb_release(fixture("lsb-release-ubuntu")) == {
        "DISTRIB_ID": "Ubuntu", "DISTRIB_RELEASE": "22.04", "DISTRIB_CODENAME": "jammy"}


def test_only_wanted_keys_at_line_start_are_read():
    text = ' NAME="indented"\nPRETTY_NAME="x"\nVERSION_CODENAME=y\nexport ID=z\nID=ok\n'
    assert parse_os_release(text) == {"ID": "ok"}
    assert grep_assignment_lines(text, ("ID",)) == "ID=ok"


@pytest.mark.parametrize("line, value", [
    ('NAME="a \\"quoted\\" \\\\ back \\$HOME \\x"', 'a "quoted" \\ back $HOME \\x'),
    ("NAME='single $HOME \\n \"x\"'", 'single $HOME \\n "x"'),
    ("NAME=plain", "plain"),
    ("NAME=plain   ", "plain"),
    ("NAME=plain # trailing comment", "plain"),
    ("NAME=plain#notacomment", "plain#notacomment"),
    ('NAME="with # hash" # comment', "with # hash"),
    ("NAME=a\\ b", "a b"),
    ("NAME=", ""),
    ('NAME=""', ""),
    ('NAME="con"\'cat\'enated', "concatenated"),
    ('NAME="$UNSET and ${ALSO_UNSET}"', " and "),
    ('NAME="${UNSET:-fallback}"', "fallback"),
    ('NAME="${UNSET+alt}x"', "x"),
    ('NAME="cost $5 $"', "cost  $"),
    ("NAME=$UNSET", ""),
    ('NAME="a";ID=b', "a"),
    ('NAME="x"\r', "x\r"),
])
def test_shell_quoting(line, value):
    assert parse_os_release(line + "\n")["NAME"] == value


def test_last_assignment_wins_and_semicolons_assign_both():
    assert parse_os_release("ID=one\nID=two\nNAME=n;ID=three\n") == {"ID": "three", "NAME": "n"}


@pytest.mark.parametrize("text", [
    "NAME=two words\n",          # eval would run the command `words`
    "NAME=x | cat\n",            # a pipeline
    "NAME=x > /tmp/f\n",         # a redirection
    "NAME=$(uname)\n",           # command substitution
    'NAME="`id`"\n',
])
def test_lines_that_would_run_something_assign_nothing(text):
    assert parse_os_release(text + "ID=ok\n") == {"ID": "ok"}


def test_unterminated_quote_keeps_what_came_before():
    # dash has assigned NAME and ID when it hits the syntax error (then the script exits)
    assert parse_os_release('NAME=a\nID=b\nVERSION="never closed\nVERSION_ID=1\n') == {"NAME": "a", "ID": "b"}


def test_quote_spanning_kept_lines_swallows_them_like_the_shell():
    # grep keeps only KEY= lines; the open quote continues over the next kept line
    text = 'NAME="multi\nnot kept\nID=x"\n'
    assert parse_os_release(text) == {"NAME": "multi\nID=x"}


@pytest.mark.parametrize("data", [
    b"NAME=x\n\x00\x01\x02binary\n",
    b"\xff\xfe\x00N\x00A\x00M\x00E\x00=\x00x\x00",
])
def test_binary_gives_nothing_and_never_raises(data):
    assert parse_os_release(data) == {}


@pytest.mark.parametrize("junk", [
    None, "", "\n\n", "garbage ((( ))) '\"", b"\xff\xfeNAME=\xff\n", "NAME=${\n", "=\n", "NAME\n",
    "NAME=\\", "ID='", 'ID="\\', "ID=${X", "ID=$", "ID=$(", "ID=`",
])
def test_junk_never_raises(junk):
    result = parse_os_release(junk)
    assert isinstance(result, dict)


def test_undecodable_bytes_are_replaced():
    assert parse_os_release(b"NAME=caf\xe9\n") == {"NAME": u"caf\ufffd"}


def test_generic_keys():
    assert parse_shell_assignments("A=1\nB=2\n", ("A",)) == {"A": "1"}
