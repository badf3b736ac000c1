"""Latest readings, time series and the readings ingest refused."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from api.schemas.common import Out


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
