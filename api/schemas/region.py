"""The regional level: signed package envelopes, the region's results, the park's outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.schemas.common import In, Out
from api.schemas.statistics import MethodOut
from region.package import MAX_PACKAGE_BYTES

PERIOD_RE = r"^20[0-9]{2}(-(0[1-9]|1[0-2]))?$"  # years 2000-2099 (region.package)


class EnvelopeIn(In):
    package: str = Field(
        max_length=MAX_PACKAGE_BYTES,
        description="the package's canonical JSON (sorted keys, no spaces, UTF-8): park, period, revision,"
        " created, nonce, body",
    )
    key_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="first 16 bytes of sha256 of the signing public key")
    signature: str = Field(max_length=200, description="Ed25519 signature of the package's bytes, base64")


class ReceiptOut(Out):
    status: Literal["stored", "already stored"]
    park: str
    period: str
    revision: int


class MissingOut(Out):
    annual: list[str]
    monthly: list[str]


class YearResultOut(Out):
    year: int
    submitted: bool
    park_class: int | None = Field(description="Article 12 by the year's output: 1, 2, 0 below; null not submitted")
    score: float | None
    rank: int | None = Field(description="among the region's class 1 and 2 parks that submitted (Article 22)")
    ranked_parks: int
    rewarded: bool = Field(description="top 10 (Article 22)")
    penalised: bool = Field(description="bottom 3 outside the top 10 (Article 22)")
    below_class_years: int | None = Field(description="consecutive years below the designated class's output")
    downgrade_review: bool = Field(description="three or more such years: downgrade or merge (Article 22)")
    figures: dict[str, float | None]
    method: MethodOut | None


class RegionResultOut(YearResultOut):
    code: str
    name: str
    league: str
    designated_class: int | None
    revision: int | None = Field(description="the annual package's revision ranked")
    trend: list[YearResultOut] = Field(description="the years up to this one, oldest first")
    missing: MissingOut = Field(description="packages due and not received over the trend's years")


class SubmissionOut(Out):
    park_code: str
    period: str
    revision: int
    nonce: str
    created_at: datetime
    received_at: datetime
    digest: str


class OutboxIn(In):
    park_id: int = Field(ge=1, le=2**31 - 1)
    period: str = Field(pattern=PERIOD_RE, description="YYYY (annual) or YYYY-MM (monthly), ended")


class OutboxOut(Out):
    outbox_id: int
    park_code: str
    period: str
    revision: int
    queued_at: datetime
    attempts: int
    next_try_at: datetime
    last_error: str | None
    acknowledged_at: datetime | None
    refused_at: datetime | None
    new: bool | None = Field(default=None, description="on POST: false when the figures are unchanged")


class PublishIn(In):
    year: int = Field(ge=2000, le=2100, description="the evaluation year to rank and freeze")
    years: int = Field(default=5, ge=1, le=10, description="trend years kept with it")


class PublicationOut(Out):
    publication_id: int
    year: int
    published_at: datetime
    method: dict[str, object] | None = Field(description="the evaluation method with its weights, as published")
    results: list[RegionResultOut] = Field(description="the caller's scope of the frozen ranking")
    mail: dict[str, int] | None = Field(default=None, description="on POST: leagues mailed, failed, without receiver")


class MyResultOut(Out):
    park_code: str
    year: int
    publication_id: int
    published_at: datetime
    fetched_at: datetime
    result: dict[str, object] = Field(description="the park's row of the region's publication, as published")
