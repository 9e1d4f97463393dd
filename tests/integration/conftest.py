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
"""
from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.lab import Fleet, LabAddressInUse, lab_prerequisites  # noqa: E402


def _lab_required() -> bool:
    return os.environ.get("LAB_REQUIRED") == "1" or os.environ.get("CI", "").lower() in ("1", "true", "yes")


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
    fleets: list[Fleet] = []
    bases = _address_bases()

    def factory(specs, start: bool = True, **kwargs) -> Fleet:
        if "addr_base" in kwargs:  # caller's choice: no retry
            fleet = Fleet(specs, **kwargs)
            fleets.append(fleet)
            return fleet.start() if start else fleet
        last: Exception | None = None
        for base in itertools.islice(bases, 32):
            fleet = Fleet(specs, addr_base=base, **kwargs)
            fleets.append(fleet)
            if not start:
                return fleet
            try:
                return fleet.start()
            except LabAddressInUse as e:  # another lab (another engineer?) holds it
                last = e
        raise RuntimeError(f"no free lab address base found: {last}")

    factory.fleets = fleets  # type: ignore[attr-defined]
    yield factory
    errors = []
    for fleet in reversed(fleets):
        try:
            fleet.stop()
        except Exception as e:  # stop them all, report afterwards
            errors.append(f"{fleet.addr_base}: {e!r}")
    if errors:
        raise RuntimeError("stopping lab fleets failed: " + "; ".join(errors))
