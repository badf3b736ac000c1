"""Writing one chunk's cold files with the stages overlapped: reading, encoding, writing and
checksumming at once.

Read whole and then written, a chunk kept one side idle at every moment: the database while the
client split, encoded and wrote, the client while the database read. Here the chunk is read in
batches of whole devices by reader threads, each on a connection of its own, so the database
works on the next batches while this thread sorts one into its files, encodes it and appends it
to their Parquet writers (pyarrow encodes and compresses outside the GIL). Batches come in device
order and a file's rows in batch order, so every file is sorted by (device, metric, time) as if
written at once; its rows wait until a row group (128 Ki rows) is full, so its row groups are the
same too, and each series' decimal scale too (a series never spans two batches). Each file's
digest is taken from the very arrays written (storage.layout.Digest).
"""

from __future__ import annotations

import logging
import math
import queue
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from psycopg.conninfo import make_conninfo
from psycopg.rows import tuple_row

from smartpark.db.binary_copy import decode_array, load_arrays_raw
from storage import layout
from storage.coldfs import ColdStore
from storage.sql import tuples

log = logging.getLogger("storage.export")
Conn = psycopg.Connection[Any]
Arrays = dict[str, npt.NDArray[np.generic]]
INT4 = (-(2**31), 2**31 - 1)
ROWS_PER_BATCH = 100_000  # a batch: about 70 series' day at one reading a minute
HOT_ROW_BYTES = 60  # a reading in the chunk's heap (docs/benchmarks.md, "Storage")
MAX_BATCHES = 64
READERS = 2  # connections reading at once: the database's cores, not the client's

# A chunk's readings are read and counted through the hypertable over the chunk's range (chunk
# exclusion leaves that one chunk): on a server with the columnstore a converted chunk is read
# the same way, where a query of the chunk's own table might not see its converted rows.
IN_CHUNK = "FROM telemetry WHERE ts >= %(start)s AND ts < %(end)s"


def read_chunk(conn: Conn, chunk: dict[str, Any], devices: tuple[int, int] = INT4) -> Arrays:
    """The chunk's readings of devices in [first, last] as numpy arrays: one row of arrays per
    series, decoded by numpy.

    A binary COPY sends a message per reading, which costs the client about a microsecond each;
    a series' readings as arrays cross in one value (a day of one reading a second: 1 MB).
    """
    ts, device, metric, value, flag = [], [], [], [], []
    with conn.cursor(binary=True, row_factory=tuple_row) as cur:
        load_arrays_raw(cur)
        cur.execute(
            "SELECT device_id, metric_id, array_agg(ts), array_agg(value), array_agg(flag::int8)"
            f" {IN_CHUNK} AND device_id BETWEEN %(first)s AND %(last)s GROUP BY device_id, metric_id",
            {"start": chunk["range_start"], "end": chunk["range_end"], "first": devices[0], "last": devices[1]},
        )
        for d, m, t, v, f in cur:
            times = decode_array("timestamptz_pg_us", t)
            ts.append(times)
            value.append(decode_array("float8", v))
            flag.append(decode_array("int8", f))
            device.append(np.full(len(times), d, dtype=np.int32))
            metric.append(np.full(len(times), m, dtype=np.int16))
    if not ts:
        return {name: np.zeros(0, dtype=np.int64) for name, _ in layout.COPY_COLUMNS}
    return {
        "ts": np.concatenate(ts),
        "device_id": np.concatenate(device),
        "metric_id": np.concatenate(metric),
        "value": np.concatenate(value),
        "flag": np.concatenate(flag).astype(np.int16),
    }


def device_batches(conn: Conn, chunk: dict[str, Any], *, per_batch: int = ROWS_PER_BATCH) -> list[tuple[int, int]]:
    """Ranges [first, last] of device ids covering every int4, each holding about ``per_batch`` of
    the chunk's readings (its size on disk over a row's bytes; registered series as weights). A
    small chunk is one batch: a query per batch costs more than overlapping saves. A device
    unknown to the registry still falls in a range, and stops the move."""
    row = tuples(
        conn, "SELECT pg_relation_size(format('%%I.%%I', %s::text, %s::text)::regclass)",
        (chunk["chunk_schema"], chunk["chunk_name"]),
    ).fetchone()  # fmt: skip
    n = min(MAX_BATCHES, math.ceil((int(row[0]) if row else 0) / HOT_ROW_BYTES / per_batch))
    if n <= 1:
        return [INT4]
    rows = tuples(
        conn,
        "SELECT d.device_id, count(dm.metric_id) FROM devices d"
        " LEFT JOIN device_metrics dm USING (device_id) GROUP BY 1 ORDER BY 1",
    ).fetchall()
    if not rows:
        return [INT4]
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    weight = np.cumsum([max(1, int(r[1])) for r in rows])
    cuts = np.unique(np.searchsorted(weight, weight[-1] * np.arange(1, n) / n, side="right"))
    firsts = [INT4[0], *(int(ids[c]) for c in cuts if 0 < c < ids.size)]
    lasts = [f - 1 for f in firsts[1:]] + [INT4[1]]
    return list(zip(firsts, lasts, strict=True))


def planned_files(
    root: str, chunk: dict[str, Any], *, parks: set[int], categories: set[str]
) -> dict[tuple[date, int, str], str]:
    """Every file the chunk could need, by (day, park, category): listed before any is written,
    so that a move interrupted anywhere leaves only listed files (those left empty are unlisted
    when the export is recorded)."""
    first = chunk["range_start"].astimezone(UTC).date()
    last = (chunk["range_end"] - timedelta(microseconds=1)).astimezone(UTC).date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return {
        (d, p, c): layout.Part(d, p, c, 0, 0).path(root, chunk["chunk_name"])
        for d in days
        for p in sorted(parks)
        for c in sorted(categories)
    }


@dataclass(slots=True)
class _File:
    """One cold file being written: its writer, the rows waiting for a full row group, its digest."""

    path: str
    writer: pq.ParquetWriter | None = None
    waiting: list[pa.Table] = field(default_factory=list)
    waiting_rows: int = 0
    digest: layout.Digest = field(default_factory=layout.Digest)


@dataclass(frozen=True, slots=True)
class Written:
    rows: dict[str, int]  # per file written (empty planned files absent)
    digests: dict[str, bytes]
    sizes: dict[str, int]
    seconds_waiting: float  # this thread waiting for the readers: the read is the slower side

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def checksum(self) -> str:
        return layout.combine(self.digests)


class _Sink:
    """Appends batches of readings to their files."""

    def __init__(self, store: ColdStore, files: dict[tuple[date, int, str], str], *, zstd_level: int,
                 park_of_device: dict[int, int], category_of_metric: dict[int, str]) -> None:  # fmt: skip
        self.store, self.paths, self.open = store, files, dict[str, _File]()
        self.options = layout.writer_options(zstd_level)
        self.rows_per_group = int(self.options.pop("row_group_size"))  # type: ignore[call-overload]
        self.parks, self.categories = park_of_device, category_of_metric

    def add(self, arrays: Arrays) -> None:
        rows, parts = layout.split(arrays, park_of_device=self.parks, category_of_metric=self.categories)
        for p in parts:
            path = self.paths.get((p.day, p.park_id, p.category))
            if path is None:  # a reading outside the chunk's days: the plan cannot hold it
                raise RuntimeError(f"readings of {p.day}, park {p.park_id}, {p.category} are outside the planned files")
            f = self.open.get(path) or self.open.setdefault(path, _File(path))
            f.digest.arrays(rows, p.start, p.stop)
            f.waiting.append(layout.encode(layout.table(rows, p.start, p.stop)))
            f.waiting_rows += p.stop - p.start
            if f.waiting_rows >= self.rows_per_group:
                self._flush(f, whole_groups=True)

    def _flush(self, f: _File, *, whole_groups: bool) -> None:
        t = pa.concat_tables(f.waiting)
        n = t.num_rows - t.num_rows % self.rows_per_group if whole_groups else t.num_rows
        if f.writer is None:
            self.store.make_parent(f.path)
            f.writer = pq.ParquetWriter(f.path, layout.FILE_SCHEMA, filesystem=self.store.fs, **self.options)
        f.writer.write_table(t.slice(0, n), row_group_size=self.rows_per_group)
        f.waiting = [t.slice(n)] if n < t.num_rows else []
        f.waiting_rows = t.num_rows - n

    def finish(self) -> tuple[dict[str, int], dict[str, bytes]]:
        for f in self.open.values():
            if f.waiting_rows or f.writer is None:
                self._flush(f, whole_groups=False)
            assert f.writer is not None
            f.writer.close()
            f.writer = None
        return {p: f.digest.rows for p, f in self.open.items()}, {p: f.digest.digest() for p, f in self.open.items()}

    def abandon(self) -> None:
        """Close what is open (the files stay listed: the next pass deletes them)."""
        for f in self.open.values():
            if f.writer is not None:
                f.writer.close()


@contextmanager
def reader_connections(conn: Conn, readers: int = READERS) -> Iterator[list[Conn]]:
    """``conn`` and up to ``readers - 1`` more connections to the same database as it (the
    export reads on all of them while ``conn``'s thread writes files)."""
    with ExitStack() as stack:
        conns = [conn]
        for _ in range(readers - 1):
            try:
                dsn = make_conninfo(**conn.info.get_parameters(), password=conn.info.password)
                conns.append(stack.enter_context(psycopg.connect(dsn, autocommit=True)))
            except psycopg.Error as exc:  # one connection still moves the chunk, only slower
                log.warning("no second connection for the export (%s): reading on one", exc)
                break
        yield conns


def write_files(
    conns: list[Conn],
    store: ColdStore,
    chunk: dict[str, Any],
    files: dict[tuple[date, int, str], str],
    *,
    zstd_level: int,
    park_of_device: dict[int, int],
    category_of_metric: dict[int, str],
    batches: list[tuple[int, int]],
    clock: Callable[[], float],
) -> Written:
    """Read the chunk's batches on ``conns`` (one thread each, a batch or two ahead) while this
    thread writes them to ``files``; the files written, their rows, digests and sizes."""
    free: queue.Queue[Conn] = queue.Queue()
    for c in conns:
        free.put(c)

    def read(devices: tuple[int, int]) -> Arrays:
        c = free.get()
        try:
            return read_chunk(c, chunk, devices)
        finally:
            free.put(c)

    sink = _Sink(store, files, zstd_level=zstd_level, park_of_device=park_of_device,
                 category_of_metric=category_of_metric)  # fmt: skip
    waited = 0.0
    if len(batches) == 1:  # a small chunk: nothing to overlap, no thread to start
        try:
            sink.add(read_chunk(conns[0], chunk, batches[0]))
            rows, digests = sink.finish()
        except BaseException:
            sink.abandon()
            raise
        return Written(rows, digests, {p: store.size(p) for p in rows}, waited)
    todo = iter(batches)
    with ThreadPoolExecutor(len(conns), thread_name_prefix="export-read") as pool:
        ahead: deque[Future[Arrays]] = deque(pool.submit(read, b) for b in _take(todo, len(conns) + 1))
        try:
            while ahead:
                t0 = clock()
                arrays = ahead.popleft().result()
                waited += clock() - t0
                ahead.extend(pool.submit(read, b) for b in _take(todo, 1))
                sink.add(arrays)
            rows, digests = sink.finish()
        except BaseException:
            for f in ahead:
                f.cancel()
            sink.abandon()
            raise
    return Written(rows, digests, {p: store.size(p) for p in rows}, waited)


def _take(it: Iterator[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    out = []
    for _ in range(n):
        nxt = next(it, None)
        if nxt is None:
            break
        out.append(nxt)
    return out


def read_back(store: ColdStore, paths: list[str]) -> tuple[int, str]:
    """Rows and checksum of the files as they read back (two at a time)."""

    def one(path: str) -> tuple[int, bytes]:
        d = layout.Digest()
        d.table(layout.read(path, store.fs))
        return d.rows, d.digest()

    if len(paths) < 2:
        got = {p: one(p) for p in paths}
    else:
        with ThreadPoolExecutor(2, thread_name_prefix="export-verify") as pool:
            got = dict(zip(paths, pool.map(one, paths), strict=True))
    return sum(r for r, _ in got.values()), layout.combine({p: d for p, (_, d) in got.items()})
