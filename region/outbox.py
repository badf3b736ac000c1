"""The park's outbox of signed packages to its region (owner of ``region_outbox``).

A package is signed once, when queued, and the same bytes are sent on every try: a retry after a
lost answer is byte-identical, which the region acknowledges without storing it again. A period
gets a new revision only when its figures changed since the last one queued. Revisions of one
period are delivered in order: a later one waits until the earlier is acknowledged or refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg.rows import dict_row

from region.package import canonical, digest, new_package, sign

Row = dict[str, Any]
_COLS = (
    "outbox_id, park_code, period, revision, queued_at, attempts, next_try_at, last_error, acknowledged_at, refused_at"
)


def queue(
    conn: psycopg.Connection[Any],
    *,
    park_code: str,
    period: str,
    body: Mapping[str, Any],
    key: Ed25519PrivateKey,
    clock: Callable[[], float],
) -> tuple[Row, bool]:
    """Queue ``body`` as the next revision of the park's period, unless the last revision queued
    holds the same body; (the row, whether it is new). The caller owns the transaction."""
    content = digest(canonical(dict(body)))
    cur = conn.cursor(row_factory=dict_row)
    # one queuer at a time per park and period: two would both take the same revision number
    cur.execute("SELECT pg_advisory_xact_lock(hashtext('region_outbox'), hashtext(%s))", (f"{park_code}/{period}",))
    last = cur.execute(
        f"SELECT {_COLS}, content_digest FROM region_outbox WHERE park_code = %s AND period = %s"
        " ORDER BY revision DESC LIMIT 1",
        (park_code, period),
    ).fetchone()
    if last is not None and bytes(last.pop("content_digest")) == content:
        return last, False
    revision = 1 if last is None else int(last["revision"]) + 1
    envelope = sign(new_package(park=park_code, period=period, revision=revision, body=body, clock=clock), key)
    row = cur.execute(
        "INSERT INTO region_outbox (park_code, period, revision, envelope, content_digest)"
        f" VALUES (%s, %s, %s, %s, %s) RETURNING {_COLS}",
        (park_code, period, revision, envelope.encode(), content),
    ).fetchone()
    assert row is not None
    return row, True


def due(conn: psycopg.Connection[Any], *, now: datetime, limit: int = 100) -> list[Row]:
    """Unresolved entries whose time has come, each the earliest unresolved of its period."""
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        f"SELECT {_COLS}, envelope FROM region_outbox o"
        " WHERE o.acknowledged_at IS NULL AND o.refused_at IS NULL AND o.next_try_at <= %(now)s"
        " AND NOT EXISTS (SELECT 1 FROM region_outbox e WHERE e.park_code = o.park_code"
        " AND e.period = o.period AND e.revision < o.revision"
        " AND e.acknowledged_at IS NULL AND e.refused_at IS NULL)"
        " ORDER BY o.outbox_id LIMIT %(limit)s",
        {"now": now, "limit": limit},
    ).fetchall()


def acknowledged(conn: psycopg.Connection[Any], *, outbox_id: int, at: datetime) -> None:
    conn.execute(
        "UPDATE region_outbox SET acknowledged_at = %s, attempts = attempts + 1, last_error = NULL"
        " WHERE outbox_id = %s",
        (at, outbox_id),
    )


def refused(conn: psycopg.Connection[Any], *, outbox_id: int, at: datetime, reason: str) -> None:
    """The region refused the package for good (a 4xx): retrying the same bytes cannot help."""
    conn.execute(
        "UPDATE region_outbox SET refused_at = %s, attempts = attempts + 1, last_error = %s WHERE outbox_id = %s",
        (at, reason[:1000], outbox_id),
    )


def failed(conn: psycopg.Connection[Any], *, outbox_id: int, retry_at: datetime, error: str) -> None:
    conn.execute(
        "UPDATE region_outbox SET attempts = attempts + 1, next_try_at = %s, last_error = %s WHERE outbox_id = %s",
        (retry_at, error[:1000], outbox_id),
    )


def entries(conn: psycopg.Connection[Any], *, park_codes: list[str] | None, limit: int = 500) -> list[Row]:
    """The outbox newest first (all parks, or those of ``park_codes``)."""
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        f"SELECT {_COLS} FROM region_outbox WHERE %(codes)s::text[] IS NULL OR park_code = ANY(%(codes)s)"
        " ORDER BY outbox_id DESC LIMIT %(limit)s",
        {"codes": park_codes, "limit": limit},
    ).fetchall()
