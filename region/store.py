"""The region's tables: registered parks, every revision of every package, who sees what.

Owner of ``region_parks``, ``region_submissions`` and ``region_viewers``; functions take keyword
arguments and the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg.types.json import Jsonb

from region.package import Package, key_id

Row = dict[str, Any]


def _plain(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    """A cursor of tuples whatever the connection's row factory (the API's pool gives dicts)."""
    return conn.cursor(row_factory=tuple_row)


def register_park(
    conn: psycopg.Connection[Any],
    *,
    code: str,
    name: str,
    league: str,
    public_key: bytes,
    designated_class: int | None,
) -> Row:
    """Register a park, or replace its key, name, league and class (a new key invalidates the old:
    packages signed with it are refused from then on)."""
    cur = conn.cursor(row_factory=dict_row)
    row = cur.execute(
        "INSERT INTO region_parks (park_code, name, league, public_key, key_id, designated_class)"
        " VALUES (%(c)s, %(n)s, %(l)s, %(k)s, %(kid)s, %(d)s)"
        " ON CONFLICT (park_code) DO UPDATE SET name = EXCLUDED.name, league = EXCLUDED.league,"
        " public_key = EXCLUDED.public_key, key_id = EXCLUDED.key_id,"
        " designated_class = EXCLUDED.designated_class"
        " RETURNING park_code, name, league, key_id, designated_class, registered_at",
        {"c": code, "n": name, "l": league, "k": public_key, "kid": key_id(public_key), "d": designated_class},
    ).fetchone()
    assert row is not None
    return row


def park_by_key(conn: psycopg.Connection[Any], *, key: str) -> Row | None:
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        "SELECT park_code, name, league, public_key, key_id, designated_class FROM region_parks WHERE key_id = %s",
        (key,),
    ).fetchone()


def parks(conn: psycopg.Connection[Any], *, codes: Sequence[str] | None = None) -> list[Row]:
    """Registered parks (all, or those of ``codes``), by code."""
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        "SELECT park_code, name, league, key_id, designated_class, registered_at FROM region_parks"
        " WHERE %(codes)s::text[] IS NULL OR park_code = ANY(%(codes)s) ORDER BY park_code",
        {"codes": None if codes is None else list(codes)},
    ).fetchall()


def lock_park(conn: psycopg.Connection[Any], *, code: str) -> None:
    """Serialise the submissions of one park (two copies of one retry arriving at once)."""
    conn.execute("SELECT 1 FROM region_parks WHERE park_code = %s FOR UPDATE", (code,))


def stored_revision(conn: psycopg.Connection[Any], *, code: str, period: str, revision: int) -> bytes | None:
    """The digest of a stored revision, None if there is none."""
    row = (
        _plain(conn)
        .execute(
            "SELECT digest FROM region_submissions WHERE park_code = %s AND period = %s AND revision = %s",
            (code, period, revision),
        )
        .fetchone()
    )
    return None if row is None else bytes(row[0])


def nonce_used(conn: psycopg.Connection[Any], *, code: str, nonce: str) -> bool:
    sql = "SELECT 1 FROM region_submissions WHERE park_code = %s AND nonce = %s"
    row = _plain(conn).execute(sql, (code, nonce)).fetchone()
    return row is not None


def latest_revision(conn: psycopg.Connection[Any], *, code: str, period: str) -> int:
    row = (
        _plain(conn)
        .execute(
            "SELECT coalesce(max(revision), 0) FROM region_submissions WHERE park_code = %s AND period = %s",
            (code, period),
        )
        .fetchone()
    )
    return int(row[0]) if row else 0


def add_submission(
    conn: psycopg.Connection[Any], *, package: Package, raw: bytes, signature: bytes, digest: bytes
) -> None:
    conn.execute(
        "INSERT INTO region_submissions (park_code, period, revision, nonce, created_at, package, signature,"
        " digest, body) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            package.park,
            package.period,
            package.revision,
            package.nonce,
            package.created,
            raw,
            signature,
            digest,
            Jsonb(dict(package.body)),
        ),
    )


def submissions(conn: psycopg.Connection[Any], *, codes: Sequence[str] | None, period: str | None) -> list[Row]:
    """Every revision (newest first within a period) of the parks of ``codes`` (None: all)."""
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        "SELECT park_code, period, revision, nonce, created_at, received_at, encode(digest, 'hex') AS digest"
        " FROM region_submissions WHERE (%(codes)s::text[] IS NULL OR park_code = ANY(%(codes)s))"
        " AND (%(period)s::text IS NULL OR period = %(period)s)"
        " ORDER BY park_code, period, revision DESC LIMIT 10000",
        {"codes": None if codes is None else list(codes), "period": period},
    ).fetchall()


def latest_annual(conn: psycopg.Connection[Any], *, first: int, last: int) -> list[Row]:
    """The latest revision of every annual package of years first..last (what is ranked)."""
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        "SELECT DISTINCT ON (park_code, period) park_code, left(period, 4)::int AS year, revision, body"
        " FROM region_submissions WHERE length(period) = 4 AND left(period, 4)::int BETWEEN %(a)s AND %(b)s"
        " ORDER BY park_code, period, revision DESC",
        {"a": first, "b": last},
    ).fetchall()


def periods_received(conn: psycopg.Connection[Any], *, first: int, last: int) -> dict[str, set[str]]:
    """Per park, the periods (annual and monthly) of years first..last with any revision."""
    out: dict[str, set[str]] = {}
    for code, period in (
        _plain(conn)
        .execute(
            "SELECT DISTINCT park_code, period FROM region_submissions"
            " WHERE left(period, 4)::int BETWEEN %(a)s AND %(b)s",
            {"a": first, "b": last},
        )
        .fetchall()
    ):
        out.setdefault(code, set()).add(period)
    return out


# --- who sees what ----------------------------------------------------------------------------------


def grant(conn: psycopg.Connection[Any], *, user_id: int, league: str | None, park_code: str | None) -> None:
    """A readonly user's region scope: one league's parks, or one park's own result."""
    conn.execute(
        "INSERT INTO region_viewers (user_id, league, park_code) VALUES (%s, %s, %s)"
        " ON CONFLICT (user_id) DO UPDATE SET league = EXCLUDED.league, park_code = EXCLUDED.park_code",
        (user_id, league, park_code),
    )


def viewer_scope(conn: psycopg.Connection[Any], *, user_id: int) -> tuple[str | None, str | None] | None:
    """(league, park_code) of a region viewer, None if the user has no region scope."""
    row = _plain(conn).execute("SELECT league, park_code FROM region_viewers WHERE user_id = %s", (user_id,)).fetchone()
    return None if row is None else (row[0], row[1])
