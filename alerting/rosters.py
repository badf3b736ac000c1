"""Duty rosters (pure): who is on duty at a moment, in the park's time zone.

A roster rotates its members by day or by week, changing at a local hand-off time; overrides
(a person for a local time span) win over everything, then holidays (dates whose shift is
covered by the holiday members, rotating per holiday date), then the rotation. A shift belongs
to the date on which it starts: at 03:00 with an 08:00 hand-off, yesterday's person is on duty.

    {"rotation": "weekly", "handoff": "08:00", "start": "2026-11-30", "members": ["li", "wang"],
     "overrides": [{"start": "2026-12-24T20:00", "end": "2026-12-25T08:00", "member": "zhao"}],
     "holidays": {"dates": ["2027-01-01"], "members": ["chen"]}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerting.rules import RuleError

MAX_MEMBERS = 100
MAX_OVERRIDES = 500
MAX_HOLIDAYS = 400


@dataclass(frozen=True, slots=True)
class Override:
    start: datetime  # naive local time
    end: datetime
    member: str


@dataclass(frozen=True, slots=True)
class Roster:
    rotation: str  # daily | weekly
    handoff: time
    start: date
    members: tuple[str, ...]
    overrides: tuple[Override, ...] = ()
    holiday_dates: tuple[date, ...] = ()
    holiday_members: tuple[str, ...] = ()

    def names(self) -> set[str]:
        return {*self.members, *self.holiday_members, *(o.member for o in self.overrides)}


@dataclass(frozen=True, slots=True)
class OnDuty:
    member: str
    why: str  # override | holiday | rotation
    shift_date: date


def _names(raw: Any, what: str, required: bool) -> tuple[str, ...]:
    if raw is None and not required:
        return ()
    if not isinstance(raw, list) or (required and not raw) or len(raw) > MAX_MEMBERS:
        raise RuleError(f"roster {what} {raw!r} must be a list of 1..{MAX_MEMBERS} contact names")
    if not all(isinstance(n, str) and 0 < len(n) <= 128 for n in raw):
        raise RuleError(f"roster {what} {raw!r}: each must be a contact name")
    return tuple(raw)


def _parse(kind: type[Any], raw: Any, what: str) -> Any:
    try:
        return kind.fromisoformat(raw)
    except (TypeError, ValueError):
        raise RuleError(f"roster {what} {raw!r} is not an ISO {kind.__name__}") from None


def roster_from_dict(raw: Any) -> Roster:
    if not isinstance(raw, Mapping):
        raise RuleError(f"a roster {raw!r} must be a mapping")
    unknown = set(raw) - {"rotation", "handoff", "start", "members", "overrides", "holidays"}
    if unknown:
        raise RuleError(f"roster: unknown keys {sorted(unknown)}")
    rotation = raw.get("rotation", "daily")
    if rotation not in ("daily", "weekly"):
        raise RuleError(f"roster rotation {rotation!r} is not daily or weekly")
    handoff = _parse(time, raw.get("handoff", "08:00"), "handoff")
    start = _parse(date, raw.get("start"), "start")
    members = _names(raw.get("members"), "members", True)
    overrides_raw = raw.get("overrides") or []
    if not isinstance(overrides_raw, list) or len(overrides_raw) > MAX_OVERRIDES:
        raise RuleError(f"roster overrides must be a list of at most {MAX_OVERRIDES}")
    overrides = []
    for o in overrides_raw:
        if not isinstance(o, Mapping) or set(o) != {"start", "end", "member"}:
            raise RuleError(f"roster override {o!r} must have start, end and member")
        ov = Override(
            _parse(datetime, o["start"], "override start"),
            _parse(datetime, o["end"], "override end"),
            _names([o["member"]], "override member", True)[0],
        )
        if ov.start.tzinfo or ov.end.tzinfo or ov.end <= ov.start:
            raise RuleError(f"roster override {o!r}: local times without offset, end after start")
        overrides.append(ov)
    hol = raw.get("holidays") or {}
    if not isinstance(hol, Mapping) or set(hol) - {"dates", "members"}:
        raise RuleError(f"roster holidays {hol!r} must be a mapping of dates and members")
    dates_raw = hol.get("dates") or []
    if not isinstance(dates_raw, list) or len(dates_raw) > MAX_HOLIDAYS:
        raise RuleError(f"roster holiday dates must be a list of at most {MAX_HOLIDAYS}")
    dates = tuple(sorted(_parse(date, d, "holiday") for d in dates_raw))
    holiday_members = _names(hol.get("members"), "holiday members", bool(dates))
    return Roster(rotation, handoff, start, members, tuple(overrides), dates, holiday_members)


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuleError(f"unknown time zone {tz!r}") from None


def on_duty(roster: Roster, at: datetime, tz: str) -> OnDuty:
    """Who is on duty at ``at`` (an aware datetime) in the park's time zone ``tz``."""
    local = at.astimezone(zone(tz)).replace(tzinfo=None)
    shift = local.date() - timedelta(days=1) if local.time() < roster.handoff else local.date()
    for o in roster.overrides:
        if o.start <= local < o.end:
            return OnDuty(o.member, "override", shift)
    if shift in roster.holiday_dates and roster.holiday_members:
        i = roster.holiday_dates.index(shift)
        return OnDuty(roster.holiday_members[i % len(roster.holiday_members)], "holiday", shift)
    days = (shift - roster.start).days
    n = days // 7 if roster.rotation == "weekly" else days
    return OnDuty(roster.members[n % len(roster.members)], "rotation", shift)
