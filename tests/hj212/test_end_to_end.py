"""From an HJ 212 packet on TCP to a stored reading: the gateway, the broker and `smartpark ingest`."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import psycopg
import pytest

from device_sim.hj212_logger import DataLogger
from hj212 import codes
from ingest import validate as v
from smartpark import catalogue
from smartpark.settings import Settings
from tests.hj212.conftest import PATIENT, hj212_devices, running_gateway
from tests.support.ingest import IngestProcess, park_rejections
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_packet_to_stored_reading_with_its_flag_and_out_of_range_rejection(
    settings: Settings, hj212_park: dict[str, Any], db: psycopg.Connection[Any]
) -> None:
    code = hj212_park["parks"][0]["code"]
    dev = hj212_devices(hj212_park)[0]
    mn, pw = dev["attributes"]["hj212_mn"], dev["attributes"]["hj212_pw"]
    now = (int(time.time()) // 60) * 60_000  # whole minute: DataTime has second resolution

    def stored(ts_ms: int | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(settings.database_url or "", autocommit=True) as conn:
            return conn.execute(
                "SELECT m.code, t.value, t.flag, (extract(epoch FROM t.ts) * 1000)::bigint FROM telemetry t"
                " JOIN metrics m USING (metric_id) JOIN devices d USING (device_id)"
                " JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)"
                " WHERE p.code = %s AND d.code = %s AND (%s::bigint IS NULL OR t.ts = to_timestamp(%s / 1000.0))"
                " ORDER BY m.code",
                (code, dev["code"], ts_ms, ts_ms),
            ).fetchall()

    ingest = IngestProcess(code).start()
    try:

        async def scenario() -> list[Any]:
            async with running_gateway(settings) as gw:
                lg = DataLogger("127.0.0.1", gw.port, mn=mn, pw=pw)
                await lg.connect()
                # until ingest has subscribed, the broker has nobody to queue for: send a warm-up
                # reading (idempotent) until it is stored
                for _ in range(100):
                    await lg.upload({"stack.o2_pct": 9.0}, ts_ms=now - 600_000, **PATIENT)
                    if await asyncio.to_thread(stored):
                        break
                    await asyncio.sleep(0.3)
                ok = await lg.upload({"stack.so2_mgm3": 42.5, "stack.flow_m3h": 36000.0}, ts_ms=now, **PATIENT)
                again = await lg.upload({"stack.so2_mgm3": 42.5, "stack.flow_m3h": 36000.0}, ts_ms=now, **PATIENT)
                implausible = await lg.upload({"stack.o2_pct": 25.0}, ts_ms=now, **PATIENT)  # O2 above 21 %
                calibrating = await lg.upload(
                    {"stack.nox_mgm3": 48.0}, ts_ms=now - 60_000, flags={"stack.nox_mgm3": "C"}, **PATIENT
                )
                await lg.close()
                return [ok, again, implausible, calibrating]

        replies = asyncio.run(scenario())
        assert [r.cn for r in replies] == [codes.CN_DATA_REPLY] * 4

        wait_until(
            lambda: (
                len(stored(now)) >= 2
                and bool(stored(now - 60_000))
                and bool(park_rejections(settings.database_url or "", code))
            ),
            30,
            "readings stored and the implausible one rejected",
        )
        time.sleep(0.5)  # a duplicate would arrive now
        assert stored(now) == [("stack.flow_m3h", 36000.0, 0, now), ("stack.so2_mgm3", 42.5, 0, now)]
        # calibration data are kept, with their HJ 212 flag, so that they never count as valid
        assert stored(now - 60_000) == [("stack.nox_mgm3", 48.0, catalogue.HJ212_FLAGS["C"], now - 60_000)]
        rejections = park_rejections(settings.database_url or "", code)
        assert rejections == {v.OUT_OF_RANGE: 1}
    finally:
        ingest.stop()


def test_packet_to_alarm_and_flagged_data_raise_none(
    settings: Settings, hj212_park: dict[str, Any], db: psycopg.Connection[Any]
) -> None:
    from alerting import lifecycle
    from alerting.lifecycle import AlertFilter
    from tests.support.alerting import running, scoped

    code = hj212_park["parks"][0]["code"]
    row = db.execute("SELECT park_id FROM parks WHERE code = %s", (code,)).fetchone()
    assert row is not None
    rules = scoped(
        code,
        {
            "id": "hj-so2",
            "metric": "stack.so2_mgm3",
            "category": "emissions",
            "transform": "o2_reference",
            "condition": {"op": ">", "threshold": 35},
        },
    )
    normal, calibrating = hj212_devices(hj212_park)[:2]
    now = (int(time.time()) // 60) * 60_000

    def firing() -> list[dict[str, Any]]:
        alerts = lifecycle.list_alerts(db, where=AlertFilter(park_ids=(int(row[0]),), rule_id="hj-so2"))
        return [a for a in alerts if a["state"] == "firing"]

    async def send(port: int, dev: dict[str, Any], flags: dict[str, str]) -> Any:
        lg = DataLogger("127.0.0.1", port, mn=dev["attributes"]["hj212_mn"], pw=dev["attributes"]["hj212_pw"])
        await lg.connect()
        answer = await lg.upload({"stack.so2_mgm3": 40.0, "stack.o2_pct": 11.0}, ts_ms=now, flags=flags, **PATIENT)
        await lg.close()
        return answer

    async def scenario() -> list[Any]:
        async with running_gateway(settings) as gw:
            # calibration gas (flag C) above the limit first: it must not raise the alarm
            first = await send(gw.port, calibrating, {"stack.so2_mgm3": "C"})
            await asyncio.sleep(2.0)
            assert firing() == []
            return [first, await send(gw.port, normal, {})]

    with running(settings, rules):
        replies = asyncio.run(scenario())
        alerts = wait_until(firing, 30, "the SO2 alarm of the normal logger")
    assert [r.cn for r in replies] == [codes.CN_DATA_REPLY] * 2
    assert [a["labels"]["device"] for a in alerts] == [normal["code"]]
    # 40 mg/m³ at 11 % O2 is 60 mg/m³ at the device's reference 6 %
    assert alerts[0]["trigger_value"] == pytest.approx(40.0 * (21 - 6) / (21 - 11))


def test_a_gateway_cannot_publish_for_a_device_on_hj212(
    settings: Settings, hj212_park: dict[str, Any], db: psycopg.Connection[Any]
) -> None:
    """Issue 14 M2, through the real broker and `smartpark ingest`: the logger's reading is stored,
    the gateway's (even with a copied-looking origin mark) is refused as hj212_device."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from smartpark.broker_admin import BrokerAdmin, gateway_client_id
    from smartpark.contract import device_topic
    from smartpark.mqtt import BrokerTarget, connect, make_client, mqtt_url
    from smartpark.origin import ORIGIN_PROPERTY
    from smartpark.registry import broker_accounts, load_model

    code = hj212_park["parks"][0]["code"]
    dev = hj212_devices(hj212_park)[0]
    mn, pw = dev["attributes"]["hj212_mn"], dev["attributes"]["hj212_pw"]
    gw = hj212_park["parks"][0]["enterprises"][0]["gateways"][0]
    now = (int(time.time()) // 60) * 60_000
    with BrokerAdmin.of(settings) as admin, db.transaction():
        load_model(db, hj212_park, broker=admin)
    ingest = IngestProcess(code).start()
    try:
        target = BrokerTarget.parse(mqtt_url(settings)).with_credentials(gw["username"], gw["password"])
        forger = make_client(gateway_client_id(gw["username"]), target=target, clean_start=True, session_expiry=0)
        connect(forger)
        mark = Properties(PacketTypes.PUBLISH)
        mark.UserProperty = (ORIGIN_PROPERTY, "0" * 64)
        topic = device_topic(code, "e1", dev["code"])
        forged = json.dumps({"ts": now - 120_000, "values": {"stack.so2_mgm3": 1.0}}).encode()

        async def scenario() -> None:
            async with running_gateway(settings) as server:
                lg = DataLogger("127.0.0.1", server.port, mn=mn, pw=pw)
                await lg.connect()
                for _ in range(100):  # until ingest has subscribed (see the test above)
                    await lg.upload({"stack.so2_mgm3": 42.5}, ts_ms=now - 60_000, **PATIENT)
                    if await asyncio.to_thread(lambda: _stored(settings, code, dev["code"])):
                        break
                    await asyncio.sleep(0.3)
                await lg.close()

        asyncio.run(scenario())
        forger.publish(topic, forged, qos=1, properties=mark).wait_for_publish(10)
        forger.publish(topic, forged, qos=1).wait_for_publish(10)
        wait_until(
            lambda: park_rejections(settings.database_url or "", code).get(v.HJ212_DEVICE, 0) >= 2,
            30,
            "the gateway's readings refused",
        )
        assert _stored(settings, code, dev["code"]) == [(42.5, now - 60_000)]
        forger.disconnect()
        forger.loop_stop()
    finally:
        ingest.stop()
        with BrokerAdmin.of(settings) as admin:
            for account in broker_accounts(hj212_park):
                admin.delete_client(account.username)


def _stored(settings: Settings, park: str, device: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.database_url or "", autocommit=True) as conn:
        return conn.execute(
            "SELECT t.value, (extract(epoch FROM t.ts) * 1000)::bigint FROM telemetry t"
            " JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id)"
            " JOIN parks p USING (park_id) WHERE p.code = %s AND d.code = %s ORDER BY t.ts",
            (park, device),
        ).fetchall()
