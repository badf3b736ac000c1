"""The buffered paho client against the real broker: every packet arrives whole, in order,
whether many share one read or one spans many."""

from __future__ import annotations

import random
import secrets
import threading
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.mqtt_client import READ_SIZE, BufferedClient
from smartpark import mqtt as sp_mqtt
from tests.ingest.support import disconnect, platform_client, publish_accepted, wait_until

pytestmark = pytest.mark.integration


def test_small_and_large_messages_arrive_whole_and_in_order(settings: Any) -> None:
    root = f"smartpark/v1/buf{secrets.token_hex(3)}/e1"
    rng = random.Random(7)
    sizes = [rng.choice([1, 5, 60, 300, 2000]) for _ in range(3000)]
    sizes[100:100] = [READ_SIZE - 3, READ_SIZE, 3 * READ_SIZE + 11]  # one packet over several reads
    sent = [(f"{root}/d{i % 7}/telemetry", rng.randbytes(n)) for i, n in enumerate(sizes)]

    received: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    client = sp_mqtt.make_client(f"test-buffered-{secrets.token_hex(4)}", clean_start=True,
                                 session_expiry=0, client_class=BufferedClient)

    def on_message(_c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        received.append((msg.topic, msg.payload))

    client.on_message = on_message
    client.on_subscribe = lambda *_a: subscribed.set()
    sp_mqtt.connect(client)
    publisher = platform_client()
    try:
        client.subscribe(f"{root}/+/telemetry", options=SubscribeOptions(qos=1))
        assert subscribed.wait(10)
        publish_accepted(publisher, sent)
        wait_until(lambda: len(received) >= len(sent), 30, "every message to arrive")
    finally:
        disconnect(publisher)
        disconnect(client)
    assert received == sent
