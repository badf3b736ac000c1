"""Shaping indicator rows into the statistics the API serves (pure: rows in, dicts out).

Fields are grouped by the metric category they come from, and a group the caller may not read is
null: an environment regulator sees emissions and air quality, not the energy bill.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from aggregation import indicators as ind
from aggregation.indicator_columns import CARRIER_COLUMN, EMISSION_COLUMNS, ENERGY_COLUMNS
from aggregation.indicator_monthly import merge_notes
from aggregation.indicators import ENERGY_CARRIERS, energy, evaluate, park_class
from smartpark import aqi as aqi_core

ENERGY = ENERGY_COLUMNS
EMISSIONS = EMISSION_COLUMNS
ECONOMIC = (
    "output_value",
    "value_added",
    "tax",
    "fixed_asset_investment",
    "employees",
    "land_area_mu",
    "rd_expense",
    "leading_industry_share",
    "enterprises",
)

# Daily means of the air metrics, keyed by the AQI core's pollutant names (24 h tables); O3 comes
# from the hourly means (daily maximum 8 h, and for HJ 633-2012 also the maximum 1 h).
AIR_POLLUTANTS = {
    "air.pm25_ugm3": "PM25",
    "air.pm10_ugm3": "PM10",
    "air.so2_ugm3": "SO2",
    "air.no2_ugm3": "NO2",
    "air.co_mgm3": "CO",
    "air.o3_ugm3": "O3",
}
O3_METRIC = "air.o3_ugm3"


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def shape(
    row: Mapping[str, Any],
    categories: frozenset[str],
    *,
    economic: bool,
    matched: ind.Matched | None = None,
) -> dict[str, Any]:
    """One period's figures for a caller. ``matched``: the period's intensities and their
    coverage (:func:`intensities_by_period`); daily rows have none. ``economic``: whether the
    caller may read economic figures (Principal.can_read_economic, the one rule that also guards
    /economic-reports); if not, they and the intensities made from them are null."""
    out: dict[str, Any] = {
        "period": row["period"],
        "readings": int(row.get("readings") or 0),
        "computed_at": row.get("computed_at"),
    }
    out["energy"] = {k: _num(row.get(k)) for k in ENERGY} if "energy" in categories else None
    out["emissions"] = {k: _num(row.get(k)) for k in EMISSIONS} if "emissions" in categories else None
    out["tce_by_carrier"] = tce_by_carrier(row) if "energy" in categories else None
    has_economic = economic and "output_value" in row
    out["economic"] = {k: _num(row.get(k)) for k in ECONOMIC} if has_economic else None
    out["intensities"] = None
    out["coverage"] = None
    if economic and matched is not None and "energy" in categories:
        out["intensities"] = {k: _num(v) for k, v in matched.values.items()}
        out["coverage"] = matched.coverage
    notes = row.get("notes") or {}
    if isinstance(notes, list):  # a year: the notes of its months
        notes = merge_notes(notes)
    visible = {k: v for k, v in notes.items() if k in ENERGY and "energy" in categories}
    out["notes"] = visible
    return out


def intensities_by_period(
    cells: Sequence[Mapping[str, Any]], period: str, *, total_land: float | None
) -> dict[date, ind.Matched]:
    """Matched intensities (numerator and denominator over the same enterprises and months)
    per month or calendar year, from the subject's (enterprise, month) rows."""
    groups: dict[date, list[Mapping[str, Any]]] = defaultdict(list)
    for c in cells:
        month: date = c["month"]
        groups[_period_of(month, period)].append(c)
    land = {int(c["enterprise_id"]): _num(c.get("land_area_mu")) for c in cells}
    return {
        key: ind.matched_intensities(
            {
                "enterprise": [int(c["enterprise_id"]) for c in rows],
                "energy_reported": [bool(c["readings"]) for c in rows],
                **{k: [_nan(c.get(k)) for c in rows] for k in (*ind.ENERGY_FIGURES, *ECONOMIC_REPORTED)},
            },
            land=land,
            total_land=total_land,
        )
        for key, rows in groups.items()
    }


ECONOMIC_REPORTED = ("output_value", "value_added", "tax", "fixed_asset_investment", "rd_expense")


def concentration_by_period(cells: Sequence[Mapping[str, Any]], period: str) -> dict[date, float | None]:
    """Article 21's industrial concentration per month or year: the largest industry's share of
    the output of the enterprises that reported it."""
    groups: dict[date, list[Mapping[str, Any]]] = defaultdict(list)
    for c in cells:
        if c.get("output_value") is not None:
            groups[_period_of(c["month"], period)].append(c)
    out = {}
    for key, rows in groups.items():
        share = ind.leading_industry_share([c["industry"] for c in rows], [float(c["output_value"]) for c in rows])
        out[key] = share if math.isfinite(share) else None
    return out


def _period_of(month: date, period: str) -> date:
    return month.replace(month=1) if period == "year" else month


def article_21(out: Mapping[str, Any]) -> dict[str, dict[str, float | None]]:
    """Article 21's statistic groups of one shaped period (groups the caller may not read: None)."""
    values: dict[str, float | None] = {"readings": None}
    for group in ("energy", "emissions", "economic", "intensities"):
        values.update(out.get(group) or {})
    return ind.statistic_groups(values)


def tce_by_carrier(row: Mapping[str, Any]) -> dict[str, float | None] | None:
    """Standard coal (equivalent value) of each carrier's net consumption: the share-by-carrier
    figures, by the same conversion as the row's tce_equivalent. None when no carrier has a figure."""
    amounts = {c: row.get(col) for c, col in CARRIER_COLUMN.items()}
    if all(v is None for v in amounts.values()):
        return None
    e = energy({c: float(v or 0.0) for c, v in amounts.items()}, year=row["period"].year).values
    return {c: _num(e[f"tce_{c}"]) for c in ENERGY_CARRIERS}


def _nan(v: Any) -> float:
    return float("nan") if v is None else float(v)


def daily_aqi(
    rows: Iterable[Mapping[str, Any]], o3_hourly: Iterable[Mapping[str, Any]] = ()
) -> dict[date, dict[str, Any]]:
    """AQI of each day (HJ 633, edition by the date): the daily means of SO2, NO2, CO, PM10 and
    PM2.5 and, from ``o3_hourly`` rows (day, hour 0-23 local, mean), the O3 daily maximum 8 h and
    (2012 only) maximum 1 h."""
    by_day: dict[date, dict[str, float]] = defaultdict(dict)
    for r in rows:
        name = AIR_POLLUTANTS.get(r["metric"])
        if name is not None and name != "O3" and r["mean"] is not None:
            by_day[r["day"]][name] = float(r["mean"])
    o3: dict[date, np.ndarray] = {}
    for r in o3_hourly:
        if r["mean"] is not None:
            o3.setdefault(r["day"], np.full(24, np.nan))[int(r["hour"])] = float(r["mean"])
    for day, hours in o3.items():
        max_1h, max_8h = aqi_core.o3_daily(hours)
        if math.isfinite(max_8h):
            by_day[day]["O3_8H"] = max_8h
        if math.isfinite(max_1h) and aqi_core.edition_for(day) == "2012":
            by_day[day]["O3_1H"] = max_1h
    out: dict[date, dict[str, Any]] = {}
    for day, conc in by_day.items():
        edition = aqi_core.edition_for(day)
        if edition == "2012" and conc.get("O3_8H", 0) > 800 and "O3_1H" not in conc:
            conc.pop("O3_8H")
        result = aqi_core.aqi(conc, edition=edition)
        value = int(result.aqi)
        iaqi = {p: int(v) for p, v in result.iaqi.items() if int(v) != aqi_core.MISSING}
        missing = sorted(p for p in result.iaqi if bool(result.missing(p)))
        if value == aqi_core.MISSING:
            out[day] = {
                "aqi": None,
                "level": None,
                "category": None,
                "category_en": None,
                "primary": [],
                "iaqi": iaqi,
                "missing": missing,
                "edition": f"HJ 633-{edition}",
            }
            continue
        level, zh, en = aqi_core.category(value)
        primary = sorted(p for p, flag in result.primary.items() if bool(flag))
        out[day] = {
            "aqi": value,
            "level": level,
            "category": zh,
            "category_en": en,
            "primary": primary,
            "iaqi": iaqi,
            "missing": missing,
            "edition": f"HJ 633-{edition}",
        }
    return out


def evaluation(
    park_rows: Sequence[Mapping[str, Any]],
    *,
    year: int,
    cells: Sequence[Mapping[str, Any]] = (),
    earlier_outputs: Mapping[int, Sequence[float | None]] | None = None,
) -> dict[int, dict[str, Any]]:
    """Class (Article 12, with its reference indicators), comprehensive evaluation (Article 22,
    by the method in force for ``year``) and the three-years-below-class check of every park.

    ``cells``: the enterprise months of the year of all parks (with ``park_id``), so intensities
    divide matched figures; ``earlier_outputs``: per park, the output of the years before
    ``year``, oldest first."""
    if not park_rows:
        return {}
    method = ind.method_for(year)

    def col(k: str) -> np.ndarray:
        return np.asarray([_nan(r.get(k)) for r in park_rows], dtype=np.float64)

    by_park: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for c in cells:
        by_park[int(c["park_id"])].append(c)
    matched = [
        intensities_by_period(by_park[int(r["park_id"])], "year", total_land=_num(r.get("park_area_mu")))
        for r in park_rows
    ]
    ints = {
        k: np.asarray([_nan(next(iter(m.values())).values.get(k)) if m else np.nan for m in matched])
        for k in (*ind.RATIOS, *ind.PER_MU)
    }
    classes = park_class(np.nan_to_num(col("output_value"), nan=0.0))
    flows = ("output_value", "tax", "fixed_asset_investment", "enterprises", "employees", "exceedance_minutes")
    values = {k: col(k) for k in flows}
    values.update(ints)
    ev = evaluate(values, eligible=classes > 0, method=method)
    out = {}
    for i, r in enumerate(park_rows):
        pid = int(r["park_id"])
        designated = _designated(r.get("designated_class"))
        streak = None
        if designated is not None:
            history = [*(earlier_outputs or {}).get(pid, ()), _num(r.get("output_value"))]
            streak = ind.below_class_streak(designated, history)
        out[pid] = {
            "park_class": int(classes[i]),
            "reference": {k: _num(values[k][i]) for k in ind.ARTICLE_12_REFERENCE},
            "designated_class": designated,
            "below_class_years": streak,
            "downgrade_review": streak is not None and streak >= ind.DOWNGRADE_AFTER_YEARS,
            "score": _num(ev.score[i]),
            "rank": int(ev.rank[i]) or None,
            "ranked_parks": ev.ranked,
            "rewarded": bool(ev.rewarded[i]),
            "penalised": bool(ev.penalised[i]),
            "method": {"applies_from": method.applies_from, "source": method.source, "assumption": method.assumption},
        }
    return out


def _designated(v: Any) -> int | None:
    """The park attribute designated_class (Article 13's decision), when it is 1 or 2."""
    try:
        c = int(v)
    except (TypeError, ValueError):
        return None
    return c if c in (1, 2) else None
