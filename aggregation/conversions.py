"""Conversions of consumption and concentrations into the figures a park reports.

Standard coal (GB/T 2589), CO2 from electricity and fuels, emitted mass of stack pollutants,
reference-oxygen correction and wastewater loads. Elementwise numpy, coefficient tables injected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import numpy.typing as npt

from aggregation import coefficients as co
from aggregation import grid_factors as grid
from aggregation.grid_factors import Chosen, NoFactor

__all__ = ["Chosen", "NoFactor"]  # re-exported: callers of conversions name them from here

F64 = npt.NDArray[np.float64]
Basis = Literal["equivalent", "equal"]


def electricity_equal_value(year: int, table: co.CoefficientTable = co.ELECTRICITY_EQUAL_VALUE) -> Chosen:
    """kgce/kWh at equal value for data of ``year``: the previous year's thermal power figure.

    A data year whose previous year is past the table takes the latest figure, noted as
    provisional; one before the table raises :class:`NoFactor` (for that figure only)."""
    years = sorted(int(k) for k in table.entries)
    want = year - 1
    if want < years[0]:
        raise NoFactor(
            f"no electricity equal value for data year {year}: {table.name} covers data years"
            f" {years[0] + 1}-{years[-1] + 1} ({table.source})"
        )
    used = max(y for y in years if y <= want)
    note = None if used == want else f"provisional: the {want} figure is not in the table, {used}'s is used"
    return Chosen(table[str(used)].value, str(used), f"{table.source} {table.edition}", note)


def co2_electricity_factor(year: int, region: str, factors: Mapping[int, Mapping[str, float]] = grid.FACTORS) -> Chosen:
    """kgCO2/kWh for (year, region): see :mod:`aggregation.grid_factors` (notes any fallback)."""
    return grid.factor(year, region, factors)


def steam_heat_gj(mass_t: npt.ArrayLike, enthalpy_kj_kg: npt.ArrayLike) -> F64:
    """Heat of steam above feedwater at 20 °C: Ma × (En − 83.74) × 10⁻³ GJ (t, kJ/kg)."""
    h = np.asarray(enthalpy_kj_kg, dtype=np.float64) - co.FEEDWATER_ENTHALPY_KJ_KG.value
    return np.asarray(mass_t, dtype=np.float64) * h * 1e-3


def first_supported_year(
    equal_table: co.CoefficientTable = co.ELECTRICITY_EQUAL_VALUE,
    factors: Mapping[int, Mapping[str, float]] = grid.FACTORS,
) -> int:
    """The first statistics year every conversion above has a coefficient for: equal-value
    electricity uses the previous year's figure, CO2 of electricity the year's (or latest earlier)
    grid factor. Later years take the latest figures, so the range is open upwards."""
    return max(min(int(k) for k in equal_table.entries) + 1, min(factors))


def standard_coal_t(
    carrier: str,
    amount: npt.ArrayLike,
    *,
    year: int,
    basis: Basis = "equivalent",
    table: co.CoefficientTable = co.STANDARD_COAL_GBT_2589_2020,
    equal_table: co.CoefficientTable = co.ELECTRICITY_EQUAL_VALUE,
) -> F64:
    """Tonnes of standard coal of ``amount`` of a carrier in its catalogue unit."""
    a = np.asarray(amount, dtype=np.float64)
    if carrier == "electricity" and basis == "equal":
        k = electricity_equal_value(year, equal_table).value
    elif carrier == "electricity" and basis != "equivalent":
        raise ValueError(f"unknown electricity basis {basis!r}; expected 'equivalent' or 'equal'")
    else:
        k = table[carrier].value
    return a * k / 1000.0


def co2_t(
    carrier: str,
    amount: npt.ArrayLike,
    *,
    year: int,
    region: str = "national",
    electricity: Mapping[int, Mapping[str, float]] = grid.FACTORS,
    fuels: Mapping[str, co.FuelCarbon] = co.FUEL_CARBON_GBT_32151,
) -> F64:
    """Tonnes of CO2 of ``amount`` of a carrier (kWh, Nm³, t, GJ as in the catalogue). Steam is
    not a carrier here: its heat (:func:`steam_heat_gj`) counts as ``heat``."""
    a = np.asarray(amount, dtype=np.float64)
    if carrier == "electricity":
        return a * co2_electricity_factor(year, region, electricity).value / 1000.0
    if carrier == "heat":
        return a * co.CO2_HEAT_T_PER_GJ.value
    if carrier in fuels:
        return a * fuels[carrier].kg_co2_per_unit / 1000.0
    raise KeyError(f"no CO2 factor for carrier {carrier!r}; known: electricity, heat, {sorted(fuels)}")


def o2_corrected(conc: npt.ArrayLike, o2_meas_pct: npt.ArrayLike, o2_ref_pct: npt.ArrayLike) -> F64:
    """C_ref = C × (21 − O2_ref) / (21 − O2_meas); NaN where the measured O2 is 21 % or more."""
    c = np.asarray(conc, dtype=np.float64)
    o2 = np.asarray(o2_meas_pct, dtype=np.float64)
    denom = 21.0 - o2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denom > 0, c * (21.0 - np.asarray(o2_ref_pct, dtype=np.float64)) / denom, np.nan)


def stack_mass_kg(conc_mgm3: npt.ArrayLike, flow_m3h: npt.ArrayLike, hours: npt.ArrayLike) -> F64:
    """Emitted mass per interval: C (mg/m³) × Q (m³/h, standard dry) × Δt (h) / 10⁶."""
    return (
        np.asarray(conc_mgm3, dtype=np.float64)
        * np.asarray(flow_m3h, dtype=np.float64)
        * np.asarray(hours, dtype=np.float64)
        / 1e6
    )


def wastewater_load_kg(conc_mgl: npt.ArrayLike, flow_m3h: npt.ArrayLike, hours: npt.ArrayLike) -> F64:
    """Pollutant load per interval: C (mg/L) × Q (m³/h) × Δt (h) × 1000 L/m³ / 10⁶."""
    return (
        np.asarray(conc_mgl, dtype=np.float64)
        * np.asarray(flow_m3h, dtype=np.float64)
        * np.asarray(hours, dtype=np.float64)
        / 1000.0
    )
