"""SQL of the alerting service: rules, alarm transitions, receivers, silences, the outbox, and the
stored telemetry that average and rate windows resume from.

The one module that writes alerting's tables: the service, the CLI, the operators' actions of
alerting.lifecycle and the API all write through it, so that a rule, an alarm or a silence
changes the same way whoever changes it. Keyword-only functions; the caller owns the
transaction. Table shapes are documented at the top of smartpark/db/migrations/0300_alerting.sql.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from alerting.routing import Receiver, Silence, parse_matchers
from alerting.rules import Rule, RuleError, rule_from_dict, rule_to_dict

log = logging.getLogger(__name__)
Conn = psycopg.Connection[Any]
OPEN_STATES = ("pending", "firing")


def _new_id(conn: Conn, sql: str, params: Sequence[Any]) -> int:
    """The id an INSERT ... RETURNING yields, whatever row factory the caller's connection has."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def ts(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


# -- rules ----------------------------------------------------------------------------------
def save_rules(conn: Conn, *, rules: Iterable[Rule], by: str) -> int:
    n = 0
    for r in rules:
        conn.execute(
            "INSERT INTO alert_rules (rule_id, definition, metric, severity, category, enabled, updated_by)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (rule_id) DO UPDATE SET"
            " definition = excluded.definition, metric = excluded.metric, severity = excluded.severity,"
            " category = excluded.category, enabled = excluded.enabled, updated_at = now(),"
            " updated_by = excluded.updated_by",
            (r.id, Jsonb(rule_to_dict(r)), r.metric, r.severity, r.category, r.enabled, by),
        )
        n += 1
    return n


def set_rule_enabled(conn: Conn, *, rule_id: str, enabled: bool, by: str) -> bool:
    row = conn.execute(
        "UPDATE alert_rules SET enabled = %s, updated_at = now(), updated_by = %s WHERE rule_id = %s RETURNING rule_id",
        (enabled, by, rule_id),
    ).fetchone()
    return row is not None


def create_rule(conn: Conn, *, rule: Rule, by: str) -> bool:
    """Store a new rule; False when one with its id exists (nothing is changed then)."""
    cur = conn.execute(
        "INSERT INTO alert_rules (rule_id, definition, metric, severity, category, enabled, updated_by)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (rule_id) DO NOTHING",
        (rule.id, Jsonb(rule_to_dict(rule)), rule.metric, rule.severity, rule.category, rule.enabled, by),
    )
    return cur.rowcount > 0


def replace_rule(conn: Conn, *, rule: Rule, by: str) -> bool:
    """Replace a stored rule's definition; False when there is no rule with its id."""
    cur = conn.execute(
        "UPDATE alert_rules SET definition = %s, metric = %s, severity = %s, category = %s, enabled = %s,"
        " updated_by = %s, updated_at = now() WHERE rule_id = %s",
        (Jsonb(rule_to_dict(rule)), rule.metric, rule.severity, rule.category, rule.enabled, by, rule.id),
    )
    return cur.rowcount > 0


def delete_rule(conn: Conn, *, rule_id: str) -> bool:
    return conn.execute("DELETE FROM alert_rules WHERE rule_id = %s", (rule_id,)).rowcount > 0


def fetch_rules(conn: Conn) -> tuple[list[Rule], list[str]]:
    """The stored rules, and an error per stored definition that no longer validates."""
    rules, errors = [], []
    for rule_id, definition, enabled in conn.execute(
        "SELECT rule_id, definition, enabled FROM alert_rules ORDER BY rule_id"
    ):
        try:
            rules.append(rule_from_dict({**definition, "id": rule_id, "enabled": enabled}, "alert_rules"))
        except RuleError as exc:
            errors.append(str(exc))
    return rules, errors


# -- alarms ---------------------------------------------------------------------------------
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


def _parks(park_ids: Sequence[int] | None) -> list[int] | None:
    return None if park_ids is None else list(park_ids)


def fetch_open_alerts(conn: Conn, *, park_ids: Sequence[int] | None = None) -> list[OpenAlert]:
    """Open alarms (of the given parks; None: all)."""
    return [
        OpenAlert(r[0], r[1], r[2], r[3], ms(r[4]), r[5], r[6], r[7])
        for r in conn.execute(
            "SELECT alert_id, rule_id, series_key, state, started_at, value, labels, summary FROM alerts"
            " WHERE state IN ('pending', 'firing') AND (%(p)s::int[] IS NULL OR park_id = ANY(%(p)s))"
            " ORDER BY alert_id",
            {"p": _parks(park_ids)},
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


def unsent_resolutions(conn: Conn, *, park_ids: Sequence[int] | None = None) -> list[tuple[OpenAlert, int, int]]:
    """Resolved alarms whose firing reached a receiver and whose resolution has not yet:
    (alarm, receiver_id, ms it was resolved)."""
    rows = conn.execute(
        "SELECT a.alert_id, a.rule_id, a.series_key, a.state, a.started_at, a.value, a.labels, a.summary,"
        " n.receiver_id, a.resolved_at FROM alerts a JOIN alert_notified n ON n.alert_id = a.alert_id"
        " AND n.status = 'firing' WHERE a.state = 'resolved' AND NOT EXISTS (SELECT 1 FROM alert_notified r"
        " WHERE r.alert_id = a.alert_id AND r.receiver_id = n.receiver_id AND r.status = 'resolved')"
        " AND (%(p)s::int[] IS NULL OR a.park_id = ANY(%(p)s))",
        {"p": _parks(park_ids)},
    ).fetchall()
    return [(OpenAlert(r[0], r[1], r[2], r[3], ms(r[4]), r[5], r[6], r[7]), r[8], ms(r[9])) for r in rows]


def notified(conn: Conn, *, alert_ids: Sequence[int]) -> dict[int, dict[int, tuple[str, int]]]:
    """alert_id -> receiver_id -> (last status notified, when)."""
    out: dict[int, dict[int, tuple[str, int]]] = {}
    if not alert_ids:
        return out
    for aid, rid, status, at in conn.execute(
        "SELECT alert_id, receiver_id, status, at FROM alert_notified WHERE alert_id = ANY(%s) ORDER BY at",
        (list(alert_ids),),
    ):
        out.setdefault(aid, {})[rid] = (status, ms(at))
    return out


# -- receivers and silences -------------------------------------------------------------------
def create_receiver(
    conn: Conn,
    *,
    name: str,
    park_id: int | None,
    categories: Sequence[str],
    channel: str,
    url: str | None = None,
    secret: str | None = None,
    group_by: Sequence[str] = ("park", "category", "alertname"),
    group_wait_s: float = 0,
    group_interval_s: float = 30,
    repeat_interval_s: float = 14400,
    enabled: bool = True,
    config: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> int:
    return _new_id(
        conn,
        "INSERT INTO alert_receivers (name, park_id, categories, channel, url, secret, group_by, group_wait_s,"
        " group_interval_s, repeat_interval_s, enabled, config, secrets)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING receiver_id",
        (
            name,
            park_id,
            list(categories),
            channel,
            url,
            secret,
            list(group_by),
            group_wait_s,
            group_interval_s,
            repeat_interval_s,
            enabled,
            Jsonb(dict(config or {})),
            Jsonb(dict(secrets or {})),
        ),
    )


# What may change on a stored receiver; its park stays (an operator could otherwise move it out).
RECEIVER_CHANGEABLE = (
    "name",
    "categories",
    "channel",
    "url",
    "secret",
    "group_by",
    "group_wait_s",
    "group_interval_s",
    "repeat_interval_s",
    "enabled",
    "config",
    "secrets",
)


def update_receiver(conn: Conn, *, receiver_id: int, changes: Mapping[str, Any]) -> None:
    """Set the given fields (those of RECEIVER_CHANGEABLE; others are ignored)."""
    cols = [c for c in RECEIVER_CHANGEABLE if c in changes]
    if cols:
        conn.execute(
            f"UPDATE alert_receivers SET {', '.join(f'{c} = %({c})s' for c in cols)} WHERE receiver_id = %(_id)s",
            {
                **{c: Jsonb(dict(changes[c])) if c in ("config", "secrets") else changes[c] for c in cols},
                "_id": receiver_id,
            },
        )


def delete_receiver(conn: Conn, *, receiver_id: int) -> None:
    conn.execute("DELETE FROM alert_receivers WHERE receiver_id = %s", (receiver_id,))


def fetch_receivers(conn: Conn, *, park_ids: Sequence[int] | None = None) -> tuple[list[Receiver], list[str]]:
    """Enabled receivers; with ``park_ids`` only those of these parks (a service that handles some
    parks leaves receivers of every park to the one that handles all)."""
    out, errors = [], []
    for r in conn.execute(
        "SELECT r.receiver_id, r.name, p.code, r.categories, r.channel, r.url, r.secret, r.group_by,"
        " r.group_wait_s, r.group_interval_s, r.repeat_interval_s, r.config, r.secrets FROM alert_receivers r"
        " LEFT JOIN parks p USING (park_id) WHERE r.enabled"
        " AND (%(p)s::int[] IS NULL OR r.park_id = ANY(%(p)s)) ORDER BY r.receiver_id",
        {"p": _parks(park_ids)},
    ):
        try:
            out.append(
                Receiver(
                    r[0], r[1], r[2], frozenset(r[3]), r[4], r[5], r[6], tuple(r[7]), r[8], r[9], r[10], r[11], r[12]
                )
            )
        except RuleError as exc:
            errors.append(str(exc))
    return out, errors


def create_silence(
    conn: Conn, *, matchers: Sequence[str], starts_ms: int, ends_ms: int, by: str, comment: str = ""
) -> int:
    parse_matchers(list(matchers))  # reject a bad matcher before it is stored
    return _new_id(
        conn,
        "INSERT INTO alert_silences (matchers, starts_at, ends_at, created_by, comment)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING silence_id",
        (Jsonb(list(matchers)), ts(starts_ms), ts(ends_ms), by, comment),
    )


def expire_silence(conn: Conn, *, silence_id: int, by: str, at_ms: int) -> bool:
    """End a silence at ``at_ms`` (kept for the record, with who ended it); False when it had
    already ended. A silence that has not started yet ends 1 ms after its start, because a
    silence must end after it starts (the table's CHECK)."""
    row = conn.execute(
        "UPDATE alert_silences SET ends_at = GREATEST(starts_at + interval '1 millisecond', %(at)s),"
        " comment = comment || %(note)s"
        " WHERE silence_id = %(id)s AND ends_at > GREATEST(starts_at + interval '1 millisecond', %(at)s)"
        " RETURNING silence_id",
        {"at": ts(at_ms), "note": f" [ended by {by}]", "id": silence_id},
    ).fetchone()
    return row is not None


def fetch_silences(conn: Conn, *, now_ms: int) -> tuple[list[Silence], list[str]]:
    out, errors = [], []
    for sid, matchers, starts, ends in conn.execute(
        "SELECT silence_id, matchers, starts_at, ends_at FROM alert_silences WHERE ends_at > %s",
        (ts(now_ms),),
    ):
        try:
            out.append(Silence(sid, parse_matchers(matchers, f"silence {sid}"), ms(starts), ms(ends)))
        except RuleError as exc:
            errors.append(str(exc))
    return out, errors


# -- outbox ---------------------------------------------------------------------------------
def enqueue_notification(
    conn: Conn,
    *,
    receiver_id: int,
    group_key: str,
    status: str,
    payload: Mapping[str, Any],
    alert_statuses: Iterable[tuple[int, str]],
) -> int:
    row = conn.execute(
        "INSERT INTO alert_notifications (receiver_id, group_key, status, payload)"
        " VALUES (%s, %s, %s, %s) RETURNING notification_id",
        (receiver_id, group_key, status, Jsonb(dict(payload))),
    ).fetchone()
    assert row is not None
    nid = int(row[0])
    conn.cursor().executemany(
        "INSERT INTO alert_notified (alert_id, receiver_id, status, notification_id) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (alert_id, receiver_id, status) DO UPDATE SET notification_id = excluded.notification_id,"
        " at = now()",
        [(aid, receiver_id, st, nid) for aid, st in alert_statuses],
    )
    return nid


def window_readings(
    conn: Conn, *, metric_ids: Sequence[int], device_ids: Sequence[int], start_ms: int, end_ms: int, limit: int
) -> list[tuple[int, int, int, float]]:
    """(device_id, metric_id, ts ms, value) of the valid stored readings (ingest's), oldest first."""
    # valid, over range (T: at least that high), and receipt-time readings
    return conn.execute(
        "SELECT device_id, metric_id, (extract(epoch FROM ts) * 1000)::int8, value FROM telemetry"
        " WHERE ts >= %s AND ts <= %s AND metric_id = ANY(%s) AND device_id = ANY(%s) AND flag IN (0, 6, 64)"
        " ORDER BY ts LIMIT %s",
        (ts(start_ms), ts(end_ms), list(metric_ids), list(device_ids), limit),
    ).fetchall()


@dataclass(frozen=True, slots=True)
class Outgoing:
    notification_id: int
    receiver_id: int
    attempts: int
    payload: Mapping[str, Any]
    due: bool = True  # its next attempt is now (claim_receiver_queue)


def claim_due(conn: Conn, *, limit: int = 50, ids: Sequence[int] | None = None) -> list[Outgoing]:
    """Undelivered notifications that are due (or the given ones), locked for this transaction so
    no other delivery worker sends them at the same time."""
    where = "notification_id = ANY(%s)" if ids is not None else "next_attempt_at <= now()"
    params: tuple[Any, ...] = (list(ids), limit) if ids is not None else (limit,)
    rows = conn.execute(
        "SELECT notification_id, receiver_id, attempts, payload FROM alert_notifications"
        f" WHERE delivered_at IS NULL AND {where} ORDER BY notification_id LIMIT %s FOR UPDATE SKIP LOCKED",
        params,
    ).fetchall()
    return [Outgoing(r[0], r[1], r[2], r[3]) for r in rows]


def mark_delivered(conn: Conn, *, notification_id: int) -> None:
    conn.execute(
        "UPDATE alert_notifications SET delivered_at = now(), attempts = attempts + 1, last_error = NULL"
        " WHERE notification_id = %s",
        (notification_id,),
    )


def mark_failed(conn: Conn, *, notification_id: int, error: str, retry_in_s: float) -> None:
    conn.execute(
        "UPDATE alert_notifications SET attempts = attempts + 1, last_error = %s,"
        " next_attempt_at = now() + make_interval(secs => %s) WHERE notification_id = %s",
        (error[:2000], retry_in_s, notification_id),
    )


def outbox_counts(conn: Conn) -> dict[str, int]:
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE delivered_at IS NOT NULL), count(*) FILTER (WHERE delivered_at IS NULL),"
        " count(*) FILTER (WHERE delivered_at IS NULL AND attempts > 0) FROM alert_notifications"
    ).fetchone()
    assert row is not None
    return {"delivered": row[0], "pending": row[1], "failing": row[2]}


def claim_receiver_queue(conn: Conn, *, receiver_id: int, limit: int) -> list[Outgoing]:
    """A receiver's undelivered notifications, oldest first, each with whether it is due, locked
    for this transaction. Not only the due ones: a paging channel sends what waited behind a due
    one with it, as one summary, and holds back what waits behind one that is not due yet (its
    retry), so a later notification never overtakes an earlier one."""
    rows = conn.execute(
        "SELECT notification_id, receiver_id, attempts, payload, next_attempt_at <= now() FROM alert_notifications"
        " WHERE receiver_id = %s AND delivered_at IS NULL"
        " ORDER BY notification_id LIMIT %s FOR UPDATE SKIP LOCKED",
        (receiver_id, limit),
    ).fetchall()
    return [Outgoing(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def defer(conn: Conn, *, notification_ids: Sequence[int], until_s: float) -> None:
    """Hold notifications back without counting an attempt: a channel's rate budget is spent."""
    conn.execute(
        "UPDATE alert_notifications SET next_attempt_at = to_timestamp(%s) WHERE notification_id = ANY(%s)",
        (until_s, list(notification_ids)),
    )
