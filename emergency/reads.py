"""What the incident workflow reads: alarms with their device's zone and hazard, plans, incidents.

Alarms are read here, never written: their hazard is joined from emergency_hazard_devices, so
alerting's tables stay as alerting made them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row

Conn = psycopg.Connection[Any]
Row = dict[str, Any]


@contextmanager
def plain_rows(conn: Conn) -> Iterator[Conn]:
    """alerting's functions read plain tuples: the connection's row factory for their time."""
    saved = conn.row_factory
    conn.row_factory = tuple_row
    try:
        yield conn
    finally:
        conn.row_factory = saved


def _rows(conn: Conn, sql: str, params: Any) -> list[Row]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


ALARM_SQL = (
    "SELECT a.alert_id, a.rule_id, a.park_id, a.enterprise_id, a.device_id, a.metric, a.severity, a.category,"
    " a.state, a.labels, a.summary, a.value, a.started_at, a.acknowledged_at, a.acknowledged_by,"
    " coalesce(d.zone, a.labels->>'zone', '') AS zone, d.code AS device_code, p.code AS park_code,"
    " h.hazard_id, h.code AS hazard_code, h.name AS hazard_name, h.grade AS hazard_grade,"
    " h.incident_type AS hazard_incident_type, h.zone AS hazard_zone,"
    " EXISTS (SELECT 1 FROM emergency_incident_alarms l JOIN emergency_incidents i USING (incident_id)"
    "   WHERE l.alert_id = a.alert_id AND i.state <> 'closed') AS in_open_incident"
    " FROM alerts a JOIN parks p USING (park_id) LEFT JOIN devices d USING (device_id)"
    " LEFT JOIN LATERAL (SELECT hz.* FROM emergency_hazard_devices hd JOIN emergency_hazards hz USING (hazard_id)"
    "   WHERE hd.device_id = a.device_id ORDER BY hz.grade NULLS LAST, hz.hazard_id LIMIT 1) h ON true"
)


def alarms(conn: Conn, *, alert_ids: Sequence[int]) -> list[Row]:
    """The alarms with zone and hazard, oldest first."""
    return _rows(conn, f"{ALARM_SQL} WHERE a.alert_id = ANY(%s) ORDER BY a.started_at, a.alert_id", (list(alert_ids),))


def incident_alarms(conn: Conn, *, incident_id: int) -> list[Row]:
    return _rows(
        conn,
        f"{ALARM_SQL} JOIN emergency_incident_alarms l ON l.alert_id = a.alert_id AND l.incident_id = %s"
        " ORDER BY a.started_at, a.alert_id",
        (incident_id,),
    )


def firing_safety_alarms(conn: Conn) -> list[Row]:
    """Firing safety alarms that were never in an incident: what the opening rule looks at (an
    alarm still firing after its incident closed does not open another by itself)."""
    return _rows(
        conn,
        f"{ALARM_SQL} WHERE a.state = 'firing' AND a.category = 'safety'"
        " AND NOT EXISTS (SELECT 1 FROM emergency_incident_alarms x WHERE x.alert_id = a.alert_id)",
        (),
    )


def plan_for(conn: Conn, *, park_id: int, incident_type: str, hazard_code: str | None) -> Row | None:
    """The park's plan for this type: one naming the hazard first, else one for every hazard."""
    rows = _rows(
        conn,
        "SELECT plan_id, code, name, steps, hazard_codes FROM emergency_plans WHERE park_id = %s"
        " AND incident_type = %s AND (hazard_codes = '{}' OR %s = ANY(hazard_codes))"
        " ORDER BY hazard_codes = '{}', plan_id LIMIT 1",
        (park_id, incident_type, hazard_code),
    )
    return rows[0] if rows else None


def incident(conn: Conn, *, incident_id: int, lock: bool = False) -> Row | None:
    rows = _rows(
        conn,
        "SELECT i.*, p.code AS park_code, p.name AS park_name, p.timezone, e.name AS enterprise_name,"
        " h.code AS hazard_code, h.name AS hazard_name, h.grade AS hazard_grade"
        " FROM emergency_incidents i JOIN parks p USING (park_id) LEFT JOIN enterprises e USING (enterprise_id)"
        " LEFT JOIN emergency_hazards h USING (hazard_id) WHERE i.incident_id = %s"
        + (" FOR UPDATE OF i" if lock else ""),
        (incident_id,),
    )
    return rows[0] if rows else None


def steps(conn: Conn, *, incident_id: int) -> list[Row]:
    return _rows(
        conn,
        "SELECT step_no, title, role, checklist, notify, done_at, done_by FROM emergency_incident_steps"
        " WHERE incident_id = %s ORDER BY step_no",
        (incident_id,),
    )


# The devices around an incident: its zone (of its enterprise, if it has one), its hazard's
# monitors and its alarms' devices. Parameters: p park, z zone, e enterprise, h hazard, i incident.
ZONE_DEVICES_CTE = (
    "WITH dev AS (SELECT device_id FROM devices d JOIN enterprises e USING (enterprise_id)"
    "   WHERE e.park_id = %(p)s AND d.zone = %(z)s AND %(z)s <> ''"
    "   AND (%(e)s::int IS NULL OR d.enterprise_id = %(e)s)"
    "   UNION SELECT device_id FROM emergency_hazard_devices WHERE hazard_id = %(h)s"
    "   UNION SELECT a.device_id FROM alerts a JOIN emergency_incident_alarms l USING (alert_id)"
    "   WHERE l.incident_id = %(i)s AND a.device_id IS NOT NULL)"
)


def zone_params(incident: dict[str, Any]) -> dict[str, Any]:
    return {
        "p": incident["park_id"],
        "z": incident["zone"],
        "e": incident["enterprise_id"],
        "h": incident["hazard_id"],
        "i": incident["incident_id"],
    }
