"""Linear apportionment of a meter's consumption across the days a gap between its readings spans.

A counter's consumption between two readings is known only as a whole. The rollups put it in
the bucket of the later reading (:mod:`aggregation.rollup`), which across a gap over midnight or a
month end puts a day's or a month's consumption into the next one. Apportioned linearly, each
day gets the share of the interval it holds: a gap from 22:00 to 02:00 of 40 kWh gives 20 kWh
to each day; a reading exactly at midnight closes an interval wholly in the day before. Shares
add up to the whole, so totals over any set of whole days covering the gap are unchanged.

Which one the indicators use is the aggregation setting ``gap_apportionment``: ``linear``
(default) or ``later`` (all in the later reading's day, as the rollups hold it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Apportionment = Literal["linear", "later"]


@dataclass(frozen=True, slots=True)
class Moves:
    """Per (interval, day): the consumption to add to the day's figure (negative: to take)."""

    interval: I64
    day: I64  # index into the day bounds
    amount: F64


def moves(t0: I64, t1: I64, delta: F64, bounds: I64, *, held: I64 | None = None) -> Moves:
    """What linear apportionment changes in daily figures that hold each interval's ``delta``
    in the day of its end ``t1`` (or of ``held``, at or after ``t1``: the two parts of an interval
    across a meter change, both held by the rollups at the first reading after it).

    ``bounds`` are the sorted local-day starts of consecutive days followed by the end of the
    last (n + 1 values for n days); every interval lies within them (t0 >= bounds[0], t1 <
    bounds[-1]) and has t0 < t1. Each day gets ``delta`` × its overlap with [t0, t1] / (t1 − t0);
    the day holding the delta gives up the whole ``delta`` it was credited with.
    """
    t0, t1 = np.asarray(t0, dtype=np.int64), np.asarray(t1, dtype=np.int64)
    delta, bounds = np.asarray(delta, dtype=np.float64), np.asarray(bounds, dtype=np.int64)
    if ((t0 < bounds[0]) | (t1 >= bounds[-1]) | (t1 <= t0)).any():
        raise ValueError("every interval needs bounds[0] <= t0 < t1 < bounds[-1]")
    if held is not None:
        held = np.asarray(held, dtype=np.int64)
        if ((held < t1) | (held >= bounds[-1])).any():
            raise ValueError("every interval needs t1 <= held < bounds[-1]")
        linear = moves(t0, t1, delta, bounds)  # as if held at t1; then from t1's day to held's
        t1_day = np.searchsorted(bounds, t1, side="right") - 1
        held_day = np.searchsorted(bounds, held, side="right") - 1
        n = np.arange(t0.size)
        return Moves(
            np.concatenate([linear.interval, n, n]),
            np.concatenate([linear.day, t1_day, held_day]),
            np.concatenate([linear.amount, delta, -delta]),
        )
    first = np.searchsorted(bounds, t0, side="right") - 1
    last = np.searchsorted(bounds, t1, side="right") - 1  # the day holding t1
    spans = last - first + 1
    interval = np.repeat(np.arange(t0.size), spans)
    day = np.repeat(first, spans) + (np.arange(interval.size) - np.repeat(np.cumsum(spans) - spans, spans))
    lo = np.maximum(bounds[day], t0[interval])
    hi = np.minimum(bounds[day + 1], t1[interval])
    share = delta[interval] * (hi - lo) / (t1 - t0)[interval]
    taken = np.flatnonzero(day == last[interval])
    share[taken] -= delta[interval[taken]]
    return Moves(interval, day, share)
