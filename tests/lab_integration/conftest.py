# -*- coding: utf-8 -*-
# Copyright (c) 2026 netdata_fleet.telemetry contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for integration tests against the lab fleet (tests/lab, see its README.md).

    def test_x(lab_fleet_factory):
        fleet = lab_fleet_factory([HostSpec.clean("h1", daemon=True), HostSpec.no_netdata("h2")])

`lab_fleet_factory(specs, **fleet_kwargs) -> Fleet` (session scope) starts a fleet on an
address base of its own (127.<net>.<k>., k = 1, 2, ... per fleet in the session; <net>
from LAB_ADDR_NET, default 40, or the whole prefix from LAB_ADDR_BASE, e.g. "127.41."),
skipping bases already in use, and stops every fleet at the end of the session even
when tests fail. A test may stop its fleet earlier with fleet.stop().

Without root, unshare or sshd the lab tests are skipped with the reason, unless
LAB_REQUIRED=1 or CI is set: then they fail (CI must run them, not skip them).

Systemd hosts (tests/lab/systemd_hosts.py: real systemd as PID 1 in systemd-nspawn,
Debian's netdata 1.37.1 or Netdata v2.10.4 under their own units):
`systemd_fleet_factory(specs, **fleet_kwargs) -> SystemdFleet` (session scope; the same
spec list asked twice returns the same booted fleet; addresses 127.<net>.<k>., <net> from
LAB_SYSTEMD_ADDR_NET, default 42) and `systemd_fleet`, the session's standard fleet
(STANDARD_SPECS: sd-clean, sd-default, sd-v2; the v2 host is left out, and tests that
need it skip, when the v2 tarball is missing). `systemd_lab_available` skips or, under
LAB_REQUIRED/CI, fails like `lab_available`.

Container hosts (tests/lab/containers.py: namespace hosts running real dockerd and
podman, Netdata 1.37.1 / v2.10.4 images imported from the lab rootfs):
`container_fleet` = the session's standard container host (`ctr`, no Netdata of its own,
every runtime installed here), started once; `container_fleet_factory(specs, **kwargs)`
for others (same specs -> same fleet; addresses 127.<net>.<k>., <net> from
LAB_CONTAINER_ADDR_NET, default 44); `container_runtime` = a `Runtime` of the standard
host, parametrized over docker and podman, that removes the containers (and their config
volumes) a test ran. `container_lab_available` skips or, under LAB_REQUIRED/CI, fails;
so does a test whose runtime is not installed.
"""
from __future__ import annotations

import dataclasses
import itertools
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.lab import Fleet, LabAddressInUse, lab_prerequisites  # noqa: E402
from tests.lab import rootfs as lab_rootfs  # noqa: E402
from tests.lab.systemd_hosts import (STANDARD_SPECS, SystemdFleet,  # noqa: E402
                                     systemd_lab_prerequisites)
from tests.lab import containers as lab_containers  # noqa: E402


def _lab_required() -> bool:
    return os.environ.get("LAB_REQUIRED") == "1" or os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _fleet_pool(kind: str, make, bases, share: bool):
    """The body of a session fixture that hands out fleets of one kind: factory(specs,
    start=True, **kwargs) makes one with ``make(specs, addr_base=..., **kwargs)`` on the
    first free address base (or the caller's ``addr_base``), returns the same started fleet
    for the same specs when ``share``, and stops every fleet at the end of the session,
    even when tests fail."""
    fleets: list = []
    by_specs: dict = {}

    def factory(specs, start: bool = True, **kwargs):
        specs = list(specs)
        key = repr((specs, sorted(kwargs.items())))
        if share and key in by_specs and by_specs[key].started:
            return by_specs[key]
        chosen = [kwargs.pop("addr_base")] if "addr_base" in kwargs else itertools.islice(bases, 32)
        last: Exception | None = None
        for base in chosen:
            fleet = make(specs, addr_base=base, **kwargs)
            fleets.append(fleet)
            if not start:
                return fleet
            try:
                fleet.start()
            except LabAddressInUse as e:  # another lab (another engineer?) holds the addresses
                last = e
                continue
            by_specs[key] = fleet
            return fleet
        raise RuntimeError(f"no free {kind} address base found: {last}")

    factory.fleets = fleets  # type: ignore[attr-defined]
    yield factory
    errors = []
    for fleet in reversed(fleets):
        try:
            fleet.stop()
        except Exception as e:  # stop them all, report afterwards
            errors.append(f"{fleet.addr_base}: {e!r}")
    if errors:
        raise RuntimeError(f"stopping {kind} fleets failed: " + "; ".join(errors))


def _address_bases():
    """127.<net>.<k>. for k = 1.. (or continuing a 3-octet LAB_ADDR_BASE)."""
    env = os.environ.get("LAB_ADDR_BASE", "").strip()
    if env:
        parts = [p for p in env.split(".") if p != ""]
        if parts[0] != "127" or len(parts) not in (2, 3):
            raise pytest.UsageError(f"LAB_ADDR_BASE={env!r}: use '127.B.' or '127.B.C.'")
        if len(parts) == 2:
            for k in range(1, 256):
                yield f"127.{parts[1]}.{k}."
        else:
            for c in range(int(parts[2]), 256):
                yield f"127.{parts[1]}.{c}."
        return
    net = int(os.environ.get("LAB_ADDR_NET", "40"))
    for k in range(1, 256):
        yield f"127.{net}.{k}."


@pytest.fixture(scope="session")
def lab_available() -> None:
    reason = lab_prerequisites()
    if reason:
        if _lab_required():
            pytest.fail(f"lab required (LAB_REQUIRED/CI) but unavailable: {reason}")
        pytest.skip(f"lab fleet unavailable: {reason}")


@pytest.fixture(scope="session")
def lab_fleet_factory(lab_available):
    yield from _fleet_pool("lab", Fleet, _address_bases(), share=False)


# ---------------------------------------------------------------- systemd hosts
def _systemd_address_bases():
    net = int(os.environ.get("LAB_SYSTEMD_ADDR_NET", "42"))
    for k in range(1, 256):
        yield f"127.{net}.{k}."


@pytest.fixture(scope="session")
def systemd_lab_available() -> None:
    reason = systemd_lab_prerequisites()
    if reason:
        if _lab_required():
            pytest.fail(f"systemd lab required (LAB_REQUIRED/CI) but unavailable: {reason}")
        pytest.skip(f"systemd lab hosts unavailable: {reason}")


@pytest.fixture(scope="session")
def systemd_fleet_factory(systemd_lab_available):
    """factory(specs, **SystemdFleet kwargs) -> a booted SystemdFleet. Hosts boot in
    parallel, once per session per spec list (a second call with equal specs returns the
    same fleet); all are stopped at the end of the session, even when tests fail. A spec
    with netdata_v2=True skips the caller when the v2 tarball is missing."""
    def make(specs, **kwargs):
        if any(s.netdata_v2 for s in specs) and lab_rootfs.v2_available():
            pytest.skip(lab_rootfs.v2_available())
        return SystemdFleet(specs, **kwargs)

    yield from _fleet_pool("systemd lab", make, _systemd_address_bases(), share=True)


@pytest.fixture(scope="session")
def systemd_fleet(systemd_fleet_factory) -> SystemdFleet:
    """The session's standard systemd fleet (STANDARD_SPECS; the v2 host only when its
    tarball is here). Shared: a test that changes a host puts it back."""
    specs = [s for s in STANDARD_SPECS if not (s.netdata_v2 and lab_rootfs.v2_available())]
    return systemd_fleet_factory(specs)


# ---------------------------------------------------------------- container hosts
def _container_address_bases():
    net = int(os.environ.get("LAB_CONTAINER_ADDR_NET", "44"))
    for k in range(1, 256):
        yield f"127.{net}.{k}."


def _skip_or_fail(reason: str) -> None:
    if _lab_required():
        pytest.fail(f"container lab required (LAB_REQUIRED/CI) but unavailable: {reason}")
    pytest.skip(f"container lab unavailable: {reason}")


@pytest.fixture(scope="session")
def container_lab_available() -> None:
    """Skips (fails under LAB_REQUIRED/CI) unless container hosts can run here; a missing
    runtime is checked per test (container_runtime) or per fleet."""
    reason = lab_containers.container_lab_prerequisites(runtimes=())
    if reason:
        _skip_or_fail(reason)


@pytest.fixture(scope="session")
def container_fleet_factory(container_lab_available):
    """factory(specs, **ContainerFleet kwargs) -> a started ContainerFleet (hosts up, their
    runtimes running), once per session per spec list; all stopped at the end of the
    session, even when tests fail."""
    def make(specs, **kwargs):
        reason = lab_containers.container_lab_prerequisites(
            runtimes={r for s in specs for r in s.runtimes})
        if reason:
            _skip_or_fail(reason)
        return lab_containers.ContainerFleet(specs, **kwargs)

    yield from _fleet_pool("container lab", make, _container_address_bases(), share=True)


@pytest.fixture(scope="session")
def container_fleet(container_fleet_factory):
    """The session's standard container host (lab_containers.STANDARD_SPECS: `ctr`), with
    every runtime installed on this machine. Shared: remove what you run (the
    container_runtime fixture does)."""
    runtimes = tuple(r for r in lab_containers.RUNTIMES if not lab_containers.runtime_unavailable(r))
    if not runtimes:
        _skip_or_fail("; ".join(lab_containers.runtime_unavailable(r) for r in lab_containers.RUNTIMES))
    return container_fleet_factory([dataclasses.replace(s, runtimes=runtimes)
                                    for s in lab_containers.STANDARD_SPECS])


@pytest.fixture(params=lab_containers.RUNTIMES)
def container_runtime(request, container_fleet):
    """The standard host's docker, then podman (skipped, or failed under LAB_REQUIRED/CI,
    when not installed). Containers the test ran through it are removed afterwards, with
    their config volumes."""
    kind = request.param
    reason = lab_containers.runtime_unavailable(kind)
    if reason:
        _skip_or_fail(reason)
    host = lab_containers.STANDARD_SPECS[0].name
    rt = container_fleet.runtime(host, kind)
    n = len(container_fleet.created)
    yield rt
    for key in dict.fromkeys(container_fleet.created[n:]):
        if key[:2] == (host, kind):
            try:
                rt.rm(key[2], volumes=True)
            except Exception:  # gone already, or the runtime was stopped by the test
                pass
