"""Worked examples of standards.md: standard coal, CO2, O2 correction, emitted mass."""

from __future__ import annotations

import pytest

from aggregation import coefficients as co
from aggregation import conversions as cv
from aggregation import grid_factors as grid


def test_standard_coal_examples_gbt_2589() -> None:
    assert cv.standard_coal_t("electricity", 1_000_000, year=2025) == pytest.approx(122.9)
    assert cv.standard_coal_t("natural_gas", 100_000, year=2025) == pytest.approx(121.43)
    assert cv.standard_coal_t("raw_coal", 500, year=2025) == pytest.approx(357.15)  # 500 t
    assert cv.standard_coal_t("heat", 1, year=2025) == pytest.approx(0.03412)  # 1 GJ


def test_electricity_equal_value_uses_previous_year() -> None:
    """GB/T 2589-2020: equal value = the coal used to make the kWh: the previous year's thermal
    power coal use per kWh supplied (CEC 2022: 300.7 gce/kWh; secondary figure, verify)."""
    chosen = cv.electricity_equal_value(2023)
    assert chosen.key == "2022" and chosen.value == pytest.approx(0.3007) and chosen.note is None
    # 1000 kWh × 0.3007 kgce/kWh = 300.7 kgce = 0.3007 tce
    assert cv.standard_coal_t("electricity", 1000, year=2023, basis="equal") == pytest.approx(0.3007)


@pytest.mark.parametrize(
    ("data_year", "thermal_year", "gce_per_kwh"),
    [(2016, "2015", 315.0), (2019, "2018", 307.6), (2020, "2019", 306.4), (2021, "2020", 305.5)],
)
def test_equal_value_covers_2020_and_earlier(data_year: int, thermal_year: str, gce_per_kwh: float) -> None:
    """Issue 16 item 12: data years 2016-2021 (CEC thermal power coal use, verify)."""
    chosen = cv.electricity_equal_value(data_year)
    assert chosen.key == thermal_year and chosen.value == pytest.approx(gce_per_kwh / 1000)


def test_equal_value_outside_the_table_is_a_named_error_or_a_noted_provisional_figure() -> None:
    with pytest.raises(cv.NoFactor, match=r"data year 2015: .* covers data years 2016-2023"):
        cv.electricity_equal_value(2015)
    later = cv.electricity_equal_value(2026)
    assert later.key == "2022" and later.note is not None and "provisional" in later.note


def test_co2_factor_of_a_province_in_its_year() -> None:
    """MEE/NBS data year 2021 (announcement 2024 No. 12) and 2022: Inner Mongolia 0.7025 and
    0.6849 kgCO2/kWh (2022: standards.md §2; 2021: transcription of the annex, verify)."""
    for region in ("inner_mongolia", "inner_mongolia_west", "inner_mongolia_east"):
        c21 = cv.co2_electricity_factor(2021, region)
        assert (c21.key, c21.value, c21.note) == ("2021:inner_mongolia", pytest.approx(0.7025), None)
        c22 = cv.co2_electricity_factor(2022, region)
        assert (c22.key, c22.value, c22.note) == ("2022:inner_mongolia", pytest.approx(0.6849), None)
    # not the national 0.5568: a 2021 Inner Mongolia park would read 0.5568 / 0.7025 - 1 = -20.7 %
    assert cv.co2_t("electricity", 1_000_000, year=2021, region="inner_mongolia_west") == pytest.approx(702.5)


def test_inner_mongolia_grids_fall_to_their_own_regional_grid_noted() -> None:
    """2023 has no provincial table here: the west is in the North China grid (0.6361), the
    east in the Northeast grid (0.5122) (standards.md §2; membership: MEE calculation notes, verify)."""
    west = cv.co2_electricity_factor(2023, "inner_mongolia_west")
    east = cv.co2_electricity_factor(2023, "inner_mongolia_east")
    assert (west.key, west.value) == ("2023:north", pytest.approx(0.6361))
    assert (east.key, east.value) == ("2023:northeast", pytest.approx(0.5122))
    assert west.note is not None and "no inner_mongolia figure in the 2023 table" in west.note


def test_co2_factor_regions_years_and_fallbacks() -> None:
    assert cv.co2_electricity_factor(2023, "east").value == pytest.approx(0.55)
    assert cv.co2_electricity_factor(2022, "north").value == pytest.approx(0.6776)
    assert cv.co2_electricity_factor(2021, "east").key == "2021:east"
    later = cv.co2_electricity_factor(2025, "southwest")
    assert later.key == "2023:southwest" and later.note is not None and "latest published (2023)" in later.note
    assert cv.co2_t("electricity", 1000, year=2023, region="south") == pytest.approx(0.4042)
    assert cv.co2_electricity_factor(2022, "tibet").key == "2022:southwest"  # no provincial figure
    with pytest.raises(cv.NoFactor, match="data year 2020: the tables cover 2021-2023"):
        cv.co2_electricity_factor(2020, "north")
    with pytest.raises(cv.NoFactor, match="unknown grid region 'atlantis'"):
        cv.co2_electricity_factor(2022, "atlantis")


def test_every_supported_year_carries_every_province_and_grid() -> None:
    provinces = {r.province for r in grid.REGIONS.values() if r.province} - {"tibet"}
    grids = {r.grid for r in grid.REGIONS.values() if r.grid}
    for year in (2021, 2022):
        assert provinces | grids | {"national"} <= set(grid.FACTORS[year])
    assert grids | {"national"} <= set(grid.FACTORS[2023])


def test_steam_heat_through_its_enthalpy() -> None:
    """GHG accounting guidelines: AD = Ma × (En − 83.74) × 10⁻³ GJ (verify). 10 t of saturated
    steam at 1.0 MPa abs (h'' = 2777.1 kJ/kg, IAPWS-IF97): 10 × 2693.36 × 10⁻³ = 26.9336 GJ;
    at 0.11 tCO2/GJ: 2.962696 t CO2."""
    heat = cv.steam_heat_gj(10.0, 2777.1)
    assert heat == pytest.approx(26.9336)
    assert cv.co2_t("heat", heat, year=2025) == pytest.approx(2.962696)


def test_natural_gas_co2_from_ncv_carbon_oxidation() -> None:
    assert co.FUEL_CARBON_GBT_32151["natural_gas"].kg_co2_per_unit == pytest.approx(2.162, abs=5e-4)
    assert cv.co2_t("natural_gas", 10_000, year=2025) == pytest.approx(21.62, abs=0.01)


def test_o2_reference_correction_example() -> None:
    assert cv.o2_corrected(40, 10, 6) == pytest.approx(54.545, abs=1e-3)
    assert str(cv.o2_corrected(40, 21, 6)) == "nan"


def test_stack_mass_and_wastewater_load() -> None:
    # 50 mg/m³ at 200 000 m³/h for 24 h -> 240 kg
    assert cv.stack_mass_kg(50, 200_000, 24) == pytest.approx(240.0)
    # COD 300 mg/L at 100 m³/h for 10 h -> 300 kg
    assert cv.wastewater_load_kg(300, 100, 10) == pytest.approx(300.0)


def test_unknown_carrier_is_named() -> None:
    with pytest.raises(KeyError, match="'uranium'"):
        cv.standard_coal_t("uranium", 1, year=2025)
    with pytest.raises(KeyError, match="'steam'"):
        cv.co2_t("steam", 1, year=2025)
