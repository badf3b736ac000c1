"""A retired alerting instance stops taking readings once retired, on the real Mosquitto.

Mosquitto hands a shared subscription's messages round the group's sessions, connected or not: an
alerting instance stopped with its session alive (an hour by default) takes its share of the
readings, and the alarms they would raise are raised by no one. A platform run whose group
still held the previous run's session raised one leak alarm in its first four minutes, where the
run before it raised one every 5 s."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from typing import Any

import pytest

from alerting.intake import subscriptions
from smartpark.mqtt import connect, end_session, make_client, mqtt_url, platform_client_id
from tests.support.ingest import gateway_client
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _member(settings: Any, name: str, group: str, code: str, got: list[bytes]) -> Any:
    """A member of the alerting group as the service joins it: its persistent session."""
    c = make_client(platform_client_id(name, mqtt_url(settings)), url=mqtt_url(settings), session_expiry=3600)
    c.on_message = lambda _c, _u, m: got.append(m.payload)
    subscribed = threading.Event()
    c.on_subscribe = lambda *a: subscribed.set()
    connect(c)
    c.subscribe([(s, 1) for s in subscriptions("smartpark/v1", group, [code])])
    assert subscribed.wait(5)
    return c


def _publish(park: dict[str, Any], first: int, n: int) -> None:
    code = park["parks"][0]["code"]
    gw = gateway_client(park, "e2")
    for info in [
        gw.publish(f"smartpark/v1/{code}/e2/em1/telemetry", str(i).encode(), qos=1) for i in range(first, first + n)
    ]:
        info.wait_for_publish(10)
    gw.disconnect()
    gw.loop_stop()


def test_a_stopped_instance_takes_a_share_until_retired(settings: Any, park: dict[str, Any]) -> None:
    code, group = park["parks"][0]["code"], f"test-alerting-{uuid.uuid4().hex[:8]}"
    old_name, live_name = f"old-{uuid.uuid4().hex[:6]}", f"live-{uuid.uuid4().hex[:6]}"
    old = _member(settings, old_name, group, code, [])
    old.disconnect()  # stopped, its session kept by the broker
    old.loop_stop()
    got: list[bytes] = []
    live = _member(settings, live_name, group, code, got)
    try:
        _publish(park, 0, 40)
        wait_until(lambda: len(got) >= 10, 10, "the live instance's share")
        assert len(got) < 40  # the stopped one's session took the rest: nobody judges them

        out = subprocess.run(
            [sys.executable, "-m", "smartpark.cli", "alerting", "--client-id", old_name, "retire"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert old_name in out.stdout
        got.clear()
        _publish(park, 100, 40)
        wait_until(lambda: len(got) >= 40, 10, "every reading at the live instance")
        assert sorted(int(p) for p in got) == list(range(100, 140))
    finally:
        live.disconnect()
        live.loop_stop()
        for name in (old_name, live_name):
            end_session(platform_client_id(name, mqtt_url(settings)), url=mqtt_url(settings))
