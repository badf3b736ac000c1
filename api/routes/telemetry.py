"""Latest readings and time series (raw or from the rollups), scoped like every other read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import Principal
from api.deps import ColdTier, CurrentPrincipal, DbConn, DbRun, Id, Limits, OptId, Paging
from api.problems import BadRequest, NotFound
from api.queries import telemetry as q
from api.queries.registry import get_device
from api.schemas.common import PageOut, fast_json, paged
from api.schemas.telemetry import LatestOut, SeriesOut, SeriesResponse
from api.series import Aggregate, Interval, SeriesError, SeriesPlan, parse_pair, plan
from smartpark.catalogue import BY_CODE
from storage.coldfs import ColdStore

router = APIRouter(tags=["telemetry"])

MetricCodes = Annotated[list[str] | None, Query(alias="metric", max_length=64, description="metric codes (repeatable)")]
DeviceIds = Annotated[
    list[Annotated[int, Query(ge=1, le=2**31 - 1)]] | None,
    Query(alias="device_id", max_length=500, description="device ids (repeatable)"),
]


def metric_ids(codes: list[str] | None) -> list[int] | None:
    if codes is None:
        return None
    unknown = [c for c in codes if c not in BY_CODE]
    if unknown:
        raise BadRequest(f"unknown metric(s) {unknown}")
    return [BY_CODE[c].id for c in codes]


@router.get(
    "/telemetry/latest",
    response_model=PageOut[LatestOut],
    summary="latest reading of every (device, metric) in the selection",
)
def latest(
    conn: DbConn,
    p: CurrentPrincipal,
    page: Paging,
    park_id: OptId = None,
    enterprise_id: OptId = None,
    device_ids: DeviceIds = None,
    metrics: MetricCodes = None,
) -> dict[str, Any]:
    rows = q.latest(
        conn,
        p,
        park_id=park_id,
        enterprise_id=enterprise_id,
        device_ids=device_ids,
        metric_ids=metric_ids(metrics),
        limit=page.limit,
        offset=page.offset,
    )
    return paged(rows, page.limit, page.offset)


@router.get(
    "/devices/{device_id}/latest",
    response_model=list[LatestOut],
    responses={404: {}},
    summary="latest reading of each metric of one device",
)
def device_latest(device_id: Id, conn: DbConn, p: CurrentPrincipal) -> list[dict[str, Any]]:
    if get_device(conn, p, device_id=device_id) is None:
        raise NotFound(f"no device {device_id}")
    return q.latest(
        conn,
        p,
        park_id=None,
        enterprise_id=None,
        device_ids=[device_id],
        metric_ids=None,
        limit=100,
        offset=0,
    )


def _series_points(conn: Any, p: Principal, sp: SeriesPlan, cold: ColdStore | None) -> list[q.Points]:
    devices = q.visible_devices(conn, p, device_ids=sorted({x.device_id for x in sp.pairs}))
    for pair in sp.pairs:
        if pair.device_id not in devices:
            raise NotFound(f"no device {pair.device_id}")
        if pair.metric.category.value not in p.categories:
            raise NotFound(f"no metric {pair.metric.code!r} for device {pair.device_id}")
    return q.series(
        conn,
        sp,
        timezones=[devices[x.device_id]["timezone"] for x in sp.pairs],
        parks=[devices[x.device_id]["park_id"] for x in sp.pairs],
        cold=cold,
    )


@router.get(
    "/telemetry/series",
    response_model=SeriesResponse,
    responses={400: {}, 404: {}},
    summary="time series of one or many (device, metric) pairs",
    description=(
        "`series=<device_id>:<metric code>` (repeatable). `interval`: raw readings or buckets of"
        " 15m, 1h, 1d (from the rollups) or the park's calendar month. `aggregate`: one for all"
        " series or one per series; default consumption for counters, max for states, avg"
        " otherwise. Buckets start at or after `from` and before `to`."
    ),
)
async def series(
    run: DbRun,
    cold: ColdTier,
    p: CurrentPrincipal,
    limits: Limits,
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
    pairs: Annotated[list[str], Query(alias="series", min_length=1, max_length=200)],
    interval: Interval = Interval.H1,
    aggregates: Annotated[list[Aggregate] | None, Query(alias="aggregate", max_length=200)] = None,
) -> Any:
    try:
        parsed = [parse_pair(s) for s in pairs]
        sp = plan(
            parsed,
            start=start,
            end=end,
            interval=interval,
            aggregates=aggregates or [],
            max_points=limits.max_points,
            max_series=limits.max_series,
            max_raw_days=limits.max_raw_range_days,
            max_days=limits.max_range_days,
        )
    except SeriesError as exc:
        raise BadRequest(str(exc)) from exc
    points = await run(_series_points, p, sp, cold)
    raw = interval is Interval.RAW
    return fast_json(
        SeriesResponse,
        {
            "interval": interval.value,
            "from": start,
            "to": end,
            "series": [
                SeriesOut(
                    device_id=pair.device_id,
                    metric=pair.metric.code,
                    unit=pair.metric.unit,
                    aggregate=None if raw else agg.value,
                    ts=pts.ts,
                    values=pts.values,
                    flags=pts.flags,
                    truncated=pts.truncated,
                )
                for pair, agg, pts in zip(sp.pairs, sp.aggregates, points, strict=True)
            ],
        },
    )
