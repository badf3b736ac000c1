"""Sending the outbox to the region until it acknowledges, and queueing the periods that closed.

The scheduler runs :func:`deliver_due` every ``SMARTPARK_REGION_RETRY_EVERY_S`` and
:func:`queue_closed` hourly; ``smartpark region submit`` and ``deliver`` run them by hand. A
region that is down or answers 5xx/408/429 is tried again later (doubling waits up to
``retry_max_s``); any other 4xx is a refusal for good, kept with its reason (the same bytes would be
refused again; a fixed package is a new revision).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg.rows import dict_row

from region import outbox
from region.park_package import NoStatistics, build_body, closed_periods
from smartpark.settings import RegionSettings

log = logging.getLogger("region.delivery")

SUBMIT_PATH = "/api/v1/region/submissions"
RETRYABLE = frozenset({408, 425, 429})
FIRST_WAIT_S = 10.0


def backoff_s(attempts: int, longest: float) -> float:
    """Wait before the next try after ``attempts`` failed ones: 10, 20, 40 … s, at most ``longest``."""
    return min(longest, FIRST_WAIT_S * 2 ** min(attempts, 30))


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP {resp.status_code}"
    return f"HTTP {resp.status_code}: {body.get('detail') if isinstance(body, dict) else body}"


def deliver_due(
    conn: psycopg.Connection[Any],
    *,
    settings: RegionSettings,
    clock: Callable[[], float] = time.time,
    client: httpx.Client | None = None,
) -> dict[str, int]:
    """Send every due entry once; counts of acknowledged, refused and deferred ones."""
    if not settings.url:
        raise ValueError("SMARTPARK_REGION_URL is not set: no region to submit to")
    url = settings.url.rstrip("/") + SUBMIT_PATH
    counts = {"acknowledged": 0, "refused": 0, "deferred": 0}
    own = client is None
    http = client or httpx.Client(timeout=settings.timeout_s)
    try:
        for row in outbox.due(conn, now=datetime.fromtimestamp(clock(), UTC)):
            what = f"{row['park_code']} {row['period']} revision {row['revision']}"
            error = ""
            try:
                resp = http.post(url, content=bytes(row["envelope"]), headers={"Content-Type": "application/json"})
            except httpx.HTTPError as exc:
                resp, error = None, f"{type(exc).__name__}: {exc}"
            now = datetime.fromtimestamp(clock(), UTC)
            if resp is not None and resp.status_code in (200, 201):
                outbox.acknowledged(conn, outbox_id=row["outbox_id"], at=now)
                counts["acknowledged"] += 1
                log.info("region acknowledged %s", what)
                continue
            if resp is not None and resp.status_code < 500 and resp.status_code not in RETRYABLE:
                reason = _detail(resp)
                outbox.refused(conn, outbox_id=row["outbox_id"], at=now, reason=reason)
                counts["refused"] += 1
                log.error("region refused %s: %s", what, reason)
                continue
            error = _detail(resp) if resp is not None else error
            wait = backoff_s(int(row["attempts"]), settings.retry_max_s)
            outbox.failed(conn, outbox_id=row["outbox_id"], retry_at=now + timedelta(seconds=wait), error=error)
            counts["deferred"] += 1
            log.warning("region did not take %s (%s); again in %.0f s", what, error, wait)
    finally:
        if own:
            http.close()
    return counts


def submit(
    conn: psycopg.Connection[Any],
    *,
    park_code: str,
    period: str,
    key: Ed25519PrivateKey,
    clock: Callable[[], float] = time.time,
) -> tuple[dict[str, Any], bool]:
    """Queue the park's package of ``period`` (a new revision only if its figures changed).
    ``conn`` returns dict rows (the statistics queries read columns by name)."""
    body = build_body(conn, park_code=park_code, period=period, clock=clock)
    with conn.transaction():
        return outbox.queue(conn, park_code=park_code, period=period, body=body, key=key, clock=clock)


def queue_closed(
    conn: psycopg.Connection[Any],
    *,
    key: Ed25519PrivateKey,
    clock: Callable[[], float] = time.time,
    park_codes: list[str] | None = None,
) -> dict[str, int]:
    """Queue every park's closed months of the last year and its last closed year (new revisions
    where figures changed since: late data reaches the region as a revision, never as an edit;
    an instance that was down catches up). ``park_codes``: only these parks (None: all)."""
    counts = {"queued": 0, "unchanged": 0, "empty": 0}
    parks = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT code, timezone FROM parks WHERE %(codes)s::text[] IS NULL OR code = ANY(%(codes)s) ORDER BY code",
            {"codes": park_codes},
        )
        .fetchall()
    )
    for p in parks:
        today = datetime.fromtimestamp(clock(), UTC).astimezone(ZoneInfo(p["timezone"])).date()
        for period in closed_periods(today):
            try:
                _, new = submit(conn, park_code=p["code"], period=period, key=key, clock=clock)
            except NoStatistics:
                counts["empty"] += 1
                continue
            counts["queued" if new else "unchanged"] += 1
    return counts
