"""Issue 14 H4: six-digit HJ 212 passwords fell to brute force in a minute, and the replies told
an unknown MN from a wrong password. Failures now lock out the MN and the address (with
backoff), and every refused login gets the same answer."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from device_sim.hj212_logger import DataLogger
from hj212 import codes
from ingest.hj212.lockout import LockoutLimits, LoginGuard
from smartpark.settings import Settings
from tests.hj212.conftest import hj212_devices, running_gateway


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_mn_is_locked_after_its_failures_with_doubling_lockouts() -> None:
    clock = Clock()
    guard = LoginGuard(LockoutLimits(failures_per_mn=5, failures_per_address=1000, lockout_s=60), clock=clock)
    for _ in range(4):
        guard.failed("MN1", "10.0.0.9")
    assert not guard.locked("MN1", "10.0.0.9")
    guard.failed("MN1", "10.0.0.9")
    assert guard.locked("MN1", "10.0.0.9") and guard.locked("MN1", "10.0.0.10")
    assert not guard.locked("MN2", "10.0.0.9")  # another MN from the same address
    clock.now += 61
    assert not guard.locked("MN1", "10.0.0.9")
    for _ in range(5):
        guard.failed("MN1", "10.0.0.9")
    clock.now += 61
    assert guard.locked("MN1", "10.0.0.9")  # the second lockout in a row lasts 120 s
    clock.now += 60
    assert not guard.locked("MN1", "10.0.0.9")


def test_lockouts_stop_at_their_maximum() -> None:
    clock = Clock()
    guard = LoginGuard(LockoutLimits(failures_per_mn=1, lockout_s=60, max_lockout_s=100), clock=clock)
    for _ in range(10):
        guard.failed("MN1", "10.0.0.9")
        clock.now += 101
    assert not guard.locked("MN1", "10.0.0.9")


def test_an_address_is_locked_after_its_failures_over_any_mn() -> None:
    clock = Clock()
    guard = LoginGuard(LockoutLimits(failures_per_mn=1000, failures_per_address=20), clock=clock)
    for i in range(19):
        guard.failed(None if i % 2 else f"MN{i}", "10.0.0.9")  # unknown MNs count as much
    assert not guard.locked("MN-real", "10.0.0.9")
    guard.failed(None, "10.0.0.9")
    assert guard.locked("MN-real", "10.0.0.9") and not guard.locked("MN-real", "10.0.0.10")


def test_the_loggers_own_address_is_spared_its_mns_lockout() -> None:
    clock = Clock()
    guard = LoginGuard(LockoutLimits(failures_per_mn=3), clock=clock)
    guard.succeeded("MN1", "10.0.0.1")
    for _ in range(3):
        guard.failed("MN1", "192.0.2.66")
    assert guard.locked("MN1", "192.0.2.66") and not guard.locked("MN1", "10.0.0.1")


def test_memory_is_bounded() -> None:
    guard = LoginGuard(LockoutLimits(max_tracked=100), clock=Clock())
    for i in range(10_000):
        guard.failed(f"MN{i}", f"10.0.{i // 256}.{i % 256}")
    assert len(guard._mns) <= 100 and len(guard._addresses) <= 100


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 1: 0 per MN"):
        LockoutLimits(failures_per_mn=0)
    with pytest.raises(ValueError, match="lockout 7200"):
        LockoutLimits(lockout_s=7200, max_lockout_s=3600)


@pytest.mark.integration
def test_guessing_a_password_over_tcp_is_locked_out_and_answers_do_not_differ(
    settings: Settings, hj212_park: dict[str, Any], db: psycopg.Connection[Any]
) -> None:
    dev = hj212_devices(hj212_park)[0]
    mn, pw = dev["attributes"]["hj212_mn"], dev["attributes"]["hj212_pw"]
    limits = LockoutLimits(failures_per_mn=5, failures_per_address=1000, lockout_s=600)

    async def scenario() -> tuple[list[Any], Any, Any, float]:
        async with running_gateway(settings, lockout=limits) as gw:
            lg = DataLogger("127.0.0.1", gw.port, mn=mn, pw="000000")
            await lg.connect()
            wrong = [await lg.upload({"stack.so2_mgm3": 1.0}, ts_ms=1_764_115_200_000 + i) for i in range(5)]
            await lg.close()
            right = DataLogger("127.0.0.1", gw.port, mn=mn, pw=pw)  # the right guess comes too late
            await right.connect()
            locked = await right.upload({"stack.so2_mgm3": 1.0}, ts_ms=1_764_115_300_000)
            await right.close()
            stranger = DataLogger("127.0.0.1", gw.port, mn="UNKNOWN0000002", pw="123456")
            await stranger.connect()
            unknown = await stranger.upload({"stack.so2_mgm3": 1.0}, ts_ms=1_764_115_300_000)
            await stranger.close()
            return wrong, locked, unknown, gw.rejected("locked_out")

    wrong, locked, unknown, locked_count = asyncio.run(scenario())
    answers = {(r.cn, r.params) for r in [*wrong, locked, unknown]}
    assert answers == {(codes.CN_REQUEST_REPLY, (("QnRtn", str(codes.QN_BAD_PASSWORD)),))}
    assert locked_count == 1.0
