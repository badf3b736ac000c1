"""Failures of the scheduled jobs, per (job, park, day): recorded with their error and retried
later with exponential backoff, while every other park and day proceeds.

Owner of ``aggregation_failures`` (migration 0650); a failed park's rollup buckets wait in
``rollup_held`` (``smartpark.db.touched``). A job calls
:func:`record` for the (park, day) it could not compute and :func:`clear` once it has; the
statistics API and ``GET /health/jobs`` read :func:`current` to say which figures are behind and
why. Delays: ``BASE_RETRY_S`` after the first failure, doubling up to ``MAX_RETRY_S``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from psycopg.rows import dict_row

from aggregation import store

BASE_RETRY_S = 60.0
MAX_RETRY_S = 6 * 3600.0
MAX_ERROR_CHARS = 500  # the error kept (its first line, type included)
JOBS = ("rollups", "indicators")


def retry_delay_s(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failures in a row."""
    return min(BASE_RETRY_S * 2.0 ** max(0, attempts - 1), MAX_RETRY_S)


def describe(exc: BaseException) -> str:
    first = (str(exc).splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first}"[:MAX_ERROR_CHARS]


def record(conn: store.Conn, *, job: str, park_id: int, day: date, error: str) -> int:
    """Note one more failure of (job, park, day); returns how many in a row."""
    row = conn.execute(
        "INSERT INTO aggregation_failures AS f (job, park_id, day, error, retry_at)"
        " VALUES (%(job)s, %(park)s, %(day)s, %(error)s, now() + %(first)s * interval '1 second')"
        " ON CONFLICT (job, park_id, day) DO UPDATE SET error = excluded.error,"
        " attempts = f.attempts + 1, last_failed_at = now(),"
        " retry_at = now() + least(%(base)s * power(2, f.attempts), %(max)s) * interval '1 second'"
        " RETURNING attempts",
        {
            "job": job,
            "park": park_id,
            "day": day,
            "error": error[:MAX_ERROR_CHARS],
            "first": retry_delay_s(1),
            "base": BASE_RETRY_S,
            "max": MAX_RETRY_S,
        },
    ).fetchone()
    return int(row[0]) if row else 0


def clear(conn: store.Conn, *, job: str, park_id: int, days: Sequence[date] | None = None) -> None:
    """(job, park, day) succeeded: its failure is history. ``days`` None: every day of the park."""
    if days is None:
        conn.execute("DELETE FROM aggregation_failures WHERE job = %s AND park_id = %s", (job, park_id))
    else:
        conn.execute(
            "DELETE FROM aggregation_failures WHERE job = %s AND park_id = %s AND day = ANY(%s)",
            (job, park_id, list(days)),
        )


def clear_rollups(conn: store.Conn, *, park_ids: Sequence[int]) -> None:
    """Rollups of these parks succeeded: their failures are history once none of their buckets
    is held back any more."""
    conn.execute(
        "DELETE FROM aggregation_failures f WHERE f.job = 'rollups' AND f.park_id = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM rollup_held h JOIN devices d USING (device_id)"
        " JOIN enterprises e USING (enterprise_id) WHERE e.park_id = f.park_id)",
        (list(park_ids),),
    )


def current(conn: store.Conn, *, park_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """The failing (job, park, day), oldest first, for the API."""
    parks = None if park_ids is None else list(park_ids)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT job, park_id, day, error, attempts, first_failed_at, last_failed_at, retry_at"
            " FROM aggregation_failures WHERE %(parks)s::int[] IS NULL OR park_id = ANY(%(parks)s)"
            " ORDER BY first_failed_at, job, park_id, day LIMIT 1000",
            {"parks": parks},
        ).fetchall()
