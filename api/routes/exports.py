"""CSV and XLSX downloads of telemetry series, statistics, alarms with their events, rejected
readings and completeness, streamed (``reports.tabular``), scoped like the JSON reads they mirror.

Everything is checked before the first byte (a streamed answer cannot turn into an error later):
the park or enterprise must be readable, the range within its limit, the selection non-empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.auth import Principal, Role
from api.deps import Clock, ColdTier, CurrentPrincipal, DbConn, OptId
from api.problems import BadRequest, Forbidden, NotFound
from api.queries import exports as q
from api.queries.registry import get_enterprise, get_park
from api.routes import completeness as completeness_route
from api.routes import statistics as statistics_route
from api.routes.telemetry import DeviceIds, MetricCodes, metric_ids
from api.series import Interval
from reports import flatten, tabular
from reports.model import Table
from storage.coldfs import ColdStore

router = APIRouter(tags=["exports"])
Format = Annotated[Literal["csv", "xlsx"], Query(description="csv (UTF-8 with BOM) or xlsx")]
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
# Longest range of one export per interval (raw readings are many per series).
MAX_RANGE = {
    Interval.RAW: timedelta(days=31),
    Interval.M15: timedelta(days=366),
    Interval.H1: timedelta(days=366),
    Interval.D1: timedelta(days=3660),
}
MAX_EVENT_RANGE = timedelta(days=400)
ExportInterval = Literal["raw", "15m", "1h", "1d"]
Since = Annotated[datetime, Query(alias="from", description="start (inclusive), ISO 8601 with offset")]
Until = Annotated[datetime, Query(alias="to", description="end (exclusive), ISO 8601 with offset")]


def _download(name: str, fmt: str, chunks: Iterator[bytes]) -> StreamingResponse:
    filename = f"{name}.{fmt}"
    return StreamingResponse(
        chunks,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


def _streamed(request: Request, export: q.Export, fmt: str) -> StreamingResponse:
    """The export's rows from a pooled connection held while they stream (released when the
    client goes away too)."""
    pool = request.app.state.pool

    def csv() -> Iterator[bytes]:
        with pool.connection() as conn:
            yield from tabular.copy_chunks(conn, export.columns, export.sql, export.params)

    def xlsx() -> Iterator[bytes]:
        with pool.connection() as conn:
            f = tabular.xlsx_file(export.columns, tabular.cursor_rows(conn, export.sql, export.params), sheet="数据")
        yield from tabular.file_chunks(f)

    return _download(export.name, fmt, csv() if fmt == "csv" else xlsx())


def _table(t: Table, name: str, fmt: str) -> StreamingResponse:
    if fmt == "csv":
        return _download(name, fmt, tabular.csv_chunks(t.columns, t.rows))
    return _download(name, fmt, tabular.file_chunks(tabular.xlsx_file(t.columns, t.rows, sheet=t.title[:31])))


def _range(start: datetime, end: datetime, longest: timedelta) -> None:
    for name, value in (("from", start), ("to", end)):
        if value.tzinfo is None:
            raise BadRequest(f"{name} {value.isoformat()} has no time zone offset")
    if end <= start:
        raise BadRequest(f"to ({end.isoformat()}) must be after from ({start.isoformat()})")
    if end - start > longest:
        raise BadRequest(f"from {start.isoformat()} to {end.isoformat()}: at most {longest.days} days per export")


def _park_of(conn: DbConn, p: Principal, park_id: int | None, *, required: bool) -> dict[str, Any] | None:
    park_id = park_id or p.park_id
    if park_id is None:
        if required:
            raise BadRequest("park_id is required")
        return None
    park = get_park(conn, p, park_id=park_id)
    if park is None:
        raise NotFound(f"no park {park_id}")
    return park


def _enterprise_in(conn: DbConn, p: Principal, enterprise_id: int | None, park: dict[str, Any] | None) -> None:
    if enterprise_id is None:
        return
    ent = get_enterprise(conn, p, enterprise_id=enterprise_id)
    if ent is None or (park is not None and ent["park_id"] != park["park_id"]):
        raise NotFound(f"no enterprise {enterprise_id}")


@router.get(
    "/exports/telemetry",
    responses={400: {}, 404: {}},
    summary="a park's series as CSV or XLSX: 15-minute, hourly, daily rollups or raw readings",
    description="Every series of the park the caller may read, narrowed by `enterprise_id`,"
    " `device_id` and `metric` (repeatable); at most 5 000 series, 31 days raw, 366 days of 15m or"
    " 1h, 3 660 days of 1d. Counters give their consumption, states their maximum, gauges their"
    " mean. Streamed: a year of a park's 15-minute data never sits in memory.",
)
def export_telemetry(
    request: Request,
    conn: DbConn,
    p: CurrentPrincipal,
    cold: ColdTier,
    start: Since,
    end: Until,
    park_id: OptId = None,
    enterprise_id: OptId = None,
    device_ids: DeviceIds = None,
    metrics: MetricCodes = None,
    interval: ExportInterval = "15m",
    format: Format = "csv",
) -> StreamingResponse:
    step = Interval(interval)
    _range(start, end, MAX_RANGE[step])
    park = _park_of(conn, p, park_id, required=True)
    assert park is not None
    _enterprise_in(conn, p, enterprise_id, park)
    try:
        export = q.telemetry(
            conn,
            p,
            park=park,
            enterprise_id=enterprise_id,
            device_ids=device_ids,
            metric_ids=metric_ids(metrics),
            interval=step,
            start=start,
            end=end,
        )
    except q.ExportError as exc:
        raise BadRequest(str(exc)) from exc
    if step is Interval.RAW and cold is not None and _reaches_cold(conn, start, end):
        return _streamed_across_tiers(request, cold, export, start, end, format)
    return _streamed(request, export, format)


def _reaches_cold(conn: DbConn, start: datetime, end: datetime) -> bool:
    from storage import raw_tiers

    return raw_tiers.reaches_cold(conn, start_ms=int(start.timestamp() * 1000), end_ms=int(end.timestamp() * 1000))


def _streamed_across_tiers(
    request: Request, cold: ColdStore, export: q.Export, start: datetime, end: datetime, fmt: str
) -> StreamingResponse:
    """A raw export reaching the cold tier: its rows merged from the Parquet files and the hot
    table (api.queries.exports_tiered), streamed from a pooled connection."""
    from api.queries.exports_tiered import raw_rows

    pool = request.app.state.pool

    def rows() -> Iterator[tuple[Any, ...]]:
        with pool.connection() as conn:
            yield from raw_rows(conn, cold, export, start=start, end=end)

    if fmt == "csv":
        return _download(export.name, fmt, tabular.csv_chunks(export.columns, rows()))
    return _download(export.name, fmt, tabular.file_chunks(tabular.xlsx_file(export.columns, rows(), sheet="数据")))


def _events_export(
    kind: str,
    request: Request,
    conn: DbConn,
    p: Principal,
    start: datetime,
    end: datetime,
    park_id: int | None,
    enterprise_id: int | None,
    fmt: str,
) -> StreamingResponse:
    _range(start, end, MAX_EVENT_RANGE)
    park = _park_of(conn, p, park_id, required=False)
    _enterprise_in(conn, p, enterprise_id, park)
    tz = park["timezone"] if park else "UTC"
    make = q.alarms if kind == "alarms" else q.rejected
    export = make(
        conn, p, park_id=park["park_id"] if park else None, enterprise_id=enterprise_id, tz=tz, since=start, until=end
    )
    return _streamed(request, export, fmt)


@router.get(
    "/exports/alarms",
    responses={400: {}, 404: {}},
    summary="alarms started in a range with each of their events, as CSV or XLSX (at most 400 days)",
)
def export_alarms(
    request: Request,
    conn: DbConn,
    p: CurrentPrincipal,
    start: Since,
    end: Until,
    park_id: OptId = None,
    enterprise_id: OptId = None,
    format: Format = "csv",
) -> StreamingResponse:
    return _events_export("alarms", request, conn, p, start, end, park_id, enterprise_id, format)


@router.get(
    "/exports/rejected",
    responses={400: {}, 403: {}, 404: {}},
    summary="refused readings and messages in a range, as CSV or XLSX (at most 400 days)",
)
def export_rejected(
    request: Request,
    conn: DbConn,
    p: CurrentPrincipal,
    start: Since,
    end: Until,
    park_id: OptId = None,
    enterprise_id: OptId = None,
    format: Format = "csv",
) -> StreamingResponse:
    if p.role is Role.REGULATOR:
        raise Forbidden("rejected messages are for operators and the enterprises that sent them")
    return _events_export("rejected", request, conn, p, start, end, park_id, enterprise_id, format)


@router.get(
    "/exports/statistics",
    responses={400: {}, 404: {}},
    summary="park or enterprise statistics per day, month or year, as CSV or XLSX",
    description="The figures of `GET /statistics/parks/{id}` (`park_id`) or"
    " `/statistics/enterprises/{id}` (`enterprise_id`), one row per period, the same limits.",
)
def export_statistics(
    conn: DbConn,
    p: CurrentPrincipal,
    start: statistics_route.From,
    end: statistics_route.To,
    park_id: OptId = None,
    enterprise_id: OptId = None,
    period: statistics_route.Period = "day",
    format: Format = "csv",
) -> StreamingResponse:
    if (park_id is None) == (enterprise_id is None):
        raise BadRequest("give park_id or enterprise_id (one of them)")
    if enterprise_id is not None:
        answer = statistics_route.enterprise_statistics(enterprise_id, conn, p, start, end, period)
        name = f"statistics-enterprise-{enterprise_id}-{period}"
    else:
        assert park_id is not None
        answer = statistics_route.park_statistics(park_id, conn, p, start, end, period)
        name = f"statistics-park-{park_id}-{period}"
    return _table(flatten.statistics("统计", answer["rows"]), name, format)


@router.get(
    "/exports/completeness",
    responses={400: {}},
    summary="transmission, validity and effective rates as CSV or XLSX (the rows of GET /completeness)",
)
def export_completeness(
    request: Request,
    conn: DbConn,
    p: CurrentPrincipal,
    clock: Clock,
    cold: ColdTier,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to", description="last day, included")],
    by: Literal["device", "enterprise", "park", "category"] = "enterprise",
    period: Literal["day", "month", "range"] = "day",
    park_id: OptId = None,
    enterprise_id: OptId = None,
    format: Format = "csv",
) -> StreamingResponse:
    rows = completeness_route.get_completeness(
        request, conn, p, clock, cold, start, end, by, period, park_id, enterprise_id
    )
    names = q.subject_names(conn, by=by, ids=sorted({r[by] for r in rows if r.get(by) is not None}))
    return _table(flatten.completeness("数据完整率", by, rows, names), f"completeness-{by}-{period}", format)
