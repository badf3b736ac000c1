"""Emergency registry: major hazard sources (graded per GB 18218-2018), plans, resources; the
alarms with their hazard; statistics without drills; the GB 18218 table.

Saving: operators of the park and admins (by park and code, a second save replaces). Reading:
whoever may read incidents (api.routes.emergency), an enterprise its own hazards and the park's
plans and resources with its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import Principal
from api.deps import DbConn, Id, OperatorPrincipal
from api.problems import NotFound, Unprocessable
from api.queries import emergency as q
from api.routes.emergency import Reader
from emergency import gb18218, registry_store
from emergency.definitions import HazardIn, PlanIn, ResourceIn

router = APIRouter(tags=["emergency"])
ParkFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
ALARMS_LIMIT = 1000


def _park(conn: DbConn, p: Principal, park_id: int) -> None:
    """404 unless the park exists and is the caller's (an operator's own, any for an admin)."""
    exists = conn.execute("SELECT 1 FROM parks WHERE park_id = %s", (park_id,)).fetchone()
    if exists is None or (p.park_id is not None and p.park_id != park_id):
        raise NotFound(f"no park {park_id}")


def _row(rows: list[dict[str, Any]], key: str, value: int, what: str) -> dict[str, Any]:
    """The caller's row with this id (404 when the caller does not see one)."""
    row = next((r for r in rows if r[key] == value), None)
    if row is None:
        raise NotFound(f"no {what} {value}")
    return row


def _save(conn: DbConn, fn: Any, **kwargs: Any) -> int:
    try:
        with conn.transaction():
            return int(fn(conn, **kwargs))
    except registry_store.RegistryError as exc:
        raise Unprocessable(str(exc), field=exc.field) from exc


@router.put("/emergency/parks/{park_id}/hazards", responses={403: {}, 404: {}, 422: {}})
def save_hazard(park_id: Id, body: HazardIn, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    """A hazard with its substances, graded on saving (R and grade per GB 18218-2018 4.3)."""
    _park(conn, p, park_id)
    hid = _save(conn, registry_store.save_hazard, park_id=park_id, hazard=body)
    return _row(q.hazards(conn, p, park_id=park_id), "hazard_id", hid, "hazard")


@router.get("/emergency/hazards", responses={403: {}})
def hazards(conn: DbConn, p: Reader, park_id: ParkFilter = None) -> list[dict[str, Any]]:
    return q.hazards(conn, p, park_id=park_id)


@router.delete("/emergency/hazards/{hazard_id}", status_code=204, responses={403: {}, 404: {}})
def delete_hazard(hazard_id: Id, conn: DbConn, p: OperatorPrincipal) -> None:
    _row(q.hazards(conn, p, park_id=None), "hazard_id", hazard_id, "hazard")
    registry_store.delete_hazard(conn, hazard_id=hazard_id)


@router.put("/emergency/parks/{park_id}/plans", responses={403: {}, 404: {}, 422: {}})
def save_plan(park_id: Id, body: PlanIn, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    """An emergency plan (预案): ordered steps, each with its role, checklist and whom to page."""
    _park(conn, p, park_id)
    pid = _save(conn, registry_store.save_plan, park_id=park_id, plan=body)
    return _row(q.plans(conn, p, park_id=park_id), "plan_id", pid, "plan")


@router.get("/emergency/plans", responses={403: {}})
def plans(conn: DbConn, p: Reader, park_id: ParkFilter = None) -> list[dict[str, Any]]:
    return q.plans(conn, p, park_id=park_id)


@router.delete("/emergency/plans/{plan_id}", status_code=204, responses={403: {}, 404: {}})
def delete_plan(plan_id: Id, conn: DbConn, p: OperatorPrincipal) -> None:
    _row(q.plans(conn, p, park_id=None), "plan_id", plan_id, "plan")
    registry_store.delete_plan(conn, plan_id=plan_id)


@router.put("/emergency/parks/{park_id}/resources", responses={403: {}, 404: {}, 422: {}})
def save_resource(park_id: Id, body: ResourceIn, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    """A team, supply or piece of equipment, the park's or an enterprise's, with where it is."""
    _park(conn, p, park_id)
    rid = _save(conn, registry_store.save_resource, park_id=park_id, resource=body)
    return _row(q.resources(conn, p, park_id=park_id), "resource_id", rid, "resource")


@router.get("/emergency/resources", responses={403: {}})
def resources(conn: DbConn, p: Reader, park_id: ParkFilter = None) -> list[dict[str, Any]]:
    return q.resources(conn, p, park_id=park_id)


@router.delete("/emergency/resources/{resource_id}", status_code=204, responses={403: {}, 404: {}})
def delete_resource(resource_id: Id, conn: DbConn, p: OperatorPrincipal) -> None:
    _row(q.resources(conn, p, park_id=None), "resource_id", resource_id, "resource")
    registry_store.delete_resource(conn, resource_id=resource_id)


@router.get("/emergency/alarms", responses={403: {}})
def alarms(conn: DbConn, p: Reader) -> list[dict[str, Any]]:
    """Open safety alarms with the hazard their device monitors and the incident they are in."""
    return q.alarms_with_hazards(conn, p, limit=ALARMS_LIMIT)


@router.get("/emergency/statistics", responses={403: {}})
def statistics(conn: DbConn, p: Reader, park_id: ParkFilter = None, since: datetime | None = None) -> dict[str, Any]:
    """Incidents per type and level with mean durations; drills are left out."""
    return {"drills_excluded": True, "rows": q.statistics(conn, p, park_id=park_id, since=since)}


@router.get("/emergency/reference/gb18218")
def gb18218_table(p: Reader) -> dict[str, Any]:
    """The threshold quantities and corrections the grading uses, with what is still to verify."""
    return {
        "source": "GB 18218-2018 表1 (临界量), 4.3 (分级: R = α Σ β q/Q); 安监总局令第40号 附件1",
        "grades": {"1": "R ≥ 100", "2": "100 > R ≥ 50", "3": "50 > R ≥ 10", "4": "R < 10"},
        "alpha": [[100, 2.0], [50, 1.5], [30, 1.2], [1, 1.0], [0, 0.5]],
        "substances": {
            k: {"name_zh": s.name_zh, "threshold_t": s.threshold_t, "category": s.category, "beta": s.beta,
                "verified": s.verified}
            for k, s in gb18218.SUBSTANCES.items()
        },
    }  # fmt: skip
