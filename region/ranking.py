"""The region's Article 12 class check and Article 22 ranking of every park over several years.

Pure numpy over (park × year) arrays. The ranking of each year is the park evaluation the
platform already has (``aggregation.indicators.evaluate`` by the method in force for the year,
``method_for``: the weights are data, with the year they apply from, marked as an assumption until
the regional office publishes its own); the region feeds it the figures parks submitted instead of
its own indicator tables. The three-years-below-class streak is computed for all parks and years at
once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from aggregation import indicators as ind

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

# Figures an annual package carries for the ranking: every criterion any method may weigh, and
# the output that decides the class.
RANKING_FIGURES = (
    "output_value",
    "tax",
    "fixed_asset_investment",
    "enterprises",
    "employees",
    "exceedance_minutes",
    *ind.RATIOS,
    *ind.PER_MU,
)


@dataclass(frozen=True, slots=True)
class RegionRanking:
    """Per (park, year): ``codes`` × ``years``. Rank 0 and score NaN where a park is not ranked."""

    codes: list[str]
    years: list[int]
    figures: dict[str, F64]
    submitted: B
    park_class: I64
    score: F64
    rank: I64
    ranked: I64  # per year: parks in the ranking
    rewarded: B
    penalised: B
    below_class_years: I64  # -1 where the park has no designated class
    downgrade_review: B
    methods: list[ind.EvaluationMethod | None]  # per year, None before any method applies


def below_class_streaks(outputs: F64, designated: Sequence[int | None]) -> I64:
    """Article 22: per (park, year), the consecutive years up to it in which the park stayed below
    its designated class's output (Article 12); an unknown year breaks a streak; -1 without a
    designated class. ``outputs``: parks × years, oldest first, NaN unknown."""
    threshold = dict(ind.CLASS_THRESHOLDS_10K_YUAN)
    thr = np.array([threshold.get(d, np.nan) if d is not None else np.nan for d in designated], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        below = np.isfinite(outputs) & (outputs < thr[:, None])
    idx = np.arange(outputs.shape[1])
    last_not_below = np.maximum.accumulate(np.where(below, -1, idx[None, :]), axis=1)
    streak = (idx[None, :] - last_not_below).astype(np.int64)
    return np.where(np.isnan(thr)[:, None], -1, streak)


def figure_arrays(
    codes: Sequence[str], years: Sequence[int], annual: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, F64], B]:
    """(park × year) arrays of the ranking figures from the latest annual packages (rows with
    ``park_code``, ``year`` and ``body['figures']``); NaN where not submitted or not reported."""
    pi = {c: i for i, c in enumerate(codes)}
    yi = {y: j for j, y in enumerate(years)}
    shape = (len(codes), len(years))
    out = {k: np.full(shape, np.nan) for k in RANKING_FIGURES}
    submitted = np.zeros(shape, dtype=bool)
    for row in annual:
        i, j = pi.get(row["park_code"]), yi.get(int(row["year"]))
        if i is None or j is None:
            continue
        submitted[i, j] = True
        figures = (row.get("body") or {}).get("figures") or {}
        for k in RANKING_FIGURES:
            v = figures.get(k)
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[k][i, j] = float(v)
    return out, submitted


def rank_region(
    codes: Sequence[str],
    designated: Sequence[int | None],
    years: Sequence[int],
    figures: Mapping[str, F64],
    submitted: B,
    *,
    history: int = 0,
) -> RegionRanking:
    """Class and ranking of every park in every year; the first ``history`` years only feed the
    below-class streaks (so a streak reaches back before the first year shown)."""
    outputs = figures["output_value"]
    classes = ind.park_class(np.nan_to_num(outputs, nan=0.0))
    n, m = outputs.shape
    score, rank = np.full((n, m), np.nan), np.zeros((n, m), dtype=np.int64)
    rewarded, penalised = np.zeros((n, m), dtype=bool), np.zeros((n, m), dtype=bool)
    ranked = np.zeros(m, dtype=np.int64)
    methods: list[ind.EvaluationMethod | None] = []
    for j, year in enumerate(years):
        if year < ind.FIRST_EVALUATION_YEAR:
            methods.append(None)
            continue
        method = ind.method_for(year)
        methods.append(method)
        eligible = submitted[:, j] & (classes[:, j] > 0)  # Article 22: class 1 and 2 parks
        ev = ind.evaluate({k: figures[k][:, j] for k in method.criteria}, eligible=eligible, method=method)
        score[:, j], rank[:, j], ranked[j] = ev.score, ev.rank, ev.ranked
        rewarded[:, j], penalised[:, j] = ev.rewarded, ev.penalised
    streak = below_class_streaks(outputs, designated)
    s = slice(history, None)
    return RegionRanking(
        codes=list(codes),
        years=list(years)[s],
        figures={k: v[:, s] for k, v in figures.items()},
        submitted=submitted[:, s],
        park_class=classes[:, s],
        score=score[:, s],
        rank=rank[:, s],
        ranked=ranked[s],
        rewarded=rewarded[:, s],
        penalised=penalised[:, s],
        below_class_years=streak[:, s],
        downgrade_review=streak[:, s] >= ind.DOWNGRADE_AFTER_YEARS,
        methods=methods[s],
    )


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def park_results(r: RegionRanking, i: int) -> list[dict[str, Any]]:
    """One park's result per year (the trend), oldest first."""
    out = []
    for j, year in enumerate(r.years):
        method = r.methods[j]
        streak = int(r.below_class_years[i, j])
        out.append(
            {
                "year": year,
                "submitted": bool(r.submitted[i, j]),
                "park_class": int(r.park_class[i, j]) if r.submitted[i, j] else None,
                "score": _num(r.score[i, j]),
                "rank": int(r.rank[i, j]) or None,
                "ranked_parks": int(r.ranked[j]),
                "rewarded": bool(r.rewarded[i, j]),
                "penalised": bool(r.penalised[i, j]),
                "below_class_years": None if streak < 0 else streak,
                "downgrade_review": bool(r.downgrade_review[i, j]),
                "figures": {k: _num(v[i, j]) for k, v in r.figures.items()},
                "method": None
                if method is None
                else {"applies_from": method.applies_from, "source": method.source, "assumption": method.assumption},
            }
        )
    return out
