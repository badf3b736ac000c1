"""Park and enterprise statistics from aggregation's indicator tables, and economic reports."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from aggregation.indicator_columns import NULLABLE, QUANTITIES
from api.auth import Principal
from api.queries.scope import Where, page, tenant

Row = dict[str, Any]

ECONOMIC = ("output_value", "value_added", "tax", "fixed_asset_investment", "rd_expense")
MONTHLY_EXTRA = (*ECONOMIC, "employees", "land_area_mu", "enterprises", "leading_industry_share")


def _subject(w: Where, *, park_id: int | None, enterprise_id: int | None) -> None:
    if enterprise_id is not None:
        w.add("i.enterprise_id = %(eid)s", eid=enterprise_id)
    else:
        w.add("i.park_id = %(pid)s AND i.enterprise_id IS NULL", pid=park_id)


def daily(
    conn: psycopg.Connection[Any],
    *,
    park_id: int | None,
    enterprise_id: int | None,
    start: date,
    end: date,
) -> list[Row]:
    return _periods(conn, "indicator_daily", "day", (*QUANTITIES, "notes"), park_id, enterprise_id, start, end)


def monthly(
    conn: psycopg.Connection[Any],
    *,
    park_id: int | None,
    enterprise_id: int | None,
    start: date,
    end: date,
) -> list[Row]:
    columns = (*QUANTITIES, *MONTHLY_EXTRA, "notes", "coverage")
    return _periods(conn, "indicator_monthly", "month", columns, park_id, enterprise_id, start, end)


def _periods(
    conn: psycopg.Connection[Any],
    table: str,
    column: str,
    columns: tuple[str, ...],
    park_id: int | None,
    enterprise_id: int | None,
    start: date,
    end: date,
) -> list[Row]:
    """Rows of one indicator table in [start, end); table and columns are this module's names."""
    w = Where().add(f"i.{column} >= %(start)s AND i.{column} < %(end)s", start=start, end=end)
    _subject(w, park_id=park_id, enterprise_id=enterprise_id)
    return conn.execute(
        f"SELECT i.{column} AS period, {', '.join('i.' + c for c in columns)}, i.computed_at"
        f" FROM {table} i WHERE {w.sql} ORDER BY i.{column}",
        w.params,
    ).fetchall()


def by_enterprise(
    conn: psycopg.Connection[Any],
    *,
    park_id: int,
    period: str,
    start: date,
    end: date,
) -> list[Row]:
    """Every enterprise of a park with its indicator sums over [start, end) (a ranking's rows).

    Enterprises without a row in the range are listed too (sums null): a ranking shows who is
    silent as well as who consumes.
    """
    table, column = {"day": ("indicator_daily", "day"), "month": ("indicator_monthly", "month")}[period]
    sums = ", ".join(f"sum(i.{c}) AS {c}" for c in QUANTITIES)
    return conn.execute(
        f"SELECT e.enterprise_id, e.code, e.name, count(i.enterprise_id) AS periods, {sums}"
        f" FROM enterprises e LEFT JOIN {table} i ON i.enterprise_id = e.enterprise_id"
        f" AND i.{column} >= %(start)s AND i.{column} < %(end)s"
        " WHERE e.park_id = %(pid)s GROUP BY e.enterprise_id, e.code, e.name ORDER BY e.enterprise_id",
        {"pid": park_id, "start": start, "end": end},
    ).fetchall()


def yearly(
    conn: psycopg.Connection[Any],
    *,
    park_id: int | None,
    enterprise_id: int | None,
    start: date,
    end: date,
) -> list[Row]:
    """Calendar years as sums of the months (stocks: employees at the last month, land as is).
    A figure missing in a month (NULL) is missing for the year; the months' notes come along."""
    w = Where().add("i.month >= %(start)s AND i.month < %(end)s", start=start, end=end)
    _subject(w, park_id=park_id, enterprise_id=enterprise_id)
    sums = ", ".join(
        f"CASE WHEN bool_and(i.{c} IS NOT NULL) THEN sum(i.{c}) END AS {c}" if c in NULLABLE else f"sum(i.{c}) AS {c}"
        for c in QUANTITIES + ECONOMIC
    )
    return conn.execute(
        f"SELECT make_date(extract(year FROM i.month)::int, 1, 1) AS period, {sums},"
        " (array_agg(i.employees ORDER BY i.month DESC) FILTER (WHERE i.employees IS NOT NULL))[1]"
        " AS employees, max(i.land_area_mu) AS land_area_mu, max(i.enterprises) AS enterprises,"
        " count(*) AS months, min(i.computed_at) AS computed_at,"
        " coalesce(jsonb_agg(i.notes ORDER BY i.month) FILTER (WHERE i.notes <> '{}'), '[]') AS notes"
        f" FROM indicator_monthly i WHERE {w.sql} GROUP BY 1 ORDER BY 1",
        w.params,
    ).fetchall()


def cells(
    conn: psycopg.Connection[Any],
    *,
    park_id: int | None,
    enterprise_id: int | None,
    start: date,
    end: date,
) -> list[Row]:
    """The (enterprise, month) rows behind a subject's intensities over [start, end): every
    enterprise of the park, or the one enterprise, with its energy and economic figures."""
    w = Where().add("i.month >= %(start)s AND i.month < %(end)s AND i.enterprise_id IS NOT NULL", start=start, end=end)
    if enterprise_id is not None:
        w.add("i.enterprise_id = %(eid)s", eid=enterprise_id)
    else:
        w.add("i.park_id = %(pid)s", pid=park_id)
    return conn.execute(
        "SELECT i.enterprise_id, i.month, i.readings, i.tce_equivalent, i.co2_t,"
        f" {', '.join('i.' + c for c in ECONOMIC)}, i.land_area_mu, e.industry"
        " FROM indicator_monthly i JOIN enterprises e USING (enterprise_id)"
        f" WHERE {w.sql} ORDER BY i.month, i.enterprise_id",
        w.params,
    ).fetchall()


def park_years(conn: psycopg.Connection[Any], *, year: int) -> list[Row]:
    """Every park's year totals: the evaluation ranks a park among all parks."""
    sums = ", ".join(
        f"sum(i.{c}) AS {c}"
        for c in (
            "output_value",
            "tax",
            "fixed_asset_investment",
            "tce_equivalent",
            "co2_t",
            "exceedance_minutes",
            "value_added",
        )
    )
    return conn.execute(
        f"SELECT i.park_id, p.code, p.name, p.land_area_mu AS park_area_mu,"
        f" p.attributes->>'designated_class' AS designated_class, {sums},"
        " (array_agg(i.employees ORDER BY i.month DESC) FILTER (WHERE i.employees IS NOT NULL))[1]"
        " AS employees, max(i.enterprises) AS enterprises, max(i.land_area_mu) AS land_area_mu"
        " FROM indicator_monthly i JOIN parks p USING (park_id)"
        " WHERE i.enterprise_id IS NULL AND i.month >= make_date(%(y)s, 1, 1)"
        " AND i.month < make_date(%(y)s + 1, 1, 1) GROUP BY 1, 2, 3, 4, 5 ORDER BY 1",
        {"y": year},
    ).fetchall()


def year_cells(conn: psycopg.Connection[Any], *, year: int) -> list[Row]:
    """Every park's enterprise months of a year (the evaluation's matched intensities)."""
    return conn.execute(
        "SELECT i.park_id, i.enterprise_id, i.month, i.readings, i.tce_equivalent, i.co2_t,"
        f" {', '.join('i.' + c for c in ECONOMIC)}, i.land_area_mu, e.industry"
        " FROM indicator_monthly i JOIN enterprises e USING (enterprise_id)"
        " WHERE i.month >= make_date(%(y)s, 1, 1) AND i.month < make_date(%(y)s + 1, 1, 1)",
        {"y": year},
    ).fetchall()


def park_outputs(conn: psycopg.Connection[Any], *, first: int, last: int) -> dict[int, list[float | None]]:
    """Per park, its output value of each year in [first, last], oldest first (None: no data)."""
    got = {
        (r["park_id"], r["y"]): r["output"]
        for r in conn.execute(
            "SELECT park_id, extract(year FROM month)::int AS y, sum(output_value) AS output"
            " FROM indicator_monthly WHERE enterprise_id IS NULL"
            " AND month >= make_date(%(a)s, 1, 1) AND month < make_date(%(b)s + 1, 1, 1) GROUP BY 1, 2",
            {"a": first, "b": last},
        ).fetchall()
    }
    parks = {p for p, _ in got}
    return {p: [got.get((p, y)) for y in range(first, last + 1)] for p in parks}


def _park_air(conn: psycopg.Connection[Any], table: str, keys: str, where: str, **params: Any) -> list[Row]:
    """Means over the park's air stations of one rollup table, grouped by the given local keys."""
    return conn.execute(
        f"SELECT {keys}, sum(x.sum) / nullif(sum(x.count), 0) AS mean, max(x.max) AS max"
        f" FROM {table} x JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id)"
        " JOIN parks p ON p.park_id = e.park_id JOIN metrics m ON m.metric_id = x.metric_id"
        f" WHERE e.park_id = %(pid)s AND {where}"
        " AND x.bucket >= (%(start)s::date::timestamp AT TIME ZONE p.timezone)"
        " AND x.bucket < (%(end)s::date::timestamp AT TIME ZONE p.timezone)"
        " GROUP BY 1, 2 ORDER BY 1, 2",
        params,
    ).fetchall()


DAY = "(x.bucket AT TIME ZONE p.timezone)::date AS day"


def daily_air(conn: psycopg.Connection[Any], *, park_id: int, start: date, end: date) -> list[Row]:
    """Daily mean concentrations of the park's air stations (mean over stations), per local day."""
    where = "m.category = 'environment'"
    return _park_air(conn, "rollup_1d", f"{DAY}, m.code AS metric", where, pid=park_id, start=start, end=end)


def hourly_o3(conn: psycopg.Connection[Any], *, park_id: int, start: date, end: date) -> list[Row]:
    """Hourly O3 means of the park's air stations (mean over stations), per local day and hour."""
    keys = f"{DAY}, extract(hour FROM x.bucket AT TIME ZONE p.timezone)::int AS hour"
    return _park_air(conn, "rollup_1h", keys, "m.code = 'air.o3_ugm3'", pid=park_id, start=start, end=end)


# --- economic reports ---------------------------------------------------------------------------


def list_reports(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    park_id: int | None,
    enterprise_id: int | None,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
) -> list[Row]:
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id")
    w.when(park_id, "e.park_id = %(pid)s", "pid").when(enterprise_id, "r.enterprise_id = %(eid)s", "eid")
    w.during("r.month", start, end)
    tail = page(w, limit, offset)
    return conn.execute(
        "SELECT r.enterprise_id, e.park_id, r.month, r.output_value, r.value_added, r.tax,"
        " r.fixed_asset_investment, r.employees, r.rd_expense, r.main_products, r.source, r.imported_at"
        " FROM economic_monthly r JOIN enterprises e USING (enterprise_id)"
        f" WHERE {w.sql} ORDER BY r.month DESC, r.enterprise_id{tail}",
        w.params,
    ).fetchall()
