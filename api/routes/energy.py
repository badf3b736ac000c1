"""Energy management: the meter tree, time-of-use cost with demand, balance and losses.

Reading needs the energy category (regulators' bureaus have none); an enterprise user sees its
own enterprise's meters, cost and balance and nothing of the park's; only an admin changes the
tree. Figures are computed on request from the rollups (``energy.report``), a month at most.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import Field

from api.auth import Principal, Role
from api.deps import AdminPrincipal, Clock, CurrentPrincipal, DbConn, Id
from api.problems import Forbidden, NotFound, Unprocessable
from api.queries.registry import get_enterprise, get_park
from api.schemas.common import In
from energy import meters as em
from energy import report
from energy.tree import MAX_METERS, Meter, Tree, TreeError

router = APIRouter(tags=["energy"])
MAX_RECOMPUTE_DAYS = 366
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM, the park's calendar")]
From = Annotated[date, Query(alias="from", description="first local day")]
To = Annotated[date, Query(alias="to", description="last local day, included; at most 31 days")]
Carrier = Literal["electricity", "water", "natural_gas", "steam", "heat", "raw_coal"]


class MeterIn(In):
    code: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    name: str = Field(default="", max_length=200)
    carrier: Carrier
    role: Literal["main", "sub", "virtual"]
    enterprise: str | None = Field(default=None, max_length=64, description="enterprise code; null: the park's own")
    parent: str | None = Field(default=None, max_length=64)
    device: str | None = Field(default=None, max_length=64, description="device code (physical meters)")
    device_enterprise: str | None = Field(
        default=None, max_length=64, description="enterprise holding the device of a park meter"
    )
    formula: str | None = Field(default=None, max_length=2000, description='virtual meters: e.g. "M1 - M2 + M3"')
    tariff: str | None = Field(default=None, max_length=64, description="time-of-use schedule code")
    contracted_kw: float | None = Field(default=None, gt=0, le=1e7)
    attributes: dict[str, Any] = Field(default_factory=dict)


class TreeIn(In):
    meters: list[MeterIn] = Field(max_length=MAX_METERS)
    recompute_from: date | None = Field(
        default=None, description="indicators are recomputed from this local day (default: this month's first)"
    )


def require_energy(p: Principal) -> None:
    if "energy" not in p.categories:
        raise Forbidden(f"role {p.role.value!r} of these bureaus may not read energy figures")


def _park_level(p: Principal) -> None:
    require_energy(p)
    if p.role is Role.ENTERPRISE:
        raise Forbidden("an enterprise user reads its own enterprise's energy, not the park's")


def _meter_out(m: Meter) -> dict[str, Any]:
    return {
        "code": m.code,
        "name": m.name,
        "carrier": m.carrier,
        "role": m.role,
        "enterprise_id": m.enterprise,
        "parent": m.parent,
        "device_id": m.device,
        "formula": m.formula,
        "tariff": m.tariff,
        "contracted_kw": m.contracted_kw,
        "counts": m.counts,
        "attributes": dict(m.attributes),
    }


def park_or_404(conn: DbConn, p: Principal, park_id: int) -> dict[str, Any]:
    park = get_park(conn, p, park_id=park_id)
    if park is None:
        raise NotFound(f"no park {park_id}")
    return park


def park_of_enterprise(conn: DbConn, p: Principal, enterprise_id: int) -> dict[str, Any]:
    """The park of an enterprise the principal may see (404 for another tenant's)."""
    ent = get_enterprise(conn, p, enterprise_id=enterprise_id)
    if ent is None:
        raise NotFound(f"no enterprise {enterprise_id}")
    return park_or_404(conn, p, ent["park_id"])


def tree_of(conn: DbConn, park_id: int) -> Tree:
    try:
        return em.fetch_tree(conn, park_id=park_id)
    except TreeError as exc:  # a tree stored before a rule tightened
        raise Unprocessable(f"the park's meter tree does not hold: {exc}") from exc


@router.get("/energy/parks/{park_id}/meters", summary="the park's meter tree (an enterprise user: its own meters)")
def get_meters(park_id: Id, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    require_energy(p)
    park_or_404(conn, p, park_id)
    meters = tree_of(conn, park_id).meters
    if p.enterprise_id is not None:
        meters = tuple(m for m in meters if m.enterprise == p.enterprise_id)
    return {"park_id": park_id, "meters": [_meter_out(m) for m in meters]}


@router.put("/energy/parks/{park_id}/meters", summary="replace the park's meter tree; indicators are recomputed")
def put_meters(park_id: Id, body: TreeIn, conn: DbConn, p: AdminPrincipal, clock: Clock) -> dict[str, Any]:
    park = park_or_404(conn, p, park_id)
    today = datetime.fromtimestamp(clock(), UTC).astimezone(ZoneInfo(park["timezone"])).date()
    since = body.recompute_from or today.replace(day=1)
    if since > today or (today - since).days + 1 > MAX_RECOMPUTE_DAYS:
        raise Unprocessable(f"recompute_from: {since} must be one of the last {MAX_RECOMPUTE_DAYS} days")
    days = [since + timedelta(days=i) for i in range((today - since).days + 1)]
    try:
        n = em.load(conn, park_id=park_id, spec=[m.model_dump() for m in body.meters], recompute=days)
    except TreeError as exc:
        raise Unprocessable(str(exc)) from exc
    return {"park_id": park_id, "meters": n, "recompute_from": since.isoformat()}


def _month(month: str) -> tuple[date, date]:
    first = date(int(month[:4]), int(month[5:]), 1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def _cost(conn: DbConn, park: dict[str, Any], meters: list[Meter], tree: Tree, month: str) -> dict[str, Any]:
    first, last = _month(month)
    try:
        return report.cost(conn, tree=tree, meters=meters, timezone=park["timezone"], first=first, last=last)
    except (TreeError, ValueError) as exc:
        raise Unprocessable(str(exc)) from exc


@router.get(
    "/energy/enterprises/{enterprise_id}/cost",
    summary="kWh and cost per meter, day and period, demand against contract, of a month",
)
def enterprise_cost(enterprise_id: Id, month: Month, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    require_energy(p)
    park = park_of_enterprise(conn, p, enterprise_id)
    tree = tree_of(conn, park["park_id"])
    meters = [m for m in tree.meters if m.enterprise == enterprise_id]
    return {"enterprise_id": enterprise_id, "month": month, **_cost(conn, park, meters, tree, month)}


@router.get("/energy/parks/{park_id}/cost", summary="kWh and cost of every enterprise meter of the park, of a month")
def park_cost(park_id: Id, month: Month, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    _park_level(p)
    park = park_or_404(conn, p, park_id)
    tree = tree_of(conn, park_id)
    meters = [m for m in tree.meters if m.counts or m.enterprise is None]
    return {"park_id": park_id, "month": month, **_cost(conn, park, meters, tree, month)}


def _balances(
    conn: DbConn, park: dict[str, Any], pairs: list[tuple[Meter, list[Meter]]], first: date, last: date
) -> list[dict[str, Any]]:
    if last < first or (last - first).days + 1 > report.MAX_DAYS:
        raise Unprocessable(f"from {first} to {last}: 1 to {report.MAX_DAYS} days")
    return [
        report.balance(conn, parent=a, children=c, timezone=park["timezone"], first=first, last=last) for a, c in pairs
    ]


@router.get(
    "/energy/parks/{park_id}/balance",
    summary="the park's intake against the enterprises' main meters, per hour: loss, alarms, night flow",
)
def park_balance(
    park_id: Id, start: From, end: To, conn: DbConn, p: CurrentPrincipal, carrier: Carrier = "electricity"
) -> dict[str, Any]:
    _park_level(p)
    park = park_or_404(conn, p, park_id)
    tree = tree_of(conn, park_id)
    intakes = [m for m in tree.meters if m.enterprise is None and m.role == "main" and m.carrier == carrier]
    pairs = [(i, [m for m in tree.meters if m.parent == i.code and m.device is not None]) for i in intakes]
    return {"park_id": park_id, "balances": _balances(conn, park, pairs, start, end)}


@router.get(
    "/energy/enterprises/{enterprise_id}/balance",
    summary="each main meter of the enterprise against its sub-meters, per hour",
)
def enterprise_balance(
    enterprise_id: Id, start: From, end: To, conn: DbConn, p: CurrentPrincipal, carrier: Carrier = "electricity"
) -> dict[str, Any]:
    require_energy(p)
    park = park_of_enterprise(conn, p, enterprise_id)
    tree = tree_of(conn, park["park_id"])
    mains = [m for m in tree.meters if m.enterprise == enterprise_id and m.role == "main" and m.carrier == carrier]
    pairs = [(a, [m for m in tree.meters if m.parent == a.code and m.device is not None]) for a in mains]
    return {"enterprise_id": enterprise_id, "balances": _balances(conn, park, pairs, start, end)}
