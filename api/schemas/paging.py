"""Contacts, duty rosters, escalation policies, who is on duty, and an alarm's notification log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field

from api.schemas.common import In, Out

ParkId = Field(default=None, ge=1, le=2**31 - 1, description="null: every park (admins only)")


class ContactIn(In):
    name: str = Field(min_length=1, max_length=128)
    park_id: int | None = ParkId
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{5,20}$")


class ContactOut(Out):
    contact_id: int
    park_id: int | None
    name: str
    email: str | None
    phone: str | None
    created_at: datetime


class RosterIn(In):
    name: str = Field(min_length=1, max_length=128)
    park_id: int | None = ParkId
    definition: dict[str, Any] = Field(
        description="rotation daily|weekly, handoff HH:MM, start date, members, overrides, holidays",
        examples=[
            {
                "rotation": "weekly",
                "handoff": "08:00",
                "start": "2026-11-30",
                "members": ["li", "wang"],
                "overrides": [{"start": "2026-12-24T20:00", "end": "2026-12-25T08:00", "member": "zhao"}],
                "holidays": {"dates": ["2027-01-01"], "members": ["chen"]},
            }
        ],
    )


class RosterOut(Out):
    roster_id: int
    park_id: int | None
    name: str
    definition: dict[str, Any]
    updated_at: datetime


class OnDutyOut(Out):
    roster_id: int
    roster: str
    at: datetime
    timezone: str | None = None
    member: str | None = Field(default=None, description="null when the roster no longer validates (why: invalid)")
    why: str = Field(description="override | holiday | rotation | invalid")
    shift_date: date | None = None
    error: str | None = None


class PolicyIn(In):
    name: str = Field(min_length=1, max_length=128)
    park_id: int | None = ParkId
    matchers: list[str] = Field(min_length=1, max_length=50, description="label matchers of the alarms it escalates")
    definition: dict[str, Any] = Field(
        examples=[
            {
                "levels": [
                    {"after_min": 0, "receivers": ["duty-mail", "duty-sms"], "rosters": ["night-duty"]},
                    {"after_min": 10, "receivers": ["duty-sms"], "contacts": ["shift-lead"]},
                    {"after_min": 30, "receivers": ["duty-sms", "ops-dingtalk"], "contacts": ["manager"]},
                ],
                "repeat_min": 15,
            }
        ]
    )
    enabled: bool = True


class PolicyOut(Out):
    policy_id: int
    park_id: int | None
    name: str
    matchers: list[str]
    definition: dict[str, Any]
    enabled: bool
    updated_at: datetime


class AttemptOut(Out):
    attempt_id: int
    at: datetime
    channel: str
    receiver: str | None
    target: str
    result: str = Field(description="ok | error")
    error: str | None
    latency_ms: float
    alarms_in_message: int = Field(description="alarms the message carried (a summary carries several)")


class EscalationOut(Out):
    policy: str
    level: int = Field(description="levels paged so far")
    repeats: int
    started_at: datetime
    next_at: datetime
    done_at: datetime | None
    done_why: str | None


class NotificationLogOut(Out):
    alert_id: int
    attempts: list[AttemptOut]
    escalations: list[EscalationOut]
