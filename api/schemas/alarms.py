"""Alarms, their events and the actions on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from api.schemas.common import In, Out

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
