"""SQL of paging: contacts, duty rosters, escalation policies and where each alarm is in its
policy, the log of delivery attempts, and the acknowledge links already used.

The one module that writes the notify_* tables (see smartpark/db/migrations/0700_notify.sql).
Keyword-only functions; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

Conn = psycopg.Connection[Any]


def _new_id(conn: Conn, sql: str, params: Sequence[Any]) -> int:
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


# -- contacts, rosters, policies ------------------------------------------------------------
def create_contact(conn: Conn, *, name: str, park_id: int | None, email: str | None, phone: str | None) -> int:
    return _new_id(
        conn,
        "INSERT INTO notify_contacts (name, park_id, email, phone) VALUES (%s, %s, %s, %s) RETURNING contact_id",
        (name, park_id, email, phone),
    )


def delete_contact(conn: Conn, *, contact_id: int) -> None:
    conn.execute("DELETE FROM notify_contacts WHERE contact_id = %s", (contact_id,))


def save_roster(conn: Conn, *, name: str, park_id: int | None, definition: Mapping[str, Any]) -> int:
    """Create the roster, or replace the definition of the one with this name."""
    return _new_id(
        conn,
        "INSERT INTO notify_rosters (name, park_id, definition) VALUES (%s, %s, %s) ON CONFLICT (name)"
        " DO UPDATE SET definition = excluded.definition, updated_at = now() RETURNING roster_id",
        (name, park_id, Jsonb(dict(definition))),
    )


def delete_roster(conn: Conn, *, roster_id: int) -> None:
    conn.execute("DELETE FROM notify_rosters WHERE roster_id = %s", (roster_id,))


def save_policy(
    conn: Conn,
    *,
    name: str,
    park_id: int | None,
    matchers: Sequence[str],
    definition: Mapping[str, Any],
    enabled: bool = True,
) -> int:
    return _new_id(
        conn,
        "INSERT INTO notify_policies (name, park_id, matchers, definition, enabled) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (name) DO UPDATE SET matchers = excluded.matchers, definition = excluded.definition,"
        " enabled = excluded.enabled, updated_at = now() RETURNING policy_id",
        (name, park_id, Jsonb(list(matchers)), Jsonb(dict(definition)), enabled),
    )


def delete_policy(conn: Conn, *, policy_id: int) -> None:
    conn.execute("DELETE FROM notify_policies WHERE policy_id = %s", (policy_id,))


def fetch_policies(conn: Conn) -> list[tuple[int, str, list[str], dict[str, Any], int | None]]:
    """Enabled policies: (policy_id, name, matchers, definition, park_id or None: platform-wide)."""
    return [
        (r[0], r[1], r[2], r[3], r[4])
        for r in conn.execute(
            "SELECT policy_id, name, matchers, definition, park_id FROM notify_policies WHERE enabled"
            " ORDER BY policy_id"
        )
    ]


def fetch_rosters(conn: Conn, *, names: Sequence[str], park_id: int) -> dict[str, tuple[dict[str, Any], str]]:
    """name -> (definition, the time zone of its park or the default), of the rosters of park
    ``park_id`` (an alarm's) and the platform-wide ones: another park's roster is never used."""
    return {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            "SELECT r.name, r.definition, coalesce(p.timezone, 'Asia/Shanghai') FROM notify_rosters r"
            " LEFT JOIN parks p USING (park_id) WHERE r.name = ANY(%s) AND (r.park_id = %s OR r.park_id IS NULL)",
            (list(names), park_id),
        )
    }


def fetch_contacts(conn: Conn, *, names: Sequence[str], park_id: int) -> dict[str, tuple[int, str | None, str | None]]:
    """name -> (contact_id, email, phone), of the contacts of park ``park_id`` (an alarm's) and the
    platform-wide ones: another park's people are never paged about this park's alarms."""
    return {
        r[0]: (r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT name, contact_id, email, phone FROM notify_contacts"
            " WHERE name = ANY(%s) AND (park_id = %s OR park_id IS NULL)",
            (list(names), park_id),
        )
    }


_NAMED = {"contacts": "notify_contacts", "rosters": "notify_rosters", "receivers": "alert_receivers"}


def names_of_parks_but(conn: Conn, *, kind: str, names: Sequence[str], park_id: int | None) -> list[str]:
    """The names among ``names`` of contacts, rosters or receivers (``kind``) that belong to a
    park other than ``park_id`` (None: to any park), sorted."""
    if not names:
        return []
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            f"SELECT name FROM {_NAMED[kind]} WHERE name = ANY(%s) AND park_id IS NOT NULL"
            " AND park_id IS DISTINCT FROM %s ORDER BY name",
            (list(names), park_id),
        ).fetchall()
    return [r[0] for r in rows]


# -- escalation state -------------------------------------------------------------------------
def unescalated(
    conn: Conn, *, policy_ids: Sequence[int], limit: int
) -> list[tuple[int, dict[str, Any], int, datetime]]:
    """Firing, unacknowledged alarms that some of these policies have not started on:
    (alert_id, labels, park_id, firing_at)."""
    return [
        (r[0], r[1], r[2], r[3])
        for r in conn.execute(
            "SELECT a.alert_id, a.labels, a.park_id, coalesce(a.firing_at, a.started_at) FROM alerts a"
            " WHERE a.state = 'firing' AND a.acknowledged_at IS NULL AND (SELECT count(*) FROM notify_escalations e"
            " WHERE e.alert_id = a.alert_id) < cardinality(%s::int[]) ORDER BY a.alert_id LIMIT %s",
            (list(policy_ids), limit),
        )
    ]


def start_escalations(conn: Conn, *, rows: Sequence[tuple[int, int, datetime]]) -> None:
    """(alert_id, policy_id, firing_at): level 1 is due at once."""
    conn.cursor().executemany(
        "INSERT INTO notify_escalations (alert_id, policy_id, started_at, next_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING",
        [(a, p, at, at) for a, p, at in rows],
    )


def mark_unmatched(conn: Conn, *, rows: Sequence[tuple[int, int, datetime]]) -> None:
    """Alarms a policy does not match: recorded as done, so they are not looked at again."""
    conn.cursor().executemany(
        "INSERT INTO notify_escalations (alert_id, policy_id, started_at, next_at, done_at, done_why)"
        " VALUES (%s, %s, %s, %s, now(), 'not matched') ON CONFLICT DO NOTHING",
        [(a, p, at, at) for a, p, at in rows],
    )


def claim_due_escalations(conn: Conn, *, limit: int) -> list[dict[str, Any]]:
    """Due escalation steps with their alarm's state, locked for this transaction."""
    cols = (
        "alert_id",
        "policy_id",
        "level",
        "started_at",
        "next_at",
        "repeats",
        "state",
        "acknowledged",
        "labels",
        "summary",
        "value",
        "alarm_started_at",
        "park_id",
    )
    rows = conn.execute(
        "SELECT e.alert_id, e.policy_id, e.level, e.started_at, e.next_at, e.repeats, a.state,"
        " a.acknowledged_at IS NOT NULL, a.labels, a.summary, a.value, a.started_at, a.park_id"
        " FROM notify_escalations e JOIN alerts a USING (alert_id)"
        " WHERE e.done_at IS NULL AND e.next_at <= now() ORDER BY e.next_at LIMIT %s FOR UPDATE OF e SKIP LOCKED",
        (limit,),
    ).fetchall()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def next_deadline(conn: Conn) -> datetime | None:
    row = conn.execute("SELECT min(next_at) FROM notify_escalations WHERE done_at IS NULL").fetchone()
    return None if row is None else row[0]


def advance_escalation(
    conn: Conn, *, alert_id: int, policy_id: int, level: int, next_at: datetime | None, repeats: int, why: str = ""
) -> None:
    """Record the level notified and the next deadline (None: done, with why)."""
    conn.execute(
        "UPDATE notify_escalations SET level = %s, repeats = %s, next_at = coalesce(%s, next_at),"
        " done_at = CASE WHEN %s::timestamptz IS NULL THEN now() END, done_why = nullif(%s, '')"
        " WHERE alert_id = %s AND policy_id = %s",
        (level, repeats, next_at, next_at, why, alert_id, policy_id),
    )


# -- the log ------------------------------------------------------------------------------------
def log_attempt(
    conn: Conn,
    *,
    receiver_id: int,
    channel: str,
    target: str,
    budget_key: str,
    notification_ids: Sequence[int],
    alert_ids: Sequence[int],
    result: str,
    error: str | None,
    latency_ms: float,
) -> None:
    conn.execute(
        "INSERT INTO notify_attempts (receiver_id, channel, target, budget_key, notification_ids, alert_ids,"
        " result, error, latency_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            receiver_id,
            channel,
            target[:500],
            budget_key,
            list(notification_ids),
            sorted(set(alert_ids)),
            result,
            error[:2000] if error else None,
            latency_ms,
        ),
    )


def sent_in_window(conn: Conn, *, budget_key: str, window_s: float) -> tuple[int, float | None]:
    """Messages sent under this budget in the last window: (count, epoch s of the oldest)."""
    row = conn.execute(
        "SELECT count(*), extract(epoch FROM min(at))::float8 FROM notify_attempts WHERE budget_key = %s"
        " AND result = 'ok' AND at > now() - make_interval(secs => %s)",
        (budget_key, window_s),
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1]


# -- acknowledge links ----------------------------------------------------------------------------
def use_ack_link(conn: Conn, *, digest: str, alert_id: int, by: str) -> bool:
    """Spend a link; False when it was used before."""
    cur = conn.execute(
        "INSERT INTO notify_ack_uses (digest, alert_id, by) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (digest, alert_id, by),
    )
    return cur.rowcount > 0


def ack_link_used(conn: Conn, *, digest: str) -> bool:
    return conn.execute("SELECT 1 FROM notify_ack_uses WHERE digest = %s", (digest,)).fetchone() is not None


# -- what a page says about its alarms ------------------------------------------------------------
FACT_COLUMNS = (
    "alert_id",
    "severity",
    "summary",
    "labels",
    "value",
    "metric",
    "started_at",
    "park_name",
    "timezone",
    "language",
    "enterprise_name",
    "condition",
)


def alarm_facts(conn: Conn, *, alert_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    rows = conn.execute(
        "SELECT a.alert_id, a.severity, a.summary, a.labels, a.value, a.metric, a.started_at, p.name, p.timezone,"
        " p.attributes->>'language', e.name, r.definition->'condition' FROM alerts a JOIN parks p USING (park_id)"
        " LEFT JOIN enterprises e USING (enterprise_id) LEFT JOIN alert_rules r USING (rule_id)"
        " WHERE a.alert_id = ANY(%s)",
        (list(alert_ids),),
    ).fetchall()
    return {r[0]: dict(zip(FACT_COLUMNS, r, strict=True)) for r in rows}
