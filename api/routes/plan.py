"""The park plan (园区一张图): the park's SVG with its devices placed on it, and the devices'
live state (online or not) for the plan and the online rate. An enterprise user has no plan: it
names every enterprise of the park. A regulator sees its park's plan with the devices of its
bureau's categories, read-only like everything it sees.

The plan with its devices placed is registry data: kept per (scope, park) for the page's
``REGISTRY_TTL_S`` (parsing a 500-enterprise plan and placing 2 000 devices on every request
cost more than the rest of the answer). The devices' states are read on every call."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.auth import Principal
from api.deps import Clock, CurrentPrincipal, DbRun, Id
from api.online import online
from api.problems import Forbidden, NotFound, Unprocessable
from api.queries import plan as q
from api.routes.page import encode, page_cache, scope_key
from smartpark import catalogue, park_plan

router = APIRouter(tags=["plan"])


def _no_enterprise(p: Principal, park_id: int) -> None:
    if p.enterprise_id is not None:
        raise NotFound(f"no plan for park {park_id}")


def _plan(conn: Any, p: Principal, park_id: int) -> dict[str, Any]:
    svg = q.plan_svg(conn, p, park_id=park_id)
    if svg is None:
        raise NotFound(f"no plan for park {park_id}")
    rows = q.devices(conn, p, park_id=park_id)
    spots = (park_plan.DeviceSpot(r["device_id"], r["enterprise"], r["zone"]) for r in rows)
    places = park_plan.place(park_plan.regions(svg), spots)
    ids = sorted(places)
    codes = {r["enterprise_id"]: r["enterprise"] for r in rows}
    return {
        "park_id": park_id,
        "svg": svg,
        # columns, not objects: ten thousand devices stay a small answer
        "devices": {"device_id": ids, "x": [places[i][0] for i in ids], "y": [places[i][1] for i in ids]},
        # which plot (region name) is whose: an alarm's enterprise outlines its plot
        "enterprises": {"enterprise_id": sorted(codes), "code": [codes[e] for e in sorted(codes)]},
        "unplaced": len(rows) - len(ids),
    }


def _plan_answer(conn: Any, p: Principal, park_id: int) -> bytes:
    return encode(_plan(conn, p, park_id))


@router.get(
    "/parks/{park_id}/plan",
    responses={404: {}, 200: {"content": {"application/json": {}}}},
    summary="the park's plan (SVG; regions named by enterprise code and enterprise/zone) with its devices placed",
)
async def get_plan(park_id: Id, request: Request, run: DbRun, p: CurrentPrincipal) -> Response:
    _no_enterprise(p, park_id)
    key = scope_key(p, "plan", park_id)
    body = await page_cache(request).get(key, lambda: run(_plan_answer, p, park_id))
    return Response(body, media_type="application/json")


MAX_STATE_METRICS = 8  # latest readings of at most this many metrics ride along with the states


def _ms(at: Any) -> int | None:
    return None if at is None else round(at.timestamp() * 1000)


def _metric_ids(p: Principal, codes: list[str]) -> dict[int, str]:
    """Catalogue id -> code of the ``metric``s asked for; 422 naming one unknown, 403 for one
    outside the caller's categories (a regulator's bureau)."""
    if len(codes) > MAX_STATE_METRICS:
        raise Unprocessable(f"metric: {len(codes)} metrics asked for; at most {MAX_STATE_METRICS}")
    out: dict[int, str] = {}
    for code in codes:
        m = catalogue.BY_CODE.get(code)
        if m is None:
            raise Unprocessable(f"metric: unknown metric {code!r}")
        if m.category not in p.categories:
            raise Forbidden(f"metric: {code!r} is of category {m.category!r}, outside the caller's")
        out[m.id] = code
    return out


def _states(
    conn: Any, p: Principal, park_id: int, default_interval_s: float, now_s: float, metrics: dict[int, str]
) -> dict[str, Any]:
    rows = q.last_seen(conn, p, park_id=park_id)
    seen = [r["last_seen"].timestamp() if r["last_seen"] else None for r in rows]
    on = [online(s, r["interval_s"] or default_interval_s, now_s) for s, r in zip(seen, rows, strict=True)]
    out: dict[str, Any] = {
        "park_id": park_id,
        "now": round(now_s * 1000),
        "online": sum(on),
        "total": len(rows),
        "devices": {
            "device_id": [r["device_id"] for r in rows],
            "enterprise_id": [r["enterprise_id"] for r in rows],
            "last_seen": [None if s is None else round(s * 1000) for s in seen],
            "online": [int(x) for x in on],
        },
    }
    if metrics:
        # one column per metric, aligned with the devices; null where a device has no reading
        at = {r["device_id"]: i for i, r in enumerate(rows)}
        values: dict[str, list[float | None]] = {code: [None] * len(rows) for code in metrics.values()}
        times: dict[str, list[int | None]] = {code: [None] * len(rows) for code in metrics.values()}
        for r in q.latest_of(conn, p, park_id=park_id, metric_ids=list(metrics)):
            i = at.get(r["device_id"])
            if i is not None:
                values[metrics[r["metric_id"]]][i] = r["value"]
                times[metrics[r["metric_id"]]][i] = _ms(r["ts"])
        out["values"], out["value_ts"] = values, times
    return out


MetricCodes = Annotated[
    list[str] | None,
    Query(
        max_length=MAX_STATE_METRICS,
        description="also each device's latest reading of these metrics (catalogue codes, at most"
        f" {MAX_STATE_METRICS}): values and value_ts (epoch ms) by metric, aligned with the devices",
    ),
]


@router.get(
    "/parks/{park_id}/device-states",
    responses={403: {}, 422: {}},
    summary="each visible device's newest reading (epoch ms) and whether it is online, with the online count",
)
async def device_states(
    park_id: Id, request: Request, run: DbRun, p: CurrentPrincipal, clock: Clock, metric: MetricCodes = None
) -> dict[str, Any]:
    default_interval_s = request.app.state.settings.aggregation.default_interval_s
    return await run(_states, p, park_id, default_interval_s, clock(), _metric_ids(p, metric or []))
