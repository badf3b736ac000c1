"""Linear apportionment of consumption across days (issue 16 item 15)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aggregation.apportion import moves

H = 3_600_000
DAY = 24 * H


def _daily(t0: list[int], t1: list[int], delta: list[float], days: int) -> np.ndarray:
    """Daily figures after the moves, from figures holding each delta in its end's day."""
    bounds = np.arange(days + 1, dtype=np.int64) * DAY
    held = np.zeros(days)
    for end, d in zip(t1, delta, strict=True):
        held[end // DAY] += d
    m = moves(np.asarray(t0), np.asarray(t1), np.asarray(delta), bounds)
    np.add.at(held, m.day, m.amount)
    return held


def test_a_gap_over_midnight_is_shared_by_time() -> None:
    # 22:00 -> 02:00, 40 kWh: 2 h each side of midnight, 20 kWh each (not 0 and 40)
    assert _daily([22 * H], [DAY + 2 * H], [40.0], 2).tolist() == pytest.approx([20.0, 20.0])


def test_a_reading_at_midnight_closes_an_interval_of_the_day_before() -> None:
    # 23:45 -> 00:00, 25 kWh: wholly the first day's
    assert _daily([DAY - H // 4], [DAY], [25.0], 2).tolist() == pytest.approx([25.0, 0.0])


def test_a_gap_over_several_days_and_a_month_end() -> None:
    # 12:00 of day 0 -> 12:00 of day 3 (72 h, 720 kWh): 120, 240, 240, 120; day 2 -> 3 may be
    # the 31st -> the 1st: the months get 600 and 120
    got = _daily([12 * H], [3 * DAY + 12 * H], [720.0], 4)
    assert got.tolist() == pytest.approx([120.0, 240.0, 240.0, 120.0])


def test_the_parts_of_an_interval_across_a_meter_change_held_at_the_reading_after() -> None:
    # 08:00 of day 0 -> 08:00 of day 1, replaced at 20:00: the rollups hold both parts (10 + 6)
    # at 08:00 of day 1. The old 10 kWh over 08:00-20:00 is all day 0's; the new 6 over 20:00-08:00
    # has 4 of its 12 hours on day 0: 2 kWh, and 4 on day 1. Day 0 12, day 1 4.
    bounds = np.arange(3, dtype=np.int64) * DAY
    t0, t1 = np.asarray([8 * H, 20 * H]), np.asarray([20 * H, DAY + 8 * H])
    m = moves(t0, t1, np.asarray([10.0, 6.0]), bounds, held=np.asarray([DAY + 8 * H, DAY + 8 * H]))
    days = np.asarray([0.0, 16.0])
    np.add.at(days, m.day, m.amount)
    assert days.tolist() == pytest.approx([12.0, 4.0])
    with pytest.raises(ValueError, match="held"):  # held before the interval's end: not the rollups'
        moves(t0, t1, np.asarray([10.0, 6.0]), bounds, held=t0)


def test_intervals_outside_the_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="bounds"):
        moves(np.asarray([5]), np.asarray([5]), np.asarray([1.0]), np.asarray([0, DAY]))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10 * DAY - 2), st.integers(1, 3 * DAY), st.floats(0, 1e6)),
        min_size=1,
        max_size=20,
    )
)
def test_apportionment_conserves_consumption(intervals: list[tuple[int, int, float]]) -> None:
    """However intervals fall on days, the days' total is the meters' total."""
    t0 = [a for a, _, _ in intervals]
    t1 = [min(a + length, 10 * DAY - 1) for a, length, _ in intervals]
    keep = [i for i in range(len(t0)) if t1[i] > t0[i]]
    t0, t1 = [t0[i] for i in keep], [t1[i] for i in keep]
    delta = [intervals[i][2] for i in keep]
    assume(keep)
    got = _daily(t0, t1, delta, 10)
    assert got.sum() == pytest.approx(sum(delta), rel=1e-9, abs=1e-6)
    assert (got >= -1e-6).all()
