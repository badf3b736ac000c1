"""The buffered paho client against the real broker: every packet arrives whole, in order,
whether many share one read or one spans many."""

from __future__ import annotations

import random
import secrets
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.subscribeoptions import SubscribeOptions

from ingest.mqtt_client import READ_SIZE, IngestClient
from smartpark import mqtt as sp_mqtt
from tests.support.ingest import disconnect, platform_client, publish_accepted
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_small_and_large_messages_arrive_whole_and_in_order(settings: Any) -> None:
    root = f"smartpark/v1/buf{secrets.token_hex(3)}/e1"
    rng = random.Random(7)
    sizes = [rng.choice([1, 5, 60, 300, 2000]) for _ in range(3000)]
    sizes[100:100] = [READ_SIZE - 3, READ_SIZE, 3 * READ_SIZE + 11]  # one packet over several reads
    sent = [(f"{root}/d{i % 7}/telemetry", rng.randbytes(n)) for i, n in enumerate(sizes)]

    received: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    client = sp_mqtt.make_client(
        f"test-buffered-{secrets.token_hex(4)}",
        url=settings.mqtt_url,
        clean_start=True,
        session_expiry=0,
        client_class=IngestClient,
    )

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


def test_acknowledged_messages_are_not_redelivered_the_others_are(settings: Any) -> None:
    topic = f"smartpark/v1/ack{secrets.token_hex(3)}/e1/d1/telemetry"
    client_id = f"test-ack-{secrets.token_hex(4)}"
    publisher = platform_client()

    def session(on_message: Any) -> mqtt.Client:
        client = sp_mqtt.make_client(
            client_id,
            url=settings.mqtt_url,
            clean_start=False,
            session_expiry=60,
            manual_ack=True,
            client_class=IngestClient,
        )
        client.on_message = on_message
        sp_mqtt.connect(client)
        return client

    first: list[mqtt.MQTTMessage] = []
    client = session(lambda _c, _u, msg: first.append(msg))
    try:
        subscribed = threading.Event()
        client.on_subscribe = lambda *_a: subscribed.set()
        client.subscribe(topic, options=SubscribeOptions(qos=1))
        assert subscribed.wait(10)
        publish_accepted(publisher, [(topic, b"%d" % i) for i in range(10)])
        wait_until(lambda: len(first) == 10, 10, "the first delivery")
        assert isinstance(client, IngestClient)
        client.ack_all(m.mid for m in first[:6])
        disconnect(client)  # a clean DISCONNECT: the acknowledgements queued before it are sent

        again: list[bytes] = []
        client = session(lambda _c, _u, msg: again.append(msg.payload))
        wait_until(lambda: len(again) >= 4, 10, "the unacknowledged messages to come back")
        time.sleep(0.5)  # nothing else may follow
        assert again == [b"6", b"7", b"8", b"9"]
    finally:
        disconnect(publisher)
        disconnect(client)
