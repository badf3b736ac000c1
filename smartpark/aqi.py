"""Air quality index per HJ 633 (2012 and 2026 editions), hourly and daily, exact rounding.

The one AQI of the platform: the aggregation's daily figures, the alarms' hourly AQI, the CLI and
the page (through ``GET /api/v1/reference/aqi``) all use this module.

IAQI = (I_hi − I_lo) / (BP_hi − BP_lo) × (C − BP_lo) + I_lo, rounded up. In doubles the division
lands a hair above an exact integer at some fractions (CO 24 h 2.2 → 55.000000000000014 → 56), so
concentrations are taken to integer thousandths and the IAQI is one integer ceiling division.
Everything is vectorised over stations or hours.

The edition is chosen by the date of the data (HJ 633-2026 in force from 2026-03-01). What 2026
changes besides the PM breakpoints (source: a public transcription of the MEE text; verify):
concentrations rounded per GB/T 8170 before the IAQI (µg/m³ to integers, CO to 0.1 mg/m³); SO2 1 h
above 800 µg/m³ counts as IAQI 200 and O3 8 h above 800 as IAQI 300 (no substitution); the daily
report has six items (O3 daily maximum 8 h, no O3 1 h); the real-time report has the 1 h means of
the six, PM on its 24 h breakpoints; a missing item makes the AQI "NA" unless the others already
exceed 100; no "exceeding pollutants" any more.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
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
# HJ 633-2012 table 2 colours (RGB 0,228,0 / 255,255,0 / 255,126,0 / 255,0,0 / 153,0,76 / 126,0,35).
COLOURS = ("#00e400", "#ffff00", "#ff7e00", "#ff0000", "#99004c", "#7e0023")
MISSING = -1  # IAQI of a pollutant without a concentration

I64 = npt.NDArray[np.int64]


# The items of each report (HJ 633-2012 5.1/5.2; HJ 633-2026: six items each, verify).
ITEMS: Mapping[tuple[Edition, bool], tuple[str, ...]] = MappingProxyType(
    {
        ("2012", False): ("PM25", "PM10", "SO2", "NO2", "CO", "O3_8H", "O3_1H"),
        ("2012", True): ("PM25", "PM10", "SO2", "NO2", "CO", "O3_8H", "O3_1H"),
        ("2026", False): ("PM25", "PM10", "SO2", "NO2", "CO", "O3_8H"),
        ("2026", True): ("PM25", "PM10", "SO2", "NO2", "CO", "O3_1H"),
    }
)
# GB/T 8170 rounding step before the IAQI (2026), in thousandths: 1 µg/m³; CO 0.1 mg/m³.
ROUNDING_STEP_MILLI: Mapping[str, int] = MappingProxyType({p: 100 if p == "CO" else SCALE for p in POLLUTANTS})
BEIJING_OFFSET_MS = 8 * 3600 * 1000  # HJ 633 days and hours are Beijing time


def edition_for(day: date) -> Edition:
    """The HJ 633 edition in force on the date of the data."""
    return "2026" if day >= EDITION_2026_FROM else "2012"


def edition_at_ms(ts_ms: int) -> Edition:
    """The edition in force at an instant (epoch ms), by its Beijing date."""
    return edition_for(date.fromordinal(date(1970, 1, 1).toordinal() + (ts_ms + BEIJING_OFFSET_MS) // 86_400_000))


def round_gbt8170(value: float | str, step: str) -> Decimal:
    """GB/T 8170-2008 3.3 rounding of one value to ``step`` ("1" or "0.1"): a dropped part above
    half goes up, below half down, exactly half to the even last digit (四舍六入五成双). Taken from
    the value's shortest decimal text, so 80.5 is a tie and 80.50000001 is not."""
    return Decimal(repr(value) if isinstance(value, float) else value).quantize(Decimal(step), ROUND_HALF_EVEN)


def round_milli_gbt8170(milli: npt.ArrayLike, step_milli: int) -> I64:
    """:func:`round_gbt8170` on integer thousandths (MISSING stays MISSING)."""
    m = np.asarray(milli, dtype=np.int64)
    q, r = np.divmod(m, step_milli)
    half = step_milli // 2
    up = (r > half) | ((r == half) & (q % 2 == 1))
    return np.where(m < 0, MISSING, (q + up) * step_milli)


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
    aqi: I64  # MISSING where no AQI is published ("NA")
    iaqi: Mapping[str, I64]  # MISSING where an item has no concentration
    primary: Mapping[str, npt.NDArray[np.bool_]]  # per pollutant: is (one of) the primary
    substituted: Mapping[str, npt.NDArray[np.bool_]]  # 2012: SO2 / O3_8H replaced per the rules
    capped: Mapping[str, npt.NDArray[np.bool_]]  # 2026: SO2 1 h > 800 -> 200, O3 8 h > 800 -> 300
    edition: Edition
    hourly: bool

    @property
    def level(self) -> I64:
        bounds = np.asarray([b for b, *_ in CATEGORIES], dtype=np.int64)
        lv = np.searchsorted(bounds, self.aqi, side="left") + 1
        return np.where(self.aqi < 0, 0, lv).astype(np.int64)

    def exceeding(self, pollutant: str) -> npt.NDArray[np.bool_]:
        """HJ 633-2012 "超标污染物" (IAQI > 100); the 2026 edition has none."""
        if self.edition != "2012":
            return np.zeros(np.shape(self.aqi), dtype=bool)
        return self.iaqi[pollutant] > 100

    def missing(self, pollutant: str) -> npt.NDArray[np.bool_]:
        """The item has no valid concentration (reported "NA")."""
        return self.iaqi[pollutant] < 0


def aqi(
    conc: Mapping[str, npt.ArrayLike],
    *,
    hourly: bool = False,
    edition: Edition = "2012",
    so2_24h: npt.ArrayLike | None = None,
) -> AqiResult:
    """AQI of concentrations (µg/m³, CO mg/m³; NaN = not measured), see :func:`aqi_milli`.

    2026: each value is first rounded per GB/T 8170 from its decimal text, so digits beyond the
    thousandths still break a tie."""
    milli = {}
    for p, v in conc.items():
        if edition == "2026" and p in ROUNDING_STEP_MILLI:
            step = "0.1" if p == "CO" else "1"
            arr = np.asarray(v, dtype=np.float64)
            if (arr < 0).any():
                raise ValueError(f"negative concentration {arr[arr < 0].flat[0]!r}")
            rounded = [float(round_gbt8170(float(x), step)) if np.isfinite(x) else np.nan for x in arr.flat]
            v = np.asarray(rounded, dtype=np.float64).reshape(arr.shape)
        milli[p] = to_thousandths(v)
    so2 = None if so2_24h is None else to_thousandths(so2_24h)
    return aqi_milli(milli, hourly=hourly, edition=edition, so2_24h=so2)


def aqi_milli(
    milli: Mapping[str, npt.ArrayLike],
    *,
    hourly: bool = False,
    edition: Edition = "2012",
    so2_24h: npt.ArrayLike | None = None,
) -> AqiResult:
    """AQI of concentrations in integer thousandths keyed PM25, PM10, SO2, NO2, CO, O3_8H, O3_1H
    (any subset of the report's items; MISSING = not measured).

    2012 (HJ 633-2012 table 1 notes): hourly SO2 above 800 µg/m³ is not indexed on the 1 h table;
    its IAQI is that of ``so2_24h`` when given, else of the same value on the 24 h table. O3 8 h
    above 800 µg/m³ is not indexed; the O3 1 h IAQI stands in for it. The AQI is the highest IAQI
    of the items present.

    2026: values rounded per GB/T 8170; SO2 1 h above 800 is IAQI 200, O3 8 h above 800 IAQI 300;
    an item missing (not given, or MISSING) makes the AQI MISSING ("NA") unless the items present
    already exceed 100.
    """
    unknown = set(milli) - set(POLLUTANTS)
    if unknown:
        raise KeyError(f"unknown pollutant(s) {sorted(unknown)}; expected {POLLUTANTS}")
    if not milli:
        raise ValueError("no pollutant concentrations given")
    items = ITEMS[(edition, hourly)]
    extra = set(milli) - set(items)
    if extra:
        report = "real-time" if hourly else "daily"
        raise ValueError(f"{sorted(extra)} not an item of the HJ 633-{edition} {report} report; items: {items}")
    shape = np.broadcast_shapes(*(np.shape(m) for m in milli.values()))
    arr: dict[str, I64] = {p: np.broadcast_to(np.asarray(m, dtype=np.int64), shape) for p, m in milli.items()}
    if edition == "2026":
        arr = {p: round_milli_gbt8170(m, ROUNDING_STEP_MILLI[p]) for p, m in arr.items()}
    tables = TABLE_OF[hourly]
    out = {p: iaqi(tables[p], m, edition).value for p, m in arr.items()}
    subs: dict[str, npt.NDArray[np.bool_]] = {}
    caps: dict[str, npt.NDArray[np.bool_]] = {}
    if hourly and "SO2" in arr:
        over = arr["SO2"] > 800 * SCALE
        if edition == "2026":
            out["SO2"] = np.where(over, 200, out["SO2"])
            caps["SO2"] = over
        else:
            alt_src = arr["SO2"] if so2_24h is None else np.broadcast_to(np.asarray(so2_24h), shape)
            out["SO2"] = np.where(over, iaqi("SO2_24H", alt_src, edition).value, out["SO2"])
            subs["SO2"] = over
    if "O3_8H" in arr:
        over = arr["O3_8H"] > 800 * SCALE
        if edition == "2026":
            out["O3_8H"] = np.where(over, 300, out["O3_8H"])
            caps["O3_8H"] = over
        else:
            if over.any() and "O3_1H" not in out:
                raise ValueError("O3 8 h above 800 µg/m³ needs the O3 1 h concentration to stand in")
            o3_1h = out.get("O3_1H", out["O3_8H"])
            out["O3_8H"] = np.where(over, o3_1h, out["O3_8H"])
            subs["O3_8H"] = over
    stacked = np.stack([out[p] for p in out])
    total = stacked.max(axis=0)
    if edition == "2026":
        lacking = np.zeros(shape, dtype=bool)
        for p in items:
            lacking |= out[p] < 0 if p in out else True
        total = np.where(lacking & (total <= 100), MISSING, total)
        for p in items:
            out.setdefault(p, np.full(shape, MISSING, dtype=np.int64))
    primary = {p: (out[p] == total) & (total > 50) for p in out}
    return AqiResult(total, out, primary, subs, caps, edition, hourly)


def category(aqi_value: int) -> tuple[int, str, str]:
    """(level, Chinese category, English category) of one AQI value."""
    for bound, level, zh, en in CATEGORIES:
        if aqi_value <= bound:
            return level, zh, en
    raise AssertionError("unreachable")


def reference() -> dict[str, object]:
    """The tables as data, for whoever draws AQI figures (the page reads them from the API)."""
    return {
        "editions": {
            ed: {
                "breakpoints": {k: list(v) for k, v in BREAKPOINTS[ed].items()},
                "daily_items": list(ITEMS[(ed, False)]),
                "hourly_items": list(ITEMS[(ed, True)]),
            }
            for ed in BREAKPOINTS
        },
        "edition_2026_from": EDITION_2026_FROM.isoformat(),
        "iaqi_steps": list(IAQI_STEPS),
        "categories": [
            {"max": None if b >= 2**31 else b, "level": lv, "level_name": LEVEL_NAMES[lv], "zh": zh, "en": en}
            for b, lv, zh, en in CATEGORIES
        ],
        "colours": list(COLOURS),
    }


O3_8H_MIN_HOURS = 6  # GB 3095-2012 table 4 note: an 8 h mean needs 6 hourly means (verify)


def o3_daily(hourly: npt.ArrayLike) -> tuple[float, float]:
    """(O3 maximum 1 h, O3 daily maximum 8 h) of one day's 24 hourly means (NaN = no mean).

    The 8 h means are the sliding means of the day's own hours that end at 08:00 ... 24:00
    (HJ 633 daily report; GB 3095-2012), each needing :data:`O3_8H_MIN_HOURS` hourly means.
    NaN where the day has no valid figure."""
    h = np.asarray(hourly, dtype=np.float64)
    if h.shape != (24,):
        raise ValueError(f"need 24 hourly means, got shape {h.shape}")
    ok = np.isfinite(h)
    max_1h = float(h[ok].max()) if ok.any() else math.nan
    windows = np.lib.stride_tricks.sliding_window_view(np.where(ok, h, 0.0), 8)
    counts = np.lib.stride_tricks.sliding_window_view(ok.astype(np.int64), 8).sum(axis=1)
    means = np.where(counts >= O3_8H_MIN_HOURS, windows.sum(axis=1) / np.maximum(counts, 1), np.nan)
    max_8h = float(np.nanmax(means)) if np.isfinite(means).any() else math.nan
    return max_1h, max_8h


# Catalogue metrics of an air station -> the report item their 1 h mean is.
HOURLY_ITEM_OF_METRIC: Mapping[str, str] = MappingProxyType(
    {
        "air.pm25_ugm3": "PM25",
        "air.pm10_ugm3": "PM10",
        "air.so2_ugm3": "SO2",
        "air.no2_ugm3": "NO2",
        "air.co_mgm3": "CO",
        "air.o3_ugm3": "O3_1H",
    }
)


def realtime_aqi(hourly_means: Mapping[str, float], ts_ms: int) -> int | None:
    """Real-time (hourly) AQI of a station's 1 h mean concentrations, keyed by catalogue metric,
    in the edition in force at ``ts_ms``; None when no AQI is published (no item, or "NA").

    The AQI of the hourly means, never a mean of per-reading AQIs (the IAQI is not linear)."""
    conc = {HOURLY_ITEM_OF_METRIC[c]: v for c, v in hourly_means.items() if c in HOURLY_ITEM_OF_METRIC}
    if not conc:
        return None
    value = int(aqi(conc, hourly=True, edition=edition_at_ms(ts_ms)).aqi)
    return None if value == MISSING else value
