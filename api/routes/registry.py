"""Parks, enterprises, gateways, devices and metrics: scoped reads, admin writes, provisioning."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from fastapi import APIRouter, Query, Request, status

from api.auth import Principal
from api.deps import AdminPrincipal, CurrentPrincipal, DbConn, Id, OptId, Paging
from api.problems import BadRequest, Conflict, NotFound, Unavailable, found
from api.queries import registry as q
from api.schemas.common import PageOut, paged
from api.schemas.registry import (
    Credentials,
    DeviceIn,
    DeviceOut,
    DevicePatch,
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePatch,
    GatewayIn,
    GatewayOut,
    MetricOut,
    ParkIn,
    ParkOut,
    ParkPatch,
    ProvisionedDeviceOut,
    ProvisionedGatewayOut,
)
from smartpark import registry
from smartpark.catalogue import BY_CODE, DEVICE_KINDS

router = APIRouter(tags=["registry"])
T = TypeVar("T")
Kind = Annotated[str | None, Query(max_length=64)]
Industry = Annotated[str | None, Query(max_length=64)]


def _check_timezone(name: str | None) -> None:
    if name is None:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest(f"unknown time zone {name!r}") from exc


def _metric_ids(kind: str, codes: list[str] | None) -> list[int]:
    if codes is None:
        if kind not in DEVICE_KINDS:
            raise BadRequest(
                f"unknown device kind {kind!r}; give its metrics explicitly",
                known_kinds=sorted(DEVICE_KINDS),
            )
        codes = list(DEVICE_KINDS[kind])
    unknown = [c for c in codes if c not in BY_CODE]
    if unknown:
        raise BadRequest(f"unknown metric(s) {unknown}")
    return sorted({BY_CODE[c].id for c in codes})


def _provision(request: Request, *, username: str, park: str, enterprise: str) -> Credentials:
    """Create the broker account in the same request; a broker failure rolls the rows back."""
    from smartpark.broker_admin import Account, BrokerAdminError

    password = secrets.token_urlsafe(24)
    try:
        with request.app.state.broker_factory() as broker:
            broker.ensure_gateways([Account(username, password, park, enterprise)])
    except (BrokerAdminError, OSError, ConnectionError) as exc:
        raise Unavailable(f"broker account {username!r} could not be created: {exc}") from exc
    return Credentials(username=username, password=password)


def _enterprise_and_park(conn: DbConn, p: Principal, enterprise_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    ent = found(q.get_enterprise(conn, p, enterprise_id=enterprise_id), f"no enterprise {enterprise_id}")
    park = found(q.get_park(conn, p, park_id=ent["park_id"]), f"no park {ent['park_id']}")
    return ent, park


def _check_gateway(conn: DbConn, p: Principal, gateway_id: int, enterprise_id: int) -> None:
    """A device's gateway must be visible to the caller and belong to the device's enterprise."""
    gw = found(q.get_gateway(conn, p, gateway_id=gateway_id), f"no gateway {gateway_id}")
    if gw["enterprise_id"] != enterprise_id:
        raise BadRequest(f"gateway {gateway_id} belongs to another enterprise")


def _insert_unique(conn: DbConn, insert: Callable[[], T], conflict: str) -> T:
    """``insert`` in one transaction (a broker account made in it too: a broker failure rolls the
    row back); a duplicate code answers 409 with ``conflict``."""
    try:
        with conn.transaction():
            return insert()
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(conflict) from exc


# --- parks ----------------------------------------------------------------------------------


@router.get("/parks", response_model=PageOut[ParkOut], summary="parks visible to the caller")
def list_parks(conn: DbConn, p: CurrentPrincipal, page: Paging) -> dict[str, Any]:
    return paged(q.list_parks(conn, p, limit=page.limit, offset=page.offset), page.limit, page.offset)


@router.get("/parks/{park_id}", response_model=ParkOut, responses={404: {}})
def get_park(park_id: Id, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    return found(q.get_park(conn, p, park_id=park_id), f"no park {park_id}")


@router.post("/parks", response_model=ParkOut, status_code=status.HTTP_201_CREATED)
def create_park(body: ParkIn, conn: DbConn, p: AdminPrincipal) -> dict[str, Any]:
    _check_timezone(body.timezone)
    park_id = _insert_unique(
        conn, lambda: registry.insert_park(conn, values=body.model_dump()), f"park {body.code!r} exists"
    )
    return found(q.get_park(conn, p, park_id=park_id), f"no park {park_id}")


@router.patch("/parks/{park_id}", response_model=ParkOut, responses={404: {}})
def update_park(park_id: Id, body: ParkPatch, conn: DbConn, p: AdminPrincipal) -> dict[str, Any]:
    _check_timezone(body.timezone)
    if not registry.update_row(conn, table="parks", id_=park_id, changes=body.model_dump(exclude_unset=True)):
        raise NotFound(f"no park {park_id}")
    return found(q.get_park(conn, p, park_id=park_id), f"no park {park_id}")


# --- enterprises ------------------------------------------------------------------------------


@router.get("/enterprises", response_model=PageOut[EnterpriseOut])
def list_enterprises(
    conn: DbConn,
    p: CurrentPrincipal,
    page: Paging,
    park_id: OptId = None,
    industry: Industry = None,
) -> dict[str, Any]:
    rows = q.list_enterprises(conn, p, park_id=park_id, industry=industry, limit=page.limit, offset=page.offset)
    return paged(rows, page.limit, page.offset)


@router.get("/enterprises/{enterprise_id}", response_model=EnterpriseOut, responses={404: {}})
def get_enterprise(enterprise_id: Id, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    return found(q.get_enterprise(conn, p, enterprise_id=enterprise_id), f"no enterprise {enterprise_id}")


@router.post("/enterprises", response_model=EnterpriseOut, status_code=status.HTTP_201_CREATED)
def create_enterprise(body: EnterpriseIn, conn: DbConn, p: AdminPrincipal) -> dict[str, Any]:
    found(q.get_park(conn, p, park_id=body.park_id), f"no park {body.park_id}")
    ent_id = _insert_unique(
        conn,
        lambda: registry.insert_enterprise(conn, values=body.model_dump()),
        f"enterprise {body.code!r} exists in park {body.park_id}",
    )
    return found(q.get_enterprise(conn, p, enterprise_id=ent_id), f"no enterprise {ent_id}")


@router.patch("/enterprises/{enterprise_id}", response_model=EnterpriseOut, responses={404: {}})
def update_enterprise(enterprise_id: Id, body: EnterprisePatch, conn: DbConn, p: AdminPrincipal) -> dict[str, Any]:
    if not registry.update_row(
        conn, table="enterprises", id_=enterprise_id, changes=body.model_dump(exclude_unset=True)
    ):
        raise NotFound(f"no enterprise {enterprise_id}")
    return found(q.get_enterprise(conn, p, enterprise_id=enterprise_id), f"no enterprise {enterprise_id}")


# --- gateways ---------------------------------------------------------------------------------


@router.get("/gateways", response_model=PageOut[GatewayOut])
def list_gateways(
    conn: DbConn,
    p: CurrentPrincipal,
    page: Paging,
    enterprise_id: OptId = None,
    park_id: OptId = None,
) -> dict[str, Any]:
    rows = q.list_gateways(conn, p, enterprise_id=enterprise_id, park_id=park_id, limit=page.limit, offset=page.offset)
    return paged(rows, page.limit, page.offset)


@router.get("/gateways/{gateway_id}", response_model=GatewayOut, responses={404: {}})
def get_gateway(gateway_id: Id, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    return found(q.get_gateway(conn, p, gateway_id=gateway_id), f"no gateway {gateway_id}")


@router.post(
    "/gateways",
    response_model=ProvisionedGatewayOut,
    status_code=status.HTTP_201_CREATED,
    summary="create a gateway and its broker account (the password is shown once)",
)
def create_gateway(body: GatewayIn, request: Request, conn: DbConn, p: AdminPrincipal) -> dict[str, Any]:
    ent, park = _enterprise_and_park(conn, p, body.enterprise_id)
    username = f"{park['code']}.{ent['code']}.{body.code}"
    gw_id, creds = _insert_unique(
        conn,
        lambda: (
            registry.insert_gateway(
                conn,
                enterprise_id=ent["enterprise_id"],
                code=body.code,
                username=username,
                attributes=body.attributes,
            ),
            _provision(request, username=username, park=park["code"], enterprise=ent["code"]),
        ),
        f"gateway {body.code!r} or broker user {username!r} exists",
    )
    row = found(q.get_gateway(conn, p, gateway_id=gw_id), f"no gateway {gw_id}")
    return {**row, "credentials": creds}


# --- devices ----------------------------------------------------------------------------------


@router.get("/devices", response_model=PageOut[DeviceOut])
def list_devices(
    conn: DbConn,
    p: CurrentPrincipal,
    page: Paging,
    park_id: OptId = None,
    enterprise_id: OptId = None,
    gateway_id: OptId = None,
    kind: Kind = None,
) -> dict[str, Any]:
    rows = q.list_devices(
        conn,
        p,
        park_id=park_id,
        enterprise_id=enterprise_id,
        gateway_id=gateway_id,
        kind=kind,
        limit=page.limit,
        offset=page.offset,
    )
    return paged(rows, page.limit, page.offset)


@router.get("/devices/{device_id}", response_model=DeviceOut, responses={404: {}})
def get_device(device_id: Id, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    return found(q.get_device(conn, p, device_id=device_id), f"no device {device_id}")


@router.post(
    "/devices",
    response_model=ProvisionedDeviceOut,
    status_code=status.HTTP_201_CREATED,
    summary="provision a device (optionally with its own broker account)",
)
def create_device(body: DeviceIn, request: Request, conn: DbConn, p: AdminPrincipal) -> dict[str, Any]:
    ent, park = _enterprise_and_park(conn, p, body.enterprise_id)
    if body.gateway_id is not None:
        _check_gateway(conn, p, body.gateway_id, ent["enterprise_id"])
    metric_ids = _metric_ids(body.kind, body.metrics)
    username = f"{park['code']}.{ent['code']}.{body.code}" if body.credentials else None
    values = body.model_dump(exclude={"metrics", "credentials"}) | {"mqtt_username": username}
    dev_id, creds = _insert_unique(
        conn,
        lambda: (
            registry.insert_device(conn, values=values, metric_ids=metric_ids),
            None
            if username is None
            else _provision(request, username=username, park=park["code"], enterprise=ent["code"]),
        ),
        f"device {body.code!r} exists in enterprise {body.enterprise_id}"
        + (f", or broker user {username!r} is taken" if username else ""),
    )
    row = found(q.get_device(conn, p, device_id=dev_id), f"no device {dev_id}")
    return {**row, "credentials": creds}


@router.patch("/devices/{device_id}", response_model=DeviceOut, responses={404: {}})
def update_device(device_id: Id, body: DevicePatch, conn: DbConn, p: AdminPrincipal) -> dict[str, Any]:
    current = found(q.get_device(conn, p, device_id=device_id), f"no device {device_id}")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("gateway_id") is not None:
        _check_gateway(conn, p, changes["gateway_id"], current["enterprise_id"])
    with conn.transaction():
        registry.update_row(conn, table="devices", id_=device_id, changes=changes)
        if body.metrics is not None:
            registry.set_device_metrics(
                conn, device_id=device_id, metric_ids=_metric_ids(current["kind"], body.metrics)
            )
    return found(q.get_device(conn, p, device_id=device_id), f"no device {device_id}")


# --- metrics ----------------------------------------------------------------------------------


@router.get("/metrics", response_model=list[MetricOut], summary="the metric catalogue")
def list_metrics(conn: DbConn, p: CurrentPrincipal) -> list[dict[str, Any]]:
    return q.list_metrics(conn, p)
