"""Fixtures of the HJ 212 integration tests: a park of data loggers and a running gateway."""

from __future__ import annotations

import asyncio
import copy
import json
import queue
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from ingest.hj212.directory import Directory, from_database
from ingest.hj212.publisher import MqttPublisher
from ingest.hj212.rejections import RejectionLog, database_sink
from ingest.hj212.server import Hj212Server
from smartpark.settings import Settings
from tests.support.factories import small_model, unique_code

LOGGERS = 50
# as real loggers do: wait, then send again (on a loaded machine a broker restart by another
# test run can swallow a reply); storage and the assertions tolerate the repeat
PATIENT: dict[str, Any] = {"timeout": 40.0, "retries": 2}


@pytest.fixture
def hj212_park(db: psycopg.Connection[Any]) -> dict[str, Any]:
    """The small park plus LOGGERS stack CEMS in e1 and its wastewater device in e2 on HJ 212.

    No broker accounts: everything here publishes with the platform account, as the gateway does.
    """
    from smartpark.registry import load_model

    model = copy.deepcopy(small_model(unique_code()))
    park = model["parks"][0]
    tag = park["code"]
    e1, e2 = park["enterprises"]
    cems = [
        {
            "code": f"cems{i:03d}",
            "kind": "stack_cems",
            "zone": "B1",
            "attributes": {"hj212_mn": f"{tag}C{i:03d}", "hj212_pw": secrets.token_hex(3), "o2_ref_pct": 6},
        }
        for i in range(LOGGERS)
    ]
    e1["gateways"][0]["devices"] += cems
    for dev in e2["gateways"][0]["devices"]:
        if dev["code"] == "ww1":
            dev["attributes"] = {
                "hj212_mn": f"{tag}W001",
                "hj212_pw": "654321",
                "hj212_cn": ["2061"],
            }  # an hourly-only logger
    with db.transaction():
        load_model(db, model)
    return model


def hj212_devices(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        d
        for e in model["parks"][0]["enterprises"]
        for g in e["gateways"]
        for d in g["devices"]
        if "hj212_mn" in d.get("attributes", {})
    ]


class Subscriber:
    """Everything published below the park's topics, from the platform account."""

    def __init__(self, settings: Settings, park: str) -> None:
        from smartpark.mqtt import connect, make_client

        self.messages: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.client = make_client(
            f"hj212-test-{secrets.token_hex(4)}", url=settings.mqtt_url, clean_start=True, session_expiry=0
        )
        subscribed = threading.Event()
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, json.loads(m.payload)))
        self.client.on_subscribe = lambda *a: subscribed.set()
        connect(self.client)
        self.client.subscribe(f"{settings.topic_root}/{park}/#", qos=1)
        assert subscribed.wait(10), "no SUBACK"

    def take(self, n: int, timeout: float = 60.0) -> list[tuple[str, Any]]:
        return [self.messages.get(timeout=timeout) for _ in range(n)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def subscriber(settings: Settings, hj212_park: dict[str, Any]) -> Iterator[Subscriber]:
    sub = Subscriber(settings, hj212_park["parks"][0]["code"])
    yield sub
    sub.close()


@dataclass
class Gateway:
    server: Hj212Server
    port: int
    registry: CollectorRegistry
    rejections: RejectionLog
    client: Any  # the publisher's paho client

    def rejected(self, reason: str) -> float:
        return self.registry.get_sample_value("smartpark_hj212_rejected_total", {"reason": reason}) or 0.0


@asynccontextmanager
async def running_gateway(settings: Settings, **kw: Any) -> AsyncIterator[Gateway]:
    """The gateway on an ephemeral port, wired to the real database and broker."""
    from smartpark.mqtt import connect, make_client, mqtt_url
    from smartpark.origin import origin_key

    url = settings.database_url or ""
    client = make_client(
        f"hj212-gw-test-{secrets.token_hex(4)}", url=settings.mqtt_url, clean_start=True, session_expiry=0
    )
    await asyncio.to_thread(connect, client)
    registry = CollectorRegistry()
    rejections = RejectionLog(sink=database_sink(url), registry=registry)
    server = Hj212Server(
        directory=Directory(from_database(url)),
        # the shared test broker can be slow
        publisher=MqttPublisher(client, timeout_s=30.0, origin_key=origin_key(mqtt_url(settings))),
        rejections=rejections,
        topic_root=settings.topic_root,
        registry=registry,
        **kw,
    )
    tcp = await server.start("127.0.0.1", 0)
    port = tcp.sockets[0].getsockname()[1]
    try:
        yield Gateway(server, port, registry, rejections, client)
    finally:
        tcp.close()
        await server.close_connections()
        await tcp.wait_closed()
        await rejections.flush()
        client.disconnect()
        client.loop_stop()
