"""SQL of the outbox: notifications queued for receivers, claimed and marked by the delivery
workers, and which alarm each receiver was last told about (grouping, repeats and resolutions
survive a restart).

The one module that writes ``alert_notifications`` and ``alert_notified``. Keyword-only functions;
the caller owns the transaction. Table shapes are documented at the top of
smartpark/db/migrations/0300_alerting.sql.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from alerting.alarm_store import OpenAlert
from alerting.store_sql import Conn, ms, park_filter


def unsent_resolutions(conn: Conn, *, park_ids: Sequence[int] | None = None) -> list[tuple[OpenAlert, int, int]]:
    """Resolved alarms whose firing reached a receiver and whose resolution has not yet:
    (alarm, receiver_id, ms it was resolved)."""
    rows = conn.execute(
        "SELECT a.alert_id, a.rule_id, a.series_key, a.state, a.started_at, a.value, a.labels, a.summary,"
        " n.receiver_id, a.resolved_at FROM alerts a JOIN alert_notified n ON n.alert_id = a.alert_id"
        " AND n.status = 'firing' WHERE a.state = 'resolved' AND NOT EXISTS (SELECT 1 FROM alert_notified r"
        " WHERE r.alert_id = a.alert_id AND r.receiver_id = n.receiver_id AND r.status = 'resolved')"
        " AND (%(p)s::int[] IS NULL OR a.park_id = ANY(%(p)s))",
        {"p": park_filter(park_ids)},
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
