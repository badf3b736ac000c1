"""Contacts, rosters, escalation policies and the notification log (paging's tables), scoped to
an operator's park: reads only; the routes write through alerting.paging_store, their owner."""

from __future__ import annotations

from typing import Any

import psycopg

Row = dict[str, Any]
_TABLES = {
    "contacts": ("notify_contacts", "contact_id", "contact_id, park_id, name, email, phone, created_at"),
    "rosters": ("notify_rosters", "roster_id", "roster_id, park_id, name, definition, updated_at"),
    "policies": ("notify_policies", "policy_id", "policy_id, park_id, name, matchers, definition, enabled, updated_at"),
}


def _park(park_id: int | None) -> str:
    # an operator sees its park's and the platform-wide ones (park_id null)
    return "TRUE" if park_id is None else "(park_id = %(pid)s OR park_id IS NULL)"


def list_of(conn: psycopg.Connection[Any], what: str, *, park_id: int | None, limit: int, offset: int) -> list[Row]:
    table, key, cols = _TABLES[what]
    return conn.execute(
        f"SELECT {cols} FROM {table} WHERE {_park(park_id)} ORDER BY {key} LIMIT %(lim)s OFFSET %(off)s",
        {"pid": park_id, "lim": limit + 1, "off": offset},
    ).fetchall()


def one(conn: psycopg.Connection[Any], what: str, *, key: int, park_id: int | None) -> Row | None:
    table, key_col, cols = _TABLES[what]
    return conn.execute(
        f"SELECT {cols} FROM {table} WHERE {key_col} = %(id)s AND {_park(park_id)}", {"id": key, "pid": park_id}
    ).fetchone()


def by_name(conn: psycopg.Connection[Any], what: str, *, name: str) -> Row | None:
    table, _, cols = _TABLES[what]
    return conn.execute(f"SELECT {cols} FROM {table} WHERE name = %(n)s", {"n": name}).fetchone()


def park_timezone(conn: psycopg.Connection[Any], *, park_id: int | None) -> str:
    if park_id is None:
        return "Asia/Shanghai"
    row = conn.execute("SELECT timezone FROM parks WHERE park_id = %s", (park_id,)).fetchone()
    return "Asia/Shanghai" if row is None else str(row["timezone"])


def notification_log(conn: psycopg.Connection[Any], *, alert_id: int, limit: int) -> list[Row]:
    """Every delivery attempt that carried the alarm, oldest first."""
    return conn.execute(
        "SELECT t.attempt_id, t.at, t.channel, r.name AS receiver, t.target, t.result, t.error, t.latency_ms,"
        " cardinality(t.alert_ids) AS alarms_in_message FROM notify_attempts t"
        " LEFT JOIN alert_receivers r USING (receiver_id) WHERE t.alert_ids @> ARRAY[%(id)s]::bigint[]"
        " ORDER BY t.attempt_id LIMIT %(lim)s",
        {"id": alert_id, "lim": limit},
    ).fetchall()


def escalations(conn: psycopg.Connection[Any], *, alert_id: int) -> list[Row]:
    return conn.execute(
        "SELECT p.name AS policy, e.level, e.repeats, e.started_at, e.next_at, e.done_at, e.done_why"
        " FROM notify_escalations e JOIN notify_policies p USING (policy_id)"
        " WHERE e.alert_id = %s AND e.done_why IS DISTINCT FROM 'not matched' ORDER BY p.name",
        (alert_id,),
    ).fetchall()


def alarm_for_link(conn: psycopg.Connection[Any], *, alert_id: int) -> Row | None:
    return conn.execute(
        "SELECT a.alert_id, a.summary, a.severity, a.state, a.value, a.metric, a.labels, a.started_at,"
        " a.acknowledged_at, a.acknowledged_by, p.name AS park_name, p.timezone FROM alerts a"
        " JOIN parks p USING (park_id) WHERE a.alert_id = %s",
        (alert_id,),
    ).fetchone()
