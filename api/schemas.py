"""Request and response bodies of the API (pydantic), shared by the routes and the OpenAPI schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from api.auth import Bureau, Role

T = TypeVar("T")

Code = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", description="stable code, [A-Za-z0-9_.-]")
Text = Field(min_length=1, max_length=200)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PageOut(Out, Generic[T]):
    items: list[T]
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last page")


def paged(rows: list[Any], limit: int, offset: int) -> dict[str, Any]:
    """Build a page from ``limit + 1`` fetched rows (see ``queries.scope.page``)."""
    more = len(rows) > limit
    return {"items": rows[:limit], "limit": limit, "offset": offset,
            "next_offset": offset + limit if more else None}


# --- auth ---------------------------------------------------------------------------------


class TokenOut(Out):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: int = Field(description="epoch seconds")


class PrincipalOut(Out):
    user_id: int
    name: str
    role: Role
    park_id: int | None
    enterprise_id: int | None
    bureaus: list[Bureau]
    categories: list[str]


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    role: Role
    park_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    enterprise_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    bureaus: list[Bureau] = Field(default_factory=list, max_length=2)


class UserOut(Out):
    user_id: int
    name: str
    role: Role
    park_id: int | None
    enterprise_id: int | None
    bureaus: list[Bureau]
    created_at: datetime
    disabled_at: datetime | None


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(default="", max_length=200)
    expires_at: datetime | None = None


class KeyOut(Out):
    key_id: int
    user_id: int
    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewKeyOut(Out):
    key_id: int
    user_id: int
    prefix: str
    key: str = Field(description="shown once; only its sha256 is stored")


# --- health -------------------------------------------------------------------------------


class HealthOut(Out):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


DateLike = date | datetime


# --- registry -----------------------------------------------------------------------------

CODE_RE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"
PARK_CODE_RE = r"^[a-z0-9][a-z0-9-]{0,62}$"
Id32 = Field(ge=1, le=2**31 - 1)
Area = Field(default=None, ge=0, le=1e9)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParkOut(Out):
    park_id: int
    code: str
    name: str
    timezone: str
    grid_region: str
    land_area_mu: float | None
    attributes: dict[str, Any]


class ParkIn(In):
    code: str = Field(pattern=PARK_CODE_RE)
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="Asia/Shanghai", max_length=64)
    grid_region: Literal["north", "northeast", "east", "central", "northwest", "south", "southwest",
                         "national"] = "national"
    land_area_mu: float | None = Area
    attributes: dict[str, Any] = Field(default_factory=dict)


class ParkPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    grid_region: Literal["north", "northeast", "east", "central", "northwest", "south", "southwest",
                         "national"] | None = None
    land_area_mu: float | None = Area
    attributes: dict[str, Any] | None = None


class EnterpriseOut(Out):
    enterprise_id: int
    park_id: int
    code: str
    name: str
    industry: str
    land_area_mu: float | None
    attributes: dict[str, Any]


class EnterpriseIn(In):
    park_id: int = Id32
    code: str = Field(pattern=CODE_RE)
    name: str = Field(min_length=1, max_length=200)
    industry: str = Field(default="other", min_length=1, max_length=64)
    land_area_mu: float | None = Area
    attributes: dict[str, Any] = Field(default_factory=dict)


class EnterprisePatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    industry: str | None = Field(default=None, min_length=1, max_length=64)
    land_area_mu: float | None = Area
    attributes: dict[str, Any] | None = None


class GatewayOut(Out):
    gateway_id: int
    enterprise_id: int
    park_id: int
    code: str
    mqtt_username: str
    attributes: dict[str, Any]


class GatewayIn(In):
    enterprise_id: int = Id32
    code: str = Field(pattern=CODE_RE)
    attributes: dict[str, Any] = Field(default_factory=dict)


class Credentials(Out):
    username: str
    password: str = Field(description="shown once; the broker keeps only its hash")


class ProvisionedGatewayOut(GatewayOut):
    credentials: Credentials


class DeviceOut(Out):
    device_id: int
    enterprise_id: int
    park_id: int
    gateway_id: int | None
    code: str
    kind: str
    name: str
    zone: str
    mqtt_username: str | None
    attributes: dict[str, Any]
    metrics: list[str]


class DeviceIn(In):
    enterprise_id: int = Id32
    gateway_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    code: str = Field(pattern=CODE_RE)
    kind: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=200)
    zone: str = Field(default="", max_length=64)
    metrics: list[str] | None = Field(default=None, max_length=64,
                                      description="metric codes; default: the kind's metrics")
    attributes: dict[str, Any] = Field(default_factory=dict)
    credentials: bool = Field(default=False, description="create broker credentials for a device"
                              " that connects on its own (not through a gateway)")


class DevicePatch(In):
    name: str | None = Field(default=None, max_length=200)
    zone: str | None = Field(default=None, max_length=64)
    gateway_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    metrics: list[str] | None = Field(default=None, max_length=64)
    attributes: dict[str, Any] | None = None


class ProvisionedDeviceOut(DeviceOut):
    credentials: Credentials | None = None


class MetricOut(Out):
    metric_id: int
    code: str
    unit: str
    kind: str
    category: str
    min_value: float
    max_value: float
    carrier: str | None
    description: str
