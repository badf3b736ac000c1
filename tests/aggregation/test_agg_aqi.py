"""AQI per HJ 633 with exact rounding and the substitution rules."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from aggregation.aqi import aqi, aqi_milli, category, edition_for, iaqi, thousandths_exact


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
