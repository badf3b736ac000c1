"""Republishing decoded readings to the broker, waiting for the broker's PUBACK.

The data logger gets its reply only once the broker holds the readings (QoS 1), so a reply means
the readings will reach ingest; without a reply the logger sends again, and idempotent storage
makes the repeat harmless.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from smartpark.origin import ORIGIN_PROPERTY, sign


class PublishError(ConnectionError):
    pass


class Publisher(Protocol):
    async def publish(self, topic: str, payload: bytes) -> None: ...


class MqttPublisher:
    """Bridges paho's network thread to asyncio: one future per message id."""

    def __init__(self, client: mqtt.Client, *, timeout_s: float = 10.0, origin_key: bytes | None = None) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._origin_key = origin_key
        client.on_publish = self._on_publish

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        # paho's thread: hand over to the loop, which registered the future before it could run
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._acked, mid, reason)

    def _acked(self, mid: int, reason: Any) -> None:
        fut = self._waiting.pop(mid, None)
        if fut is None or fut.done():
            return
        if getattr(reason, "is_failure", False):
            fut.set_exception(PublishError(f"broker refused message {mid}: {reason}"))
        else:
            fut.set_result(None)

    def _origin(self, topic: str, payload: bytes) -> Properties | None:
        """The platform's mark: the ingester takes an HJ 212 device's readings only with it."""
        if self._origin_key is None:
            return None
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = (ORIGIN_PROPERTY, sign(self._origin_key, topic, payload))
        return props

    async def publish(self, topic: str, payload: bytes) -> None:
        self._loop = asyncio.get_running_loop()
        if not self._client.is_connected():
            # paho would queue without bound while the broker is away; the logger keeps the data
            # and sends it again, so refusing here bounds memory and loses nothing
            raise PublishError("broker not connected")
        fut: asyncio.Future[None] = self._loop.create_future()
        info = self._client.publish(topic, payload, qos=1, properties=self._origin(topic, payload))
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):  # NO_CONN: dropped mid-call, queued
            raise PublishError(f"publish to {topic!r} failed: {mqtt.error_string(info.rc)}")
        self._waiting[info.mid] = fut
        try:
            await asyncio.wait_for(fut, self._timeout_s)
        except TimeoutError:
            self._waiting.pop(info.mid, None)
            raise PublishError(f"no PUBACK for {topic!r} within {self._timeout_s} s") from None
