"""Alert rules, silences and receivers (alerting's tables), scoped to an operator's park: reads
only; the routes write through alerting.rule_store and alerting.routing_store, the tables' owners.

Rules and silences carry park codes (rule scope, ``park=`` matchers) rather than ids, so the scope
here is the principal's park code: an operator sees and writes what names its park only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

Row = dict[str, Any]

RULE_COLS = "rule_id, definition, metric, severity, category, enabled, updated_at, updated_by"
SILENCE_COLS = "silence_id, matchers, starts_at, ends_at, created_by, comment, created_at"
RECEIVER_COLS = (
    "r.receiver_id, r.name, r.park_id, r.categories, r.channel, r.url, (r.secret IS NOT NULL) AS"
    " has_secret,"
    " r.group_by, r.group_wait_s, r.group_interval_s, r.repeat_interval_s, r.enabled, r.created_at, r.config,"
    " ARRAY(SELECT jsonb_object_keys(r.secrets) ORDER BY 1) AS secret_names"
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


# --- silences -------------------------------------------------------------------------------

_SILENCE_PARK = "matchers ? ('park=' || %(park)s)"


# A silence concerns an enterprise when it names it; it concerns a category unless it names
# (exactly) another one. Enterprise users and regulators read only those that concern them.
_SILENCE_ENTERPRISE = "matchers ? ('enterprise=' || %(ent)s)"
_SILENCE_CATEGORIES = (
    "NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(matchers) m"
    " WHERE m LIKE 'category=%%' AND m NOT LIKE 'category=~%%' AND substr(m, 10) <> ALL(%(cats)s))"
)


def enterprise_code(conn: psycopg.Connection[Any], *, enterprise_id: int) -> str | None:
    row = conn.execute("SELECT code FROM enterprises WHERE enterprise_id = %s", (enterprise_id,)).fetchone()
    return None if row is None else row["code"]


def list_silences(
    conn: psycopg.Connection[Any],
    *,
    park: str | None,
    active_at: datetime | None,
    limit: int,
    offset: int,
    enterprise: str | None = None,
    categories: list[str] | None = None,
) -> list[Row]:
    clauses = ["TRUE"]
    if park is not None:
        clauses.append(_SILENCE_PARK)
    if enterprise is not None:
        clauses.append(_SILENCE_ENTERPRISE)
    if categories is not None:
        clauses.append(_SILENCE_CATEGORIES)
    if active_at is not None:
        clauses.append("starts_at <= %(at)s AND ends_at > %(at)s")
    return conn.execute(
        f"SELECT {SILENCE_COLS} FROM alert_silences WHERE {' AND '.join(clauses)}"
        " ORDER BY silence_id DESC LIMIT %(lim)s OFFSET %(off)s",
        {"park": park, "ent": enterprise, "cats": categories, "at": active_at, "lim": limit + 1, "off": offset},
    ).fetchall()


def get_silence(conn: psycopg.Connection[Any], *, silence_id: int, park: str | None) -> Row | None:
    extra = f" AND {_SILENCE_PARK}" if park is not None else ""
    return conn.execute(
        f"SELECT {SILENCE_COLS} FROM alert_silences WHERE silence_id = %(id)s{extra}",
        {"id": silence_id, "park": park},
    ).fetchone()


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
