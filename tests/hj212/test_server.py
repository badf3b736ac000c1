"""The gateway over real TCP, with the real database (registry, rejected_messages) and broker."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest

from device_sim.hj212_logger import DataLogger
from hj212 import codes
from smartpark.settings import Settings
from tests.hj212.conftest import LOGGERS, PATIENT, Subscriber, hj212_devices, running_gateway
from tests.support.hj212 import data_frame

pytestmark = pytest.mark.integration
TS = 1769385600000  # 2026-01-26T08:00:00+08:00, within ingest's 30-day window is not needed here


def _loggers(model: dict[str, Any], port: int) -> list[DataLogger]:
    return [
        DataLogger("127.0.0.1", port, mn=d["attributes"]["hj212_mn"], pw=d["attributes"]["hj212_pw"])
        for d in hj212_devices(model)
        if d["kind"] == "stack_cems"
    ]


def _rejections(db: psycopg.Connection[Any], park: dict[str, Any], reason: str) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT r.reason, r.device, r.topic FROM rejected_messages r"
        " LEFT JOIN parks p USING (park_id) WHERE r.reason_code = %s AND (p.code = %s OR r.park_id IS NULL)",
        ("hj212." + reason, park["parks"][0]["code"]),
    ).fetchall()


def test_many_concurrent_loggers(settings: Settings, hj212_park: dict[str, Any], subscriber: Subscriber) -> None:
    uploads = 3

    async def one(logger: DataLogger, i: int) -> list[Any]:
        await logger.connect()
        out = []
        for k in range(uploads):
            values = {"stack.so2_mgm3": 10.0 + i, "stack.o2_pct": 9.5, "stack.flow_m3h": 36000.0 + k}
            out.append(await logger.upload(values, ts_ms=TS + k * 60_000, **PATIENT))
        await logger.close()
        return out

    async def scenario() -> list[list[Any]]:
        async with running_gateway(settings) as gw:
            loggers = _loggers(hj212_park, gw.port)
            assert len(loggers) == LOGGERS
            return await asyncio.gather(*(one(lg, i) for i, lg in enumerate(loggers)))

    replies = asyncio.run(scenario())
    assert all(r.cn == codes.CN_DATA_REPLY for rs in replies for r in rs)
    by_device: dict[str, dict[int, Any]] = {}
    while sum(map(len, by_device.values())) < LOGGERS * uploads:  # a resent upload arrives twice
        topic, body = subscriber.messages.get(timeout=60)
        by_device.setdefault(topic.split("/")[-2], {})[body["ts"]] = body
    assert len(by_device) == LOGGERS
    assert by_device["cems007"][TS + 120_000] == {
        "ts": TS + 120_000,
        "values": {"stack.so2_mgm3": 17.0, "stack.o2_pct": 9.5, "stack.flow_m3h": 36002.0},
    }


def test_wrong_password_and_unknown_mn_are_refused_and_recorded(
    settings: Settings, hj212_park: dict[str, Any], subscriber: Subscriber, db: psycopg.Connection[Any]
) -> None:
    dev = hj212_devices(hj212_park)[0]
    mn = dev["attributes"]["hj212_mn"]

    async def scenario() -> tuple[Any, Any, float, float]:
        async with running_gateway(settings) as gw:
            wrong = DataLogger("127.0.0.1", gw.port, mn=mn, pw="000000")
            await wrong.connect()
            refused = await wrong.upload({"stack.so2_mgm3": 1.0}, ts_ms=TS)
            stranger = DataLogger("127.0.0.1", gw.port, mn="UNKNOWN0000001", pw="123456")
            await stranger.connect()
            unknown = await stranger.upload({"stack.so2_mgm3": 1.0}, ts_ms=TS)
            await wrong.close()
            await stranger.close()
            await gw.rejections.flush()
            return refused, unknown, gw.rejected("bad_password"), gw.rejected("unknown_mn")

    refused, unknown, bad_pw, bad_mn = asyncio.run(scenario())
    assert (refused.cn, refused.params) == (codes.CN_REQUEST_REPLY, (("QnRtn", str(codes.QN_BAD_PASSWORD)),))
    assert unknown.params == refused.params  # an unknown MN is not told apart (issue 14 H4)
    assert (bad_pw, bad_mn) == (1.0, 1.0)
    rows = _rejections(db, hj212_park, "bad_password")
    assert len(rows) == 1 and mn in rows[0][0] and rows[0][1] == dev["code"]
    assert any("UNKNOWN0000001" in r[0] for r in _rejections(db, hj212_park, "unknown_mn"))
    assert subscriber.messages.empty()


def test_garbage_between_packets_and_a_drop_mid_packet(
    settings: Settings, hj212_park: dict[str, Any], subscriber: Subscriber
) -> None:
    dev = hj212_devices(hj212_park)[1]
    mn, pw = dev["attributes"]["hj212_mn"], dev["attributes"]["hj212_pw"]
    first = data_frame(
        "2011", "DataTime=20260126080000;a21026-Rtd=11,a21026-Flag=N", mn=mn, pw=pw, qn="20260126080000001"
    )
    second = data_frame(
        "2011", "DataTime=20260126080100;a21026-Rtd=12,a21026-Flag=N", mn=mn, pw=pw, qn="20260126080100001"
    )
    third = data_frame(
        "2011", "DataTime=20260126080200;a21026-Rtd=13,a21026-Flag=N", mn=mn, pw=pw, qn="20260126080200001"
    )

    async def scenario() -> tuple[list[str | None], float, float]:
        async with running_gateway(settings) as gw:
            lg = DataLogger("127.0.0.1", gw.port, mn=mn, pw=pw)
            await lg.connect()
            await lg.send_raw(b"\x00\x01AT+OK\r\n" + first + b"garbage##xx" + second)
            qns = [(await lg.reply()).qn, (await lg.reply()).qn]
            await lg.send_raw(third[:30])  # the logger loses power mid-packet
            await lg.close()
            lg2 = DataLogger("127.0.0.1", gw.port, mn=mn, pw=pw)
            await lg2.connect()
            await lg2.send_raw(third)
            qns.append((await lg2.reply()).qn)
            await lg2.close()
            for _ in range(50):  # the server notices the first connection's end on its own
                if gw.rejected("truncated") >= 2:
                    break
                await asyncio.sleep(0.05)
            return qns, gw.rejected("garbage"), gw.rejected("truncated")

    qns, garbage, truncated = asyncio.run(scenario())
    assert qns == ["20260126080000001", "20260126080100001", "20260126080200001"]
    assert garbage == 2  # before the first packet, and 'garbage' before '##xx'
    assert truncated == 2  # '##xx' cut off by the next packet, and the dropped connection
    values = [body["values"]["stack.so2_mgm3"] for _, body in subscriber.take(3)]
    assert values == [11.0, 12.0, 13.0]


def test_bad_packets_are_refused_without_reply_and_the_connection_lives_on(
    settings: Settings, hj212_park: dict[str, Any], subscriber: Subscriber
) -> None:
    dev = hj212_devices(hj212_park)[2]
    mn, pw = dev["attributes"]["hj212_mn"], dev["attributes"]["hj212_pw"]
    good = data_frame("2011", "DataTime=20260126080000;a21026-Rtd=5", mn=mn, pw=pw)
    bad_crc = good[:-6] + (b"0000" if not good.endswith(b"0000\r\n") else b"1111") + b"\r\n"
    bad_time = data_frame("2011", "DataTime=20261326080000;a21026-Rtd=5", mn=mn, pw=pw, qn="20260126080000999")

    async def scenario() -> tuple[Any, float, float]:
        async with running_gateway(settings) as gw:
            lg = DataLogger("127.0.0.1", gw.port, mn=mn, pw=pw)
            await lg.connect()
            await lg.send_raw(bad_crc + bad_time + good)
            answer = await lg.reply()
            await lg.close()
            return answer, gw.rejected("bad_crc"), gw.rejected("bad_datatime")

    answer, crc, when = asyncio.run(scenario())
    assert answer.qn == "20260126080000123"  # only the good packet is answered
    assert (crc, when) == (1.0, 1.0)
    assert [body["values"] for _, body in subscriber.take(1)] == [{"stack.so2_mgm3": 5.0}]


def test_split_upload_is_published_once_whole(
    settings: Settings, hj212_park: dict[str, Any], subscriber: Subscriber
) -> None:
    ww = next(d for d in hj212_devices(hj212_park) if d["kind"] == "wastewater")
    mn, pw = ww["attributes"]["hj212_mn"], ww["attributes"]["hj212_pw"]

    async def scenario() -> list[Any]:
        async with running_gateway(settings) as gw:
            lg = DataLogger("127.0.0.1", gw.port, mn=mn, pw=pw)
            await lg.connect()
            values = {"ww.cod_mgl": 25.5, "ww.nh3n_mgl": 1.25, "ww.ph": 7.2, "ww.flow_m3h": 36.0}
            qn, frames = lg.frames(values, ts_ms=TS, cn="2061")
            # force a split by re-encoding with a small segment limit
            from hj212.encode import data_packets
            from hj212.packet import decode_frame
            from smartpark.hj212_metrics import pollutants_of

            head = decode_frame(frames[0])
            st, pollutants = pollutants_of(values, cn="2061")
            assert head.data_time is not None
            parts = data_packets(
                qn=qn, st=st, cn="2061", pw=pw, mn=mn, data_time=head.data_time, pollutants=pollutants, max_segment=160
            )
            assert len(parts) > 1
            replies = []
            for part in reversed(parts):
                await lg.send_raw(part)
                replies.append(await lg.reply())
            await lg.close()
            return replies

    replies = scenario_result = asyncio.run(scenario())
    assert all(r.cn == codes.CN_DATA_REPLY for r in scenario_result) and len(replies) > 1
    ((topic, body),) = subscriber.take(1)
    assert topic.endswith("/e2/ww1/telemetry")
    assert body["values"] == {"ww.cod_mgl": 25.5, "ww.nh3n_mgl": 1.25, "ww.ph": 7.2, "ww.flow_m3h": 36.0}
    time.sleep(0.3)
    assert subscriber.messages.empty()


def test_flagged_readings_travel_with_their_flag(
    settings: Settings, hj212_park: dict[str, Any], subscriber: Subscriber
) -> None:
    dev = hj212_devices(hj212_park)[3]
    mn, pw = dev["attributes"]["hj212_mn"], dev["attributes"]["hj212_pw"]

    async def scenario() -> Any:
        async with running_gateway(settings) as gw:
            lg = DataLogger("127.0.0.1", gw.port, mn=mn, pw=pw)
            await lg.connect()
            answer = await lg.upload(
                {"stack.so2_mgm3": 30.0, "stack.nox_mgm3": 45.0}, ts_ms=TS, flags={"stack.nox_mgm3": "C"}
            )
            await lg.close()
            return answer

    assert asyncio.run(scenario()).cn == codes.CN_DATA_REPLY
    ((_, body),) = subscriber.take(1)
    assert body == {
        "ts": TS,
        "values": {"stack.so2_mgm3": 30.0, "stack.nox_mgm3": 45.0},
        "flags": {"stack.nox_mgm3": 5},
    }


def test_blocking_logger_for_threaded_callers(
    settings: Settings, hj212_park: dict[str, Any], subscriber: Subscriber
) -> None:
    from device_sim.hj212_logger import BlockingDataLogger

    dev = hj212_devices(hj212_park)[4]
    mn, pw = dev["attributes"]["hj212_mn"], dev["attributes"]["hj212_pw"]

    def send(port: int) -> list[Any]:
        lg = BlockingDataLogger("127.0.0.1", port, mn=mn, pw=pw)
        try:
            return [lg.upload({"stack.dust_mgm3": 3.5 + k}, ts_ms=TS + k * 60_000) for k in range(3)]
        finally:
            lg.close()

    async def scenario() -> list[Any]:
        async with running_gateway(settings) as gw:
            return await asyncio.to_thread(send, gw.port)

    assert [r.cn for r in asyncio.run(scenario())] == [codes.CN_DATA_REPLY] * 3
    assert [body["values"] for _, body in subscriber.take(3)] == [
        {"stack.dust_mgm3": 3.5},
        {"stack.dust_mgm3": 4.5},
        {"stack.dust_mgm3": 5.5},
    ]


def test_floods_of_refusals_close_the_connection_and_idle_ones_are_closed(
    settings: Settings, hj212_park: dict[str, Any]
) -> None:
    from ingest.hj212.server import Limits

    mn = hj212_devices(hj212_park)[7]["attributes"]["hj212_mn"]
    wrong = [data_frame(mn=mn, pw="000000", qn=f"2026012608000000{i}") for i in range(5)]

    async def scenario() -> tuple[bytes, bytes, bytes, float]:
        async with running_gateway(settings, limits=Limits(max_refused=3, idle_timeout_s=0.5)) as gw:
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            for _ in range(5):  # each '##' cuts the previous piece off: five truncated frames
                writer.write(b"##0101QN=2026")
            await writer.drain()
            flooded = await asyncio.wait_for(reader.read(), 5)  # EOF: the server closed it
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            writer.write(b"".join(wrong))  # a password guesser
            await writer.drain()
            guessed = await asyncio.wait_for(reader.read(), 5)  # replies up to the limit, then EOF
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
            idle = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            return flooded, guessed, idle, gw.rejected("too_many_refused")

    flooded, guessed, idle, closing = asyncio.run(scenario())
    assert (flooded, idle) == (b"", b"")
    assert guessed.count(b"CN=9011") == 4 and guessed.count(b"QnRtn=3") == 4  # the 5th is never read
    assert closing == 2


def test_serve_command(settings: Settings, hj212_park: dict[str, Any], subscriber: Subscriber) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "smartpark.cli", "hj212", "serve", "--port", str(port)],
        env=os.environ.copy(),
        stderr=subprocess.PIPE,
    )
    dev = hj212_devices(hj212_park)[5]
    mn, pw = dev["attributes"]["hj212_mn"], dev["attributes"]["hj212_pw"]
    try:
        from device_sim.hj212_logger import BlockingDataLogger

        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not start listening"
                time.sleep(0.1)
        lg = BlockingDataLogger("127.0.0.1", port, mn=mn, pw=pw)
        answer = lg.upload({"stack.nox_mgm3": 48.0}, ts_ms=TS)
        lg.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert answer.cn == codes.CN_DATA_REPLY
    assert proc.returncode == 0, err.decode()
    assert [body for _, body in subscriber.take(1)] == [{"ts": TS, "values": {"stack.nox_mgm3": 48.0}}]
    assert b"hj212 listening on 127.0.0.1" in err


def test_no_reply_while_the_broker_is_away(settings: Settings, hj212_park: dict[str, Any]) -> None:
    dev = hj212_devices(hj212_park)[6]
    mn, pw = dev["attributes"]["hj212_mn"], dev["attributes"]["hj212_pw"]

    async def scenario() -> tuple[bool, float]:
        async with running_gateway(settings) as gw:
            await asyncio.to_thread(gw.client.disconnect)
            while gw.client.is_connected():
                await asyncio.sleep(0.05)
            lg = DataLogger("127.0.0.1", gw.port, mn=mn, pw=pw)
            await lg.connect()
            try:
                await lg.upload({"stack.so2_mgm3": 20.0}, ts_ms=TS, timeout=1.0)
                replied = True
            except TimeoutError:
                replied = False  # the logger keeps the packet and sends it again later
            await lg.close()
            return replied, gw.rejected("publish_failed")

    replied, failed = asyncio.run(scenario())
    assert (replied, failed) == (False, 1.0)
