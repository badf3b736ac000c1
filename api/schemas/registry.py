"""Parks, enterprises, gateways, devices and the metric catalogue."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.schemas.common import CODE_RE, Id32, In, Out

PARK_CODE_RE = r"^[a-z0-9][a-z0-9-]{0,62}$"
Area = Field(default=None, ge=0, le=1e9)
MergePatch = Field(
    default=None,
    description="merged into the stored attributes: a key given replaces, a key set to null is removed,"
    " a key left out (a logger's hj212_pw, say) is kept",
)


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
    grid_region: Literal["north", "northeast", "east", "central", "northwest", "south", "southwest", "national"] = (
        "national"
    )
    land_area_mu: float | None = Area
    attributes: dict[str, Any] = Field(default_factory=dict)


class ParkPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    grid_region: (
        Literal["north", "northeast", "east", "central", "northwest", "south", "southwest", "national"] | None
    ) = None
    land_area_mu: float | None = Area
    attributes: dict[str, Any] | None = MergePatch


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
    attributes: dict[str, Any] | None = MergePatch


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
    metrics: list[str] | None = Field(
        default=None, max_length=64, description="metric codes; default: the kind's metrics"
    )
    attributes: dict[str, Any] = Field(default_factory=dict)
    credentials: bool = Field(
        default=False,
        description="create broker credentials for a device that connects on its own (not through a gateway)",
    )


class DevicePatch(In):
    name: str | None = Field(default=None, max_length=200)
    zone: str | None = Field(default=None, max_length=64)
    gateway_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    metrics: list[str] | None = Field(default=None, max_length=64)
    attributes: dict[str, Any] | None = MergePatch


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
    name_zh: str = Field(description="display name in Chinese")
    name_en: str = Field(description="display name in English")
