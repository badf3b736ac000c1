"""The first export of a chunk, stage after stage, kept to be measured against the overlapped one
(storage.export) on the same chunk in the same run: read the whole chunk as arrays per series,
split it, then write each file and checksum the whole, nothing overlapping. It writes to a folder
of its own and records nothing.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from storage import layout, tiering
from storage.coldfs import ColdStore


def _checksum(tables: list[pa.Table]) -> str:
    """The first checksum: every column of every table in turn, one hash."""
    h = hashlib.blake2b(digest_size=16)
    for t in tables:
        for name in layout.SCHEMA.names:
            col = t.column(name).combine_chunks()
            if name == "ts":
                col = col.cast(pa.int64())
            h.update(name.encode())
            h.update(
                np.ascontiguousarray(col.to_numpy(zero_copy_only=False)).astype(col.type.to_pandas_dtype()).tobytes()
            )
    return h.hexdigest()


def export(conn: Any, store: ColdStore, chunk: dict[str, Any], *, zstd_level: int) -> tuple[int, dict[str, float]]:
    """Readings written and the wall time of each stage (read, split, write, checksum)."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    arrays = tiering.read_chunk(conn, chunk)
    seconds["read"] = time.perf_counter() - t
    t = time.perf_counter()
    parks, categories = tiering.registry_maps(conn)
    rows, parts = layout.split(arrays, park_of_device=parks, category_of_metric=categories)
    paths = [p.path(store.root, chunk["chunk_name"]) for p in parts]
    seconds["split"] = time.perf_counter() - t
    t = time.perf_counter()
    tables = [layout.table(rows, p.start, p.stop) for p in parts]
    for path, table in zip(paths, tables, strict=True):
        store.make_parent(path)
        pq.write_table(layout.encode(table), path, filesystem=store.fs, **layout.writer_options(zstd_level))
    seconds["write"] = time.perf_counter() - t
    t = time.perf_counter()
    _checksum(tables)
    seconds["checksum"] = time.perf_counter() - t
    return sum(tb.num_rows for tb in tables), seconds
