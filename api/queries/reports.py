"""Stored report packs (reports/store.py's table), listed and fetched within the caller's scope:
an enterprise user sees its own enterprise's packs, a park's people (and its regulators) the
park's and its enterprises'."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from api.auth import Principal
from api.queries.scope import Where, page, tenant

COLS = (
    "r.report_id, r.kind, r.park_id, r.enterprise_id, r.period, r.title, r.created_at, r.created_by,"
    " r.emailed_at, r.email_error, length(r.xlsx) AS xlsx_bytes, length(r.pdf) AS pdf_bytes"
)


def _scoped(p: Principal) -> Where:
    return tenant(Where(), p, park="r.park_id", enterprise="r.enterprise_id")


def list_reports(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    park_id: int | None,
    enterprise_id: int | None,
    kind: str | None,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    w = _scoped(p)
    w.when(park_id, "r.park_id = %(pid)s", "pid").when(enterprise_id, "r.enterprise_id = %(eid)s", "eid")
    w.when(kind, "r.kind = %(kind)s", "kind")
    w.during("r.period", start, end)
    tail = page(w, limit, offset)
    return conn.execute(
        f"SELECT {COLS} FROM report_files r WHERE {w.sql} ORDER BY r.period DESC, r.report_id DESC{tail}", w.params
    ).fetchall()


def get_report(conn: psycopg.Connection[Any], p: Principal, *, report_id: int) -> dict[str, Any] | None:
    w = _scoped(p).add("r.report_id = %(id)s", id=report_id)
    return conn.execute(f"SELECT {COLS} FROM report_files r WHERE {w.sql}", w.params).fetchone()
