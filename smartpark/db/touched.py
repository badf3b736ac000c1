"""The touched-bucket queue between ingest and the rollup job: both ends, one owner.

Ingest records which 15-minute buckets of which series new or late readings fell into, in the
same transaction as the readings (:func:`record`); the rollup job moves them to rollup_claimed in
a short transaction (:func:`stage`, migration 0760), then takes them off in key order and
recomputes those buckets (:func:`claim`). A pass of the job goes once round the queue in key order
(:class:`Staged` says where it stopped), so a key queued again meanwhile waits for the next pass.
The queue is telemetry_touched (smartpark/db/migrations/0001_registry_and_telemetry.sql).
Buckets of a park whose rollup failed wait in rollup_held until their retry time
(:func:`hold`, :func:`release_due`; migration 0650).
Keyword-only; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from smartpark.db import binary_copy
from smartpark.series_key import pack_sql, unpack

I64 = npt.NDArray[np.int64]

# Bucket starts travel as integer microseconds since 2000-01-01 UTC, as ingest keeps them.
RECORD_SQL = (
    "INSERT INTO telemetry_touched (device_id, metric_id, bucket)"
    " SELECT d, m, timestamptz '2000-01-01 00:00:00+00' + b * interval '1 microsecond'"
    " FROM unnest(%s::int[], %s::smallint[], %s::bigint[]) AS u(d, m, b)"
    " ON CONFLICT DO NOTHING"
)


def record(
    cur: psycopg.Cursor[Any], *, device_id: npt.ArrayLike, metric_id: npt.ArrayLike, bucket_us: npt.ArrayLike
) -> None:
    """Queue (device, metric, 15-minute bucket start in µs since 2000); already queued is a no-op."""
    cur.execute(
        RECORD_SQL,
        (np.asarray(device_id).tolist(), np.asarray(metric_id).tolist(), np.asarray(bucket_us).tolist()),
    )


Key = tuple[int, int, Any]  # (device_id, metric_id, bucket) as the queue tables order them


@dataclass(frozen=True, slots=True)
class Staged:
    moved: int
    last: Key | None  # the highest key moved (None: none moved)
    at_end: bool  # no queued key was left after ``last``: the pass has reached the queue's end


def _first_keys(
    conn: psycopg.Connection[Any], table: str, limit: int, after: Key | None = None
) -> tuple[str, dict[str, Any]]:
    """A WHERE clause for the first ``limit`` keys of a queue table in key order (all when fewer),
    after the key ``after`` when given: the keys below the first one left, one index-only step.
    ``table`` is this module's name."""
    conds, params = [], {}
    if after is not None:
        conds.append("(device_id, metric_id, bucket) > (%(ad)s, %(am)s, %(ab)s)")
        params = {"ad": after[0], "am": after[1], "ab": after[2]}
    cut = conn.execute(
        f"SELECT device_id, metric_id, bucket FROM {table}{' WHERE ' + conds[0] if conds else ''}"
        " ORDER BY device_id, metric_id, bucket OFFSET %(n)s LIMIT 1",
        {**params, "n": limit},
    ).fetchone()
    if cut is not None:
        conds.append("(device_id, metric_id, bucket) < (%(d)s, %(m)s, %(b)s)")
        params |= {"d": cut[0], "m": cut[1], "b": cut[2]}
    return (" WHERE " + " AND ".join(conds) if conds else ""), params


def stage(conn: psycopg.Connection[Any], *, limit: int, after: Key | None = None) -> Staged:
    """Move queued keys, in key order after ``after``, to rollup_claimed until it holds ``limit``
    (keys a crashed run left there count).

    Its own short transaction, under the job's lock: an ingest insert of a key being moved waits
    for this commit only, never for a rollup batch. The job passes the last key it staged as
    ``after``: every live series queues its current bucket again within a second, so staging
    always from the queue's start would take the same low keys every time and starve the rest.
    """
    row = conn.execute("SELECT count(*) FROM rollup_claimed").fetchone()
    room = limit - (int(row[0]) if row else 0)
    if room <= 0:
        return Staged(0, None, at_end=False)
    where, params = _first_keys(conn, "telemetry_touched", room, after)
    row = conn.execute(
        f"WITH c AS (DELETE FROM telemetry_touched{where} RETURNING device_id, metric_id, bucket),"
        " i AS (INSERT INTO rollup_claimed (device_id, metric_id, bucket) SELECT * FROM c ON CONFLICT DO NOTHING)"
        " SELECT (SELECT count(*) FROM c), l.device_id, l.metric_id, l.bucket FROM (SELECT 1) AS one"
        " LEFT JOIN LATERAL (SELECT * FROM c ORDER BY device_id DESC, metric_id DESC, bucket DESC LIMIT 1) AS l"
        " ON true",
        params,
    ).fetchone()
    assert row is not None
    moved = int(row[0])
    return Staged(moved, (row[1], row[2], row[3]) if moved else None, at_end=moved < room)


def claim(conn: psycopg.Connection[Any], *, limit: int) -> tuple[I64, I64]:
    """Take up to ``limit`` staged (series, 15-min bucket start ms) for the batch.

    In key order, so that a batch holds long contiguous runs of few series (one read each)
    rather than scattered buckets of many: a back-fill touches every bucket of every series.
    The batch is the keys below the first one left (one index-only step), deleted in one pass
    and returned as two arrays in one row: a COPY would cost the client a message per key.

    Deleted in the caller's transaction (which holds the rollup job's lock,
    aggregation.store.lock_job): a failed batch puts them back. Ingest never writes this table,
    so the batch makes no ingest wait; a reading that arrives meanwhile queues its bucket again
    in telemetry_touched.
    """
    below, params = _first_keys(conn, "rollup_claimed", limit)
    with conn.cursor(binary=True) as cur:
        binary_copy.load_arrays_raw(cur)
        row = cur.execute(
            f"WITH c AS (DELETE FROM rollup_claimed{below} RETURNING device_id, metric_id, bucket)"
            f" SELECT array_agg({pack_sql('device_id', 'metric_id')}), array_agg(bucket) FROM c",
            params,
        ).fetchone()
    assert row is not None
    series, bucket = binary_copy.decode_array("int8", row[0]), binary_copy.decode_array("timestamptz", row[1])
    return series.astype(np.int64, copy=False), bucket.astype(np.int64, copy=False)


def hold(conn: psycopg.Connection[Any], *, series: I64, bucket_ms: I64, retry_in_s: float) -> None:
    """Keep a failed park's claimed buckets out of the queue until their retry time."""
    dev, met = unpack(series)
    conn.execute(
        "INSERT INTO rollup_held (device_id, metric_id, bucket, retry_at)"
        " SELECT d, m, to_timestamp(b / 1000.0), now() + %s * interval '1 second'"
        " FROM unnest(%s::int[], %s::smallint[], %s::int8[]) AS u(d, m, b)"
        " ON CONFLICT (device_id, metric_id, bucket) DO UPDATE SET retry_at = excluded.retry_at",
        (retry_in_s, dev.tolist(), met.tolist(), np.asarray(bucket_ms).tolist()),
    )


def release_due(conn: psycopg.Connection[Any]) -> int:
    """Queue again the held buckets whose retry time has come; returns how many."""
    cur = conn.execute(
        "WITH due AS (DELETE FROM rollup_held WHERE retry_at <= now() RETURNING device_id, metric_id, bucket)"
        " INSERT INTO telemetry_touched (device_id, metric_id, bucket)"
        " SELECT device_id, metric_id, bucket FROM due ON CONFLICT DO NOTHING"
    )
    return cur.rowcount or 0
