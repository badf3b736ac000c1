"""A park's Article 21 package body of one closed month or year, from its own statistics.

The figures are the ones the park's API serves (``/statistics/parks/{id}`` with ``period=month``
or ``year``): the same queries and shaping, every category and the economic figures included,
so what the region ranks is what the park's own page shows. No computation time travels in the
body: a package changes (and gets a new revision) only when a figure changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from api.auth import ALL_CATEGORIES
from api.queries import statistics as q
from api.statistics import article_21, concentration_by_period, intensities_by_period, shape
from region.package import PackageError, period_kind
from region.ranking import RANKING_FIGURES


class NoStatistics(LookupError):
    """The park has no figures for the period (nothing to report yet)."""


def period_bounds(period: str) -> tuple[date, date]:
    """[start, end) of a period ``YYYY`` or ``YYYY-MM``."""
    if period_kind(period) == "annual":
        y = int(period)
        return date(y, 1, 1), date(y + 1, 1, 1)
    y, m = int(period[:4]), int(period[5:])
    return date(y, m, 1), date(y + (m == 12), m % 12 + 1, 1)


CATCH_UP_MONTHS = 12  # a park instance that was down queues the months it missed, this far back


def closed_periods(today: date, months: int = CATCH_UP_MONTHS) -> list[str]:
    """The periods due by ``today`` on the park's calendar, oldest first: the last ``months``
    closed months and the last closed year."""
    index = today.year * 12 + today.month - 1  # this month, counted from year 0
    out = [f"{(i // 12):04d}-{(i % 12) + 1:02d}" for i in range(index - months, index)]
    return [*out, str(today.year - 1)]


def park_row(conn: psycopg.Connection[Any], code: str) -> dict[str, Any]:
    row = (
        conn.cursor(row_factory=dict_row)
        .execute("SELECT park_id, code, name, timezone, land_area_mu FROM parks WHERE code = %s", (code,))
        .fetchone()
    )
    if row is None:
        raise LookupError(f"no park {code!r} in this instance's registry")
    return row


def _clean(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def build_body(
    conn: psycopg.Connection[Any], *, park_code: str, period: str, clock: Callable[[], float]
) -> dict[str, Any]:
    """The body of the park's package of ``period``; PackageError if the period has not ended on
    the park's calendar, NoStatistics if the park has no figures for it. ``conn`` returns dict rows."""
    park = park_row(conn, park_code)
    start, end = period_bounds(period)
    today = datetime.fromtimestamp(clock(), UTC).astimezone(ZoneInfo(park["timezone"])).date()
    if end > today:
        raise PackageError("period", f"{period} has not ended on the park's calendar ({today})")
    annual = period_kind(period) == "annual"
    fetch = q.yearly if annual else q.monthly
    rows = fetch(conn, park_id=park["park_id"], enterprise_id=None, start=start, end=end)
    if not rows:
        raise NoStatistics(f"park {park_code!r} has no statistics for {period}")
    grain = "year" if annual else "month"
    cells = q.cells(conn, park_id=park["park_id"], enterprise_id=None, start=start, end=end)
    matched = intensities_by_period(cells, grain, total_land=_clean(park.get("land_area_mu")))
    shaped = shape(rows[0], ALL_CATEGORIES, economic=True, matched=matched.get(rows[0]["period"]))
    if shaped["economic"] is not None:
        shaped["economic"]["leading_industry_share"] = concentration_by_period(cells, grain).get(start)
    flat: dict[str, Any] = {}
    for group in ("energy", "emissions", "economic", "intensities"):
        flat.update(shaped.get(group) or {})
    return {
        "park_name": park["name"],
        "kind": period_kind(period),
        "readings": shaped["readings"],
        "article_21": article_21(shaped),
        "figures": {k: _clean(flat.get(k)) for k in RANKING_FIGURES},
        "coverage": shaped.get("coverage"),
        "notes": shaped.get("notes") or {},
    }
