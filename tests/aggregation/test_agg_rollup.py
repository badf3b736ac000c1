"""Rollups and counter consumption of the numpy core (pure: no services)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregation.calendar import fixed_start
from aggregation.rollup import (
    FIRST,
    IMPLAUSIBLE,
    NORMAL,
    RESET,
    ROLLOVER,
    CounterDeltas,
    Readings,
    Rollup,
    counter_deltas,
    counter_deltas_of,
    merge,
    rebucket,
    register_step_of,
    rollup,
)

Q = 15 * 60_000
H = 4 * Q


def roll(r: Readings, width: int = Q, **kw: Any) -> Rollup:
    return rollup(r, fixed_start(r.ts, width), width, **kw)


def test_statistics_per_series_and_bucket() -> None:
    r = Readings.of([7, 7, 7, 7, 3], [0, 60_000, 120_000, Q + 1, 5], [2.0, -1.0, 4.0, 9.0, 1.5])
    out = rollup(r, fixed_start(r.ts, Q), Q, interval_ms=60_000)
    assert out.series.tolist() == [3, 7, 7]
    assert out.bucket.tolist() == [0, 0, Q]
    assert out.count.tolist() == [1, 3, 1]
    assert out.sum.tolist() == [1.5, 5.0, 9.0]
    assert out.min.tolist() == [1.5, -1.0, 9.0]
    assert out.max.tolist() == [1.5, 4.0, 9.0]
    assert out.first.tolist() == [1.5, 2.0, 9.0] and out.first_ts.tolist() == [5, 0, Q + 1]
    assert out.last.tolist() == [1.5, 4.0, 9.0] and out.last_ts.tolist() == [5, 120_000, Q + 1]
    assert out.mean.tolist() == pytest.approx([1.5, 5 / 3, 9.0])
    assert out.coverage.tolist() == pytest.approx([1 / 15, 3 / 15, 1 / 15])


def test_out_of_order_and_duplicates_keep_last_given() -> None:
    r = Readings.of([1, 1, 1, 1], [120_000, 0, 60_000, 0], [3.0, 1.0, 2.0, 1.5])
    assert r.ts.tolist() == [0, 60_000, 120_000]
    assert r.value.tolist() == [1.5, 2.0, 3.0]


def test_non_finite_value_is_named() -> None:
    with pytest.raises(ValueError, match=r"non-finite value nan in series 4 at ts 9"):
        Readings.of([4], [9], [float("nan")])


def test_counter_across_bucket_edge_lands_in_later_bucket() -> None:
    # readings at 14:00 and 15:30 (minutes) of a 15-minute grid
    r = Readings.of([1, 1, 1], [14 * 60_000, 15 * 60_000 + 30_000, 29 * 60_000], [100.0, 102.0, 110.0])
    d = counter_deltas(r)
    out = roll(r, deltas=d)
    assert out.consumption.tolist() == [0.0, 10.0]


def test_reset_counts_from_zero_and_rollover_wraps_past_register_max() -> None:
    # a 5-digit integer register shows 0..99999: 99998 -> 99999 -> 0 -> 4 is 1 + 1 + 4 = 6
    r = Readings.of([1] * 4 + [2] * 3, [0, 1, 2, 3, 0, 1, 2], [10, 20, 3, 5, 99_990, 99_998, 4])
    d = counter_deltas(r, register_max=99_999.0)
    assert d.status.tolist() == [FIRST, NORMAL, RESET, NORMAL, FIRST, NORMAL, ROLLOVER]
    assert d.delta.tolist() == [0, 10, 3, 2, 0, 8, 6]


def test_rollover_of_an_8_plus_2_digit_register_counts_the_wrap_step() -> None:
    """An 8+2-digit register shows 0.00..99999999.99 and counts modulo 10^8: the step from
    99999999.99 to 0.00 is one unit of the last digit, 0.01 (issue 16 item 13)."""
    rmax = 99_999_999.99
    r = Readings.of([1, 1, 2, 2], [0, 1, 0, 1], [99_999_990.00, 10.00, 99_999_999.99, 0.00])
    d = counter_deltas(r, register_max=rmax)
    assert d.status.tolist() == [FIRST, ROLLOVER, FIRST, ROLLOVER]
    # by hand: (99999999.99 - 99999990.00) + 0.01 + 10.00 = 9.99 + 0.01 + 10.00 = 20.00
    assert d.delta[1] == pytest.approx(20.00, abs=1e-6)
    assert d.delta[3] == pytest.approx(0.01, abs=1e-6)


def test_declared_register_step_wins_over_the_maximum_s_decimals() -> None:
    # a register declared as max 99999999.9 with a step of 0.1: 99999999.9 -> 0.4 is 0.1 + 0.4
    r = Readings.of([1, 1], [0, 1], [99_999_999.9, 0.4])
    d = counter_deltas(r, register_max=99_999_999.9, register_step=0.1)
    assert d.delta[1] == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize(
    ("rmax", "step"), [(99_999_999.99, 0.01), (99_999.0, 1.0), (999_999.9, 0.1), (float("nan"), float("nan"))]
)
def test_register_step_from_the_maximum_s_decimals(rmax: float, step: float) -> None:
    got = float(register_step_of(rmax)[0])
    assert (got == pytest.approx(step)) if step == step else got != got


def test_implausible_jump_flagged_not_summed() -> None:
    r = Readings.of([1, 1, 1], [0, 60_000, 120_000], [0.0, 1e6, 1e6 + 5])
    d = counter_deltas(r, max_rate_per_s=1.0)  # 60 per minute at most
    assert d.status.tolist() == [FIRST, IMPLAUSIBLE, NORMAL]
    out = roll(r, deltas=d)
    assert out.consumption.tolist() == [5.0]
    assert out.jumps.tolist() == [1]


def test_gap_keeps_total_and_lowers_coverage() -> None:
    r = Readings.of([1, 1], [0, 3 * Q], [5.0, 9.0])
    out = roll(r, deltas=counter_deltas(r), interval_ms=Q)
    assert out.bucket.tolist() == [0, 3 * Q]
    assert out.consumption.sum() == 4.0


def test_rebucket_15m_into_hours_equals_direct_hourly() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    s = rng.integers(0, 5, n)
    t = rng.integers(0, 10 * H, n)
    v = rng.normal(size=n)
    r = Readings.of(s, t, v)
    fine = roll(r, Q, interval_ms=60_000)
    coarse = rebucket(fine, fixed_start(fine.bucket, H), fixed_start(fine.bucket, H) + H)
    direct = roll(r, H, interval_ms=60_000)
    for f in ("series", "bucket", "count", "min", "max", "first", "first_ts", "last", "last_ts"):
        assert getattr(coarse, f).tolist() == getattr(direct, f).tolist(), f
    assert np.allclose(coarse.sum, direct.sum)
    assert np.allclose(coarse.coverage, direct.coverage)


streams = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 5 * H), st.floats(-1e6, 1e6)),
    min_size=1,
    max_size=200,
    unique_by=lambda x: (x[0], x[1]),
)


@settings(max_examples=150, deadline=None)
@given(streams, st.lists(st.booleans(), min_size=200, max_size=200))
def test_rollups_of_a_split_stream_equal_rollups_of_the_whole(
    rows: list[tuple[int, int, float]], side: list[bool]
) -> None:
    s, t, v = (np.asarray(c) for c in zip(*rows, strict=True))
    mask = np.asarray(side[: len(rows)])
    whole = roll(Readings.of(s, t, v), interval_ms=60_000)
    parts = [Readings.of(s[m], t[m], v[m]) for m in (mask, ~mask) if m.any()]
    split = merge([roll(p, interval_ms=60_000) for p in parts])
    for f in ("series", "bucket", "count", "min", "max", "first", "first_ts", "last", "last_ts"):
        assert getattr(split, f).tolist() == getattr(whole, f).tolist(), f
    assert np.allclose(split.sum, whole.sum, rtol=1e-9, atol=1e-6)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(0, 1000), min_size=2, max_size=100),
    st.integers(1, 99),
)
def test_counter_consumption_of_time_split_with_carry_equals_whole(steps: list[float], cut_pct: int) -> None:
    """The incremental job's rule: a later window carries the previous reading along."""
    values = np.cumsum(steps)
    ts = np.arange(values.size, dtype=np.int64) * 7 * 60_000
    series = np.zeros(values.size, dtype=np.int64)
    whole_r = Readings.of(series, ts, values)
    whole = roll(whole_r, deltas=counter_deltas(whole_r))
    cut = max(1, values.size * cut_pct // 100)
    a = Readings.of(series[:cut], ts[:cut], values[:cut])
    b_full = Readings.of(series[cut - 1 :], ts[cut - 1 :], values[cut - 1 :])
    # The carried reading is only the base of the next delta: its own statistics stay out.
    b = Readings.of(series[cut:], ts[cut:], values[cut:])
    d_full = counter_deltas(b_full)
    rb = roll(b, deltas=CounterDeltas(d_full.delta[1:], d_full.status[1:]))
    split = merge([roll(a, deltas=counter_deltas(a)), rb])
    assert split.bucket.tolist() == whole.bucket.tolist()
    assert np.allclose(split.consumption, whole.consumption)


def _reference_deltas(rows: list[tuple[int, int, float]], rmax: float, rate: float) -> list[tuple[float, int]]:
    """Reading by reading, the rule as written in the docstring."""
    out: list[tuple[float, int]] = []
    prev: tuple[int, int, float] | None = None
    for s, t, v in rows:
        if prev is None or prev[0] != s:
            out.append((0.0, FIRST))
        else:
            if v >= prev[2]:
                step, status = v - prev[2], NORMAL
            elif rmax == rmax and prev[2] >= rmax * 0.9 and v <= rmax:
                step, status = rmax - prev[2] + 1.0 + v, ROLLOVER  # integer registers: step 1
            else:
                step, status = v, RESET
            if rate == rate and step > rate * (t - prev[1]) * 0.001:
                step, status = 0.0, IMPLAUSIBLE
            out.append((step, status))
        prev = (s, t, v)
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 10_000_000), st.floats(0, 1000, allow_nan=False)),
        min_size=1,
        max_size=60,
        unique_by=lambda x: (x[0], x[1]),
    ),
    st.sampled_from([float("nan"), 999.0, 900.0]),
    st.sampled_from([float("nan"), 0.001, 1.0]),
)
def test_counter_deltas_match_the_reading_by_reading_rule(
    rows: list[tuple[int, int, float]], rmax: float, rate: float
) -> None:
    rows = sorted(rows)
    r = Readings.of(*(np.asarray(c) for c in zip(*rows, strict=True)))
    d = counter_deltas(r, register_max=rmax, max_rate_per_s=rate)
    expected = _reference_deltas(rows, rmax, rate)
    assert d.status.tolist() == [e[1] for e in expected]
    assert np.allclose(d.delta, [e[0] for e in expected])


def test_counter_deltas_of_leaves_gauges_alone() -> None:
    r = Readings.of([1, 1, 1, 2, 2, 2], [0, 1, 2, 0, 1, 2], [5.0, 3.0, 4.0, 10.0, 12.0, 11.0])
    counter = np.asarray([False] * 3 + [True] * 3)
    d = counter_deltas_of(r, counter, register_max=np.full(6, np.nan))
    assert d.delta.tolist() == [0, 0, 0, 0, 2, 11]
    assert d.status.tolist() == [FIRST, FIRST, FIRST, FIRST, NORMAL, RESET]


def test_empty_and_single_readings() -> None:
    for n in (0, 1):
        r = Readings.of([7] * n, list(range(n)), [1.0] * n)
        d = counter_deltas(r)
        assert d.delta.tolist() == [0.0] * n and d.status.tolist() == [FIRST] * n
        assert len(roll(r, deltas=d)) == n
