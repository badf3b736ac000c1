"""AQI per HJ 633 (both editions) with exact rounding and each edition's rules."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from smartpark.aqi import (
    MISSING,
    aqi,
    aqi_milli,
    category,
    edition_at_ms,
    edition_for,
    iaqi,
    o3_daily,
    thousandths_exact,
)


def test_worked_example_2012() -> None:
    r = aqi({"PM25": 80, "PM10": 120, "SO2": 20, "NO2": 45, "CO": 1.2, "O3_8H": 130, "O3_1H": 170})
    assert {p: int(v) for p, v in r.iaqi.items()} == {
        "PM25": 107,
        "PM10": 85,
        "SO2": 20,
        "NO2": 57,
        "CO": 30,
        "O3_8H": 75,
        "O3_1H": 63,
    }
    assert int(r.aqi) == 107 and int(r.level) == 3
    assert [p for p, m in r.primary.items() if m] == ["PM25"]
    assert category(107) == (3, "轻度污染", "lightly polluted")


def test_floating_point_trap_co_24h() -> None:
    assert 25 * (2.2 - 2) + 50 != 55  # the trap itself, in doubles
    assert int(aqi({"CO": 2.2}).iaqi["CO"]) == 55
    assert int(aqi_milli({"CO": thousandths_exact("2.2")}).iaqi["CO"]) == 55


def test_breakpoints_map_exactly_and_round_up() -> None:
    v = iaqi("PM25_24H", [0, 35_000, 35_001, 75_000, 500_000, 600_000]).value
    assert v.tolist() == [0, 50, 51, 100, 500, 500]
    assert iaqi("PM25_24H", [600_000]).beyond.tolist() == [True]


def test_2026_edition_changes_pm_only() -> None:
    conc = {"PM25": 80, "PM10": 120, "NO2": 45}
    old, new = aqi(conc, edition="2012"), aqi(conc, edition="2026")
    assert int(new.iaqi["PM10"]) == 100 and int(old.iaqi["PM10"]) == 85
    assert int(new.iaqi["PM25"]) == 119  # 100 + 50 * 20 / 55 = 118.18 -> 119
    assert int(new.iaqi["NO2"]) == int(old.iaqi["NO2"])
    assert edition_for(date(2026, 2, 28)) == "2012" and edition_for(date(2026, 3, 1)) == "2026"


def test_hourly_tables_and_so2_substitution() -> None:
    r = aqi({"SO2": 500, "NO2": 200, "CO": 10}, hourly=True)
    assert [int(r.iaqi[p]) for p in ("SO2", "NO2", "CO")] == [100, 100, 100]
    over = aqi({"SO2": 900}, hourly=True)  # not indexed on the 1 h table -> 24 h table
    assert int(over.iaqi["SO2"]) == 213 and bool(over.substituted["SO2"])  # 200 + 100*100/800
    given = aqi({"SO2": 900}, hourly=True, so2_24h=400)
    assert int(given.iaqi["SO2"]) == 139  # 100 + 50*250/325 = 138.46 -> 139


def test_o3_8h_above_800_uses_o3_1h() -> None:
    r = aqi({"O3_8H": 850, "O3_1H": 900})
    assert int(r.iaqi["O3_8H"]) == int(r.iaqi["O3_1H"]) == 350  # 300 + 100*100/200
    assert bool(r.substituted["O3_8H"])
    with pytest.raises(ValueError, match="O3 1 h"):
        aqi({"O3_8H": 850})


def test_ties_name_every_primary_and_clean_air_has_none() -> None:
    r = aqi({"PM25": 75, "PM10": 150, "NO2": 10})
    assert sorted(p for p, m in r.primary.items() if m) == ["PM10", "PM25"]
    assert not any(bool(m) for m in aqi({"PM25": 20}).primary.values())


def test_vectorised_over_stations_with_missing_values() -> None:
    r = aqi({"PM25": [80, np.nan, 10], "NO2": [45, 300, np.nan]})
    # NO2 300 on the 24 h table: 200 + 100*20/285 = 207.02 -> 208; PM2.5 10: 14.29 -> 15
    assert r.aqi.tolist() == [107, 208, 15]


# --- HJ 633-2026 (in force 2026-03-01; clauses per the public transcription of the MEE text: verify)

SIX_LOW = {"PM10": 40, "SO2": 10, "NO2": 20, "CO": 0.4, "O3_8H": 60}  # all IAQI <= 50


@pytest.mark.parametrize(
    ("pm25", "expected"),
    [
        # GB/T 8170-2008 3.3: exactly half rounds to even. 80.5 -> 80: 100 + 50 × 20 / 55 = 118.2 -> 119
        (80.5, 119),
        # 81.5 -> 82: 100 + 50 × 22 / 55 = 120 exactly
        (81.5, 120),
        # above half goes up: 80.51 -> 81: 100 + 50 × 21 / 55 = 119.1 -> 120
        (80.51, 120),
    ],
)
def test_2026_rounds_per_gbt_8170_before_the_iaqi(pm25: float, expected: int) -> None:
    r = aqi({"PM25": pm25, **SIX_LOW}, edition="2026")
    assert int(r.iaqi["PM25"]) == expected == int(r.aqi)


def test_2026_rounds_co_to_a_tenth_and_2012_does_not_round() -> None:
    # CO 24 h 0-2 mg/m³ -> IAQI 0-50. 2026: 1.25 -> 1.2 (even): 30; 1.35 -> 1.4: 35
    low = {k: v for k, v in SIX_LOW.items() if k != "CO"}
    assert int(aqi({"CO": 1.25, "PM25": 10, **low}, edition="2026").iaqi["CO"]) == 30
    assert int(aqi({"CO": 1.35, "PM25": 10, **low}, edition="2026").iaqi["CO"]) == 35
    # 2012 keeps the value: 25 × 1.25 = 31.25 -> 32
    assert int(aqi({"CO": 1.25}, edition="2012").iaqi["CO"]) == 32
    # 2012 PM2.5 80.5: 100 + 50 × 5.5 / 40 = 106.9 -> 107 (no rounding of the concentration)
    assert int(aqi({"PM25": 80.5}, edition="2012").iaqi["PM25"]) == 107


def test_2026_so2_1h_above_800_is_200_and_2012_substitutes() -> None:
    hour = {"PM25": 10, "PM10": 20, "NO2": 20, "CO": 0.5, "O3_1H": 50}
    new = aqi({"SO2": 900, **hour}, hourly=True, edition="2026")
    assert int(new.iaqi["SO2"]) == 200 and bool(new.capped["SO2"]) and not new.substituted
    # 2012: the 24 h table decides: 200 + 100 × (900 − 800) / 800 = 212.5 -> 213
    assert int(aqi({"SO2": 900}, hourly=True, edition="2012").iaqi["SO2"]) == 213
    # at 800 exactly both editions index the 1 h table: IAQI 200
    assert int(aqi({"SO2": 800, **hour}, hourly=True, edition="2026").iaqi["SO2"]) == 200


def test_2026_o3_8h_above_800_is_300_without_the_1h_value() -> None:
    r = aqi({"O3_8H": 850, "PM25": 10, "PM10": 20, "SO2": 10, "NO2": 20, "CO": 0.5}, edition="2026")
    assert int(r.iaqi["O3_8H"]) == 300 == int(r.aqi) and bool(r.capped["O3_8H"])


def test_2026_daily_report_has_six_items_and_realtime_pm_uses_24h_breakpoints() -> None:
    with pytest.raises(ValueError, match="not an item"):
        aqi({"O3_1H": 170, **SIX_LOW, "PM25": 10}, edition="2026")
    with pytest.raises(ValueError, match="not an item"):
        aqi({"O3_8H": 100}, hourly=True, edition="2026")
    # real time: PM2.5 1 h mean 80 on the 2026 24 h table: 100 + 50 × 20 / 55 = 118.2 -> 119
    r = aqi({"PM25": 80, "PM10": 20, "SO2": 10, "NO2": 20, "CO": 0.5, "O3_1H": 50}, hourly=True, edition="2026")
    assert int(r.iaqi["PM25"]) == 119 == int(r.aqi)


def test_2026_missing_item_gives_na_unless_others_exceed_100() -> None:
    low = aqi({"PM25": 20, "PM10": 40, "SO2": 10, "NO2": 20, "O3_8H": 60}, edition="2026")  # no CO
    assert int(low.aqi) == MISSING and bool(low.missing("CO"))
    # PM2.5 150 -> IAQI 200 (> 100): published although CO is missing
    high = aqi({"PM25": 150, "PM10": 40, "SO2": 10, "NO2": 20, "O3_8H": 60}, edition="2026")
    assert int(high.aqi) == 200 and bool(high.missing("CO"))
    # exactly 100 (PM2.5 60, the 2026 breakpoint of IAQI 100) is not "above 100": NA
    edge = aqi({"PM25": 60, "PM10": 40, "SO2": 10, "NO2": 20, "O3_8H": 60}, edition="2026")
    assert int(edge.aqi) == MISSING
    # 2012 has no such rule: the AQI of the items present
    assert int(aqi({"PM25": 20}, edition="2012").aqi) == 29  # 50 × 20 / 35 = 28.6 -> 29


def test_2026_has_no_exceeding_pollutants() -> None:
    r = aqi({"PM25": 150, **SIX_LOW}, edition="2026")
    assert not any(bool(r.exceeding(p)) for p in r.iaqi)
    assert bool(aqi({"PM25": 150}, edition="2012").exceeding("PM25"))


def test_edition_at_an_instant_is_by_beijing_date() -> None:
    # 2026-02-28T16:00:00Z is 2026-03-01 00:00 in Beijing
    assert edition_at_ms(1_772_294_400_000) == "2026"
    assert edition_at_ms(1_772_294_400_000 - 1) == "2012"


def test_o3_daily_maximum_8h_and_1h() -> None:
    # 60 all day but 180 from 12:00 to 16:00: the best 8 h window holds the four high hours:
    # (4 × 180 + 4 × 60) / 8 = 120
    hours = np.full(24, 60.0)
    hours[12:16] = 180.0
    assert o3_daily(hours) == (180.0, 120.0)
    # five hourly means only: no 8 h window reaches six (GB 3095-2012 validity), no 8 h figure
    five = np.full(24, np.nan)
    five[12:17] = 300.0
    max_1h, max_8h = o3_daily(five)
    assert max_1h == 300.0 and np.isnan(max_8h)
