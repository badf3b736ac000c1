"""SQL that writes the emergency registry: hazards with their monitoring devices, plans, resources.

The one module that writes emergency_hazards, emergency_hazard_devices, emergency_plans and
emergency_resources (docs/architecture.md). Keyword-only functions; the caller owns the
transaction. A hazard is graded here, on every save, by GB 18218-2018 (emergency.gb18218), so the
stored grade always follows the stored substances.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from alerting import paging_names
from emergency import gb18218
from emergency.definitions import HazardIn, PlanIn, ResourceIn

Conn = psycopg.Connection[Any]


class RegistryError(ValueError):
    """A code that names nothing in the park (an enterprise, a device), or a name of another
    park's people; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _one(conn: Conn, sql: str, params: Any) -> Any:
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(sql, params).fetchone()
    return None if row is None else row[0]


def enterprise_id(conn: Conn, *, park_id: int, code: str | None, field: str = "enterprise") -> int | None:
    if code is None:
        return None
    eid = _one(conn, "SELECT enterprise_id FROM enterprises WHERE park_id = %s AND code = %s", (park_id, code))
    if eid is None:
        raise RegistryError(field, f"{field}: no enterprise {code!r} in park {park_id}")
    return int(eid)


def _device_ids(conn: Conn, *, park_id: int, enterprise_id: int | None, codes: list[str]) -> list[int]:
    if not codes:
        return []
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT d.code, d.device_id FROM devices d JOIN enterprises e USING (enterprise_id)"
            " WHERE e.park_id = %s AND (%s::int IS NULL OR d.enterprise_id = %s) AND d.code = ANY(%s)",
            (park_id, enterprise_id, enterprise_id, codes),
        ).fetchall()
    found: dict[str, int] = {}
    for code, did in rows:
        if code in found:
            raise RegistryError("devices", f"devices: code {code!r} names devices of several enterprises; give one")
        found[code] = int(did)
    missing = [c for c in codes if c not in found]
    if missing:
        raise RegistryError("devices", f"devices: no device {missing} in the hazard's enterprise")
    return [found[c] for c in codes]


def save_hazard(conn: Conn, *, park_id: int, hazard: HazardIn) -> int:
    """Insert or replace a hazard by (park, code), graded, with its monitoring devices."""
    eid = enterprise_id(conn, park_id=park_id, code=hazard.enterprise)
    try:
        holdings = hazard.holdings()
        assessment = gb18218.assess(holdings, hazard.exposed_people) if holdings else None
    except gb18218.HazardError as exc:
        raise RegistryError("substances", f"substances: {exc}") from exc
    devices = _device_ids(conn, park_id=park_id, enterprise_id=eid, codes=list(hazard.devices))
    substances = [
        {"substance": h.substance, "quantity_t": h.quantity_t, "threshold_t": h.threshold_t, "beta": h.beta}
        for h in holdings
    ]
    hid = _one(
        conn,
        "INSERT INTO emergency_hazards (park_id, enterprise_id, code, name, kind, unit_kind, substances,"
        " exposed_people, ratio_sum, r_value, grade, zone, plan_x, plan_y, responsible, incident_type)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (park_id, code) DO UPDATE SET enterprise_id = excluded.enterprise_id,"
        " name = excluded.name, kind = excluded.kind, unit_kind = excluded.unit_kind,"
        " substances = excluded.substances, exposed_people = excluded.exposed_people,"
        " ratio_sum = excluded.ratio_sum, r_value = excluded.r_value, grade = excluded.grade,"
        " zone = excluded.zone, plan_x = excluded.plan_x, plan_y = excluded.plan_y,"
        " responsible = excluded.responsible, incident_type = excluded.incident_type, updated_at = now()"
        " RETURNING hazard_id",
        (
            park_id,
            eid,
            hazard.code,
            hazard.name,
            hazard.kind,
            hazard.unit_kind,
            Jsonb(substances),
            hazard.exposed_people,
            assessment.ratio_sum if assessment else None,
            assessment.r if assessment else None,
            assessment.grade if assessment else None,
            hazard.zone,
            hazard.plan_x,
            hazard.plan_y,
            Jsonb(hazard.responsible.model_dump()),
            hazard.incident_type,
        ),
    )
    conn.execute("DELETE FROM emergency_hazard_devices WHERE hazard_id = %s", (hid,))
    if devices:
        conn.cursor().executemany(
            "INSERT INTO emergency_hazard_devices (hazard_id, device_id) VALUES (%s, %s)",
            [(hid, d) for d in devices],
        )
    return int(hid)


def delete_hazard(conn: Conn, *, hazard_id: int) -> bool:
    return conn.execute("DELETE FROM emergency_hazards WHERE hazard_id = %s", (hazard_id,)).rowcount > 0


def save_plan(conn: Conn, *, park_id: int, plan: PlanIn) -> int:
    """Refuses (RegistryError naming the step's list) the contacts, rosters and receivers of
    another park: a plan pages its park's people or platform-wide ones (alerting.paging_names)."""
    try:
        named = paging_names.of_levels("steps.{i}.notify.{kind}", [step.notify for step in plan.steps])
        paging_names.check(conn, park_id=park_id, named=named)
    except paging_names.NamedElsewhere as exc:
        raise RegistryError(exc.field, str(exc)) from exc
    steps = [s.model_dump() for s in plan.steps]
    pid = _one(
        conn,
        "INSERT INTO emergency_plans (park_id, code, name, incident_type, hazard_codes, steps)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (park_id, code) DO UPDATE SET name = excluded.name,"
        " incident_type = excluded.incident_type, hazard_codes = excluded.hazard_codes, steps = excluded.steps,"
        " updated_at = now() RETURNING plan_id",
        (park_id, plan.code, plan.name, plan.incident_type, list(plan.hazard_codes), Jsonb(steps)),
    )
    return int(pid)


def delete_plan(conn: Conn, *, plan_id: int) -> bool:
    return conn.execute("DELETE FROM emergency_plans WHERE plan_id = %s", (plan_id,)).rowcount > 0


def save_resource(conn: Conn, *, park_id: int, resource: ResourceIn) -> int:
    eid = enterprise_id(conn, park_id=park_id, code=resource.enterprise)
    rid = _one(
        conn,
        "INSERT INTO emergency_resources (park_id, enterprise_id, code, kind, name, quantity, unit, zone, contact)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (park_id, code) DO UPDATE SET"
        " enterprise_id = excluded.enterprise_id, kind = excluded.kind, name = excluded.name,"
        " quantity = excluded.quantity, unit = excluded.unit, zone = excluded.zone, contact = excluded.contact,"
        " updated_at = now() RETURNING resource_id",
        (
            park_id,
            eid,
            resource.code,
            resource.kind,
            resource.name,
            resource.quantity,
            resource.unit,
            resource.zone,
            resource.contact,
        ),
    )
    return int(rid)


def delete_resource(conn: Conn, *, resource_id: int) -> bool:
    return conn.execute("DELETE FROM emergency_resources WHERE resource_id = %s", (resource_id,)).rowcount > 0
