"""Whether values breach a rule's condition and whether they are back far enough to clear it
(the hysteresis), and the statistic of an average or rate window. Pure, on numpy arrays."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from alerting.rules import Rule


def _compare(op: str, v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    if op == ">":
        return v > lo
    if op == ">=":
        return v >= lo
    if op == "<":
        return v < lo
    if op == "<=":
        return v <= lo
    return (v < lo) | (v > hi)  # outside the band


def breach_and_clear(rule: Rule, v: np.ndarray, threshold: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Whether each value breaches, and whether it is back far enough to clear a firing alarm.
    ``threshold`` (per value) replaces the rule's own, for rules judged against each outlet's limit."""
    c, h = rule.condition, rule.hysteresis
    thr = c.threshold if threshold is None else threshold
    breach = _compare(c.op, v, thr, c.high)
    if c.op in (">", ">="):
        held = _compare(c.op, v, thr - h, 0.0)
    elif c.op in ("<", "<="):
        held = _compare(c.op, v, thr + h, 0.0)
    else:
        held = _compare(c.op, v, c.threshold + h, c.high - h)
    return breach, ~held & ~np.isnan(v)


def window_stat(ctype: str, buf: deque[tuple[int, float]], start_ms: int) -> float:
    """The mean (avg) or the change (rate) of the readings from ``start_ms`` on; older readings
    leave ``buf`` for good. NaN when none is left."""
    while buf and buf[0][0] < start_ms:
        buf.popleft()
    if not buf:
        return float("nan")
    if ctype == "avg":
        return sum(x for _, x in buf) / len(buf)
    return buf[-1][1] - buf[0][1]  # rate: change across the window
