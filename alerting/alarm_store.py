"""SQL of alarms and their history: opening and moving alarms as the evaluator decides, the
operators' acknowledgements, assignments and hand clearing, and what the service resumes from.

The one module that writes ``alerts`` and ``alert_events``: the service, the operators' actions of
alerting.lifecycle and the API all write through it, so that an alarm changes the same way
whoever changes it. Keyword-only functions; the caller owns the transaction. Table shapes are
documented at the top of smartpark/db/migrations/0300_alerting.sql.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from alerting.rules import Rule
from alerting.store_sql import Conn, ms, park_filter, ts


@dataclass(frozen=True, slots=True)
class SeriesIds:
    park_id: int
    enterprise_id: int | None
    device_id: int | None
    gateway_id: int | None


@dataclass(frozen=True, slots=True)
class NewAlert:
    rule: Rule
    series_key: str
    ids: SeriesIds
    state: str
    at_ms: int
    value: float | None
    labels: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Move:
    alert_id: int
    to: str
    at_ms: int
    value: float | None


# One statement an alarm, its first event with it: a batch of them goes in one round trip.
OPEN_SQL = (
    "WITH a AS (INSERT INTO alerts (rule_id, series_key, park_id, enterprise_id, device_id, gateway_id, metric,"
    " severity, category, state, labels, summary, trigger_value, value, started_at, firing_at)"
    " VALUES (%(rule)s, %(key)s, %(park)s, %(ent)s, %(dev)s, %(gw)s, %(metric)s, %(sev)s, %(cat)s, %(state)s,"
    " %(labels)s, %(summary)s, %(v)s, %(v)s, %(at)s, %(firing)s)"
    " ON CONFLICT (rule_id, series_key) WHERE state IN ('pending', 'firing') DO NOTHING RETURNING alert_id),"
    " e AS (INSERT INTO alert_events (alert_id, at, kind, by, comment, value)"
    " SELECT alert_id, %(at)s, %(state)s, 'system', '', %(v)s FROM a)"
    " SELECT alert_id FROM a"
)

MOVE_SQL = {
    to: (
        f"WITH u AS (UPDATE alerts SET state = %(to)s, {col} = %(at)s, value = coalesce(%(v)s, value),"
        " updated_at = now() WHERE alert_id = %(id)s AND state IN ('pending', 'firing') RETURNING alert_id),"
        " e AS (INSERT INTO alert_events (alert_id, at, kind, by, comment, value)"
        " SELECT alert_id, %(at)s, %(to)s, 'system', '', %(v)s FROM u)"
        " SELECT alert_id FROM u"
    )
    for to, col in (("firing", "firing_at"), ("resolved", "resolved_at"), ("cancelled", "resolved_at"))
}


def _each_returned(conn: Conn, sql: str, params: Sequence[Mapping[str, Any]]) -> list[int | None]:
    """``sql`` once per parameter set, all in one round trip; the id each returned, or None."""
    if not params:
        return []
    out: list[int | None] = []
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.executemany(sql, params, returning=True)
        while True:
            row = cur.fetchone()
            out.append(int(row[0]) if row else None)
            if not cur.nextset():
                break
    return out


def open_alerts(conn: Conn, news: Sequence[NewAlert]) -> list[int | None]:
    """New pending or firing alarms, each with its first event; per alarm its id, or None when
    its series already has an open one."""
    return _each_returned(
        conn,
        OPEN_SQL,
        [
            {
                "rule": n.rule.id,
                "key": n.series_key,
                "park": n.ids.park_id,
                "ent": n.ids.enterprise_id,
                "dev": n.ids.device_id,
                "gw": n.ids.gateway_id,
                "metric": n.rule.metric,
                "sev": n.rule.severity,
                "cat": n.rule.category,
                "state": n.state,
                "labels": Jsonb(dict(n.labels)),
                "summary": n.rule.summary,
                "v": n.value,
                "at": ts(n.at_ms),
                "firing": ts(n.at_ms) if n.state == "firing" else None,
            }
            for n in news
        ],
    )


def move_alerts(conn: Conn, moves: Sequence[Move]) -> list[bool]:
    """pending → firing, or open alarms → resolved / cancelled by the evaluator, each with its
    event; per move whether the alarm was still open."""
    done: dict[int, bool] = {}
    for to, sql in MOVE_SQL.items():  # one statement per target state, each batch in one round trip
        mine = [(i, m) for i, m in enumerate(moves) if m.to == to]
        ids = _each_returned(
            conn, sql, [{"to": to, "at": ts(m.at_ms), "v": m.value, "id": m.alert_id} for _, m in mine]
        )
        done.update({i: aid is not None for (i, _), aid in zip(mine, ids, strict=True)})
    return [done[i] for i in range(len(moves))]


def open_alert(
    conn: Conn,
    *,
    rule: Rule,
    series_key: str,
    ids: SeriesIds,
    state: str,
    at_ms: int,
    value: float | None,
    labels: Mapping[str, str],
) -> int | None:
    """A new pending or firing alarm, or None when the series already has an open one."""
    return open_alerts(conn, [NewAlert(rule, series_key, ids, state, at_ms, value, labels)])[0]


def move_alert(conn: Conn, *, alert_id: int, to: str, at_ms: int, value: float | None) -> bool:
    """pending → firing, or an open alarm → resolved / cancelled by the evaluator."""
    return move_alerts(conn, [Move(alert_id, to, at_ms, value)])[0]


def add_event(
    conn: Conn,
    *,
    alert_id: int,
    kind: str,
    by: str,
    at_ms: int | None = None,
    comment: str = "",
    value: float | None = None,
) -> None:
    conn.execute(
        "INSERT INTO alert_events (alert_id, at, kind, by, comment, value)"
        " VALUES (%s, coalesce(%s, now()), %s, %s, %s, %s)",
        (alert_id, ts(at_ms) if at_ms is not None else None, kind, by, comment, value),
    )


def mark_acknowledged(conn: Conn, *, alert_id: int, by: str) -> None:
    """Acknowledging twice keeps the first time and person."""
    conn.execute(
        "UPDATE alerts SET acknowledged_at = coalesce(acknowledged_at, now()),"
        " acknowledged_by = coalesce(acknowledged_by, %s), updated_at = now() WHERE alert_id = %s",
        (by, alert_id),
    )


def set_assignee(conn: Conn, *, alert_id: int, assignee: str | None) -> None:
    conn.execute(
        "UPDATE alerts SET assignee = %s, assigned_at = CASE WHEN %s::text IS NULL THEN NULL ELSE now() END,"
        " updated_at = now() WHERE alert_id = %s",
        (assignee, assignee, alert_id),
    )


def clear_by_hand(conn: Conn, *, alert_id: int, by: str) -> None:
    """An operator ends an open alarm: a pending one is cancelled, a firing one resolved."""
    conn.execute(
        "UPDATE alerts SET state = CASE WHEN state = 'pending' THEN 'cancelled' ELSE 'resolved' END,"
        " resolved_at = now(), resolved_by = %s, updated_at = now() WHERE alert_id = %s",
        (by, alert_id),
    )


@dataclass(frozen=True, slots=True)
class OpenAlert:
    alert_id: int
    rule_id: str
    series_key: str
    state: str
    started_ms: int
    value: float | None
    labels: Mapping[str, str]
    summary: str


def fetch_open_alerts(conn: Conn, *, park_ids: Sequence[int] | None = None) -> list[OpenAlert]:
    """Open alarms (of the given parks; None: all)."""
    return [
        OpenAlert(r[0], r[1], r[2], r[3], ms(r[4]), r[5], r[6], r[7])
        for r in conn.execute(
            "SELECT alert_id, rule_id, series_key, state, started_at, value, labels, summary FROM alerts"
            " WHERE state IN ('pending', 'firing') AND (%(p)s::int[] IS NULL OR park_id = ANY(%(p)s))"
            " ORDER BY alert_id",
            {"p": park_filter(park_ids)},
        )
    ]


def closed_by_hand(conn: Conn, *, alert_ids: Sequence[int]) -> list[int]:
    """Which of these alarms an operator has resolved since the service last looked."""
    if not alert_ids:
        return []
    rows = conn.execute(
        "SELECT alert_id FROM alerts WHERE alert_id = ANY(%s) AND state NOT IN ('pending', 'firing')",
        (list(alert_ids),),
    )
    return [r[0] for r in rows]
