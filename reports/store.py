"""The one writer of ``report_files``: generated report packs (XLSX and PDF of one report)."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
from psycopg.rows import tuple_row

KINDS = ("daily", "monthly")


def save(
    conn: psycopg.Connection[Any],
    *,
    kind: str,
    park_id: int,
    enterprise_id: int | None,
    period: date,
    title: str,
    xlsx: bytes,
    pdf: bytes,
    created_by: str,
) -> int:
    """Store a pack, replacing the files of the same (kind, park, enterprise, period); its id."""
    if kind not in KINDS:
        raise ValueError(f"report kind {kind!r} is not one of {KINDS}")
    row = (
        _tuples(conn)
        .execute(
            "INSERT INTO report_files (kind, park_id, enterprise_id, period, title, xlsx, pdf, created_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (kind, park_id, coalesce(enterprise_id, 0), period) DO UPDATE"
            " SET title = excluded.title, xlsx = excluded.xlsx, pdf = excluded.pdf, created_at = now(),"
            " created_by = excluded.created_by, emailed_at = NULL, email_error = NULL"
            " RETURNING report_id",
            (kind, park_id, enterprise_id, period, title, xlsx, pdf, created_by),
        )
        .fetchone()
    )
    assert row is not None
    return int(row[0])


def existing(conn: psycopg.Connection[Any], *, kind: str, park_id: int, period: date) -> set[int | None]:
    """The enterprises (None: the park itself) that already have this park's pack of a period."""
    rows = (
        _tuples(conn)
        .execute(
            "SELECT enterprise_id FROM report_files WHERE kind = %s AND park_id = %s AND period = %s",
            (kind, park_id, period),
        )
        .fetchall()
    )
    return {r[0] for r in rows}


def unsent(conn: psycopg.Connection[Any], *, limit: int = 50, park_ids: list[int] | None = None) -> list[Any]:
    """Park packs (not the enterprises') not yet emailed nor failed, of ``park_ids`` (None: every
    park): (id, park, kind, period, title)."""
    return (
        _tuples(conn)
        .execute(
            "SELECT report_id, park_id, kind, period, title FROM report_files"
            " WHERE enterprise_id IS NULL AND emailed_at IS NULL AND email_error IS NULL"
            " AND (%(ids)s::int[] IS NULL OR park_id = ANY(%(ids)s)) ORDER BY report_id LIMIT %(lim)s",
            {"ids": park_ids, "lim": limit},
        )
        .fetchall()
    )


def files(conn: psycopg.Connection[Any], *, report_id: int) -> tuple[bytes, bytes] | None:
    row = _tuples(conn).execute("SELECT xlsx, pdf FROM report_files WHERE report_id = %s", (report_id,)).fetchone()
    return None if row is None else (bytes(row[0]), bytes(row[1]))


def mark_emailed(conn: psycopg.Connection[Any], *, report_id: int, error: str | None) -> None:
    """Sent (error None), or given up with the error: either way not tried again."""
    conn.execute(
        "UPDATE report_files SET emailed_at = CASE WHEN %(e)s::text IS NULL THEN now() END, email_error = %(e)s"
        " WHERE report_id = %(id)s",
        {"e": error and error[:1000], "id": report_id},
    )


def _tuples(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    """A cursor of tuples whatever the connection's row factory (the API's pool makes dicts)."""
    return conn.cursor(row_factory=tuple_row)
