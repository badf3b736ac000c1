"""Compacting the cold tier: a month's daily files of one park and category become one file.

A chunk leaves the database as files of one day each; a year of one series would then open 365
files, about a millisecond each. Once a month is wholly cold its files are merged: the merged file
is written and read back (same rows, same checksum as the daily files together), then listed in
their place in one transaction, and only then are the daily files deleted. A process killed before
the swap leaves an unlisted merged file (written again by the next pass); killed after it, unlisted
daily files: no read takes an unlisted file, so no reading is lost or counted twice.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from storage import layout, manifest
from storage.coldfs import ColdStore

log = logging.getLogger("storage.compaction")


def month_path(root: str, *, month: date, park_id: int, category: str, first_chunk: str, last_chunk: str) -> str:
    folder = f"{root.rstrip('/')}/{layout.TELEMETRY}/month={month:%Y-%m}/park={park_id}"
    return f"{folder}/{category}-{first_chunk}-{last_chunk}.parquet"


def _sorted(t: pa.Table) -> pa.Table:
    """By (device, metric, time): one series' readings of the month together, for row-group pruning."""
    order = np.lexsort(
        (
            t.column("ts").cast(pa.int64()).to_numpy(),
            t.column("metric_id").to_numpy(),
            t.column("device_id").to_numpy(),
        )
    )
    return t.take(pa.array(order))


def compact_month(conn: Any, store: ColdStore, *, park_id: int, category: str, month: date, zstd_level: int) -> int:
    """Merge one month's daily files; the number of files merged (0: fewer than two)."""
    old = manifest.month_files(conn, hypertable=layout.TELEMETRY, park_id=park_id, category=category, month=month)
    if len(old) < 2:
        return 0
    merged = _sorted(pa.concat_tables([layout.read(f.path, store.fs) for f in old]))
    path = month_path(store.root, month=month, park_id=park_id, category=category,
                      first_chunk=old[0].chunk, last_chunk=old[-1].chunk)  # fmt: skip
    store.make_parent(path)
    pq.write_table(layout.encode(merged), path, filesystem=store.fs, **layout.writer_options(zstd_level))
    back = layout.read(path, store.fs)
    if (back.num_rows, layout.checksum([back])) != (merged.num_rows, layout.checksum([merged])):
        store.delete([path])
        raise RuntimeError(f"compacted file {path} does not read back as the {len(old)} files it merges")
    manifest.replace_files(
        conn, hypertable=layout.TELEMETRY, old=old, path=path, park_id=park_id, category=category,
        size=store.size(path),
    )  # fmt: skip
    store.delete([f.path for f in old])
    return len(old)


def compact(conn: Any, store: ColdStore, *, before: date, zstd_level: int) -> int:
    """Merge every month ending before ``before`` that still has daily files; files merged."""
    merged = 0
    for park_id, category, month in manifest.month_groups(conn, hypertable=layout.TELEMETRY, before=before):
        merged += compact_month(conn, store, park_id=park_id, category=category, month=month, zstd_level=zstd_level)
    if merged:
        log.info("compacted %d daily cold files", merged)
    return merged
