"""SQL that writes incidents: the incident, its alarms, its timeline, its plan steps, its photos.

The one module that writes emergency_incidents, emergency_incident_alarms,
emergency_incident_events, emergency_incident_steps and emergency_incident_photos. Keyword-only
functions; the caller owns the transaction (emergency.incidents puts a whole opening, with its
plan and first pages, in one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from emergency.states import reached

Conn = psycopg.Connection[Any]


def _id(conn: Conn, sql: str, params: Any) -> int:
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def create_incident(
    conn: Conn,
    *,
    park_id: int,
    enterprise_id: int | None,
    hazard_id: int | None,
    zone: str,
    title: str,
    incident_type: str,
    level: int,
    commander: str,
    drill: bool,
    opened_by: str,
    first_alarm_at: datetime | None,
    plan_id: int | None,
    plan_name: str | None,
    rule: str | None,
) -> int:
    return _id(
        conn,
        "INSERT INTO emergency_incidents (park_id, enterprise_id, hazard_id, zone, title, incident_type, level,"
        " commander, drill, opened_by, first_alarm_at, plan_id, plan_name, rule)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING incident_id",
        (park_id, enterprise_id, hazard_id, zone, title, incident_type, level, commander, drill, opened_by,
         first_alarm_at, plan_id, plan_name, rule),
    )  # fmt: skip


def link_alarms(conn: Conn, *, incident_id: int, alert_ids: Sequence[int]) -> int:
    """Link alarms; returns how many were new to the incident."""
    n = 0
    for aid in alert_ids:
        n += conn.execute(
            "INSERT INTO emergency_incident_alarms (incident_id, alert_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (incident_id, aid),
        ).rowcount
    conn.execute(
        "UPDATE emergency_incidents i SET first_alarm_at = (SELECT min(a.started_at) FROM alerts a"
        " JOIN emergency_incident_alarms l USING (alert_id) WHERE l.incident_id = i.incident_id)"
        " WHERE incident_id = %s",
        (incident_id,),
    )
    return n


def add_event(
    conn: Conn,
    *,
    incident_id: int,
    kind: str,
    by: str,
    text: str = "",
    data: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    return _id(
        conn,
        "INSERT INTO emergency_incident_events (incident_id, at, kind, by, text, data)"
        " VALUES (%s, coalesce(%s, now()), %s, %s, %s, %s) RETURNING event_id",
        (incident_id, at, kind, by, text, Jsonb(dict(data or {}))),
    )


def add_steps(conn: Conn, *, incident_id: int, steps: Sequence[Mapping[str, Any]]) -> None:
    conn.cursor().executemany(
        "INSERT INTO emergency_incident_steps (incident_id, step_no, title, role, checklist, notify)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        [
            (incident_id, i, s["title"], s.get("role", ""), Jsonb(list(s.get("checklist", []))),
             Jsonb(dict(s.get("notify", {}))))
            for i, s in enumerate(steps, start=1)
        ],
    )  # fmt: skip


def tick_step(conn: Conn, *, incident_id: int, step_no: int, by: str) -> bool:
    """Mark a step done; False when it is unknown or was done already (who and when are kept)."""
    return (
        conn.execute(
            "UPDATE emergency_incident_steps SET done_at = now(), done_by = %s"
            " WHERE incident_id = %s AND step_no = %s AND done_at IS NULL",
            (by, incident_id, step_no),
        ).rowcount
        > 0
    )


def move_state(conn: Conn, *, incident_id: int, current: str, to: str) -> bool:
    """Move to ``to`` from ``current`` (checked by emergency.states); False when another move
    came first. Every state passed gets the move's time unless it had one."""
    sets = ", ".join(f"{col} = coalesce({col}, now())" for col in reached(to))
    return (
        conn.execute(
            f"UPDATE emergency_incidents SET state = %s, {sets} WHERE incident_id = %s AND state = %s",
            (to, incident_id, current),
        ).rowcount
        > 0
    )


def set_level(conn: Conn, *, incident_id: int, level: int) -> None:
    conn.execute("UPDATE emergency_incidents SET level = %s WHERE incident_id = %s", (level, incident_id))


def set_commander(conn: Conn, *, incident_id: int, commander: str) -> None:
    conn.execute("UPDATE emergency_incidents SET commander = %s WHERE incident_id = %s", (commander, incident_id))


def add_photo(
    conn: Conn,
    *,
    incident_id: int,
    stored_name: str,
    content_type: str,
    size_bytes: int,
    sha256: str,
    caption: str,
    uploaded_by: str,
) -> int:
    return _id(
        conn,
        "INSERT INTO emergency_incident_photos (incident_id, stored_name, content_type, size_bytes, sha256,"
        " caption, uploaded_by) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING photo_id",
        (incident_id, stored_name, content_type, size_bytes, sha256, caption, uploaded_by),
    )
