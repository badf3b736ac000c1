"""The scheduler's report job: each park's daily operations report for yesterday and monthly
statistics report for last month (local calendar of the park), for the park and each of its
enterprises, once the indicators of those days are computed (and only if the park has figures
for them); then the park packs are mailed.

A pack is generated once (``report_files`` has it) unless asked again through the API; a run
makes at most ``MAX_PER_RUN`` packs, so a new park with many enterprises is covered over a few
runs without holding the scheduler.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from reports import packs, render_pdf, render_xlsx, sources, store

log = logging.getLogger(__name__)
MAX_PER_RUN = 100
READY_HOUR = 1  # local hour after which yesterday's figures are taken as complete


@dataclass(frozen=True, slots=True)
class Pack:
    report_id: int
    title: str
    xlsx_bytes: int
    pdf_bytes: int
    seconds: float


def generate(
    conn: psycopg.Connection[Any],
    subject: sources.Subject,
    *,
    kind: str,
    period: date,
    created_by: str,
    default_interval_s: float = 60.0,
) -> Pack:
    """Build, render and store one pack (the caller owns the transaction, if any)."""
    t0 = time.perf_counter()
    make = packs.daily if kind == "daily" else packs.monthly
    report = make(conn, subject, period, default_interval_s=default_interval_s)
    xlsx, pdf = render_xlsx.render(report), render_pdf.render(report)
    report_id = store.save(
        conn,
        kind=kind,
        park_id=subject.park["park_id"],
        enterprise_id=subject.enterprise_id,
        period=period if kind == "daily" else period.replace(day=1),
        title=report.title,
        xlsx=xlsx,
        pdf=pdf,
        created_by=created_by,
    )
    return Pack(report_id, report.title, len(xlsx), len(pdf), time.perf_counter() - t0)


def due_periods(timezone: str, now: datetime) -> dict[str, date]:
    """The periods whose packs are due at ``now`` in the park's zone: yesterday, last month."""
    local = now.astimezone(ZoneInfo(timezone))
    today = local.date()
    if local.hour < READY_HOUR:
        today -= timedelta(days=1)  # yesterday is not closed yet: keep to the day before
    yesterday = today - timedelta(days=1)
    first = today.replace(day=1)
    last_month = (first - timedelta(days=1)).replace(day=1)
    return {"daily": yesterday, "monthly": last_month}


def _ready(conn: psycopg.Connection[Any], park_id: int, start: date, end: date) -> bool:
    """Whether the park has figures in the range and the indicator job no day of it left to
    compute (a month before the park had data gets no pack)."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM indicator_daily WHERE park_id = %(p)s AND enterprise_id IS NULL"
        " AND day >= %(a)s AND day < %(b)s) AND NOT EXISTS (SELECT 1 FROM aggregation_dirty_days"
        " WHERE park_id = %(p)s AND day >= %(a)s AND day < %(b)s) AS ready",
        {"p": park_id, "a": start, "b": end},
    ).fetchone()
    return bool(row and row["ready"])


def run(
    conn: psycopg.Connection[Any],
    *,
    now: datetime | None = None,
    default_interval_s: float = 60.0,
    max_packs: int = MAX_PER_RUN,
    park_ids: list[int] | None = None,
) -> dict[str, Any]:
    """Generate the due packs that are missing (of ``park_ids``, else every park); counts."""
    conn.row_factory = dict_row  # the API's reads take dict rows
    now = now or datetime.now(UTC)
    made: list[Pack] = []
    parks = conn.execute(
        "SELECT park_id, timezone FROM parks WHERE %(ids)s::int[] IS NULL OR park_id = ANY(%(ids)s) ORDER BY park_id",
        {"ids": park_ids},
    ).fetchall()
    for park in parks:
        for kind, period in due_periods(park["timezone"], now).items():
            end = period + timedelta(days=1) if kind == "daily" else (period + timedelta(days=32)).replace(day=1)
            if not _ready(conn, park["park_id"], period, end):
                continue
            have = store.existing(conn, kind=kind, park_id=park["park_id"], period=period)
            for subject in sources.subjects(conn, park_id=park["park_id"]):
                if subject.enterprise_id in have:
                    continue
                if len(made) >= max_packs:
                    return _summary(made, complete=False)
                with conn.transaction():
                    made.append(
                        generate(
                            conn,
                            subject,
                            kind=kind,
                            period=period,
                            created_by="scheduler",
                            default_interval_s=default_interval_s,
                        )
                    )
    return _summary(made, complete=True)


def _summary(made: list[Pack], *, complete: bool) -> dict[str, Any]:
    out = {"packs": len(made), "seconds": round(sum(p.seconds for p in made), 3), "complete": complete}
    if made:
        log.info("reports: %s", out)
    return out
