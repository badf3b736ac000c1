"""Data loggers' clocks end to end: the real HJ 212 server asks a simulated logger its time
(CN 1011), records the skew, sets a logger that is too far off (CN 1012) and the logger applies
it; a logger within the allowed skew is only recorded."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from device_sim.hj212_answers import LoggerClock
from device_sim.hj212_logger import DataLogger
from ingest.hj212.clock import ClockCheck, ClockLimits
from ingest.hj212.requests import Outstanding
from smartpark.settings import Settings
from tests.hj212.conftest import PATIENT, hj212_devices, running_gateway
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

SLOW_S = -3600.0  # an hour slow: far beyond any delay of a loaded machine
MAX_SKEW_S = 300.0


def test_a_logger_off_by_more_than_allowed_is_set_and_the_skew_recorded(
    settings: Settings, hj212_park: dict[str, Any], db: psycopg.Connection[Any]
) -> None:
    url = settings.database_url or ""
    slow_dev, fine_dev = hj212_devices(hj212_park)[:2]
    ended: list[Outstanding] = []

    async def scenario() -> tuple[DataLogger, DataLogger]:
        def connect() -> Any:
            return psycopg.AsyncConnection.connect(url, autocommit=True)

        async with running_gateway(settings) as gw:
            check = ClockCheck(gw.server, connect, limits=ClockLimits(every_s=3600, max_skew_s=MAX_SKEW_S))
            gw.server.finished += [check.finished, lambda d, r: ended.append(r)]
            loggers = []
            for dev, skew in ((slow_dev, SLOW_S), (fine_dev, 0.0)):
                a = dev["attributes"]
                lg = DataLogger("127.0.0.1", gw.port, mn=a["hj212_mn"], pw=a["hj212_pw"], clock=LoggerClock(skew))
                await lg.connect()
                await lg.upload({"stack.o2_pct": 9.0}, ts_ms=1_764_115_200_000, **PATIENT)  # logs it in
                loggers.append(lg)
            assert check.tick() == 2
            assert check.tick() == 0  # asked within every_s: not again
            # the slow one: query, then setting; the fine one: query only
            await asyncio.to_thread(wait_until, lambda: len(ended) == 3, 60, "two time queries and one setting")
            await check.settle()
            for lg in loggers:
                await lg.close()
            return loggers[0], loggers[1]

    slow, fine = asyncio.run(scenario())
    assert sorted((r.cn, r.outcome, r.exe_rtn) for r in ended) == [
        ("1011", "done", 1),
        ("1011", "done", 1),
        ("1012", "done", 1),
    ]
    assert abs(slow.clock.skew_s) < 60 and fine.clock.skew_s == 0.0  # set to the platform's time; the other untouched
    rows = {
        mn: (skew, corrected, sets)
        for mn, skew, corrected, sets in db.execute(
            "SELECT d.attributes->>'hj212_mn', c.skew_s, c.set_skew_s, c.sets FROM hj212_logger_clock c"
            " JOIN devices d USING (device_id) WHERE d.attributes->>'hj212_mn' = ANY(%s)",
            ([slow.mn, fine.mn],),
        ).fetchall()
    }
    skew, corrected, sets = rows[slow.mn]
    assert SLOW_S - 60 < skew < SLOW_S + 60 and corrected == skew and sets == 1
    skew, corrected, sets = rows[fine.mn]
    assert abs(skew) < 60 and (corrected, sets) == (None, 0)
