"""Time-of-use kWh and cost (pure), figures worked by hand from the two Inner Mongolia schedules.

蒙西: 内发改价费字〔2023〕1630号 (windy season Jan-May, Sep-Dec: peak 06-08, 18-22, flat 04-06,
08-11, 16-18, 22-24, valley 00-04, 11-16, 1.68:1:0.48; calm season Jun-Aug: 1.54:1:0.44, critical
peak 19-21 at peak +20 %, deep valley 13-15 at valley -20 %). 蒙东: 内发改价费字〔2023〕1631号.
Both as quoted by the grids' agency-purchase notes: verify against the originals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregation.rollup import Readings, Rollup, counter_deltas, rollup
from energy.tariffs import PERIODS, SCHEDULES, P, Prices, day_slots
from energy.tou import QUARTER_MS, Calendar, edge_moves, tou

TZ = "Asia/Shanghai"
WEST = ("nm_west_2023",)


def _ms(y: int, mo: int, d: int, h: int, mi: int = 0) -> int:
    """A Beijing wall-clock time as epoch ms (UTC+8, no daylight saving)."""
    return int(datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp() * 1000) - 8 * 3_600_000


def _flat_day(day: date, kwh_per_quarter: float = 1.0) -> tuple[Calendar, np.ndarray, np.ndarray]:
    cal = Calendar.of(day, day, TZ, WEST)
    buckets = cal.start_ms + QUARTER_MS * np.arange(96, dtype=np.int64)
    return cal, buckets, np.full(96, kwh_per_quarter)


def _run(cal: Calendar, buckets: np.ndarray, kwh: np.ndarray, prices: Prices, moves=None):  # type: ignore[no-untyped-def]
    return tou(
        cal,
        series=np.zeros(buckets.size, np.int64),
        bucket_ms=buckets,
        consumption=kwh,
        n_series=1,
        prices=prices.period_prices()[None],
        schedule_of_series=np.zeros(1, np.int64),
        codes=WEST,
        moves=moves,
    )


def _moves(cal: Calendar, ru: Rollup) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    one = np.zeros(1, np.int64)
    return edge_moves(
        cal,
        series=ru.series,
        bucket_ms=ru.bucket,
        first=ru.first,
        first_ts=ru.first_ts,
        last=ru.last,
        last_ts=ru.last_ts,
        schedule_of_series=one,
        codes=WEST,
    )


def test_schedules_cover_every_quarter_hour_with_the_documents_hours() -> None:
    west, east = SCHEDULES["nm_west_2023"], SCHEDULES["nm_east_2023"]
    hours = {name: float((west.months[1] == i).sum()) / 4 for name, i in P.items()}
    assert hours == {"deep_valley": 0, "valley": 9, "flat": 9, "peak": 6, "critical_peak": 0}  # 大风季 6/9/9
    july = {name: float((west.months[7] == i).sum()) / 4 for name, i in P.items()}
    assert july == {"deep_valley": 2, "valley": 3, "flat": 13, "peak": 4, "critical_peak": 2}  # 小风季 6/13/5
    east_jan = {name: float((east.months[1] == i).sum()) / 4 for name, i in P.items()}
    assert east_jan == {"deep_valley": 0, "valley": 8, "flat": 8, "peak": 8, "critical_peak": 0}
    assert east.months[7][18 * 4] == P["critical_peak"] and east.months[7][12 * 4] == P["deep_valley"]


def test_a_january_day_on_the_west_grid_worked_by_hand() -> None:
    # 1 kWh each quarter hour: peak 24, flat 36, valley 36 kWh. Prices (floating 0.40, fixed 0.20):
    # peak 0.40 × 1.68 + 0.20 = 0.872, flat 0.60, valley 0.40 × 0.48 + 0.20 = 0.392 yuan/kWh;
    # cost 24 × 0.872 + 36 × 0.60 + 36 × 0.392 = 20.928 + 21.6 + 14.112 = 56.64 yuan.
    cal, buckets, kwh = _flat_day(date(2025, 1, 15))
    got = _run(cal, buckets, kwh, Prices(floating_kwh=0.40, fixed_kwh=0.20))
    kwh_p, cost_p = got.per_period()
    assert kwh_p[0].tolist() == [0.0, 36.0, 36.0, 24.0, 0.0]
    assert cost_p[0].sum() == pytest.approx(56.64)
    assert cost_p[0][P["peak"]] == pytest.approx(20.928)


def test_a_july_day_has_critical_peak_and_deep_valley() -> None:
    # peak 4 h (16 kWh) at 0.40 × 1.54 + 0.20 = 0.816; critical 2 h (8) at 0.40 × 1.848 + 0.20 =
    # 0.9392; flat 13 h (52) at 0.60; valley 3 h (12) at 0.40 × 0.44 + 0.20 = 0.376; deep valley
    # 2 h (8) at 0.40 × 0.352 + 0.20 = 0.3408. Σ = 13.056 + 7.5136 + 31.2 + 4.512 + 2.7264 = 59.008
    cal, buckets, kwh = _flat_day(date(2025, 7, 15))
    kwh_p, cost_p = _run(cal, buckets, kwh, Prices(floating_kwh=0.40, fixed_kwh=0.20)).per_period()
    assert kwh_p[0].tolist() == [8.0, 12.0, 52.0, 16.0, 8.0]
    assert cost_p[0].sum() == pytest.approx(59.008)


def test_an_interval_across_a_period_edge_is_split_by_its_readings() -> None:
    # readings 07:55 (100 kWh) and 08:05 (110 kWh): the rollups put 10 kWh in the 08:00 bucket
    # (flat); 5 of them were used before 08:00, in the peak period.
    day = date(2025, 1, 15)
    cal = Calendar.of(day, day, TZ, WEST)
    r = Readings.of(np.zeros(2, np.int64), np.array([_ms(2025, 1, 15, 7, 55), _ms(2025, 1, 15, 8, 5)]), [100.0, 110.0])
    ru = rollup(r, (r.ts // QUARTER_MS) * QUARTER_MS, QUARTER_MS, deltas=counter_deltas(r))
    moves = _moves(cal, ru)
    kwh_p, _ = _run(cal, ru.bucket, ru.consumption, Prices(floating_kwh=0.4), moves).per_period()
    assert kwh_p[0][P["peak"]] == pytest.approx(5.0) and kwh_p[0][P["flat"]] == pytest.approx(5.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 86_400_000 - 1), min_size=2, max_size=60, unique=True),
    st.floats(0.01, 100.0),
)
def test_property_per_period_kwh_is_exact_and_conserved_whatever_the_reading_times(
    offsets: list[int], rate_per_h: float
) -> None:
    """A meter running at a steady rate, read at any instants of a day: each period gets the
    rate × its hours between the first and the last reading, and the total is last − first."""
    day = date(2025, 7, 15)
    cal = Calendar.of(day, day, TZ, WEST)
    ts = np.sort(np.asarray(offsets, dtype=np.int64)) + cal.start_ms
    values = 1000.0 + rate_per_h * (ts - cal.start_ms) / 3_600_000
    r = Readings.of(np.zeros(ts.size, np.int64), ts, values)
    ru = rollup(r, (ts // QUARTER_MS) * QUARTER_MS, QUARTER_MS, deltas=counter_deltas(r))
    moves = _moves(cal, ru)
    kwh_p, _ = _run(cal, ru.bucket, ru.consumption, Prices(floating_kwh=0.4), moves).per_period()
    slots = SCHEDULES["nm_west_2023"].months[7]
    assert kwh_p.sum() == pytest.approx(values[-1] - values[0], rel=1e-9)
    exact = np.zeros(len(PERIODS))
    edges = cal.start_ms + QUARTER_MS * np.arange(97)
    for q in range(96):
        lo, hi = max(edges[q], ts[0]), min(edges[q + 1], ts[-1])
        if hi > lo:
            exact[slots[q]] += rate_per_h * (hi - lo) / 3_600_000
    assert kwh_p[0] == pytest.approx(exact, rel=1e-9, abs=1e-9)


def test_bad_schedules_and_prices_are_refused() -> None:
    with pytest.raises(ValueError, match="has no period"):
        day_slots({"peak": [("00:00", "23:00")]})
    with pytest.raises(ValueError, match="overlaps"):
        day_slots({"peak": [("00:00", "13:00")], "flat": [("12:00", "24:00")]})
    with pytest.raises(ValueError, match="schedule"):
        Prices(floating_kwh=0.4, schedule="nowhere")
    with pytest.raises(ValueError, match="floating_kwh"):
        Prices(floating_kwh=-1.0)
