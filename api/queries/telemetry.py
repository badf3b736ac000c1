"""Latest readings (ingest's telemetry_latest) and series from raw telemetry or the rollups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg

from api.auth import Principal
from api.queries.scope import Where, page, tenant
from api.series import Interval, SeriesPlan
from energy.counted import counted_sql
from storage import cold_read, manifest
from storage.coldfs import ColdStore

Row = dict[str, Any]

# The aggregation area's rollup tables, one per stored interval; month re-buckets the daily one.
ROLLUP_TABLE: dict[Interval, str] = {
    Interval.M15: "rollup_15m",
    Interval.H1: "rollup_1h",
    Interval.D1: "rollup_1d",
    Interval.MONTH: "rollup_1d",
}
STAT_COLS = "x.count, x.sum, x.min, x.max, x.first, x.last, x.consumption"


def latest(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    park_id: int | None,
    enterprise_id: int | None,
    device_ids: list[int] | None,
    metric_ids: list[int] | None,
    limit: int,
    offset: int,
) -> list[Row]:
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id", category="m.category")
    w.when(park_id, "e.park_id = %(pid)s", "pid").when(enterprise_id, "d.enterprise_id = %(eid)s", "eid")
    w.when(device_ids, "l.device_id = ANY(%(dids)s)", "dids")
    w.when(metric_ids, "l.metric_id = ANY(%(mids)s)", "mids")
    tail = page(w, limit, offset)
    return conn.execute(
        "SELECT l.device_id, d.code AS device, d.kind, d.enterprise_id, e.park_id, m.code AS"
        " metric,"
        " m.unit, m.category, l.ts, l.value, l.flag"
        " FROM telemetry_latest l JOIN devices d USING (device_id)"
        " JOIN enterprises e ON e.enterprise_id = d.enterprise_id"
        " JOIN metrics m ON m.metric_id = l.metric_id"
        f" WHERE {w.sql} ORDER BY l.device_id, l.metric_id{tail}",
        w.params,
    ).fetchall()


def latest_since(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    device_ids: list[int] | None,
    enterprise_id: int | None,
    metric_ids: list[int] | None,
    since: datetime | None,
    limit: int,
) -> list[Row]:
    """Changes for the live stream: readings newer than ``since`` (all current ones when None)."""
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id", category="m.category")
    w.when(device_ids, "l.device_id = ANY(%(dids)s)", "dids")
    w.when(enterprise_id, "d.enterprise_id = %(eid)s", "eid")
    w.when(metric_ids, "l.metric_id = ANY(%(mids)s)", "mids")
    w.when(since, "l.ts > %(since)s", "since")
    w.params["lim"] = limit
    return conn.execute(
        "SELECT l.device_id, d.code AS device, d.enterprise_id, m.code AS metric, m.unit, l.ts,"
        " l.value, l.flag FROM telemetry_latest l JOIN devices d USING (device_id)"
        " JOIN enterprises e ON e.enterprise_id = d.enterprise_id"
        " JOIN metrics m ON m.metric_id = l.metric_id"
        f" WHERE {w.sql} ORDER BY l.ts LIMIT %(lim)s",
        w.params,
    ).fetchall()


def visible_devices(conn: psycopg.Connection[Any], p: Principal, *, device_ids: list[int]) -> dict[int, Row]:
    """The requested devices the principal may read, with their park's time zone."""
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id")
    w.add("d.device_id = ANY(%(ids)s)", ids=device_ids)
    rows = conn.execute(
        "SELECT d.device_id, d.code, d.enterprise_id, e.park_id, pk.timezone FROM devices d"
        " JOIN enterprises e USING (enterprise_id) JOIN parks pk ON pk.park_id = e.park_id"
        f" WHERE {w.sql}",
        w.params,
    ).fetchall()
    return {r["device_id"]: r for r in rows}


@dataclass(frozen=True, slots=True)
class Points:
    ts: list[int]  # epoch ms: bucket starts, or reading times for raw
    values: list[float | None]
    flags: list[int] | None  # raw readings only
    truncated: bool


# One aggregate of a bucket's stored statistics, chosen per requested series (agg); the same
# expression serves merged (monthly) buckets because it reads only combinable statistics.
PICK = (
    "CASE {agg} WHEN 'avg' THEN x.sum / nullif(x.count, 0) WHEN 'min' THEN x.min"
    " WHEN 'max' THEN x.max WHEN 'sum' THEN x.sum WHEN 'count' THEN x.count::float8"
    " WHEN 'first' THEN x.first WHEN 'last' THEN x.last WHEN 'consumption' THEN x.consumption END"
)
EPOCH_MS = "(extract(epoch FROM {col}) * 1000)::bigint"  # exact for any timestamp (numeric)
# Bucket starts are whole seconds, exact in float8 too, whose arithmetic is cheaper than numeric's.
BUCKET_MS = "(date_part('epoch', {col}) * 1000)::bigint"


def series(
    conn: psycopg.Connection[Any],
    plan: SeriesPlan,
    *,
    timezones: list[str],
    parks: list[int] | None = None,
    cold: ColdStore | None = None,
) -> list[Points]:
    """Points of every pair in the plan, in the plan's order (the devices are already checked).

    Each series comes back as one row of arrays: per-point rows cost far more to decode. Raw
    readings over a range reaching into the cold tier come from its files too (``cold``, with
    each pair's park in ``parks``): a chunk is in one tier only, so the two never overlap.
    """
    out = _hot_series(conn, plan, timezones=timezones)
    if plan.interval is not Interval.RAW or cold is None or parks is None:
        return out
    if not manifest.reaches_cold(conn, hypertable="telemetry", start=plan.start):
        return out
    # one pass over the cold files of each (park, category) for all its series
    groups: dict[tuple[int, str], list[tuple[int, int]]] = {}
    for pair, park in zip(plan.pairs, parks, strict=True):
        groups.setdefault((park, pair.metric.category.value), []).append((pair.device_id, pair.metric.id))
    found: dict[tuple[int, int], cold_read.ColdPoints] = {}
    for (park, category), series_ in groups.items():
        found |= cold_read.raw_many(
            conn, cold, series=series_, park_id=park, category=category, start=plan.start, end=plan.end
        )
    return [
        _with_cold(plan, found.get((pair.device_id, pair.metric.id), cold_read.EMPTY), hot)
        for pair, hot in zip(plan.pairs, out, strict=True)
    ]


def _with_cold(plan: SeriesPlan, c: cold_read.ColdPoints, hot: Points) -> Points:
    if not len(c.ts_us):
        return hot
    ts = np.concatenate([c.ts_us // 1000, np.asarray(hot.ts, dtype=np.int64)])
    values = np.concatenate([c.values, np.asarray(hot.values, dtype=np.float64)])
    flags = np.concatenate([c.flags, np.asarray(hot.flags or [], dtype=np.int16)])
    cap = plan.limit_per_series
    order = np.argsort(ts, kind="stable")[:cap]
    return Points(ts[order].tolist(), values[order].tolist(), flags[order].tolist(), len(ts) > cap or hot.truncated)


def _hot_series(conn: psycopg.Connection[Any], plan: SeriesPlan, *, timezones: list[str]) -> list[Points]:
    n = len(plan.pairs)
    params: dict[str, Any] = {
        "dev": [pair.device_id for pair in plan.pairs],
        "met": [pair.metric.id for pair in plan.pairs],
        "agg": [a.value for a in plan.aggregates],
        "tz": timezones,
        "start": plan.start,
        "end": plan.end,
        "lim": plan.limit_per_series + 1,
    }
    req = (
        "SELECT * FROM unnest(%(dev)s::int[], %(met)s::int2[], %(agg)s::text[], %(tz)s::text[])"
        " WITH ORDINALITY AS r(device_id, metric_id, agg, tz, i)"
    )
    if plan.interval is Interval.RAW:
        sql = (
            f"WITH req AS ({req}) SELECT r.i, array_agg({EPOCH_MS.format(col='x.ts')} ORDER BY"
            " x.ts) AS ts,"
            " array_agg(x.value ORDER BY x.ts) AS v, array_agg(x.flag ORDER BY x.ts) AS f FROM"
            " req r"
            " CROSS JOIN LATERAL (SELECT t.ts, t.value, t.flag FROM telemetry t"
            "  WHERE t.device_id = r.device_id AND t.metric_id = r.metric_id"
            "  AND t.ts >= %(start)s AND t.ts < %(end)s ORDER BY t.ts LIMIT %(lim)s) x GROUP BY r.i"
        )
    elif plan.interval is Interval.MONTH:
        table = ROLLUP_TABLE[plan.interval]
        # Calendar months of the park: daily buckets grouped by local month, parts combined exactly.
        sql = (
            f"WITH req AS ({req}), x AS (SELECT r.i, r.agg,"
            " (date_trunc('month', d.bucket AT TIME ZONE r.tz) AT TIME ZONE r.tz) AS bucket,"
            " sum(d.count)::bigint AS count, sum(d.sum) AS sum, min(d.min) AS min, max(d.max) AS"
            " max,"
            " (array_agg(d.first ORDER BY d.bucket))[1] AS first,"
            " (array_agg(d.last ORDER BY d.bucket DESC))[1] AS last,"
            " sum(d.consumption) AS consumption"
            f" FROM req r JOIN {table} d ON d.device_id = r.device_id AND d.metric_id = r.metric_id"
            "  AND d.bucket >= %(start)s AND d.bucket < %(end)s GROUP BY r.i, r.agg, 3)"
            f" SELECT x.i, array_agg({BUCKET_MS.format(col='x.bucket')} ORDER BY x.bucket) AS ts,"
            f" array_agg({PICK.format(agg='x.agg')} ORDER BY x.bucket) AS v FROM x GROUP BY x.i"
        )
    else:
        table = ROLLUP_TABLE[plan.interval]
        sql = (
            f"WITH req AS ({req}) SELECT r.i,"
            f" array_agg({BUCKET_MS.format(col='x.bucket')} ORDER BY x.bucket) AS ts,"
            f" array_agg({PICK.format(agg='r.agg')} ORDER BY x.bucket) AS v FROM req r"
            f" CROSS JOIN LATERAL (SELECT * FROM {table} x"
            "  WHERE x.device_id = r.device_id AND x.metric_id = r.metric_id"
            "  AND x.bucket >= %(start)s AND x.bucket < %(end)s ORDER BY x.bucket LIMIT %(lim)s) x"
            " GROUP BY r.i"
        )
    # Binary results: the server sends the arrays' numbers without formatting them as text, and
    # the client reads them without parsing text.
    found = {row["i"]: row for row in conn.cursor(binary=True).execute(sql, params).fetchall()}
    out = []
    cap = plan.limit_per_series
    for i in range(1, n + 1):
        row = found.get(i)
        if row is None:
            out.append(Points([], [], [] if plan.interval is Interval.RAW else None, False))
            continue
        flags = row.get("f")
        out.append(
            Points(
                row["ts"][:cap],
                row["v"][:cap],
                None if flags is None else flags[:cap],
                len(row["ts"]) > cap,
            )
        )
    return out


def park_sum(
    conn: psycopg.Connection[Any],
    *,
    park_id: int,
    metric_id: int,
    interval: Interval,
    start: datetime,
    end: datetime,
) -> tuple[list[int], list[float], int]:
    """Σ over a park's devices of a gauge's bucket mean: epoch-ms bucket starts, sums, devices.

    Sub-meters and the park's own meters are left out (``energy.counted``): each load once.
    One answer for the park's load whatever the number of its meters (the page asked in chunks of
    50 series before). The caller has checked that the park and the metric's category are readable.
    """
    table = ROLLUP_TABLE[interval]
    # Grouped by the bucket itself (a hash of a few hundred timestamps), epoch ms computed on the
    # groups only: numeric epoch arithmetic and a sort over every row took 150 ms at 500
    # enterprises. A (device, metric, bucket) is one rollup row, so count(*) counts meters.
    rows = conn.execute(
        "SELECT (extract(epoch FROM g.bucket) * 1000)::int8 AS ts, g.v, g.n FROM ("
        " SELECT x.bucket, sum(x.mean) AS v, count(*) AS n"
        f" FROM {table} x JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id)"
        " WHERE e.park_id = %(pid)s AND x.metric_id = %(mid)s"
        f" AND x.bucket >= %(start)s AND x.bucket < %(end)s AND {counted_sql('x.device_id')}"
        " GROUP BY x.bucket) g ORDER BY g.bucket",
        {"pid": park_id, "mid": metric_id, "start": start, "end": end},
    ).fetchall()
    return [r["ts"] for r in rows], [r["v"] for r in rows], max((r["n"] for r in rows), default=0)
