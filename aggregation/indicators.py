"""Park indicators: energy by carrier, standard coal, CO2, intensities, park class, evaluation.

Arrays are aligned per entity (an enterprise or a park). Money is in 10⁴ yuan (万元), land in
mu (亩), energy in the catalogue units of each carrier. Articles refer to the regional regulation
on industrial parks in the shared reference (Articles 7, 12, 21, 22).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from aggregation import conversions as cv

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

ENERGY_CARRIERS = ("electricity", "natural_gas", "steam", "heat", "raw_coal")
EXPORT_OF = {"electricity_export": "electricity"}  # exported energy is deducted (GB/T 2589)


def _div(a: npt.ArrayLike, b: npt.ArrayLike) -> F64:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / b, np.nan)


def energy(carriers: Mapping[str, npt.ArrayLike], *, year: int, region: str = "national") -> dict[str, F64]:
    """Standard coal (equivalent and equal value) and CO2 of consumption per carrier.

    ``carriers`` maps catalogue carriers to amounts; ``water`` is passed through (not energy),
    exports are deducted from their carrier. Missing carriers count as zero.
    """
    amounts = {k: np.asarray(v, dtype=np.float64) for k, v in carriers.items()}
    unknown = set(amounts) - {*ENERGY_CARRIERS, *EXPORT_OF, "water"}
    if unknown:
        raise KeyError(f"unknown carrier(s) {sorted(unknown)}")
    shape = np.broadcast_shapes(*(a.shape for a in amounts.values())) if amounts else ()
    zero = np.zeros(shape)
    net = {c: amounts.get(c, zero) for c in ENERGY_CARRIERS}
    for exp, c in EXPORT_OF.items():
        net[c] = net[c] - amounts.get(exp, zero)
    out: dict[str, F64] = {}
    for c in ENERGY_CARRIERS:
        out[f"{c}"] = net[c]
        out[f"tce_{c}"] = cv.standard_coal_t(c, net[c], year=year)
    others = sum((out[f"tce_{c}"] for c in ENERGY_CARRIERS if c != "electricity"), zero)
    out["tce_equivalent"] = others + out["tce_electricity"]
    out["tce_equal"] = others + cv.standard_coal_t("electricity", net["electricity"], year=year, basis="equal")
    co2 = cv.co2_t("electricity", net["electricity"], year=year, region=region)
    co2 = co2 + cv.co2_t("natural_gas", net["natural_gas"], year=year)
    co2 = co2 + cv.co2_t("raw_coal", net["raw_coal"], year=year)
    co2 = co2 + cv.co2_t("heat", net["heat"], year=year)
    out["co2_t"] = co2  # steam is not counted: no agreed steam factor yet
    out["water"] = amounts.get("water", zero)
    return out


def intensities(
    *,
    tce: npt.ArrayLike,
    co2_t: npt.ArrayLike,
    output_value: npt.ArrayLike,
    value_added: npt.ArrayLike,
    tax: npt.ArrayLike,
    investment: npt.ArrayLike,
    land_mu: npt.ArrayLike,
) -> dict[str, F64]:
    """Intensities per output value, value added and mu (NaN where the divisor is 0 or unknown)."""
    return {
        "tce_per_output": _div(tce, output_value),
        "tce_per_value_added": _div(tce, value_added),
        "tce_per_mu": _div(tce, land_mu),
        "co2_per_output": _div(co2_t, output_value),
        "co2_per_value_added": _div(co2_t, value_added),
        "output_per_mu": _div(output_value, land_mu),
        "tax_per_mu": _div(tax, land_mu),
        "investment_per_mu": _div(investment, land_mu),
    }


# Article 12: class 1 at an annual output of 150亿 yuan or more, class 2 at 10亿 or more (10⁴ yuan).
CLASS_THRESHOLDS_10K_YUAN: tuple[tuple[int, float], ...] = ((1, 1_500_000.0), (2, 100_000.0))


def park_class(annual_output_10k_yuan: npt.ArrayLike) -> I64:
    """1 or 2 per Article 12, 0 below class 2 (or unknown output)."""
    out = np.asarray(annual_output_10k_yuan, dtype=np.float64)
    cls = np.zeros(out.shape, dtype=np.int64)
    for c, threshold in reversed(CLASS_THRESHOLDS_10K_YUAN):
        cls = np.where(out >= threshold, c, cls)
    return cls


@dataclass(frozen=True, slots=True)
class Criterion:
    weight: float
    higher_is_better: bool


def _default_weights() -> Mapping[str, Criterion]:
    # Article 21's dimensions, weighted so scale and intensity of land use count as much as
    # energy and environment; a deployment passes its own assessment method's weights.
    return MappingProxyType(
        {
            "output_value": Criterion(0.15, True),  # total scale
            "tax": Criterion(0.10, True),  # economic benefit
            "output_per_mu": Criterion(0.15, True),  # input-output intensity (Article 7 land use)
            "investment_per_mu": Criterion(0.10, True),
            "enterprises": Criterion(0.05, True),  # concentration
            "employees": Criterion(0.05, True),  # employment
            "tce_per_value_added": Criterion(0.15, False),  # energy use
            "co2_per_output": Criterion(0.10, False),
            "exceedance_minutes": Criterion(0.15, False),  # environmental protection
        }
    )


@dataclass(frozen=True, slots=True)
class EvaluationWeights:
    """Weights of the comprehensive evaluation (Article 22); configurable, normalised to sum 1."""

    criteria: Mapping[str, Criterion] = field(default_factory=_default_weights)
    reward_top: int = 10  # Article 22: the top 10 are rewarded
    penalise_bottom: int = 3  # the bottom 3 lose 5 points of subsidy ratio

    def __post_init__(self) -> None:
        bad = {k: c.weight for k, c in self.criteria.items() if not c.weight >= 0}
        if bad or not self.criteria or sum(c.weight for c in self.criteria.values()) <= 0:
            raise ValueError(f"evaluation weights must be non-negative with a positive sum: {bad or self.criteria}")


@dataclass(frozen=True, slots=True)
class Evaluation:
    score: F64  # 0-100; NaN for parks not ranked
    rank: I64  # 1 = best, ties share a rank; 0 for parks not ranked
    rewarded: npt.NDArray[np.bool_]
    penalised: npt.NDArray[np.bool_]


def evaluate(
    values: Mapping[str, npt.ArrayLike],
    *,
    eligible: npt.ArrayLike | None = None,
    weights: EvaluationWeights | None = None,
) -> Evaluation:
    """Score parks by min-max normalised criteria among the eligible ones (class 1 and 2), rank.

    A criterion missing for a park scores 0 on it: a park that does not report cannot gain.
    """
    w = weights or EvaluationWeights()
    missing = set(w.criteria) - set(values)
    if missing:
        raise KeyError(f"evaluation needs criteria {sorted(missing)}")
    cols = {k: np.asarray(values[k], dtype=np.float64) for k in w.criteria}
    n = next(iter(cols.values())).shape[0]
    ok = np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    total_w = sum(c.weight for c in w.criteria.values())
    score = np.zeros(n)
    for k, crit in w.criteria.items():
        x = cols[k]
        sel = ok & np.isfinite(x)
        if not sel.any():
            continue
        lo, hi = x[sel].min(), x[sel].max()
        if hi == lo:  # nobody is better: everyone gets the criterion in full
            norm = np.ones(n)
        elif crit.higher_is_better:
            norm = (x - lo) / (hi - lo)
        else:
            norm = (hi - x) / (hi - lo)
        score += crit.weight * np.where(sel, norm, 0.0)
    score = np.where(ok, 100.0 * score / total_w, np.nan)
    ranked = np.where(ok, score, -np.inf)
    # competition ranking: 1 + number of eligible parks with a strictly higher score
    higher = (ranked[None, :] > ranked[:, None]) & ok[None, :]
    rank = np.where(ok, 1 + higher.sum(axis=1), 0).astype(np.int64)
    n_ok = int(ok.sum())
    rewarded = ok & (rank <= w.reward_top)
    penalised = ok & (rank > max(n_ok - w.penalise_bottom, 0)) & (n_ok > w.penalise_bottom)
    return Evaluation(score, rank, rewarded, penalised)


def leading_industry_share(industry: npt.ArrayLike, output_value: npt.ArrayLike) -> float:
    """Industrial concentration: share of output of the park's largest industry."""
    ind = np.asarray(industry)
    out = np.asarray(output_value, dtype=np.float64)
    total = np.nansum(out)
    if ind.size == 0 or total <= 0:
        return float("nan")
    _, inverse = np.unique(ind, return_inverse=True)
    return float(np.bincount(inverse, weights=np.nan_to_num(out)).max() / total)


# Article 21: the statistics must show these groups. Names are the indicator keys used here.
ARTICLE_21_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "total_scale": ("output_value", "enterprises", "fixed_asset_investment"),
        "economic_benefit": ("value_added", "tax"),
        "industrial_concentration": ("leading_industry_share",),
        "science_innovation": ("rd_expense", "rd_intensity"),
        "input_output_intensity": ("output_per_mu", "tax_per_mu", "investment_per_mu"),
        "employment": ("employees",),
        "environmental_protection": (
            "so2_kg",
            "nox_kg",
            "dust_kg",
            "cod_kg",
            "nh3n_kg",
            "exceedance_minutes",
            "co2_t",
        ),
        "energy_use": (
            "tce_equivalent",
            "tce_equal",
            "tce_per_value_added",
            "electricity",
            "water",
        ),
    }
)


def statistic_groups(values: Mapping[str, float | None]) -> dict[str, dict[str, float | None]]:
    """Article 21 statistics of one park: every group, every indicator (None where unknown)."""

    def clean(v: float | None) -> float | None:
        return None if v is None or not np.isfinite(v) else float(v)

    return {g: {k: clean(values.get(k)) for k in keys} for g, keys in ARTICLE_21_GROUPS.items()}
