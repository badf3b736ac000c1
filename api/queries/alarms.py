"""Alarms (alerting's tables), their events, silences and receivers, scoped to the principal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from api.auth import Principal
from api.queries.scope import Where, page, required, tenant

Row = dict[str, Any]

ALERT_COLS = (
    "a.alert_id, a.rule_id, a.park_id, a.enterprise_id, a.device_id, a.gateway_id, a.metric,"
    " a.severity, a.category, a.state, a.labels, a.summary, a.trigger_value, a.value,"
    " a.started_at, a.firing_at, a.resolved_at, a.resolved_by, a.acknowledged_at,"
    " a.acknowledged_by, a.assignee, a.assigned_at, a.updated_at"
)


def _scoped(p: Principal) -> Where:
    return tenant(Where(), p, park="a.park_id", enterprise="a.enterprise_id", category="a.category")


def list_alarms(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    limit: int,
    offset: int = 0,
    states: Sequence[str] | None = None,
    severities: Sequence[str] | None = None,
    category: str | None = None,
    park_id: int | None = None,
    enterprise_id: int | None = None,
    device_id: int | None = None,
    acknowledged: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Row]:
    """Newest first; each filter left at None is absent (the caller's scope always applies)."""
    w = _scoped(p)
    w.when(states, "a.state = ANY(%(states)s)", "states")
    w.when(severities, "a.severity = ANY(%(sev)s)", "sev")
    w.when(category, "a.category = %(cat)s", "cat")
    w.when(park_id, "a.park_id = %(pid)s", "pid").when(enterprise_id, "a.enterprise_id = %(eid)s", "eid")
    w.when(device_id, "a.device_id = %(did)s", "did")
    w.during("a.started_at", since, until)
    if acknowledged is not None:
        w.add("(a.acknowledged_at IS NOT NULL) = %(ack)s", ack=acknowledged)
    tail = page(w, limit, offset)
    return conn.execute(
        f"SELECT {ALERT_COLS} FROM alerts a WHERE {w.sql} ORDER BY a.started_at DESC, a.alert_id DESC{tail}",
        w.params,
    ).fetchall()


def get_alarm(conn: psycopg.Connection[Any], p: Principal, *, alert_id: int) -> Row | None:
    w = _scoped(p).add("a.alert_id = %(id)s", id=alert_id)
    row = conn.execute(f"SELECT {ALERT_COLS} FROM alerts a WHERE {w.sql}", w.params).fetchone()
    return row


def events(conn: psycopg.Connection[Any], *, alert_id: int) -> list[Row]:
    return conn.execute(
        "SELECT event_id, at, kind, by, comment, value FROM alert_events WHERE alert_id = %s ORDER BY at, event_id",
        (alert_id,),
    ).fetchall()


def counts(conn: psycopg.Connection[Any], p: Principal, *, park_id: int | None) -> list[Row]:
    """Open alarms per severity and category: the ops-centre's alarm tiles."""
    w = _scoped(p).add("a.state IN ('pending', 'firing')")
    w.when(park_id, "a.park_id = %(pid)s", "pid")
    return conn.execute(
        "SELECT a.severity, a.category, a.state, count(*) AS n,"
        " count(*) FILTER (WHERE a.acknowledged_at IS NULL) AS unacknowledged"
        f" FROM alerts a WHERE {w.sql} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        w.params,
    ).fetchall()


def events_since(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    after_event_id: int,
    enterprise_id: int | None,
    device_ids: list[int] | None,
    limit: int,
) -> list[Row]:
    """Transitions and actions after an event id, for the live stream."""
    w = _scoped(p).add("ev.event_id > %(after)s", after=after_event_id)
    w.when(enterprise_id, "a.enterprise_id = %(eid)s", "eid")
    w.when(device_ids, "a.device_id = ANY(%(dids)s)", "dids")
    w.params["lim"] = limit
    return conn.execute(
        "SELECT ev.event_id, ev.at, ev.kind, ev.by, ev.comment, ev.value, a.alert_id, a.rule_id,"
        " a.park_id, a.enterprise_id, a.device_id, a.metric, a.severity, a.category, a.state,"
        " a.summary FROM alert_events ev JOIN alerts a USING (alert_id)"
        f" WHERE {w.sql} ORDER BY ev.event_id LIMIT %(lim)s",
        w.params,
    ).fetchall()


def last_event_id(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT coalesce(max(event_id), 0) AS m FROM alert_events").fetchone()
    return int(required(row)["m"])
