"""Operators' actions on alarms (the API calls these): acknowledge, assign, resolve, comment, list.

Keyword-only, the caller owns the transaction; the rows are written through alerting.alarm_store,
the owner of the alarm tables. Each action is recorded as an alert event with
who, when and the comment. Acknowledging does not end an alarm (ThingsBoard's active/ack
split); resolving by hand ends it, and the alerting service then forgets the series so that a
condition still present raises a new alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from alerting.alarm_store import add_event, clear_by_hand, mark_acknowledged, set_assignee

Conn = psycopg.Connection[Any]
MAX_COMMENT = 4000
MAX_NAME = 200
MAX_LIMIT = 1000


class AlertNotFound(LookupError):
    pass


class AlertStateError(ValueError):
    pass


def _who(by: str) -> str:
    if not isinstance(by, str) or not by.strip() or len(by) > MAX_NAME:
        raise ValueError(f"actor {by!r} must be a non-empty name of at most {MAX_NAME} characters")
    return by.strip()


def _comment(comment: str | None) -> str:
    comment = comment or ""
    if len(comment) > MAX_COMMENT:
        raise ValueError(f"comment of {len(comment)} characters exceeds {MAX_COMMENT}")
    return comment


def _state(conn: Conn, alert_id: int) -> str:
    row = conn.execute("SELECT state FROM alerts WHERE alert_id = %s FOR UPDATE", (alert_id,)).fetchone()
    if row is None:
        raise AlertNotFound(f"no alert {alert_id}")
    return str(row[0])


def acknowledge(conn: Conn, *, alert_id: int, by: str, comment: str | None = None) -> None:
    """Record that someone has seen the alarm; acknowledging twice keeps the first time."""
    by, text = _who(by), _comment(comment)
    _state(conn, alert_id)
    mark_acknowledged(conn, alert_id=alert_id, by=by)
    add_event(conn, alert_id=alert_id, kind="acknowledged", by=by, comment=text)


def assign(conn: Conn, *, alert_id: int, by: str, assignee: str | None, comment: str | None = None) -> None:
    """Hand the alarm to someone (None: unassign)."""
    by, text = _who(by), _comment(comment)
    if assignee is not None:
        assignee = _who(assignee)
    _state(conn, alert_id)
    set_assignee(conn, alert_id=alert_id, assignee=assignee)
    add_event(conn, alert_id=alert_id, kind="assigned", by=by, comment=text or f"assignee: {assignee}")


def resolve(conn: Conn, *, alert_id: int, by: str, comment: str | None = None) -> None:
    """Clear an open alarm by hand."""
    by, text = _who(by), _comment(comment)
    state = _state(conn, alert_id)
    if state not in ("pending", "firing"):
        raise AlertStateError(f"alert {alert_id} is already {state}")
    clear_by_hand(conn, alert_id=alert_id, by=by)
    add_event(conn, alert_id=alert_id, kind="cleared", by=by, comment=text)


def comment(conn: Conn, *, alert_id: int, by: str, comment: str) -> None:
    by, text = _who(by), _comment(comment)
    if not text.strip():
        raise ValueError("an empty comment says nothing")
    _state(conn, alert_id)
    add_event(conn, alert_id=alert_id, kind="commented", by=by, comment=text)


ALERT_COLUMNS = (
    "alert_id",
    "rule_id",
    "series_key",
    "park_id",
    "enterprise_id",
    "device_id",
    "gateway_id",
    "metric",
    "severity",
    "category",
    "state",
    "labels",
    "summary",
    "trigger_value",
    "value",
    "started_at",
    "firing_at",
    "resolved_at",
    "resolved_by",
    "acknowledged_at",
    "acknowledged_by",
    "assignee",
    "assigned_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class AlertFilter:
    park_ids: tuple[int, ...] | None = None  # None: every park (the caller enforces the scope)
    enterprise_ids: tuple[int, ...] | None = None
    device_id: int | None = None
    states: tuple[str, ...] | None = None  # e.g. ("pending", "firing") for the open ones
    categories: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None
    rule_id: str | None = None
    acknowledged: bool | None = None
    since: datetime | None = None  # started_at >= since
    until: datetime | None = None  # started_at < until


def list_alerts(
    conn: Conn, *, where: AlertFilter = AlertFilter(), limit: int = 100, before_id: int | None = None
) -> list[dict[str, Any]]:
    """Newest first; page with ``before_id`` = the last alert_id of the previous page."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit {limit} is outside 1..{MAX_LIMIT}")
    conds: list[str] = ["true"]
    params: list[Any] = []
    for column, values in (
        ("park_id", where.park_ids),
        ("enterprise_id", where.enterprise_ids),
        ("state", where.states),
        ("category", where.categories),
        ("severity", where.severities),
    ):
        if values is not None:
            conds.append(f"{column} = ANY(%s)")
            params.append(list(values))
    for column, value, op in (
        ("device_id", where.device_id, "="),
        ("rule_id", where.rule_id, "="),
        ("started_at", where.since, ">="),
        ("started_at", where.until, "<"),
        ("alert_id", before_id, "<"),
    ):
        if value is not None:
            conds.append(f"{column} {op} %s")
            params.append(value)
    if where.acknowledged is not None:
        conds.append("acknowledged_at IS NOT NULL" if where.acknowledged else "acknowledged_at IS NULL")
    rows = conn.execute(
        f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts WHERE {' AND '.join(conds)} ORDER BY alert_id DESC LIMIT %s",
        (*params, limit),
    ).fetchall()
    return [dict(zip(ALERT_COLUMNS, r, strict=True)) for r in rows]


def get_alert(conn: Conn, *, alert_id: int) -> dict[str, Any]:
    """One alarm with its events, oldest first."""
    row = conn.execute(f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts WHERE alert_id = %s", (alert_id,)).fetchone()
    if row is None:
        raise AlertNotFound(f"no alert {alert_id}")
    alert = dict(zip(ALERT_COLUMNS, row, strict=True))
    alert["events"] = [
        {"event_id": e[0], "at": e[1], "kind": e[2], "by": e[3], "comment": e[4], "value": e[5]}
        for e in conn.execute(
            "SELECT event_id, at, kind, by, comment, value FROM alert_events WHERE alert_id = %s ORDER BY event_id",
            (alert_id,),
        )
    ]
    return alert
