"""Where refused packets go so that an operator sees them: log, Prometheus, rejected_messages.

The rows use ingest's own rejected_messages table and writer, with reason codes prefixed
``hj212.`` and the topic column naming the TCP peer, so one query shows every refused input.
Refusals are folded per peer address (:mod:`ingest.rejections`): a flood adds a bounded number
of counted rows, and a bounded number of log lines. Writing is batched off the event loop; when
the table is missing only the log and the counter record the refusal.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import psycopg
from prometheus_client import CollectorRegistry, Counter

from ingest.hj212.directory import LoggerDevice
from ingest.rejections import DEFAULT_LIMITS, LogBudget, RejectionFolder, RejectionLimits, RowWrite, peer_source

log = logging.getLogger("smartpark.hj212")
REASON_PREFIX = "hj212."
MAX_PENDING = 10_000  # beyond this a flood is counted and logged, not queued
_PASSWORD = re.compile(r"PW=[^;&]*")


def redact(text: str) -> str:
    """Excerpts of refused packets are shown to operators and enterprise users: never a password."""
    return _PASSWORD.sub("PW=***", text)


def _rejection_type() -> Any:
    from ingest.batch import Rejection

    return Rejection


class RejectionLog:
    def __init__(
        self,
        *,
        sink: Callable[[list[RowWrite]], None] | None = None,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
        limits: RejectionLimits = DEFAULT_LIMITS,
        log_per_minute: int = 5,
    ) -> None:
        self._sink = sink
        self._clock = clock
        self._folder = RejectionFolder(limits)
        self._log_budget = LogBudget(log_per_minute, limits.max_sources)
        self._pending: list[tuple[str, Any]] = []
        self.counter = Counter(
            "smartpark_hj212_rejected", "HJ 212 input refused, by reason", ["reason"], registry=registry
        )
        self.dropped = 0

    def record(
        self,
        reason: str,
        detail: str,
        *,
        peer: str,
        mn: str | None = None,
        device: LoggerDevice | None = None,
        metric: str | None = None,
        excerpt: str = "",
    ) -> None:
        self.counter.labels(reason).inc()
        detail, excerpt = redact(detail), redact(excerpt)
        source = peer_source(peer)
        if self._log_budget.allow(source, self._clock()):
            log.warning("hj212 %s from %s MN=%s: %s", reason, peer, mn, detail)
            if self._log_budget.exhausted(source):
                log.warning("hj212: further refusals from %s this minute are counted, not logged", source)
        if self._sink is None:
            return
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self._pending.append(
            (
                source,
                _rejection_type()(
                    received_ms=int(self._clock() * 1000),
                    topic=f"hj212://{peer}" + (f"/{mn}" if mn else ""),
                    reason_code=REASON_PREFIX + reason,
                    reason=detail[:500],
                    excerpt=excerpt[:200],
                    device=device.device if device else None,
                    metric=metric,
                    device_id=device.device_id if device else None,
                    enterprise_id=device.enterprise_id if device else None,
                    park_id=device.park_id if device else None,
                ),
            )
        )

    async def flush(self) -> int:
        """Write what was refused since the last flush; returns how many refusals that was."""
        batch, self._pending = self._pending, []
        if batch and self._sink is not None:
            writes = self._folder.fold(batch)
            try:
                await asyncio.to_thread(self._sink, writes)
            except psycopg.Error:
                log.exception("could not record %d HJ 212 rejections", len(batch))
        return len(batch)

    async def run(self, interval_s: float = 0.5) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await self.flush()


def database_sink(url: str) -> Callable[[list[RowWrite]], None] | None:
    """A writer into rejected_messages, or None when that table does not exist (yet)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass('rejected_messages') IS NOT NULL").fetchone()
    if not row or not row[0]:
        log.warning("table rejected_messages not found: HJ 212 rejections go to the log and metrics only")
        return None
    from ingest.rejections import write_rows

    def write(writes: list[RowWrite]) -> None:
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            write_rows(cur, writes=writes)

    return write
