"""Moving raw telemetry chunks past the hot age to the Parquet cold tier, and expiring cold files.

Each chunk goes in four steps, each recorded in the manifest before the next begins: plan its
files, write them (rows and checksum of the source recorded), read them back and compare, then drop
the chunk and mark it cold in one transaction. A process killed anywhere leaves either a hot chunk
whose listed files the next run deletes and writes again, or a cold chunk whose files are complete:
never a reading lost, never one in both tiers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from storage import export, layout, manifest, retention
from storage.coldfs import ColdStore
from storage.sql import tuples

log = logging.getLogger("storage.tiering")
Conn = psycopg.Connection[Any]
Pause = Callable[[str], None]  # called after each step with its name (crash drills)
STEPS = ("planned", "exported", "verified", "dropping")
PASS_LOCK = 0x5350_4354  # advisory lock key of the cold-tier pass


class ChunkChanged(RuntimeError):
    """The chunk gained or lost rows after it was exported: the next run exports it again."""


@dataclass(frozen=True, slots=True)
class Moved:
    chunk: str
    rows: int
    bytes: int
    files: int
    seconds: dict[str, float]  # wall time of each stage: plan, export, verify, drop (and read_wait)

    @property
    def seconds_export(self) -> float:
        """Planning the files to every file written and checksummed: the export proper (its
        read, encoding, writing and checksum overlap)."""
        return self.seconds["plan"] + self.seconds["export"]


def _no_pause(step: str) -> None:
    return None


IN_CHUNK = export.IN_CHUNK
read_chunk = export.read_chunk  # the whole chunk at once (the benchmark's serial baseline)


def registry_maps(conn: Conn) -> tuple[dict[int, int], dict[int, str]]:
    parks = dict(
        tuples(conn, "SELECT d.device_id, e.park_id FROM devices d JOIN enterprises e USING (enterprise_id)").fetchall()
    )
    categories = dict(tuples(conn, "SELECT metric_id, category FROM metrics").fetchall())
    return parks, categories


def move_chunk(
    conn: Conn,
    store: ColdStore,
    chunk: dict[str, Any],
    *,
    zstd_level: int,
    pause: Pause = _no_pause,
    readers: list[Conn] | None = None,
) -> Moved:
    """Export, verify and drop one telemetry chunk (a row of :func:`retention.old_chunks`); the
    export reads on the ``readers`` connections (None: ``conn`` and one more opened here) while
    this one's thread writes (storage.export)."""
    seconds: dict[str, float] = {}
    last = [time.perf_counter()]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        seconds[stage], last[0] = now - last[0], now

    name, ht = chunk["chunk_name"], layout.TELEMETRY
    store.delete(manifest.unfinished_paths(conn, hypertable=ht, chunk=name))
    last[0] = time.perf_counter()
    parks, categories = registry_maps(conn)
    files = export.planned_files(store.root, chunk, parks=set(parks.values()), categories=set(categories.values()))
    manifest.plan(
        conn,
        hypertable=ht,
        chunk=name,
        range_start=chunk["range_start"],
        range_end=chunk["range_end"],
        files=[manifest.PlannedFile(path, d, p, c, 0) for (d, p, c), path in files.items()],
    )
    batches = export.device_batches(conn, chunk)
    lap("plan")
    pause("planned")
    last[0] = time.perf_counter()
    with export.reader_connections(conn) if readers is None else nullcontext(readers) as conns:
        written = export.write_files(
            conns, store, chunk, files, zstd_level=zstd_level, park_of_device=parks, category_of_metric=categories,
            batches=batches, clock=time.perf_counter,
        )  # fmt: skip
    manifest.exported(
        conn, hypertable=ht, chunk=name, rows=written.total, checksum=written.checksum, sizes=written.sizes,
        file_rows=written.rows,
    )  # fmt: skip
    lap("export")
    seconds["read_wait"] = written.seconds_waiting
    pause("exported")
    last[0] = time.perf_counter()
    verify(conn, store, chunk=name)
    lap("verify")
    pause("verified")
    last[0] = time.perf_counter()
    n = written.total
    with conn.transaction():
        # no writer may add to the chunk between the count and the drop
        conn.execute(f'LOCK TABLE "{chunk["chunk_schema"]}"."{name}" IN SHARE MODE')
        found = tuples(
            conn, f"SELECT count(*) {IN_CHUNK}", {"start": chunk["range_start"], "end": chunk["range_end"]}
        ).fetchone()
        if found is None or found[0] != n:
            raise ChunkChanged(f"chunk {name} holds {found and found[0]} readings, {n} were exported")
        retention.drop_one_chunk(conn, hypertable=ht, range_start=chunk["range_start"], range_end=chunk["range_end"])
        manifest.cold(conn, hypertable=ht, chunk=name)
        pause("dropping")
    lap("drop")
    return Moved(name, n, sum(written.sizes.values()), len(written.rows), seconds)


def verify(conn: Conn, store: ColdStore, *, chunk: str) -> None:
    """Read the chunk's files back: the same number of rows and the same checksum, or an error."""
    ht = layout.TELEMETRY
    rows, digest = manifest.recorded(conn, hypertable=ht, chunk=chunk)
    got_rows, got = export.read_back(store, manifest.chunk_paths(conn, hypertable=ht, chunk=chunk))
    if (got_rows, got) != (rows, digest):
        raise RuntimeError(
            f"cold files of {chunk} read back as {got_rows} rows ({got}); {rows} rows ({digest}) were written"
        )
    manifest.verified(conn, hypertable=ht, chunk=chunk)


def move_old(
    conn: Conn,
    store: ColdStore,
    *,
    hot_days: int,
    zstd_level: int,
    now: datetime | None = None,
    pause: Pause = _no_pause,
    limit: int | None = None,
    window: tuple[datetime | None, datetime | None] = (None, None),
) -> list[Moved]:
    """Move every telemetry chunk wholly older than ``hot_days`` (0: none) to the cold tier;
    ``window`` (since, until) narrows the pass to chunks inside it, ``limit`` to so many chunks."""
    if hot_days == 0:
        return []
    since, until = window
    cutoff = (now or datetime.now(UTC)) - timedelta(days=hot_days)
    if until is not None:
        cutoff = min(cutoff, until)
    with one_pass(conn) as alone:
        if not alone:
            log.info("another pass is moving chunks to the cold tier: this one skips")
            return []
        chunks = retention.old_chunks(conn, hypertable=layout.TELEMETRY, older_than=cutoff)
        moved: list[Moved] = []
        todo = [c for c in chunks if since is None or c["range_start"] >= since][:limit]
        if not todo:
            return moved
        with export.reader_connections(conn) as readers:  # opened once for the pass
            for chunk in todo:
                moved.append(move_chunk(conn, store, chunk, zstd_level=zstd_level, pause=pause, readers=readers))
                log.info("moved %s to the cold tier: %s", chunk["chunk_name"], moved[-1])
        return moved


@contextmanager
def one_pass(conn: Conn) -> Iterator[bool]:
    """Whether this connection is the one pass changing the cold tier (held until the end).

    A second pass restarting a chunk's move could delete the files of a move about to commit, or
    merge a month another is merging. The lock is the session's: a killed pass releases it, and
    the same session may take it again inside (move_old within the retention pass).
    """
    got = tuples(conn, "SELECT pg_try_advisory_lock(%s)", (PASS_LOCK,)).fetchone()
    if not (got and got[0]):
        yield False
        return
    try:
        yield True
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (PASS_LOCK,))


def expire_cold(conn: Conn, store: ColdStore, *, policy: retention.Policy, today: date) -> int:
    """Delete the cold files of each category past its retention; the number deleted."""
    gone = 0
    for category in retention.CATEGORIES:
        cutoff = policy.cold_cutoff(category, today)
        if cutoff is None:
            continue
        paths = manifest.expire(conn, hypertable=layout.TELEMETRY, category=category, before=cutoff)
        store.delete(paths)
        gone += len(paths)
    return gone
