"""Emission statistics judged on hourly means (HJ 75-2017), figures worked out by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg
import pytest

from aggregation.emissions import (
    BRIDGED,
    MAX_720,
    MAX_2160,
    MEASURED,
    NO_HISTORY,
    PENDING,
    PROVISIONAL,
    STOPPED,
    Outlet,
    covered_minutes,
    outlet_figures,
    substitute,
)
from aggregation.job import drain
from smartpark.catalogue import HJ212_FLAGS, metric
from smartpark.limits import outlet_limits
from tests.support.readings import device_id, ms, store_readings

NAN = np.nan


def stack(**attrs: object) -> Outlet:
    return Outlet(1, 1, "stack_cems", outlet_limits("stack_cems", attrs))


def hours(**series: list[float]) -> dict[str, np.ndarray]:
    return {f"stack.{k}": np.asarray(v, dtype=np.float64) for k, v in series.items()}


def test_exceedance_compares_the_o2_corrected_hourly_mean_with_the_limit() -> None:
    """Issue 16 item 1. A coal boiler (reference 9 % O2) with a permit SO2 limit of 35 mg/m³:
    hour 0: 30 measured at 12 % O2 = 30 × 12 / 9 = 40 at 9 % -> exceedance although 30 < 35;
    hour 1: 40 measured at 6 % O2 = 40 × 12 / 15 = 32 -> none although 40 > 35."""
    outlet = stack(source_type="coal_boiler", limits={"stack.so2_mgm3": 35})
    h = hours(so2_mgm3=[30.0, 40.0], o2_pct=[12.0, 6.0], flow_m3h=[1e5, 1e5])
    _, exceeded = outlet_figures(outlet, h, np.zeros(2, bool))
    assert exceeded.tolist() == [True, False]


def test_each_source_type_is_judged_by_its_own_default() -> None:
    # 100 mg/m³ SO2 at the reference O2: above the power unit's ultra-low 35, below the coal
    # boiler's GB 13271-2014 table 2 limit 300
    power = outlet_figures(stack(source_type="power_boiler"), hours(so2_mgm3=[100.0], o2_pct=[6.0]), np.zeros(1, bool))
    coal = outlet_figures(stack(source_type="coal_boiler"), hours(so2_mgm3=[100.0], o2_pct=[9.0]), np.zeros(1, bool))
    assert power[1].tolist() == [True] and coal[1].tolist() == [False]


def test_above_the_o2_ceiling_an_hour_is_not_evaluable() -> None:
    """Issue 16 item 5: 10 mg/m³ at 20.9 % O2 would be 10 × 12 / 0.1 = 1200 at 9 %: the source is
    not firing (above 19 %), the hour is not judged. The instrument's own corrected series, when
    sent, is taken as it is."""
    outlet = stack(source_type="coal_boiler", limits={"stack.so2_mgm3": 35})
    _, exceeded = outlet_figures(outlet, hours(so2_mgm3=[10.0], o2_pct=[20.9]), np.zeros(1, bool))
    assert exceeded.tolist() == [False]
    zs = outlet_figures(outlet, hours(so2_zs_mgm3=[36.0], o2_pct=[20.9]), np.zeros(1, bool))
    assert zs[1].tolist() == [True]


def test_an_hourly_mean_needs_45_minutes_of_readings() -> None:
    """HJ 75-2017 (verify): an hourly mean counts with at least 45 valid minutes. Readings every
    5 minutes from :00 to :55 cover 55 + 5 = 60; every 30 s from :00 to :59:30 cover 60; every
    minute up to :20 cover 21; a lone reading of an hourly-data logger (interval_s 3600) 60."""
    m = 60_000
    assert covered_minutes(12, 0, 55 * m, None) == 60.0
    assert covered_minutes(120, 0, 119 * 30_000, None) == 60.0
    assert covered_minutes(21, 0, 20 * m, None) == 21.0
    assert covered_minutes(1, 0, 0, 3600.0) == 60.0 and covered_minutes(1, 0, 0, None) == 1.0
    assert covered_minutes(45, 0, 44 * m, 60.0) == 45.0  # the boundary itself counts


def test_hourly_mass_is_mean_concentration_times_mean_flow() -> None:
    # 280 mg/m³ × 100 000 m³/h × 1 h / 10⁶ = 28 kg; an F (stopped) hour emits nothing
    outlet = stack(source_type="coal_boiler")
    h = hours(so2_mgm3=[280.0, 280.0], flow_m3h=[1e5, 1e5], o2_pct=[12.0, 12.0])
    masses, _ = outlet_figures(outlet, h, np.array([False, True]))
    assert masses["so2_kg"].tolist() == [28.0, 0.0]


def test_short_gap_takes_the_mean_of_the_hours_around_it() -> None:
    """HJ 75-2017 invalid-period table, capture >= 90 %, gap <= 24 h: the mean of the valid hour
    before and the one after. 30 valid hours (10 kg, last 12 kg), 2 invalid, then 20 kg:
    capture 30 / 32 = 93.8 %; each missing hour (12 + 20) / 2 = 16 kg."""
    m = np.array([10.0] * 29 + [12.0, NAN, NAN, 20.0])
    out, how = substitute(m, np.zeros(m.size, bool))
    assert out[30:32].tolist() == [16.0, 16.0] and set(how[30:32].tolist()) == {BRIDGED}
    assert how[0] == MEASURED and out.sum() == 29 * 10 + 12 + 32 + 20


def test_long_gap_takes_the_maximum_of_the_720_hours_before() -> None:
    """Gap of 30 h (> 24) after 300 valid hours (capture 300 / 330 = 90.9 %): the maximum of the
    valid hours before it, 9 kg (one hour at 9 among 5s)."""
    before = np.full(300, 5.0)
    before[100] = 9.0
    m = np.concatenate([before, np.full(30, NAN), [5.0]])
    out, how = substitute(m, np.zeros(m.size, bool))
    assert set(out[300:330].tolist()) == {9.0} and set(how[300:330].tolist()) == {MAX_720}


def test_low_capture_rate_takes_the_maximum_of_2160_hours() -> None:
    """100 valid hours, then 20 invalid: capture 100 / 120 = 83 % (< 90 %): the maximum of the
    previous 2160 valid hours, even for a gap of at most 24 h."""
    before = np.full(100, 4.0)
    before[3] = 7.0
    m = np.concatenate([before, np.full(20, NAN), [4.0]])
    out, how = substitute(m, np.zeros(m.size, bool))
    assert set(out[100:120].tolist()) == {7.0} and set(how[100:120].tolist()) == {MAX_2160}


def test_stops_start_and_open_gaps() -> None:
    # 41 valid hours, 4 invalid ones (hours 0, 42, 43, 45): capture 41 / 45 = 91 %
    m = np.array([NAN] + [3.0] * 41 + [NAN, NAN, 6.0, NAN])
    stopped = np.zeros(m.size, bool)
    stopped[44] = True  # the 6.0 hour is flagged F: the source did not run
    out, how = substitute(m, stopped)
    assert how[0] == NO_HISTORY and out[0] == 0.0  # nothing before it to substitute from
    assert how[44] == STOPPED and out[44] == 0.0
    # the gap before the stop cannot be bridged: the hour before it stands in (provisional)
    assert how[42:44].tolist() == [PROVISIONAL, PROVISIONAL] and out[42:44].tolist() == [3.0, 3.0]
    assert how[45] == PENDING and out[45] == 0.0  # still open: no data yet, not substituted


# --- through the rollups and the indicator job, against the real database -------------------------


def _day_row(db: psycopg.Connection[Any], park: dict[str, Any], day: str) -> tuple[float, float]:
    row = db.execute(
        "SELECT so2_kg, exceedance_minutes FROM indicator_daily i JOIN enterprises e USING (enterprise_id)"
        " WHERE i.day = %s AND e.code = 'e1' AND e.park_id = (SELECT park_id FROM parks WHERE code = %s)",
        (day, park["parks"][0]["code"]),
    ).fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


@pytest.mark.integration
def test_readings_every_30_s_count_an_hour_as_60_minutes(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    """Issue 16 item 2: 120 readings in an hour with no declared interval used to count 120
    minutes; the exceedance is the hour: 60 minutes. Coal boiler, 280 mg/m³ at 12 % O2 -> 373.3
    at 9 % > 300 (GB 13271-2014 table 2)."""
    from aggregation import indicator_job

    cems = device_id(db, park, "e1", "cems1")
    so2, o2, flow = (metric(c).id for c in ("stack.so2_mgm3", "stack.o2_pct", "stack.flow_m3h"))
    t0 = ms(2026, 5, 1, 2)  # 10:00 in Shanghai
    rows = []
    for i in range(120):
        t = t0 + i * 30_000
        rows += [(cems, so2, t, 280.0), (cems, o2, t, 12.0), (cems, flow, t, 100_000.0)]
    store_readings(db, rows)
    drain(db)
    indicator_job.drain(db)
    kg, minutes = _day_row(db, park, "2026-05-01")
    assert minutes == 60.0 and kg == pytest.approx(28.0)  # 280 × 100 000 × 1 h / 10⁶


@pytest.mark.integration
def test_maintenance_hours_are_substituted_and_over_range_counts(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    """Issue 16 item 6. 30 valid hours of 100 mg/m³ × 100 000 m³/h (10 kg/h), then 2 hours of
    maintenance (flag M), then one hour over range (flag T, 500 mg/m³ = the full scale, 50 kg):
    capture 31 / 33 = 94 %, each maintenance hour is (10 + 50) / 2 = 30 kg (HJ 75-2017). The
    over-range hour counts at 500 (a lower bound) and is an exceedance: 500 × 12 / 12 > 300."""
    from aggregation import indicator_job

    cems = device_id(db, park, "e1", "cems1")
    so2, o2, flow = (metric(c).id for c in ("stack.so2_mgm3", "stack.o2_pct", "stack.flow_m3h"))
    t0 = ms(2026, 5, 1, 16)  # 2026-05-02 00:00 in Shanghai
    valid, maint, over = [], [], []
    for minute in range(33 * 60):
        t = t0 + minute * 60_000
        hour = minute // 60
        conc = 500.0 if hour == 32 else 100.0
        block = [(cems, so2, t, conc), (cems, o2, t, 9.0), (cems, flow, t, 100_000.0)]
        (valid if hour < 30 else maint if hour < 32 else over).extend(block)
    store_readings(db, valid)
    store_readings(db, maint, flag=HJ212_FLAGS["M"])
    store_readings(db, [r for r in over if r[1] == so2], flag=HJ212_FLAGS["T"])
    store_readings(db, [r for r in over if r[1] != so2])
    drain(db)
    indicator_job.drain(db)
    day2, minutes2 = _day_row(db, park, "2026-05-02")
    assert day2 == pytest.approx(24 * 10.0) and minutes2 == 0.0
    day3, minutes3 = _day_row(db, park, "2026-05-03")
    # 6 valid hours (60 kg) + 2 substituted (60 kg) + the over-range hour (50 kg)
    assert day3 == pytest.approx(6 * 10 + 2 * 30 + 50) and minutes3 == 60.0
