"""Hourly AQI of an air station from its latest concentrations (HJ 633), for the AQI-level rules.

Exact arithmetic (fractions from the decimal text of each value) so that a concentration on a
breakpoint fraction gives the integer the standard prints, not one more. Hourly tables for SO2,
NO2, CO and O3; PM2.5 and PM10 have only 24 h tables, which the real-time AQI applies to their
latest concentrations, in the edition in force on the reading's date.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from math import ceil

IAQI_STEPS = (0, 50, 100, 150, 200, 300, 400, 500)
EDITION_2026_FROM_MS = 1772294400000  # 2026-03-01T00:00:00+08:00 (HJ 633-2026 in force)

# Breakpoints, HJ 633-2012 (and -2026 for PM); µg/m³, CO mg/m³.
TABLES_1H: Mapping[str, tuple[float, ...]] = {
    "air.so2_ugm3": (0, 150, 500, 650, 800),
    "air.no2_ugm3": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "air.co_mgm3": (0, 5, 10, 35, 60, 90, 120, 150),
    "air.o3_ugm3": (0, 160, 200, 300, 400, 800, 1000, 1200),
}
SO2_24H = (0, 50, 150, 475, 800, 1600, 2100, 2620)  # SO2 1 h above 800: the 24 h table decides
PM_24H = {
    2012: {
        "air.pm25_ugm3": (0, 35, 75, 115, 150, 250, 350, 500),
        "air.pm10_ugm3": (0, 50, 150, 250, 350, 420, 500, 600),
    },
    2026: {
        "air.pm25_ugm3": (0, 35, 60, 115, 150, 250, 350, 500),
        "air.pm10_ugm3": (0, 50, 120, 250, 350, 420, 500, 600),
    },
}
POLLUTANTS = (*TABLES_1H, "air.pm25_ugm3", "air.pm10_ugm3")


def iaqi(concentration: float, breakpoints: tuple[float, ...]) -> int:
    c = Fraction(repr(float(concentration)))
    if c <= 0:
        return 0
    for i in range(1, len(breakpoints)):
        lo, hi = Fraction(repr(breakpoints[i - 1])), Fraction(repr(breakpoints[i]))
        if c <= hi:
            step_lo, step_hi = IAQI_STEPS[i - 1], IAQI_STEPS[i]
            return ceil((step_hi - step_lo) * (c - lo) / (hi - lo) + step_lo)
    return IAQI_STEPS[len(breakpoints) - 1]


def table_for(code: str, value: float, ts_ms: int) -> tuple[float, ...]:
    if code == "air.so2_ugm3" and value > 800:
        return SO2_24H
    if code in TABLES_1H:
        return TABLES_1H[code]
    return PM_24H[2026 if ts_ms >= EDITION_2026_FROM_MS else 2012][code]


def hourly_aqi(latest: Mapping[str, float], ts_ms: int) -> int | None:
    """AQI (max IAQI) of the pollutants present; None when there is none."""
    values = [iaqi(v, table_for(code, v, ts_ms)) for code, v in latest.items() if code in POLLUTANTS]
    return max(values) if values else None
