"""Publishing like real gateways, checked on the real broker with the platform's account."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from device_sim.hj212 import speaks_hj212
from device_sim.load import backfill, park_from
from device_sim.model import sim_parks
from device_sim.publisher import Publisher, PublishError
from smartpark.contract import Topic, decode
from smartpark.mqtt import connect, make_client, mqtt_url

pytestmark = pytest.mark.integration


def via_gateway(devices: Any) -> int:
    """Readings per tick the gateways carry: data loggers send over HJ 212 only."""
    return sum(len(d.metrics) for d in devices if not speaks_hj212(d))


class Collector:
    """The platform's view: everything published below the park."""

    def __init__(self, settings: Any, park: str) -> None:
        self.got: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.client = make_client(f"test-simsub-{uuid.uuid4().hex[:8]}", url=mqtt_url(settings), clean_start=True)
        self.client.on_message = self._on_message
        done = threading.Event()
        self.client.on_subscribe = lambda *a: done.set()
        connect(self.client)
        self.client.subscribe(f"{settings.topic_root}/{park}/#", qos=1)
        assert done.wait(5)

    def _on_message(self, c: mqtt.Client, u: Any, m: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.got.append((m.topic, m.payload, bool(m.retain)))

    def wait(self, pred: Any, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if pred(list(self.got)):
                    return True
            time.sleep(0.05)
        with self.lock:
            return bool(pred(list(self.got)))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.parametrize("loop", ["select", "threads"])
def test_gateways_publish_batched_readings_with_their_own_accounts(
    settings: Any, sim_model: dict[str, Any], loop: str
) -> None:
    park = park_from(sim_model)
    code = park.code
    collector = Collector(settings, code)
    try:
        with Publisher(park.gateways, url=settings.mqtt_url, loop=loop, max_inflight=50) as pub:
            pub.connect()
            t0 = int(time.time()) - 2 * 3600
            summary = backfill(park, pub, start_s=t0, end_s=t0 + 3600, interval_s=300, ticks_per_round=6)
            assert pub.inflight == 0
        telemetry = lambda got: [g for g in got if g[0].endswith("/telemetry")]  # noqa: E731
        assert collector.wait(lambda got: len(telemetry(got)) >= summary.messages)
        readings = 0
        by_gateway: Counter[str] = Counter()
        for topic, payload, _ in telemetry(collector.got):
            t = Topic.parse(topic, settings.topic_root)
            assert t.park == code and t.gateway is not None
            decoded = decode(t, payload, 0)
            assert not decoded.problems
            readings += len(decoded)
            by_gateway[f"{t.enterprise}/{t.gateway}"] += len(decoded)
            gw = next(g for g in park.gateways if (g.enterprise, g.code) == (t.enterprise, t.gateway))
            assert set(decoded.device) <= {d.code for d in gw.devices}
        assert readings == summary.readings > 0
        assert summary.messages == len(telemetry(collector.got))
        expected = {f"{g.enterprise}/{g.code}": via_gateway(g.devices) * 12 for g in park.gateways}
        assert dict(by_gateway) == expected
        statuses = {(t, p) for t, p, _ in collector.got if t.endswith("/status")}
        assert {p for _, p in statuses} >= {b"online"}
        assert len({t for t, _ in statuses}) == len(park.gateways)
    finally:
        collector.close()


def test_an_offline_gateway_leaves_its_will_and_comes_back(settings: Any, sim_model: dict[str, Any]) -> None:
    park = park_from(sim_model, first=1)
    gw = park.gateways[0]
    collector = Collector(settings, park.code)
    status = f"{settings.topic_root}/{gw.park}/{gw.enterprise}/{gw.code}/status"
    try:
        with Publisher([gw], url=settings.mqtt_url) as pub:
            pub.connect()
            assert collector.wait(
                lambda got: (status, b"online", False) in got or any(t == status and p == b"online" for t, p, _ in got)
            )
            pub.set_online(gw.key, False)
            assert collector.wait(lambda got: any(t == status and p == b"offline" for t, p, _ in got))
            pub.set_online(gw.key, True)
            assert pub.await_online(gw.key, 10)
            assert collector.wait(lambda got: [p for t, p, _ in got if t == status][-1] == b"online")
    finally:
        collector.close()


def test_wrong_password_is_refused_by_name(settings: Any, sim_model: dict[str, Any]) -> None:
    sim_model["parks"][0]["enterprises"][1]["gateways"][0]["password"] = "wrong-password"
    park = sim_parks(sim_model, enterprises=[sim_model["parks"][0]["enterprises"][1]["code"]])[0]
    pub = Publisher(park.gateways, url=settings.mqtt_url)
    with pytest.raises(PublishError, match=park.gateways[0].username):
        pub.connect(timeout=10)
    pub.close(timeout=1)


@pytest.mark.slow
def test_cli_backfill_and_run_print_a_summary(
    settings: Any, sim_model: dict[str, Any], tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from device_sim.model import write_model
    from smartpark.cli import main

    path = tmp_path / "park.yaml"
    write_model(sim_model, path)
    assert main(["sim", "backfill", "--model", str(path), "--first", "2", "--days", "0.05", "--interval", "60"]) == 0
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1])
    park = park_from(sim_model, first=2)
    per_tick = via_gateway(park.devices)
    assert summary["readings"] == per_tick * summary["ticks"] and summary["ticks"] == 72
    assert "100.0%" in err
    assert (
        main(
            [
                "sim",
                "run",
                "--model",
                str(path),
                "--enterprise",
                "e001",
                "--interval",
                "1",
                "--duration",
                "2.5",
                "--json",
            ]
        )
        == 0
    )
    run = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert run["ticks"] >= 2 and run["readings"] > 0
    assert (
        main(
            [
                "sim",
                "run",
                "--model",
                str(path),
                "--interval",
                "0.5",
                "--duration",
                "4",
                "--faults",
                "all,offline=2000,offline_s=1,malformed=0.5",
                "--json",
            ]
        )
        == 0
    )
    faulty = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert faulty["faults"].get("offline", 0) > 0 and faulty["malformed"] > 0
    assert main(["sim", "run", "--model", str(path), "--enterprise", "e999"]) == 2
    assert "e999" in capsys.readouterr().err


@pytest.mark.slow
def test_outages_fire_the_will_and_the_backlog_follows(settings: Any, sim_model: dict[str, Any]) -> None:
    from device_sim.faults import FaultConfig

    park = park_from(sim_model, first=2)
    collector = Collector(settings, park.code)
    try:
        with Publisher(park.gateways, url=settings.mqtt_url) as pub:
            pub.connect()
            t0 = int(time.time()) - 6 * 3600
            summary = backfill(
                park,
                pub,
                start_s=t0,
                end_s=t0 + 4 * 3600,
                interval_s=60,
                ticks_per_round=1,
                faults=FaultConfig(offline=3, offline_s=600),
            )
        assert summary.faults["offline"] > 0
        telemetry = lambda got: {(t, p) for t, p, _ in got if t.endswith("/telemetry")}  # noqa: E731
        # QoS 1: what was in flight when a gateway dropped is sent again after it reconnects, so
        # wait for every distinct message, not for as many messages (resends count twice).
        assert collector.wait(lambda got: len(telemetry(got)) >= summary.messages, 30)
        distinct = telemetry(collector.got)
        assert len(distinct) == summary.messages
        received = sum(len(decode(Topic.parse(t, settings.topic_root), p, 0)) for t, p in distinct)
        assert received == summary.readings == via_gateway(park.devices) * summary.ticks
        offline = [t for t, p, _ in collector.got if t.endswith("/status") and p == b"offline"]
        assert len(offline) == summary.faults["offline"]
    finally:
        collector.close()
