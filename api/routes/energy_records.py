"""What people record about meters: changes (replacements), manual readings with their audit
trail, and calibration reminders.

Recording needs a park's people (admin, operator) or the enterprise itself for its own
devices; regulators' bureaus and read-only keys record nothing. Reading follows the energy
views' rules (``api.routes.energy``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi import APIRouter, Query, status
from fastapi import Path as PathParam
from pydantic import AwareDatetime, Field

from aggregation.calendar import local_day_start
from api.auth import Principal, Role
from api.deps import BigId, Clock, CurrentPrincipal, DbConn, Id
from api.problems import Conflict, Forbidden, NotFound, Unprocessable
from api.queries.registry import get_device
from api.routes.energy import From, To, park_of_enterprise, park_or_404, require_energy, tree_of
from api.schemas.common import In
from energy import changes, manual, products
from smartpark.catalogue import BY_CODE, MetricKind
from smartpark.timebase import ms_from_datetime

router = APIRouter(tags=["energy"])
MonthPath = Annotated[str, PathParam(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
MAX_DAYS = 92
Value = Field(ge=0, le=1e12)


class ChangeIn(In):
    metric: str = Field(default="elec.import_kwh", max_length=64, description="the register changed")
    changed_at: AwareDatetime
    old_final: float = Value
    new_initial: float = Value
    new_serial: str = Field(default="", max_length=100)
    note: str = Field(default="", max_length=500)


class ReadingIn(In):
    metric: str = Field(max_length=64)
    ts: AwareDatetime
    value: float = Value


class ImportedReadingIn(ReadingIn):
    device: str = Field(max_length=64, description="device code in the enterprise")


class ImportIn(In):
    readings: list[ImportedReadingIn] = Field(min_length=1, max_length=manual.MAX_IMPORT)


class OutputIn(In):
    product: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    unit: str = Field(min_length=1, max_length=16)
    quantity: float = Field(gt=0, le=1e12)
    energy_share: float = Field(default=1.0, gt=0, le=1)
    limit_kgce: float | None = Field(default=None, gt=0, le=1e9, description="kgce per unit; null: no limit")


class OutputsIn(In):
    outputs: list[OutputIn] = Field(max_length=200)


class CorrectionIn(In):
    value: float = Value
    reason: str = Field(min_length=1, max_length=manual.MAX_REASON, description="why the value was wrong")


def _recorder(p: Principal) -> None:
    require_energy(p)
    if p.role not in (Role.ADMIN, Role.OPERATOR, Role.ENTERPRISE):
        raise Forbidden(f"role {p.role.value!r} may not record meter data; the park's operators or the enterprise may")


def _device(conn: DbConn, p: Principal, device_id: int, metric: str) -> tuple[dict[str, Any], int]:
    """The device (in the caller's scope, else 404) and the id of one of its counters."""
    dev = get_device(conn, p, device_id=device_id)
    if dev is None:
        raise NotFound(f"no device {device_id}")
    m = BY_CODE.get(metric)
    if m is None or m.code not in dev["metrics"] or m.kind is not MetricKind.COUNTER:
        raise Unprocessable(f"metric: {metric!r} is not a counter of device {device_id}")
    return dev, m.id


def _range(conn: DbConn, p: Principal, enterprise_id: int, start: date, end: date) -> tuple[list[int], int, int]:
    park = park_of_enterprise(conn, p, enterprise_id)
    if end < start or (end - start).days + 1 > MAX_DAYS:
        raise Unprocessable(f"from {start} to {end}: 1 to {MAX_DAYS} days")
    devices = [
        r["device_id"]
        for r in conn.execute(
            "SELECT device_id FROM devices WHERE enterprise_id = %s ORDER BY device_id", (enterprise_id,)
        ).fetchall()
    ]
    tz = park["timezone"]
    return devices, local_day_start(start, tz), local_day_start(end + timedelta(days=1), tz)


@router.post(
    "/energy/devices/{device_id}/changes",
    status_code=status.HTTP_201_CREATED,
    summary="record a meter replacement: the old register's final and the new one's initial reading",
)
def record_change(device_id: Id, body: ChangeIn, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    _recorder(p)
    _, metric_id = _device(conn, p, device_id, body.metric)
    change = changes.Change(device_id, metric_id, ms_from_datetime(body.changed_at), body.old_final, body.new_initial)
    near = changes.around(conn, change=change)
    try:
        if near is not None:  # readings on both sides already: they must fit the change
            changes.across(near.before, near.after, change)
    except changes.ChangeError as exc:
        raise Unprocessable(str(exc)) from exc
    try:
        with conn.transaction():
            change_id = changes.record(conn, change=change, new_serial=body.new_serial, note=body.note, by=p.name)
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(f"a change of device {device_id} at {body.changed_at} is recorded already") from exc
    return {"change_id": change_id, "device_id": device_id, "recorded_by": p.name}


@router.get("/energy/enterprises/{enterprise_id}/changes", summary="meter changes of an enterprise in a range")
def list_changes(enterprise_id: Id, start: From, end: To, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    require_energy(p)
    devices, a, b = _range(conn, p, enterprise_id, start, end)
    return {"enterprise_id": enterprise_id, "changes": changes.of_devices(conn, devices=devices, start_ms=a, end_ms=b)}


@router.post(
    "/energy/devices/{device_id}/readings",
    status_code=status.HTTP_201_CREATED,
    summary="a reading entered by hand (flagged manual)",
)
def enter_reading(device_id: Id, body: ReadingIn, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    _recorder(p)
    _, metric_id = _device(conn, p, device_id, body.metric)
    entry = manual.Entry(device_id, metric_id, ms_from_datetime(body.ts), body.value)
    with conn.transaction():
        (reading_id,) = manual.enter(conn, entries=[entry], source="page", by=p.name)
    return {"reading_id": reading_id, "manual": True}


@router.post(
    "/energy/enterprises/{enterprise_id}/readings/import",
    status_code=status.HTTP_201_CREATED,
    summary="import manual readings of an enterprise's devices, all or none",
)
def import_readings(enterprise_id: Id, body: ImportIn, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    _recorder(p)
    park_of_enterprise(conn, p, enterprise_id)
    codes = {
        r["code"]: r["device_id"]
        for r in conn.execute(
            "SELECT code, device_id FROM devices WHERE enterprise_id = %s", (enterprise_id,)
        ).fetchall()
    }
    entries = []
    for i, r in enumerate(body.readings):
        if r.device not in codes:
            raise Unprocessable(f"readings[{i}].device: no device {r.device!r} in enterprise {enterprise_id}")
        try:
            _, metric_id = _device(conn, p, codes[r.device], r.metric)
        except Unprocessable as exc:
            raise Unprocessable(f"readings[{i}].{exc.detail}") from exc
        entries.append(manual.Entry(codes[r.device], metric_id, ms_from_datetime(r.ts), r.value))
    with conn.transaction():
        ids = manual.enter(conn, entries=entries, source="import", by=p.name)
    return {"imported": len(ids), "reading_ids": ids}


@router.post(
    "/energy/readings/{reading_id}/corrections",
    status_code=status.HTTP_201_CREATED,
    summary="correct a manual reading: a new one supersedes it, the old value stays",
)
def correct_reading(reading_id: BigId, body: CorrectionIn, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    _recorder(p)
    device_id = manual.device_of(conn, reading_id=reading_id)
    if device_id is None or get_device(conn, p, device_id=device_id) is None:
        raise NotFound(f"no manual reading {reading_id}")
    try:
        with conn.transaction():
            new_id = manual.correct(conn, reading_id=reading_id, value=body.value, by=p.name, reason=body.reason)
    except manual.Superseded as exc:
        raise Conflict(str(exc)) from exc
    except manual.ManualError as exc:
        raise Unprocessable(str(exc)) from exc
    return {"reading_id": new_id, "supersedes": reading_id, "entered_by": p.name}


@router.get(
    "/energy/enterprises/{enterprise_id}/readings",
    summary="manual readings of an enterprise with every correction (the audit trail)",
)
def reading_trail(enterprise_id: Id, start: From, end: To, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    require_energy(p)
    devices, a, b = _range(conn, p, enterprise_id, start, end)
    return {"enterprise_id": enterprise_id, "readings": manual.trail(conn, devices=devices, start_ms=a, end_ms=b)}


@router.get("/energy/parks/{park_id}/calibrations", summary="meters whose calibration falls due (or is overdue)")
def calibrations(
    park_id: Id,
    conn: DbConn,
    p: CurrentPrincipal,
    clock: Clock,
    within: Annotated[int, Query(ge=0, le=366, description="days ahead")] = 30,
) -> dict[str, Any]:
    require_energy(p)
    park = park_or_404(conn, p, park_id)
    meters = [m for m in tree_of(conn, park_id).meters if p.enterprise_id is None or m.enterprise == p.enterprise_id]
    today = datetime.fromtimestamp(clock(), UTC).astimezone(ZoneInfo(park["timezone"])).date()
    try:
        due = changes.calibrations_due(meters, today=today, within_days=within)
    except changes.ChangeError as exc:
        raise Unprocessable(str(exc)) from exc
    return {"park_id": park_id, "today": today.isoformat(), "due": due}


def _first_of(month: str) -> date:
    return date(int(month[:4]), int(month[5:]), 1)


@router.put(
    "/energy/enterprises/{enterprise_id}/output/{month}",
    summary="the enterprise's product output of a month (replaces what was entered)",
)
def put_output(
    enterprise_id: Id, month: MonthPath, body: OutputsIn, conn: DbConn, p: CurrentPrincipal
) -> dict[str, Any]:
    _recorder(p)
    park_of_enterprise(conn, p, enterprise_id)
    outputs = [products.Output(**o.model_dump()) for o in body.outputs]
    try:
        with conn.transaction():
            products.replace_month(
                conn, enterprise_id=enterprise_id, month=_first_of(month), outputs=outputs, by=p.name
            )
    except products.OutputError as exc:
        raise Unprocessable(str(exc)) from exc
    return products.month_report(conn, enterprise_id=enterprise_id, month=_first_of(month))


@router.get(
    "/energy/enterprises/{enterprise_id}/output/{month}",
    summary="unit energy consumption (kgce per unit of product) of a month against its limits",
)
def get_output(enterprise_id: Id, month: MonthPath, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    require_energy(p)
    park_of_enterprise(conn, p, enterprise_id)
    return products.month_report(conn, enterprise_id=enterprise_id, month=_first_of(month))
