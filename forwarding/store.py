"""Owner of the HJ 212 packet log and the forwarding tables (migration 0710).

The HJ 212 server records each whole data packet and, in the same statement, queues it for every
target that has the device as an outlet for that command; the forwarder reads a target's queue
in order and deletes what was delivered. Callers own the connection and the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

DATA_CNS = ("2011", "2051", "2061", "2031")
# Said after packets were queued, so that the forwarder's links look at once instead of at their
# next poll (the outbox is the truth; a lost notification costs one poll interval).
QUEUED_CHANNEL = "hj212_outbox"


@dataclass(frozen=True, slots=True)
class Recorded:
    """A whole data packet to store: ``data_time`` is aware (the park's time zone applied)."""

    device_id: int
    st: str
    cn: str
    qn: str
    data_time: datetime
    cp: str
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    target_id: int
    name: str
    host: str
    port: int
    version: str = "2017"
    reply: bool = True
    over_time_s: float = 5.0  # HJ 212-2017 OverTime (CN 1000)
    re_count: int = 3  # HJ 212-2017 ReCount (CN 1000)
    max_rate: float = 500.0
    window: int = 64


@dataclass(frozen=True, slots=True)
class Pending:
    outbox_id: int
    packet_id: int
    history: bool
    st: str
    cn: str
    qn: str
    data_time: datetime
    cp: str
    mn: str | None  # None: the device is no longer an outlet of the target
    pw: str | None


_RECORD = """
WITH p AS (
    INSERT INTO hj212_packets (device_id, st, cn, qn, data_time, cp, recovered)
    SELECT * FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::text[], %s::bool[])
        AS n (device_id, st, cn, qn, data_time, cp, recovered)
    -- a recovered packet fills a gap only: whatever is stored for its time stays, once
    WHERE NOT (n.recovered AND EXISTS (
        SELECT 1 FROM hj212_packets q WHERE q.device_id = n.device_id AND q.cn = n.cn AND q.data_time = n.data_time))
    ON CONFLICT (device_id, cn, data_time, qn) DO NOTHING
    RETURNING packet_id, device_id, cn
)
INSERT INTO hj212_forward_outbox (target_id, packet_id)
SELECT o.target_id, p.packet_id
FROM p
JOIN hj212_forward_outlets o ON o.device_id = p.device_id AND p.cn = ANY (o.cns)
JOIN hj212_forward_targets t ON t.target_id = o.target_id AND t.enabled
ORDER BY p.packet_id, o.target_id
"""


def _record_params(packets: Sequence[Recorded]) -> tuple[list[Any], ...]:
    return (
        [p.device_id for p in packets],
        [p.st for p in packets],
        [p.cn for p in packets],
        [p.qn for p in packets],
        [p.data_time for p in packets],
        [p.cp for p in packets],
        [p.recovered for p in packets],
    )


async def record(conn: psycopg.AsyncConnection[Any], *, packets: Sequence[Recorded]) -> int:
    """Store packets (a repeat is kept once; a recovered packet only where nothing of its device,
    command and DataTime is stored) and queue the new ones; returns the rows queued."""
    for p in packets:
        if p.cn not in DATA_CNS:
            raise ValueError(f"CN {p.cn!r} is not a data command {DATA_CNS}")
        if p.data_time.tzinfo is None:
            raise ValueError(f"data_time {p.data_time!r} has no time zone")
    cur = await conn.execute(_RECORD, _record_params(packets))
    return cur.rowcount


async def announce(conn: psycopg.AsyncConnection[Any]) -> None:
    """Wake the forwarder: packets were queued (delivered to listeners at commit)."""
    await conn.execute(f"NOTIFY {QUEUED_CHANNEL}")


_PENDING = """
WITH gone AS (DELETE FROM hj212_forward_outbox WHERE outbox_id = ANY(%(gone)s::bigint[]))
SELECT b.outbox_id, b.packet_id, b.history, p.st, p.cn, p.qn, p.data_time, p.cp, o.mn, o.pw
FROM hj212_forward_outbox b
JOIN hj212_packets p USING (packet_id)
LEFT JOIN hj212_forward_outlets o ON o.target_id = b.target_id AND o.device_id = p.device_id
WHERE b.target_id = %(target)s AND b.outbox_id > %(after)s AND b.outbox_id <> ALL(%(gone)s::bigint[])
ORDER BY b.outbox_id
LIMIT %(limit)s
"""


async def pending(
    conn: psycopg.AsyncConnection[Any], *, target_id: int, after: int, limit: int, delivered: Sequence[int] = ()
) -> list[Pending]:
    """The next queued packets of a target after ``after``; ``delivered`` leave the outbox in
    the same statement (one round trip for the link's pass)."""
    params = {"gone": list(delivered), "target": target_id, "after": after, "limit": limit}
    cur = await conn.execute(_PENDING, params)
    return [Pending(*row) for row in await cur.fetchall()]


async def delivered(conn: psycopg.AsyncConnection[Any], *, outbox_ids: Sequence[int]) -> None:
    """Delivered (or no longer deliverable): out of the outbox."""
    await conn.execute("DELETE FROM hj212_forward_outbox WHERE outbox_id = ANY(%s)", (list(outbox_ids),))


_HISTORY = """
INSERT INTO hj212_forward_outbox (target_id, packet_id, history)
SELECT o.target_id, p.packet_id, true
FROM hj212_forward_outlets o
JOIN hj212_packets p ON p.device_id = o.device_id AND p.cn = %s
WHERE o.target_id = %s AND o.mn = %s AND p.data_time BETWEEN %s AND %s
ORDER BY p.data_time, p.packet_id
"""


async def queue_history(
    conn: psycopg.AsyncConnection[Any], *, target_id: int, mn: str, cn: str, begin: datetime, end: datetime
) -> int:
    """Queue stored packets of one outlet again (an extraction request); returns how many."""
    cur = await conn.execute(_HISTORY, (cn, target_id, mn, begin, end))
    return cur.rowcount


_TARGETS = """
SELECT target_id, name, host, port, version, reply, over_time_s, re_count, max_rate, "window"
FROM hj212_forward_targets WHERE enabled ORDER BY target_id
"""


async def targets(conn: psycopg.AsyncConnection[Any]) -> list[Target]:
    cur = await conn.execute(_TARGETS)
    return [Target(*row) for row in await cur.fetchall()]


@dataclass(frozen=True, slots=True)
class StatusRow:
    target_id: int
    connected: bool
    last_connect: datetime | None
    last_reply: datetime | None
    last_error: str | None
    sent: int
    delivered: int
    resent: int


_STATUS = """
INSERT INTO hj212_forward_status
    (target_id, connected, last_connect, last_reply, last_error, sent, delivered, resent, updated_at)
SELECT *, now() FROM unnest(%s::int[], %s::bool[], %s::timestamptz[], %s::timestamptz[], %s::text[],
                            %s::bigint[], %s::bigint[], %s::bigint[])
ON CONFLICT (target_id) DO UPDATE SET
    connected = excluded.connected, last_connect = excluded.last_connect, last_reply = excluded.last_reply,
    last_error = excluded.last_error, sent = excluded.sent, delivered = excluded.delivered,
    resent = excluded.resent, updated_at = now()
"""


async def save_status(conn: psycopg.AsyncConnection[Any], *, rows: Sequence[StatusRow]) -> None:
    fields = ("target_id", "connected", "last_connect", "last_reply", "last_error", "sent", "delivered", "resent")
    cols = [[getattr(r, f) for r in rows] for f in fields]
    await conn.execute(_STATUS, cols)


BACKLOG_SQL = """
SELECT b.target_id, count(*), min(p.received_at)
FROM hj212_forward_outbox b JOIN hj212_packets p USING (packet_id)
GROUP BY b.target_id
"""


async def backlog(conn: psycopg.AsyncConnection[Any]) -> dict[int, tuple[int, datetime | None]]:
    """target_id -> (packets queued, arrival of the oldest)."""
    cur = await conn.execute(BACKLOG_SQL)
    return {tid: (int(n), oldest) for tid, n, oldest in await cur.fetchall()}


# Retention (the scheduler's, storage/retention.py): synchronous, the caller's connection.

_EXPIRE = """
DELETE FROM hj212_packets WHERE packet_id IN (
    SELECT p.packet_id FROM hj212_packets p
    WHERE p.received_at < now() - %(days)s * interval '1 day'
      AND NOT EXISTS (SELECT 1 FROM hj212_forward_outbox b WHERE b.packet_id = p.packet_id)
    LIMIT %(batch)s)
"""


def expire_packets(conn: psycopg.Connection[Any], *, older_than_days: int, batch: int = 10_000) -> int:
    """Delete packets received more than ``older_than_days`` ago, ``batch`` rows per statement
    (each its own transaction on an autocommit connection), sparing those still queued for a
    target: a target down for longer than the retention still receives its backlog."""
    if older_than_days < 1 or batch < 1:
        raise ValueError(f"older_than_days {older_than_days} and batch {batch} must be at least 1")
    deleted = 0
    while True:
        n = conn.execute(_EXPIRE, {"days": older_than_days, "batch": batch}).rowcount
        deleted += n
        if n < batch:
            return deleted


# Configuration (`smartpark hj212 targets load`): synchronous, one transaction of the caller.

_UPSERT_TARGET = """
INSERT INTO hj212_forward_targets (name, host, port, version, reply, over_time_s, re_count, max_rate, "window", enabled)
VALUES (%(name)s, %(host)s, %(port)s, %(version)s, %(reply)s, %(over_time_s)s, %(re_count)s, %(max_rate)s,
        %(window)s, %(enabled)s)
ON CONFLICT (name) DO UPDATE SET host = excluded.host, port = excluded.port, version = excluded.version,
    reply = excluded.reply, over_time_s = excluded.over_time_s, re_count = excluded.re_count,
    max_rate = excluded.max_rate, "window" = excluded."window", enabled = excluded.enabled
RETURNING target_id
"""


def put_target(conn: psycopg.Connection[Any], *, target: dict[str, Any], outlets: Iterable[dict[str, Any]]) -> int:
    """Create or replace a target and its outlets (outlets not listed are removed)."""
    row = conn.execute(_UPSERT_TARGET, target).fetchone()
    assert row is not None
    target_id = int(row[0])
    conn.execute("DELETE FROM hj212_forward_outlets WHERE target_id = %s", (target_id,))
    for o in outlets:
        conn.execute(
            "INSERT INTO hj212_forward_outlets (target_id, device_id, mn, pw, cns) VALUES (%s, %s, %s, %s, %s)",
            (target_id, o["device_id"], o["mn"], o["pw"], list(o["cns"])),
        )
    return target_id
