"""Raw readings of an export whose range reaches the cold tier: the Parquet files merged with
the hot rows (storage.raw_tiers), series by series in the export's order, one device read at a
time so memory holds one device's range, never the whole export. Rollups stay in the database,
so only raw exports need this."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from psycopg.rows import tuple_row

from api.queries.exports import Export
from smartpark.series_key import pack
from storage import raw_tiers
from storage.coldfs import ColdStore


def _hot(
    conn: psycopg.Connection[Any], device: int, metrics: list[int], start: datetime, end: datetime
) -> raw_tiers.Points:
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT metric_id, (extract(epoch FROM ts) * 1000)::int8, value, flag FROM telemetry"
            " WHERE device_id = %s AND metric_id = ANY(%s) AND ts >= %s AND ts < %s ORDER BY metric_id, ts",
            (device, metrics, start, end),
        ).fetchall()
    met = np.array([r[0] for r in rows], dtype=np.int64)
    return raw_tiers.Points(
        pack(np.full(met.size, device), met),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=np.float64),
        np.array([r[3] for r in rows], dtype=np.int16),
    )


def raw_rows(
    conn: psycopg.Connection[Any], cold: ColdStore, export: Export, *, start: datetime, end: datetime
) -> Iterator[tuple[Any, ...]]:
    """The rows of a raw telemetry export (``api.queries.exports.telemetry``) across both tiers:
    local time, enterprise, device, metric, unit, statistic, value, flag."""
    p = export.params
    tz = ZoneInfo(p["tz"])
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    metrics_of: dict[int, list[int]] = {}
    for d, m in zip(p["dev"], p["met"], strict=True):
        metrics_of.setdefault(d, []).append(m)
    device, got = None, raw_tiers.NONE
    for i, (d, m) in enumerate(zip(p["dev"], p["met"], strict=True)):
        if d != device:  # the export's series come device by device
            device = d
            keys = pack(np.full(len(metrics_of[d]), d), np.asarray(metrics_of[d]))
            cold_part = raw_tiers.points(conn, cold, start_ms=start_ms, end_ms=end_ms, series=keys)
            got = raw_tiers.merge_points(_hot(conn, d, metrics_of[d], start, end), cold_part)
        key = int(pack(np.array([d]), np.array([m]))[0])
        lo, hi = np.searchsorted(got.series, key), np.searchsorted(got.series, key, side="right")
        label = (p["ent"][i], p["dcode"][i], p["name"][i], p["unit"][i], p["agg_zh"][i])
        for t, v, f in zip(got.ts[lo:hi].tolist(), got.value[lo:hi].tolist(), got.flag[lo:hi].tolist(), strict=True):
            yield (datetime.fromtimestamp(t / 1000, tz).replace(tzinfo=None), *label, v, f)
