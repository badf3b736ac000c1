"""Statistics per park and enterprise (day, month, year), evaluation, economic reports, overview."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query

from aggregation import economic
from aggregation.indicator_columns import EMISSION_COLUMNS, ENERGY_COLUMNS
from aggregation.indicators import FIRST_EVALUATION_YEAR
from api.auth import Principal, Role
from api.deps import (
    Answers,
    Clock,
    CurrentPrincipal,
    DbConn,
    DbRun,
    Id,
    OperatorPrincipal,
    OptId,
    Paging,
)
from api.problems import BadRequest, Forbidden, NotFound, Unprocessable, found
from api.queries import alarms as alarm_q
from api.queries import statistics as q
from api.queries import telemetry as tq
from api.queries.registry import get_enterprise, get_park
from api.schemas.common import PageOut, encoded, fast_json, json_response, paged
from api.schemas.statistics import (
    EconomicImportIn,
    EconomicIn,
    EconomicOut,
    OverviewOut,
    ParkEvaluationOut,
    ParkLoadOut,
    RankingResponse,
    StatsResponse,
)
from api.series import Interval
from api.statistics import (
    article_21,
    concentration_by_period,
    daily_aqi,
    evaluation,
    intensities_by_period,
    shape,
)
from smartpark.catalogue import BY_CODE

router = APIRouter(tags=["statistics"])
Period = Literal["day", "month", "year"]
MAX_PERIODS = {"day": 400, "month": 120, "year": 50}
RANKING_MAX_LIMIT = 100_000


def _range(period: Period, start: date, end: date) -> tuple[date, date]:
    """Align to the period and check the span."""
    if end <= start:
        raise BadRequest(f"to ({end}) must be after from ({start})")
    if period == "month":
        start, end = start.replace(day=1), end
    elif period == "year":
        start = date(start.year, 1, 1)
    span = {
        "day": (end - start).days,
        "month": (end.year - start.year) * 12 + end.month - start.month,
        "year": end.year - start.year,
    }[period]
    if span > MAX_PERIODS[period]:
        raise BadRequest(f"{span} {period}s requested; at most {MAX_PERIODS[period]}")
    return start, end


def _stats(
    conn: DbConn,
    p: Principal,
    *,
    period: Period,
    start: date,
    end: date,
    park_id: int | None,
    enterprise_id: int | None,
    park: dict[str, Any],
) -> list[dict[str, Any]]:
    start, end = _range(period, start, end)
    fetch = {"day": q.daily, "month": q.monthly, "year": q.yearly}[period]
    rows = fetch(conn, park_id=park_id, enterprise_id=enterprise_id, start=start, end=end)
    matched, concentration = {}, {}
    if period != "day" and "energy" in p.categories:
        cells = q.cells(conn, park_id=park_id, enterprise_id=enterprise_id, start=start, end=end)
        land = park.get("land_area_mu") if enterprise_id is None else None
        matched = intensities_by_period(cells, period, total_land=land)
        concentration = concentration_by_period(cells, period) if enterprise_id is None else {}
    out = [shape(r, p.categories, economic=p.can_read_economic, matched=matched.get(r["period"])) for r in rows]
    for row in out:
        if row["economic"] is not None:
            row["economic"]["leading_industry_share"] = concentration.get(row["period"])
        if period != "day" and enterprise_id is None and "energy" in p.categories:
            row["article_21"] = article_21(row)
    if period == "day" and enterprise_id is None and "environment" in p.categories:
        pid = park["park_id"]
        aqis = daily_aqi(
            q.daily_air(conn, park_id=pid, start=start, end=end),
            q.hourly_o3(conn, park_id=pid, start=start, end=end),
        )
        for row in out:
            row["aqi"] = aqis.get(row["period"])
    if period == "year" and enterprise_id is None and "energy" in p.categories:
        for row in out:
            row["evaluation"] = _evaluate_year(conn, row["period"].year).get(park["park_id"])
    return out


def _evaluate_year(conn: DbConn, year: int) -> dict[int, dict[str, Any]]:
    """Every park's class and evaluation of a year, with the two years before for Article 22;
    none before the first year an evaluation method applies to."""
    if year < FIRST_EVALUATION_YEAR:
        return {}
    return evaluation(
        q.park_years(conn, year=year),
        year=year,
        cells=q.year_cells(conn, year=year),
        earlier_outputs=q.park_outputs(conn, first=year - 2, last=year - 1),
    )


From = Annotated[date, Query(alias="from", description="first day (inclusive)")]
To = Annotated[date, Query(alias="to", description="end day (exclusive)")]


@router.get(
    "/statistics/parks/{park_id}",
    response_model=StatsResponse,
    responses={400: {}, 404: {}},
    summary="park totals: energy by carrier, tce, CO2, water, emissions, exceedances, AQI,"
    " intensities, class and evaluation",
)
def park_statistics(
    park_id: Id, conn: DbConn, p: CurrentPrincipal, start: From, end: To, period: Period = "day"
) -> dict[str, Any]:
    park = get_park(conn, p, park_id=park_id)
    if park is None or p.role is Role.ENTERPRISE:  # an enterprise reads its own figures only
        raise NotFound(f"no park {park_id}")
    rows = _stats(conn, p, period=period, start=start, end=end, park_id=park_id, enterprise_id=None, park=park)
    return {
        "subject": "park",
        "id": park_id,
        "period": period,
        "rows": rows,
        **_currency(conn, park_id, rows, start, end),
    }


RANKABLE = {**dict.fromkeys(ENERGY_COLUMNS, "energy"), **dict.fromkeys(EMISSION_COLUMNS, "emissions")}


@router.get(
    "/statistics/parks/{park_id}/ranking",
    response_model=RankingResponse,
    responses={400: {}, 403: {}, 404: {}},
    summary="every enterprise of a park ranked by one indicator over a range, in one answer",
    description="Sums of the daily (`period=day`) or monthly indicators in [from, to) per"
    " enterprise, every carrier and emission included, largest first. One call whatever the number"
    " of enterprises; a range of at most 400 days or 120 months. `limit` keeps the first N (a"
    " top ten need not carry every enterprise); `total` counts them all.",
)
def park_ranking(
    park_id: Id,
    conn: DbConn,
    p: CurrentPrincipal,
    start: From,
    end: To,
    period: Literal["day", "month"] = "month",
    by: str = "tce_equivalent",
    limit: Annotated[int | None, Query(ge=1, le=RANKING_MAX_LIMIT, description="the first N; all when absent")] = None,
) -> Any:
    park = get_park(conn, p, park_id=park_id)
    if park is None or p.role is Role.ENTERPRISE:  # an enterprise does not see the others' figures
        raise NotFound(f"no park {park_id}")
    group = RANKABLE.get(by)
    if group is None:
        raise BadRequest(f"cannot rank by {by!r}; one of {', '.join(RANKABLE)}")
    if group not in p.categories:
        raise Forbidden(f"ranking by {by!r} needs the {group!r} category")
    start, end = _range(period, start, end)
    rows = q.by_enterprise(conn, park_id=park_id, period=period, start=start, end=end)
    items = [
        {"enterprise_id": r["enterprise_id"], "code": r["code"], "name": r["name"], "periods": r["periods"]}
        | shape({**r, "period": start}, p.categories, economic=False)
        for r in rows
    ]
    ranked = _ranked(items, group, by)
    body = {"park_id": park_id, "period": period, "from": start, "to": end, "by": by, "total": len(ranked),
            "items": ranked[:limit]}  # fmt: skip
    return fast_json(RankingResponse, body)


def _ranked(items: list[dict[str, Any]], group: str, by: str) -> list[dict[str, Any]]:
    """Largest first; enterprises without the figure last, unranked, by code."""
    with_figure = [i for i in items if (i[group] or {}).get(by) is not None]
    without = sorted((i for i in items if (i[group] or {}).get(by) is None), key=lambda i: i["code"])
    with_figure.sort(key=lambda i: (-i[group][by], i["code"]))
    return [{**i, "rank": n} for n, i in enumerate(with_figure, 1)] + [{**i, "rank": None} for i in without]


LOAD_INTERVALS = {"15m": (Interval.M15, timedelta(days=8)), "1h": (Interval.H1, timedelta(days=62))}


@router.get(
    "/statistics/parks/{park_id}/load",
    response_model=ParkLoadOut,
    responses={400: {}, 403: {}, 404: {}},
    summary="the park's electric load: Σ of its meters' mean active power per bucket, in one answer",
)
def park_load(
    park_id: Id,
    conn: DbConn,
    p: CurrentPrincipal,
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
    interval: Literal["15m", "1h"] = "15m",
) -> dict[str, Any]:
    park = get_park(conn, p, park_id=park_id)
    if park is None or p.role is Role.ENTERPRISE:
        raise NotFound(f"no park {park_id}")
    if "energy" not in p.categories:
        raise Forbidden("the park load needs the 'energy' category")
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None:
            raise BadRequest(f"{name} {value.isoformat()} has no time zone offset")
    step, longest = LOAD_INTERVALS[interval]
    if end <= start or end - start > longest:
        raise BadRequest(
            f"from {start.isoformat()} to {end.isoformat()}: give at most {longest.days} days of {interval}"
        )
    power = BY_CODE["elec.power_kw"]
    ts, values, meters = tq.park_sum(conn, park_id=park_id, metric_id=power.id, interval=step, start=start, end=end)
    return {"park_id": park_id, "interval": interval, "unit": power.unit, "meters": meters, "ts": ts, "values": values}


@router.get(
    "/statistics/enterprises/{enterprise_id}",
    response_model=StatsResponse,
    responses={400: {}, 404: {}},
)
def enterprise_statistics(
    enterprise_id: Id,
    conn: DbConn,
    p: CurrentPrincipal,
    start: From,
    end: To,
    period: Period = "day",
) -> dict[str, Any]:
    ent = found(get_enterprise(conn, p, enterprise_id=enterprise_id), f"no enterprise {enterprise_id}")
    rows = _stats(
        conn,
        p,
        period=period,
        start=start,
        end=end,
        park_id=None,
        enterprise_id=enterprise_id,
        park={"park_id": ent["park_id"]},
    )
    currency = _currency(conn, ent["park_id"], rows, start, end)
    return {"subject": "enterprise", "id": enterprise_id, "period": period, "rows": rows, **currency}


def _currency(conn: DbConn, park_id: int, rows: list[dict[str, Any]], start: date, end: date) -> dict[str, Any]:
    """How current the figures are: the oldest computation among them, and the park's days in
    the range that fail to compute (retried by the scheduler)."""
    from aggregation import failures

    times = [r["computed_at"] for r in rows if r.get("computed_at") is not None]
    failing = sorted({f["day"] for f in failures.current(conn, park_ids=[park_id]) if start <= f["day"] < end})
    return {"current_to": min(times, default=None), "failing_days": failing}


@router.get(
    "/statistics/evaluation",
    response_model=list[ParkEvaluationOut],
    summary="annual class and comprehensive evaluation of the parks (Articles 12, 22)",
)
def park_evaluation(
    conn: DbConn, p: CurrentPrincipal, year: Annotated[int, Query(ge=2000, le=2100)]
) -> list[dict[str, Any]]:
    if "energy" not in p.categories or p.role is Role.ENTERPRISE:
        raise Forbidden("the park evaluation is for operators, admins and read-only users")
    if year < FIRST_EVALUATION_YEAR:
        raise Unprocessable(f"no evaluation method applies to {year}: methods apply from {FIRST_EVALUATION_YEAR}")
    rows = q.park_years(conn, year=year)
    evals = _evaluate_year(conn, year)
    return [
        {
            **evals[r["park_id"]],
            "park_id": r["park_id"],
            "code": r["code"],
            "name": r["name"],
            "year": year,
        }
        for r in rows
        if p.park_id is None or r["park_id"] == p.park_id
    ]


# --- economic reports ---------------------------------------------------------------------------


def _reportable(month: date, now_s: float, where: str = "month") -> None:
    """A report's month must be one the indicator job can turn into figures: anything else would
    be stored and then stop the statistics of its whole park (aggregation.economic owns the rule)."""
    # today where it is latest (UTC+14), so no park's own current month is refused
    today = (datetime.fromtimestamp(now_s, UTC) + timedelta(hours=14)).date()
    why = economic.month_refusal(month, today)
    if why is not None:
        first, latest = economic.reportable_months(today)
        raise Unprocessable(
            f"{where} {why.removeprefix('month ')}",
            supported_from=f"{first:%Y-%m}",
            supported_to=f"{latest:%Y-%m}",
        )


@router.get("/economic-reports", response_model=PageOut[EconomicOut])
def list_reports(
    conn: DbConn,
    p: CurrentPrincipal,
    page: Paging,
    park_id: OptId = None,
    enterprise_id: OptId = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    if not p.can_read_economic:
        raise Forbidden(f"economic reports are not in the remit of role {p.role.value!r}")
    rows = q.list_reports(
        conn,
        p,
        park_id=park_id,
        enterprise_id=enterprise_id,
        start=start,
        end=end,
        limit=page.limit,
        offset=page.offset,
    )
    return paged(rows, page.limit, page.offset)


@router.put(
    "/economic-reports/{enterprise_id}/{month}",
    response_model=EconomicOut,
    responses={400: {}, 403: {}, 404: {}, 422: {}},
    summary="submit one month (an enterprise its own; operators their park's)",
)
def submit_report(
    enterprise_id: Id,
    month: Annotated[date, Path(description="first day of the month")],
    body: EconomicIn,
    conn: DbConn,
    p: CurrentPrincipal,
    clock: Clock,
) -> dict[str, Any]:
    if not (p.can_operate or p.role is Role.ENTERPRISE):
        raise Forbidden(f"role {p.role.value!r} may not submit economic reports")
    if month.day != 1:
        raise BadRequest(f"month {month} is not the first day of a month")
    _reportable(month, clock())
    ent = found(get_enterprise(conn, p, enterprise_id=enterprise_id), f"no enterprise {enterprise_id}")
    with conn.transaction():
        economic.save_months(
            conn,
            months=[{**body.model_dump(), "enterprise_id": enterprise_id, "park_id": ent["park_id"], "month": month}],
            source=f"api:{p.name}",
        )
    rows = q.list_reports(
        conn,
        p,
        park_id=None,
        enterprise_id=enterprise_id,
        start=month,
        end=month + timedelta(days=1),
        limit=1,
        offset=0,
    )
    return rows[0]


@router.post(
    "/economic-reports/import",
    response_model=dict[str, int],
    responses={400: {}, 404: {}, 422: {}},
    summary="import many months at once (operators, admins)",
)
def import_reports(body: EconomicImportIn, conn: DbConn, p: OperatorPrincipal, clock: Clock) -> dict[str, int]:
    with conn.transaction():
        months = []
        for i, r in enumerate(body.reports):
            if r.month.day != 1:
                raise BadRequest(f"reports[{i}].month {r.month} is not the first day of a month")
            _reportable(r.month, clock(), f"reports[{i}].month")
            ent = found(
                get_enterprise(conn, p, enterprise_id=r.enterprise_id),
                f"reports[{i}]: no enterprise {r.enterprise_id}",
            )
            months.append({**r.model_dump(), "park_id": ent["park_id"]})
        economic.save_months(conn, months=months, source=body.source)
    return {"imported": len(body.reports)}


# --- overview -------------------------------------------------------------------------------------


@router.get(
    "/overview",
    response_model=OverviewOut,
    summary="the ops-centre overview of a park",
    description="Shared by every caller of the same scope for up to `SMARTPARK_API_OVERVIEW_TTL_S`"
    " seconds (default 5).",
)
async def overview(run: DbRun, p: CurrentPrincipal, clock: Clock, answers: Answers, park_id: OptId = None) -> Any:
    park_id = park_id or p.park_id

    async def compute() -> bytes:
        now = datetime.fromtimestamp(clock(), UTC)
        return encoded(OverviewOut, await run(_overview, p, park_id, now))

    # Everything of the caller the answer depends on: the same answer for the same scope only.
    scope = (p.role, p.park_id, p.enterprise_id, p.categories)
    return json_response(await answers.get(("overview", park_id, *scope), compute))


def _overview(conn: Any, p: Principal, park_id: int | None, now: datetime) -> dict[str, Any]:
    from api.queries.overview import counts

    park = get_park(conn, p, park_id=park_id) if park_id is not None else None
    if park_id is not None and park is None:
        raise NotFound(f"no park {park_id}")
    c = counts(conn, p, park_id=park_id, since=now - timedelta(minutes=15))
    open_: dict[str, int] = {}
    unack = 0
    for r in alarm_q.counts(conn, p, park_id=park_id):
        open_[r["severity"]] = open_.get(r["severity"], 0) + r["n"]
        unack += r["unacknowledged"]
    today = None
    if park is not None and p.role is not Role.ENTERPRISE:
        local = now.astimezone(ZoneInfo(park["timezone"])).date()
        rows = q.daily(conn, park_id=park_id, enterprise_id=None, start=local, end=local + timedelta(days=1))
        today = shape(rows[0], p.categories, economic=p.can_read_economic) if rows else None
    latest = alarm_q.list_alarms(conn, p, states=["pending", "firing"], park_id=park_id, limit=10)[:10]
    return {
        "park_id": park_id,
        **c,
        "open_alarms": open_,
        "unacknowledged_alarms": unack,
        "today": today,
        "latest_alarms": latest,
    }
