"""Park indicators: energy by carrier, standard coal, CO2, intensities, park class, evaluation.

Arrays are aligned per entity (an enterprise or a park). Money is in 10⁴ yuan (万元), land in
mu (亩), energy in the catalogue units of each carrier. Articles refer to the regional regulation
on industrial parks in the shared reference (Articles 7, 12, 21, 22).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from aggregation import coefficients as co
from aggregation import conversions as cv

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

ENERGY_CARRIERS = ("electricity", "natural_gas", "steam", "heat", "raw_coal")
EXPORT_OF = {"electricity_export": "electricity"}  # exported energy is deducted (GB/T 2589)


def _div(a: npt.ArrayLike, b: npt.ArrayLike) -> F64:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / b, np.nan)


@dataclass(frozen=True, slots=True)
class EnergyFigures:
    """Figures per entity, and per figure why it is missing (NaN) or not computed with the data
    year's own coefficient for the park's region (a fallback, a provisional figure)."""

    values: dict[str, F64]
    notes: dict[str, str]


def _with_factor(
    notes: dict[str, str], figure: str, amount: F64, get: Callable[[], cv.Chosen], per: float = 1.0
) -> F64:
    """``amount`` × the chosen factor / ``per``; NaN where the amount is not 0 and there is no factor."""
    try:
        chosen = get()
    except cv.NoFactor as e:
        notes[figure] = f"missing: {e}"
        return np.where(amount == 0, 0.0, np.nan)
    if chosen.note:
        notes[figure] = f"{chosen.key}: {chosen.note}"
    return amount * chosen.value / per


def energy(
    carriers: Mapping[str, npt.ArrayLike],
    *,
    year: int,
    region: str = "national",
    steam_heat_gj: npt.ArrayLike | None = None,
) -> EnergyFigures:
    """Standard coal (equivalent and equal value) and CO2 of consumption per carrier.

    ``carriers`` maps catalogue carriers to amounts; ``water`` is passed through (not energy),
    exports are deducted from their carrier. Missing carriers count as zero. ``steam_heat_gj`` is
    the heat of the steam above feedwater (each meter's enthalpy); without it the steam's mass at
    the default enthalpy. A coefficient missing for the year makes its figure NaN (noted), never
    the others.
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
    notes: dict[str, str] = {}
    for c in ENERGY_CARRIERS:
        out[f"{c}"] = net[c]
        out[f"tce_{c}"] = cv.standard_coal_t(c, net[c], year=year)
    others = sum((out[f"tce_{c}"] for c in ENERGY_CARRIERS if c != "electricity"), zero)
    out["tce_equivalent"] = others + out["tce_electricity"]
    equal = _with_factor(notes, "tce_equal", net["electricity"], lambda: cv.electricity_equal_value(year), 1000.0)
    out["tce_equal"] = others + equal
    if steam_heat_gj is None:
        steam_heat_gj = cv.steam_heat_gj(net["steam"], co.STEAM_ENTHALPY_DEFAULT_KJ_KG.value)
    out["steam_heat_gj"] = np.broadcast_to(np.asarray(steam_heat_gj, dtype=np.float64), shape).copy()
    co2 = _with_factor(notes, "co2_t", net["electricity"], lambda: cv.co2_electricity_factor(year, region), 1000.0)
    co2 = co2 + cv.co2_t("natural_gas", net["natural_gas"], year=year)
    co2 = co2 + cv.co2_t("raw_coal", net["raw_coal"], year=year)
    # purchased heat and steam: the heat factor on the GJ of both (steam through its enthalpy)
    co2 = co2 + cv.co2_t("heat", net["heat"] + out["steam_heat_gj"], year=year)
    out["co2_t"] = co2
    out["water"] = amounts.get("water", zero)
    return EnergyFigures(out, notes)


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


# Intensities whose numerator and denominator must cover the same enterprises and months.
RATIOS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "tce_per_output": ("tce_equivalent", "output_value"),
        "tce_per_value_added": ("tce_equivalent", "value_added"),
        "co2_per_output": ("co2_t", "output_value"),
        "co2_per_value_added": ("co2_t", "value_added"),
        "rd_intensity": ("rd_expense", "output_value"),  # Article 21 science and innovation
    }
)
# Per-mu figures (Article 7): a flow of the period over the land of the same enterprises.
PER_MU: Mapping[str, str] = MappingProxyType(
    {
        "output_per_mu": "output_value",
        "tax_per_mu": "tax",
        "investment_per_mu": "fixed_asset_investment",
        "tce_per_mu": "tce_equivalent",
    }
)
ENERGY_FIGURES = frozenset({"tce_equivalent", "co2_t"})


@dataclass(frozen=True, slots=True)
class Matched:
    values: dict[str, float | None]
    coverage: dict[str, dict[str, Any]]  # figure -> {"reported": n, "of": m, "unit": ...}


def matched_intensities(
    cells: Mapping[str, npt.ArrayLike],
    *,
    land: Mapping[int, float | None],
    total_land: float | None,
) -> Matched:
    """Intensities of a subject over a period from its (enterprise, month) cells.

    ``cells`` holds aligned arrays: ``enterprise`` ids, ``energy_reported`` (the month has
    energy figures), the energy figures of RATIOS and the economic ones (NaN or absent: not
    reported).
    A ratio sums its numerator and denominator over the cells where both are reported, so a
    month or an enterprise without an economic report leaves its energy out too. A per-mu figure
    takes the enterprises whose every cell reports it, over their own land, or ``total_land``
    (the park's area) when that is every enterprise. Coverage says how many of how many.
    """
    ent = np.asarray(cells["enterprise"], dtype=np.int64)
    energy_ok = np.asarray(cells["energy_reported"], dtype=bool)

    def col(name: str) -> F64:  # a figure absent from the cells is reported by none
        return np.asarray(cells[name], dtype=np.float64) if name in cells else np.full(ent.size, np.nan)

    def reported(name: str) -> npt.NDArray[np.bool_]:
        ok = np.isfinite(col(name))
        return ok & energy_ok if name in ENERGY_FIGURES else ok

    values: dict[str, float | None] = {}
    coverage: dict[str, dict[str, Any]] = {}
    for name, (num, den) in RATIOS.items():
        sel = reported(num) & reported(den)
        d = float(col(den)[sel].sum())
        values[name] = float(col(num)[sel].sum()) / d if sel.any() and d > 0 else None
        coverage[name] = {"reported": int(sel.sum()), "of": int(ent.size), "unit": "enterprise-months"}
    everyone = np.unique(ent).tolist()
    for name, flow in PER_MU.items():
        ok = reported(flow)
        full = [e for e in everyone if ok[ent == e].all()]
        if len(full) == len(everyone) and total_land:
            mu = total_land
        else:
            full = [e for e in full if (land.get(e) or 0.0) > 0]  # a share of the park: their own land
            mu = sum(land[e] or 0.0 for e in full)
        keep = np.isin(ent, full)
        values[name] = float(col(flow)[keep].sum()) / mu if full and mu > 0 else None
        coverage[name] = {"reported": len(full), "of": len(everyone), "unit": "enterprises"}
    return Matched(values, coverage)


# Article 12: class 1 at an annual output of 150亿 yuan or more, class 2 at 10亿 or more (10⁴ yuan).
CLASS_THRESHOLDS_10K_YUAN: tuple[tuple[int, float], ...] = ((1, 1_500_000.0), (2, 100_000.0))


def park_class(annual_output_10k_yuan: npt.ArrayLike) -> I64:
    """1 or 2 per Article 12, 0 below class 2 (or unknown output)."""
    out = np.asarray(annual_output_10k_yuan, dtype=np.float64)
    cls = np.zeros(out.shape, dtype=np.int64)
    for c, threshold in reversed(CLASS_THRESHOLDS_10K_YUAN):
        cls = np.where(out >= threshold, c, cls)
    return cls


# Article 12's reference indicators for the class (参考依据): reported beside the class, never
# thresholds of it.
ARTICLE_12_REFERENCE = ("output_per_mu", "investment_per_mu", "enterprises", "tax", "fixed_asset_investment")


def below_class_streak(designated: int, outputs_10k_yuan: Sequence[float | None]) -> int:
    """Article 22: consecutive years, up to the last of ``outputs`` (oldest first), in which a
    park designated class ``designated`` stayed below that class's output (Article 12); an
    unknown year breaks the streak (nothing proves it was below)."""
    threshold = dict(CLASS_THRESHOLDS_10K_YUAN).get(designated)
    if threshold is None:
        raise ValueError(f"designated class {designated!r} is not one of {sorted(dict(CLASS_THRESHOLDS_10K_YUAN))}")
    streak = 0
    for v in outputs_10k_yuan:
        streak = streak + 1 if v is not None and np.isfinite(v) and v < threshold else 0
    return streak


DOWNGRADE_AFTER_YEARS = 3  # Article 22: 连续三年达不到分类标准 -> downgrade or merge


@dataclass(frozen=True, slots=True)
class Criterion:
    weight: float
    higher_is_better: bool


@dataclass(frozen=True, slots=True)
class EvaluationMethod:
    """The comprehensive evaluation of Article 22 as data: the criteria and weights, the year
    from which they apply, and where they come from. Article 21 charges the regional office
    with the method; until it publishes one, the method here is an assumption and says so."""

    applies_from: int
    criteria: Mapping[str, Criterion]
    source: str
    assumption: bool
    reward_top: int = 10  # Article 22: the top 10 are rewarded
    penalise_bottom: int = 3  # the bottom 3 lose 5 points of subsidy ratio
    min_parks: int = 2  # a ranking of one park ranks nothing

    def __post_init__(self) -> None:
        bad = {k: c.weight for k, c in self.criteria.items() if not c.weight >= 0}
        if bad or not self.criteria or sum(c.weight for c in self.criteria.values()) <= 0:
            raise ValueError(f"evaluation weights must be non-negative with a positive sum: {bad or self.criteria}")
        if self.reward_top < 0 or self.penalise_bottom < 0 or self.min_parks < 2:
            raise ValueError(
                f"reward_top {self.reward_top} and penalise_bottom {self.penalise_bottom} must be >= 0,"
                f" min_parks {self.min_parks} >= 2"
            )


# Article 21's dimensions weighted so scale and intensity of land use count as much as energy and
# environment, Article 12's reference indicators among them.
ASSUMED_2021 = EvaluationMethod(
    applies_from=2021,
    criteria=MappingProxyType(
        {
            "output_value": Criterion(0.15, True),  # total scale
            "tax": Criterion(0.10, True),  # economic benefit (Article 12 reference)
            "output_per_mu": Criterion(0.15, True),  # input-output intensity (Articles 7, 12)
            "investment_per_mu": Criterion(0.10, True),  # Article 12 reference
            "enterprises": Criterion(0.05, True),  # Article 12 reference
            "employees": Criterion(0.05, True),  # employment
            "tce_per_value_added": Criterion(0.15, False),  # energy use
            "co2_per_output": Criterion(0.10, False),
            "exceedance_minutes": Criterion(0.15, False),  # environmental protection
        }
    ),
    source="assumption: the platform's weighting of Article 21's dimensions; the regional office's"
    " assessment method (Article 21 para. 1) is not published",
    assumption=True,
)
EVALUATION_METHODS: Mapping[int, EvaluationMethod] = MappingProxyType({2021: ASSUMED_2021})
FIRST_EVALUATION_YEAR = min(EVALUATION_METHODS)


def method_for(year: int, methods: Mapping[int, EvaluationMethod] = EVALUATION_METHODS) -> EvaluationMethod:
    """The method in force for an evaluation year: the latest that applies from it or earlier."""
    years = [y for y in methods if y <= year]
    if not years:
        raise LookupError(f"no evaluation method applies to {year}; methods apply from {sorted(methods)}")
    return methods[max(years)]


@dataclass(frozen=True, slots=True)
class Evaluation:
    score: F64  # 0-100; NaN for parks not ranked
    rank: I64  # 1 = best, ties share a rank; 0 for parks not ranked
    rewarded: npt.NDArray[np.bool_]
    penalised: npt.NDArray[np.bool_]
    ranked: int  # parks in the ranking (0: too few to rank)


def evaluate(
    values: Mapping[str, npt.ArrayLike],
    *,
    eligible: npt.ArrayLike | None = None,
    method: EvaluationMethod = ASSUMED_2021,
) -> Evaluation:
    """Score parks by min-max normalised criteria among the eligible ones (class 1 and 2), rank.

    A criterion missing for a park scores 0 on it: a park that does not report cannot gain.
    Fewer eligible parks than ``method.min_parks``: no ranking. Reward and penalty never meet:
    the bottom ``penalise_bottom`` are counted among the parks outside the top ``reward_top``
    (Article 22 names the reward first), so with 13 parks or fewer some bottom ranks go free.
    """
    missing = set(method.criteria) - set(values)
    if missing:
        raise KeyError(f"evaluation needs criteria {sorted(missing)}")
    cols = {k: np.asarray(values[k], dtype=np.float64) for k in method.criteria}
    n = next(iter(cols.values())).shape[0]
    ok = np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible, dtype=bool)
    n_ok = int(ok.sum())
    if n_ok < method.min_parks:
        none = np.zeros(n, dtype=bool)
        return Evaluation(np.full(n, np.nan), np.zeros(n, dtype=np.int64), none, none.copy(), 0)
    total_w = sum(c.weight for c in method.criteria.values())
    score = np.zeros(n)
    for k, crit in method.criteria.items():
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
    rewarded = ok & (rank <= method.reward_top)
    bottom = ok & (rank > n_ok - method.penalise_bottom)
    penalised = bottom & ~rewarded
    return Evaluation(score, rank, rewarded, penalised, n_ok)


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
            "electricity_kwh",
            "water_m3",
        ),
    }
)


def statistic_groups(values: Mapping[str, float | None]) -> dict[str, dict[str, float | None]]:
    """Article 21 statistics of one park: every group, every indicator (None where unknown)."""

    def clean(v: float | None) -> float | None:
        return None if v is None or not np.isfinite(v) else float(v)

    return {g: {k: clean(values.get(k)) for k in keys} for g, keys in ARTICLE_21_GROUPS.items()}
