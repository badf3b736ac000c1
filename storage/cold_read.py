"""Reading raw telemetry across tiers: the cold tier's Parquet files of a series' park, category
and days, filtered by device, metric and time with pyarrow datasets (row-group statistics skip
what the sorted files do not hold for the series)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import pyarrow.compute as pc
import pyarrow.dataset as ds

from storage import layout, manifest
from storage.coldfs import ColdStore

Conn = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class ColdPoints:
    ts_us: npt.NDArray[np.int64]  # Unix µs, ascending
    values: npt.NDArray[np.float64]
    flags: npt.NDArray[np.int16]


EMPTY = ColdPoints(np.zeros(0, np.int64), np.zeros(0, np.float64), np.zeros(0, np.int16))


Series = tuple[int, int]  # (device_id, metric_id)


def raw_series(
    conn: Conn,
    store: ColdStore,
    *,
    device_id: int,
    metric_id: int,
    park_id: int,
    category: str,
    start: datetime,
    end: datetime,
) -> ColdPoints:
    """The cold readings of one series in [start, end), by time."""
    return raw_many(
        conn, store, series=[(device_id, metric_id)], park_id=park_id, category=category, start=start, end=end
    ).get((device_id, metric_id), EMPTY)


def raw_many(
    conn: Conn,
    store: ColdStore,
    *,
    series: list[Series],
    park_id: int,
    category: str,
    start: datetime,
    end: datetime,
) -> dict[Series, ColdPoints]:
    """The cold readings in [start, end) of several series of one park and category, each by
    time: one pass over their files, however many series (a device's metrics share them)."""
    paths = manifest.cold_paths(
        conn,
        hypertable=layout.TELEMETRY,
        park_id=park_id,
        category=category,
        first_day=start.astimezone(UTC).date(),
        last_day=(end.astimezone(UTC) - timedelta(microseconds=1)).date(),
    )
    if not paths or not series:
        return {}
    # from the listed paths as they are: no directory listing, no look at each file beforehand
    dataset = ds.FileSystemDataset.from_paths(
        paths, schema=layout.FILE_SCHEMA, format=ds.ParquetFileFormat(), filesystem=store.fs
    )
    devices, metrics = sorted({d for d, _ in series}), sorted({m for _, m in series})
    wanted = (
        pc.field("device_id").isin(devices)
        & pc.field("metric_id").isin(metrics)
        & (pc.field("ts") >= start)
        & (pc.field("ts") < end)
    )
    t = layout.decode(dataset.to_table(filter=wanted))
    ts = t.column("ts").cast("int64").to_numpy()
    dev, met = t.column("device_id").to_numpy(), t.column("metric_id").to_numpy()
    values, flags = t.column("value").to_numpy(), t.column("flag").to_numpy()
    out = {}
    for d, m in series:
        mine = np.flatnonzero((dev == d) & (met == m))
        order = mine[np.argsort(ts[mine], kind="stable")]
        out[(d, m)] = ColdPoints(ts[order], values[order], flags[order])
    return out
