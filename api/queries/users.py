"""Users, API keys and the token secret (caller owns the transaction)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from api.auth import AuthError, Bureau, NewKey, Principal, Role, key_matches, key_prefix, new_key

_USER_COLS = (
    "u.user_id, u.name, u.role, u.park_id, u.enterprise_id, u.categories, u.created_at,"
    " u.disabled_at, coalesce(u.park_id, e.park_id) AS scope_park_id"
)


def create_user(
    conn: psycopg.Connection[Any],
    *,
    name: str,
    role: Role,
    park_id: int | None = None,
    enterprise_id: int | None = None,
    bureaus: Sequence[Bureau] = (),
) -> dict[str, Any]:
    row = conn.execute(
        "INSERT INTO api_users (name, role, park_id, enterprise_id, categories)"
        " VALUES (%(name)s, %(role)s, %(park)s, %(ent)s, %(cats)s) RETURNING user_id",
        {
            "name": name,
            "role": role.value,
            "park": park_id,
            "ent": enterprise_id,
            "cats": [b.value for b in bureaus],
        },
    ).fetchone()
    assert row is not None
    user = get_user(conn, user_id=_col(row, "user_id"))
    assert user is not None
    return user


def get_user(conn: psycopg.Connection[Any], *, user_id: int) -> dict[str, Any] | None:
    return _one_user(conn, "u.user_id = %s", user_id)


def find_user(conn: psycopg.Connection[Any], *, name: str) -> dict[str, Any] | None:
    return _one_user(conn, "u.name = %s", name)


def _one_user(conn: psycopg.Connection[Any], clause: str, value: Any) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(
        f"SELECT {_USER_COLS} FROM api_users u"
        f" LEFT JOIN enterprises e ON e.enterprise_id = u.enterprise_id WHERE {clause}",
        (value,),
    ).fetchone()


def list_users(conn: psycopg.Connection[Any], *, limit: int = 1000, offset: int = 0) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(
        f"SELECT {_USER_COLS},"
        " (SELECT count(*) FROM api_keys k WHERE k.user_id = u.user_id AND k.revoked_at IS NULL)"
        " AS active_keys FROM api_users u"
        " LEFT JOIN enterprises e ON e.enterprise_id = u.enterprise_id"
        " ORDER BY u.user_id LIMIT %s OFFSET %s",
        (limit, offset),
    ).fetchall()


def disable_user(conn: psycopg.Connection[Any], *, user_id: int, at: datetime) -> bool:
    cur = conn.execute(
        "UPDATE api_users SET disabled_at = %s WHERE user_id = %s AND disabled_at IS NULL",
        (at, user_id),
    )
    conn.execute(
        "UPDATE api_keys SET revoked_at = %s WHERE user_id = %s AND revoked_at IS NULL",
        (at, user_id),
    )
    return cur.rowcount > 0


def create_key(
    conn: psycopg.Connection[Any],
    *,
    user_id: int,
    label: str = "",
    expires_at: datetime | None = None,
    generate: Any = new_key,
) -> tuple[NewKey, int]:
    made: NewKey = generate()
    row = conn.execute(
        "INSERT INTO api_keys (user_id, prefix, key_hash, label, expires_at)"
        " VALUES (%s, %s, %s, %s, %s) RETURNING key_id",
        (user_id, made.prefix, made.digest, label, expires_at),
    ).fetchone()
    assert row is not None
    return made, _col(row, "key_id")


def list_keys(conn: psycopg.Connection[Any], *, user_id: int | None = None) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(
        "SELECT k.key_id, k.user_id, u.name AS user_name, k.prefix, k.label, k.created_at,"
        " k.expires_at, k.last_used_at, k.revoked_at FROM api_keys k JOIN api_users u USING"
        " (user_id)"
        " WHERE %(uid)s::int IS NULL OR k.user_id = %(uid)s ORDER BY k.key_id",
        {"uid": user_id},
    ).fetchall()


def revoke_key(conn: psycopg.Connection[Any], *, key_id: int, at: datetime) -> bool:
    cur = conn.execute("UPDATE api_keys SET revoked_at = %s WHERE key_id = %s AND revoked_at IS NULL", (at, key_id))
    return cur.rowcount > 0


def principal_of(row: dict[str, Any], *, key_id: int | None = None) -> Principal:
    return Principal(
        user_id=row["user_id"],
        name=row["name"],
        role=Role(row["role"]),
        park_id=row["scope_park_id"],
        enterprise_id=row["enterprise_id"],
        bureaus=tuple(Bureau(c) for c in row["categories"] or ()),
        key_id=key_id,
    )


def authenticate_key(conn: psycopg.Connection[Any], *, key: str) -> Principal:
    """The principal of a presented API key; AuthError when unknown, revoked, expired, disabled."""
    prefix = key_prefix(key)
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    row = cur.execute(
        "SELECT k.key_id, k.key_hash, k.revoked_at, (k.expires_at <= now()) AS expired,"
        f" {_USER_COLS}"
        " FROM api_keys k JOIN api_users u USING (user_id)"
        " LEFT JOIN enterprises e ON e.enterprise_id = u.enterprise_id WHERE k.prefix = %s",
        (prefix,),
    ).fetchone()
    if row is None or not key_matches(key, bytes(row["key_hash"])):
        raise AuthError("unknown API key")
    _refuse_inactive(row, prefix)
    # At most one write a minute per key: last_used_at is for audits, not a hot counter.
    cur.execute(
        "UPDATE api_keys SET last_used_at = now() WHERE key_id = %s"
        " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        (row["key_id"],),
    )
    return principal_of(row, key_id=row["key_id"])


def _refuse_inactive(row: dict[str, Any], prefix: str) -> None:
    if row["revoked_at"] is not None:
        raise AuthError(f"API key {prefix} was revoked")
    if row["expired"]:
        raise AuthError(f"API key {prefix} expired")
    if row["disabled_at"] is not None:
        raise AuthError(f"user {row['name']!r} is disabled")


def key_standing(conn: psycopg.Connection[Any], *, key_id: int) -> datetime | None:
    """The expiry of an active key of an enabled user (None: it does not expire); AuthError when
    the key is gone, revoked or expired or its user disabled: what a token is checked against."""
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    row = cur.execute(
        "SELECT k.prefix, k.revoked_at, (k.expires_at <= now()) AS expired, k.expires_at, u.name,"
        " u.disabled_at FROM api_keys k JOIN api_users u USING (user_id) WHERE k.key_id = %s",
        (key_id,),
    ).fetchone()
    if row is None:
        raise AuthError(f"API key {key_id} no longer exists")
    _refuse_inactive(row, row["prefix"])
    expires: datetime | None = row["expires_at"]
    return expires


def token_secret(conn: psycopg.Connection[Any]) -> bytes:
    """The shared HMAC secret, created on first use (every API process then agrees on it)."""
    conn.execute(
        "INSERT INTO api_token_secret (id, secret) VALUES (1, %s) ON CONFLICT (id) DO NOTHING",
        (secrets.token_bytes(32),),
    )
    row = conn.execute("SELECT secret FROM api_token_secret WHERE id = 1").fetchone()
    assert row is not None
    return bytes(_col(row, "secret"))


def _col(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else row[0]
