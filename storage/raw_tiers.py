"""Raw readings of old periods across both tiers, for what recomputes statistics from them.

The rollup job (a late correction, a recomputed day), the emissions' stopped hours and the
completeness counts read raw telemetry from the database; once a period's chunks are in the cold
tier the database holds only what arrived after the move. Each of those readers adds the cold
part through this module: the readings of the asked series and span from the Parquet files of
their parks and categories, merged with the hot rows by the caller (a reading is in exactly one
tier; a late one for an instant already cold is a correction, and the hot one wins).

Every function costs one small manifest query when the span reaches no cold chunk, which is the
case of every live read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import pyarrow.compute as pc
import pyarrow.dataset as ds

from smartpark.series_key import pack, unpack
from smartpark.timebase import datetime_from_ms, ms_from_datetime
from storage import layout, manifest
from storage.coldfs import ColdStore
from storage.sql import tuples

Conn = psycopg.Connection[Any]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I16 = npt.NDArray[np.int16]
DAY_MS = 86_400_000
# How far before a window a counter's previous reading is looked for in the cold tier (and after
# it, the next): a meter silent longer than a month starts its consumption at its next reading.
NEIGHBOUR_SPAN_MS = 31 * DAY_MS


@dataclass(frozen=True, slots=True)
class Points:
    """Cold readings sorted by (series, ts): series keys, epoch ms, values, flags."""

    series: I64
    ts: I64
    value: F64
    flag: I16

    def __len__(self) -> int:
        return int(self.ts.size)

    def take(self, rows: npt.NDArray[np.bool_] | I64) -> Points:
        return Points(self.series[rows], self.ts[rows], self.value[rows], self.flag[rows])


NONE = Points(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int16))


def reaches_cold(conn: Conn, *, start_ms: int, end_ms: int) -> bool:
    """Does [start, end) overlap a chunk whose readings are in the cold tier?"""
    return manifest.cold_overlaps(
        conn, hypertable=layout.TELEMETRY, start=datetime_from_ms(start_ms), end=datetime_from_ms(end_ms)
    )


def cold_end_ms(conn: Conn) -> int | None:
    """Where the cold tier ends, epoch ms (None: nothing is cold): windows from there on are hot."""
    end = manifest.cold_end(conn, hypertable=layout.TELEMETRY)
    return None if end is None else ms_from_datetime(end)


def _parks(conn: Conn, devices: Iterable[int]) -> dict[int, int]:
    rows = tuples(
        conn,
        "SELECT d.device_id, e.park_id FROM devices d JOIN enterprises e USING (enterprise_id)"
        " WHERE d.device_id = ANY(%s)",
        (sorted(set(devices)),),
    ).fetchall()
    return {int(d): int(p) for d, p in rows}


def _categories(conn: Conn) -> dict[int, str]:
    """Each metric's category as the files were split by (the metrics table, as tiering reads it)."""
    return {int(m): str(c) for m, c in tuples(conn, "SELECT metric_id, category FROM metrics").fetchall()}


def points(
    conn: Conn,
    store: ColdStore,
    *,
    start_ms: int,
    end_ms: int,
    series: I64 | None = None,
    devices: Iterable[int] = (),
    flags: Iterable[int] | None = None,
) -> Points:
    """The cold readings in [start, end) of ``series`` (packed keys), or of every metric of
    ``devices`` when no series are given, with a flag in ``flags`` (None: any); by (series, ts)."""
    if end_ms <= start_ms or not reaches_cold(conn, start_ms=start_ms, end_ms=end_ms):
        return NONE
    wanted = None if series is None else np.unique(series)
    devs = sorted({int(d) for d in (unpack(wanted)[0].tolist() if wanted is not None else devices)})
    if not devs:
        return NONE
    park_of = _parks(conn, devs)
    category_of = _categories(conn)
    groups: dict[tuple[int, str | None], list[int]] = defaultdict(list)
    if wanted is None:
        for d in devs:
            if d in park_of:
                groups[(park_of[d], None)].append(d)
    else:
        for d, m in zip(*(a.tolist() for a in unpack(wanted)), strict=True):
            if d in park_of and m in category_of:
                groups[(park_of[d], category_of[m])].append(d)
    start, end = datetime_from_ms(start_ms), datetime_from_ms(end_ms)
    parts = [
        _read_group(conn, store, park, category, sorted(set(ds_)), start, end, flags)
        for (park, category), ds_ in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or ""))
    ]
    got = _concat([p for p in parts if len(p)])
    if wanted is not None and len(got):
        got = got.take(np.isin(got.series, wanted))
    order = np.lexsort((got.ts, got.series))
    return got.take(order)


def _read_group(
    conn: Conn,
    store: ColdStore,
    park: int,
    category: str | None,
    devices: list[int],
    start: datetime,
    end: datetime,
    flags: Iterable[int] | None,
) -> Points:
    first, last = start.astimezone(UTC).date(), (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    cats = [category] if category is not None else sorted(set(_categories(conn).values()))
    paths = [
        p
        for c in cats
        for p in manifest.cold_paths(
            conn, hypertable=layout.TELEMETRY, park_id=park, category=c, first_day=first, last_day=last
        )
    ]
    if not paths:
        return NONE
    dataset = ds.FileSystemDataset.from_paths(
        paths, schema=layout.FILE_SCHEMA, format=ds.ParquetFileFormat(), filesystem=store.fs
    )
    where = pc.field("device_id").isin(devices) & (pc.field("ts") >= start) & (pc.field("ts") < end)
    if flags is not None:
        where &= pc.field("flag").isin(sorted(set(flags)))
    t = layout.decode(dataset.to_table(filter=where))
    return Points(
        pack(t.column("device_id").to_numpy(), t.column("metric_id").to_numpy()),
        t.column("ts").cast("int64").to_numpy() // 1000,  # µs to ms, floored as the hot reads do
        t.column("value").to_numpy(),
        t.column("flag").to_numpy().astype(np.int16),
    )


def _concat(parts: list[Points]) -> Points:
    if not parts:
        return NONE
    return Points(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("series", "ts", "value", "flag")))


def merge(hot: tuple[I64, I64, F64], cold: Points) -> tuple[I64, I64, F64]:
    """Hot and cold readings as one (series, ts, value) sorted by (series, ts); a hot reading
    replaces a cold one of the same instant (a correction that arrived after the move)."""
    if not len(cold):
        return hot
    s = np.concatenate([cold.series, hot[0]])
    t = np.concatenate([cold.ts, hot[1]])
    v = np.concatenate([cold.value, hot[2]])
    is_hot = np.concatenate([np.zeros(len(cold), bool), np.ones(hot[0].size, bool)])
    order = np.lexsort((is_hot, t, s))  # hot after cold at the same (series, ts)
    s, t, v = s[order], t[order], v[order]
    last = np.ones(s.size, bool)
    last[:-1] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
    return s[last], t[last], v[last]


def neighbours(cold: Points, *, series: I64, lo: I64, hi: I64) -> tuple[I64, I64]:
    """Per window: time (ms) of the last of ``cold`` before ``lo`` and of the first at or after
    ``hi`` (-1 where none), ``cold`` sorted by (series, ts)."""
    n = len(cold)
    if n == 0 or series.size == 0:
        return np.full(series.size, -1, np.int64), np.full(series.size, -1, np.int64)
    present = np.unique(cold.series)
    di = np.searchsorted(present, series).clip(0, present.size - 1)
    known = present[di] == series
    dense = np.searchsorted(present, cold.series)
    base = min(int(cold.ts.min()), int(lo.min()), int(hi.min())) - 1
    width = np.int64(1) << 42  # ms spans of 139 years between the earliest and latest instant
    key = dense * width + (cold.ts - base)
    before = np.searchsorted(key, di * width + (lo - base)) - 1
    after = np.searchsorted(key, di * width + (hi - base))
    b, a = before.clip(0, n - 1), after.clip(0, n - 1)
    prev = np.where(known & (before >= 0) & (cold.series[b] == series), cold.ts[b], -1)
    nxt = np.where(known & (after < n) & (cold.series[a] == series), cold.ts[a], -1)
    return prev.astype(np.int64), nxt.astype(np.int64)


def latest(a: I64, b: I64) -> I64:
    """Element-wise the later of two instants, -1 meaning none."""
    return np.maximum(a, b)


def earliest(a: I64, b: I64) -> I64:
    """Element-wise the earlier of two instants, -1 meaning none."""
    return np.where(a < 0, b, np.where(b < 0, a, np.minimum(a, b)))


def merge_points(hot: Points, cold: Points) -> Points:
    """Hot and cold readings with their flags, by (series, ts); a hot reading replaces a cold one
    of the same instant, as :func:`merge` does."""
    if not len(cold):
        return hot
    both = _concat([cold, hot])
    is_hot = np.concatenate([np.zeros(len(cold), bool), np.ones(len(hot), bool)])
    order = np.lexsort((is_hot, both.ts, both.series))
    both = both.take(order)
    last = np.ones(len(both), bool)
    last[:-1] = (both.series[1:] != both.series[:-1]) | (both.ts[1:] != both.ts[:-1])
    return both.take(last)
