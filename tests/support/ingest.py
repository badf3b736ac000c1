"""Helpers of the ingest integration tests: ingest processes, gateway publishers, waiting."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import psycopg

from benchmarks.harness import ingest_command
from ingest.cli import die_with_parent
from smartpark import mqtt as sp_mqtt
from smartpark.broker_admin import gateway_client_id
from smartpark.contract import device_topic, gateway_topic
from smartpark.settings import get_settings
from tests.support.ports import free_port
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
BASE_MS = 1_700_000_000_000  # overwritten per test with "now" so readings are inside the window


class IngestProcess:
    """`smartpark ingest` as a child process with a unique group and client ids."""

    def __init__(self, park: str, *, workers: int = 1, extra: Iterable[str] = (), tag: str | None = None) -> None:
        tag = tag or secrets.token_hex(3)
        self.tag = tag
        self.metrics_port = free_port(workers)
        self.workers = workers
        self.args = ingest_command(
            park,
            workers=workers,
            group=f"g{tag}",
            client_id_prefix=f"test-ingest-{tag}",
            metrics_port=self.metrics_port,
            session_expiry_s=900,
            extra=("--batch-max-ms", "50", "--log-level", "WARNING", *extra),
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True) -> IngestProcess:
        self.proc = subprocess.Popen(self.args, cwd=ROOT, env=os.environ.copy(), preexec_fn=die_with_parent)
        if wait:
            try:
                wait_until(self.subscribed, 60, "the ingest workers to subscribe")
            except BaseException:
                self.kill()  # never leave a worker behind
                raise
        return self

    def metric(self, name: str, worker: int = 0) -> float | None:
        """A metric's value from a worker's Prometheus exporter (None while it is not up)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port + worker}/metrics", timeout=2) as resp:
                text = resp.read().decode()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(f"smartpark_ingest_{name} "):
                return float(line.split()[1])
        return None

    def subscribed(self) -> bool:
        return all(self.metric("subscribed", i) == 1.0 for i in range(self.workers))

    def kill(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def gateway_client(model: dict[str, Any], enterprise: str) -> mqtt.Client:
    """A connected client with the broker credentials of the enterprise's first gateway."""
    for ent in model["parks"][0]["enterprises"]:
        if ent["code"] == enterprise:
            gw = ent["gateways"][0]
            target = sp_mqtt.BrokerTarget.parse(sp_mqtt.mqtt_url(get_settings())).with_credentials(
                gw["username"], gw["password"]
            )
            client = sp_mqtt.make_client(
                gateway_client_id(gw["username"]), target=target, clean_start=True, session_expiry=0
            )
            sp_mqtt.connect(client)
            return client
    raise KeyError(f"no enterprise {enterprise!r}")


def platform_client() -> mqtt.Client:
    client = sp_mqtt.make_client(
        f"test-platform-{secrets.token_hex(4)}",
        url=sp_mqtt.mqtt_url(get_settings()),
        clean_start=True,
        session_expiry=0,
    )
    sp_mqtt.connect(client)
    return client


def publish_all(client: mqtt.Client, messages: Iterable[tuple[str, bytes]], timeout: float = 60) -> list[str]:
    """Publish with QoS 1 and wait for every PUBACK; the broker's reason code of each message."""
    acks: dict[int, str] = {}
    client.on_publish = lambda _c, _u, mid, reason, _p: acks.__setitem__(mid, str(reason))
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(timeout)
    return [acks.get(info.mid, "?") for info in infos]


def publish_accepted(client: mqtt.Client, messages: Iterable[tuple[str, bytes]]) -> None:
    reasons = publish_all(client, messages)
    refused = [r for r in reasons if r != "Success"]
    assert not refused, f"the broker refused {len(refused)} of {len(reasons)} messages: {refused[:3]}"


def disconnect(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def readings_message(park: str, ent: str, device: str, ts_ms: int, values: dict[str, float]) -> tuple[str, bytes]:
    return device_topic(park, ent, device), json.dumps({"ts": ts_ms, "values": values}).encode()


def gateway_message(park: str, ent: str, gateway: str, body: dict[str, Any]) -> tuple[str, bytes]:
    return gateway_topic(park, ent, gateway), json.dumps(body).encode()


def count(url: str, sql: str, params: tuple[Any, ...] = ()) -> int:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(sql, params).fetchone()
        return int(row[0]) if row else 0


def park_readings(url: str, park: str) -> int:
    return count(
        url,
        "SELECT count(*) FROM telemetry t JOIN devices d USING (device_id)"
        " JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id) WHERE p.code = %s",
        (park,),
    )


def park_rejections(url: str, park: str) -> dict[str, int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT reason_code, sum(count) FROM rejected_messages WHERE topic LIKE %s GROUP BY 1",
            (f"smartpark/v1/{park}/%",),
        ).fetchall()
    return {r[0]: int(r[1]) for r in rows}


class Stream:
    """Publishes numbered gateway messages from a thread, so a fault can be injected mid-stream."""

    def __init__(
        self,
        client: mqtt.Client,
        park: str,
        ent: str,
        gateway: str,
        devices: list[str],
        *,
        messages: int,
        per_device: int = 1,
        rate: float = 500.0,
        start_ms: int,
    ) -> None:
        self.client = client
        self.topic = gateway_topic(park, ent, gateway)
        self.devices = devices
        self.total_messages = messages
        self.per_device = per_device
        self.rate = rate
        self.start_ms = start_ms
        self.sent = 0
        self.acked = 0
        self.refused: list[str] = []
        client.on_publish = self._on_publish
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def readings(self) -> int:
        return self.total_messages * len(self.devices) * self.per_device

    def payload(self, i: int) -> bytes:
        body = {
            d: [
                {"ts": self.start_ms + i * 1000 + k, "values": {"elec.power_kw": float(i)}}
                for k in range(self.per_device)
            ]
            for d in self.devices
        }
        return json.dumps(body).encode()

    def _on_publish(self, _c: Any, _u: Any, _mid: int, reason: Any, _p: Any) -> None:
        self.acked += 1  # network thread only
        if reason.is_failure:
            self.refused.append(str(reason))

    def _run(self) -> None:
        started = time.monotonic()
        for i in range(self.total_messages):
            # While the broker is away paho keeps the message and sends it after reconnecting.
            self.client.publish(self.topic, self.payload(i), qos=1)
            self.sent = i + 1
            ahead = started + (i + 1) / self.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    def start(self) -> Stream:
        self.thread.start()
        return self

    def join(self, timeout: float = 120) -> None:
        """Until every message was acknowledged by the broker (paho resends across reconnects)."""
        self.thread.join(timeout)
        wait_until(
            lambda: self.acked >= self.total_messages, timeout, "the broker to acknowledge every published message"
        )
        assert not self.refused, f"the broker refused messages: {self.refused[:3]}"
