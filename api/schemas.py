"""Request and response bodies of the API (pydantic), shared by the routes and the OpenAPI
schema."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from api.auth import Bureau, Role

T = TypeVar("T")

Code = Field(
    pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", description="stable code, [A-Za-z0-9_.-]"
)
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
    return {
        "items": rows[:limit],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


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
    grid_region: Literal[
        "north", "northeast", "east", "central", "northwest", "south", "southwest", "national"
    ] = "national"
    land_area_mu: float | None = Area
    attributes: dict[str, Any] = Field(default_factory=dict)


class ParkPatch(In):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    grid_region: (
        Literal[
            "north", "northeast", "east", "central", "northwest", "south", "southwest", "national"
        ]
        | None
    ) = None
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
    metrics: list[str] | None = Field(
        default=None, max_length=64, description="metric codes; default: the kind's metrics"
    )
    attributes: dict[str, Any] = Field(default_factory=dict)
    credentials: bool = Field(
        default=False,
        description="create broker credentials for a device"
        " that connects on its own (not through a gateway)",
    )


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


# --- telemetry ----------------------------------------------------------------------------


class LatestOut(Out):
    device_id: int
    device: str
    kind: str
    enterprise_id: int
    park_id: int
    metric: str
    unit: str
    category: str
    ts: datetime
    value: float
    flag: int


class SeriesOut(Out):
    device_id: int
    metric: str
    unit: str
    aggregate: str | None = Field(description="null for raw readings")
    ts: list[int] = Field(description="epoch milliseconds: bucket starts (reading times for raw)")
    values: list[float | None]
    flags: list[int] | None = Field(default=None, description="data-quality flags of raw readings")
    truncated: bool = Field(description="true when the point cap cut the series")


class SeriesResponse(Out):
    interval: str
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    series: list[SeriesOut]
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


# --- alarms -------------------------------------------------------------------------------

AlarmState = Literal["pending", "firing", "resolved", "cancelled"]
Severity = Literal["critical", "major", "minor", "warning"]
AlarmCategory = Literal["safety", "emissions", "environment", "energy"]


class AlarmOut(Out):
    alert_id: int
    rule_id: str
    park_id: int
    enterprise_id: int | None
    device_id: int | None
    gateway_id: int | None
    metric: str
    severity: str
    category: str
    state: str
    labels: dict[str, Any]
    summary: str
    trigger_value: float | None
    value: float | None
    started_at: datetime
    firing_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    assignee: str | None
    assigned_at: datetime | None
    updated_at: datetime


class AlarmEventOut(Out):
    event_id: int
    at: datetime
    kind: str
    by: str
    comment: str
    value: float | None


class AlarmDetailOut(AlarmOut):
    events: list[AlarmEventOut]


class CommentIn(In):
    comment: str = Field(default="", max_length=4000)


class AssignIn(In):
    assignee: str = Field(min_length=1, max_length=128)
    comment: str = Field(default="", max_length=4000)


class AlarmCountOut(Out):
    severity: str
    category: str
    state: str
    n: int
    unacknowledged: int


# --- rules, silences, receivers -----------------------------------------------------------


class RuleOut(Out):
    rule_id: str
    definition: dict[str, Any]
    metric: str
    severity: str
    category: str
    enabled: bool
    updated_at: datetime
    updated_by: str


class SilenceIn(In):
    matchers: list[str] = Field(
        min_length=1, max_length=50, description="label matchers: park=demo, alertname=~lel-.*"
    )
    starts_at: datetime | None = Field(default=None, description="default: now")
    ends_at: datetime
    comment: str = Field(default="", max_length=2000)


class SilenceOut(Out):
    silence_id: int
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    created_at: datetime


class ReceiverIn(In):
    name: str = Field(min_length=1, max_length=128)
    park_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="null: every park (admins only)"
    )
    categories: list[AlarmCategory] = Field(min_length=1, max_length=4)
    channel: Literal["webhook", "mqtt"]
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    group_by: list[str] = Field(
        default_factory=lambda: ["park", "category", "alertname"], max_length=10
    )
    group_wait_s: float = Field(default=0, ge=0, le=3600)
    group_interval_s: float = Field(default=30, ge=0, le=86400)
    repeat_interval_s: float = Field(default=14400, ge=60, le=604800)
    enabled: bool = True


class ReceiverPatch(In):
    categories: list[AlarmCategory] | None = Field(default=None, min_length=1, max_length=4)
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    group_by: list[str] | None = Field(default=None, max_length=10)
    group_wait_s: float | None = Field(default=None, ge=0, le=3600)
    group_interval_s: float | None = Field(default=None, ge=0, le=86400)
    repeat_interval_s: float | None = Field(default=None, ge=60, le=604800)
    enabled: bool | None = None


class ReceiverOut(Out):
    receiver_id: int
    name: str
    park_id: int | None
    categories: list[str]
    channel: str
    url: str | None
    has_secret: bool
    group_by: list[str]
    group_wait_s: float
    group_interval_s: float
    repeat_interval_s: float
    enabled: bool
    created_at: datetime


class RejectedOut(Out):
    received_at: datetime
    topic: str
    reason_code: str
    reason: str
    device: str | None
    metric: str | None
    device_id: int | None
    enterprise_id: int | None
    park_id: int | None
    excerpt: str


# --- statistics ---------------------------------------------------------------------------


class AqiOut(Out):
    aqi: int
    level: int
    category: str
    category_en: str
    primary: list[str]
    iaqi: dict[str, int]


class EvaluationOut(Out):
    park_class: int = Field(description="Article 12: 1, 2, or 0 below class 2")
    score: float | None = Field(description="0-100 among ranked (class 1 and 2) parks")
    rank: int | None
    ranked_parks: int
    rewarded: bool
    penalised: bool


class StatOut(Out):
    period: date = Field(description="first day of the day, month or year (park's calendar)")
    readings: int
    energy: dict[str, float | None] | None = Field(
        description="null when the caller may not read energy"
    )
    emissions: dict[str, float | None] | None
    economic: dict[str, float | None] | None = Field(description="monthly and yearly only")
    intensities: dict[str, float | None] | None
    aqi: AqiOut | None = None
    evaluation: EvaluationOut | None = None


class StatsResponse(Out):
    subject: Literal["park", "enterprise"]
    id: int
    period: Literal["day", "month", "year"]
    rows: list[StatOut]


class ParkEvaluationOut(EvaluationOut):
    park_id: int
    code: str
    name: str
    year: int


class EconomicIn(In):
    output_value: float | None = Field(default=None, ge=0, le=1e12, description="10⁴ yuan")
    value_added: float | None = Field(default=None, ge=-1e12, le=1e12)
    tax: float | None = Field(default=None, ge=-1e12, le=1e12)
    fixed_asset_investment: float | None = Field(default=None, ge=0, le=1e12)
    employees: int | None = Field(default=None, ge=0, le=10_000_000)


class EconomicImportRow(EconomicIn):
    enterprise_id: int = Id32
    month: date


class EconomicImportIn(In):
    source: str = Field(default="api import", max_length=200)
    reports: list[EconomicImportRow] = Field(min_length=1, max_length=5000)


class EconomicOut(Out):
    enterprise_id: int
    park_id: int
    month: date
    output_value: float | None
    value_added: float | None
    tax: float | None
    fixed_asset_investment: float | None
    employees: int | None
    source: str
    imported_at: datetime


class OverviewOut(Out):
    park_id: int | None
    enterprises: int
    devices: int
    devices_reporting: int = Field(description="devices with a reading in the last 15 minutes")
    open_alarms: dict[str, int] = Field(description="open alarms per severity")
    unacknowledged_alarms: int
    today: StatOut | None = Field(description="the park's indicators of its current local day")
    latest_alarms: list[AlarmOut]


def encoded(model: type[BaseModel], data: Any) -> bytes:
    """Validate once and encode in pydantic-core; FastAPI would validate a returned dict again."""
    return model.model_validate(data).model_dump_json(by_alias=True).encode()


def json_response(body: bytes) -> Any:
    from fastapi.responses import Response

    return Response(body, media_type="application/json")


def fast_json(model: type[BaseModel], data: Any) -> Any:
    """The route keeps ``response_model`` for the OpenAPI schema; hot routes return this instead."""
    return json_response(encoded(model, data))
