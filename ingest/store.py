"""Writing a batch: readings, touched buckets, latest values and rejections (caller commits).

Readings are COPYed (binary, in index order) straight into the telemetry hypertable inside a
savepoint: almost every batch is new readings, and this is the cheapest way in. Only when that
hits a reading already stored (a redelivery) does the batch go back to the savepoint and take the
idempotent path: COPY into a session-local staging table, then one INSERT ... ON CONFLICT DO
NOTHING, so a redelivered reading is a no-op. The
buckets the batch touched and the newest reading per (device, metric) are worked out with numpy
and sent as a few arrays: a batch of 20 000 readings from 100 series writes 100 latest rows,
not 20 000 upserts, and the database sorts nothing but what it must.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from ingest.batch import BUCKET_US, COPY_COLUMNS, Batch, Rows
from ingest.rejections import RejectionFolder, record_rejections
from smartpark.catalogue import FLAG_MANUAL
from smartpark.db import binary_copy, touched

STAGE_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_stage ("
    " ts timestamptz NOT NULL, device_id int NOT NULL, metric_id smallint NOT NULL,"
    " value float8 NOT NULL, flag smallint NOT NULL) ON COMMIT DELETE ROWS"
)

_COPIED = ", ".join(name for name, _ in COPY_COLUMNS)  # the order Rows.copy_data lays them out in
DIRECT_COPY_SQL = f"COPY telemetry ({_COPIED}) FROM STDIN (FORMAT binary)"

COPY_SQL = f"COPY ingest_stage ({_COPIED}) FROM STDIN (FORMAT binary)"

# Sorted like the primary key: each index page is visited once, and concurrent writers lock
# rows in the same order.
INSERT_SQL = (
    "INSERT INTO telemetry (ts, device_id, metric_id, value, flag)"
    " SELECT ts, device_id, metric_id, value, flag FROM ingest_stage"
    " ORDER BY device_id, metric_id, ts ON CONFLICT DO NOTHING"
)

# Timestamps travel as integer microseconds since 2000-01-01 UTC (exact, no float rounding).
_TS = "timestamptz '2000-01-01 00:00:00+00' + {} * interval '1 microsecond'"

# A late reading never replaces a newer one.
LATEST_SQL = (
    "INSERT INTO telemetry_latest AS l (device_id, metric_id, ts, value, flag)"
    f" SELECT d, m, {_TS.format('t')}, v, f"
    " FROM unnest(%s::int[], %s::smallint[], %s::bigint[], %s::float8[], %s::smallint[])"
    " AS u(d, m, t, v, f)"
    " ON CONFLICT (device_id, metric_id) DO UPDATE"
    " SET ts = excluded.ts, value = excluded.value, flag = excluded.flag"
    " WHERE excluded.ts > l.ts"
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


def store_batch(conn: psycopg.Connection[Any], *, batch: Batch, folder: RejectionFolder | None = None) -> Stored:
    """Write one batch in the caller's transaction; :func:`prepare_session` must have run.

    ``folder`` folds this batch's refusals into the rows of earlier ones (the worker keeps one)."""
    inserted = 0
    with conn.cursor() as cur:
        if len(batch.rows):
            rows = batch.rows.sorted().distinct()
            inserted = insert_rows(conn, cur, rows=rows)
            if inserted:
                # Derived from every valid reading, duplicates included: a duplicate's bucket
                # is re-touched at worst (harmless) and its timestamp never beats the latest.
                record_series(cur, rows=rows)
        if batch.rejections:
            record_rejections(cur, rejections=batch.rejections, folder=folder)
    return Stored(inserted, len(batch.rows) - inserted, len(batch.rejections))


def insert_rows(conn: psycopg.Connection[Any], cur: psycopg.Cursor[Any], *, rows: Rows) -> int:
    """Store sorted rows of distinct keys; the number of them that were new."""
    data = rows.copy_data()
    try:
        with conn.transaction(), cur.copy(DIRECT_COPY_SQL) as copy:
            copy.write(data)
        return len(rows)
    except psycopg.errors.UniqueViolation:
        pass  # some readings are stored already: back to the savepoint, then skip those
    with cur.copy(COPY_SQL) as copy:
        copy.write(data)
    cur.execute(INSERT_SQL)
    return max(cur.rowcount, 0)


def record_series(cur: psycopg.Cursor[Any], *, rows: Rows) -> None:
    device, metric, bucket = rows.touched()
    touched.record(cur, device_id=device, metric_id=metric, bucket_us=bucket)
    latest = rows.latest()
    cur.execute(
        LATEST_SQL,
        (
            latest.device_id.tolist(),
            latest.metric_id.tolist(),
            latest.ts_us.tolist(),
            latest.value.tolist(),
            latest.flag.tolist(),
        ),
    )


# A manual reading replaces whatever the instant held (a correction, or a gateway's value the
# person overrode); the audit trail of energy_manual_readings keeps every earlier value.
MANUAL_SQL = (
    "INSERT INTO telemetry (ts, device_id, metric_id, value, flag)"
    f" VALUES ({_TS.format('%(t)s::int8')}, %(d)s, %(m)s, %(v)s, %(f)s)"
    " ON CONFLICT (device_id, metric_id, ts) DO UPDATE SET value = excluded.value, flag = excluded.flag"
)

# A correction of the newest instant replaces the latest value too.
MANUAL_LATEST_SQL = LATEST_SQL.replace("excluded.ts > l.ts", "excluded.ts >= l.ts")


def store_manual(cur: psycopg.Cursor[Any], *, device_id: int, metric_id: int, ts_ms: int, value: float) -> None:
    """Write one accepted manual reading (flagged ``FLAG_MANUAL``) with its touched bucket and the
    latest value, in the caller's transaction, so rollups and indicators recompute."""
    ts_us = int(binary_copy.unix_ms_to_pg_us(ts_ms))
    cur.execute(MANUAL_SQL, {"t": ts_us, "d": device_id, "m": metric_id, "v": value, "f": FLAG_MANUAL})
    touched.record(cur, device_id=[device_id], metric_id=[metric_id], bucket_us=[ts_us - ts_us % BUCKET_US])
    cur.execute(MANUAL_LATEST_SQL, ([device_id], [metric_id], [ts_us], [value], [FLAG_MANUAL]))
