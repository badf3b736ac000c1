"""Park and enterprise statistics, economic reports and the ops-centre overview."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from api.schemas.alarms import AlarmOut
from api.schemas.common import Id32, In, Out


class AqiOut(Out):
    aqi: int | None = Field(description='null: "NA" (HJ 633-2026, an item missing and no other above 100)')
    level: int | None
    category: str | None
    category_en: str | None
    primary: list[str]
    iaqi: dict[str, int]
    missing: list[str] = Field(default_factory=list, description="items without a valid concentration (NA)")
    edition: str


class MethodOut(Out):
    applies_from: int = Field(description="first evaluation year the method applies to")
    source: str
    assumption: bool = Field(description="true until the regional office publishes its method (Article 21)")


class EvaluationOut(Out):
    park_class: int = Field(description="Article 12: 1, 2, or 0 below class 2, by the year's output")
    reference: dict[str, float | None] = Field(
        description="Article 12's reference indicators: output and investment per mu, enterprises, tax,"
        " industrial fixed-asset investment"
    )
    designated_class: int | None = Field(description="the class the park was designated (park attribute)")
    below_class_years: int | None = Field(
        description="consecutive years up to this one below the designated class's output (Article 22)"
    )
    downgrade_review: bool = Field(description="three or more such years: downgrade or merge (Article 22)")
    score: float | None = Field(description="0-100 among ranked (class 1 and 2) parks")
    rank: int | None = Field(description="null when not ranked (not class 1 or 2, or fewer than 2 parks)")
    ranked_parks: int
    rewarded: bool = Field(description="top 10 (Article 22); never also penalised")
    penalised: bool = Field(description="bottom 3 among the parks outside the top 10")
    method: MethodOut


class CoverageOut(Out):
    reported: int
    of: int
    unit: Literal["enterprise-months", "enterprises"]


class StatOut(Out):
    period: date = Field(description="first day of the day, month or year (park's calendar)")
    readings: int
    energy: dict[str, float | None] | None = Field(description="null when the caller may not read energy")
    emissions: dict[str, float | None] | None
    tce_by_carrier: dict[str, float | None] | None = Field(
        default=None, description="tce (equivalent value) of each carrier's net consumption; null without energy"
    )
    economic: dict[str, float | None] | None = Field(description="monthly and yearly only")
    intensities: dict[str, float | None] | None = Field(
        description="monthly and yearly: each divides the energy of exactly the enterprises and months"
        " that reported its economic figure (see coverage)"
    )
    coverage: dict[str, CoverageOut] | None = Field(
        default=None, description="per intensity: how many enterprise-months (or enterprises) it covers"
    )
    notes: dict[str, str] = Field(
        default_factory=dict,
        description="per energy figure: 'missing: <why>' when it is null for want of a coefficient, or"
        " the coefficient used and why it is not the data year's own for the park's grid region",
    )
    aqi: AqiOut | None = None
    evaluation: EvaluationOut | None = None
    article_21: dict[str, dict[str, float | None]] | None = Field(
        default=None,
        description="park months and years: the statistics Article 21 requires, by group (total scale,"
        " economic benefit, industrial concentration, science and innovation, input-output intensity,"
        " employment, environmental protection, energy use); null where unknown or not the caller's",
    )
    computed_at: datetime | None = Field(
        default=None,
        description="when this figure was computed (from the data stored by then); a year: its oldest month",
    )


class RankedOut(Out):
    rank: int | None = Field(description="1 for the largest; null without a figure to rank by")
    enterprise_id: int
    code: str
    name: str
    periods: int = Field(description="days or months of the range with indicators")
    readings: int
    energy: dict[str, float | None] | None
    emissions: dict[str, float | None] | None
    tce_by_carrier: dict[str, float | None] | None = None


class RankingResponse(Out):
    park_id: int
    period: Literal["day", "month"]
    start: date = Field(alias="from")
    end: date = Field(alias="to")
    by: str
    total: int  # enterprises ranked and unranked, before any limit
    items: list[RankedOut]


class ParkLoadOut(Out):
    park_id: int
    interval: Literal["15m", "1h"]
    unit: str
    meters: int = Field(description="meters with a value in the busiest bucket")
    ts: list[int] = Field(description="bucket starts, epoch ms")
    values: list[float | None]


class StatsResponse(Out):
    subject: Literal["park", "enterprise"]
    id: int
    period: Literal["day", "month", "year"]
    rows: list[StatOut]
    current_to: datetime | None = Field(
        default=None, description="every figure here is computed from the data stored by this time (the oldest row's)"
    )
    failing_days: list[date] = Field(
        default_factory=list,
        description="days of the park in the range whose figures could not be computed (see GET /health/jobs):"
        " stale or missing here until a retry succeeds",
    )


class JobFailureOut(Out):
    job: Literal["rollups", "indicators"]
    park_id: int
    day: date
    error: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    retry_at: datetime


class JobsOut(Out):
    failures: list[JobFailureOut] = Field(description="(job, park, day) that failed and wait for their retry")


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
    rd_expense: float | None = Field(default=None, ge=0, le=1e12, description="R&D spending, 10⁴ yuan (Article 21)")
    main_products: str | None = Field(default=None, max_length=500, description="main products (主要产品), free text")


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
    rd_expense: float | None
    main_products: str | None = None
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


class ServiceOut(Out):
    service: str
    status: Literal["ok", "stale"]
    last_beat: datetime | None = Field(default=None, description="when its loop last went round; null: never")
    age_s: float | None = None
    lag_s: float | None = Field(default=None, description="how far behind its input it was then")
    stale_after_s: float | None = None


class MissingOut(Out):
    park_id: int
    park: str
    bucket: datetime = Field(description="start of the 15-minute bucket (the readings' own time)")
    judged: int = Field(description="safety readings the alerting service judged")
    stored: int = Field(description="safety readings stored")


class ServicesOut(Out):
    services: list[ServiceOut]
    alarms_missing: list[MissingOut] = Field(
        default_factory=list,
        description="recent closed 15-minute buckets in which storage holds more of a park's safety readings"
        " than the alerting service judged (part of the stream did not reach the alarms); empty: none",
    )
    alarms_stale_since: datetime | Literal["never"] | None = Field(
        description="no alarm is judged since this time (the alerting service's last beat; 'never'); null: live"
    )
    statistics_stale_since: datetime | Literal["never"] | None = Field(
        description="statistics not computed since this time (the scheduler's last beat, or the first failing"
        " day's failure); null: current"
    )
