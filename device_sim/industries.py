"""What an enterprise of each industry looks like: land, energy intensity, devices and load shape.

The figures are plausible orders of magnitude for a Chinese chemical/industrial park, chosen so
that a simulated park exercises every part of the platform; they are not statistics of real
enterprises. Hourly shapes are load factors (0..1 of rated) at the start of each local hour,
linearly interpolated between hours; shift changes show as dips, time-of-use tariffs as
night-heavy profiles in energy-intensive industries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

PARK_OPERATIONS = "park_operations"


@dataclass(frozen=True, slots=True)
class Industry:
    code: str
    company_suffix: str  # Chinese legal-name suffix
    land_mu: tuple[float, float]
    shape: tuple[float, ...]  # 24 weekday hourly load factors (local time)
    weekend: float  # weekend load relative to a weekday
    kw_per_mu: float  # rated electrical demand per mu of land
    # device kind -> rated consumption per mu and hour (m³, Nm³, t, GJ, t)
    rates_per_mu: Mapping[str, float] = field(default_factory=dict)
    # device kind -> (min, max) count per enterprise, besides the main electricity meter
    devices: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    cems_sources: tuple[str, ...] = ()
    gas_metrics: tuple[str, ...] = ("safety.lel_pct",)

    def __post_init__(self) -> None:
        if len(self.shape) != 24 or not all(0 <= s <= 1.2 for s in self.shape):
            raise ValueError(f"industry {self.code!r}: shape needs 24 factors in 0..1.2")
        if not 0 < self.weekend <= 1.2:
            raise ValueError(f"industry {self.code!r}: weekend factor {self.weekend} out of range")


def _shape(*spans: tuple[int, int, float], base: float) -> tuple[float, ...]:
    """24 hourly factors: ``base`` everywhere, then each (from_hour, to_hour, factor) span."""
    out = [base] * 24
    for start, stop, factor in spans:
        for h in range(start, stop):
            out[h % 24] = factor
    return tuple(out)


# Continuous processes dip slightly at the three shift changes (00, 08, 16 h).
_CONTINUOUS = _shape((0, 1, 0.86), (8, 9, 0.87), (16, 17, 0.87), base=0.92)

INDUSTRIES: Mapping[str, Industry] = MappingProxyType(
    {
        i.code: i
        for i in (
            Industry(
                "coal_chemical",
                "煤化工有限公司",
                (300, 1200),
                _CONTINUOUS,
                0.97,
                45,
                {"water_meter": 0.9, "steam_meter": 0.08, "coal_scale": 0.12, "gas_meter": 2.0, "wastewater": 0.5},
                {
                    "elec_sub": (2, 4),
                    "water_meter": (1, 2),
                    "steam_meter": (1, 3),
                    "coal_scale": (1, 2),
                    "gas_meter": (0, 1),
                    "stack_cems": (1, 3),
                    "wastewater": (1, 1),
                    "gas_detector": (6, 14),
                    "temp_sensor": (3, 8),
                    "pressure_sensor": (3, 8),
                    "fire_alarm": (2, 4),
                },
                ("coal_boiler", "power_boiler"),
                ("safety.lel_pct", "safety.h2s_ppm", "safety.co_ppm", "safety.o2_pct"),
            ),
            Industry(
                "metallurgy",
                "冶金有限公司",
                (200, 900),
                # Furnaces run hard on cheap night power and back off in the peak-tariff hours.
                _shape((0, 7, 1.0), (10, 12, 0.68), (18, 21, 0.66), (23, 24, 1.0), base=0.82),
                0.95,
                90,
                {"water_meter": 0.6, "gas_meter": 4.0, "coal_scale": 0.08, "heat_meter": 0.01},
                {
                    "elec_sub": (2, 5),
                    "water_meter": (1, 2),
                    "gas_meter": (1, 2),
                    "coal_scale": (0, 1),
                    "heat_meter": (0, 1),
                    "stack_cems": (1, 2),
                    "wastewater": (0, 1),
                    "gas_detector": (3, 8),
                    "temp_sensor": (3, 6),
                    "pressure_sensor": (1, 3),
                    "fire_alarm": (2, 3),
                },
                ("coal_boiler", "gas_boiler"),
                ("safety.lel_pct", "safety.co_ppm", "safety.o2_pct"),
            ),
            Industry(
                "new_materials",
                "新材料科技有限公司",
                (80, 300),
                _shape((0, 7, 0.25), (7, 8, 0.6), (16, 17, 0.8), base=0.95),
                0.6,
                40,
                {"water_meter": 0.3, "gas_meter": 1.2, "steam_meter": 0.02},
                {
                    "elec_sub": (1, 3),
                    "water_meter": (1, 1),
                    "gas_meter": (1, 1),
                    "steam_meter": (0, 1),
                    "stack_cems": (0, 1),
                    "wastewater": (0, 1),
                    "gas_detector": (2, 6),
                    "temp_sensor": (1, 4),
                    "pressure_sensor": (1, 3),
                    "fire_alarm": (1, 3),
                },
                ("gas_boiler",),
                ("safety.lel_pct", "safety.co_ppm"),
            ),
            Industry(
                "logistics",
                "物流有限公司",
                (100, 400),
                _shape((0, 6, 0.2), (6, 7, 0.5), (7, 12, 0.9), (12, 13, 0.7), (13, 19, 0.9), (19, 22, 0.6), base=0.3),
                0.55,
                5,
                {"water_meter": 0.02},
                {
                    "elec_sub": (1, 2),
                    "water_meter": (1, 1),
                    "gas_detector": (1, 2),
                    "temp_sensor": (1, 3),
                    "fire_alarm": (2, 5),
                },
            ),
            Industry(
                "food",
                "食品有限公司",
                (30, 150),
                _shape((0, 6, 0.3), (6, 22, 0.9), (14, 15, 0.8), base=0.3),
                0.75,
                12,
                {"water_meter": 0.5, "gas_meter": 1.5, "steam_meter": 0.03},
                {
                    "elec_sub": (1, 2),
                    "water_meter": (1, 2),
                    "gas_meter": (1, 1),
                    "steam_meter": (0, 1),
                    "stack_cems": (0, 1),
                    "wastewater": (1, 1),
                    "gas_detector": (1, 3),
                    "temp_sensor": (2, 5),
                    "fire_alarm": (1, 2),
                },
                ("gas_boiler",),
                ("safety.lel_pct", "safety.co_ppm"),
            ),
            Industry(
                "pharma",
                "制药股份有限公司",
                (50, 250),
                # Clean-room HVAC keeps a high base; production runs in the day.
                _shape((8, 18, 0.95), (12, 13, 0.85), base=0.6),
                0.7,
                20,
                {"water_meter": 0.4, "steam_meter": 0.03, "gas_meter": 0.8, "heat_meter": 0.005},
                {
                    "elec_sub": (1, 3),
                    "water_meter": (1, 2),
                    "steam_meter": (1, 1),
                    "gas_meter": (0, 1),
                    "heat_meter": (0, 1),
                    "stack_cems": (0, 1),
                    "wastewater": (1, 1),
                    "gas_detector": (2, 6),
                    "temp_sensor": (2, 6),
                    "pressure_sensor": (1, 4),
                    "fire_alarm": (1, 3),
                },
                ("gas_boiler",),
                ("safety.lel_pct", "safety.o2_pct"),
            ),
            Industry(
                "fine_chemical",
                "精细化工有限公司",
                (60, 300),
                _CONTINUOUS,
                0.9,
                30,
                {"water_meter": 0.5, "steam_meter": 0.05, "gas_meter": 1.0},
                {
                    "elec_sub": (1, 3),
                    "water_meter": (1, 1),
                    "steam_meter": (1, 2),
                    "gas_meter": (0, 1),
                    "stack_cems": (0, 2),
                    "wastewater": (1, 1),
                    "gas_detector": (4, 10),
                    "temp_sensor": (3, 8),
                    "pressure_sensor": (3, 8),
                    "fire_alarm": (1, 3),
                },
                ("gas_boiler", "coal_boiler"),
                ("safety.lel_pct", "safety.h2s_ppm", "safety.co_ppm"),
            ),
            Industry(
                "electronics",
                "电子科技有限公司",
                (40, 200),
                _shape((0, 1, 0.85), (8, 9, 0.85), (16, 17, 0.85), base=0.9),
                0.85,
                35,
                {"water_meter": 0.3, "gas_meter": 0.2},
                {
                    "elec_sub": (2, 4),
                    "water_meter": (1, 1),
                    "gas_meter": (0, 1),
                    "wastewater": (0, 1),
                    "gas_detector": (1, 4),
                    "temp_sensor": (1, 3),
                    "fire_alarm": (1, 3),
                },
            ),
            Industry(
                "building_materials",
                "建材有限公司",
                (150, 600),
                # Kilns never stop; grinding mills avoid the peak-tariff hours.
                _shape((8, 11, 0.75), (18, 21, 0.75), base=0.95),
                0.95,
                50,
                {"water_meter": 0.2, "coal_scale": 0.1, "gas_meter": 0.5},
                {
                    "elec_sub": (2, 4),
                    "water_meter": (1, 1),
                    "coal_scale": (1, 1),
                    "gas_meter": (0, 1),
                    "stack_cems": (1, 2),
                    "gas_detector": (1, 3),
                    "temp_sensor": (2, 4),
                    "pressure_sensor": (0, 2),
                    "fire_alarm": (1, 2),
                },
                ("coal_boiler",),
                ("safety.co_ppm",),
            ),
            Industry(
                "textiles",
                "纺织印染有限公司",
                (40, 200),
                _shape((0, 6, 0.4), (6, 22, 0.85), base=0.4),
                0.8,
                15,
                {"water_meter": 1.2, "steam_meter": 0.04},
                {
                    "elec_sub": (1, 2),
                    "water_meter": (1, 2),
                    "steam_meter": (1, 1),
                    "stack_cems": (0, 1),
                    "wastewater": (1, 1),
                    "gas_detector": (0, 2),
                    "temp_sensor": (1, 3),
                    "fire_alarm": (1, 3),
                },
                ("gas_boiler",),
            ),
            Industry(
                PARK_OPERATIONS,
                "园区运营管理中心",
                (10, 30),
                _shape((0, 7, 0.25), (7, 8, 0.6), (8, 18, 0.9), (18, 20, 0.5), base=0.25),
                0.35,
                20,
                {"water_meter": 0.05},
                {"water_meter": (1, 1), "air_station": (2, 4), "fire_alarm": (1, 1)},
            ),
        )
    }
)

# Industries drawn for ordinary enterprises, with relative frequencies in a chemical park.
MIX: tuple[tuple[str, int], ...] = (
    ("coal_chemical", 4),
    ("fine_chemical", 5),
    ("new_materials", 4),
    ("metallurgy", 3),
    ("pharma", 3),
    ("food", 2),
    ("logistics", 3),
    ("electronics", 2),
    ("building_materials", 2),
    ("textiles", 1),
)

# Solar profile (photovoltaic export): zero at night, peak at 12-13 h.
SOLAR_SHAPE: tuple[float, ...] = (
    0,
    0,
    0,
    0,
    0,
    0,
    0.02,
    0.12,
    0.3,
    0.5,
    0.68,
    0.8,
    0.85,
    0.8,
    0.68,
    0.5,
    0.3,
    0.12,
    0.02,
    0,
    0,
    0,
    0,
    0,
)

# Flue-gas sources: reference O2 (%, GB 13271 / GB 13223) and typical measured concentrations.
SOURCES: Mapping[str, dict[str, float]] = MappingProxyType(
    {
        "coal_boiler": {"o2_ref_pct": 9, "o2_pct": 10.5, "so2": 110, "nox": 140, "dust": 14},
        "power_boiler": {"o2_ref_pct": 6, "o2_pct": 7.0, "so2": 25, "nox": 38, "dust": 5},
        "gas_boiler": {"o2_ref_pct": 3.5, "o2_pct": 4.5, "so2": 4, "nox": 55, "dust": 3},
        "gas_turbine": {"o2_ref_pct": 15, "o2_pct": 15.5, "so2": 2, "nox": 30, "dust": 2},
    }
)

NAME_WORDS: tuple[str, ...] = (
    "华宇",
    "恒泰",
    "金鼎",
    "新源",
    "中晟",
    "宏达",
    "瑞丰",
    "鑫海",
    "天成",
    "永盛",
    "博远",
    "汇川",
    "东方",
    "长江",
    "泰和",
    "嘉禾",
    "盛世",
    "国润",
    "联创",
    "富源",
    "信达",
    "安泰",
    "华润",
    "兴隆",
    "明阳",
    "聚力",
    "万通",
    "正邦",
    "凯盛",
    "同益",
)
PLACE_WORDS: tuple[str, ...] = ("江苏", "宁东", "鄂尔多斯", "榆林", "连云港", "淮安", "滨海", "泰兴")
