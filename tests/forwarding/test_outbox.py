"""The packet log, the outbox and the forwarder process against the real database.

HJ 212-2017 communication timeout: a packet without reply within OverTime is resent, ReCount times
at most; that is the only reason a packet may reach the upstream twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from device_sim.hj212_logger import DataLogger
from forwarding import store
from forwarding.recorder import PacketRecorder
from smartpark.settings import Settings
from tests.hj212.conftest import PATIENT, hj212_devices, running_gateway
from tests.support.factories import unique_code
from tests.support.hj212_upstream import Upstream
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration]
BEIJING = ZoneInfo("Asia/Shanghai")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def outlets(db: psycopg.Connection[Any], model: dict[str, Any], n: int) -> list[tuple[int, str]]:
    """(device_id, the MN the target knows) of the first n data loggers."""
    mns = [d["attributes"]["hj212_mn"] for d in hj212_devices(model)[:n]]
    rows = db.execute(
        "SELECT device_id, attributes->>'hj212_mn' FROM devices WHERE attributes->>'hj212_mn' = ANY(%s)", (mns,)
    ).fetchall()
    return [(int(did), f"UP{mn}") for did, mn in rows]


def add_target(db: psycopg.Connection[Any], port: int, outs: list[tuple[int, str]], **kw: Any) -> int:
    target = {"name": f"bureau-{unique_code()}", "host": "127.0.0.1", "port": port, "version": "2017",
              "reply": True, "over_time_s": 1.0, "re_count": 2, "max_rate": 500.0, "window": 32, "enabled": True,
              **kw}  # fmt: skip
    cns = kw.pop("cns", list(store.DATA_CNS))
    with db.transaction():
        return store.put_target(
            db, target=target, outlets=[{"device_id": d, "mn": mn, "pw": "up-pw", "cns": cns} for d, mn in outs]
        )


def record(url: str, packets: list[store.Recorded]) -> int:
    async def go() -> int:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            queued = 0
            for i in range(0, len(packets), 500):
                queued += await store.record(conn, packets=packets[i : i + 500])
            return queued

    return asyncio.run(go())


def minute_packets(outs: list[tuple[int, str]], minutes: int) -> list[store.Recorded]:
    t0 = datetime(2026, 1, 26, 8, 0, tzinfo=BEIJING)
    out = []
    for m in range(minutes):
        t = t0 + timedelta(minutes=m)
        for k, (device_id, _) in enumerate(outs):
            qn = t.strftime("%Y%m%d%H%M%S") + f"{k:03d}"
            cp = f"DataTime={t:%Y%m%d%H%M%S};a21026-Avg={m}.{k},a21026-Flag=N"
            out.append(store.Recorded(device_id, "31", "2051", qn, t, cp))
    return out


def backlog(db: psycopg.Connection[Any], target_id: int) -> int:
    row = db.execute("SELECT count(*) FROM hj212_forward_outbox WHERE target_id = %s", (target_id,)).fetchone()
    return int(row[0]) if row else -1


def test_a_repeat_is_kept_once_and_only_the_outlets_commands_are_queued(
    settings: Settings, hj212_park: dict[str, Any], db: psycopg.Connection[Any], upstream: Upstream
) -> None:
    outs = outlets(db, hj212_park, 2)
    target_id = add_target(db, upstream.port, outs, cns=["2051"])
    packets = minute_packets(outs, 3)
    hourly = [store.Recorded(p.device_id, p.st, "2061", p.qn, p.data_time, p.cp) for p in packets[:2]]
    assert record(settings.database_url or "", packets + hourly) == 6  # 2061 is not this target's
    assert record(settings.database_url or "", packets) == 0  # the logger sent again: kept once
    assert backlog(db, target_id) == 6
    (n,) = db.execute(
        "SELECT count(*) FROM hj212_packets WHERE device_id = ANY(%s)", ([d for d, _ in outs],)
    ).fetchone() or (0,)
    assert n == 8


def test_from_logger_to_upstream_with_the_flags_as_received(
    settings: Settings, hj212_park: dict[str, Any], db: psycopg.Connection[Any], upstream: Upstream
) -> None:
    outs = outlets(db, hj212_park, 1)
    dev = next(d for d in hj212_devices(hj212_park) if f"UP{d['attributes']['hj212_mn']}" == outs[0][1])
    target_id = add_target(db, upstream.port, outs)
    url = settings.database_url or ""
    proc = forwarder(settings)
    try:

        async def scenario() -> None:
            recorder = PacketRecorder(lambda: psycopg.AsyncConnection.connect(url, autocommit=True))
            running = asyncio.create_task(recorder.run())
            async with running_gateway(settings, recorder=recorder) as gw:
                lg = DataLogger(
                    "127.0.0.1", gw.port, mn=dev["attributes"]["hj212_mn"], pw=dev["attributes"]["hj212_pw"]
                )
                await lg.connect()
                ts = int(datetime(2026, 1, 26, 8, 5, tzinfo=BEIJING).timestamp() * 1000)
                assert await lg.upload({"stack.so2_mgm3": 42.5}, ts_ms=ts, flags={"stack.so2_mgm3": "C"}, **PATIENT)
                await lg.close()
            running.cancel()
            await recorder.close()

        asyncio.run(scenario())
        got = wait_until(upstream.data, 30, "the packet at the upstream")
        assert [(p.mn, p.pw, p.cn) for p in got] == [(outs[0][1], "up-pw", "2011")]
        assert [(r.code, r.value, r.flag) for r in got[0].readings if r.code == "a21026"] == [("a21026", 42.5, "C")]
        wait_until(lambda: backlog(db, target_id) == 0, 30, "the outbox emptied")
    finally:
        stop(proc)


def forwarder(settings: Settings) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": ROOT, "SMARTPARK_DATABASE_URL": settings.database_url or "",
           "SMARTPARK_FORWARD_REPORT_S": "0.5"}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "smartpark.cli", "hj212", "forward"], env=env, cwd=ROOT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_kill_9_mid_backlog_delivers_every_packet_and_repeats_only_unanswered_ones(
    settings: Settings, hj212_park: dict[str, Any], db: psycopg.Connection[Any], upstream: Upstream
) -> None:
    outs = outlets(db, hj212_park, 40)
    window = 32
    target_id = add_target(db, upstream.port, outs, max_rate=400.0, window=window)
    packets = minute_packets(outs, 50)  # 2 000 packets
    assert record(settings.database_url or "", packets) == len(packets)
    proc = forwarder(settings)
    try:
        wait_until(lambda: len(upstream.data()) >= 600, 60, "a third of the backlog delivered")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        left = backlog(db, target_id)
        assert 0 < left < len(packets)
        proc = forwarder(settings)
        wait_until(lambda: backlog(db, target_id) == 0, 120, "the backlog delivered")
    finally:
        stop(proc)
    sent = {(mn, p.qn) for p in packets for d, mn in outs if d == p.device_id}
    got = upstream.data()
    assert {(p.mn, p.qn) for p in got} == sent
    repeats = {k: n for k, n in upstream.seen.items() if n > 1}
    # only what awaited a reply at the kill (a window) or was answered during the last commit
    # (at most another window's worth)
    assert sum(n - 1 for n in repeats.values()) <= 2 * window
    # first arrivals in the order queued (outlets × minutes as recorded)
    firsts = list(dict.fromkeys((p.mn, p.qn) for p in got))
    order = [(mn, p.qn) for p in packets for d, mn in outs if d == p.device_id]
    assert firsts == order
    status = db.execute(
        "SELECT connected, last_reply IS NOT NULL FROM hj212_forward_status WHERE target_id = %s", (target_id,)
    ).fetchone()
    assert status is not None and status[1]
