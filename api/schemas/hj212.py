"""Data loggers seen from the HJ 212 server: their clocks."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import Out


class LoggerClockOut(Out):
    device_id: int
    device: str
    enterprise: str
    park: str
    mn: str | None = Field(description="the data logger's MN")
    checked_at: datetime = Field(description="when the logger last answered a time query (CN 1011)")
    skew_s: float = Field(description="the logger's time minus the platform's then, seconds (±1 s resolution)")
    set_at: datetime | None = Field(description="when the logger last confirmed a time setting (CN 1012)")
    set_skew_s: float | None = Field(description="the skew that setting corrected, seconds")
    sets: int = Field(description="time settings confirmed so far")
