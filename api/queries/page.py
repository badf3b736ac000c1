"""The ops-centre page's park context in columns: the visible parks, the chosen park's
enterprises and a compact index of its devices (one row per device, its metrics as catalogue
ids), scoped like every other read."""

from __future__ import annotations

from typing import Any

import psycopg

from api.auth import Principal
from api.queries.scope import Where, tenant

Row = dict[str, Any]

MAX_PARKS = 1000  # the selector lists at most this many parks
MAX_DEVICES = 50_000  # one park's device index; more is cut and the answer says so


def parks(conn: psycopg.Connection[Any], p: Principal) -> list[Row]:
    """Parks the caller may see, for the page's park selector."""
    w = Where().when(p.park_id, "park_id = %(s_park)s", "s_park")
    w.params["n"] = MAX_PARKS
    return conn.execute(
        f"SELECT park_id, code, name, timezone FROM parks WHERE {w.sql} ORDER BY park_id LIMIT %(n)s", w.params
    ).fetchall()


def park_by_code(conn: psycopg.Connection[Any], p: Principal, *, code: str) -> Row | None:
    """A visible park by its code (one past the selector's bound is still shown when asked for)."""
    w = Where().add("code = %(code)s", code=code).when(p.park_id, "park_id = %(s_park)s", "s_park")
    return conn.execute(f"SELECT park_id, code, name, timezone FROM parks WHERE {w.sql}", w.params).fetchone()


def enterprises(conn: psycopg.Connection[Any], p: Principal, *, park_id: int) -> list[Row]:
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id").add("e.park_id = %(pid)s", pid=park_id)
    return conn.execute(
        f"SELECT e.enterprise_id, e.park_id, e.code, e.name, e.industry FROM enterprises e WHERE {w.sql}"
        " ORDER BY e.enterprise_id",
        w.params,
    ).fetchall()


def devices(conn: psycopg.Connection[Any], p: Principal, *, park_id: int) -> list[Row]:
    """Visible devices of the park with the ids of their visible metrics (a regulator's: of its
    categories), at most MAX_DEVICES + 1 so the caller can tell a cut."""
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id", device="d.device_id")
    w.add("e.park_id = %(pid)s", pid=park_id)
    w.params["s_cats"] = p.category_list
    w.params["n"] = MAX_DEVICES + 1
    return conn.execute(
        "SELECT d.device_id, d.enterprise_id, d.code, d.kind, d.name, d.zone,"
        " ARRAY(SELECT dm.metric_id FROM device_metrics dm JOIN metrics m USING (metric_id)"
        "  WHERE dm.device_id = d.device_id AND m.category = ANY(%(s_cats)s) ORDER BY dm.metric_id) AS metrics"
        f" FROM devices d JOIN enterprises e USING (enterprise_id) WHERE {w.sql} ORDER BY d.device_id LIMIT %(n)s",
        w.params,
    ).fetchall()


def columns(rows: list[Row], names: tuple[str, ...]) -> dict[str, list[Any]]:
    """Rows as columns: a park's thousands of devices stay a small answer."""
    return {n: [r[n] for r in rows] for n in names}
