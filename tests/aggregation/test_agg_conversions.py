"""Worked examples of standards.md: standard coal, CO2, O2 correction, emitted mass."""

from __future__ import annotations

import pytest

from aggregation import coefficients as co
from aggregation import conversions as cv


def test_standard_coal_examples_gbt_2589() -> None:
    assert cv.standard_coal_t("electricity", 1_000_000, year=2025) == pytest.approx(122.9)
    assert cv.standard_coal_t("natural_gas", 100_000, year=2025) == pytest.approx(121.43)
    assert cv.standard_coal_t("raw_coal", 500, year=2025) == pytest.approx(357.15)  # 500 t
    assert cv.standard_coal_t("heat", 1, year=2025) == pytest.approx(0.03412)  # 1 GJ


def test_electricity_equal_value_uses_previous_year() -> None:
    chosen = cv.electricity_equal_value(2023)
    assert chosen.key == "2022" and chosen.value == pytest.approx(0.3007)
    assert cv.standard_coal_t("electricity", 1000, year=2023, basis="equal") == pytest.approx(0.3007)
    assert cv.electricity_equal_value(2030).key == "2022"  # latest known, named in reports
    with pytest.raises(KeyError, match="no entry for year <= 2009"):
        cv.electricity_equal_value(2010)


def test_co2_electricity_by_year_and_region() -> None:
    assert cv.co2_electricity_factor(2023, "east").value == pytest.approx(0.55)
    assert cv.co2_electricity_factor(2022, "north").value == pytest.approx(0.6776)
    assert cv.co2_electricity_factor(2025, "southwest").key == "2023:southwest"
    assert cv.co2_electricity_factor(2021, "east").key == "2021:national"  # no regional figure
    assert cv.co2_t("electricity", 1000, year=2023, region="south") == pytest.approx(0.4042)


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
