"""Pure parts of the API: series planning, scoped WHERE clauses, live selections, stat shaping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from aggregation.indicators import Matched
from api.auth import Bureau, Principal, Role
from api.queries.scope import Where, tenant
from api.routes.live import SelectionError, parse_selection
from api.series import Aggregate, Interval, SeriesError, parse_pair, plan
from api.statistics import daily_aqi, shape

T0 = datetime(2026, 11, 1, tzinfo=UTC)
LIMITS = {"max_points": 1000, "max_series": 3, "max_raw_days": 7, "max_days": 400}


def _plan(pairs: list[str], hours: float, interval: Interval, aggs: list[Aggregate] | None = None):  # type: ignore[no-untyped-def]
    return plan(
        [parse_pair(x) for x in pairs],
        start=T0,
        end=T0 + timedelta(hours=hours),
        interval=interval,
        aggregates=aggs or [],
        **LIMITS,
    )  # type: ignore[arg-type]


def test_default_aggregate_follows_the_metric_kind() -> None:
    sp = _plan(["1:elec.import_kwh", "1:elec.power_kw", "2:safety.fire_alarm"], 24, Interval.H1)
    assert sp.aggregates == (Aggregate.CONSUMPTION, Aggregate.AVG, Aggregate.MAX)
    assert sp.limit_per_series == 333


@pytest.mark.parametrize(
    ("pairs", "hours", "interval", "aggs", "message"),
    [
        (["x:elec.power_kw"], 1, Interval.H1, None, "'x:elec.power_kw' is not"),
        (["1:elec.nope"], 1, Interval.H1, None, "unknown metric 'elec.nope'"),
        (["1:elec.power_kw"] * 2, 1, Interval.H1, None, "twice"),
        (["1:a.b", "2:c.d", "3:e.f", "4:g.h"], 1, Interval.H1, None, "unknown metric"),
        (["1:elec.power_kw"], 24 * 8, Interval.RAW, None, "exceeds 7 days"),
        (["1:elec.power_kw"], 24 * 30, Interval.M15, None, "cap of 1000 points"),
        (["1:elec.power_kw"], 1, Interval.H1, [Aggregate.CONSUMPTION], "needs a counter"),
        (["1:elec.power_kw", "2:elec.pf"], 1, Interval.H1, [Aggregate.MIN] * 3, "one per series"),
        (["1:elec.power_kw"], -1, Interval.H1, None, "must be after"),
    ],
)
def test_plans_refused_with_the_offending_value(
    pairs: list[str], hours: float, interval: Interval, aggs: list[Aggregate] | None, message: str
) -> None:
    with pytest.raises(SeriesError, match=message):
        _plan(pairs, hours, interval, aggs)


def test_too_many_series() -> None:
    with pytest.raises(SeriesError, match="at most 3"):
        _plan(
            ["1:elec.power_kw", "2:elec.power_kw", "3:elec.power_kw", "4:elec.power_kw"],
            1,
            Interval.H1,
        )


def test_naive_times_are_refused() -> None:
    with pytest.raises(SeriesError, match="time zone"):
        plan(
            [parse_pair("1:elec.power_kw")],
            start=datetime(2026, 1, 1),
            end=datetime(2026, 1, 2),
            interval=Interval.H1,
            aggregates=[],
            **LIMITS,
        )  # type: ignore[arg-type]


def test_tenant_clauses_bind_the_scope() -> None:
    ent = Principal(1, "e", Role.ENTERPRISE, park_id=4, enterprise_id=9)
    w = tenant(Where(), ent, park="e.park_id", enterprise="e.enterprise_id", category="m.category")
    assert w.params == {"s_park": 4, "s_ent": 9}
    assert "e.enterprise_id = %(s_ent)s" in w.sql and "%(s_cats)s" not in w.sql
    reg = Principal(2, "r", Role.REGULATOR, park_id=4, bureaus=(Bureau.EMERGENCY,))
    w = tenant(Where(), reg, park="a.park_id", enterprise="a.enterprise_id", category="a.category")
    assert w.params == {"s_park": 4, "s_cats": ["safety"]}
    admin = Principal(3, "a", Role.ADMIN)
    assert tenant(Where(), admin, park="x", enterprise="y", category="z").sql == "TRUE"
    with pytest.raises(ValueError, match="enterprise column"):
        tenant(Where(), ent, park="e.park_id")


def test_live_selection_is_validated() -> None:
    sel = parse_selection({"devices": [1, 2], "metrics": ["elec.power_kw"], "alarms": False}, 10)
    assert sel.devices == [1, 2] and sel.metric_ids == [3] and not sel.alarms
    for bad, message in (
        ([1], "JSON object"),
        ({"devices": ["1"]}, "device ids"),
        ({"devices": list(range(1, 12))}, "at most 10"),
        ({"x": 1}, "unknown field"),
        ({"metrics": ["nope"]}, "unknown metric"),
        ({"enterprise_id": True}, "not an id"),
    ):
        with pytest.raises(SelectionError, match=message):
            parse_selection(bad, 10)


def test_shape_hides_groups_outside_the_categories() -> None:
    row = {
        "period": date(2026, 2, 1),
        "readings": 5,
        "electricity_kwh": 10.0,
        "so2_kg": 1.5,
        "tce_equivalent": 1.0,
        "output_value": 100.0,
        "value_added": 50.0,
        "land_area_mu": 10.0,
    }
    matched = Matched({"tce_per_output": 0.01}, {"tce_per_output": {"reported": 1, "of": 1, "unit": "enterprises"}})
    row["notes"] = {"co2_t": "2023:north: no inner_mongolia figure in the 2023 table: north used"}
    full = shape(row, frozenset({"energy", "emissions", "environment", "safety"}), economic=True, matched=matched)
    assert full["energy"]["electricity_kwh"] == 10.0 and full["emissions"]["so2_kg"] == 1.5
    assert full["intensities"]["tce_per_output"] == 0.01 and full["coverage"] == matched.coverage
    assert full["notes"]["co2_t"].startswith("2023:north")
    env = shape(row, frozenset({"emissions", "environment"}), economic=False, matched=matched)
    assert env["notes"] == {}
    assert env["energy"] is None and env["intensities"] is None and env["emissions"]["so2_kg"] == 1.5
    assert env["economic"] is None  # issue 14, M4: no economic group where economic reports are refused
    blind = shape(row, frozenset({"energy", "emissions", "environment", "safety"}), economic=False, matched=matched)
    assert blind["economic"] is None and blind["intensities"] is None and blind["energy"]["tce_equivalent"] == 1.0


def test_daily_aqi_is_the_standards_worked_example() -> None:
    day = date(2025, 6, 1)  # HJ 633-2012 tables
    rows = [
        {"day": day, "metric": m, "mean": v}
        for m, v in (
            ("air.pm25_ugm3", 80),
            ("air.pm10_ugm3", 120),
            ("air.so2_ugm3", 20),
            ("air.no2_ugm3", 45),
            ("air.co_mgm3", 1.2),
            ("air.o3_ugm3", 170),
        )
    ]
    out = daily_aqi(rows)[day]
    assert out["aqi"] == 107 and out["primary"] == ["PM25"] and out["level"] == 3


def _o3_hours(day: date, hours: list[float]) -> list[dict[str, object]]:
    return [{"day": day, "hour": h, "mean": v} for h, v in enumerate(hours)]


def _five_at_50(day: date) -> list[dict[str, object]]:
    """Daily means at the IAQI 50 breakpoints (or below) of the five non-O3 items."""
    means = {"air.pm25_ugm3": 35, "air.pm10_ugm3": 50, "air.so2_ugm3": 20, "air.no2_ugm3": 40, "air.co_mgm3": 1.0}
    return [{"day": day, "metric": m, "mean": v} for m, v in means.items()]


def test_daily_aqi_includes_o3() -> None:
    """Issue 16 item 7. HJ 633-2012 5.1: the daily report indexes the O3 maximum 1 h and daily
    maximum 8 h. A day of clean air whose O3 peaks at 250 µg/m³ for one hour (others 100):
    O3 1 h 250 on table 1 (200-300 -> IAQI 100-150): 100 + 50 × 50 / 100 = 125; the best 8 h
    window (100 × 7 + 250) / 8 = 118.75 on the O3 8 h row (100-160 -> 50-100): 50 + 50 × 18.75 / 60
    = 65.6 -> 66. AQI 125 (primary O3 1 h), not 50."""
    day = date(2025, 6, 1)
    rows = _five_at_50(day)
    hours = [100.0] * 24
    hours[14] = 250.0
    out = daily_aqi(rows, _o3_hours(day, hours))[day]
    assert out["iaqi"]["O3_1H"] == 125 and out["iaqi"]["O3_8H"] == 66
    assert out["aqi"] == 125 and out["primary"] == ["O3_1H"]
    assert daily_aqi(rows)[day]["aqi"] == 50  # without O3: what the issue saw


def test_daily_aqi_2026_has_six_items_and_na() -> None:
    """HJ 633-2026: O3 daily maximum 8 h only (no O3 1 h); a missing item makes the AQI NA when
    the others do not exceed 100 (verify: public transcription of the 2026 text)."""
    day = date(2026, 3, 2)
    five = _five_at_50(day)
    hours = [100.0] * 24
    out = daily_aqi(five, _o3_hours(day, hours))[day]
    # O3 8 h 100 -> IAQI 50; PM2.5 35 -> 50; PM10 50 -> 50: AQI 50, no O3_1H item
    assert out["aqi"] == 50 and "O3_1H" not in out["iaqi"] and out["edition"] == "HJ 633-2026"
    na = daily_aqi(five)[day]
    assert na["aqi"] is None and na["missing"] == ["O3_8H"]


@pytest.mark.parametrize("text", ["¹:elec.power_kw", "٣:elec.power_kw", "0:elec.power_kw", "x:elec.power_kw", "1-elec"])
def test_series_pairs_take_ascii_device_ids_only(text: str) -> None:
    with pytest.raises(SeriesError, match="is not '<device_id>:<metric code>'"):
        parse_pair(text)


def test_tce_by_carrier_uses_the_gbt_2589_coefficients() -> None:
    from datetime import date

    from api.statistics import tce_by_carrier

    # GB/T 2589-2020 appendix A: raw coal 0.7143 kgce/kg, heat 0.03412 kgce/MJ, electricity
    # 0.1229 kgce/kWh (equivalent value). 10 t coal -> 7.143 tce; 100 GJ -> 3.412 tce;
    # 10 000 kWh imported less 2 000 exported -> 8 000 x 0.1229 / 1000 = 0.9832 tce.
    row = {
        "period": date(2026, 3, 1),
        "raw_coal_t": 10.0,
        "heat_gj": 100.0,
        "electricity_kwh": 10_000.0,
        "electricity_export_kwh": 2_000.0,
    }
    out = tce_by_carrier(row)
    assert out is not None
    assert out["raw_coal"] == pytest.approx(7.143)
    assert out["heat"] == pytest.approx(3.412)
    assert out["electricity"] == pytest.approx(0.9832)
    assert out["natural_gas"] == 0.0 and out["steam"] == 0.0
    assert tce_by_carrier({"period": date(2026, 3, 1)}) is None
