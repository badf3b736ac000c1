"""The park plan (园区一张图): the park's SVG with its devices placed on it, and the devices'
live state (online or not) for the plan and the online rate. An enterprise user has no plan: it
names every enterprise of the park."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from api.auth import Principal
from api.deps import Clock, CurrentPrincipal, DbRun, Id
from api.online import online
from api.problems import NotFound
from api.queries import plan as q
from smartpark import park_plan

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


@router.get(
    "/parks/{park_id}/plan",
    responses={404: {}},
    summary="the park's plan (SVG; regions named by enterprise code and enterprise/zone) with its devices placed",
)
async def get_plan(park_id: Id, run: DbRun, p: CurrentPrincipal) -> dict[str, Any]:
    _no_enterprise(p, park_id)
    return await run(_plan, p, park_id)


def _states(conn: Any, p: Principal, park_id: int, default_interval_s: float, now_s: float) -> dict[str, Any]:
    rows = q.last_seen(conn, p, park_id=park_id)
    seen = [r["last_seen"].timestamp() if r["last_seen"] else None for r in rows]
    on = [online(s, r["interval_s"] or default_interval_s, now_s) for s, r in zip(seen, rows, strict=True)]
    return {
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


@router.get(
    "/parks/{park_id}/device-states",
    summary="each visible device's newest reading (epoch ms) and whether it is online, with the online count",
)
async def device_states(park_id: Id, request: Request, run: DbRun, p: CurrentPrincipal, clock: Clock) -> dict[str, Any]:
    default_interval_s = request.app.state.settings.aggregation.default_interval_s
    return await run(_states, p, park_id, default_interval_s, clock())
