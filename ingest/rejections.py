"""rejected_messages, bounded: repeats fold into counted rows, and each source has a row budget.

Anyone who can reach the HJ 212 port, and any gateway, can send refusable input as fast as the
network allows; one row (and a log line) per refusal let a flood fill the disk. So, per minute
of receipt:

- refusals with the same source, reason, device and metric are one row: ``count`` says how
  many, ``received_at`` is the first and ``last_seen`` the last;
- a source gets at most ``rows_per_source`` such rows; what it sends beyond them is counted on
  one more row of its own, reason ``rejections_capped``;
- at most ``max_sources`` sources are kept apart; beyond them every source shares one budget.

So a minute adds at most ``(rows_per_source + 1) × (max_sources + 1)`` rows per process, and
the counts add up to the number of refusals. The source is what the sender cannot vary at will:
for MQTT the topic's enterprise (the broker lets a gateway publish below its own enterprise
only), for HJ 212 the peer's address without its port. This module owns the writes to the
table; ingest's batches and the HJ 212 server both go through it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import psycopg

from ingest.batch import Rejection
from smartpark.settings import IngestSettings

REJECTIONS_CAPPED = "rejections_capped"
OTHER_SOURCES = "*"
COLUMNS = (
    "received_at",
    "last_seen",
    "count",
    "source",
    "row_key",
    "topic",
    "reason_code",
    "reason",
    "device",
    "metric",
    "device_id",
    "enterprise_id",
    "park_id",
    "excerpt",
)
_MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class RejectionLimits:
    rows_per_source: int = 20  # rows one source may add per minute (then one counting row)
    max_sources: int = 1000  # sources kept apart per minute (then they share one budget)

    def __post_init__(self) -> None:
        if not 1 <= self.rows_per_source <= 10_000:
            raise ValueError(f"rows per source per minute {self.rows_per_source} outside 1..10000")
        if not 1 <= self.max_sources <= 1_000_000:
            raise ValueError(f"sources per minute {self.max_sources} outside 1..1000000")


DEFAULT_LIMITS = RejectionLimits()


def rejection_limits(settings: IngestSettings) -> RejectionLimits:
    """The limits configured in the settings (``SMARTPARK_REJECTIONS_*``)."""
    return RejectionLimits(settings.rejections_rows_per_source_minute, settings.rejections_sources_per_minute)


@dataclass(frozen=True, slots=True)
class RowWrite:
    """Add ``count`` refusals to the row ``row_key`` (first received at ``first_ms``), creating it
    from ``sample`` when it does not exist (yet, or any more after a rolled-back transaction)."""

    row_key: int
    first_ms: int
    last_ms: int
    count: int
    source: str
    sample: Rejection


@dataclass(slots=True)
class _Row:
    key: int
    first_ms: int


@dataclass(slots=True)
class _Minute:
    rows: dict[tuple[str, str, str | None, str | None], _Row] = field(default_factory=dict)
    per_source: dict[str, int] = field(default_factory=dict)


def mqtt_source(topic: str) -> str:
    """``root/park/enterprise`` of a topic: as far as a gateway's broker account reaches."""
    return "/".join(topic.split("/")[:4])


def peer_source(peer: str) -> str:
    """``hj212://address`` without the port: a flood opens many connections from one address."""
    host, _, port = peer.rpartition(":")
    return f"hj212://{host if host and port.isdigit() else peer}"


class LogBudget:
    """Log lines about refusals: at most ``per_minute`` per source per minute, and as many
    sources as the folder keeps apart; the rest are counted in rejected_messages only."""

    def __init__(self, per_minute: int = 5, max_sources: int = 1000) -> None:
        self.per_minute = per_minute
        self.max_sources = max_sources
        self._minute = -1
        self._counts: dict[str, int] = {}

    def allow(self, source: str, now_s: float) -> bool:
        minute = int(now_s // 60)
        if minute != self._minute:
            self._minute, self._counts = minute, {}
        if source not in self._counts and len(self._counts) >= self.max_sources:
            source = OTHER_SOURCES
        n = self._counts[source] = self._counts.get(source, 0) + 1
        return n <= self.per_minute

    def exhausted(self, source: str) -> bool:
        """True exactly once per minute and source: when its last allowed line was written."""
        return self._counts.get(source) == self.per_minute


class RejectionFolder:
    """Folds refusals into row writes; keeps the current and the previous minute in memory."""

    def __init__(self, limits: RejectionLimits = RejectionLimits()) -> None:
        self.limits = limits
        self._minutes: dict[int, _Minute] = {}

    def fold(self, rejections: Iterable[tuple[str, Rejection]]) -> list[RowWrite]:
        """``(source, rejection)`` pairs -> one write per row they touch."""
        writes: dict[int, RowWrite] = {}
        for source, r in rejections:
            minute_no = r.received_ms // _MINUTE_MS
            minute = self._minute(minute_no)
            key = self._key(minute, source, r)
            row = minute.rows.get(key)
            if row is None:
                row = minute.rows[key] = _Row(secrets.randbits(62), r.received_ms)
                if key[1] != REJECTIONS_CAPPED:
                    minute.per_source[key[0]] = minute.per_source.get(key[0], 0) + 1
            sample = r if key[1] != REJECTIONS_CAPPED else _capped(r, key[0], self.limits.rows_per_source)
            done = writes.get(row.key)
            if done is None:
                writes[row.key] = RowWrite(row.key, row.first_ms, r.received_ms, 1, key[0], sample)
            else:
                writes[row.key] = replace(done, count=done.count + 1, last_ms=max(done.last_ms, r.received_ms))
        return list(writes.values())

    def _minute(self, minute_no: int) -> _Minute:
        minute = self._minutes.get(minute_no)
        if minute is None:
            minute = self._minutes[minute_no] = _Minute()
            for old in [m for m in self._minutes if m < minute_no - 1]:
                del self._minutes[old]
        return minute

    def _key(self, minute: _Minute, source: str, r: Rejection) -> tuple[str, str, str | None, str | None]:
        if source not in minute.per_source and len(minute.per_source) >= self.limits.max_sources:
            source = OTHER_SOURCES
        key = (source, r.reason_code, r.device, r.metric)
        if key in minute.rows:
            return key
        if minute.per_source.get(source, 0) >= self.limits.rows_per_source:
            return (source, REJECTIONS_CAPPED, None, None)
        return key


def _capped(r: Rejection, source: str, budget: int) -> Rejection:
    return Rejection(
        received_ms=r.received_ms,
        topic=r.topic,
        reason_code=REJECTIONS_CAPPED,
        reason=f"refusals from {source} beyond {budget} rows in this minute, counted here (the first: {r.reason})"[
            :2000
        ],
        excerpt="",
        park_id=r.park_id,
        enterprise_id=r.enterprise_id,
    )


def _ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


_ADD_SQL = (
    "UPDATE rejected_messages r SET count = r.count + u.n, last_seen = greatest(r.last_seen, u.last)"
    " FROM unnest(%s::timestamptz[], %s::bigint[], %s::int[], %s::timestamptz[]) AS u(first, key, n, last)"
    " WHERE r.received_at = u.first AND r.row_key = u.key RETURNING r.row_key"
)


def write_rows(cur: psycopg.Cursor[Any], *, writes: Sequence[RowWrite]) -> None:
    """Add the counts to existing rows and create the rest, in the caller's transaction."""
    if not writes:
        return
    cur.execute(
        _ADD_SQL,
        (
            [_ts(w.first_ms) for w in writes],
            [w.row_key for w in writes],
            [w.count for w in writes],
            [_ts(w.last_ms) for w in writes],
        ),
    )
    found = {row[0] for row in cur.fetchall()}
    with cur.copy(f"COPY rejected_messages ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for w in writes:
            if w.row_key in found:
                continue
            r = w.sample
            copy.write_row(
                (
                    _ts(w.first_ms),
                    _ts(w.last_ms),
                    w.count,
                    w.source,
                    w.row_key,
                    r.topic,
                    r.reason_code,
                    r.reason,
                    r.device,
                    r.metric,
                    r.device_id,
                    r.enterprise_id,
                    r.park_id,
                    r.excerpt,
                )
            )


def record_rejections(
    cur: psycopg.Cursor[Any], *, rejections: Sequence[Rejection], folder: RejectionFolder | None = None
) -> None:
    """Fold MQTT refusals by the topic's enterprise and write them (a private folder: no memory
    across calls, for one-off writers)."""
    folder = folder or RejectionFolder()
    write_rows(cur, writes=folder.fold((mqtt_source(r.topic), r) for r in rejections))
