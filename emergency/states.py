"""An incident's states and levels (pure).

reported → responding → controlled → closed, forward only (a step may be skipped: a leak
contained before the teams arrive goes from reported to controlled); closed is final. Each state
reached keeps its time, so the after-action report can say how long each took.

Levels follow the national classes of emergencies (突发事件应对法 第三条): 1 = I 特别重大,
2 = II 重大, 3 = III 较大, 4 = IV 一般.
"""

from __future__ import annotations

from types import MappingProxyType

STATES = ("reported", "responding", "controlled", "closed")
STATE_COLUMN = MappingProxyType({"responding": "responding_at", "controlled": "controlled_at", "closed": "closed_at"})
STATE_NAMES_ZH = MappingProxyType(
    {"reported": "已报告", "responding": "处置中", "controlled": "已控制", "closed": "已关闭"}
)
LEVEL_NAMES_ZH = MappingProxyType({1: "I级(特别重大)", 2: "II级(重大)", 3: "III级(较大)", 4: "IV级(一般)"})
DEFAULT_LEVEL = 4


class StateError(ValueError):
    """A move the workflow does not allow (answers 409)."""


def check_move(current: str, to: str) -> None:
    if to not in STATES:
        raise StateError(f"state {to!r} is not one of {STATES}")
    if current == "closed":
        raise StateError("the incident is closed")
    if STATES.index(to) <= STATES.index(current):
        raise StateError(f"cannot move from {current!r} to {to!r}: states only move forward {STATES}")


def reached(to: str) -> tuple[str, ...]:
    """The time columns a move to ``to`` sets: every state up to it not reached yet (skipped
    states take the time of the move)."""
    return tuple(STATE_COLUMN[s] for s in STATES[1 : STATES.index(to) + 1])
