"""Versioned coefficient tables: every domain figure with its source and edition named.

Tables are plain frozen values so a deployment can pass its own (a newer edition, a local
natural-gas calorific value) without touching the code that computes with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Coefficient:
    value: float
    unit: str  # e.g. "kgce/kWh"
    note: str = ""


@dataclass(frozen=True, slots=True)
class CoefficientTable:
    name: str
    source: str
    edition: str
    entries: Mapping[str, Coefficient]

    def __getitem__(self, key: str) -> Coefficient:
        try:
            return self.entries[key]
        except KeyError:
            raise KeyError(
                f"{key!r} is not in {self.name} ({self.source} {self.edition}); known: {sorted(self.entries)}"
            ) from None


def _table(name: str, source: str, edition: str, **entries: Coefficient) -> CoefficientTable:
    return CoefficientTable(name, source, edition, MappingProxyType(entries))


C = Coefficient

# Standard coal equivalents, per the carriers' catalogue units (kgce per unit).
STANDARD_COAL_GBT_2589_2020 = _table(
    "standard coal equivalents",
    "GB/T 2589 综合能耗计算通则",
    "2020 (effective 2021-04-01)",
    electricity=C(0.1229, "kgce/kWh", "equivalent value (当量值)"),
    natural_gas=C(1.2143, "kgce/Nm³", "statistics offices' figure; GB/T 2589 range 1.1000-1.3300"),
    raw_coal=C(714.3, "kgce/t", "0.7143 kgce/kg"),
    washed_coal=C(900.0, "kgce/t", "0.9000 kgce/kg"),
    coke=C(971.4, "kgce/t", "0.9714 kgce/kg"),
    crude_oil=C(1428.6, "kgce/t", "1.4286 kgce/kg"),
    fuel_oil=C(1428.6, "kgce/t", "1.4286 kgce/kg"),
    gasoline=C(1471.4, "kgce/t", "1.4714 kgce/kg"),
    kerosene=C(1471.4, "kgce/t", "1.4714 kgce/kg"),
    diesel=C(1457.1, "kgce/t", "1.4571 kgce/kg"),
    lpg=C(1714.3, "kgce/t", "1.7143 kgce/kg"),
    heat=C(34.12, "kgce/GJ", "0.03412 kgce/MJ"),
    steam=C(128.6, "kgce/t", "low-pressure steam, 0.1286 kgce/kg; secondary source, verify"),
)

# Electricity at equal value (等价值): the average coal use per kWh supplied by thermal power
# (全国6000千瓦及以上火电厂供电标准煤耗, China Electricity Council's annual statistics), keyed by the
# year of that figure; data of year N take year N-1's (GB/T 2589-2020 §3: the equal value of
# secondary energy is the primary energy used to make it). The figures are those of the CEC's
# annual releases as publicly reported (secondary): verify against the CEC yearbook. A data year
# before 2016 has no figure; after 2023 the latest is used provisionally (conversions).
ELECTRICITY_EQUAL_VALUE = _table(
    "electricity equal value (kgce/kWh) by year of the thermal power figure",
    "China Electricity Council, thermal power coal use per kWh supplied (供电标准煤耗)",
    "annual; verify",
    **{
        "2015": C(0.3150, "kgce/kWh", "315 gce/kWh; verify"),
        "2016": C(0.3120, "kgce/kWh", "312 gce/kWh; verify"),
        "2017": C(0.3094, "kgce/kWh", "309.4 gce/kWh; verify"),
        "2018": C(0.3076, "kgce/kWh", "307.6 gce/kWh; verify"),
        "2019": C(0.3064, "kgce/kWh", "306.4 gce/kWh; verify"),
        "2020": C(0.3055, "kgce/kWh", "305.5 gce/kWh; verify"),
        "2021": C(0.3025, "kgce/kWh", "302.5 gce/kWh; verify"),
        "2022": C(0.3007, "kgce/kWh", "300.7 gce/kWh; verify"),
    },
)

# Electricity CO2 factors (by data year and province or grid): aggregation.grid_factors.


@dataclass(frozen=True, slots=True)
class FuelCarbon:
    """CO2 = amount × net calorific value × carbon content × oxidation × 44/12."""

    ncv_gj_per_unit: float
    carbon_tc_per_tj: float
    oxidation: float
    unit: str
    source: str

    @property
    def kg_co2_per_unit(self) -> float:
        return self.ncv_gj_per_unit / 1000 * self.carbon_tc_per_tj * self.oxidation * 44 / 12 * 1000


FUEL_CARBON_GBT_32151: Mapping[str, FuelCarbon] = MappingProxyType(
    {
        # 389.31 GJ per 10^4 Nm³, 15.3 tC/TJ, 99 % -> 2.162 kgCO2/Nm³
        "natural_gas": FuelCarbon(0.038931, 15.3, 0.99, "Nm³", "GB/T 32151 defaults"),
        "raw_coal": FuelCarbon(20.908, 26.37, 0.94, "t", "GB/T 32151 general defaults; verify"),
    }
)

# Purchased heat and steam: tCO2 per GJ of heat. The national enterprise GHG accounting
# guidelines (NDRC, 24 industries, 2013-2015, e.g. 工业其他行业企业温室气体排放核算方法与报告指南
# (试行) §"净购入电力和热力": 热力 0.11 tCO2/GJ) take it "pending an official figure"; verify.
CO2_HEAT_T_PER_GJ = Coefficient(0.11, "tCO2/GJ", "enterprise GHG accounting guidelines default; verify")

# Steam measured by mass becomes heat through its enthalpy, counted above feedwater at 20 °C
# (the same guidelines: AD_steam = Ma_st × (En_st − 83.74) × 10⁻³ GJ, Ma_st in t, En_st in
# kJ/kg; 83.74 kJ/kg is the enthalpy of water at 20 °C; verify). A steam meter's device attribute
# ``steam_enthalpy_kj_kg`` gives its steam's enthalpy (from its pressure and temperature, IAPWS-IF97
# steam tables); without it the default below: saturated steam at 1.0 MPa absolute (179.9 °C),
# h'' = 2777.1 kJ/kg (IAPWS-IF97 saturation table; low-pressure process steam).
FEEDWATER_ENTHALPY_KJ_KG = Coefficient(83.74, "kJ/kg", "water at 20 °C; GHG accounting guidelines; verify")
STEAM_ENTHALPY_DEFAULT_KJ_KG = Coefficient(2777.1, "kJ/kg", "saturated steam at 1.0 MPa absolute, IAPWS-IF97")

# Plausible maximum rate of each counter (units per hour), above which a jump is flagged. A
# device's attribute ``max_rate_per_h`` overrides it.
COUNTER_MAX_RATE_PER_H: Mapping[str, float] = MappingProxyType(
    {
        "elec.import_kwh": 500_000.0,  # 500 MW
        "elec.export_kwh": 500_000.0,
        "water.volume_m3": 50_000.0,
        "gas.volume_nm3": 500_000.0,
        "steam.mass_t": 2_000.0,
        "heat.energy_gj": 10_000.0,
        "coal.mass_t": 2_000.0,
    }
)
