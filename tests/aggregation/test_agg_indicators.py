"""Park indicators: energy, intensities, class (Article 12), evaluation (Article 22), groups."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregation.indicators import (
    ARTICLE_21_GROUPS,
    ASSUMED_2021,
    DOWNGRADE_AFTER_YEARS,
    Criterion,
    EvaluationMethod,
    below_class_streak,
    energy,
    evaluate,
    intensities,
    leading_industry_share,
    matched_intensities,
    method_for,
    park_class,
    statistic_groups,
)


def test_energy_totals_by_carrier_and_export_deducted() -> None:
    e = energy(
        {
            "electricity": [1_100_000.0],
            "electricity_export": [100_000.0],
            "natural_gas": [100_000.0],
            "raw_coal": [500.0],
            "water": [42.0],
        },
        year=2024,
        region="east",
    ).values
    assert e["tce_electricity"][0] == pytest.approx(122.9)
    assert e["tce_equivalent"][0] == pytest.approx(122.9 + 121.43 + 357.15)
    assert e["tce_equal"][0] == pytest.approx(1_000_000 * 0.3007 / 1000 + 121.43 + 357.15)
    co2 = 1_000_000 * 0.55 / 1000 + 100_000 * 2.16217 / 1000 + 500 * 1.9003
    assert e["co2_t"][0] == pytest.approx(co2, rel=1e-3)
    assert e["water"][0] == 42.0


def test_co2_includes_purchased_steam_through_its_heat_and_heat() -> None:
    """Issue 16 item 10. 10 t steam at the default enthalpy (saturated, 1.0 MPa abs, 2777.1
    kJ/kg): 10 × (2777.1 − 83.74) × 10⁻³ = 26.9336 GJ; plus 5 GJ purchased heat; at the guidelines'
    0.11 tCO2/GJ (verify): 31.9336 × 0.11 = 3.512696 t."""
    e = energy({"steam": [10.0], "heat": [5.0]}, year=2022, region="inner_mongolia")
    assert e.values["steam_heat_gj"][0] == pytest.approx(26.9336)
    assert e.values["co2_t"][0] == pytest.approx(3.512696)
    # a meter's own enthalpy: superheated at 2.5 MPa / 300 °C, 3009.6 kJ/kg (IAPWS-IF97)
    own = energy({"steam": [10.0]}, year=2022, steam_heat_gj=[10 * (3009.6 - 83.74) / 1000]).values
    assert own["co2_t"][0] == pytest.approx(29.2586 * 0.11)


def test_a_missing_coefficient_loses_its_figure_only_with_the_reason() -> None:
    """Issue 16 item 12: data year 2015 has no equal value, 2020 no grid CO2 factor; the other
    figures of the same rows stand (122.9 tce for 1 GWh, GB/T 2589-2020: 0.1229 kgce/kWh)."""
    e = energy({"electricity": [1_000_000.0, 0.0], "natural_gas": [0.0, 10_000.0]}, year=2015)
    assert e.values["tce_equivalent"].tolist() == pytest.approx([122.9, 12.143])
    assert np.isnan(e.values["tce_equal"][0]) and e.values["tce_equal"][1] == pytest.approx(12.143)
    assert np.isnan(e.values["co2_t"][0]) and e.values["co2_t"][1] == pytest.approx(21.62, abs=0.01)
    assert e.notes["tce_equal"].startswith("missing: no electricity equal value for data year 2015")
    assert e.notes["co2_t"].startswith("missing: no electricity CO2 factor for data year 2015")


def test_fallbacks_are_noted_with_the_figure() -> None:
    e = energy({"electricity": [1000.0]}, year=2023, region="inner_mongolia_west")
    assert e.values["co2_t"][0] == pytest.approx(0.6361)
    assert e.notes["co2_t"].startswith("2023:north: no inner_mongolia figure")
    assert "tce_equal" not in e.notes  # 2022's thermal figure: the data year's own


def test_unknown_carrier_named() -> None:
    with pytest.raises(KeyError, match="plutonium"):
        energy({"plutonium": [1.0]}, year=2024)


def test_intensities_and_zero_divisors() -> None:
    i = intensities(
        tce=[100.0, 5.0],
        co2_t=[200.0, 1.0],
        output_value=[1000.0, 0.0],
        value_added=[250.0, 0.0],
        tax=[50.0, 1.0],
        investment=[80.0, 0.0],
        land_mu=[10.0, 0.0],
    )
    assert i["tce_per_value_added"].tolist()[0] == 0.4
    assert i["output_per_mu"].tolist()[0] == 100.0
    assert np.isnan(i["tce_per_output"][1]) and np.isnan(i["tax_per_mu"][1])


def test_park_class_article_12() -> None:
    # 10⁴ yuan: 150亿 = 1 500 000, 10亿 = 100 000
    assert park_class([1_500_000, 1_499_999, 100_000, 99_999, np.nan]).tolist() == [1, 2, 2, 0, 0]


def _method(**kw: Any) -> EvaluationMethod:
    criteria = {"output_value": Criterion(2, True), "tce_per_value_added": Criterion(1, False)}
    return EvaluationMethod(applies_from=2021, criteria=criteria, source="test", assumption=True, **kw)


def test_evaluation_ranks_eligible_parks_with_ties() -> None:
    ev = evaluate(
        {"output_value": [300.0, 100.0, 300.0, 999.0], "tce_per_value_added": [1.0, 1.0, 1.0, 0.1]},
        eligible=[True, True, True, False],
        method=_method(reward_top=1, penalise_bottom=1),
    )
    assert ev.score[:3].tolist() == pytest.approx([100.0, 100 / 3, 100.0])
    assert ev.rank.tolist() == [1, 3, 1, 0] and ev.ranked == 3
    assert ev.rewarded.tolist() == [True, False, True, False]
    assert ev.penalised.tolist() == [False, True, False, False]


def test_a_lone_park_is_not_ranked_first_and_rewarded() -> None:
    """Article 22 ranks class 1 and 2 parks against each other: one park has no ranking."""
    ev = evaluate(
        {"output_value": [500.0, 1.0], "tce_per_value_added": [1.0, 1.0]}, eligible=[True, False], method=_method()
    )
    assert ev.ranked == 0 and ev.rank.tolist() == [0, 0]
    assert not ev.rewarded.any() and not ev.penalised.any() and np.isnan(ev.score).all()


@pytest.mark.parametrize(
    ("n", "rewarded", "penalised"),
    [
        (4, [1, 2, 3, 4], []),  # the top 10 hold all four: nobody is also among the bottom 3
        (12, list(range(1, 11)), [11, 12]),  # bottom 3 = ranks 10-12; rank 10 is rewarded
        (13, list(range(1, 11)), [11, 12, 13]),
        (14, list(range(1, 11)), [12, 13, 14]),  # rank 11: neither
    ],
)
def test_article_22_top_10_rewarded_bottom_3_penalised_never_both(
    n: int, rewarded: list[int], penalised: list[int]
) -> None:
    out = np.arange(n, 0, -1, dtype=float)  # distinct scores: rank i has output n + 1 - i
    ev = evaluate({"output_value": out, "tce_per_value_added": np.ones(n)}, method=_method())
    assert ev.rank[ev.rewarded].tolist() == rewarded
    assert ev.rank[ev.penalised].tolist() == penalised


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=30), st.integers(0, 12), st.integers(0, 5))
def test_no_park_is_both_rewarded_and_penalised(outputs: list[float], top: int, bottom: int) -> None:
    n = len(outputs)
    ev = evaluate(
        {"output_value": outputs, "tce_per_value_added": [1.0] * n},
        method=_method(reward_top=top, penalise_bottom=bottom),
    )
    assert not (ev.rewarded & ev.penalised).any()
    assert (ev.ranked == 0) == (n < 2)


def test_methods_are_data_with_the_year_they_apply_from() -> None:
    m = method_for(2026)
    assert m is ASSUMED_2021 and m.assumption and m.applies_from == 2021
    assert sum(c.weight for c in m.criteria.values()) == pytest.approx(1.0)
    later = EvaluationMethod(applies_from=2027, criteria={"tax": Criterion(1, True)}, source="office", assumption=False)
    methods = {2021: ASSUMED_2021, 2027: later}
    assert method_for(2026, methods) is ASSUMED_2021 and method_for(2030, methods) is later
    with pytest.raises(LookupError, match="no evaluation method applies to 2020"):
        method_for(2020)
    with pytest.raises(ValueError, match="non-negative"):
        EvaluationMethod(applies_from=2021, criteria={"tax": Criterion(-1, True)}, source="x", assumption=True)
    # Article 12's reference indicators are among the assumed criteria
    assert {"output_per_mu", "investment_per_mu", "enterprises", "tax"} <= set(m.criteria)


@pytest.mark.parametrize(
    ("designated", "outputs", "streak"),
    [
        # class 1 needs 150亿 yuan = 1 500 000 (10⁴ yuan) a year (Article 12)
        (1, [1_600_000, 1_400_000, 1_200_000, 1_499_999], 3),  # three years below: downgrade review
        (1, [1_400_000, None, 1_400_000, 1_400_000], 2),  # an unknown year breaks the streak
        (2, [90_000, 95_000, 100_000], 0),  # class 2: 10亿 = 100 000, reached in the last year
        (2, [], 0),
    ],
)
def test_three_consecutive_years_below_class(designated: int, outputs: list[float | None], streak: int) -> None:
    assert below_class_streak(designated, outputs) == streak
    assert (below_class_streak(designated, outputs) >= DOWNGRADE_AFTER_YEARS) == (streak >= 3)


def test_below_class_names_a_bad_designation() -> None:
    with pytest.raises(ValueError, match="designated class 3"):
        below_class_streak(3, [1.0])


def test_concentration_and_statistic_groups() -> None:
    assert leading_industry_share(["coal", "food", "coal"], [60.0, 30.0, 10.0]) == pytest.approx(0.7)
    groups = statistic_groups({"output_value": 5.0, "tce_equivalent": float("nan")})
    assert set(groups) == set(ARTICLE_21_GROUPS) and len(groups) == 8
    assert groups["total_scale"]["output_value"] == 5.0
    assert groups["energy_use"]["tce_equivalent"] is None


def _cells(**cols: list[float]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in cols.items()}


NAN = float("nan")


def test_intensities_divide_the_energy_of_the_enterprises_that_reported() -> None:
    """Issue 16 item 16. Enterprises 1 and 2 report, 3 does not (its 900 tce stay out):
    (100 + 50) tce / (1000 + 500) 10⁴ yuan = 0.1 tce per 10⁴ yuan, not (1050) / 1500 = 0.7."""
    m = matched_intensities(
        _cells(
            enterprise=[1, 2, 3],
            energy_reported=[1, 1, 1],
            tce_equivalent=[100.0, 50.0, 900.0],
            co2_t=[200.0, 100.0, 1800.0],
            output_value=[1000.0, 500.0, NAN],
            value_added=[250.0, NAN, NAN],
            tax=[10.0, 5.0, NAN],
            fixed_asset_investment=[NAN, NAN, NAN],
        ),
        land={1: 10.0, 2: 5.0, 3: 100.0},
        total_land=200.0,
    )
    assert m.values["tce_per_output"] == pytest.approx(0.1)
    assert m.values["tce_per_value_added"] == pytest.approx(100 / 250)
    assert m.values["co2_per_output"] == pytest.approx(0.2)
    assert m.coverage["tce_per_output"] == {"reported": 2, "of": 3, "unit": "enterprise-months"}
    # per mu: the reporters' output over their own land, (1000 + 500) / (10 + 5) = 100
    assert m.values["output_per_mu"] == pytest.approx(100.0)
    assert m.coverage["output_per_mu"] == {"reported": 2, "of": 3, "unit": "enterprises"}
    assert m.values["investment_per_mu"] is None
    # every enterprise's energy is known: the park's land, (100 + 50 + 900) / 200
    assert m.values["tce_per_mu"] == pytest.approx(5.25)


def test_yearly_intensity_takes_only_months_with_both_figures() -> None:
    """One enterprise, three months: March has no economic report, April no energy data.
    (30 + 20) tce / (300 + 200) = 0.1, not (30 + 20 + 40 + 0) / 500."""
    m = matched_intensities(
        _cells(
            enterprise=[1, 1, 1, 1],
            energy_reported=[1, 1, 1, 0],
            tce_equivalent=[30.0, 20.0, 40.0, 0.0],
            co2_t=[1.0, 1.0, 1.0, 0.0],
            output_value=[300.0, 200.0, NAN, 700.0],
            value_added=[NAN] * 4,
            tax=[NAN] * 4,
            fixed_asset_investment=[NAN] * 4,
        ),
        land={1: 50.0},
        total_land=50.0,
    )
    assert m.values["tce_per_output"] == pytest.approx(0.1)
    assert m.coverage["tce_per_output"] == {"reported": 2, "of": 4, "unit": "enterprise-months"}
    assert m.values["output_per_mu"] is None  # a month is missing: no yearly output per mu


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e4), st.floats(1, 1e4), st.booleans()), min_size=1, max_size=12))
def test_matched_ratio_is_the_ratio_of_the_reported_cells(cells: list[tuple[float, float, bool]]) -> None:
    """However reports are missing, the ratio equals Σ energy / Σ output over reporting cells."""
    tce = [c[0] for c in cells]
    out = [c[1] if c[2] else NAN for c in cells]
    m = matched_intensities(
        _cells(
            enterprise=list(range(len(cells))),
            energy_reported=[1] * len(cells),
            tce_equivalent=tce,
            co2_t=tce,
            output_value=out,
            value_added=[NAN] * len(cells),
            tax=[NAN] * len(cells),
            fixed_asset_investment=[NAN] * len(cells),
        ),
        land={},
        total_land=None,
    )
    rep = [c for c in cells if c[2]]
    if rep:
        assert m.values["tce_per_output"] == pytest.approx(sum(c[0] for c in rep) / sum(c[1] for c in rep))
    else:
        assert m.values["tce_per_output"] is None
