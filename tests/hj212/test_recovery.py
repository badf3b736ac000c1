"""History recovery end to end: a real simulated data logger on the real HJ 212 server, a gap in
its minute data, the server asks for it (HJ 212-2017 CN 2051 with BeginTime/EndTime), the logger
answers from its own history, and exactly the missing packets are stored, marked recovered."""

from __future__ import annotations

import asyncio
import copy
import secrets
import time
from typing import Any

import psycopg
import pytest

from device_sim.hj212_logger import DataLogger
from forwarding.recorder import PacketRecorder
from hj212 import codes
from ingest.hj212.recovery import Recovery, RecoveryLimits
from ingest.hj212.requests import Outstanding, Requests
from smartpark.settings import Settings
from tests.hj212.conftest import PATIENT, running_gateway
from tests.support.factories import small_model, unique_code
from tests.support.ingest import IngestProcess, count
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MINUTES = 120  # two whole hours of minute data
MISSING = sorted({3, 4, 5, 17, 59, 60, 61, 62, 90, 91, 92, 93, 94, 95, 118, 119, 30})  # 17 minutes lost


def _minute_logger(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "kind": "stack_cems",
        "zone": "B1",
        "attributes": {
            "hj212_mn": f"{unique_code()}{code}".upper()[:24],
            "hj212_pw": secrets.token_hex(3),
            "hj212_cn": ["2051"],  # minute data is its telemetry: history extraction fills it
            "interval_s": 60,
        },
    }


@pytest.fixture
def minute_park(db: psycopg.Connection[Any]) -> dict[str, Any]:
    from smartpark.registry import load_model

    model = copy.deepcopy(small_model(unique_code()))
    e1 = model["parks"][0]["enterprises"][0]
    e1["gateways"][0]["devices"] += [_minute_logger("rec1"), _minute_logger("mute1")]
    with db.transaction():
        load_model(db, model)
        # registered a day ago: the two hours below are owed (completeness counts from registration)
        db.execute(
            "UPDATE devices SET created_at = now() - interval '1 day' WHERE attributes->>'hj212_mn' = ANY(%s)",
            ([d["attributes"]["hj212_mn"] for d in e1["gateways"][0]["devices"][-2:]],),
        )
    return model


def _values(i: int) -> dict[str, float]:
    return {"stack.so2_mgm3": 20.0 + i % 7, "stack.o2_pct": 9.0}


def test_a_gap_is_asked_for_and_exactly_the_missing_minutes_come_back_marked_recovered(
    settings: Settings, minute_park: dict[str, Any]
) -> None:
    park = minute_park["parks"][0]["code"]
    devices = minute_park["parks"][0]["enterprises"][0]["gateways"][0]["devices"]
    rec, mute = devices[-2]["attributes"], devices[-1]["attributes"]
    url = settings.database_url or ""
    end_s = int(time.time()) // 3600 * 3600  # the last whole hour's end
    first_ms = (end_s - MINUTES * 60) * 1000
    minute = [first_ms + i * 60_000 for i in range(MINUTES)]

    def device_count(sql: str, mn: str) -> int:
        return count(
            url, sql + " AND device_id = (SELECT device_id FROM devices WHERE attributes->>'hj212_mn' = %s)", (mn,)
        )

    fake_monotonic = [0.0]  # the requests' timeouts run on this clock
    requests = Requests(per_logger=1, timeout_s=60.0, clock=lambda: fake_monotonic[0])
    ended: list[Outstanding] = []
    ingest = IngestProcess(park).start()
    try:

        async def scenario() -> None:
            connect = lambda: psycopg.AsyncConnection.connect(url, autocommit=True)  # noqa: E731
            recorder = PacketRecorder(connect)
            recording = asyncio.create_task(recorder.run())
            async with running_gateway(settings, recorder=recorder, requests=requests) as gw:
                gw.server.finished.append(lambda device, r: ended.append(r))
                recovery = Recovery(
                    gw.server,
                    connect,
                    limits=RecoveryLimits(lookback_s=MINUTES * 60, settle_s=0, max_range_s=6 * 3600),
                    clock=lambda: float(end_s),
                )
                lg = DataLogger("127.0.0.1", gw.port, mn=rec["hj212_mn"], pw=rec["hj212_pw"])
                silent = DataLogger("127.0.0.1", gw.port, mn=mute["hj212_mn"], pw=mute["hj212_pw"], answers=False)
                await lg.connect()
                await silent.connect()
                for i, ts in enumerate(minute):
                    if i in MISSING:
                        lg.history.add(codes.CN_MINUTE, ts, _values(i))  # generated, lost on the way
                    else:
                        reply = await lg.upload(_values(i), ts_ms=ts, cn=codes.CN_MINUTE, **PATIENT)
                        assert reply.cn == codes.CN_DATA_REPLY
                # the silent logger sends its first minute only: the rest is a gap it never fills
                await silent.upload(_values(0), ts_ms=minute[0], cn=codes.CN_MINUTE, **PATIENT)

                assert await recovery.tick() == 2  # one request to each logger
                await asyncio.to_thread(
                    wait_until, lambda: any(r.mn == rec["hj212_mn"] for r in ended), 60, "the logger's 9012"
                )
                answered = next(r for r in ended if r.mn == rec["hj212_mn"])
                assert (answered.outcome, answered.exe_rtn, answered.received) == ("done", 1, MINUTES)
                readings = "SELECT count(*) FROM telemetry WHERE true"
                await asyncio.to_thread(
                    wait_until,
                    lambda: device_count(readings, rec["hj212_mn"]) == 2 * MINUTES,
                    60,
                    "the telemetry gap filled",
                )
                # the silent logger holds its one slot; a second round asks it nothing more, and
                # the answered logger, whole now, nothing either
                assert requests.outstanding(mute["hj212_mn"]) == 1
                assert await recovery.tick() == 0
                assert silent.requests_seen == 1
                fake_monotonic[0] += 61  # past the timeout: its slot is given back
                assert await recovery.tick() == 0  # its range was asked within retry_after_s
                assert [r.outcome for r in ended if r.mn == mute["hj212_mn"]] == ["timed_out"]
                assert requests.outstanding(mute["hj212_mn"]) == 0
                await lg.close()
                await silent.close()
            recording.cancel()
            await recorder.close()

        asyncio.run(scenario())
        packets = "SELECT count(*) FROM hj212_packets WHERE cn = '2051'"
        assert device_count(packets + " AND recovered", rec["hj212_mn"]) == len(MISSING)
        assert device_count(packets, rec["hj212_mn"]) == MINUTES  # each minute once
        # two metrics per minute, each reading once
        assert device_count("SELECT count(*) FROM telemetry WHERE true", rec["hj212_mn"]) == 2 * MINUTES
        assert device_count("SELECT count(DISTINCT ts) FROM telemetry WHERE true", rec["hj212_mn"]) == MINUTES
    finally:
        ingest.stop()
