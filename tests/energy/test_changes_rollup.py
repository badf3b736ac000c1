"""A recorded meter change inside the rollup job: the rollups, and so the indicators, count the
interval across it as its two exact parts, wherever it falls and whenever it is recorded."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st

from aggregation import indicator_job, job
from energy import changes
from smartpark.catalogue import metric
from smartpark.registry import load_model
from tests.support.factories import small_model, unique_code
from tests.support.readings import device_id, ms, store_readings

pytestmark = pytest.mark.integration
KWH = metric("elec.import_kwh").id
STEP_MS = 5 * 60_000
BASE = ms(2026, 7, 15)


@pytest.fixture
def meter(db: psycopg.Connection[Any]) -> int:
    model = small_model(unique_code())
    with db.transaction():
        load_model(db, model, broker=None)
    return device_id(db, model, "e1", "em1")


def _record(db: psycopg.Connection[Any], change: changes.Change) -> None:
    with db.transaction():
        changes.record(db, change=change, new_serial="N-2", note="", by="test")


def _totals(db: psycopg.Connection[Any], dev: int) -> tuple[float, float, int]:
    """(15-minute consumption, daily consumption, resets) of the meter after the rollup job."""
    job.drain(db)
    row = db.execute(
        "SELECT (SELECT sum(consumption) FROM rollup_15m WHERE device_id = %(d)s AND metric_id = %(m)s),"
        " (SELECT sum(consumption) FROM rollup_1d WHERE device_id = %(d)s AND metric_id = %(m)s),"
        " (SELECT sum(resets) FROM rollup_15m WHERE device_id = %(d)s AND metric_id = %(m)s)",
        {"d": dev, "m": KWH},
    ).fetchone()
    assert row is not None
    return float(row[0]), float(row[1]), int(row[2])


def _day_kwh(db: psycopg.Connection[Any], dev: int) -> float:
    """The electricity of the meter's enterprise on 2026-07-15 (Asia/Shanghai) after both jobs."""
    job.drain(db)
    indicator_job.drain(db)
    row = db.execute(
        "SELECT i.electricity_kwh FROM indicator_daily i JOIN devices d USING (enterprise_id)"
        " WHERE d.device_id = %s AND i.day = '2026-07-15'",
        (dev,),
    ).fetchone()
    assert row is not None
    return float(row[0])


def test_a_change_worked_by_hand_is_no_reset(db: psycopg.Connection[Any], meter: int) -> None:
    # 00:05Z old register 5000, 00:10Z 5002; replaced at 00:12Z, the old one reading 5003 and the
    # new one 12; 00:20Z the new one reads 20. Across the change 1 + 8 = 9 kWh, not 20 from zero.
    store_readings(db, [(meter, KWH, BASE + 300_000, 5000.0), (meter, KWH, BASE + 600_000, 5002.0)])
    store_readings(db, [(meter, KWH, BASE + 1_200_000, 20.0)])
    assert _totals(db, meter) == (22.0, 22.0, 1)  # the counter rule alone: 2, then 20 counted from zero
    assert _day_kwh(db, meter) == 22.0
    _record(db, changes.Change(meter, KWH, BASE + 720_000, 5003.0, 12.0))
    assert _totals(db, meter) == (11.0, 11.0, 0)  # 2 + (1 + 8): the change queued its bucket again
    assert _day_kwh(db, meter) == 11.0  # and the day's indicator follows


def _days_kwh(db: psycopg.Connection[Any], dev: int) -> dict[str, float]:
    """Electricity per local day of the meter's enterprise after both jobs."""
    job.drain(db)
    indicator_job.drain(db)
    rows = db.execute(
        "SELECT i.day::text, i.electricity_kwh FROM indicator_daily i JOIN devices d USING (enterprise_id)"
        " WHERE d.device_id = %s ORDER BY 1",
        (dev,),
    ).fetchall()
    return {day: float(kwh) for day, kwh in rows}


def test_the_old_registers_last_part_stays_in_the_day_of_the_change(db: psycopg.Connection[Any], meter: int) -> None:
    # Read once a day (Asia/Shanghai): the old register 5000 kWh at 08:00 of the 14th (00:00Z);
    # replaced at 20:00 (12:00Z), the old one reading 5010 and the new one 0; the new one reads 6
    # at 08:00 of the 15th. Each part shared by time over its own interval: the old 10 kWh all on
    # the 14th (08:00-20:00); the new 6 kWh over 20:00-08:00, 4 of its 12 hours on the 14th, so
    # 2 kWh there and 4 on the 15th. The 14th 12 kWh, the 15th 4; not the whole 16 kWh shared
    # over the 24 hours as if one interval (10.67 and 5.33), nor the reset's 6 (4 and 12).
    store_readings(db, [(meter, KWH, ms(2026, 7, 14), 5000.0), (meter, KWH, ms(2026, 7, 15), 6.0)])
    _record(db, changes.Change(meter, KWH, ms(2026, 7, 14, 12), 5010.0, 0.0))
    days = _days_kwh(db, meter)
    assert days["2026-07-14"] == pytest.approx(12.0)
    assert days["2026-07-15"] == pytest.approx(4.0)


@examples(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    old_steps=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=12),
    new_steps=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=12),
    tail=st.floats(0.0, 3.0),
    old_start=st.floats(0.0, 1e6),
    new_initial=st.floats(0.0, 1e6),
    offset_s=st.integers(0, 899),  # where in a quarter hour the readings start
    split=st.integers(1, 42),  # the change 7 s to 294 s after the last old reading
    order=st.sampled_from(["after_readings", "before_new_readings", "between_drains"]),
)
def test_property_consumption_is_conserved_across_a_change_through_the_rollup_job(
    db: psycopg.Connection[Any],
    meter: int,
    old_steps: list[float],
    new_steps: list[float],
    tail: float,
    old_start: float,
    new_initial: float,
    offset_s: int,
    split: int,
    order: str,
) -> None:
    """The 15-minute and daily rollups of a meter replaced once add up to (old final − first
    reading) + (last reading − new initial), with no reset, whether the change is recorded after
    every reading is rolled up, before the new register's readings arrive, or between two runs."""
    with db.transaction():  # a fresh history for each example (test set-up, not product writes)
        for table in ("telemetry", "rollup_15m", "rollup_1h", "rollup_1d", "energy_meter_changes"):
            db.execute(f"DELETE FROM {table} WHERE device_id = %s", (meter,))
    start = BASE + offset_s * 1000
    old = [old_start]
    for s in old_steps:
        old.append(old[-1] + s)
    new = [new_initial + new_steps[0]]
    for s in new_steps[1:]:
        new.append(new[-1] + s)
    t_old = [start + STEP_MS * i for i in range(len(old))]
    at = t_old[-1] + split * 7_000
    t_new = [t_old[-1] + STEP_MS * (i + 1) for i in range(len(new))]
    old_rows = [(meter, KWH, t, v) for t, v in zip(t_old, old, strict=True)]
    new_rows = [(meter, KWH, t, v) for t, v in zip(t_new, new, strict=True)]
    change = changes.Change(meter, KWH, at, old[-1] + tail, new_initial)
    if order == "after_readings":
        store_readings(db, old_rows + new_rows)
        _totals(db, meter)
        _record(db, change)
    elif order == "before_new_readings":
        store_readings(db, old_rows)
        _record(db, change)
        store_readings(db, new_rows)
    else:
        store_readings(db, old_rows)
        _totals(db, meter)
        _record(db, change)
        store_readings(db, new_rows)
    fine, daily, resets = _totals(db, meter)
    expected = (old[-1] + tail - old[0]) + (new[-1] - new_initial)
    assert fine == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert daily == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert resets == 0
