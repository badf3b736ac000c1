"""The ingest service against the real broker and database: counts, duplicates, spoofing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from ingest import validate as v
from ingest.metrics import IngestMetrics
from ingest.worker import Ingester, WorkerConfig
from smartpark.contract import device_topic, gateway_topic
from smartpark.mqtt import mqtt_url
from smartpark.settings import Settings
from tests.support.ingest import (
    IngestProcess,
    disconnect,
    gateway_client,
    gateway_message,
    park_readings,
    park_rejections,
    platform_client,
    publish_accepted,
    publish_all,
    readings_message,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
def ingest(park: dict[str, Any]) -> Iterator[IngestProcess]:
    proc = IngestProcess(park["parks"][0]["code"]).start()
    yield proc
    proc.stop()


def test_mixed_traffic_is_stored_or_rejected_exactly(
    settings: Settings, park: dict[str, Any], ingest: IngestProcess
) -> None:
    code = park["parks"][0]["code"]
    url = settings.database_url or ""
    now = _now_ms()
    day = 86_400_000
    good = [
        readings_message(
            code,
            "e1",
            "em1",
            now - (i + 1) * 60_000,
            {"elec.import_kwh": 1000.0 + i, "elec.power_kw": 12.0, "elec.pf": 0.95},
        )
        for i in range(20)
    ]  # 60 valid readings
    good.append(
        gateway_message(
            code,
            "e2",
            "gw1",
            {
                "em1": [{"ts": now - 1000, "values": {"elec.import_kwh": 5.0}}],
                "ww1": {"ts": now - 1000, "values": {"ww.ph": 7.2, "ww.cod_mgl": 40.0}},
            },
        )
    )  # 3 valid readings
    bad = [
        readings_message(code, "e1", "em1", now, {"elec.pf": 3.0, "elec.import_kwh": 7.0}),
        readings_message(code, "e1", "em1", now, {"ww.ph": 7.0}),
        readings_message(code, "e1", "em1", now - 40 * day, {"elec.import_kwh": 7.0}),
        readings_message(code, "e1", "em1", now + 3_600_000, {"elec.import_kwh": 7.0}),
        readings_message(code, "e1", "nosuch", now, {"elec.import_kwh": 7.0}),
        readings_message(code, "e1", "em1", now, {"no.such_metric": 7.0}),
        (device_topic(code, "e1", "em1"), b"{broken json"),
        (device_topic(code, "e1", "em1"), json.dumps({"ts": now, "values": {"elec.pf": "x"}}).encode()),
        (device_topic(code, "e1", "em1"), b'{"ts": "last tuesday", "values": {"elec.pf": 1}}'),
        (device_topic(code, "e1", "em1"), b"[" * 10 + b"1" + b"]" * 10),
    ]  # the first of these also holds one valid reading
    client = gateway_client(park, "e1")
    client2 = gateway_client(park, "e2")
    try:
        publish_accepted(client, [m for m in good if f"/{code}/e1/" in m[0]] + bad)
        publish_accepted(client2, [m for m in good if f"/{code}/e2/" in m[0]])
    finally:
        disconnect(client)
        disconnect(client2)
    expected_readings = 60 + 3 + 1
    expected_rejections = {
        v.OUT_OF_RANGE: 1,
        v.METRIC_NOT_ALLOWED: 1,
        v.TS_TOO_OLD: 1,
        v.TS_IN_FUTURE: 1,
        v.UNKNOWN_DEVICE: 1,
        v.UNKNOWN_METRIC: 1,
        "malformed_json": 1,
        "bad_value": 1,
        "bad_timestamp": 1,
        "bad_shape": 1,
    }
    wait_until(
        lambda: (
            park_readings(url, code) >= expected_readings
            and sum(park_rejections(url, code).values()) >= sum(expected_rejections.values())
        ),
        30,
        "the readings and rejections to be committed",
    )
    time.sleep(0.5)  # nothing more may arrive
    assert park_readings(url, code) == expected_readings
    assert park_rejections(url, code) == expected_rejections
    with psycopg.connect(url, autocommit=True) as conn:
        latest = conn.execute(
            "SELECT l.value, l.ts FROM telemetry_latest l JOIN devices d USING (device_id)"
            " JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)"
            " WHERE p.code = %s AND e.code = 'e1' AND d.code = 'em1' AND l.metric_id = 1",
            (code,),
        ).fetchone()
        touched = conn.execute(
            "SELECT count(*) FROM telemetry_touched t JOIN devices d USING (device_id)"
            " JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)"
            " WHERE p.code = %s AND e.code = 'e1' AND d.code = 'em1' AND t.metric_id = 1",
            (code,),
        ).fetchone()
        rejected = conn.execute(
            "SELECT reason, device, excerpt FROM rejected_messages"
            " WHERE topic LIKE %s AND reason_code = 'out_of_range'",
            (f"smartpark/v1/{code}/%",),
        ).fetchone()
    # The newest import reading wins even though the out-of-range message came later.
    assert latest is not None and latest[0] == 7.0
    # 20 readings a minute apart + the one at `now`: the 15-minute buckets they span.
    buckets = {(now - (i + 1) * 60_000) // 900_000 for i in range(20)} | {now // 900_000}
    assert touched is not None and touched[0] == len(buckets)
    assert rejected is not None and "3.0" in rejected[0] and rejected[1] == "em1"
    assert '"elec.pf": 3.0' in rejected[2]


def test_the_same_message_twice_is_stored_once(settings: Settings, park: dict[str, Any], ingest: IngestProcess) -> None:
    code = park["parks"][0]["code"]
    url = settings.database_url or ""
    msg = gateway_message(
        code,
        "e1",
        "gw1",
        {"em1": [{"ts": _now_ms() - k * 1000, "values": {"elec.power_kw": 1.0 * k}} for k in range(50)]},
    )
    client = gateway_client(park, "e1")
    try:
        publish_accepted(client, [msg])
        wait_until(lambda: park_readings(url, code) == 50, 30, "the first copy")
        publish_accepted(client, [msg, msg])
    finally:
        disconnect(client)
    time.sleep(1.5)
    assert park_readings(url, code) == 50
    assert park_rejections(url, code) == {}


def test_redelivery_after_a_crash_adds_nothing(settings: Settings, park: dict[str, Any]) -> None:
    """A process that committed but died before acknowledging: its successor gets the messages
    again (same client id, persistent session) and storing them again changes nothing."""
    code = park["parks"][0]["code"]
    url = settings.database_url or ""
    config = WorkerConfig(
        client_id=f"test-redeliver-{code}", group=f"r{code}", park=code, batch_max_ms=50, session_expiry_s=600
    )

    class CrashesBeforeAck(Ingester):
        def _ack(self, items: Any) -> None:
            self._in_batch = 0  # commit happened; the acknowledgement never leaves

    def start(cls: type[Ingester]) -> tuple[Ingester, Callable[[str], float], threading.Thread]:
        registry = CollectorRegistry()
        ing = cls(config, db_url=url, mqtt_url=mqtt_url(settings), metrics=IngestMetrics.create(registry))
        thread = threading.Thread(target=ing.run, daemon=True)
        thread.start()
        return ing, lambda name: registry.get_sample_value(f"smartpark_ingest_{name}") or 0.0, thread

    first, first_metric, thread = start(CrashesBeforeAck)
    wait_until(lambda: first_metric("subscribed") == 1, 30, "the first ingester to subscribe")
    messages = [
        gateway_message(
            code, "e2", "gw1", {"gm1": {"ts": _now_ms() - i * 1000, "values": {"gas.volume_nm3": 10.0 + i}}}
        )
        for i in range(30)
    ]
    client = gateway_client(park, "e2")
    try:
        publish_accepted(client, messages)
    finally:
        disconnect(client)
    wait_until(lambda: park_readings(url, code) == 30, 30, "the first ingester to commit")
    first.stop.set()
    thread.join(30)

    second, second_metric, thread = start(Ingester)
    try:
        wait_until(lambda: second_metric("messages_total") == 30, 30, "the unacknowledged messages to be redelivered")
        assert second_metric("readings_duplicate_total") == 30
        assert second_metric("readings_stored_total") == 0
        assert park_readings(url, code) == 30
    finally:
        second.stop.set()
        thread.join(30)


def test_a_gateway_cannot_publish_for_another_enterprise(
    settings: Settings, park: dict[str, Any], ingest: IngestProcess
) -> None:
    code = park["parks"][0]["code"]
    url = settings.database_url or ""
    spoofed = gateway_message(code, "e2", "gw1", {"em1": {"ts": _now_ms(), "values": {"elec.pf": 0.5}}})
    # The broker refuses: e1's gateway may publish below its own enterprise only.
    client = gateway_client(park, "e1")
    try:
        assert publish_all(client, [spoofed]) == ["Not authorized"]
    finally:
        disconnect(client)
    # With the ACL bypassed (the platform account may publish anywhere), the ingester refuses a
    # device of e1 under e2's topics, on a gateway topic and on a device topic.
    now = _now_ms()
    admin = platform_client()
    try:
        publish_accepted(
            admin,
            [
                gateway_message(code, "e2", "gw1", {"cems1": {"ts": now, "values": {"stack.o2_pct": 9.0}}}),
                readings_message(code, "e2", "cems1", now, {"stack.o2_pct": 9.0}),
                gateway_message(code, "e2", "gw9", {"gm1": {"ts": now, "values": {"gas.volume_nm3": 1.0}}}),
                (gateway_topic(code, "e9", "gw1"), b"{}"),
            ],
        )
    finally:
        disconnect(admin)
    wait_until(lambda: sum(park_rejections(url, code).values()) >= 4, 30, "the rejections")
    time.sleep(0.5)
    assert park_rejections(url, code) == {
        v.FOREIGN_DEVICE: 2,
        v.UNKNOWN_GATEWAY: 1,
        v.UNKNOWN_ENTERPRISE: 1,
    }
    assert park_readings(url, code) == 0


def test_a_message_the_database_refuses_is_recorded_and_the_rest_stored(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], ingest: IngestProcess
) -> None:
    """A reading that passes every check but that the database still refuses (here: a trigger on
    one device of this park) must not hold up the other messages of its batch, nor vanish."""
    code = park["parks"][0]["code"]
    url = settings.database_url or ""
    row = db.execute(
        "SELECT d.device_id FROM devices d JOIN enterprises e USING (enterprise_id)"
        " JOIN parks p USING (park_id) WHERE p.code = %s AND e.code = 'e1' AND d.code = 'wm1'",
        (code,),
    ).fetchone()
    assert row is not None
    fn, trigger = f"refuse_{code}", f"refuse_{code}"
    db.execute(
        f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF NEW.device_id = {int(row[0])} AND NEW.value = 666 THEN"
        " RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$"
    )
    db.execute(f"CREATE TRIGGER {trigger} BEFORE INSERT ON telemetry FOR EACH ROW EXECUTE FUNCTION {fn}()")
    try:
        now = _now_ms()
        messages = [
            readings_message(code, "e1", "wm1", now - i * 1000, {"water.volume_m3": 10.0 + i}) for i in range(1, 21)
        ]
        messages.insert(10, readings_message(code, "e1", "wm1", now, {"water.volume_m3": 666.0}))
        client = gateway_client(park, "e1")
        try:
            publish_accepted(client, messages)
        finally:
            disconnect(client)
        wait_until(
            lambda: park_readings(url, code) >= 20 and bool(park_rejections(url, code)),
            30,
            "the good readings and the refusal",
        )
        time.sleep(0.5)
        assert park_readings(url, code) == 20
        assert park_rejections(url, code) == {v.STORE_FAILED: 1}
    finally:
        db.execute(f"DROP TRIGGER {trigger} ON telemetry")
        db.execute(f"DROP FUNCTION {fn}()")
