"""Conversions of consumption and concentrations into the figures a park reports.

Standard coal (GB/T 2589), CO2 from electricity and fuels, emitted mass of stack pollutants,
reference-oxygen correction and wastewater loads. Elementwise numpy, coefficient tables injected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from aggregation import coefficients as co

F64 = npt.NDArray[np.float64]
Basis = Literal["equivalent", "equal"]


@dataclass(frozen=True, slots=True)
class Chosen:
    """A coefficient together with the table key it came from (reports name their sources)."""

    value: float
    key: str
    table: str


def _latest(table: co.CoefficientTable, year: int, region: str | None = None) -> Chosen:
    keys = [k for k in table.entries if (region is None or k.split(":")[1] == region)]
    years = sorted(int(k.split(":")[0]) for k in keys if int(k.split(":")[0]) <= year)
    if not years:
        raise KeyError(f"no entry for year <= {year}{f' in region {region!r}' if region else ''} in {table.name}")
    key = f"{years[-1]}:{region}" if region else str(years[-1])
    return Chosen(table[key].value, key, f"{table.source} {table.edition}")


def electricity_equal_value(year: int, table: co.CoefficientTable = co.ELECTRICITY_EQUAL_VALUE) -> Chosen:
    """kgce/kWh at equal value for data of ``year``: the previous year's figure (or latest known)."""
    return _latest(table, year - 1)


def co2_electricity_factor(year: int, region: str, table: co.CoefficientTable = co.CO2_ELECTRICITY_MEE_NBS) -> Chosen:
    """kgCO2/kWh for (year, region): that year's or the latest earlier figure of the region,
    else the national figure of the same rule."""
    try:
        return _latest(table, year, region)
    except KeyError:
        if region == "national":
            raise
        return _latest(table, year, "national")


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
    electricity: co.CoefficientTable = co.CO2_ELECTRICITY_MEE_NBS,
    fuels: Mapping[str, co.FuelCarbon] = co.FUEL_CARBON_GBT_32151,
) -> F64:
    """Tonnes of CO2 of ``amount`` of a carrier (kWh, Nm³, t, GJ as in the catalogue)."""
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
