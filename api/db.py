"""The connection pool of the API: psycopg 3, sync, one pool per application.

Connections are in autocommit: a read is one statement and needs no BEGIN/COMMIT round trips;
routes that write several statements open ``conn.transaction()`` themselves.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from smartpark.settings import ApiSettings


def make_pool(url: str, limits: ApiSettings, *, open_: bool = True) -> ConnectionPool[Any]:
    timeout_ms = int(limits.statement_timeout_ms)

    def _configure(conn: psycopg.Connection[Any]) -> None:
        # Every pooled session gets the statement timeout, so no request holds a connection long.
        conn.execute(f"SET statement_timeout = {timeout_ms}")
        conn.execute("SET TIME ZONE 'UTC'")
        conn.commit()

    return ConnectionPool(
        url,
        min_size=limits.pool_min,
        max_size=limits.pool_max,
        kwargs={"row_factory": dict_row, "autocommit": True},
        configure=_configure,
        open=open_,
        timeout=10.0,
        name="api",
    )
