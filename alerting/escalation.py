"""Escalation policies (pure): who is paged when an alarm stays unacknowledged.

    {"levels": [{"after_min": 0,  "receivers": ["mail", "sms"], "rosters": ["night-duty"]},
                {"after_min": 10, "receivers": ["sms"], "contacts": ["shift-lead"]},
                {"after_min": 30, "receivers": ["sms", "dingtalk-ops"], "contacts": ["manager"]}],
     "repeat_min": 15}

Level 1 is paged when the alarm fires, level n at ``after_min`` after it fired, unless it was
acknowledged or resolved before; after the last level, the last level is paged again every
``repeat_min`` until then (no ``repeat_min``: once). A level pages each person it names
(contacts, and whoever its rosters have on duty) on each of its email and SMS receivers, and
posts once to each robot receiver it names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from alerting.routing import Matcher, all_match, parse_matchers
from alerting.rules import RuleError

MAX_LEVELS = 5
MAX_AFTER_MIN = 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class Level:
    after_s: float
    receivers: tuple[str, ...]
    contacts: tuple[str, ...] = ()
    rosters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    policy_id: int
    name: str
    matchers: tuple[Matcher, ...]
    levels: tuple[Level, ...]
    repeat_s: float | None = None
    park_id: int | None = None  # None: platform-wide

    def matches(self, labels: Mapping[str, str], *, park_id: int) -> bool:
        """Whether the policy starts on an alarm of park ``park_id`` with these labels: a park's
        policy only on that park's alarms, whatever its matchers say (they are the operator's and
        need not name the park); a platform-wide one on any park's its matchers match."""
        return (self.park_id is None or self.park_id == park_id) and all_match(self.matchers, labels)


@dataclass(frozen=True, slots=True)
class Step:
    level: Level  # whom to page now
    number: int  # 1-based level number paged
    levels_done: int
    repeats: int
    next_s: float | None  # None: the escalation is over


def _strs(raw: Any, what: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > 50 or not all(isinstance(x, str) and 0 < len(x) <= 128 for x in raw):
        raise RuleError(f"{what} {raw!r} must be a list of at most 50 names")
    return tuple(raw)


def policy_from_dict(policy_id: int, name: str, matchers: Any, raw: Any, *, park_id: int | None = None) -> Policy:
    where = f"policy {name!r}"
    if not isinstance(raw, Mapping) or set(raw) - {"levels", "repeat_min"}:
        raise RuleError(f"{where}: must be a mapping of levels and repeat_min")
    levels_raw = raw.get("levels")
    if not isinstance(levels_raw, list) or not 1 <= len(levels_raw) <= MAX_LEVELS:
        raise RuleError(f"{where}: levels must be a list of 1..{MAX_LEVELS}")
    levels: list[Level] = []
    for i, lv in enumerate(levels_raw):
        if not isinstance(lv, Mapping) or set(lv) - {"after_min", "receivers", "contacts", "rosters"}:
            raise RuleError(f"{where} level {i + 1}: keys are after_min, receivers, contacts, rosters")
        after = lv.get("after_min", 0)
        if isinstance(after, bool) or not isinstance(after, int | float) or not 0 <= after <= MAX_AFTER_MIN:
            raise RuleError(f"{where} level {i + 1}: after_min {after!r} is not within 0..{MAX_AFTER_MIN}")
        level = Level(
            float(after) * 60,
            _strs(lv.get("receivers"), f"{where} level {i + 1} receivers"),
            _strs(lv.get("contacts"), f"{where} level {i + 1} contacts"),
            _strs(lv.get("rosters"), f"{where} level {i + 1} rosters"),
        )
        if not level.receivers:
            raise RuleError(f"{where} level {i + 1}: names no receiver")
        if levels and level.after_s <= levels[-1].after_s:
            raise RuleError(f"{where} level {i + 1}: after_min must grow from level to level")
        levels.append(level)
    if levels[0].after_s != 0:
        raise RuleError(f"{where}: level 1 is paged at once (after_min 0)")
    repeat = raw.get("repeat_min")
    if repeat is not None and (
        isinstance(repeat, bool) or not isinstance(repeat, int | float) or not 1 <= repeat <= 1440
    ):
        raise RuleError(f"{where}: repeat_min {repeat!r} is not within 1..1440")
    return Policy(
        policy_id,
        name,
        parse_matchers(matchers, f"{where} matchers"),
        tuple(levels),
        None if repeat is None else float(repeat) * 60,
        park_id,
    )


def step(policy: Policy, *, levels_done: int, repeats: int, started_s: float, deadline_s: float) -> Step:
    """What the escalation does at its deadline: the level to page and the next deadline."""
    levels = policy.levels
    if levels_done < len(levels):
        level, number, done, reps = levels[levels_done], levels_done + 1, levels_done + 1, repeats
    else:
        level, number, done, reps = levels[-1], len(levels), levels_done, repeats + 1
    if done < len(levels):
        nxt: float | None = started_s + levels[done].after_s
    elif policy.repeat_s is not None:
        nxt = deadline_s + policy.repeat_s
    else:
        nxt = None
    return Step(level, number, done, reps, nxt)


def people(level: Level, on_duty: Mapping[str, str]) -> list[str]:
    """The contacts a level pages: its own, then whoever its rosters have on duty, each once."""
    names = [*level.contacts, *(on_duty[r] for r in level.rosters if r in on_duty)]
    return list(dict.fromkeys(names))


def robots_and_people(receivers: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """Split a level's receivers: robots post once, email and SMS per person."""
    return [r for r in receivers if r.channel not in ("email", "sms")], [
        r for r in receivers if r.channel in ("email", "sms")
    ]
