"""The park plan's reads: the stored SVG, the devices to place on it, and each device's state
(when it last sent a reading) for the plan's live colours and the online rate."""

from __future__ import annotations

from typing import Any

import psycopg

from api.auth import Principal
from api.queries.scope import Where, tenant

Row = dict[str, Any]


def plan_svg(conn: psycopg.Connection[Any], p: Principal, *, park_id: int) -> str | None:
    """The park's plan, or None when the park is not visible or has none."""
    w = Where().add("park_id = %(id)s", id=park_id)
    w.when(p.park_id, "park_id = %(s_park)s", "s_park")
    row = conn.execute(f"SELECT plan_svg FROM parks WHERE {w.sql}", w.params).fetchone()
    return None if row is None else row["plan_svg"]


def devices(conn: psycopg.Connection[Any], p: Principal, *, park_id: int) -> list[Row]:
    """Visible devices of the park with their enterprise code and zone."""
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id", device="d.device_id")
    w.add("e.park_id = %(pid)s", pid=park_id)
    return conn.execute(
        "SELECT d.device_id, d.enterprise_id, e.code AS enterprise, d.zone"
        f" FROM devices d JOIN enterprises e USING (enterprise_id) WHERE {w.sql} ORDER BY d.device_id",
        w.params,
    ).fetchall()


def last_seen(conn: psycopg.Connection[Any], p: Principal, *, park_id: int) -> list[Row]:
    """Every visible device of the park with its newest reading's time (NULL: never) and its
    declared reading interval (NULL: the platform's default)."""
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id", device="d.device_id")
    w.add("e.park_id = %(pid)s", pid=park_id)
    return conn.execute(
        "SELECT d.device_id, d.enterprise_id,"
        " (SELECT max(l.ts) FROM telemetry_latest l WHERE l.device_id = d.device_id) AS last_seen,"
        " CASE WHEN d.attributes->>'interval_s' ~ '^[0-9]+(\\.[0-9]+)?$'"
        "      THEN (d.attributes->>'interval_s')::float8 END AS interval_s"
        f" FROM devices d JOIN enterprises e USING (enterprise_id) WHERE {w.sql} ORDER BY d.device_id",
        w.params,
    ).fetchall()


def latest_of(conn: psycopg.Connection[Any], p: Principal, *, park_id: int, metric_ids: list[int]) -> list[Row]:
    """The latest reading of each of ``metric_ids`` of every visible device of the park."""
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id", device="d.device_id")
    w.add("e.park_id = %(pid)s", pid=park_id).add("l.metric_id = ANY(%(mids)s)", mids=metric_ids)
    return conn.execute(
        "SELECT l.device_id, l.metric_id, l.value, l.ts FROM telemetry_latest l"
        f" JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id) WHERE {w.sql}",
        w.params,
    ).fetchall()
