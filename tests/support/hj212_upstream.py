"""An upstream platform for the forwarding tests, built on the protocol package alone.

It listens in a thread of its own, records every packet it is sent (the order, and how often
each (MN, QN) came), replies 9014 to packets that ask for it, and misbehaves on demand: drops
replies, delays them, refuses connections, cuts open ones, and sends requests of its own.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from hj212.encode import data_reply
from hj212.frame import FrameScanner, Junk
from hj212.packet import Packet, decode_frame


@dataclass
class Behaviour:
    drop: Callable[[Packet, int], bool] = lambda packet, nth: False  # nth: how often this (MN, QN) came
    delay_s: float = 0.0


@dataclass
class Upstream:
    port: int
    behaviour: Behaviour = field(default_factory=Behaviour)
    packets: list[Packet] = field(default_factory=list)
    other: list[bytes] = field(default_factory=list)  # anything that is not a data packet
    seen: Counter[tuple[str, str | None]] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._lock = threading.Lock()
        self._thread.start()

    def _call(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def accept(self) -> None:
        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

        self._call(start())

    def refuse(self) -> None:
        """Stop listening and cut every open connection: the forwarder sees a platform that is down."""

        async def stop() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
                self._server = None
            for w in list(self._writers):
                w.transport.abort()

        self._call(stop())

    def send(self, frame: bytes) -> None:
        """Write a frame (a request) to every open connection."""

        async def write() -> None:
            for w in list(self._writers):
                w.write(frame)
                await w.drain()

        self._call(write())

    def close(self) -> None:
        self.refuse()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def data(self) -> list[Packet]:
        with self._lock:
            return list(self.packets)

    def connections(self) -> int:
        return len(self._writers)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        scanner = FrameScanner()
        try:
            while data := await reader.read(65536):
                for piece in scanner.feed(data):
                    if isinstance(piece, Junk):
                        continue
                    packet = decode_frame(piece)
                    if not packet.cn.startswith("2"):
                        with self._lock:
                            self.other.append(piece)
                        continue
                    with self._lock:
                        self.packets.append(packet)
                        self.seen[(packet.mn, packet.qn)] += 1
                        nth = self.seen[(packet.mn, packet.qn)]
                    if not packet.wants_reply or packet.qn is None or self.behaviour.drop(packet, nth):
                        continue
                    reply = data_reply(qn=packet.qn, pw=packet.pw, mn=packet.mn, version=packet.version)
                    if self.behaviour.delay_s:
                        self._loop.call_later(self.behaviour.delay_s, _write, writer, reply)
                    else:
                        writer.write(reply)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    if not writer.is_closing():
        writer.write(data)
