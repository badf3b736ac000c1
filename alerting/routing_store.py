"""SQL of where alarms go and what keeps them quiet: receivers (a channel, its grouping and
timing) and silences.

The one module that writes ``alert_receivers`` and ``alert_silences``: the service reads them for
routing, the CLI and the API change them. Keyword-only functions; the caller owns the transaction.
Table shapes are documented at the top of smartpark/db/migrations/0300_alerting.sql.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg.types.json import Jsonb

from alerting.routing import Receiver, Silence, parse_matchers
from alerting.rules import RuleError
from alerting.store_sql import Conn, ms, new_id, park_filter, ts


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
    return new_id(
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
        {"p": park_filter(park_ids)},
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
    return new_id(
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
