"""The region's results of a year: every park ranked among all, then cut to what a caller may see.

The ranking is always computed over every registered park (a league's view must show the same
ranks as the region's); only the rows handed out are narrowed, to a league's parks or one park.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import psycopg

from region import store
from region.ranking import figure_arrays, park_results, rank_region

MAX_YEARS = 10  # trend years per answer
HISTORY = 2  # years before the first shown that feed the three-years-below-class check


def missing_periods(received: set[str], years: Sequence[int], today: date) -> dict[str, list[str]]:
    """The annual and monthly packages of ``years`` that are due by ``today`` and not received:
    a month once it has ended, a year once it has ended."""
    annual = [str(y) for y in years if y < today.year and str(y) not in received]
    monthly = [
        f"{y}-{m:02d}"
        for y in years
        for m in range(1, 13)
        if (y, m) < (today.year, today.month) and f"{y}-{m:02d}" not in received
    ]
    return {"annual": annual, "monthly": monthly}


def results(
    conn: psycopg.Connection[Any],
    *,
    year: int,
    years: int,
    today: date,
    league: str | None = None,
    park_code: str | None = None,
) -> list[dict[str, Any]]:
    """Every park's result of ``year`` with its trend over ``years`` years (oldest first) and
    its missing submissions; only ``league``'s parks or ``park_code`` when given."""
    if not 1 <= years <= MAX_YEARS:
        raise ValueError(f"years {years} is not in 1..{MAX_YEARS}")
    parks = store.parks(conn)
    codes = [p["park_code"] for p in parks]
    first = year - years + 1
    span = list(range(first - HISTORY, year + 1))
    annual = store.latest_annual(conn, first=span[0], last=year)
    figures, submitted = figure_arrays(codes, span, annual)
    ranking = rank_region(codes, [p["designated_class"] for p in parks], span, figures, submitted, history=HISTORY)
    revisions = {(r["park_code"], int(r["year"])): r["revision"] for r in annual}
    received = store.periods_received(conn, first=first, last=year)
    shown = range(first, year + 1)
    out = []
    for i, p in enumerate(parks):
        if (league is not None and p["league"] != league) or (park_code is not None and p["park_code"] != park_code):
            continue
        trend = park_results(ranking, i)
        out.append(
            {
                "code": p["park_code"],
                "name": p["name"],
                "league": p["league"],
                "designated_class": p["designated_class"],
                "year": year,
                "revision": revisions.get((p["park_code"], year)),
                **{k: v for k, v in trend[-1].items() if k != "year"},
                "trend": trend,
                "missing": missing_periods(received.get(p["park_code"], set()), shown, today),
            }
        )
    return out
