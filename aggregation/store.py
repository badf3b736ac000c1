"""SQL of the aggregation job: read windows of readings and rollups, replace rollups, queue days.

Keyword-only functions; the caller owns the transaction. Bulk data crosses as binary COPY of
fixed-width columns decoded straight into numpy arrays.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

from aggregation.rollup import Rollup, is_sorted
from aggregation.windows import Windows
from smartpark.catalogue import COUNTED_FLAGS
from smartpark.db import binary_copy
from smartpark.series_key import pack, unpack
from storage import raw_tiers
from storage.coldfs import ColdStore

# The flags that count (catalogue.COUNTED_FLAGS: valid, stamped on receipt, over range) in SQL.
VALID_SQL = "(" + ", ".join(str(f) for f in sorted(COUNTED_FLAGS)) + ")"
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Conn = psycopg.Connection[Any]

# The flags of valid readings as a SQL list (constants of the catalogue, not input).

ROLLUP_TABLES = ("rollup_15m", "rollup_1h", "rollup_1d")
READING_COLUMNS = (("device_id", "int4"), ("metric_id", "int2"), ("ts", "timestamptz"), ("value", "float8"))


JOB_LOCK = 0x5350_4147  # advisory lock: one rollup job at a time across processes


def lock_job(conn: Conn) -> bool:
    """Take the rollup job's transaction-scoped lock; False when another process holds it."""
    row = conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (JOB_LOCK,)).fetchone()
    return bool(row and row[0])


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


ms_sql = _ms  # epoch milliseconds (a SQL expression) as timestamptz, for the other aggregation jobs' SQL


def _windows_sql(value_sql: str, table: str, ts: str) -> str:
    return (
        f"COPY (SELECT {value_sql} FROM unnest(%(dev)s::int[], %(met)s::int[],"
        " %(lo)s::int8[], %(hi)s::int8[]) AS w(device_id, metric_id, lo, hi)"
        f" JOIN {table} t ON t.device_id = w.device_id AND t.metric_id = w.metric_id"
        f" AND t.{ts} >= {_ms('w.lo')} AND t.{ts} < {_ms('w.hi')}"
        ") TO STDOUT (FORMAT BINARY)"
    )


def _copy_out(conn: Conn, sql: str, params: dict[str, Any]) -> bytes:
    with conn.cursor() as cur, cur.copy(sql, params) as copy:
        return b"".join(bytes(chunk) for chunk in copy)


def _window_params(series: I64, lo: I64, hi: I64) -> dict[str, Any]:
    dev, met = unpack(series)
    return {"dev": dev.tolist(), "met": met.tolist(), "lo": lo.tolist(), "hi": hi.tolist()}


def _device_range(windows: Windows) -> tuple[int, int]:
    """First and last device of the windows (sorted by series): bounds a scan to a job's part."""
    first, last = unpack(windows.series[[0, -1]])[0].tolist()
    return int(first), int(last)


def _scan_or_probe(conn: Conn, *, columns: Any, select: str, table: str, ts: str, windows: Windows) -> dict[str, Any]:
    """Rows of ``table`` inside the windows: one time-range scan per merged span when the
    windows are dense (then filtered here), else one index probe per window."""
    if not windows.scan_is_cheaper():
        sql = _windows_sql(select, table, ts)
        return binary_copy.decode(columns, _copy_out(conn, sql, _window_params(windows.series, windows.lo, windows.hi)))
    d0, d1 = _device_range(windows)
    parts = [
        binary_copy.decode(
            columns,
            _copy_out(
                conn,
                f"COPY (SELECT {select} FROM {table} t WHERE t.device_id >= %(d0)s AND t.device_id <= %(d1)s"
                f" AND t.{ts} >= {_ms('%(a)s::int8')} AND t.{ts} < {_ms('%(b)s::int8')}) TO STDOUT (FORMAT BINARY)",
                {"a": int(a), "b": int(b), "d0": d0, "d1": d1},
            ),
        )
        for a, b in zip(*windows.time_ranges(), strict=True)  # few merged spans: constant bounds
    ]
    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    inside = windows.contains(pack(cols["device_id"], cols["metric_id"]), cols[ts].astype(np.int64))
    return {k: v[inside] for k, v in cols.items()}


def _grouped(conn: Conn, sql: str, params: dict[str, Any]) -> tuple[I64, I64, F64]:
    """Rows of (device_id, metric_id, ts[], value[]) flattened to (series, ts ms, value).

    One array pair per series: a million readings cross as a few thousand rows, where a COPY
    would cost one client round of work per reading."""
    with conn.cursor(binary=True) as cur:
        binary_copy.load_arrays_raw(cur)
        rows = cur.execute(sql, params).fetchall()
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    ts = [binary_copy.decode_array("timestamptz", r[2]) for r in rows]
    lengths = np.asarray([a.size for a in ts])
    series = np.repeat(pack([r[0] for r in rows], [r[1] for r in rows]), lengths)
    return series, np.concatenate(ts), np.concatenate([binary_copy.decode_array("float8", r[3]) for r in rows])


def readings(conn: Conn, *, windows: Windows, cold: ColdStore | None = None) -> tuple[I64, I64, F64]:
    """Counted readings inside the windows: (series, ts ms, value), grouped by series. Counted is
    valid (flag 0, or 64: stamped on receipt) or over range (T): ``COUNTED_FLAGS``, as alarms use.
    With a ``cold`` tier, windows of periods already moved there read it too (storage.raw_tiers).

    Dense windows (the live case): one time-range scan per merged span, filtered here; sparse
    ones (late data of a few meters): one index probe per window."""
    if len(windows) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    hot = _hot_readings(conn, windows)
    end = None if cold is None else raw_tiers.cold_end_ms(conn)
    old = windows.lo < (end or 0)  # only windows starting before the cold tier ends read it
    if cold is None or end is None or not old.any():
        return hot
    w = Windows(windows.series[old], windows.lo[old], np.minimum(windows.hi[old], end))
    got = raw_tiers.points(
        conn, cold, start_ms=int(w.lo.min()), end_ms=int(w.hi.max()), series=w.series, flags=COUNTED_FLAGS
    )
    return raw_tiers.merge(hot, got.take(w.contains(got.series, got.ts)))


def _hot_readings(conn: Conn, windows: Windows) -> tuple[I64, I64, F64]:
    if not windows.scan_is_cheaper():
        return _grouped(
            conn,
            "SELECT w.device_id, w.metric_id, array_agg(t.ts), array_agg(t.value)"
            " FROM unnest(%(dev)s::int[], %(met)s::int[], %(lo)s::int8[], %(hi)s::int8[])"
            " WITH ORDINALITY AS w(device_id, metric_id, lo, hi, i)"
            " JOIN telemetry t ON t.device_id = w.device_id AND t.metric_id = w.metric_id"
            f" AND t.ts >= {_ms('w.lo')} AND t.ts < {_ms('w.hi')} WHERE t.flag IN {VALID_SQL}"
            " GROUP BY w.i, w.device_id, w.metric_id, w.lo ORDER BY w.device_id, w.metric_id, w.lo",
            _window_params(windows.series, windows.lo, windows.hi),
        )
    d0, d1 = _device_range(windows)
    parts = []
    for a, b in zip(*windows.time_ranges(), strict=True):  # few merged spans: constant bounds
        series, ts, value = _grouped(
            conn,
            "SELECT device_id, metric_id, array_agg(ts), array_agg(value) FROM telemetry"
            " WHERE device_id >= %(d0)s AND device_id <= %(d1)s"
            f" AND ts >= {_ms('%(a)s::int8')} AND ts < {_ms('%(b)s::int8')} AND flag IN {VALID_SQL}"
            " GROUP BY device_id, metric_id ORDER BY device_id, metric_id",  # sorted: no client sort
            {"a": int(a), "b": int(b), "d0": d0, "d1": d1},
        )
        ordered = is_sorted(series, ts)  # the primary key's order, unless the plan chose otherwise
        inside = windows.contains_sorted(series, ts) if ordered else windows.contains(series, ts)
        parts.append((series, ts, value) if inside.all() else (series[inside], ts[inside], value[inside]))
    s, t, v = (np.concatenate(c) for c in zip(*parts, strict=True))
    return s, t, v


def neighbours(conn: Conn, *, series: I64, lo: I64, hi: I64, cold: ColdStore | None = None) -> tuple[I64, I64]:
    """Per window: time (ms) of the last valid reading before ``lo`` and of the first at or
    after ``hi`` (-1 where none): a counter's delta reaches across both edges. With a ``cold``
    tier, also among its readings up to a month either side (storage.raw_tiers)."""
    if series.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    prev, nxt = _hot_neighbours(conn, series, lo, hi)
    span = raw_tiers.NEIGHBOUR_SPAN_MS
    end = None if cold is None else raw_tiers.cold_end_ms(conn)
    near = lo - span < (end or 0)  # windows whose span either side reaches the cold tier
    if cold is None or end is None or not near.any():
        return prev, nxt
    s, a, b = series[near], lo[near], hi[near]
    got = raw_tiers.points(
        conn, cold, start_ms=int(a.min()) - span, end_ms=min(int(b.max()) + span, end), series=s, flags=COUNTED_FLAGS
    )
    cold_prev, cold_next = raw_tiers.neighbours(got, series=s, lo=a, hi=b)
    prev[near], nxt[near] = raw_tiers.latest(prev[near], cold_prev), raw_tiers.earliest(nxt[near], cold_next)
    return prev, nxt


def _hot_neighbours(conn: Conn, series: I64, lo: I64, hi: I64) -> tuple[I64, I64]:
    rows = conn.execute(
        "SELECT (SELECT (extract(epoch FROM t.ts) * 1000)::int8 FROM telemetry t"
        f"  WHERE t.device_id = w.device_id AND t.metric_id = w.metric_id AND t.flag IN {VALID_SQL}"
        f"  AND t.ts < {_ms('w.lo')} ORDER BY t.ts DESC LIMIT 1),"
        " (SELECT (extract(epoch FROM t.ts) * 1000)::int8 FROM telemetry t"
        f"  WHERE t.device_id = w.device_id AND t.metric_id = w.metric_id AND t.flag IN {VALID_SQL}"
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
_HEAD = (("device_id", "int4"), ("metric_id", "int2"), ("bucket", "timestamptz"), ("count", "int4"))
_TAIL = (("resets", "int4"), ("jumps", "int4"))
GAUGE_COLUMNS = (*_HEAD, *_STATS, ("mean", "float8"), ("coverage", "float8"), *_TAIL)
COUNTER_COLUMNS = (*GAUGE_COLUMNS, ("consumption", "float8"))


def write_rollups(
    conn: Conn,
    *,
    table: str,
    rollup: Rollup,
    counter: npt.NDArray[np.bool_],
    existing: tuple[I64, I64] | None = None,
) -> int:
    """Replace the rows of the rollup's buckets: delete what they held, COPY the new rows.

    ``existing`` names the (series, bucket) rows known to be stored (the job has just read them);
    None deletes by every key. COPY straight into the hypertable is several times faster than
    INSERT ... ON CONFLICT. ``counter`` marks counter rows (consumption; NULL for the others).
    """
    if table not in ROLLUP_TABLES:
        raise ValueError(f"unknown rollup table {table!r}")
    if len(rollup) == 0:
        return 0
    if np.isnan(rollup.interval_ms).any():
        raise ValueError("rollups to store need the expected reading interval of every series")
    gone_s, gone_b = (rollup.series, rollup.bucket) if existing is None else existing
    if gone_s.size:
        dev, met = unpack(gone_s)
        conn.execute(
            f"DELETE FROM {table} r USING unnest(%(d)s::int[], %(m)s::int[], %(b)s::int8[]) AS k(d, m, b)"
            f" WHERE r.device_id = k.d AND r.metric_id = k.m AND r.bucket = {_ms('k.b')}",
            {"d": dev.tolist(), "m": met.tolist(), "b": gone_b.tolist()},
        )
    dev, met = unpack(rollup.series)
    arrays = {
        "device_id": dev,
        "metric_id": met,
        "bucket": rollup.bucket,
        "count": rollup.count,
        **{name: getattr(rollup, name) for name, _ in _STATS},
        "mean": rollup.mean,
        "coverage": rollup.coverage,
        "resets": rollup.resets,
        "jumps": rollup.jumps,
        "consumption": rollup.consumption,
    }
    for columns, rows in ((COUNTER_COLUMNS, counter), (GAUGE_COLUMNS, ~counter)):
        if rows.any():
            names = ", ".join(c for c, _ in columns)
            payload = binary_copy.encode(columns, {k: np.asarray(v)[rows] for k, v in arrays.items()})
            with conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(payload)
    return len(rollup)


FETCH_ROLLUP_COLUMNS = (
    ("device_id", "int4"),
    ("metric_id", "int2"),
    ("bucket", "timestamptz"),
    ("count", "int4"),
    *_STATS,
    ("consumption", "float8"),
    ("resets", "int4"),
    ("jumps", "int4"),
)


def rollups(conn: Conn, *, table: str, windows: Windows, width_ms: int) -> Rollup:
    """Stored rollup rows of each series with bucket inside the windows (interval NaN, end =
    bucket + width: callers re-bucket them)."""
    if table not in ROLLUP_TABLES:
        raise ValueError(f"unknown rollup table {table!r}")
    names = ", ".join("coalesce(t.consumption, 0)" if n == "consumption" else f"t.{n}" for n, _ in FETCH_ROLLUP_COLUMNS)
    cols = _scan_or_probe(conn, columns=FETCH_ROLLUP_COLUMNS, select=names, table=table, ts="bucket", windows=windows)
    n = cols["bucket"].size
    i64 = {k: cols[k].astype(np.int64) for k in ("bucket", "count", "first_ts", "last_ts", "resets", "jumps")}
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


def mark_dirty_park_days(conn: Conn, *, park_days: Iterable[tuple[int, date]]) -> None:
    """Queue these (park_id, local day) for the indicator job (a month's first day: its month)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO aggregation_dirty_days (park_id, day) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            sorted(set(park_days)),
        )


def claim_dirty_days(conn: Conn, *, limit: int) -> dict[int, list[date]]:
    """Take up to ``limit`` queued (park, day), oldest first, locked so that no other indicator job
    takes them too: park_id -> sorted days. They leave the queue when the caller commits. A day
    whose computation failed waits for its retry time (aggregation.failures)."""
    rows = conn.execute(
        "DELETE FROM aggregation_dirty_days t USING (SELECT park_id, day FROM aggregation_dirty_days q"
        " WHERE NOT EXISTS (SELECT 1 FROM aggregation_failures f WHERE f.job = 'indicators'"
        " AND f.park_id = q.park_id AND f.day = q.day AND f.retry_at > now())"
        " ORDER BY day LIMIT %s FOR UPDATE SKIP LOCKED) c"
        " WHERE t.park_id = c.park_id AND t.day = c.day RETURNING t.park_id, t.day",
        (limit,),
    ).fetchall()
    out: dict[int, list[date]] = defaultdict(list)
    for p, d in rows:
        out[p].append(d)
    return {p: sorted(ds) for p, ds in out.items()}
