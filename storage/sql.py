"""Rows as tuples whatever the connection's row factory: the API's pooled connections give dicts,
the scheduler's tuples, and the storage modules serve both."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import tuple_row


def tuples(conn: psycopg.Connection[Any], sql: Any, params: Any = None) -> psycopg.Cursor[tuple[Any, ...]]:
    return conn.cursor(row_factory=tuple_row).execute(sql, params)
