"""What alerting's store modules share: the connection type, millisecond times as SQL
timestamps and back, the id an INSERT ... RETURNING yields, and the optional park filter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import tuple_row

Conn = psycopg.Connection[Any]


def new_id(conn: Conn, sql: str, params: Sequence[Any]) -> int:
    """The id an INSERT ... RETURNING yields, whatever row factory the caller's connection has."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def park_filter(park_ids: Sequence[int] | None) -> list[int] | None:
    """The ``%(p)s::int[]`` parameter of a query over some parks (None: all parks)."""
    return None if park_ids is None else list(park_ids)
