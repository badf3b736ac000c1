"""TimescaleDB's columnstore where the server has it (licence ``timescale``: the official image,
Timescale's service), never a failure where it is absent (Debian's Apache-2 build).

Raw telemetry is segmented by series and ordered by time, as every read of it names its series
and a time range; the rollups the same way by their bucket. Chunks older than the configured age
are converted by TimescaleDB's own policy job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from storage.sql import tuples

Conn = psycopg.Connection[Any]
# hypertable -> its time column
TABLES = {"telemetry": "ts", "rollup_15m": "bucket", "rollup_1h": "bucket", "rollup_1d": "bucket"}


@dataclass(frozen=True, slots=True)
class Outcome:
    licence: str
    enabled: list[str]
    refused: str | None  # why nothing was enabled


def licence(conn: Conn) -> str:
    row = tuples(conn, "SHOW timescaledb.license").fetchone()
    return str(row[0]) if row else "unknown"


def statements(after_days: int) -> list[str]:
    """The SQL that enables the columnstore (pure; shown by `smartpark storage columnstore --dry-run`)."""
    out = []
    for table, time_col in TABLES.items():
        out.append(
            f"ALTER TABLE {table} SET (timescaledb.enable_columnstore = true,"
            f" timescaledb.segmentby = 'device_id, metric_id', timescaledb.orderby = '{time_col}')"
        )
        out.append(
            f"CALL add_columnstore_policy('{table}', after => interval '{int(after_days)} days', if_not_exists => true)"
        )
    return out


def enable(conn: Conn, *, after_days: int) -> Outcome:
    """Enable where the licence allows it; otherwise say why and change nothing."""
    edition = licence(conn)
    if after_days == 0:
        return Outcome(edition, [], "columnstore_after_days is 0")
    if edition != "timescale":
        return Outcome(edition, [], f"TimescaleDB licence {edition!r} has no columnstore (needs 'timescale')")
    sql = statements(after_days)
    with conn.transaction():
        for statement in sql:
            conn.execute(statement)
    return Outcome(edition, list(TABLES), None)
