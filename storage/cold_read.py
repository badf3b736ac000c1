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
    paths = manifest.cold_paths(
        conn,
        hypertable=layout.TELEMETRY,
        park_id=park_id,
        category=category,
        first_day=start.astimezone(UTC).date(),
        last_day=(end.astimezone(UTC) - timedelta(microseconds=1)).date(),
    )
    if not paths:
        return EMPTY
    # from the listed paths as they are: no directory listing, no look at each file beforehand
    dataset = ds.FileSystemDataset.from_paths(
        paths, schema=layout.FILE_SCHEMA, format=ds.ParquetFileFormat(), filesystem=store.fs
    )
    wanted = (
        (pc.field("device_id") == device_id)
        & (pc.field("metric_id") == metric_id)
        & (pc.field("ts") >= start)
        & (pc.field("ts") < end)
    )
    t = layout.decode(dataset.to_table(filter=wanted))
    ts = t.column("ts").cast("int64").to_numpy()
    order = np.argsort(ts, kind="stable")
    return ColdPoints(ts[order], t.column("value").to_numpy()[order], t.column("flag").to_numpy()[order])
