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

from aggregation import aqi as aqi_core
from aggregation import indicators as ind
from aggregation.indicator_job import EMISSION_COLUMNS, ENERGY_COLUMNS, merge_notes
from aggregation.indicators import evaluate, intensities, park_class

ENERGY = ENERGY_COLUMNS
EMISSIONS = EMISSION_COLUMNS
ECONOMIC = (
    "output_value",
    "value_added",
    "tax",
    "fixed_asset_investment",
    "employees",
    "land_area_mu",
)

# Daily means of the air metrics, keyed by the AQI core's pollutant names (24 h tables).
AIR_POLLUTANTS = {
    "air.pm25_ugm3": "PM25",
    "air.pm10_ugm3": "PM10",
    "air.so2_ugm3": "SO2",
    "air.no2_ugm3": "NO2",
    "air.co_mgm3": "CO",
}


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def shape(row: Mapping[str, Any], categories: frozenset[str], *, matched: ind.Matched | None = None) -> dict[str, Any]:
    """One period's figures for a caller. ``matched``: the period's intensities and their
    coverage (:func:`intensities_by_period`); daily rows have none."""
    out: dict[str, Any] = {"period": row["period"], "readings": int(row.get("readings") or 0)}
    out["energy"] = {k: _num(row.get(k)) for k in ENERGY} if "energy" in categories else None
    out["emissions"] = {k: _num(row.get(k)) for k in EMISSIONS} if "emissions" in categories else None
    has_economic = "output_value" in row
    out["economic"] = {k: _num(row.get(k)) for k in ECONOMIC} if has_economic else None
    out["intensities"] = None
    out["coverage"] = None
    if matched is not None and "energy" in categories:
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
        groups[month.replace(month=1) if period == "year" else month].append(c)
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


ECONOMIC_REPORTED = ("output_value", "value_added", "tax", "fixed_asset_investment")


def _nan(v: Any) -> float:
    return float("nan") if v is None else float(v)


def daily_aqi(rows: Iterable[Mapping[str, Any]]) -> dict[date, dict[str, Any]]:
    """AQI of each day from the daily mean concentrations (HJ 633, edition by the date)."""
    by_day: dict[date, dict[str, float]] = defaultdict(dict)
    for r in rows:
        name = AIR_POLLUTANTS.get(r["metric"])
        if name is not None and r["mean"] is not None:
            by_day[r["day"]][name] = float(r["mean"])
    out = {}
    for day, conc in by_day.items():
        result = aqi_core.aqi(conc, edition=aqi_core.edition_for(day))
        value = int(result.aqi)
        level, zh, en = aqi_core.category(value)
        primary = sorted(p for p, flag in result.primary.items() if bool(flag))
        out[day] = {
            "aqi": value,
            "level": level,
            "category": zh,
            "category_en": en,
            "primary": primary,
            "iaqi": {p: int(v) for p, v in result.iaqi.items()},
        }
    return out


def evaluation(park_rows: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """Class (Article 12) and comprehensive evaluation (Article 22) of every park in one year."""
    if not park_rows:
        return {}

    def col(k: str) -> np.ndarray:
        return np.asarray([_nan(r.get(k)) for r in park_rows], dtype=np.float64)

    land = np.asarray([_nan(r.get("park_area_mu") or r.get("land_area_mu")) for r in park_rows])
    ints = intensities(
        tce=col("tce_equivalent"),
        co2_t=col("co2_t"),
        output_value=col("output_value"),
        value_added=col("value_added"),
        tax=col("tax"),
        investment=col("fixed_asset_investment"),
        land_mu=land,
    )
    classes = park_class(np.nan_to_num(col("output_value"), nan=0.0))
    values = {
        "output_value": col("output_value"),
        "tax": col("tax"),
        "enterprises": col("enterprises"),
        "employees": col("employees"),
        "exceedance_minutes": col("exceedance_minutes"),
        **ints,
    }
    ev = evaluate(values, eligible=classes > 0)
    n = int((classes > 0).sum())
    return {
        int(r["park_id"]): {
            "park_class": int(classes[i]),
            "score": _num(ev.score[i]),
            "rank": int(ev.rank[i]) or None,
            "ranked_parks": n,
            "rewarded": bool(ev.rewarded[i]),
            "penalised": bool(ev.penalised[i]),
        }
        for i, r in enumerate(park_rows)
    }
