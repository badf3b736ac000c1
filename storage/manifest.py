"""The cold tier's manifest: owner of storage_cold_chunks and storage_cold_files.

Where each chunk's move to Parquet stands, and which files it made. The states only go forward
(exporting → exported → verified → cold) and 'cold' is set in the transaction that drops the
chunk, so at every instant a chunk's readings are in exactly one tier: readers take the files of
'cold' chunks only, and an interrupted move is started again from its listed files. Compaction
swaps a month's daily files for one in a single transaction (:func:`replace_files`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg

from storage.sql import tuples

Conn = psycopg.Connection[Any]


@dataclass(frozen=True, slots=True)
class PlannedFile:
    path: str
    day: date
    park_id: int
    category: str
    rows: int


def unfinished_paths(conn: Conn, *, hypertable: str, chunk: str) -> list[str]:
    """Files an interrupted move of the chunk may have left (none once it is cold)."""
    rows = tuples(
        conn,
        "SELECT f.path FROM storage_cold_files f JOIN storage_cold_chunks c USING (hypertable, chunk)"
        " WHERE f.hypertable = %s AND f.chunk = %s AND c.state <> 'cold' ORDER BY f.path",
        (hypertable, chunk),
    ).fetchall()
    return [r[0] for r in rows]


def state(conn: Conn, *, hypertable: str, chunk: str) -> str | None:
    row = tuples(
        conn, "SELECT state FROM storage_cold_chunks WHERE hypertable = %s AND chunk = %s", (hypertable, chunk)
    ).fetchone()
    return None if row is None else str(row[0])


def plan(
    conn: Conn,
    *,
    hypertable: str,
    chunk: str,
    range_start: datetime,
    range_end: datetime,
    files: list[PlannedFile],
) -> None:
    """Start (or start again) a chunk's move with the files it will write."""
    with conn.transaction():
        tuples(
            conn,
            "DELETE FROM storage_cold_chunks WHERE hypertable = %s AND chunk = %s AND state <> 'cold'",
            (hypertable, chunk),
        )
        tuples(
            conn,
            "INSERT INTO storage_cold_chunks (hypertable, chunk, range_start, range_end, state)"
            " VALUES (%s, %s, %s, %s, 'exporting')",
            (hypertable, chunk, range_start, range_end),
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO storage_cold_files (path, hypertable, chunk, day, last_day, park_id, category, rows)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(f.path, hypertable, chunk, f.day, f.day, f.park_id, f.category, f.rows) for f in files],
            )


def exported(
    conn: Conn,
    *,
    hypertable: str,
    chunk: str,
    rows: int,
    checksum: str,
    sizes: dict[str, int],
    file_rows: dict[str, int] | None = None,
) -> None:
    """Record the export; with ``file_rows`` (the rows of each file written) the planned files
    left empty are unlisted."""
    with conn.transaction():
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE storage_cold_files SET bytes = %s WHERE path = %s", [(b, p) for p, b in sizes.items()]
            )
            if file_rows is not None:
                cur.executemany(
                    "UPDATE storage_cold_files SET rows = %s WHERE path = %s", [(n, p) for p, n in file_rows.items()]
                )
                cur.execute(
                    "DELETE FROM storage_cold_files WHERE hypertable = %s AND chunk = %s"
                    " AND NOT path = ANY(%s::text[])",
                    (hypertable, chunk, list(file_rows)),
                )
        tuples(
            conn,
            "UPDATE storage_cold_chunks SET state = 'exported', rows = %s, checksum = %s, bytes = %s,"
            " updated_at = now() WHERE hypertable = %s AND chunk = %s AND state = 'exporting'",
            (rows, checksum, sum(sizes.values()), hypertable, chunk),
        )


def verified(conn: Conn, *, hypertable: str, chunk: str) -> None:
    tuples(
        conn,
        "UPDATE storage_cold_chunks SET state = 'verified', updated_at = now()"
        " WHERE hypertable = %s AND chunk = %s AND state = 'exported'",
        (hypertable, chunk),
    )


def cold(conn: Conn, *, hypertable: str, chunk: str) -> None:
    """Called inside the transaction that drops the chunk."""
    done = tuples(
        conn,
        "UPDATE storage_cold_chunks SET state = 'cold', updated_at = now()"
        " WHERE hypertable = %s AND chunk = %s AND state = 'verified'",
        (hypertable, chunk),
    ).rowcount
    if done != 1:
        raise RuntimeError(f"chunk {chunk} of {hypertable} is not verified: it is not dropped")


def recorded(conn: Conn, *, hypertable: str, chunk: str) -> tuple[int, str]:
    row = tuples(
        conn,
        "SELECT rows, checksum FROM storage_cold_chunks WHERE hypertable = %s AND chunk = %s",
        (hypertable, chunk),
    ).fetchone()
    if row is None or row[0] is None:
        raise RuntimeError(f"chunk {chunk} of {hypertable} has no recorded export")
    return int(row[0]), str(row[1])


def chunk_paths(conn: Conn, *, hypertable: str, chunk: str) -> list[str]:
    rows = tuples(
        conn,
        "SELECT path FROM storage_cold_files WHERE hypertable = %s AND chunk = %s ORDER BY path",
        (hypertable, chunk),
    ).fetchall()
    return [r[0] for r in rows]


def cold_paths(
    conn: Conn, *, hypertable: str, park_id: int, category: str, first_day: date, last_day: date
) -> list[str]:
    """The cold files holding a park's readings of one category between two UTC days (inclusive)."""
    rows = tuples(
        conn,
        "SELECT f.path FROM storage_cold_files f JOIN storage_cold_chunks c USING (hypertable, chunk)"
        " WHERE f.hypertable = %s AND f.park_id = %s AND f.category = %s AND f.last_day >= %s AND f.day <= %s"
        " AND c.state = 'cold' ORDER BY f.day",
        (hypertable, park_id, category, first_day, last_day),
    ).fetchall()
    return [r[0] for r in rows]


def reaches_cold(conn: Conn, *, hypertable: str, start: datetime) -> bool:
    """Does a range starting at ``start`` reach into the cold tier?"""
    row = tuples(
        conn,
        "SELECT EXISTS (SELECT 1 FROM storage_cold_chunks WHERE hypertable = %s AND state = 'cold' AND range_end > %s)",
        (hypertable, start),
    ).fetchone()
    return bool(row and row[0])


def cold_end(conn: Conn, *, hypertable: str) -> datetime | None:
    """Where the cold tier's chunks end (None: none is cold): later readings are all hot."""
    row = tuples(
        conn, "SELECT max(range_end) FROM storage_cold_chunks WHERE hypertable = %s AND state = 'cold'", (hypertable,)
    ).fetchone()
    return None if row is None else row[0]


def cold_overlaps(conn: Conn, *, hypertable: str, start: datetime, end: datetime) -> bool:
    """Does [start, end) overlap a chunk whose readings are in the cold tier?"""
    row = tuples(
        conn,
        "SELECT EXISTS (SELECT 1 FROM storage_cold_chunks WHERE hypertable = %s AND state = 'cold'"
        " AND range_start < %s AND range_end > %s)",
        (hypertable, end, start),
    ).fetchone()
    return bool(row and row[0])


def expire(conn: Conn, *, hypertable: str, category: str, before: date) -> list[str]:
    """Forget the cold files of a category wholly older than ``before``; the paths to delete.

    The rows go first: a crash before the files are deleted leaves unlisted files, which no read
    takes (the space is lost, never a reading counted twice).
    """
    rows = tuples(
        conn,
        "DELETE FROM storage_cold_files f USING storage_cold_chunks c"
        " WHERE c.hypertable = f.hypertable AND c.chunk = f.chunk AND c.state = 'cold'"
        " AND f.hypertable = %s AND f.category = %s AND f.last_day < %s RETURNING f.path",
        (hypertable, category, before),
    ).fetchall()
    return [r[0] for r in rows]


@dataclass(frozen=True, slots=True)
class ColdFile:
    path: str
    chunk: str
    day: date
    rows: int


def month_groups(conn: Conn, *, hypertable: str, before: date) -> list[tuple[int, str, date]]:
    """(park, category, first day of month) of months ending before ``before`` with several daily
    cold files: what compaction merges."""
    rows = tuples(
        conn,
        "SELECT f.park_id, f.category, date_trunc('month', f.day)::date AS month"
        " FROM storage_cold_files f JOIN storage_cold_chunks c USING (hypertable, chunk)"
        " WHERE f.hypertable = %s AND c.state = 'cold' AND f.day = f.last_day"
        " AND date_trunc('month', f.day) + interval '1 month' <= %s"
        " GROUP BY 1, 2, 3 HAVING count(*) > 1 ORDER BY 3, 1, 2",
        (hypertable, before),
    ).fetchall()
    return [(int(p), str(c), m) for p, c, m in rows]


def month_files(conn: Conn, *, hypertable: str, park_id: int, category: str, month: date) -> list[ColdFile]:
    """The daily cold files of a park's category in one month, by day."""
    rows = tuples(
        conn,
        "SELECT f.path, f.chunk, f.day, f.rows FROM storage_cold_files f"
        " JOIN storage_cold_chunks c USING (hypertable, chunk)"
        " WHERE f.hypertable = %s AND f.park_id = %s AND f.category = %s AND c.state = 'cold'"
        " AND f.day = f.last_day AND date_trunc('month', f.day)::date = %s ORDER BY f.day, f.path",
        (hypertable, park_id, category, month),
    ).fetchall()
    return [ColdFile(p, ch, d, int(n)) for p, ch, d, n in rows]


def replace_files(
    conn: Conn, *, hypertable: str, old: list[ColdFile], path: str, park_id: int, category: str, size: int
) -> None:
    """Put one compacted file in the place of the daily ones, in one transaction: a reader sees
    either all the daily files or the one that holds them."""
    with conn.transaction():
        gone = tuples(conn, "DELETE FROM storage_cold_files WHERE path = ANY(%s)", ([f.path for f in old],)).rowcount
        if gone != len(old):
            raise RuntimeError(f"{len(old) - gone} of the files to compact into {path} are no longer listed")
        tuples(
            conn,
            "INSERT INTO storage_cold_files (path, hypertable, chunk, day, last_day, park_id, category, rows, bytes)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                path,
                hypertable,
                old[0].chunk,
                old[0].day,
                old[-1].day,
                park_id,
                category,
                sum(f.rows for f in old),
                size,
            ),
        )


def totals(conn: Conn) -> list[dict[str, Any]]:
    """Per hypertable: cold chunks, files, readings and bytes."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT c.hypertable, count(DISTINCT c.chunk) AS chunks, count(f.path) AS files,"
            " coalesce(sum(f.rows), 0)::int8 AS rows, coalesce(sum(f.bytes), 0)::int8 AS bytes"
            " FROM storage_cold_chunks c LEFT JOIN storage_cold_files f USING (hypertable, chunk)"
            " WHERE c.state = 'cold' GROUP BY c.hypertable ORDER BY 1"
        ).fetchall()
