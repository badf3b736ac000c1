"""The registry: parks, enterprises, gateways and devices, loaded from a model file.

The model file (YAML or JSON) is what `smartpark sim init` writes and what a park's IT person
edits; loading it upserts rows by their codes and creates each gateway's broker account, so
loading the same file again changes nothing. This module is the one writer of the registry
tables: the API's admin routes create and change single rows through it too. :class:`Snapshot` is the in-memory view the
ingesters and the alerting service resolve topics with.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import yaml
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from smartpark import park_plan
from smartpark.catalogue import BY_CODE, DEVICE_KINDS

if TYPE_CHECKING:
    from smartpark.broker_admin import Account, BrokerAdmin


class ModelError(ValueError):
    pass


def read_model(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model file: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ModelError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("parks"), list):
        raise ModelError(f"{path}: expected a mapping with a 'parks' list")
    for park in data["parks"]:
        plan = park.get("plan") if isinstance(park, dict) else None
        if isinstance(plan, str) and not plan.lstrip().startswith("<"):  # a file beside the model
            try:
                park["plan"] = (path.parent / plan).read_text(encoding="utf-8")
            except OSError as exc:
                raise ModelError(f"{path}: cannot read the plan {plan!r}: {exc.strerror or exc}") from exc
    return data


def _require(entry: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in entry or entry[key] in (None, ""):
        raise ModelError(f"{where}: missing {key!r}")
    return entry[key]


def device_metric_codes(device: Mapping[str, Any], where: str) -> list[str]:
    kind = _require(device, "kind", where)
    if "metrics" in device:
        codes = list(device["metrics"])
    elif kind in DEVICE_KINDS:
        codes = list(DEVICE_KINDS[kind])
    else:
        raise ModelError(f"{where}: unknown device kind {kind!r} and no 'metrics' list")
    unknown = [c for c in codes if c not in BY_CODE]
    if unknown:
        raise ModelError(f"{where}: unknown metric(s) {unknown}")
    return codes


def iter_gateways(model: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    for park in model["parks"]:
        for ent in park.get("enterprises", []):
            for gw in ent.get("gateways", []):
                yield park, ent, gw


def gateway_username(park: Mapping[str, Any], ent: Mapping[str, Any], gw: Mapping[str, Any]) -> str:
    return str(gw.get("username") or f"{park['code']}.{ent['code']}.{gw['code']}")


def broker_accounts(model: Mapping[str, Any]) -> list[Account]:
    """Broker accounts of the gateways (and of devices that connect on their own)."""
    from smartpark.broker_admin import Account

    accounts = []
    for park in model["parks"]:
        for ent in park.get("enterprises", []):
            for gw in ent.get("gateways", []):
                if gw.get("password"):
                    accounts.append(
                        Account(gateway_username(park, ent, gw), str(gw["password"]), park["code"], ent["code"])
                    )
            for dev in ent.get("devices", []):
                if dev.get("password"):
                    user = str(dev.get("username") or f"{park['code']}.{ent['code']}.{dev['code']}")
                    accounts.append(Account(user, str(dev["password"]), park["code"], ent["code"]))
    seen: set[str] = set()
    for a in accounts:
        # one account per name: a second entry would reset the first one's password
        if a.username in seen:
            raise ModelError(f"broker user {a.username!r} is given to more than one gateway or device")
        seen.add(a.username)
    return accounts


@dataclass(frozen=True, slots=True)
class LoadSummary:
    parks: int
    enterprises: int
    gateways: int
    devices: int
    broker_accounts: int


def load_model(
    conn: psycopg.Connection[Any], model: Mapping[str, Any], *, broker: BrokerAdmin | None = None
) -> LoadSummary:
    """Upsert the model's rows (in the caller's transaction) and, given a broker, its accounts."""
    accounts = broker_accounts(model)  # refuses a model that names one account twice
    counts = {"parks": 0, "enterprises": 0, "gateways": 0, "devices": 0}
    with conn.cursor() as cur:
        for pi, park in enumerate(model["parks"]):
            where = f"parks[{pi}]"
            park_id = _upsert_park(cur, park, where)
            counts["parks"] += 1
            for ei, ent in enumerate(park.get("enterprises", [])):
                ewhere = f"{where}.enterprises[{ei}]"
                ent_id = _upsert_enterprise(cur, park_id, ent, ewhere)
                counts["enterprises"] += 1
                for gi, gw in enumerate(ent.get("gateways", [])):
                    gwhere = f"{ewhere}.gateways[{gi}]"
                    gw_id = _one(
                        cur,
                        "INSERT INTO gateways (enterprise_id, code, mqtt_username, attributes)"
                        " VALUES (%s, %s, %s, %s) ON CONFLICT (enterprise_id, code) DO UPDATE SET"
                        " mqtt_username = excluded.mqtt_username, attributes = excluded.attributes"
                        " RETURNING gateway_id",
                        (
                            ent_id,
                            _require(gw, "code", gwhere),
                            gateway_username(park, ent, gw),
                            Jsonb(gw.get("attributes") or {}),
                        ),
                    )
                    counts["gateways"] += 1
                    for di, dev in enumerate(gw.get("devices", [])):
                        _upsert_device(cur, ent_id, gw_id, dev, f"{gwhere}.devices[{di}]")
                        counts["devices"] += 1
                for di, dev in enumerate(ent.get("devices", [])):
                    _upsert_device(cur, ent_id, None, dev, f"{ewhere}.devices[{di}]")
                    counts["devices"] += 1
    given = broker.ensure_gateways(accounts) if broker is not None else 0
    return LoadSummary(broker_accounts=given, **counts)


def _one(cur: psycopg.Cursor[Any], sql: str, params: Mapping[str, Any] | tuple[Any, ...]) -> int:
    cur.execute(sql, params)
    row = cur.fetchone()
    assert row is not None
    return int(row[0])


def park_plan_svg(park: Mapping[str, Any], where: str) -> str:
    """The park's plan: the model's own SVG, else one generated from its enterprises' zones."""
    plan = park.get("plan")
    svg = plan if isinstance(plan, str) else park_plan.generate(park_plan.plot_specs(park))
    try:
        park_plan.check(svg)
    except park_plan.PlanError as exc:
        raise ModelError(f"{where}.plan: {exc}") from exc
    return svg


def _upsert_park(cur: psycopg.Cursor[Any], park: Mapping[str, Any], where: str) -> int:
    return _one(
        cur,
        "INSERT INTO parks (code, name, timezone, grid_region, land_area_mu, attributes, plan_svg)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
        " timezone = excluded.timezone, grid_region = excluded.grid_region,"
        " land_area_mu = excluded.land_area_mu, attributes = excluded.attributes,"
        " plan_svg = excluded.plan_svg RETURNING park_id",
        (
            _require(park, "code", where),
            park.get("name") or park["code"],
            park.get("timezone") or "Asia/Shanghai",
            park.get("grid_region") or "national",
            park.get("land_area_mu"),
            Jsonb(park.get("attributes") or {}),
            park_plan_svg(park, where),
        ),
    )


def _upsert_enterprise(cur: psycopg.Cursor[Any], park_id: int, ent: Mapping[str, Any], where: str) -> int:
    return _one(
        cur,
        "INSERT INTO enterprises (park_id, code, name, industry, land_area_mu, attributes)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (park_id, code) DO UPDATE SET"
        " name = excluded.name, industry = excluded.industry, land_area_mu = excluded.land_area_mu,"
        " attributes = excluded.attributes RETURNING enterprise_id",
        (
            park_id,
            _require(ent, "code", where),
            ent.get("name") or ent["code"],
            ent.get("industry") or "other",
            ent.get("land_area_mu"),
            Jsonb(ent.get("attributes") or {}),
        ),
    )


def _upsert_device(
    cur: psycopg.Cursor[Any], ent_id: int, gw_id: int | None, dev: Mapping[str, Any], where: str
) -> None:
    codes = device_metric_codes(dev, where)
    dev_id = _one(
        cur,
        "INSERT INTO devices (enterprise_id, gateway_id, code, kind, name, zone, mqtt_username, attributes)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (enterprise_id, code) DO UPDATE SET"
        " gateway_id = excluded.gateway_id, kind = excluded.kind, name = excluded.name,"
        " zone = excluded.zone, mqtt_username = excluded.mqtt_username,"
        " attributes = excluded.attributes RETURNING device_id",
        (
            ent_id,
            gw_id,
            _require(dev, "code", where),
            dev["kind"],
            dev.get("name") or "",
            dev.get("zone") or "",
            dev.get("username"),
            Jsonb(dev.get("attributes") or {}),
        ),
    )
    _replace_device_metrics(cur, dev_id, [BY_CODE[c].id for c in codes])


def _replace_device_metrics(cur: psycopg.Cursor[Any], device_id: int, metric_ids: list[int]) -> None:
    cur.execute(
        "DELETE FROM device_metrics WHERE device_id = %s AND NOT (metric_id = ANY(%s))", (device_id, metric_ids)
    )
    cur.executemany(
        "INSERT INTO device_metrics (device_id, metric_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        [(device_id, i) for i in metric_ids],
    )


# -- single rows, as the API's admin routes write them: a duplicate code is an error there (the
# caller maps the UniqueViolation), where loading a model file updates the existing row.
Row = dict[str, Any]


def _new_id(conn: psycopg.Connection[Any], sql: str, params: Mapping[str, Any] | tuple[Any, ...]) -> int:
    """The id an INSERT ... RETURNING yields, whatever row factory the caller's connection has."""
    with conn.cursor(row_factory=tuple_row) as cur:
        return _one(cur, sql, params)


def insert_park(conn: psycopg.Connection[Any], *, values: Row) -> int:
    return _new_id(
        conn,
        "INSERT INTO parks (code, name, timezone, grid_region, land_area_mu, attributes)"
        " VALUES (%(code)s, %(name)s, %(timezone)s, %(grid_region)s, %(land_area_mu)s,"
        " %(attributes)s) RETURNING park_id",
        {**values, "attributes": Jsonb(values.get("attributes") or {})},
    )


def insert_enterprise(conn: psycopg.Connection[Any], *, values: Row) -> int:
    return _new_id(
        conn,
        "INSERT INTO enterprises (park_id, code, name, industry, land_area_mu, attributes)"
        " VALUES (%(park_id)s, %(code)s, %(name)s, %(industry)s, %(land_area_mu)s, %(attributes)s)"
        " RETURNING enterprise_id",
        {**values, "attributes": Jsonb(values.get("attributes") or {})},
    )


def insert_gateway(
    conn: psycopg.Connection[Any], *, enterprise_id: int, code: str, username: str, attributes: Row
) -> int:
    return _new_id(
        conn,
        "INSERT INTO gateways (enterprise_id, code, mqtt_username, attributes)"
        " VALUES (%s, %s, %s, %s) RETURNING gateway_id",
        (enterprise_id, code, username, Jsonb(attributes)),
    )


def insert_device(conn: psycopg.Connection[Any], *, values: Row, metric_ids: list[int]) -> int:
    device_id = _new_id(
        conn,
        "INSERT INTO devices (enterprise_id, gateway_id, code, kind, name, zone, mqtt_username,"
        " attributes) VALUES (%(enterprise_id)s, %(gateway_id)s, %(code)s, %(kind)s, %(name)s,"
        " %(zone)s, %(mqtt_username)s, %(attributes)s) RETURNING device_id",
        {**values, "attributes": Jsonb(values.get("attributes") or {})},
    )
    set_device_metrics(conn, device_id=device_id, metric_ids=metric_ids)
    return device_id


def set_device_metrics(conn: psycopg.Connection[Any], *, device_id: int, metric_ids: list[int]) -> None:
    """The device's metrics become exactly these."""
    with conn.cursor() as cur:
        _replace_device_metrics(cur, device_id, metric_ids)


_UPDATABLE = {
    "parks": ("park_id", {"name", "timezone", "grid_region", "land_area_mu", "attributes"}),
    "enterprises": ("enterprise_id", {"name", "industry", "land_area_mu", "attributes"}),
    "devices": ("device_id", {"name", "zone", "gateway_id", "attributes"}),
}
_NULLABLE = {"land_area_mu", "gateway_id"}


def update_row(conn: psycopg.Connection[Any], *, table: str, id_: int, changes: Row) -> bool:
    """UPDATE of the given columns of a park, enterprise or device; False when there is no such
    row. Table and column names come from the fixed _UPDATABLE list, never from the caller."""
    key, allowed = _UPDATABLE[table]
    # null clears a nullable column (land area, gateway); for the others it means "unchanged"
    cols = [c for c in changes if c in allowed and (changes[c] is not None or c in _NULLABLE)]
    if not cols:
        return conn.execute(f"SELECT 1 FROM {table} WHERE {key} = %s", (id_,)).fetchone() is not None
    params = {c: changes[c] for c in cols if c != "attributes"}
    sets = [f"{c} = %({c})s" for c in params]
    if "attributes" in cols:
        # A JSON merge patch (RFC 7386, top level): given keys replace, null removes, absent keys
        # stay; so a secret such as a logger's password survives an edit that does not name it.
        patch = changes["attributes"]
        params["attr_set"] = Jsonb({k: v for k, v in patch.items() if v is not None})
        params["attr_drop"] = [k for k, v in patch.items() if v is None]
        sets.append("attributes = (attributes || %(attr_set)s) - %(attr_drop)s::text[]")
    cur = conn.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {key} = %(_id)s", {**params, "_id": id_})
    return cur.rowcount > 0


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    device_id: int
    park_id: int
    enterprise_id: int
    gateway_id: int | None
    park: str
    enterprise: str
    code: str
    kind: str
    zone: str
    metric_ids: frozenset[int]
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Registry lookups by codes as they appear in topics; refreshed by re-fetching."""

    devices: Mapping[tuple[str, str, str], DeviceInfo]  # (park, enterprise, device code)
    gateways: Mapping[tuple[str, str, str], int]  # (park, enterprise, gateway code) -> gateway_id
    by_id: Mapping[int, DeviceInfo]

    @classmethod
    def fetch(cls, conn: psycopg.Connection[Any]) -> Snapshot:
        rows = conn.execute(
            "SELECT d.device_id, p.park_id, e.enterprise_id, d.gateway_id, p.code, e.code, d.code,"
            " d.kind, d.zone, d.attributes,"
            " coalesce(array_agg(dm.metric_id) FILTER (WHERE dm.metric_id IS NOT NULL), '{}')"
            " FROM devices d JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)"
            " LEFT JOIN device_metrics dm USING (device_id) GROUP BY d.device_id, p.park_id, e.enterprise_id"
        ).fetchall()
        devices = {}
        for r in rows:
            info = DeviceInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], frozenset(r[10]), r[9] or {})
            devices[(info.park, info.enterprise, info.code)] = info
        gws = conn.execute(
            "SELECT p.code, e.code, g.code, g.gateway_id FROM gateways g"
            " JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)"
        ).fetchall()
        return cls(
            devices=devices,
            gateways={(a, b, c): gid for a, b, c, gid in gws},
            by_id={d.device_id: d for d in devices.values()},
        )

    def device(self, park: str, enterprise: str, code: str) -> DeviceInfo | None:
        return self.devices.get((park, enterprise, code))
