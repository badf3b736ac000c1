"""Raw readings of an export whose range reaches the cold tier: the Parquet files merged with
the hot rows (storage.raw_tiers), series by series in the export's order, a few devices read at
a time: memory holds their range, never the whole export, and each read of the cold files serves
several devices. Rollups stay in the database, so only raw exports need this."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.rows import tuple_row

from api.queries.exports import Export
from smartpark.series_key import pack, unpack
from storage import raw_tiers
from storage.coldfs import ColdStore

DEVICES_A_READ = 8  # a month of raw readings of 8 devices is some tens of MB


def _hot(
    conn: psycopg.Connection[Any], keys: npt.NDArray[np.int64], start: datetime, end: datetime
) -> raw_tiers.Points:
    devices, metrics = unpack(keys)
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT device_id, metric_id, (extract(epoch FROM ts) * 1000)::int8, value, flag FROM telemetry"
            " WHERE device_id = ANY(%s) AND metric_id = ANY(%s) AND ts >= %s AND ts < %s"
            " ORDER BY device_id, metric_id, ts",
            (sorted(set(devices.tolist())), sorted(set(metrics.tolist())), start, end),
        ).fetchall()
    got = raw_tiers.Points(
        pack(np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64)),
        np.array([r[2] for r in rows], dtype=np.int64),
        np.array([r[3] for r in rows], dtype=np.float64),
        np.array([r[4] for r in rows], dtype=np.int16),
    )
    return got.take(np.isin(got.series, keys))  # the export's series only


def raw_rows(
    conn: psycopg.Connection[Any], cold: ColdStore, export: Export, *, start: datetime, end: datetime
) -> Iterator[tuple[Any, ...]]:
    """The rows of a raw telemetry export (``api.queries.exports.telemetry``) across both tiers:
    local time, enterprise, device, metric, unit, statistic, value, flag."""
    p = export.params
    tz = ZoneInfo(p["tz"])
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    keys_of: dict[int, list[int]] = {}
    for d, m in zip(p["dev"], p["met"], strict=True):
        keys_of.setdefault(d, []).append(int(pack(np.array([d]), np.array([m]))[0]))
    order = list(keys_of)  # devices as the export's series come: device by device
    loaded: set[int] = set()
    got = raw_tiers.NONE
    for i, d in enumerate(p["dev"]):
        if d not in loaded:
            at = order.index(d)
            batch = order[at : at + DEVICES_A_READ]
            keys = np.array(sorted(k for b in batch for k in keys_of[b]), dtype=np.int64)
            cold_part = raw_tiers.points(conn, cold, start_ms=start_ms, end_ms=end_ms, series=keys)
            got, loaded = raw_tiers.merge_points(_hot(conn, keys, start, end), cold_part), set(batch)
        key = int(pack(np.array([d]), np.array([p["met"][i]]))[0])
        lo, hi = np.searchsorted(got.series, key), np.searchsorted(got.series, key, side="right")
        label = (p["ent"][i], p["dcode"][i], p["name"][i], p["unit"][i], p["agg_zh"][i])
        for t, v, f in zip(got.ts[lo:hi].tolist(), got.value[lo:hi].tolist(), got.flag[lo:hi].tolist(), strict=True):
            yield (datetime.fromtimestamp(t / 1000, tz).replace(tzinfo=None), *label, v, f)
