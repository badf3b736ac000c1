"""SQL of the aggregation job: claim touched buckets, read windows of readings and rollups, upsert.

Keyword-only functions; the caller owns the transaction. Bulk data crosses as binary COPY of
fixed-width columns decoded straight into numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from aggregation import pgbinary
from aggregation.rollup import Rollup

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Conn = psycopg.Connection[Any]

ROLLUP_TABLES = ("rollup_15m", "rollup_1h", "rollup_1d")


def pack(device_id: npt.ArrayLike, metric_id: npt.ArrayLike) -> I64:
    """One int64 series id per (device, metric)."""
    return (np.asarray(device_id, dtype=np.int64) << 16) | np.asarray(metric_id, dtype=np.int64)


def unpack(series: I64) -> tuple[I64, I64]:
    return series >> 16, series & 0xFFFF


def claim_touched(conn: Conn, *, limit: int) -> tuple[I64, I64]:
    """Take up to ``limit`` touched (series, 15-min bucket start ms) off the queue.

    Deleted in the caller's transaction: a crash before commit puts them back; rows written by
    ingest meanwhile wait for the commit and are queued again afterwards.
    """
    rows = conn.execute(
        "DELETE FROM telemetry_touched t USING ("
        " SELECT device_id, metric_id, bucket FROM telemetry_touched"
        " ORDER BY bucket LIMIT %(limit)s FOR UPDATE SKIP LOCKED) c"
        " WHERE t.device_id = c.device_id AND t.metric_id = c.metric_id AND t.bucket = c.bucket"
        " RETURNING t.device_id, t.metric_id,"
        " (extract(epoch FROM t.bucket) * 1000)::int8",
        {"limit": limit},
    ).fetchall()
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a = np.asarray(rows, dtype=np.int64)
    return pack(a[:, 0], a[:, 1]), a[:, 2]


@dataclass(frozen=True, slots=True)
class Device:
    device_id: int
    enterprise_id: int
    park_id: int
    timezone: str
    grid_region: str
    attributes: dict[str, Any]


def devices(conn: Conn, *, device_ids: npt.ArrayLike) -> dict[int, Device]:
    ids = [int(i) for i in np.unique(np.asarray(device_ids))]
    rows = conn.execute(
        "SELECT d.device_id, d.enterprise_id, e.park_id, p.timezone, p.grid_region, d.attributes"
        " FROM devices d JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)"
        " WHERE d.device_id = ANY(%(ids)s)",
        {"ids": ids},
    ).fetchall()
    return {r[0]: Device(*r) for r in rows}


def _ms(expr: str) -> str:
    return f"(timestamptz 'epoch' + {expr} * interval '1 millisecond')"


def _windows_sql(value_sql: str, table: str, ts: str, where: str = "") -> str:
    return (
        f"COPY (SELECT {value_sql} FROM unnest(%(dev)s::int[], %(met)s::int[],"
        " %(lo)s::int8[], %(hi)s::int8[]) AS w(device_id, metric_id, lo, hi)"
        f" JOIN {table} t ON t.device_id = w.device_id AND t.metric_id = w.metric_id"
        f" AND t.{ts} >= {_ms('w.lo')} AND t.{ts} < {_ms('w.hi')}"
        f" {where}) TO STDOUT (FORMAT BINARY)"
    )


def _copy_out(conn: Conn, sql: str, params: dict[str, Any]) -> bytes:
    buf = bytearray()
    with conn.cursor() as cur, cur.copy(sql, params) as copy:
        for chunk in copy:
            buf += chunk
    return bytes(buf)


def _window_params(series: I64, lo: I64, hi: I64) -> dict[str, Any]:
    dev, met = unpack(series)
    return {"dev": dev.tolist(), "met": met.tolist(), "lo": lo.tolist(), "hi": hi.tolist()}


READING_COLUMNS = (("device_id", "int4"), ("metric_id", "int2"), ("ts", "timestamptz"), ("value", "float8"))


def readings(conn: Conn, *, series: I64, lo: I64, hi: I64) -> tuple[I64, I64, F64]:
    """Valid readings (flag 0) of each series in [lo, hi) ms: (series, ts ms, value)."""
    if series.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    sql = _windows_sql("t.device_id, t.metric_id, t.ts, t.value", "telemetry", "ts", "WHERE t.flag = 0")
    payload = _copy_out(conn, sql, _window_params(series, lo, hi))
    cols = pgbinary.decode(READING_COLUMNS, payload)
    return (
        pack(cols["device_id"], cols["metric_id"]),
        cols["ts"].astype(np.int64),
        cols["value"].astype(np.float64),
    )


def neighbours(conn: Conn, *, series: I64, lo: I64, hi: I64) -> tuple[I64, I64]:
    """Per window: time (ms) of the last valid reading before ``lo`` and of the first at or
    after ``hi`` (-1 where none): a counter's delta reaches across both edges."""
    if series.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows = conn.execute(
        "SELECT (SELECT (extract(epoch FROM t.ts) * 1000)::int8 FROM telemetry t"
        "  WHERE t.device_id = w.device_id AND t.metric_id = w.metric_id AND t.flag = 0"
        f"  AND t.ts < {_ms('w.lo')} ORDER BY t.ts DESC LIMIT 1),"
        " (SELECT (extract(epoch FROM t.ts) * 1000)::int8 FROM telemetry t"
        "  WHERE t.device_id = w.device_id AND t.metric_id = w.metric_id AND t.flag = 0"
        f"  AND t.ts >= {_ms('w.hi')} ORDER BY t.ts LIMIT 1)"
        " FROM unnest(%(dev)s::int[], %(met)s::int[], %(lo)s::int8[], %(hi)s::int8[])"
        " WITH ORDINALITY AS w(device_id, metric_id, lo, hi, i) ORDER BY w.i",
        _window_params(series, lo, hi),
    ).fetchall()
    a = np.asarray([(-1 if p is None else p, -1 if n is None else n) for p, n in rows], dtype=np.int64)
    return a[:, 0], a[:, 1]


_STATS = (
    ("sum", "float8"),
    ("min", "float8"),
    ("max", "float8"),
    ("first", "float8"),
    ("first_ts", "timestamptz"),
    ("last", "float8"),
    ("last_ts", "timestamptz"),
)
ROLLUP_COLUMNS = (
    ("device_id", "int4"),
    ("metric_id", "int2"),
    ("bucket", "timestamptz"),
    ("end", "timestamptz"),
    ("count", "int8"),
    *_STATS,
    ("interval_ms", "float8"),
    ("consumption", "float8"),
    ("resets", "int8"),
    ("jumps", "int8"),
    ("exceed", "int8"),
)
_STORED = (
    "device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts, last, last_ts,"
    " coverage, consumption, resets, jumps, exceed_count, exceed_minutes, computed_at"
)


def upsert_rollups(conn: Conn, *, table: str, rollup: Rollup, counter: npt.NDArray[np.bool_]) -> int:
    """Write rollup rows (replacing what the buckets held); ``counter`` marks counter rows."""
    if table not in ROLLUP_TABLES:
        raise ValueError(f"unknown rollup table {table!r}")
    if len(rollup) == 0:
        return 0
    dev, met = unpack(rollup.series)
    arrays = {f: getattr(rollup, f) for f, _ in ROLLUP_COLUMNS if f not in ("device_id", "metric_id")}
    arrays.update(device_id=dev, metric_id=met)
    arrays["consumption"] = np.where(counter, rollup.consumption, np.nan)
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS rollup_stage (device_id int4, metric_id int2,"
        ' bucket timestamptz, "end" timestamptz, count int8, sum float8, min float8, max float8,'
        " first float8, first_ts timestamptz, last float8, last_ts timestamptz,"
        " interval_ms float8, consumption float8, resets int8, jumps int8, exceed int8)"
        " ON COMMIT DELETE ROWS"
    )
    with conn.cursor() as cur, cur.copy("COPY rollup_stage FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(pgbinary.encode(ROLLUP_COLUMNS, arrays))
    updates = ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}" for c in _STORED.split(",")[3:])
    n = conn.execute(
        f"INSERT INTO {table} ({_STORED})"
        " SELECT device_id, metric_id, bucket, count, sum, min, max, sum / count, first, first_ts,"
        " last, last_ts,"
        " CASE WHEN interval_ms = 'NaN' THEN NULL ELSE"
        '  least(count * interval_ms / (extract(epoch FROM "end" - bucket) * 1000), 1) END,'
        " CASE WHEN consumption = 'NaN' THEN NULL ELSE consumption END,"
        " resets, jumps, exceed,"
        " CASE WHEN interval_ms = 'NaN' THEN 0 ELSE exceed * interval_ms / 60000 END, now()"
        " FROM rollup_stage"
        f" ON CONFLICT (device_id, metric_id, bucket) DO UPDATE SET {updates}"
    ).rowcount
    conn.execute("TRUNCATE rollup_stage")
    return n


FETCH_ROLLUP_COLUMNS = (
    ("device_id", "int4"),
    ("metric_id", "int2"),
    ("bucket", "timestamptz"),
    ("count", "int4"),
    *_STATS,
    ("consumption", "float8"),
    ("resets", "int4"),
    ("jumps", "int4"),
    ("exceed_count", "int4"),
)


def rollups(conn: Conn, *, table: str, series: I64, lo: I64, hi: I64, width_ms: int) -> Rollup:
    """Stored rollup rows of each series with bucket in [lo, hi) ms (interval NaN, end =
    bucket + width: callers re-bucket them)."""
    if table not in ROLLUP_TABLES:
        raise ValueError(f"unknown rollup table {table!r}")
    names = ", ".join("coalesce(t.consumption, 0)" if n == "consumption" else f"t.{n}" for n, _ in FETCH_ROLLUP_COLUMNS)
    sql = _windows_sql(names, table, "bucket")
    cols = pgbinary.decode(FETCH_ROLLUP_COLUMNS, _copy_out(conn, sql, _window_params(series, lo, hi)))
    n = cols["bucket"].size
    i64 = {
        k: cols[k].astype(np.int64)
        for k in ("bucket", "count", "first_ts", "last_ts", "resets", "jumps", "exceed_count")
    }
    f64 = {k: cols[k].astype(np.float64) for k in ("sum", "min", "max", "first", "last", "consumption")}
    return Rollup(
        series=pack(cols["device_id"], cols["metric_id"]),
        bucket=i64["bucket"],
        end=i64["bucket"] + width_ms,
        count=i64["count"],
        sum=f64["sum"],
        min=f64["min"],
        max=f64["max"],
        first=f64["first"],
        first_ts=i64["first_ts"],
        last=f64["last"],
        last_ts=i64["last_ts"],
        interval_ms=np.full(n, np.nan),
        consumption=f64["consumption"],
        resets=i64["resets"],
        jumps=i64["jumps"],
        exceed=i64["exceed_count"],
    )


def mark_dirty_days(conn: Conn, *, park_id: npt.ArrayLike, day_ms: npt.ArrayLike, timezone: list[str]) -> None:
    """Queue (park, local day) for the indicator job; ``day_ms`` any instant of the day."""
    conn.execute(
        "INSERT INTO aggregation_dirty_days (park_id, day)"
        f" SELECT p, ({_ms('d')} AT TIME ZONE tz)::date"
        " FROM unnest(%(p)s::int[], %(d)s::int8[], %(tz)s::text[]) AS u(p, d, tz)"
        " ON CONFLICT DO NOTHING",
        {"p": np.asarray(park_id).tolist(), "d": np.asarray(day_ms).tolist(), "tz": timezone},
    )
