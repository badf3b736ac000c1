"""Issue 14 M8 against the real broker and `smartpark ingest`: gateways may publish only the
contract's topics, may not retain telemetry (refused, recorded and cleared from the broker), and
an enterprise's messages beyond its quota are refused and counted."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from ingest import validate as v
from smartpark.contract import device_topic
from smartpark.mqtt import connect, make_client, mqtt_url
from smartpark.settings import Settings
from tests.support.ingest import (
    IngestProcess,
    disconnect,
    gateway_client,
    park_readings,
    park_rejections,
    platform_client,
    publish_all,
    wait_until,
)

pytestmark = pytest.mark.integration


def _reading(ts_ms: int) -> bytes:
    return json.dumps({"ts": ts_ms, "values": {"elec.pf": 0.9}}).encode()


def test_gateways_publish_only_the_contracts_topics(settings: Settings, park: dict[str, Any]) -> None:
    code = park["parks"][0]["code"]
    gw = gateway_client(park, "e1")
    try:
        reasons = publish_all(
            gw,
            [
                (f"smartpark/v1/{code}/e1/em1/telemetry", b"{}"),
                (f"smartpark/v1/{code}/e1/em1/status", b"online"),
                (f"smartpark/v1/{code}/e1/gateway/gw1/telemetry", b"{}"),
                (f"smartpark/v1/{code}/e1/em1/junk", b"x"),
                (f"smartpark/v1/{code}/e1/a/b/c/d", b"x"),
            ],
        )
    finally:
        disconnect(gw)
    # accepted ("Success", or "No matching subscribers" when nobody listens) or refused
    assert [r == "Not authorized" for r in reasons] == [False, False, False, True, True]


def test_retained_telemetry_is_refused_recorded_and_cleared(settings: Settings, park: dict[str, Any]) -> None:
    code = park["parks"][0]["code"]
    url = settings.database_url or ""
    topic = device_topic(code, "e1", "em1")
    now = int(time.time() * 1000)
    ingest = IngestProcess(code).start()
    try:
        gw = gateway_client(park, "e1")
        try:
            gw.publish(topic, _reading(now - 1000), qos=1, retain=True).wait_for_publish(10)
            gw.publish(topic, _reading(now), qos=1).wait_for_publish(10)
        finally:
            disconnect(gw)
        wait_until(
            lambda: park_rejections(url, code).get(v.RETAINED) == 1 and park_readings(url, code) == 1,
            30,
            "the retained message refused and the other stored",
        )
        # cleared: a new subscriber gets no retained message before a marker published after it
        got: list[tuple[bytes, bool]] = []
        subscribed = threading.Event()
        sub = make_client("test-retained-check", url=mqtt_url(settings), clean_start=True, session_expiry=0)
        sub.on_message = lambda c, u, m: got.append((bytes(m.payload), m.retain))
        sub.on_subscribe = lambda *a: subscribed.set()
        connect(sub)
        sub.subscribe(topic, qos=1)
        assert subscribed.wait(10)
        marker = platform_client()
        marker.publish(topic, b"marker", qos=1).wait_for_publish(10)
        disconnect(marker)
        wait_until(lambda: any(p == b"marker" for p, _ in got), 10, "the marker")
        disconnect(sub)
        assert got[0] == (b"marker", False)
    finally:
        ingest.stop()


def test_messages_beyond_the_enterprise_quota_are_refused_and_counted(
    settings: Settings, park: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMARTPARK_INGEST_MESSAGES_PER_S_PER_ENTERPRISE", "0.001")
    monkeypatch.setenv("SMARTPARK_INGEST_MESSAGE_BURST_PER_ENTERPRISE", "5")
    code = park["parks"][0]["code"]
    url = settings.database_url or ""
    now = int(time.time() * 1000)
    ingest = IngestProcess(code).start()
    try:
        gw = gateway_client(park, "e1")
        try:
            publish_all(gw, [(device_topic(code, "e1", "em1"), _reading(now - i * 1000)) for i in range(20)])
        finally:
            disconnect(gw)
        wait_until(
            lambda: park_rejections(url, code).get(v.QUOTA_EXCEEDED) == 15 and park_readings(url, code) == 5,
            30,
            "5 messages stored and 15 refused",
        )
    finally:
        ingest.stop()
