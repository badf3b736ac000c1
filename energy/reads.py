"""What the energy views read: the rollups of a tree's meters as arrays (series = position in
the list of devices given)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.rows import tuple_row

from aggregation.store import ms_sql
from smartpark.catalogue import METRICS, MetricKind

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
HOUR_MS = 3_600_000

# the counter each carrier is metered by (electricity: imported active energy)
COUNTER_OF = {m.carrier: m.id for m in METRICS if m.kind is MetricKind.COUNTER and m.carrier}


@dataclass(frozen=True, slots=True)
class Quarters:
    """15-minute rollup rows sorted by (series, bucket)."""

    series: I64
    bucket: I64
    kwh: F64
    first: F64
    first_ts: I64
    last: F64
    last_ts: I64


def quarters(
    conn: psycopg.Connection[Any], *, devices: list[int], carrier: str, start_ms: int, end_ms: int
) -> Quarters:
    rows = (
        conn.cursor(row_factory=tuple_row, binary=True)
        .execute(
            "SELECT r.device_id, (extract(epoch FROM r.bucket) * 1000)::int8, coalesce(r.consumption, 0),"
            " r.first, (extract(epoch FROM r.first_ts) * 1000)::int8, r.last,"
            " (extract(epoch FROM r.last_ts) * 1000)::int8 FROM rollup_15m r"
            " WHERE r.device_id = ANY(%(d)s) AND r.metric_id = %(m)s"
            f" AND r.bucket >= {ms_sql('%(a)s::int8')} AND r.bucket < {ms_sql('%(b)s::int8')}",
            {"d": devices, "m": COUNTER_OF[carrier], "a": start_ms, "b": end_ms},
        )
        .fetchall()
    )
    pos = {d: i for i, d in enumerate(devices)}
    cols = list(zip(*rows, strict=True)) if rows else [()] * 7
    series = np.asarray([pos[d] for d in cols[0]], dtype=np.int64)
    bucket = np.asarray(cols[1], dtype=np.int64)
    order = np.lexsort((bucket, series))
    f64 = [np.asarray(c, dtype=np.float64)[order] for c in (cols[2], cols[3], cols[5])]
    i64 = [np.asarray(c, dtype=np.int64)[order] for c in (cols[4], cols[6])]
    return Quarters(series[order], bucket[order], f64[0], f64[1], i64[0], f64[2], i64[1])


def hourly(conn: psycopg.Connection[Any], *, devices: list[int], carrier: str, start_ms: int, hours: int) -> F64:
    """Consumption per (device, hour) from ``start_ms`` (zeros where no rollup)."""
    out = np.zeros((len(devices), hours))
    pos = {d: i for i, d in enumerate(devices)}
    for device, at, kwh in (
        conn.cursor(row_factory=tuple_row)
        .execute(
            "SELECT device_id, (extract(epoch FROM bucket) * 1000)::int8, coalesce(consumption, 0) FROM rollup_1h"
            f" WHERE device_id = ANY(%(d)s) AND metric_id = %(m)s AND bucket >= {ms_sql('%(a)s::int8')}"
            f" AND bucket < {ms_sql('%(b)s::int8')}",
            {"d": devices, "m": COUNTER_OF[carrier], "a": start_ms, "b": start_ms + hours * HOUR_MS},
        )
        .fetchall()
    ):
        out[pos[device], (at - start_ms) // HOUR_MS] += kwh
    return out


def dict_rows(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rows as dicts whatever row factory the caller's connection has."""
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(sql, params)
        names = [d.name for d in cur.description or ()]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
