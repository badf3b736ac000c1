"""The incremental rollup job against the real TimescaleDB."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from aggregation.job import drain
from smartpark.catalogue import FLAG_RECEIPT_TIME, metric
from tests.support.readings import device_id, ms, store_readings

pytestmark = pytest.mark.integration

KWH = metric("elec.import_kwh").id
KW = metric("elec.power_kw").id


def rollup_rows(db: psycopg.Connection[Any], table: str, dev: int, met: int) -> list[tuple[Any, ...]]:
    return db.execute(
        f"SELECT (extract(epoch FROM bucket) * 1000)::int8, count, sum, min, max, first, last,"
        f" consumption, coverage, resets FROM {table}"
        " WHERE device_id = %s AND metric_id = %s ORDER BY bucket",
        (dev, met),
    ).fetchall()


def test_gauge_rollups_15m_1h_1d(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    dev = device_id(db, park, "e1", "em1")
    t0 = ms(2026, 1, 31, 15, 50)  # 23:50 in Shanghai; the next 10 minutes are February
    store_readings(db, [(dev, KW, t0 + i * 60_000, float(i)) for i in range(20)])
    drain(db)
    q = rollup_rows(db, "rollup_15m", dev, KW)
    assert [r[0] for r in q] == [ms(2026, 1, 31, 15, 45), ms(2026, 1, 31, 16, 0)]
    assert [r[1] for r in q] == [10, 10]
    assert sum(r[1] for r in q) == 20
    assert q[0][2] == sum(range(10)) and q[0][3] == 0 and q[0][4] == 9
    assert q[0][8] == pytest.approx(10 / 15)
    h = rollup_rows(db, "rollup_1h", dev, KW)
    assert [r[1] for r in h] == [10, 10]
    d = rollup_rows(db, "rollup_1d", dev, KW)
    assert [r[0] for r in d] == [ms(2026, 1, 30, 16), ms(2026, 1, 31, 16)]  # local midnights
    assert [r[1] for r in d] == [10, 10]
    assert d[0][7] is None  # gauges have no consumption
    assert db.execute("SELECT count(*) FROM telemetry_touched").fetchone() == (0,)


def test_counter_late_data_and_rerun_do_not_double_count(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    dev = device_id(db, park, "e1", "em1")
    t0 = ms(2026, 3, 1, 0, 0)
    # every 5 minutes, +10 kWh, for 2 hours; the reading at 00:40 (last of its bucket) arrives late
    rows = [(dev, KWH, t0 + i * 300_000, 1000.0 + 10 * i) for i in range(25)]
    late = rows.pop(8)
    store_readings(db, rows)
    drain(db)
    total = db.execute(
        "SELECT sum(consumption) FROM rollup_15m WHERE device_id = %s AND metric_id = %s", (dev, KWH)
    ).fetchone()
    assert total == (240.0,)
    before = {r[0]: r[7] for r in rollup_rows(db, "rollup_15m", dev, KWH)}
    assert before[t0 + 30 * 60_000] == 20.0
    assert before[t0 + 45 * 60_000] == 40.0  # 00:45's delta reaches back to 00:35
    store_readings(db, [late])
    drain(db)
    after = {r[0]: r[7] for r in rollup_rows(db, "rollup_15m", dev, KWH)}
    assert sum(after.values()) == 240.0
    assert after[t0 + 30 * 60_000] == 30.0  # 00:30, 00:35, 00:40 deltas
    assert after[t0 + 45 * 60_000] == 30.0
    # a rerun with every bucket queued again changes nothing
    db.execute(
        "INSERT INTO telemetry_touched SELECT device_id, metric_id, bucket FROM rollup_15m"
        " WHERE device_id = %s ON CONFLICT DO NOTHING",
        (dev,),
    )
    drain(db)
    assert {r[0]: r[7] for r in rollup_rows(db, "rollup_15m", dev, KWH)} == after
    hours = rollup_rows(db, "rollup_1h", dev, KWH)
    assert [r[7] for r in hours] == [110.0, 120.0, 10.0]


def test_counter_reset_and_rollover_at_register_max(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    dev = device_id(db, park, "e1", "em1")  # register_max 99 999 999.99
    t0 = ms(2026, 3, 2)
    values = [99_999_990.0, 99_999_999.0, 4.0, 10.0, 3.0, 8.0]  # rollover, then a reset to 0
    store_readings(db, [(dev, KWH, t0 + i * 60_000, v) for i, v in enumerate(values)])
    drain(db)
    (row,) = rollup_rows(db, "rollup_15m", dev, KWH)
    # 99999999.00 -> 99999999.99 -> (wrap, one step of 0.01) 0.00 -> 4.00: 0.99 + 0.01 + 4 = 5.00
    assert row[7] == pytest.approx(9 + 5.00 + 6 + 3 + 5)
    assert row[9] == 2


def test_invalid_flag_readings_are_left_out_and_unknown_devices_skipped(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    dev = device_id(db, park, "e1", "em1")
    t0 = ms(2026, 3, 3)
    store_readings(db, [(dev, KW, t0, 5.0)])
    store_readings(db, [(dev, KW, t0 + 60_000, 500.0)], flag=4)  # HJ 212 D: fault
    store_readings(db, [(999_999, KW, t0, 1.0)])
    stats = drain(db)
    assert sum(s.unknown_series for s in stats) == 1
    (row,) = rollup_rows(db, "rollup_15m", dev, KW)
    assert row[1] == 1 and row[2] == 5.0
    store_readings(db, [(999_999, KW, t0 + 60_000, 1.0)])  # a batch of nothing but unknown series
    assert [s.unknown_series for s in drain(db)] == [1]
    assert db.execute("SELECT count(*) FROM telemetry_touched WHERE device_id = 999999").fetchone() == (0,)


def test_receipt_time_readings_count_and_a_meter_sending_only_them_has_consumption(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    """Flag 64 (no device ts, stamped on receipt) is valid data: alarms use it, so rollups do."""
    dev = device_id(db, park, "e1", "em1")
    t0 = ms(2026, 3, 4)
    store_readings(db, [(dev, KWH, t0 + i * 60_000, 100.0 + 2 * i) for i in range(5)], flag=FLAG_RECEIPT_TIME)
    store_readings(db, [(dev, KWH, t0 + 5 * 60_000, 1000.0)], flag=FLAG_RECEIPT_TIME | 4)  # fault: out
    drain(db)
    (row,) = rollup_rows(db, "rollup_15m", dev, KWH)
    assert row[1] == 5 and row[7] == 8.0  # 100, 102, ..., 108: four steps of 2 kWh


def test_end_to_end_stored_readings_to_indicator_rows(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    from aggregation import economic, indicator_job

    em1 = device_id(db, park, "e1", "em1")
    cems = device_id(db, park, "e1", "cems1")
    gm = device_id(db, park, "e2", "gm1")
    so2, flow = metric("stack.so2_mgm3").id, metric("stack.flow_m3h").id
    gas = metric("gas.volume_nm3").id
    t0 = ms(2026, 4, 30, 16)  # 2026-05-01 00:00 in Shanghai
    rows = []
    for i in range(0, 24 * 60 + 1, 15):  # the whole local day, every 15 minutes, plus the next midnight
        t = t0 + i * 60_000
        rows.append((em1, KWH, t, 5000.0 + 25.0 * i / 15))  # 100 kWh per hour
        rows.append((gm, gas, t, 100.0 + 10.0 * i / 15))  # 40 Nm³ per hour
    o2 = metric("stack.o2_pct").id
    for i in range(24 * 60):  # the CEMS every minute: every hourly mean is valid (HJ 75: >= 45 minutes)
        t = t0 + i * 60_000
        # coal boiler (reference O2 9 %): 280 mg/m³ at 12 % O2 is 280 × 12 / 9 = 373.3 at 9 %,
        # above GB 13271-2014 table 2's 300 although the measured value is below it
        rows += [(cems, so2, t, 280.0), (cems, flow, t, 100_000.0), (cems, o2, t, 12.0)]
    store_readings(db, rows)
    drain(db)
    ids = dict(
        db.execute(
            "SELECT e.code, e.enterprise_id FROM enterprises e JOIN parks p USING (park_id) WHERE p.code = %s",
            (park["parks"][0]["code"],),
        ).fetchall()
    )
    economic.store(
        db,
        reports=economic.parse(
            f"park,enterprise,month,output_value,value_added,tax,fixed_asset_investment,employees\n"
            f"{park['parks'][0]['code']},e1,2026-05,1000,250,40,300,120\n".encode(),
            today=date(2026, 6, 1),
        ),
        source="test.csv",
    )
    indicator_job.drain(db)
    day = db.execute(
        "SELECT enterprise_id, electricity_kwh, natural_gas_nm3, so2_kg, exceedance_minutes, tce_equivalent, co2_t"
        " FROM indicator_daily WHERE day = '2026-05-01'"
        " AND park_id = (SELECT park_id FROM parks WHERE code = %s) ORDER BY enterprise_id NULLS LAST",
        (park["parks"][0]["code"],),
    ).fetchall()
    e1, e2, total = day
    assert e1[0] == ids["e1"] and e2[0] == ids["e2"] and total[0] is None
    # the first reading of the day has no predecessor; the interval 23:45-00:00 ends with the next
    # day's first reading and lies wholly in this day (linear apportionment): 96 intervals
    assert e1[1] == pytest.approx(96 * 25.0)
    assert e2[2] == pytest.approx(96 * 10.0)
    assert e1[3] == pytest.approx(24 * 280 * 100_000 / 1e6)  # 24 hours × 28 kg
    assert e1[4] == pytest.approx(24 * 60.0)  # 24 exceeding hourly means, 60 minutes each
    assert total[5] == pytest.approx(96 * 25 * 0.1229 / 1000 + 96 * 10 * 1.2143 / 1000)
    assert total[6] > 0
    month = db.execute(
        "SELECT electricity_kwh, output_value, tce_per_value_added, output_per_mu, enterprises"
        " FROM indicator_monthly WHERE month = '2026-05-01' AND enterprise_id = %s",
        (ids["e1"],),
    ).fetchone()
    assert month is not None
    assert month[0] == pytest.approx(96 * 25.0) and month[1] == 1000
    assert month[2] == pytest.approx(96 * 25 * 0.1229 / 1000 / 250)
    assert month[3] == pytest.approx(1000 / 300)
    park_month = db.execute(
        "SELECT output_value, enterprises, tce_per_value_added, coverage, notes FROM indicator_monthly"
        " WHERE month = '2026-05-01' AND enterprise_id IS NULL"
        " AND park_id = (SELECT park_id FROM parks WHERE code = %s)",
        (park["parks"][0]["code"],),
    ).fetchone()
    assert park_month is not None and park_month[:2] == (1000, 2)
    # issue 16 item 16: e2 sent no report, so its gas stays out of the park's intensity
    assert park_month[2] == pytest.approx(96 * 25 * 0.1229 / 1000 / 250)
    assert park_month[3]["tce_per_value_added"] == {"reported": 1, "of": 2, "unit": "enterprise-months"}
    # item 11: the park is on the East China grid; 2026 has no table: 2023's, noted
    assert park_month[4]["co2_t"].startswith("2023:east: data year 2026 has no table yet")


@pytest.mark.parametrize(("mode", "expected"), [("linear", [20.0, 20.0, 8.0]), ("later", [0.0, 40.0, 8.0])])
def test_a_gap_across_a_month_end_is_apportioned_by_time(
    db: psycopg.Connection[Any], park: dict[str, Any], mode: str, expected: list[float]
) -> None:
    """Issue 16 item 15: readings 22:00 on 31 July and 02:00 on 1 August (Shanghai), 40 kWh
    apart: linear gives each day 2 h of 4 h = 20 kWh, July and August 20 each; the later mode
    puts all 40 into 1 August. Then 8 kWh within 1 August. Totals are equal either way."""
    from aggregation import indicator_job

    em1 = device_id(db, park, "e1", "em1")
    july_22h = ms(2026, 7, 31, 14)  # 22:00 in Shanghai
    readings = [(july_22h, 1000.0), (july_22h + 4 * 3_600_000, 1040.0), (july_22h + 5 * 3_600_000, 1048.0)]
    store_readings(db, [(em1, KWH, t, v) for t, v in readings])
    drain(db)
    indicator_job.drain(db, gap_apportionment=mode)  # type: ignore[arg-type]
    days = dict(
        db.execute(
            "SELECT day, electricity_kwh FROM indicator_daily WHERE enterprise_id = %s"
            " AND day BETWEEN '2026-07-31' AND '2026-08-01'",
            (db.execute("SELECT enterprise_id FROM devices WHERE device_id = %s", (em1,)).fetchone()[0],),  # type: ignore[index]
        ).fetchall()
    )
    got = [days[date(2026, 7, 31)], days[date(2026, 8, 1)]]
    # 1 August: 20 (or 40) from the gap + 8 within the day
    assert got == pytest.approx([expected[0], expected[1] + expected[2]])
    months = db.execute(
        "SELECT month, electricity_kwh FROM indicator_monthly WHERE enterprise_id IS NULL"
        " AND park_id = (SELECT park_id FROM parks WHERE code = %s) AND month IN ('2026-07-01', '2026-08-01')"
        " ORDER BY month",
        (park["parks"][0]["code"],),
    ).fetchall()
    assert [m[1] for m in months] == pytest.approx([expected[0], expected[1] + expected[2]])
    assert sum(m[1] for m in months) == pytest.approx(48.0)  # conserved
    # the raw readings expire; an economic report later recomputes the days: figures stand
    db.execute("DELETE FROM telemetry WHERE device_id = %s", (em1,))
    pid = db.execute("SELECT park_id FROM parks WHERE code = %s", (park["parks"][0]["code"],)).fetchone()[0]  # type: ignore[index]
    db.execute(
        "INSERT INTO aggregation_dirty_days VALUES (%s, '2026-07-31'), (%s, '2026-08-01') ON CONFLICT DO NOTHING",
        (pid, pid),
    )
    db.commit()
    indicator_job.drain(db, gap_apportionment=mode, raw_from_ms=ms(2026, 9, 1))  # type: ignore[arg-type]
    again = db.execute(
        "SELECT electricity_kwh FROM indicator_daily WHERE park_id = %s AND enterprise_id IS NULL"
        " AND day BETWEEN '2026-07-31' AND '2026-08-01' ORDER BY day",
        (pid,),
    ).fetchall()
    assert [r[0] for r in again] == pytest.approx([expected[0], expected[1] + expected[2]])


def test_an_interval_not_yet_rolled_up_is_not_apportioned_so_no_day_goes_negative(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    """Issue 16 item 15, with the indicator job ahead of the rollup job: 22:00 on 31 July and
    02:00 on 1 August, 40 kWh apart. While the 02:00 reading's bucket waits for its rollup,
    1 August holds none of the 40 kWh, so taking 40 from it would show -20 kWh. Nothing moves
    until the rollup lands; then each day gets its 20 kWh."""
    from aggregation import indicator_job

    em1 = device_id(db, park, "e1", "em1")
    july_22h = ms(2026, 7, 31, 14)  # 22:00 in Shanghai
    store_readings(db, [(em1, KWH, july_22h, 1000.0)])
    drain(db)
    indicator_job.drain(db, gap_apportionment="linear")
    store_readings(db, [(em1, KWH, july_22h + 4 * 3_600_000, 1040.0)])  # not rolled up yet
    pid = db.execute("SELECT park_id FROM parks WHERE code = %s", (park["parks"][0]["code"],)).fetchone()[0]  # type: ignore[index]
    db.execute(
        "INSERT INTO aggregation_dirty_days VALUES (%s, '2026-07-31'), (%s, '2026-08-01') ON CONFLICT DO NOTHING",
        (pid, pid),
    )
    db.commit()

    def park_days() -> list[float]:
        rows = db.execute(
            "SELECT electricity_kwh FROM indicator_daily WHERE park_id = %s AND enterprise_id IS NULL"
            " AND day BETWEEN '2026-07-31' AND '2026-08-01' ORDER BY day",
            (pid,),
        ).fetchall()
        return [r[0] for r in rows]

    indicator_job.drain(db, gap_apportionment="linear")
    assert park_days() == pytest.approx([0.0, 0.0])
    drain(db)  # the rollup job credits the 40 kWh to 1 August and marks the days
    indicator_job.drain(db, gap_apportionment="linear")
    assert park_days() == pytest.approx([20.0, 20.0])


def test_a_late_reading_in_an_old_gap_recomputes_every_day_it_spans(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    """A gap from 12:00 on 1 Sept to 12:00 on 4 Sept (72 h, 720 kWh): 120, 240, 240, 120. A
    reading of 12:00 on 2 Sept arriving late (value 1400) splits it: 400 in 24 h (200, 200)
    and 320 in 48 h (80, 160, 80): 200, 280, 160, 80, every day recomputed, still 720."""
    from aggregation import indicator_job

    em1 = device_id(db, park, "e1", "em1")
    noon = ms(2026, 9, 1, 4)  # 12:00 in Shanghai
    day_ms = 86_400_000
    store_readings(db, [(em1, KWH, noon, 1000.0), (em1, KWH, noon + 3 * day_ms, 1720.0)])
    drain(db)
    indicator_job.drain(db)

    def kwh() -> list[float]:
        return [
            r[0]
            for r in db.execute(
                "SELECT electricity_kwh FROM indicator_daily i JOIN devices d USING (enterprise_id)"
                " WHERE d.device_id = %s AND i.day BETWEEN '2026-09-01' AND '2026-09-04' ORDER BY i.day",
                (em1,),
            ).fetchall()
        ]

    assert kwh() == pytest.approx([120.0, 240.0, 240.0, 120.0])
    store_readings(db, [(em1, KWH, noon + day_ms, 1400.0)])
    drain(db)
    indicator_job.drain(db)
    assert kwh() == pytest.approx([200.0, 200.0 + 80.0, 160.0, 80.0])


def test_a_year_without_coefficients_loses_those_figures_only(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    """Issue 16 item 12: 2015 has no equal value (table from data year 2016) and no grid CO2
    factor (from 2021); the batch holding it goes on, with 2026 days computed beside it."""
    from aggregation import indicator_job

    rows = []
    for ent, t0 in (("e1", ms(2015, 6, 1, 1)), ("e2", ms(2026, 6, 2, 1))):  # two meters: no delta between
        rows += [(device_id(db, park, ent, "em1"), KWH, t0 + i * 60_000, 100.0 + 10 * i) for i in range(3)]
    store_readings(db, rows)
    drain(db)
    indicator_job.drain(db)
    got = db.execute(
        "SELECT day, electricity_kwh, tce_equivalent, tce_equal, co2_t, notes FROM indicator_daily"
        " WHERE enterprise_id IS NULL AND park_id = (SELECT park_id FROM parks WHERE code = %s)"
        " AND day IN ('2015-06-01', '2026-06-02') ORDER BY day",
        (park["parks"][0]["code"],),
    ).fetchall()
    old, new = got
    # 20 kWh × 0.1229 kgce/kWh (GB/T 2589-2020) = 2.458 kgce
    assert old[1] == 20.0 and old[2] == pytest.approx(0.002458) and old[3] is None and old[4] is None
    assert old[5]["tce_equal"].startswith("missing: no electricity equal value for data year 2015")
    assert old[5]["co2_t"].startswith("missing: no electricity CO2 factor for data year 2015")
    # 2026: 20 kWh × 0.3007 (2022's thermal figure, provisional) and × 0.5500 (East China 2023)
    assert new[3] == pytest.approx(20 * 0.3007 / 1000) and new[4] == pytest.approx(20 * 0.55 / 1000)
    assert "provisional" in new[5]["tce_equal"]


def test_steam_counts_in_co2_at_each_meter_s_enthalpy(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    """Issue 16 item 10: 2 t at 3009.6 kJ/kg (superheated 2.5 MPa / 300 °C, IAPWS-IF97) and
    3 t at the default 2777.1 kJ/kg: 2 × 2.92586 + 3 × 2.69336 = 13.93180 GJ; × 0.11 tCO2/GJ
    (GHG accounting guidelines, verify) = 1.532498 t; standard coal 5 t × 0.1286 = 0.643 tce."""
    from aggregation import indicator_job

    e1 = db.execute(
        "SELECT e.enterprise_id FROM enterprises e JOIN parks p USING (park_id) WHERE p.code = %s AND e.code = 'e1'",
        (park["parks"][0]["code"],),
    ).fetchone()[0]  # type: ignore[index]
    steam = metric("steam.mass_t").id
    devs = [
        db.execute(
            "INSERT INTO devices (enterprise_id, code, kind, attributes) VALUES (%s, %s, 'steam_meter', %s)"
            " RETURNING device_id",
            (e1, code, Jsonb(attrs)),
        ).fetchone()[0]  # type: ignore[index]
        for code, attrs in (("sm1", {"steam_enthalpy_kj_kg": 3009.6}), ("sm2", {}))
    ]
    db.commit()
    t0 = ms(2026, 6, 1, 1)  # 09:00 in Shanghai
    store_readings(db, [(devs[0], steam, t0 + i * 60_000, 10.0 + i) for i in range(3)])
    store_readings(db, [(devs[1], steam, t0 + i * 60_000, 50.0 + 1.5 * i) for i in range(3)])
    drain(db)
    indicator_job.drain(db)
    row = db.execute(
        "SELECT steam_t, steam_heat_gj, co2_t, tce_equivalent FROM indicator_daily WHERE enterprise_id = %s"
        " AND day = '2026-06-01'",
        (e1,),
    ).fetchone()
    assert row is not None
    assert row[0] == pytest.approx(5.0) and row[1] == pytest.approx(13.93180)
    assert row[2] == pytest.approx(1.532498) and row[3] == pytest.approx(0.643)


def test_many_dense_windows_take_the_range_scan_and_agree(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    from aggregation.windows import MIN_WINDOWS_FOR_SCAN

    dev = device_id(db, park, "e2", "em1")
    t0 = ms(2026, 7, 1)
    n = 2 * MIN_WINDOWS_FOR_SCAN + 2  # readings in every other bucket: as many windows, half dense
    store_readings(db, [(dev, KWH, t0 + i * 2 * 900_000 + 60_000, 10.0 * i) for i in range(n)])
    store_readings(db, [(dev, KW, t0 + i * 2 * 900_000 + 60_000, 1.0) for i in range(n)])
    drain(db)
    rows = rollup_rows(db, "rollup_15m", dev, KWH)
    assert len(rows) == n and [r[7] for r in rows] == [0.0] + [10.0] * (n - 1)
    assert len(rollup_rows(db, "rollup_15m", dev, KW)) == n


def test_parts_read_on_a_second_connection_agree_with_one_pass(
    db: psycopg.Connection[Any], park: dict[str, Any], db_url: str
) -> None:
    """The pipelined job (parts of whole devices, readings read by a thread on another
    connection) writes the same rows as one sequential pass over the same queue."""
    devices = [device_id(db, park, e, d) for e, d in (("e1", "em1"), ("e1", "wm1"), ("e2", "em1"), ("e2", "gm1"))]
    t0 = ms(2026, 8, 1, 15)
    rows = []
    for k, dev in enumerate(devices):
        rows += [(dev, KWH, t0 + i * 60_000 + k * 7_000, 100.0 * k + 2.5 * i) for i in range(150)]
        rows += [(dev, KW, t0 + i * 60_000, float((i * 37 + k) % 50)) for i in range(150)]
    store_readings(db, rows)
    with psycopg.connect(db_url, autocommit=True) as reader:
        stats = drain(db, reader=reader, part_readings=100)
    assert sum(s.readings for s in stats) == len(rows)
    tables = ("rollup_15m", "rollup_1h", "rollup_1d")
    piped = {t: [rollup_rows(db, t, dev, m) for dev in devices for m in (KWH, KW)] for t in tables}
    assert len(piped["rollup_15m"][0]) == 10 and piped["rollup_15m"][0][1][7] == 37.5
    db.execute(
        "INSERT INTO telemetry_touched SELECT device_id, metric_id, bucket FROM rollup_15m"
        " WHERE device_id = ANY(%s) ON CONFLICT DO NOTHING",
        (devices,),
    )
    drain(db)
    assert {t: [rollup_rows(db, t, dev, m) for dev in devices for m in (KWH, KW)] for t in tables} == piped
