"""The park's own published result, fetched from its region (owner of ``region_my_results``).

After the region acknowledged a park's annual package, the outbox job asks the region for that
year's publication with the park's API key there (``SMARTPARK_REGION_API_KEY``, a readonly user
granted the park, so the region answers with the park's row only) and keeps it; the park's page
and ``GET /api/v1/region/my-result`` read it from here. A year already fetched is asked again at
most every ``REFRESH_S`` (the region may publish again after a late revision).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from smartpark.settings import RegionSettings

log = logging.getLogger("region.my_result")
PUBLISHED_PATH = "/api/v1/region/published"
REFRESH_S = 3600.0

Row = dict[str, Any]


def years_to_fetch(conn: psycopg.Connection[Any], *, now: datetime) -> list[tuple[str, int]]:
    """(park, year) of every acknowledged annual package whose result was never fetched, or
    fetched longer than ``REFRESH_S`` ago."""
    cur = conn.cursor(row_factory=dict_row)
    rows = cur.execute(
        "SELECT DISTINCT o.park_code, o.period::int AS year FROM region_outbox o"
        " LEFT JOIN region_my_results m ON m.park_code = o.park_code AND m.year = o.period::int"
        " WHERE length(o.period) = 4 AND o.acknowledged_at IS NOT NULL"
        " AND (m.fetched_at IS NULL OR m.fetched_at < %s) ORDER BY 1, 2",
        (now - timedelta(seconds=REFRESH_S),),
    ).fetchall()
    return [(r["park_code"], int(r["year"])) for r in rows]


def keep(conn: psycopg.Connection[Any], *, park_code: str, year: int, publication: Row, now: datetime) -> None:
    """Store the park's row of a publication; an older publication never replaces a newer one."""
    mine = [r for r in publication["results"] if r["code"] == park_code]
    if not mine:
        return
    conn.execute(
        "INSERT INTO region_my_results (park_code, year, publication_id, published_at, result, fetched_at)"
        " VALUES (%(p)s, %(y)s, %(id)s, %(at)s, %(r)s, %(now)s) ON CONFLICT (park_code, year) DO UPDATE SET"
        " publication_id = EXCLUDED.publication_id, published_at = EXCLUDED.published_at,"
        " result = EXCLUDED.result, fetched_at = EXCLUDED.fetched_at"
        " WHERE coalesce(region_my_results.publication_id, 0) <= EXCLUDED.publication_id",
        {
            "p": park_code,
            "y": year,
            "id": publication["publication_id"],
            "at": publication["published_at"],
            "r": Jsonb({**mine[0], "method_published": publication.get("method")}),
            "now": now,
        },
    )


def asked(conn: psycopg.Connection[Any], *, park_code: str, year: int, now: datetime) -> None:
    """The region has not published the year: remember when it was asked (not again within
    ``REFRESH_S``), keeping a result fetched before."""
    conn.execute(
        "INSERT INTO region_my_results (park_code, year, fetched_at) VALUES (%s, %s, %s)"
        " ON CONFLICT (park_code, year) DO UPDATE SET fetched_at = EXCLUDED.fetched_at",
        (park_code, year, now),
    )


def fetch_published(
    conn: psycopg.Connection[Any],
    *,
    settings: RegionSettings,
    clock: Callable[[], float] = time.time,
    client: httpx.Client | None = None,
) -> dict[str, int]:
    """Ask the region for the publications due; counts of kept, not yet published, failed."""
    counts = {"kept": 0, "unpublished": 0, "failed": 0}
    if not settings.url or not settings.api_key:
        return counts
    now = datetime.fromtimestamp(clock(), UTC)
    own = client is None
    http = client or httpx.Client(timeout=settings.timeout_s)
    try:
        for park_code, year in years_to_fetch(conn, now=now):
            try:
                resp = http.get(
                    settings.url.rstrip("/") + PUBLISHED_PATH,
                    params={"year": year},
                    headers={"X-API-Key": settings.api_key},
                )
            except httpx.HTTPError as exc:
                counts["failed"] += 1
                log.warning("region result %s %s not fetched: %s", park_code, year, exc)
                continue
            if resp.status_code == 404:
                counts["unpublished"] += 1
                asked(conn, park_code=park_code, year=year, now=now)
                continue
            if resp.status_code != 200:
                counts["failed"] += 1
                log.warning("region result %s %s: HTTP %s", park_code, year, resp.status_code)
                continue
            keep(conn, park_code=park_code, year=year, publication=resp.json(), now=now)
            counts["kept"] += 1
    finally:
        if own:
            http.close()
    return counts


def stored(conn: psycopg.Connection[Any], *, park_code: str, year: int | None) -> list[Row]:
    """The park's fetched results, newest year first (one year when given)."""
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        "SELECT park_code, year, publication_id, published_at, fetched_at, result FROM region_my_results"
        " WHERE park_code = %s AND result IS NOT NULL AND (%s::int IS NULL OR year = %s) ORDER BY year DESC",
        (park_code, year, year),
    ).fetchall()
