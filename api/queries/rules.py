"""Alert rules, silences and receivers (alerting's tables), scoped to an operator's park.

Rules and silences carry park codes (rule scope, ``park=`` matchers) rather than ids, so the scope
here is the principal's park code: an operator sees and writes what names its park only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from api.queries.scope import required

Row = dict[str, Any]

RULE_COLS = "rule_id, definition, metric, severity, category, enabled, updated_at, updated_by"
SILENCE_COLS = "silence_id, matchers, starts_at, ends_at, created_by, comment, created_at"
RECEIVER_COLS = (
    "r.receiver_id, r.name, r.park_id, r.categories, r.channel, r.url, (r.secret IS NOT NULL) AS"
    " has_secret,"
    " r.group_by, r.group_wait_s, r.group_interval_s, r.repeat_interval_s, r.enabled, r.created_at"
)


def park_code(conn: psycopg.Connection[Any], *, park_id: int) -> str | None:
    row = conn.execute("SELECT code FROM parks WHERE park_id = %s", (park_id,)).fetchone()
    return None if row is None else row["code"]


# A rule applies to a park when its scope names no park or names that one exactly (globs included
# would need evaluation; operators get exact codes).
_RULE_PARK = (
    "(NOT (definition->'scope' ? 'parks') OR definition->'scope'->'parks' = '[]'::jsonb"
    " OR definition->'scope'->'parks' ? %(park)s)"
)


def list_rules(
    conn: psycopg.Connection[Any],
    *,
    park: str | None,
    categories: list[str],
    limit: int,
    offset: int,
) -> list[Row]:
    where = "category = ANY(%(cats)s)" + (f" AND {_RULE_PARK}" if park is not None else "")
    return conn.execute(
        f"SELECT {RULE_COLS} FROM alert_rules WHERE {where} ORDER BY rule_id LIMIT %(lim)s OFFSET %(off)s",
        {"cats": categories, "park": park, "lim": limit + 1, "off": offset},
    ).fetchall()


def get_rule(conn: psycopg.Connection[Any], *, rule_id: str, park: str | None, categories: list[str]) -> Row | None:
    where = "rule_id = %(id)s AND category = ANY(%(cats)s)" + (f" AND {_RULE_PARK}" if park else "")
    return conn.execute(
        f"SELECT {RULE_COLS} FROM alert_rules WHERE {where}",
        {"id": rule_id, "cats": categories, "park": park},
    ).fetchone()


def upsert_rule(conn: psycopg.Connection[Any], *, definition: dict[str, Any], by: str, create: bool) -> bool:
    params = {
        "id": definition["id"],
        "def": Jsonb(definition),
        "metric": definition["metric"],
        "sev": definition["severity"],
        "cat": definition["category"],
        "en": definition.get("enabled", True),
        "by": by,
    }
    if create:
        cur = conn.execute(
            "INSERT INTO alert_rules (rule_id, definition, metric, severity, category, enabled,"
            " updated_by) VALUES (%(id)s, %(def)s, %(metric)s, %(sev)s, %(cat)s, %(en)s, %(by)s)"
            " ON CONFLICT (rule_id) DO NOTHING",
            params,
        )
    else:
        cur = conn.execute(
            "UPDATE alert_rules SET definition = %(def)s, metric = %(metric)s, severity = %(sev)s,"
            " category = %(cat)s, enabled = %(en)s, updated_by = %(by)s, updated_at = now()"
            " WHERE rule_id = %(id)s",
            params,
        )
    return cur.rowcount > 0


def delete_rule(conn: psycopg.Connection[Any], *, rule_id: str) -> bool:
    return conn.execute("DELETE FROM alert_rules WHERE rule_id = %s", (rule_id,)).rowcount > 0


# --- silences -------------------------------------------------------------------------------

_SILENCE_PARK = "matchers ? ('park=' || %(park)s)"


def list_silences(
    conn: psycopg.Connection[Any],
    *,
    park: str | None,
    active_at: datetime | None,
    limit: int,
    offset: int,
) -> list[Row]:
    clauses = ["TRUE"]
    if park is not None:
        clauses.append(_SILENCE_PARK)
    if active_at is not None:
        clauses.append("starts_at <= %(at)s AND ends_at > %(at)s")
    return conn.execute(
        f"SELECT {SILENCE_COLS} FROM alert_silences WHERE {' AND '.join(clauses)}"
        " ORDER BY silence_id DESC LIMIT %(lim)s OFFSET %(off)s",
        {"park": park, "at": active_at, "lim": limit + 1, "off": offset},
    ).fetchall()


def get_silence(conn: psycopg.Connection[Any], *, silence_id: int, park: str | None) -> Row | None:
    extra = f" AND {_SILENCE_PARK}" if park is not None else ""
    return conn.execute(
        f"SELECT {SILENCE_COLS} FROM alert_silences WHERE silence_id = %(id)s{extra}",
        {"id": silence_id, "park": park},
    ).fetchone()


def insert_silence(
    conn: psycopg.Connection[Any],
    *,
    matchers: list[str],
    starts_at: datetime,
    ends_at: datetime,
    by: str,
    comment: str,
) -> int:
    row = conn.execute(
        "INSERT INTO alert_silences (matchers, starts_at, ends_at, created_by, comment)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING silence_id",
        (Jsonb(matchers), starts_at, ends_at, by, comment),
    ).fetchone()
    return int(required(row)["silence_id"])


def expire_silence(conn: psycopg.Connection[Any], *, silence_id: int, at: datetime) -> None:
    """Ending a silence keeps it for the record: its end moves to now (or to its start)."""
    conn.execute(
        "UPDATE alert_silences SET ends_at = GREATEST(starts_at + interval '1 millisecond', %s)"
        " WHERE silence_id = %s AND ends_at > %s",
        (at, silence_id, at),
    )


# --- receivers ------------------------------------------------------------------------------


def list_receivers(conn: psycopg.Connection[Any], *, park_id: int | None, limit: int, offset: int) -> list[Row]:
    where = "r.park_id = %(pid)s" if park_id is not None else "TRUE"
    return conn.execute(
        f"SELECT {RECEIVER_COLS} FROM alert_receivers r WHERE {where}"
        " ORDER BY r.receiver_id LIMIT %(lim)s OFFSET %(off)s",
        {"pid": park_id, "lim": limit + 1, "off": offset},
    ).fetchall()


def get_receiver(conn: psycopg.Connection[Any], *, receiver_id: int, park_id: int | None) -> Row | None:
    extra = " AND r.park_id = %(pid)s" if park_id is not None else ""
    return conn.execute(
        f"SELECT {RECEIVER_COLS} FROM alert_receivers r WHERE r.receiver_id = %(id)s{extra}",
        {"id": receiver_id, "pid": park_id},
    ).fetchone()


_RECEIVER_FIELDS = (
    "name",
    "park_id",
    "categories",
    "channel",
    "url",
    "secret",
    "group_by",
    "group_wait_s",
    "group_interval_s",
    "repeat_interval_s",
    "enabled",
)


def insert_receiver(conn: psycopg.Connection[Any], *, values: Row) -> int:
    cols = [c for c in _RECEIVER_FIELDS if c in values]
    row = conn.execute(
        f"INSERT INTO alert_receivers ({', '.join(cols)})"
        f" VALUES ({', '.join(f'%({c})s' for c in cols)}) RETURNING receiver_id",
        {c: values[c] for c in cols},
    ).fetchone()
    return int(required(row)["receiver_id"])


def update_receiver(conn: psycopg.Connection[Any], *, receiver_id: int, changes: Row) -> None:
    cols = [c for c in _RECEIVER_FIELDS if c in changes and c != "park_id"]
    if cols:
        conn.execute(
            f"UPDATE alert_receivers SET {', '.join(f'{c} = %({c})s' for c in cols)} WHERE receiver_id = %(_id)s",
            {**{c: changes[c] for c in cols}, "_id": receiver_id},
        )


def delete_receiver(conn: psycopg.Connection[Any], *, receiver_id: int) -> None:
    conn.execute("DELETE FROM alert_receivers WHERE receiver_id = %s", (receiver_id,))
