"""Rejected messages (ingest's table): why a gateway's data was refused."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from api.auth import Principal
from api.queries.scope import Where, page, tenant


def list_rejected(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    park_id: int | None,
    enterprise_id: int | None,
    reason_code: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    w = tenant(Where(), p, park="r.park_id", enterprise="r.enterprise_id")
    w.when(park_id, "r.park_id = %(pid)s", "pid").when(enterprise_id, "r.enterprise_id = %(eid)s", "eid")
    w.when(reason_code, "r.reason_code = %(rc)s", "rc")
    w.during("r.received_at", since, until)
    tail = page(w, limit, offset)
    w.params["mn_seen"] = p.sees_logger_ids
    return conn.execute(
        f"SELECT r.received_at, {_no_mn('r.topic')} AS topic, r.reason_code, {_no_mn('r.reason')} AS reason,"
        f" r.device, r.metric, r.device_id, r.enterprise_id, r.park_id, {_no_mn('r.excerpt')} AS excerpt"
        f" FROM rejected_messages r WHERE {w.sql} ORDER BY r.received_at DESC{tail}",
        w.params,
    ).fetchall()


def _no_mn(column: str) -> str:
    """``column`` with data-logger MNs masked for those who may not see them (HJ 212 rejections
    carry the MN in their topic ``hj212://peer/MN`` and in ``MN=…`` of the frame)."""
    return (
        f"CASE WHEN %(mn_seen)s THEN {column} ELSE regexp_replace(regexp_replace({column},"
        " '^(hj212://[^/]*)/.*$', '\\1/***'), 'MN=[^;&,\\s]*', 'MN=***', 'g') END"
    )
