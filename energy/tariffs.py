"""Time-of-use tariff schedules as data: periods by hour and season, multipliers, effective dates.

Inner Mongolia has two grids with their own schedules (内蒙古自治区发展和改革委员会):

- 蒙西 (Inner Mongolia Power Group, west): 内发改价费字〔2023〕1630号. Windy season (大风季,
  Jan-May, Sep-Dec): peak 06-08, 18-22; flat 04-06, 08-11, 16-18, 22-24; valley 00-04, 11-16;
  peak:flat:valley 1.68:1:0.48. Calm season (小风季, Jun-Aug): peak 06-08, 18-22; flat 00-06,
  08-11, 16-18, 22-24; valley 11-16; 1.54:1:0.44. Jun-Aug also critical peak 19-21 (peak +20 %)
  and deep valley 13-15 (valley -20 %).
- 蒙东 (State Grid East Inner Mongolia): 内发改价费字〔2023〕1631号 (试行). Peak 06-09, 17-22;
  flat 05-06, 09-11, 14-17, 22-24; valley 00-05, 11-14; peak +68 %, valley -52 %. Jun-Aug also
  critical peak 18-20 (peak +20 %) and deep valley 12-14 (valley -20 %).

Both are read from the grid companies' agency-purchase price notes quoting the two documents
(secondary: **verify** against the originals); their effective date is not verified either
(``effective_from`` 2024-01-01, **verify**). Only the floating part of the energy price moves
with the period (the purchase price); transmission, losses, funds do not: a
:class:`Prices` keeps the two apart. Prices themselves change monthly with the agency-purchase
announcements and are configuration, never in this file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

PERIODS: tuple[str, ...] = ("deep_valley", "valley", "flat", "peak", "critical_peak")
P = {name: i for i, name in enumerate(PERIODS)}
SLOTS = 96  # quarter hours of a day
I8 = npt.NDArray[np.int8]


def day_slots(spans: Mapping[str, Sequence[tuple[str, str]]]) -> I8:
    """Periods of a day's 96 quarter hours from ``{"peak": [("06:00", "08:00")], ...}``; every
    quarter hour must be covered exactly once."""
    out = np.full(SLOTS, -1, dtype=np.int8)
    for name, ranges in spans.items():
        for a, b in ranges:
            lo, hi = _slot(a), _slot(b)
            if lo >= hi or (out[lo:hi] != -1).any():
                raise ValueError(f"period {name} {a}-{b} is empty or overlaps another")
            out[lo:hi] = P[name]
    if (out == -1).any():
        raise ValueError(f"quarter hour {int(np.flatnonzero(out == -1)[0])} has no period")
    return out


def _slot(hhmm: str) -> int:
    h, m = (int(x) for x in hhmm.split(":"))
    if not (0 <= h <= 24 and m in (0, 15, 30, 45)) or h * 60 + m > 1440:
        raise ValueError(f"{hhmm!r} is not a quarter hour of the day")
    return (h * 60 + m) // 15


def overlay(base: I8, period: str, ranges: Sequence[tuple[str, str]]) -> I8:
    """``base`` with ``ranges`` turned into ``period`` (critical peak inside peak hours)."""
    out = base.copy()
    for a, b in ranges:
        out[_slot(a) : _slot(b)] = P[period]
    return out


@dataclass(frozen=True, slots=True)
class Schedule:
    """Which period each quarter hour of each month is in, and each period's multiplier of
    the flat price's floating part."""

    code: str
    name: str
    effective_from: date
    months: Mapping[int, I8]  # month 1-12 -> 96 periods
    multipliers: Mapping[int, Mapping[str, float]]  # month -> period -> multiplier
    source: str
    verify: tuple[str, ...] = ()  # what is not checked against the original

    def table(self) -> npt.NDArray[np.float64]:
        """Multiplier per (month 1-12, period index), 0 where the month lacks the period."""
        out = np.zeros((13, len(PERIODS)))
        for m, mult in self.multipliers.items():
            for name, k in mult.items():
                out[m, P[name]] = k
        return out


def _mengxi() -> Schedule:
    windy = day_slots(
        {
            "peak": [("06:00", "08:00"), ("18:00", "22:00")],
            "flat": [("04:00", "06:00"), ("08:00", "11:00"), ("16:00", "18:00"), ("22:00", "24:00")],
            "valley": [("00:00", "04:00"), ("11:00", "16:00")],
        }
    )
    calm = day_slots(
        {
            "peak": [("06:00", "08:00"), ("18:00", "22:00")],
            "flat": [("00:00", "06:00"), ("08:00", "11:00"), ("16:00", "18:00"), ("22:00", "24:00")],
            "valley": [("11:00", "16:00")],
        }
    )
    calm = overlay(overlay(calm, "critical_peak", [("19:00", "21:00")]), "deep_valley", [("13:00", "15:00")])
    windy_k = {"peak": 1.68, "flat": 1.0, "valley": 0.48}
    calm_k = {"peak": 1.54, "flat": 1.0, "valley": 0.44, "critical_peak": 1.54 * 1.2, "deep_valley": 0.44 * 0.8}
    return _summer_and_rest("nm_west_2023", "蒙西电网工商业分时电价", "1630", (windy, windy_k), (calm, calm_k))


SUMMER = (6, 7, 8)  # both grids' critical peak and deep valley months (and 蒙西's calm season)


def _summer_and_rest(
    code: str, name: str, number: str, rest: tuple[I8, dict[str, float]], summer: tuple[I8, dict[str, float]]
) -> Schedule:
    def pick(m: int) -> tuple[I8, dict[str, float]]:
        return summer if m in SUMMER else rest

    return Schedule(
        code=code,
        name=name,
        effective_from=date(2024, 1, 1),
        months=MappingProxyType({m: pick(m)[0] for m in range(1, 13)}),
        multipliers=MappingProxyType({m: pick(m)[1] for m in range(1, 13)}),
        source=f"内蒙古自治区发展和改革委员会 内发改价费字〔2023〕{number}号, as quoted in the agency-purchase"
        " price notes",
        verify=("effective_from", "periods and ratios against the original document"),
    )


def _mengdong() -> Schedule:
    day = day_slots(
        {
            "peak": [("06:00", "09:00"), ("17:00", "22:00")],
            "flat": [("05:00", "06:00"), ("09:00", "11:00"), ("14:00", "17:00"), ("22:00", "24:00")],
            "valley": [("00:00", "05:00"), ("11:00", "14:00")],
        }
    )
    summer_day = overlay(overlay(day, "critical_peak", [("18:00", "20:00")]), "deep_valley", [("12:00", "14:00")])
    k = {"peak": 1.68, "flat": 1.0, "valley": 0.48}
    summer_k = {**k, "critical_peak": 1.68 * 1.2, "deep_valley": 0.48 * 0.8}
    return _summer_and_rest("nm_east_2023", "蒙东电网工商业分时电价（试行）", "1631", (day, k), (summer_day, summer_k))


SCHEDULES: Mapping[str, Schedule] = MappingProxyType({s.code: s for s in (_mengxi(), _mengdong())})


@dataclass(frozen=True, slots=True)
class Prices:
    """A meter's prices (yuan): the floating part of the flat energy price, the part that does not
    float (transmission, losses, funds), and the demand charge per kW of the month's maximum
    15-minute demand. Configuration (a meter's ``attributes``), as the monthly announcements set
    them; none is a published figure here."""

    floating_kwh: float
    fixed_kwh: float = 0.0
    demand_kw_month: float = 0.0
    schedule: str = "nm_west_2023"

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"tariff schedule {self.schedule!r} is not one of {', '.join(SCHEDULES)}")
        for name in ("floating_kwh", "fixed_kwh", "demand_kw_month"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and 0 <= v <= 100_000):
                raise ValueError(f"tariff {name}: {v!r} is not a price from 0 to 100000 yuan")

    def period_prices(self) -> npt.NDArray[np.float64]:
        """yuan/kWh per (month 1-12, period index)."""
        table = SCHEDULES[self.schedule].table()
        return np.where(table > 0, table * self.floating_kwh + self.fixed_kwh, 0.0)
