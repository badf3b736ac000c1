"""Park indicators: energy, intensities, class (Article 12), evaluation (Article 22), groups."""

from __future__ import annotations

import numpy as np
import pytest

from aggregation.indicators import (
    ARTICLE_21_GROUPS,
    Criterion,
    EvaluationWeights,
    energy,
    evaluate,
    intensities,
    leading_industry_share,
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
    )
    assert e["tce_electricity"][0] == pytest.approx(122.9)
    assert e["tce_equivalent"][0] == pytest.approx(122.9 + 121.43 + 357.15)
    assert e["tce_equal"][0] == pytest.approx(1_000_000 * 0.3007 / 1000 + 121.43 + 357.15)
    co2 = 1_000_000 * 0.55 / 1000 + 100_000 * 2.16217 / 1000 + 500 * 1.9003
    assert e["co2_t"][0] == pytest.approx(co2, rel=1e-3)
    assert e["water"][0] == 42.0


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


def test_evaluation_ranks_eligible_parks_with_ties() -> None:
    w = EvaluationWeights(
        {"output_value": Criterion(2, True), "tce_per_value_added": Criterion(1, False)},
        reward_top=1,
        penalise_bottom=1,
    )
    ev = evaluate(
        {"output_value": [300.0, 100.0, 300.0, 999.0], "tce_per_value_added": [1.0, 1.0, 1.0, 0.1]},
        eligible=[True, True, True, False],
        weights=w,
    )
    assert ev.score[:3].tolist() == pytest.approx([100.0, 100 / 3, 100.0])
    assert ev.rank.tolist() == [1, 3, 1, 0]
    assert ev.rewarded.tolist() == [True, False, True, False]
    assert ev.penalised.tolist() == [False, True, False, False]


def test_default_weights_cover_article_21_dimensions() -> None:
    w = EvaluationWeights()
    assert sum(c.weight for c in w.criteria.values()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="non-negative"):
        EvaluationWeights({"tax": Criterion(-1, True)})


def test_concentration_and_statistic_groups() -> None:
    assert leading_industry_share(["coal", "food", "coal"], [60.0, 30.0, 10.0]) == pytest.approx(0.7)
    groups = statistic_groups({"output_value": 5.0, "tce_equivalent": float("nan")})
    assert set(groups) == set(ARTICLE_21_GROUPS) and len(groups) == 8
    assert groups["total_scale"]["output_value"] == 5.0
    assert groups["energy_use"]["tce_equivalent"] is None
