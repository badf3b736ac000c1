"""Writing a batch: readings, touched buckets, latest values and rejections (caller commits).

Readings are COPYed (binary) into a session-local staging table and moved with one
INSERT ... ON CONFLICT DO NOTHING, so a redelivered reading is a no-op. The same statement
records the 15-minute buckets the *new* rows fell into and advances telemetry_latest, so all of
it commits or none of it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from ingest.batch import Batch, Rejection

STAGE_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage ("
    " ts timestamptz NOT NULL, device_id int NOT NULL, metric_id smallint NOT NULL,"
    " value float8 NOT NULL, flag smallint NOT NULL) ON COMMIT DELETE ROWS"
)

MOVE_SQL = """
WITH ins AS (
    INSERT INTO telemetry (ts, device_id, metric_id, value, flag)
    SELECT ts, device_id, metric_id, value, flag FROM ingest_stage
    ON CONFLICT DO NOTHING
    RETURNING ts, device_id, metric_id, value, flag
), touched AS (
    INSERT INTO telemetry_touched (device_id, metric_id, bucket)
    SELECT DISTINCT device_id, metric_id, time_bucket('15 minutes', ts) FROM ins
    ON CONFLICT DO NOTHING
), latest AS (
    INSERT INTO telemetry_latest AS l (device_id, metric_id, ts, value, flag)
    SELECT DISTINCT ON (device_id, metric_id) device_id, metric_id, ts, value, flag
    FROM ins ORDER BY device_id, metric_id, ts DESC
    ON CONFLICT (device_id, metric_id) DO UPDATE
    SET ts = excluded.ts, value = excluded.value, flag = excluded.flag
    WHERE excluded.ts > l.ts
)
SELECT count(*) FROM ins
"""

REJECTION_COLUMNS = (
    "received_at", "topic", "reason_code", "reason", "device", "metric",
    "device_id", "enterprise_id", "park_id", "excerpt",
)


@dataclass(frozen=True, slots=True)
class Stored:
    inserted: int  # new rows in telemetry
    duplicates: int  # readings already stored (redelivery, repeated message)
    rejected: int


def prepare_session(conn: psycopg.Connection[Any]) -> None:
    """Create the staging table of this connection (once per connection)."""
    with conn.transaction():
        conn.execute(STAGE_DDL)


def store_batch(conn: psycopg.Connection[Any], *, batch: Batch) -> Stored:
    """Write one batch in the caller's transaction; :func:`prepare_session` must have run."""
    inserted = 0
    with conn.cursor() as cur:
        if len(batch.rows):
            with cur.copy(
                "COPY ingest_stage (ts, device_id, metric_id, value, flag) FROM STDIN (FORMAT binary)"
            ) as copy:
                copy.write(batch.rows.copy_data())
            cur.execute(MOVE_SQL)
            row = cur.fetchone()
            inserted = int(row[0]) if row else 0
        if batch.rejections:
            record_rejections(cur, rejections=batch.rejections)
    return Stored(inserted, len(batch.rows) - inserted, len(batch.rejections))


def record_rejections(cur: psycopg.Cursor[Any], *, rejections: tuple[Rejection, ...]) -> None:
    with cur.copy(f"COPY rejected_messages ({', '.join(REJECTION_COLUMNS)}) FROM STDIN") as copy:
        for r in rejections:
            copy.write_row(
                (
                    datetime.fromtimestamp(r.received_ms / 1000, UTC),
                    r.topic, r.reason_code, r.reason, r.device, r.metric,
                    r.device_id, r.enterprise_id, r.park_id, r.excerpt,
                )
            )
