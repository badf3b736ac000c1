"""Consumption across a meter change is exact, whatever the readings around it (pure)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregation.rollup import CounterDeltas, Readings, counter_deltas, rollup
from energy import changes, swaps
from energy.reads import Quarters
from energy.tariffs import P, Prices
from energy.tou import QUARTER_MS, Calendar, edge_moves, tou
from energy.tree import Meter

WEST = ("nm_west_2023",)
ONE = np.zeros(1, np.int64)


def _exact(r: Readings, change: changes.Change) -> CounterDeltas:
    """The rollup job's deltas of series 0 across ``change``."""
    found = swaps.Swaps.of([0], [change.at_ms], [change.old_final], [change.new_initial])
    return swaps.exact_deltas(r, counter_deltas(r), found)


def _kwh(cal: Calendar, ts: np.ndarray, values: np.ndarray, change: changes.Change) -> np.ndarray:
    """kWh per period over the calendar from readings of device 7, as the energy views compute it."""
    k = int(np.searchsorted(ts, change.at_ms))  # the first reading of the new register
    near = changes.Around(int(ts[k - 1]), float(values[k - 1]), int(ts[k]), float(values[k]))
    r = Readings.of(np.zeros(ts.size, np.int64), ts, values)
    ru = rollup(r, (ts // QUARTER_MS) * QUARTER_MS, QUARTER_MS, deltas=_exact(r, change))
    q = Quarters(ru.series, ru.bucket, ru.consumption, ru.first, ru.first_ts, ru.last, ru.last_ts)
    swapped, rows = changes.moves(cal, q, [(change, near)], devices=[7], schedule_of_series=ONE, codes=WEST)
    kw = {"series": q.series, "bucket_ms": q.bucket, "schedule_of_series": ONE, "codes": WEST}
    edges = edge_moves(cal, first=q.first, first_ts=q.first_ts, last=q.last, last_ts=q.last_ts, skip=rows, **kw)
    moves = tuple(np.concatenate([a, b]) for a, b in zip(edges, swapped, strict=True))
    prices = Prices(floating_kwh=0.4).period_prices()[None]
    got = tou(cal, consumption=q.kwh, n_series=1, prices=prices, moves=moves, **kw)  # type: ignore[arg-type]
    return got.per_period()[0][0]


def test_a_change_at_the_peak_edge_worked_by_hand() -> None:
    # January, 蒙西: 05:45 old meter reads 5000; at 06:00 it is read 5003 and replaced by one
    # showing 12; 06:15 the new one reads 20. Flat 05:45-06:00: 3 kWh; peak 06:00-06:15: 8 kWh
    # (the rollups alone would credit 20, counted from zero, to the peak).
    cal = Calendar.of(date(2025, 1, 15), date(2025, 1, 15), "Asia/Shanghai", WEST)
    at = cal.start_ms + 6 * 3_600_000
    ts = np.array([at - QUARTER_MS, at + QUARTER_MS])
    kwh = _kwh(cal, ts, np.array([5000.0, 20.0]), changes.Change(7, 1, at, 5003.0, 12.0))
    assert kwh[P["flat"]] == pytest.approx(3.0) and kwh[P["peak"]] == pytest.approx(8.0)
    assert kwh.sum() == pytest.approx(11.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 50.0), min_size=1, max_size=20),
    st.lists(st.floats(0.0, 50.0), min_size=1, max_size=20),
    st.floats(0.0, 30.0),
    st.floats(0.0, 1e6),
    st.floats(0.0, 1e6),
    st.integers(1, 42),  # the change 7 s to 294 s after the last old reading (the next is 300 s on)
)
def test_property_consumption_is_conserved_across_a_change(
    old_steps: list[float], new_steps: list[float], tail: float, old_start: float, new_initial: float, split: int
) -> None:
    """Old register readings, the change (old final, new initial), new register readings: the
    total is (old final − first reading) + (last reading − new initial), wherever the change and
    the readings fall in the day."""
    cal = Calendar.of(date(2025, 7, 15), date(2025, 7, 15), "Asia/Shanghai", WEST)
    step = 5 * 60_000
    old = old_start + np.cumsum([0.0, *old_steps])
    new = new_initial + np.cumsum(new_steps)
    t_old = cal.start_ms + step * (1 + np.arange(old.size))
    at = int(t_old[-1]) + split * 7_000  # somewhere before the next reading
    t_new = t_old[-1] + step * (1 + np.arange(new.size))
    final = float(old[-1]) + tail
    kwh = _kwh(
        cal, np.concatenate([t_old, t_new]), np.concatenate([old, new]), changes.Change(7, 1, at, final, new_initial)
    )
    assert kwh.sum() == pytest.approx((final - old[0]) + (new[-1] - new_initial), rel=1e-9, abs=1e-6)
    assert (kwh >= -1e-9).all()


def test_readings_that_do_not_fit_the_change_are_refused() -> None:
    with pytest.raises(changes.ChangeError, match="do not fit old_final"):
        changes.across(5004.0, 20.0, changes.Change(7, 1, 0, 5003.0, 12.0))


def test_calibration_reminders_soonest_first() -> None:
    meters = [
        Meter("A", "electricity", "main", 1, device=1, attributes={"calibration_due": "2026-12-20"}),
        Meter("B", "electricity", "sub", 1, parent="A", device=2, attributes={"calibration_due": "2026-11-30"}),
        Meter("C", "electricity", "sub", 1, parent="A", device=3, attributes={"calibration_due": "2027-06-01"}),
        Meter("D", "electricity", "sub", 1, parent="A", device=4),
    ]
    due = changes.calibrations_due(meters, today=date(2026, 12, 6), within_days=30)
    assert [(d["code"], d["overdue"]) for d in due] == [("B", True), ("A", False)]
    with pytest.raises(changes.ChangeError, match="calibration_due"):
        changes.calibrations_due([Meter("E", "water", "main", 1, device=5, attributes={"calibration_due": "soon"})],
                                 today=date(2026, 12, 6), within_days=30)  # fmt: skip


def test_a_change_is_no_reset_in_the_rollups() -> None:
    # 05:45 old register 5000; changed at 06:00 (old final 5003, new initial 12); 06:15 new reads 20.
    # The counter rule alone counts the drop from zero: 20 kWh in the 06:15 quarter hour, 80 kW.
    # Across the recorded change it is 3 + 8 = 11 kWh, 44 kW, and no reset.
    ts = np.array([0, 2 * QUARTER_MS]) + 1_750_000_000_000 // QUARTER_MS * QUARTER_MS
    r = Readings.of(np.zeros(2, np.int64), ts, np.array([5000.0, 20.0]))
    assert counter_deltas(r).delta.tolist() == [0.0, 20.0]
    change = changes.Change(7, 1, int(ts[0]) + QUARTER_MS, 5003.0, 12.0)
    ru = rollup(r, (ts // QUARTER_MS) * QUARTER_MS, QUARTER_MS, deltas=_exact(r, change))
    assert ru.consumption.tolist() == [0.0, 11.0] and ru.resets.tolist() == [0, 0]
    # readings that no longer fit the change (a late one above the old final) keep the counter rule
    late = Readings.of(np.zeros(2, np.int64), ts, np.array([5004.0, 20.0]))
    assert _exact(late, change).delta.tolist() == [0.0, 20.0]


def test_a_change_touches_only_its_own_series_and_needs_readings_on_both_sides() -> None:
    # series 1 and 2 read the same registers; series 1 was replaced between its 2nd and 3rd reading
    ts = np.array([0, 60_000, 120_000] * 2, dtype=np.int64)
    r = Readings.of(np.array([1, 1, 1, 2, 2, 2]), ts, np.array([100.0, 101.0, 5.0] * 2))
    base = counter_deltas(r)
    found = swaps.Swaps.of([1, 2], [90_000, 150_000], [101.5, 0.0], [4.0, 0.0])
    got = swaps.exact_deltas(r, base, found)
    assert got.delta.tolist() == [0.0, 1.0, 1.5, 0.0, 1.0, 5.0]  # 0.5 + 1 across the change; series 2 as it was
    # a change before a series' first reading (nothing before it in the input) changes nothing
    early = swaps.exact_deltas(r, base, swaps.Swaps.of([1], [-1], [100.0], [0.0]))
    assert early.delta.tolist() == base.delta.tolist()
