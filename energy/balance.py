"""Energy balance: a parent meter against the meters below it, hour by hour (pure code).

The park's intake against the sum of the enterprises' main meters, and each enterprise's main
meter against its sub-meters: the loss is what the parent measured and its children did not,
as a share of the parent. A negative loss means the children measured more than their parent
(a wrong tree, a wrong transformer ratio, a meter fault), which is alarmed as well. Water adds
the night-flow indicator: in the small hours a site uses little, so a night flow close to the
day's mean flow points to a leak.

The limits are the platform's defaults, set per park (``attributes``), not a regulation's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
LOSS_LIMIT_PCT = 5.0  # a loss above this share of the parent is alarmed
GAIN_LIMIT_PCT = 1.0  # children above their parent by more than this is alarmed
NIGHT_HOURS = (2, 3, 4)  # local hours of the minimum night flow
NIGHT_FLOW_RATIO = 0.3  # minimum night flow / the day's mean flow above this: a likely leak


@dataclass(frozen=True, slots=True)
class Balance:
    parent: F64  # per hour
    children: F64  # per hour, summed
    loss: F64
    loss_pct: F64  # NaN where the parent measured nothing
    alarm: npt.NDArray[np.bool_]


def balance(
    parent: npt.ArrayLike,
    children: npt.ArrayLike,
    *,
    loss_limit_pct: float = LOSS_LIMIT_PCT,
    gain_limit_pct: float = GAIN_LIMIT_PCT,
) -> Balance:
    """``parent`` per hour (H,), ``children`` per child and hour (C, H)."""
    p = np.asarray(parent, dtype=np.float64)
    c = np.asarray(children, dtype=np.float64).reshape(-1, p.size).sum(axis=0)
    loss = p - c
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(p > 0, 100.0 * loss / p, np.nan)
    alarm = (pct > loss_limit_pct) | (pct < -gain_limit_pct)
    return Balance(p, c, loss, pct, alarm)


@dataclass(frozen=True, slots=True)
class NightFlow:
    minimum: F64  # per day: the smallest hourly flow of the night hours
    mean: F64  # per day: the mean hourly flow
    ratio: F64  # minimum / mean (NaN without flow)
    leak: npt.NDArray[np.bool_]


def night_flow(hourly: npt.ArrayLike, *, ratio_limit: float = NIGHT_FLOW_RATIO) -> NightFlow:
    """``hourly``: flow per local hour of whole days (days × 24 values, from local midnight)."""
    h = np.asarray(hourly, dtype=np.float64).reshape(-1, 24)
    minimum = h[:, list(NIGHT_HOURS)].min(axis=1)
    mean = h.mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(mean > 0, minimum / mean, np.nan)
    return NightFlow(minimum, mean, ratio, ratio > ratio_limit)
