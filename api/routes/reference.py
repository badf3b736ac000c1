"""Reference tables the figures are computed with: the HJ 633 AQI tables and the emission and
gas-alarm limits, served so that the page draws with the same rules as the statistics and the
alarms instead of keeping copies. Any authenticated role may read them; per-outlet limits come
only for the outlets the caller may see."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentPrincipal, DbConn, OptId
from api.queries import registry as q
from smartpark import aqi, gas_setpoints, limits

router = APIRouter(tags=["reference"])
MAX_OUTLETS = 5000  # a park has tens to hundreds of outlets; the cap bounds one answer


@router.get("/reference/aqi", summary="HJ 633 breakpoints, items, categories and colours of both editions")
def aqi_reference(p: CurrentPrincipal) -> dict[str, Any]:
    return aqi.reference()


@router.get(
    "/reference/limits",
    summary="emission limit defaults, the limits of each outlet the caller may see, gas alarm setpoints",
)
def limits_reference(
    conn: DbConn, p: CurrentPrincipal, park_id: OptId = None, enterprise_id: OptId = None
) -> dict[str, Any]:
    outlets = []
    for kind in (limits.STACK_KIND, limits.WASTEWATER_KIND):
        rows = q.list_devices(
            conn,
            p,
            park_id=park_id,
            enterprise_id=enterprise_id,
            gateway_id=None,
            kind=kind,
            limit=MAX_OUTLETS,
            offset=0,
        )
        for r in rows:
            resolved = limits.outlet_limits(kind, r["attributes"]).as_dict()
            outlets.append({"device_id": r["device_id"], "kind": kind, **resolved})
    return {
        **limits.reference(),
        "outlets": outlets,
        "gas_levels": {m: list(v) for m, v in gas_setpoints.levels().items()},
        "o2_band": list(gas_setpoints.O2_BAND_PCT),
    }
