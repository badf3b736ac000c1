"""Emergency management's reads, scoped to the principal: incidents, hazards, plans, resources.

An enterprise user sees its own enterprise's incidents and hazards (and the park's resources and
plans); operators, read-only users and the emergency bureau's regulators see their park's;
admins every park's. Whether a regulator may read at all is the route's check (emergency bureau).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

from api.auth import Principal
from api.queries.scope import Where, page, tenant
from emergency import reads

Conn = psycopg.Connection[Any]
Row = dict[str, Any]

INCIDENT_COLS = (
    "i.incident_id, i.park_id, i.enterprise_id, i.hazard_id, i.zone, i.title, i.incident_type, i.level, i.state,"
    " i.commander, i.drill, i.opened_by, i.opened_at, i.first_alarm_at, i.responding_at, i.controlled_at,"
    " i.closed_at, i.plan_id, i.plan_name, i.rule, e.name AS enterprise_name, h.code AS hazard_code,"
    " h.name AS hazard_name, h.grade AS hazard_grade, h.plan_x AS hazard_x, h.plan_y AS hazard_y,"
    " pk.code AS park_code, pk.timezone, e.code AS enterprise_code"
)
INCIDENT_FROM = (
    "emergency_incidents i JOIN parks pk USING (park_id) LEFT JOIN enterprises e USING (enterprise_id)"
    " LEFT JOIN emergency_hazards h USING (hazard_id)"
)


def _incidents(p: Principal) -> Where:
    return tenant(Where(), p, park="i.park_id", enterprise="i.enterprise_id")


def list_incidents(
    conn: Conn,
    p: Principal,
    *,
    limit: int,
    offset: int,
    states: Sequence[str] | None,
    drill: bool | None,
    park_id: int | None,
    since: datetime | None,
) -> list[Row]:
    w = _incidents(p).when(states, "i.state = ANY(%(states)s)", "states").when(drill, "i.drill = %(drill)s", "drill")
    w.when(park_id, "i.park_id = %(pid)s", "pid").when(since, "i.opened_at >= %(since)s", "since")
    tail = page(w, limit, offset)
    return conn.execute(
        f"SELECT {INCIDENT_COLS} FROM {INCIDENT_FROM} WHERE {w.sql}"
        f" ORDER BY i.opened_at DESC, i.incident_id DESC{tail}",
        w.params,
    ).fetchall()


def get_incident(conn: Conn, p: Principal, *, incident_id: int) -> Row | None:
    w = _incidents(p).add("i.incident_id = %(id)s", id=incident_id)
    return conn.execute(f"SELECT {INCIDENT_COLS} FROM {INCIDENT_FROM} WHERE {w.sql}", w.params).fetchone()


def events_after(conn: Conn, p: Principal, *, after: int, limit: int) -> list[Row]:
    """Incident events after an id, oldest first: what the bureau's screen polls for."""
    w = _incidents(p).add("ev.event_id > %(after)s", after=after)
    w.params["lim"] = limit
    return conn.execute(
        "SELECT ev.event_id, ev.incident_id, ev.at, ev.kind, ev.by, ev.text, i.park_id, i.title, i.level, i.state,"
        " i.drill FROM emergency_incident_events ev JOIN emergency_incidents i USING (incident_id)"
        f" WHERE {w.sql} ORDER BY ev.event_id LIMIT %(lim)s",
        w.params,
    ).fetchall()


def photos(conn: Conn, *, incident_id: int) -> list[Row]:
    return conn.execute(
        "SELECT photo_id, content_type, size_bytes, sha256, caption, uploaded_by, uploaded_at"
        " FROM emergency_incident_photos WHERE incident_id = %s ORDER BY photo_id",
        (incident_id,),
    ).fetchall()


def photo(conn: Conn, *, incident_id: int, photo_id: int) -> Row | None:
    return conn.execute(
        "SELECT photo_id, stored_name, content_type, size_bytes FROM emergency_incident_photos"
        " WHERE incident_id = %s AND photo_id = %s",
        (incident_id, photo_id),
    ).fetchone()


def hazards(conn: Conn, p: Principal, *, park_id: int | None) -> list[Row]:
    w = tenant(Where(), p, park="h.park_id", enterprise="h.enterprise_id").when(park_id, "h.park_id = %(pid)s", "pid")
    return conn.execute(
        "SELECT h.hazard_id, h.park_id, h.enterprise_id, e.code AS enterprise, h.code, h.name, h.kind, h.unit_kind,"
        " h.substances, h.exposed_people, h.ratio_sum, h.r_value, h.grade, h.zone, h.plan_x, h.plan_y,"
        " h.responsible, h.incident_type, coalesce((SELECT array_agg(d.code ORDER BY d.code)"
        " FROM emergency_hazard_devices hd JOIN devices d USING (device_id) WHERE hd.hazard_id = h.hazard_id),"
        " '{}') AS devices FROM emergency_hazards h LEFT JOIN enterprises e USING (enterprise_id)"
        f" WHERE {w.sql} ORDER BY h.park_id, h.code",
        w.params,
    ).fetchall()


def _park_level(p: Principal, alias: str) -> Where:
    """Park-wide rows (plans; resources of the park or of the caller's own enterprise)."""
    w = Where()
    if p.park_id is not None:
        w.add(f"{alias}.park_id = %(s_park)s", s_park=p.park_id)
    return w


def plans(conn: Conn, p: Principal, *, park_id: int | None) -> list[Row]:
    w = _park_level(p, "pl").when(park_id, "pl.park_id = %(pid)s", "pid")
    return conn.execute(
        "SELECT plan_id, park_id, code, name, incident_type, hazard_codes, steps FROM emergency_plans pl"
        f" WHERE {w.sql} ORDER BY park_id, code",
        w.params,
    ).fetchall()


def resources(conn: Conn, p: Principal, *, park_id: int | None) -> list[Row]:
    w = _park_level(p, "r").when(park_id, "r.park_id = %(pid)s", "pid")
    if p.enterprise_id is not None:  # an enterprise: the park's and its own, not its neighbours'
        w.add("(r.enterprise_id IS NULL OR r.enterprise_id = %(s_ent)s)", s_ent=p.enterprise_id)
    return conn.execute(
        "SELECT r.resource_id, r.park_id, r.enterprise_id, e.code AS enterprise, r.code, r.kind, r.name,"
        " r.quantity, r.unit, r.zone, r.contact FROM emergency_resources r LEFT JOIN enterprises e"
        f" USING (enterprise_id) WHERE {w.sql} ORDER BY r.park_id, r.code",
        w.params,
    ).fetchall()


def alarms_with_hazards(conn: Conn, p: Principal, *, limit: int) -> list[Row]:
    """Open safety alarms the caller sees, each with the hazard its device monitors."""
    w = tenant(Where(), p, park="a.park_id", enterprise="a.enterprise_id", category="a.category")
    w.add("a.state IN ('pending', 'firing') AND a.category = 'safety'")
    w.params["lim"] = limit
    return conn.execute(
        "SELECT a.alert_id, a.park_id, a.enterprise_id, a.device_id, d.code AS device, d.zone, a.metric, a.severity,"
        " a.state, a.summary, a.value, a.started_at, a.acknowledged_at, h.hazard_id, h.code AS hazard_code,"
        " h.name AS hazard_name, h.grade AS hazard_grade, (SELECT l.incident_id FROM emergency_incident_alarms l"
        " JOIN emergency_incidents i USING (incident_id) WHERE l.alert_id = a.alert_id AND i.state <> 'closed'"
        " LIMIT 1) AS incident_id FROM alerts a LEFT JOIN devices d USING (device_id)"
        " LEFT JOIN LATERAL (SELECT hz.* FROM emergency_hazard_devices hd JOIN emergency_hazards hz USING (hazard_id)"
        " WHERE hd.device_id = a.device_id ORDER BY hz.grade NULLS LAST LIMIT 1) h ON true"
        f" WHERE {w.sql} ORDER BY a.started_at DESC LIMIT %(lim)s",
        w.params,
    ).fetchall()


def statistics(conn: Conn, p: Principal, *, park_id: int | None, since: datetime | None) -> list[Row]:
    """Incidents per type and level, drills left out, with mean durations from the first alarm."""
    w = _incidents(p).add("NOT i.drill").when(park_id, "i.park_id = %(pid)s", "pid")
    w.when(since, "i.opened_at >= %(since)s", "since")
    return conn.execute(
        "SELECT i.incident_type, i.level, count(*) AS incidents, count(*) FILTER (WHERE i.state = 'closed') AS closed,"
        " avg(extract(epoch FROM i.responding_at - i.first_alarm_at)) AS mean_to_response_s,"
        " avg(extract(epoch FROM i.controlled_at - i.first_alarm_at)) AS mean_to_control_s"
        f" FROM emergency_incidents i WHERE {w.sql} GROUP BY 1, 2 ORDER BY 1, 2",
        w.params,
    ).fetchall()


def zone_series(conn: Conn, *, incident: Row, start: datetime, end: datetime, max_points: int) -> list[Row]:
    """Raw readings of the incident's zone, hazard monitors and alarm devices, oldest first."""
    return conn.execute(
        reads.ZONE_DEVICES_CTE
        + " SELECT d.code AS device, m.code AS metric, (extract(epoch FROM t.ts) * 1000)::int8 AS ts_ms, t.value"
        " FROM telemetry t JOIN dev USING (device_id) JOIN devices d USING (device_id) JOIN metrics m USING (metric_id)"
        " WHERE t.ts >= %(s)s AND t.ts <= %(u)s AND m.category = 'safety' ORDER BY t.ts LIMIT %(lim)s",
        {**reads.zone_params(incident), "s": start, "u": end, "lim": max_points},
    ).fetchall()
