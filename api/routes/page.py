"""What the ops-centre page needs to start, in one answer: who is signed in, the parks they may
pick from, the chosen park with its enterprises and a compact index of its devices, the metric
catalogue, the reference tables and the services' health (the stale banner).

The registry part (parks, enterprises, devices, catalogue, reference tables) changes rarely and
is the same for every caller of one scope: it is kept for ``REGISTRY_TTL_S`` per (scope, park),
so a wall of screens or a morning's sign-ins read it once. Who is asking and the services'
health are read on every call. The page sends its API key here while it exchanges the same key
for a token, so its sign-in is one round trip whatever the size of the park.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Hashable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from api.answers import AnswerCache
from api.auth import Principal
from api.deps import CurrentPrincipal, DbRun
from api.queries import page as q
from api.queries import registry as registry_q
from api.routes.auth import principal_out
from api.routes.reference import limits_reference
from api.routes.service_health import services
from api.schemas.registry import PARK_CODE_RE
from api.schemas.statistics import ServicesOut
from smartpark import aqi

router = APIRouter(tags=["page"])

REGISTRY_TTL_S = 30.0  # a registry change reaches a page's sign-in within this time
DEVICE_COLUMNS = ("device_id", "enterprise_id", "code", "kind", "name", "zone", "metrics")
ENTERPRISE_COLUMNS = ("enterprise_id", "code", "name", "industry")

ParkCode = Annotated[
    str | None,
    Query(pattern=PARK_CODE_RE, description="the park to show (its code); a park-bound user gets its own"),
]


def page_cache(request: Request) -> AnswerCache:
    """The page's registry answers of this process, made on first use."""
    state = request.app.state
    cache = getattr(state, "page_registry", None)
    if cache is None:
        cache = state.page_registry = AnswerCache(REGISTRY_TTL_S)
    return cache


def scope_key(p: Principal, *parts: Hashable) -> tuple[Hashable, ...]:
    """Everything an answer depends on besides its parts: answers are shared within a scope only."""
    return (p.role.value, p.park_id, p.enterprise_id, p.categories, *parts)


def encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def choose_park(parks: list[dict[str, Any]], p: Principal, wanted: str | None) -> dict[str, Any] | None:
    """A park-bound user's own park; anyone else's the one asked for, else the first."""
    if p.park_id is not None:
        return next((x for x in parks if x["park_id"] == p.park_id), None)
    return next((x for x in parks if x["code"] == wanted), parks[0] if parks else None)


def _registry(conn: Any, p: Principal, wanted: str | None) -> bytes:
    parks = q.parks(conn, p)
    if wanted and p.park_id is None and not any(x["code"] == wanted for x in parks):
        asked = q.park_by_code(conn, p, code=wanted)
        parks += [asked] if asked else []
    park = choose_park(parks, p, wanted)
    ents: list[dict[str, Any]] = []
    devs: list[dict[str, Any]] = []
    if park is not None:
        ents = q.enterprises(conn, p, park_id=park["park_id"])
        devs = q.devices(conn, p, park_id=park["park_id"])
    cut = len(devs) > q.MAX_DEVICES
    limits = limits_reference(conn, p, park_id=park["park_id"] if park else None, enterprise_id=None)
    return encode(
        {
            "parks": parks,
            "park": park,
            "enterprises": q.columns(ents, ENTERPRISE_COLUMNS),
            "devices": q.columns(devs[: q.MAX_DEVICES], DEVICE_COLUMNS),
            "devices_cut": cut,
            "metrics": registry_q.list_metrics(conn, p),
            "reference": {"aqi": aqi.reference(), "limits": limits},
        }
    )


def _live(conn: Any, p: Principal) -> bytes:
    health = ServicesOut.model_validate(services(conn, p)).model_dump(mode="json")
    return encode({"me": principal_out(p).model_dump(mode="json"), "services": health})


@router.get(
    "/page/context",
    summary="the ops-centre page's start: the caller, the parks to pick from, the chosen park's"
    " enterprises and device index (columns), the catalogue, reference tables and services' health",
    responses={200: {"content": {"application/json": {}}}},
)
async def context(request: Request, run: DbRun, p: CurrentPrincipal, park: ParkCode = None) -> Response:
    key = scope_key(p, "context", None if p.park_id is not None else park)
    registry_part, live_part = await asyncio.gather(
        page_cache(request).get(key, lambda: run(_registry, p, park)), run(_live, p)
    )
    # Two JSON objects made one: {live…, registry…}.
    return Response(live_part[:-1] + b"," + registry_part[1:], media_type="application/json")
