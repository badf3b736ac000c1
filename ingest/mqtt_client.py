"""paho's client with buffered socket reads and batched acknowledgements, for a consumer of many
small messages.

paho reads each packet with at least three ``recv`` calls (command byte, length, body) and goes
back to ``select`` after every packet; for 1-reading messages that system-call and loop overhead
was the largest part of an ingest worker's CPU. Here one ``recv`` of up to 64 KiB fills a buffer,
paho's per-packet reads are served from it, and every packet in it is handled before the next
``select``. The acknowledgements of a committed batch go out as one write instead of one queued
packet, wake-up and ``send`` each. Written against paho-mqtt 2.2 (pinned in requirements.lock):
it overrides the client's socket read and close and queues packets, all of which are internal.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.matcher import MQTTMatcher

READ_SIZE = 64 * 1024


class _Filters(MQTTMatcher):
    """Per-topic callbacks; with none registered (ours) a message skips the topic-tree walk."""

    def iter_match(self, topic: str) -> Any:
        return super().iter_match(topic) if self._root._children else iter(())


class IngestClient(mqtt.Client):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_buffer = b""
        self._read_pos = 0
        self._on_message_filtered = _Filters()

    def _buffered(self) -> bool:
        return self._read_pos < len(self._read_buffer)

    def _sock_recv(self, bufsize: int) -> bytes:
        if not self._buffered():
            # Raises BlockingIOError when the socket is empty, as paho expects; b"" at EOF.
            self._read_buffer = super()._sock_recv(max(bufsize, READ_SIZE))
            self._read_pos = 0
        start = self._read_pos
        self._read_pos = start + bufsize
        return self._read_buffer[start : self._read_pos]

    def _sock_close(self) -> None:
        # Bytes of a closed connection must never be read as the start of the next one.
        self._read_buffer, self._read_pos = b"", 0
        super()._sock_close()

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        # select() only sees the socket: handle everything already buffered before going back.
        rc = super().loop_read(max_packets)
        while rc == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None and self._buffered():
            rc = super().loop_read(max_packets)
        return rc

    def ack_all(self, mids: Iterable[int]) -> None:
        """Acknowledge QoS 1 messages (manual acknowledgement): PUBACKs with reason Success,
        which MQTT 5 lets omit the reason code, as paho's own ``ack`` sends them."""
        packets = b"".join(_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids)
        if packets:
            self._packet_queue(mqtt.PUBACK, packets, 0, 0)


_PUBACK = struct.Struct("!BBH")
