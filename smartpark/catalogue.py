"""The metric catalogue: every quantity the platform accepts, as data.

Codes, units and kinds follow the shared design; the plausible ranges are physical bounds a
healthy instrument cannot leave, so a reading outside them is rejected rather than stored.
Ids are stable: they are the ``metric_id`` stored in every telemetry row, so never renumber one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class MetricKind(StrEnum):
    COUNTER = "counter"  # meter register: consumption is the difference of readings
    GAUGE = "gauge"  # instantaneous value
    STATE = "state"  # discrete 0/1 state


class Category(StrEnum):
    ENERGY = "energy"
    EMISSIONS = "emissions"
    ENVIRONMENT = "environment"
    SAFETY = "safety"


@dataclass(frozen=True, slots=True)
class Metric:
    id: int
    code: str
    unit: str
    kind: MetricKind
    category: Category
    min_value: float
    max_value: float
    description: str
    # Energy carrier for counters (conversion to standard coal); None for others.
    carrier: str | None = None

    def __post_init__(self) -> None:
        if not 0 < self.id < 32768:
            raise ValueError(f"metric id {self.id} for {self.code!r} does not fit a smallint")
        if self.min_value >= self.max_value:
            raise ValueError(f"metric {self.code!r}: empty plausible range")

    def plausible(self, value: float) -> bool:
        return self.min_value <= value <= self.max_value


def _m(
    id_: int,
    code: str,
    unit: str,
    kind: str,
    category: str,
    lo: float,
    hi: float,
    description: str,
    carrier: str | None = None,
) -> Metric:
    return Metric(id_, code, unit, MetricKind(kind), Category(category), lo, hi, description, carrier)


# Counter registers allow up to 1e12 so that a real register maximum (often 99 999 999.99) fits.
METRICS: tuple[Metric, ...] = (
    _m(1, "elec.import_kwh", "kWh", "counter", "energy", 0, 1e12, "active energy imported", "electricity"),
    _m(2, "elec.export_kwh", "kWh", "counter", "energy", 0, 1e12, "active energy exported", "electricity_export"),
    _m(3, "elec.power_kw", "kW", "gauge", "energy", -1e6, 1e6, "active power"),
    _m(4, "elec.pf", "1", "gauge", "energy", -1, 1, "power factor"),
    _m(5, "water.volume_m3", "m³", "counter", "energy", 0, 1e12, "water volume", "water"),
    _m(6, "gas.volume_nm3", "Nm³", "counter", "energy", 0, 1e12, "natural gas volume", "natural_gas"),
    _m(7, "steam.mass_t", "t", "counter", "energy", 0, 1e12, "low-pressure steam mass", "steam"),
    _m(8, "heat.energy_gj", "GJ", "counter", "energy", 0, 1e12, "heat energy", "heat"),
    _m(9, "coal.mass_t", "t", "counter", "energy", 0, 1e12, "raw coal mass", "raw_coal"),
    _m(20, "stack.so2_mgm3", "mg/m³", "gauge", "emissions", 0, 20000, "stack SO2 concentration"),
    _m(21, "stack.nox_mgm3", "mg/m³", "gauge", "emissions", 0, 20000, "stack NOx concentration"),
    _m(22, "stack.dust_mgm3", "mg/m³", "gauge", "emissions", 0, 20000, "stack particulate concentration"),
    _m(23, "stack.o2_pct", "%", "gauge", "emissions", 0, 21, "stack oxygen content"),
    # HJ 212 "-Zs" values: the CEMS's own conversion to the source's reference O2.
    _m(25, "stack.so2_zs_mgm3", "mg/m³", "gauge", "emissions", 0, 20000, "stack SO2 at reference O2 (CEMS)"),
    _m(26, "stack.nox_zs_mgm3", "mg/m³", "gauge", "emissions", 0, 20000, "stack NOx at reference O2 (CEMS)"),
    _m(27, "stack.dust_zs_mgm3", "mg/m³", "gauge", "emissions", 0, 20000, "stack particulate at reference O2 (CEMS)"),
    _m(24, "stack.flow_m3h", "m³/h", "gauge", "emissions", 0, 1e8, "stack flue-gas flow (standard, dry)"),
    _m(30, "ww.cod_mgl", "mg/L", "gauge", "emissions", 0, 100000, "wastewater COD"),
    _m(31, "ww.nh3n_mgl", "mg/L", "gauge", "emissions", 0, 10000, "wastewater ammonia nitrogen"),
    _m(32, "ww.ph", "pH", "gauge", "emissions", 0, 14, "wastewater pH"),
    _m(33, "ww.flow_m3h", "m³/h", "gauge", "emissions", 0, 1e6, "wastewater flow"),
    _m(40, "air.pm25_ugm3", "µg/m³", "gauge", "environment", 0, 2000, "ambient PM2.5"),
    _m(41, "air.pm10_ugm3", "µg/m³", "gauge", "environment", 0, 3000, "ambient PM10"),
    _m(42, "air.so2_ugm3", "µg/m³", "gauge", "environment", 0, 5000, "ambient SO2"),
    _m(43, "air.no2_ugm3", "µg/m³", "gauge", "environment", 0, 5000, "ambient NO2"),
    _m(44, "air.o3_ugm3", "µg/m³", "gauge", "environment", 0, 2000, "ambient O3"),
    _m(45, "air.co_mgm3", "mg/m³", "gauge", "environment", 0, 200, "ambient CO"),
    _m(50, "safety.lel_pct", "%LEL", "gauge", "safety", 0, 100, "combustible gas"),
    _m(51, "safety.h2s_ppm", "ppm", "gauge", "safety", 0, 1000, "hydrogen sulphide"),
    _m(52, "safety.co_ppm", "ppm", "gauge", "safety", 0, 2000, "carbon monoxide"),
    _m(53, "safety.o2_pct", "%vol", "gauge", "safety", 0, 30, "oxygen"),
    _m(54, "safety.temp_c", "°C", "gauge", "safety", -60, 1500, "process temperature"),
    _m(55, "safety.pressure_mpa", "MPa", "gauge", "safety", -0.1, 100, "process pressure"),
    _m(56, "safety.fire_alarm", "0/1", "state", "safety", 0, 1, "fire alarm state"),
)

BY_CODE: Mapping[str, Metric] = MappingProxyType({m.code: m for m in METRICS})
BY_ID: Mapping[int, Metric] = MappingProxyType({m.id: m for m in METRICS})


def metric(code: str) -> Metric:
    try:
        return BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown metric {code!r}") from None


# What each kind of device measures; a registry entry may narrow or extend its own list.
DEVICE_KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "elec_meter": ("elec.import_kwh", "elec.export_kwh", "elec.power_kw", "elec.pf"),
        "water_meter": ("water.volume_m3",),
        "gas_meter": ("gas.volume_nm3",),
        "steam_meter": ("steam.mass_t",),
        "heat_meter": ("heat.energy_gj",),
        "coal_scale": ("coal.mass_t",),
        "stack_cems": (
            "stack.so2_mgm3",
            "stack.nox_mgm3",
            "stack.dust_mgm3",
            "stack.o2_pct",
            "stack.flow_m3h",
            "stack.so2_zs_mgm3",
            "stack.nox_zs_mgm3",
            "stack.dust_zs_mgm3",
        ),
        "wastewater": ("ww.cod_mgl", "ww.nh3n_mgl", "ww.ph", "ww.flow_m3h"),
        "air_station": (
            "air.pm25_ugm3",
            "air.pm10_ugm3",
            "air.so2_ugm3",
            "air.no2_ugm3",
            "air.o3_ugm3",
            "air.co_mgm3",
        ),
        "gas_detector": ("safety.lel_pct", "safety.h2s_ppm", "safety.co_ppm", "safety.o2_pct"),
        "temp_sensor": ("safety.temp_c",),
        "pressure_sensor": ("safety.pressure_mpa",),
        "fire_alarm": ("safety.fire_alarm",),
    }
)


def kind_metrics(kind: str) -> tuple[str, ...]:
    try:
        return DEVICE_KINDS[kind]
    except KeyError:
        raise KeyError(f"unknown device kind {kind!r}") from None


def codes(metrics: Iterable[Metric]) -> list[str]:
    return [m.code for m in metrics]


# Data-quality flags stored with each reading (telemetry.flag). 0 and only 0 is valid monitoring
# data; the HJ 212 flags keep their meaning; RECEIPT_TIME marks a reading whose payload had no ts.
FLAG_VALID = 0
HJ212_FLAGS: Mapping[str, int] = MappingProxyType({"N": 0, "F": 1, "M": 2, "S": 3, "D": 4, "C": 5, "T": 6, "B": 7})
FLAG_RECEIPT_TIME = 64
# Valid monitoring data, whether the device stamped it or it was stamped on receipt: rollups,
# consumption and alarms all use both (a meter that sends no ts still has a consumption; its
# readings may land in a bucket later than measured by the transmission delay, never lost or
# doubled, since a counter's consumption is a difference of its register values).
VALID_FLAGS = (FLAG_VALID, FLAG_RECEIPT_TIME)
# Flags whose readings count in statistics and alarms: valid data, and over-range data (T): the
# instrument at its full scale, a lower bound of the true value, evidence an emission is at least
# that high (HJ 75-2017 keeps over-range data in the record; clause to verify). Dropping them
# would hide the worst hours from alarms, means and emitted mass.
FLAG_OVER_RANGE = HJ212_FLAGS["T"]
# A reading entered by hand (coal weighed, a meter without a gateway, a correction): its own bit,
# so the record says where a value came from; it counts like valid data once accepted
# (energy/manual.py keeps who entered it and every correction).
FLAG_MANUAL = 128
COUNTED_FLAGS = frozenset({*VALID_FLAGS, FLAG_OVER_RANGE, FLAG_MANUAL})


# Display names of the metrics, Chinese then English: what a page shows instead of a code.
NAMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "elec.import_kwh": ("购入电量", "Electricity imported"),
        "elec.export_kwh": ("上网电量", "Electricity exported"),
        "elec.power_kw": ("有功功率", "Active power"),
        "elec.pf": ("功率因数", "Power factor"),
        "water.volume_m3": ("用水量", "Water volume"),
        "gas.volume_nm3": ("天然气用量", "Natural gas volume"),
        "steam.mass_t": ("蒸汽用量", "Steam mass"),
        "heat.energy_gj": ("热力用量", "Heat energy"),
        "coal.mass_t": ("原煤用量", "Raw coal mass"),
        "stack.so2_mgm3": ("烟气二氧化硫浓度", "Stack SO₂"),
        "stack.nox_mgm3": ("烟气氮氧化物浓度", "Stack NOx"),
        "stack.dust_mgm3": ("烟气颗粒物浓度", "Stack particulate"),
        "stack.o2_pct": ("烟气含氧量", "Stack O₂"),
        "stack.so2_zs_mgm3": ("二氧化硫折算浓度", "SO₂ at reference O₂"),
        "stack.nox_zs_mgm3": ("氮氧化物折算浓度", "NOx at reference O₂"),
        "stack.dust_zs_mgm3": ("颗粒物折算浓度", "Particulate at reference O₂"),
        "stack.flow_m3h": ("烟气流量", "Stack flow"),
        "ww.cod_mgl": ("废水化学需氧量", "Wastewater COD"),
        "ww.nh3n_mgl": ("废水氨氮", "Wastewater ammonia nitrogen"),
        "ww.ph": ("废水酸碱度", "Wastewater pH"),
        "ww.flow_m3h": ("废水流量", "Wastewater flow"),
        "air.pm25_ugm3": ("细颗粒物", "PM2.5"),
        "air.pm10_ugm3": ("可吸入颗粒物", "PM10"),
        "air.so2_ugm3": ("二氧化硫", "SO₂"),
        "air.no2_ugm3": ("二氧化氮", "NO₂"),
        "air.o3_ugm3": ("臭氧", "O₃"),
        "air.co_mgm3": ("一氧化碳", "CO"),
        "safety.lel_pct": ("可燃气体浓度", "Combustible gas"),
        "safety.h2s_ppm": ("硫化氢浓度", "Hydrogen sulphide"),
        "safety.co_ppm": ("一氧化碳浓度", "Carbon monoxide"),
        "safety.o2_pct": ("氧气浓度", "Oxygen"),
        "safety.temp_c": ("工艺温度", "Process temperature"),
        "safety.pressure_mpa": ("工艺压力", "Process pressure"),
        "safety.fire_alarm": ("火灾报警状态", "Fire alarm state"),
    }
)


def names(code: str) -> tuple[str, str]:
    """(Chinese, English) display name of a metric; KeyError naming an unknown code."""
    try:
        return NAMES[code]
    except KeyError:
        raise KeyError(f"metric {code!r} has no display name") from None
