"""Forwarding to the regulators' platforms: the status of each upstream target."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from api.schemas.common import Out


class TargetStatusOut(Out):
    target_id: int
    name: str
    host: str
    port: int
    version: str = Field(description="HJ 212 edition the target is sent: 2017 or 2025")
    enabled: bool
    connected: bool
    last_connect: datetime | None
    last_reply: datetime | None
    last_error: str | None
    sent: int = Field(description="packets sent since the forwarder started, resends included")
    delivered: int
    resent: int = Field(description="resends after OverTime without a reply (HJ 212-2017 ReCount)")
    status_at: datetime | None = Field(description="when the forwarder last reported; null: never ran")
    outlets: int
    backlog: int = Field(description="packets queued for the target")
    oldest_unsent: datetime | None = Field(description="arrival of the oldest queued packet")
