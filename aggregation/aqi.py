"""Air quality index per HJ 633 (2012 and 2026 editions), hourly and daily, exact rounding.

IAQI = (I_hi − I_lo) / (BP_hi − BP_lo) × (C − BP_lo) + I_lo, rounded up. In doubles the division
lands a hair above an exact integer at some fractions (CO 24 h 2.2 → 55.000000000000014 → 56), so
concentrations are taken to integer thousandths and the IAQI is one integer ceiling division.
Everything is vectorised over stations or hours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

Edition = Literal["2012", "2026"]
EDITION_2026_FROM = date(2026, 3, 1)
IAQI_STEPS = (0, 50, 100, 150, 200, 300, 400, 500)
SCALE = 1000  # concentrations in integer thousandths of µg/m³ (mg/m³ for CO)

_COMMON: dict[str, tuple[float, ...]] = {
    "SO2_24H": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "SO2_1H": (0, 150, 500, 650, 800),
    "NO2_24H": (0, 40, 80, 180, 280, 565, 750, 940),
    "NO2_1H": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "CO_24H": (0, 2, 4, 14, 24, 36, 48, 60),
    "CO_1H": (0, 5, 10, 35, 60, 90, 120, 150),
    "O3_1H": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "O3_8H": (0, 100, 160, 215, 265, 800),
}
# HJ 633-2026 changes PM2.5 and PM10 only (single source for its figures: verify).
BREAKPOINTS: Mapping[Edition, Mapping[str, tuple[float, ...]]] = MappingProxyType(
    {
        "2012": MappingProxyType(
            {
                **_COMMON,
                "PM10_24H": (0, 50, 150, 250, 350, 420, 500, 600),
                "PM25_24H": (0, 35, 75, 115, 150, 250, 350, 500),
            }
        ),
        "2026": MappingProxyType(
            {
                **_COMMON,
                "PM10_24H": (0, 50, 120, 250, 350, 420, 500, 600),
                "PM25_24H": (0, 35, 60, 115, 150, 250, 350, 500),
            }
        ),
    }
)

POLLUTANTS = ("PM25", "PM10", "SO2", "NO2", "CO", "O3_8H", "O3_1H")
# Which breakpoint table each reported pollutant uses (PM uses its 24 h table hourly too).
TABLE_OF: Mapping[bool, Mapping[str, str]] = MappingProxyType(
    {
        False: MappingProxyType(
            {
                "PM25": "PM25_24H",
                "PM10": "PM10_24H",
                "SO2": "SO2_24H",
                "NO2": "NO2_24H",
                "CO": "CO_24H",
                "O3_8H": "O3_8H",
                "O3_1H": "O3_1H",
            }
        ),
        True: MappingProxyType(
            {
                "PM25": "PM25_24H",
                "PM10": "PM10_24H",
                "SO2": "SO2_1H",
                "NO2": "NO2_1H",
                "CO": "CO_1H",
                "O3_8H": "O3_8H",
                "O3_1H": "O3_1H",
            }
        ),
    }
)

# (upper AQI bound, level, Chinese category, English category)
CATEGORIES: tuple[tuple[int, int, str, str], ...] = (
    (50, 1, "优", "excellent"),
    (100, 2, "良", "good"),
    (150, 3, "轻度污染", "lightly polluted"),
    (200, 4, "中度污染", "moderately polluted"),
    (300, 5, "重度污染", "heavily polluted"),
    (2**31, 6, "严重污染", "severely polluted"),
)
LEVEL_NAMES = ("", "一级", "二级", "三级", "四级", "五级", "六级")
MISSING = -1  # IAQI of a pollutant without a concentration

I64 = npt.NDArray[np.int64]


def edition_for(day: date) -> Edition:
    """The HJ 633 edition in force on the date of the data."""
    return "2026" if day >= EDITION_2026_FROM else "2012"


def to_thousandths(conc: npt.ArrayLike) -> I64:
    """Concentrations as exact integer thousandths (NaN -> MISSING); refuses negative values."""
    c = np.asarray(conc, dtype=np.float64)
    if (c < 0).any():
        raise ValueError(f"negative concentration {c[c < 0].flat[0]!r}")
    out = np.full(c.shape, MISSING, dtype=np.int64)
    ok = np.isfinite(c)
    out[ok] = np.rint(c[ok] * SCALE).astype(np.int64)
    return out


def thousandths_exact(value: str | Fraction | int) -> int:
    """A decimal string or fraction as integer thousandths, exact (rounds half up beyond)."""
    f = Fraction(value)
    if f < 0:
        raise ValueError(f"negative concentration {value!r}")
    return int((f * SCALE * 2 + 1) // 2)


@dataclass(frozen=True, slots=True)
class Iaqi:
    value: I64  # MISSING where no concentration
    beyond: npt.NDArray[np.bool_]  # above the table's top breakpoint (value capped at its top)


def iaqi(table: str, milli: npt.ArrayLike, edition: Edition = "2012") -> Iaqi:
    """Individual AQI of concentrations in integer thousandths against one breakpoint table."""
    try:
        bps = BREAKPOINTS[edition][table]
    except KeyError:
        raise KeyError(f"no breakpoint table {table!r} in HJ 633-{edition}") from None
    bp = np.asarray([int(Fraction(str(b)) * SCALE) for b in bps], dtype=np.int64)
    steps = np.asarray(IAQI_STEPS[: bp.size], dtype=np.int64)
    c = np.asarray(milli, dtype=np.int64)
    missing = c < 0
    j = np.clip(np.searchsorted(bp, c, side="right") - 1, 0, bp.size - 2)
    lo, hi = bp[j], bp[j + 1]
    ilo, ihi = steps[j], steps[j + 1]
    beyond = ~missing & (c > bp[-1])
    num = (ihi - ilo) * (np.minimum(c, bp[-1]) - lo)
    value = ilo - (-num // (hi - lo))  # exact ceiling division
    return Iaqi(np.where(missing, MISSING, value), beyond)


@dataclass(frozen=True, slots=True)
class AqiResult:
    aqi: I64  # MISSING where no pollutant had a value
    iaqi: Mapping[str, I64]
    primary: Mapping[str, npt.NDArray[np.bool_]]  # per pollutant: is (one of) the primary
    substituted: Mapping[str, npt.NDArray[np.bool_]]  # SO2 / O3_8H replaced per the rules
    edition: Edition
    hourly: bool

    @property
    def level(self) -> I64:
        bounds = np.asarray([b for b, *_ in CATEGORIES], dtype=np.int64)
        lv = np.searchsorted(bounds, self.aqi, side="left") + 1
        return np.where(self.aqi < 0, 0, lv).astype(np.int64)

    def exceeding(self, pollutant: str) -> npt.NDArray[np.bool_]:
        return self.iaqi[pollutant] > 100


def aqi(
    conc: Mapping[str, npt.ArrayLike],
    *,
    hourly: bool = False,
    edition: Edition = "2012",
    so2_24h: npt.ArrayLike | None = None,
) -> AqiResult:
    """AQI of concentrations (µg/m³, CO mg/m³; NaN = not measured), see :func:`aqi_milli`."""
    so2 = None if so2_24h is None else to_thousandths(so2_24h)
    return aqi_milli({p: to_thousandths(v) for p, v in conc.items()}, hourly=hourly, edition=edition, so2_24h=so2)


def aqi_milli(
    milli: Mapping[str, npt.ArrayLike],
    *,
    hourly: bool = False,
    edition: Edition = "2012",
    so2_24h: npt.ArrayLike | None = None,
) -> AqiResult:
    """AQI of concentrations in integer thousandths keyed PM25, PM10, SO2, NO2, CO, O3_8H, O3_1H
    (any subset; MISSING = not measured).

    Hourly: SO2 above 800 µg/m³ is not indexed on the 1 h table; its IAQI is that of ``so2_24h``
    when given, else of the same value on the 24 h table. Both: O3 8 h above 800 µg/m³ is not
    indexed; the O3 1 h IAQI stands in for it.
    """
    unknown = set(milli) - set(POLLUTANTS)
    if unknown:
        raise KeyError(f"unknown pollutant(s) {sorted(unknown)}; expected {POLLUTANTS}")
    if not milli:
        raise ValueError("no pollutant concentrations given")
    shape = np.broadcast_shapes(*(np.shape(m) for m in milli.values()))
    arr: dict[str, I64] = {p: np.broadcast_to(np.asarray(m, dtype=np.int64), shape) for p, m in milli.items()}
    tables = TABLE_OF[hourly]
    result = {p: iaqi(tables[p], m, edition) for p, m in arr.items()}
    out = {p: r.value for p, r in result.items()}
    subs: dict[str, npt.NDArray[np.bool_]] = {}
    if hourly and "SO2" in arr:
        over = arr["SO2"] > 800 * SCALE
        alt_src = arr["SO2"] if so2_24h is None else np.broadcast_to(np.asarray(so2_24h), shape)
        alt = iaqi("SO2_24H", alt_src, edition).value
        out["SO2"] = np.where(over, alt, out["SO2"])
        subs["SO2"] = over
    if "O3_8H" in arr:
        over = arr["O3_8H"] > 800 * SCALE
        if over.any() and "O3_1H" not in out:
            raise ValueError("O3 8 h above 800 µg/m³ needs the O3 1 h concentration to stand in")
        o3_1h = out.get("O3_1H", out["O3_8H"])
        out["O3_8H"] = np.where(over, o3_1h, out["O3_8H"])
        subs["O3_8H"] = over
    stacked = np.stack([out[p] for p in out])
    total = stacked.max(axis=0)
    primary = {p: (out[p] == total) & (total > 50) for p in out}
    return AqiResult(total, out, primary, subs, edition, hourly)


def category(aqi_value: int) -> tuple[int, str, str]:
    """(level, Chinese category, English category) of one AQI value."""
    for bound, level, zh, en in CATEGORIES:
        if aqi_value <= bound:
            return level, zh, en
    raise AssertionError("unreachable")
