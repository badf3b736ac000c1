"""Registry reads: parks, enterprises, gateways, devices, metrics (the routes write through
smartpark.registry, the registry tables' owner)."""

from __future__ import annotations

from typing import Any

import psycopg

from api.auth import Principal
from api.queries.scope import Where, page, tenant
from smartpark.catalogue import NAMES

Row = dict[str, Any]

PARK_COLS = "p.park_id, p.code, p.name, p.timezone, p.grid_region, p.land_area_mu, p.attributes"
ENT_COLS = "e.enterprise_id, e.park_id, e.code, e.name, e.industry, e.land_area_mu, e.attributes"
GW_COLS = "g.gateway_id, g.enterprise_id, e.park_id, g.code, g.mqtt_username, g.attributes"
# A data logger's HJ 212 password is a credential: it is set, never read back, by anyone. Its MN
# is the other half of what a logger presents: only those who see it need it (sees_logger_ids).
SECRET_ATTRIBUTES = ("hj212_pw",)
LOGGER_ID_ATTRIBUTES = ("hj212_mn",)
DEV_COLS = (
    "d.device_id, d.enterprise_id, e.park_id, d.gateway_id, d.code, d.kind, d.name, d.zone,"
    " d.mqtt_username, d.attributes - %(s_hidden)s::text[] AS attributes,"
    " ARRAY(SELECT m.code FROM device_metrics dm JOIN metrics m USING (metric_id)"
    "  WHERE dm.device_id = d.device_id {cat} ORDER BY m.metric_id) AS metrics"
)


def _fetch(conn: psycopg.Connection[Any], sql: str, params: dict[str, Any]) -> list[Row]:
    return conn.execute(sql, params).fetchall()


def _page_of(
    conn: psycopg.Connection[Any], w: Where, *, cols: str, source: str, order: str, limit: int, offset: int
) -> list[Row]:
    """One page of ``source`` within ``w`` (the caller's scope and filters already in it)."""
    tail = page(w, limit, offset)
    return _fetch(conn, f"SELECT {cols} FROM {source} WHERE {w.sql} ORDER BY {order}{tail}", w.params)


def _one_of(conn: psycopg.Connection[Any], w: Where, *, cols: str, source: str) -> Row | None:
    rows = _fetch(conn, f"SELECT {cols} FROM {source} WHERE {w.sql}", w.params)
    return rows[0] if rows else None


GW_SOURCE = "gateways g JOIN enterprises e USING (enterprise_id)"
DEV_SOURCE = "devices d JOIN enterprises e USING (enterprise_id)"


def list_parks(conn: psycopg.Connection[Any], p: Principal, *, limit: int, offset: int) -> list[Row]:
    w = Where().when(p.park_id, "p.park_id = %(s_park)s", "s_park")  # enterprises: their park
    return _page_of(conn, w, cols=PARK_COLS, source="parks p", order="p.park_id", limit=limit, offset=offset)


def get_park(conn: psycopg.Connection[Any], p: Principal, *, park_id: int) -> Row | None:
    w = Where().add("p.park_id = %(id)s", id=park_id)
    w.when(p.park_id, "p.park_id = %(s_park)s", "s_park")
    return _one_of(conn, w, cols=PARK_COLS, source="parks p")


def list_enterprises(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    park_id: int | None,
    industry: str | None,
    limit: int,
    offset: int,
) -> list[Row]:
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id")
    w.when(park_id, "e.park_id = %(park_id)s", "park_id").when(industry, "e.industry = %(ind)s", "ind")
    return _page_of(conn, w, cols=ENT_COLS, source="enterprises e", order="e.enterprise_id", limit=limit, offset=offset)


def get_enterprise(conn: psycopg.Connection[Any], p: Principal, *, enterprise_id: int) -> Row | None:
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id")
    w.add("e.enterprise_id = %(id)s", id=enterprise_id)
    return _one_of(conn, w, cols=ENT_COLS, source="enterprises e")


def list_gateways(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    enterprise_id: int | None,
    park_id: int | None,
    limit: int,
    offset: int,
) -> list[Row]:
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id")
    w.when(enterprise_id, "g.enterprise_id = %(eid)s", "eid").when(park_id, "e.park_id = %(pid)s", "pid")
    return _page_of(conn, w, cols=GW_COLS, source=GW_SOURCE, order="g.gateway_id", limit=limit, offset=offset)


def get_gateway(conn: psycopg.Connection[Any], p: Principal, *, gateway_id: int) -> Row | None:
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id")
    w.add("g.gateway_id = %(id)s", id=gateway_id)
    return _one_of(conn, w, cols=GW_COLS, source=GW_SOURCE)


def _dev_cols(p: Principal, w: Where) -> str:
    w.params["s_hidden"] = [*SECRET_ATTRIBUTES, *(() if p.sees_logger_ids else LOGGER_ID_ATTRIBUTES)]
    if p.role.value == "regulator":
        w.params["s_cats"] = p.category_list
        return DEV_COLS.format(cat="AND m.category = ANY(%(s_cats)s)")
    return DEV_COLS.format(cat="")


def list_devices(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    park_id: int | None,
    enterprise_id: int | None,
    gateway_id: int | None,
    kind: str | None,
    limit: int,
    offset: int,
) -> list[Row]:
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id", device="d.device_id")
    w.when(park_id, "e.park_id = %(pid)s", "pid").when(enterprise_id, "d.enterprise_id = %(eid)s", "eid")
    w.when(gateway_id, "d.gateway_id = %(gid)s", "gid").when(kind, "d.kind = %(kind)s", "kind")
    cols = _dev_cols(p, w)
    return _page_of(conn, w, cols=cols, source=DEV_SOURCE, order="d.device_id", limit=limit, offset=offset)


def get_device(conn: psycopg.Connection[Any], p: Principal, *, device_id: int) -> Row | None:
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id", device="d.device_id")
    w.add("d.device_id = %(id)s", id=device_id)
    return _one_of(conn, w, cols=_dev_cols(p, w), source=DEV_SOURCE)


def list_metrics(conn: psycopg.Connection[Any], p: Principal) -> list[Row]:
    rows = _fetch(
        conn,
        "SELECT metric_id, code, unit, kind, category, min_value, max_value, carrier, description"
        " FROM metrics WHERE category = ANY(%(cats)s) ORDER BY metric_id",
        {"cats": p.category_list},
    )
    # Display names live with the code's catalogue; a code it does not know shows as itself.
    for r in rows:
        r["name_zh"], r["name_en"] = NAMES.get(r["code"], (r["code"], r["code"]))
    return rows
