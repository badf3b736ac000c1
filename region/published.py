"""Published results: a year's ranking frozen as it stood, and where each league's copy goes.

Owner of ``region_publications``, ``region_league_receivers`` and ``region_publication_mail``.
A publication keeps every park's row exactly as :func:`region.results.results` gave it (the
revision of each park's annual package it used, the method with its weights), so what a league
or a park was sent never changes when a park sends a later revision: that is a new publication.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from aggregation import indicators as ind
from region.results import results

Row = dict[str, Any]
_COLS = "publication_id, year, published_at, method, results"


def method_record(year: int) -> dict[str, Any] | None:
    """The evaluation method of ``year`` with its weights, as it is when published."""
    try:
        m = ind.method_for(year)
    except LookupError:
        return None
    return {
        "applies_from": m.applies_from,
        "source": m.source,
        "assumption": m.assumption,
        "reward_top": m.reward_top,
        "penalise_bottom": m.penalise_bottom,
        "criteria": {k: {"weight": c.weight, "higher_is_better": c.higher_is_better} for k, c in m.criteria.items()},
    }


def publish(conn: psycopg.Connection[Any], *, year: int, today: date, years: int = 5) -> Row:
    """Rank every park for ``year`` and store it frozen; the new publication."""
    rows = results(conn, year=year, years=years, today=today)
    method = method_record(year)
    cur = conn.cursor(row_factory=dict_row)
    got = cur.execute(
        f"INSERT INTO region_publications (year, method, results) VALUES (%s, %s, %s) RETURNING {_COLS}",
        (year, Jsonb(method), Jsonb(rows)),
    ).fetchone()
    assert got is not None
    return got


def latest(conn: psycopg.Connection[Any], *, year: int) -> Row | None:
    """The publication in force for ``year`` (the newest), None if the year was never published."""
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        f"SELECT {_COLS} FROM region_publications WHERE year = %s ORDER BY publication_id DESC LIMIT 1", (year,)
    ).fetchone()


def narrowed(publication: Row, *, league: str | None, park_code: str | None) -> Row:
    """The publication with only the rows a league's or a park's caller may see."""
    rows = [
        r
        for r in publication["results"]
        if (league is None or r["league"] == league) and (park_code is None or r["code"] == park_code)
    ]
    return {**publication, "results": rows}


def add_league_receiver(conn: psycopg.Connection[Any], *, league: str, receiver_id: int) -> None:
    conn.execute(
        "INSERT INTO region_league_receivers (league, receiver_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (league, receiver_id),
    )


def league_receivers(conn: psycopg.Connection[Any], *, league: str) -> list[Row]:
    """The enabled email receivers registered for ``league``."""
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        "SELECT r.receiver_id, r.name, r.config, r.secrets FROM region_league_receivers l"
        " JOIN alert_receivers r USING (receiver_id)"
        " WHERE l.league = %s AND r.channel = 'email' AND r.enabled ORDER BY r.receiver_id",
        (league,),
    ).fetchall()


def unmailed_leagues(conn: psycopg.Connection[Any], *, publication: Row) -> list[str]:
    """The leagues of the publication's parks whose mail has not been tried yet."""
    leagues = sorted({str(r["league"]) for r in publication["results"]})
    cur = conn.cursor(row_factory=dict_row)
    tried = cur.execute(
        "SELECT league FROM region_publication_mail WHERE publication_id = %s", (publication["publication_id"],)
    ).fetchall()
    done = {t["league"] for t in tried}
    return [lg for lg in leagues if lg not in done]


def mark_mailed(conn: psycopg.Connection[Any], *, publication_id: int, league: str, error: str | None) -> None:
    conn.execute(
        "INSERT INTO region_publication_mail (publication_id, league, error) VALUES (%s, %s, %s)"
        " ON CONFLICT (publication_id, league) DO UPDATE SET error = EXCLUDED.error, tried_at = now()",
        (publication_id, league, None if error is None else error[:2000]),
    )


def mail_log(conn: psycopg.Connection[Any], *, publication_ids: Sequence[int]) -> list[Row]:
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        "SELECT publication_id, league, tried_at, error FROM region_publication_mail"
        " WHERE publication_id = ANY(%s) ORDER BY publication_id, league",
        (list(publication_ids),),
    ).fetchall()
