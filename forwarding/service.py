"""`smartpark hj212 forward`: one link per enabled target, their status in the database and metrics.

Targets are read at start and every ``reload_s`` seconds (a changed target's link is restarted);
each link has its own database connection, re-opened after a failure. The status of every target
is written to hj212_forward_status and exported as Prometheus gauges every ``report_s`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, start_http_server

from forwarding import store
from forwarding.link import Link
from forwarding.requests import RequestHandler
from smartpark.db import database_url
from smartpark.settings import ForwardSettings, Settings

log = logging.getLogger("smartpark.hj212.forward")
Connect = Callable[[], Awaitable[psycopg.AsyncConnection[Any]]]


class DbOutbox:
    """A link's outbox through its own connection, opened again after a failure."""

    def __init__(self, connect: Connect) -> None:
        self._connect = connect
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def _c(self) -> psycopg.AsyncConnection[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = await self._connect()
        return self._conn

    async def pending(
        self, *, target_id: int, after: int, limit: int, delivered: list[int] | None = None
    ) -> list[store.Pending]:
        return await store.pending(
            await self._c(), target_id=target_id, after=after, limit=limit, delivered=delivered or ()
        )

    async def delivered(self, *, outbox_ids: list[int]) -> None:
        await store.delivered(await self._c(), outbox_ids=outbox_ids)

    async def queue_history(self, *, target_id: int, mn: str, cn: str, begin: datetime, end: datetime) -> int:
        return await store.queue_history(await self._c(), target_id=target_id, mn=mn, cn=cn, begin=begin, end=end)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()


class _Gauges:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        g = lambda name, doc: Gauge(f"smartpark_hj212_forward_{name}", doc, ["target"], registry=registry)  # noqa: E731
        self.connected = g("connected", "1 while the target's connection is open")
        self.backlog = g("backlog", "packets queued for the target")
        self.oldest = g("oldest_unsent_seconds", "age of the oldest packet queued for the target")
        self.last_reply = g("last_reply_timestamp_seconds", "time of the target's last reply")
        self.sent = g("sent", "packets sent since the forwarder started (resends included)")
        self.delivered = g("delivered", "packets delivered since the forwarder started")
        self.resent = g("resent", "packets sent again after OverTime without a reply")


class Forwarder:
    def __init__(
        self, connect: Connect, *, registry: CollectorRegistry | None = None, reload_s: float = 30.0,
        report_s: float = 2.0,
    ) -> None:  # fmt: skip
        self.connect = connect
        self.reload_s = reload_s
        self.report_s = report_s
        self.gauges = _Gauges(registry)
        self.links: dict[int, tuple[Link, asyncio.Task[None], DbOutbox]] = {}
        self.stopped: list[store.StatusRow] = []  # last word of links stopped since the last report

    async def run(self, stop: asyncio.Event) -> None:
        conn = await self.connect()
        listening = asyncio.create_task(self._listen())
        try:
            next_reload = 0.0
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                if loop.time() >= next_reload:
                    await self._reload(conn)
                    next_reload = loop.time() + self.reload_s
                await self._report(conn)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.report_s)
        finally:
            listening.cancel()
            for target_id in list(self.links):
                await self._stop_link(target_id)
            await self._report(conn)
            await conn.close()

    async def _listen(self) -> None:
        """Wake every link when the HJ 212 server queued packets (its notification); on a lost
        connection the links' poll carries on alone until the listener is back."""
        while True:
            try:
                async with await self.connect() as conn:
                    await conn.execute(f"LISTEN {store.QUEUED_CHANNEL}")
                    async for _ in conn.notifies():
                        for link, _, _ in self.links.values():
                            link.wake()
            except (psycopg.Error, OSError) as exc:
                log.info("hj212 forward: not listening for new packets (%s); polling", exc)
            await asyncio.sleep(5)

    async def _reload(self, conn: psycopg.AsyncConnection[Any]) -> None:
        wanted = {t.target_id: t for t in await store.targets(conn)}
        for target_id, (link, _, _) in list(self.links.items()):
            if wanted.get(target_id) != link.target:
                await self._stop_link(target_id)
        for target_id, target in wanted.items():
            if target_id not in self.links:
                outbox = DbOutbox(self.connect)
                link = Link(target, outbox)
                link.on_request = RequestHandler(link, outbox).handle
                self.links[target_id] = (link, asyncio.create_task(link.run()), outbox)
                log.info("hj212 forward: target %s (%s:%d) started", target.name, target.host, target.port)

    async def _stop_link(self, target_id: int) -> None:
        link, task, outbox = self.links.pop(target_id)
        link.stop()
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            task.cancel()
        await outbox.close()
        self.stopped.append(_row(target_id, link))

    async def _report(self, conn: psycopg.AsyncConnection[Any]) -> None:
        rows = [*self.stopped, *(_row(tid, link) for tid, (link, _, _) in self.links.items())]
        if rows:
            await store.save_status(conn, rows=rows)
        self.stopped = []
        queued = await store.backlog(conn)
        now = datetime.now(UTC)
        for tid, (link, _, _) in self.links.items():
            name, s = link.target.name, link.status
            n, oldest = queued.get(tid, (0, None))
            self.gauges.connected.labels(name).set(1 if s.connected else 0)
            self.gauges.backlog.labels(name).set(n)
            self.gauges.oldest.labels(name).set((now - oldest).total_seconds() if oldest else 0)
            self.gauges.last_reply.labels(name).set(s.last_reply.timestamp() if s.last_reply else 0)
            self.gauges.sent.labels(name).set(s.sent)
            self.gauges.delivered.labels(name).set(s.delivered)
            self.gauges.resent.labels(name).set(s.resent)


def _row(target_id: int, link: Link) -> store.StatusRow:
    s = link.status
    return store.StatusRow(
        target_id, s.connected, s.last_connect, s.last_reply, s.last_error, s.sent, s.delivered, s.resent
    )


async def forward(url: str, settings: ForwardSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    forwarder = Forwarder(
        lambda: psycopg.AsyncConnection.connect(url, autocommit=True),
        registry=REGISTRY,
        reload_s=settings.reload_s,
        report_s=settings.report_s,
    )
    await forwarder.run(stop)


def run(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    url = database_url(settings)
    if settings.metrics_port:
        start_http_server(settings.metrics_port)
    asyncio.run(forward(url, settings.forward))
    return 0
