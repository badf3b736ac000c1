"""The HJ 212 server's side of forwarding: whole data packets into the packet log and the outbox.

The server awaits :meth:`PacketRecorder.record` before it replies to the logger, so a packet the
logger was told was received is stored and queued; if the database fails, the logger gets no
reply and sends again (a repeat is stored once). Packets arriving together are written in one
statement by one connection (autocommit: the statement is its own transaction, one round trip),
one at a time, so the outbox's order is arrival order. After a write that queued packets the
forwarder is notified (``store.announce``), so it sends them without waiting for its poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import tzinfo
from typing import Any

import psycopg

from forwarding import store
from forwarding.wire import render_cp
from hj212.packet import Packet

log = logging.getLogger("smartpark.hj212.forward")
Connect = Callable[[], Awaitable[psycopg.AsyncConnection[Any]]]


class RecordFailed(Exception):
    pass


def recorded(packet: Packet, *, device_id: int, tz: tzinfo, recovered: bool = False) -> store.Recorded:
    if packet.data_time is None:
        raise ValueError(f"CN={packet.cn} packet from MN {packet.mn!r} has no DataTime")
    return store.Recorded(
        device_id=device_id,
        st=packet.st,
        cn=packet.cn,
        qn=packet.qn or "",
        data_time=packet.data_time.replace(tzinfo=tz),
        cp=render_cp(packet),
        recovered=recovered,
    )


class PacketRecorder:
    def __init__(self, connect: Connect, *, max_batch: int = 500) -> None:
        self._connect = connect
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[store.Recorded, asyncio.Future[None]]] = asyncio.Queue()
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def record(self, packet: Packet, *, device_id: int, tz: tzinfo, recovered: bool = False) -> None:
        """Returns once the packet is committed; raises :class:`RecordFailed` otherwise."""
        if packet.cn not in store.DATA_CNS:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((recorded(packet, device_id=device_id, tz=tz, recovered=recovered), done))
        await done

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                queued = await self._write([r for r, _ in batch])
            except (psycopg.Error, OSError) as exc:
                log.warning("hj212 packet log: %d packets not recorded: %s", len(batch), exc)
                await self._drop_connection()
                for _, done in batch:
                    if not done.done():
                        done.set_exception(RecordFailed(str(exc)))
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
            if queued:  # after the replies are on their way: the forwarder waits, the logger does not
                await self._announce()

    async def _write(self, rows: list[store.Recorded]) -> bool:
        """Store and queue (one statement, so atomic on its own: one round trip); True when
        something was queued for a target."""
        if self._conn is None or self._conn.closed:
            self._conn = await self._connect()
        return await store.record(self._conn, packets=rows) > 0

    async def _announce(self) -> None:
        try:
            if self._conn is not None:
                await store.announce(self._conn)
        except (psycopg.Error, OSError) as exc:  # the forwarder's poll finds the packets anyway
            log.info("hj212 packet log: no notification: %s", exc)

    async def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                await self._conn.close()
            self._conn = None

    async def close(self) -> None:
        await self._drop_connection()
