"""The region's class check (Article 12) and ranking (Article 22), pure numpy, worked by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from aggregation import indicators as ind
from region.delivery import backoff_s
from region.park_package import closed_periods, period_bounds
from region.ranking import RANKING_FIGURES, below_class_streaks, figure_arrays, park_results, rank_region
from region.results import missing_periods

WAN = 1.0  # figures in 10⁴ yuan (万元)
CLASS_1 = 1_500_000 * WAN  # Article 12: 150亿 yuan
CLASS_2 = 100_000 * WAN  # Article 12: 10亿 yuan


def _figures(outputs: np.ndarray) -> dict[str, np.ndarray]:
    out = {k: np.full(outputs.shape, np.nan) for k in RANKING_FIGURES}
    out["output_value"] = outputs.astype(np.float64)
    return out


def test_streak_of_years_below_the_designated_class() -> None:
    # Article 22: 连续三年达不到分类标准. A class-1 park: 140亿, 160亿, 120亿, 110亿, 100亿.
    outputs = np.array([[1.4e6, 1.6e6, 1.2e6, 1.1e6, 1.0e6], [9e4, 9e4, np.nan, 9e4, 9e4], [1e6] * 5])
    streak = below_class_streaks(outputs, [1, 2, None])
    assert streak[0].tolist() == [1, 0, 1, 2, 3]
    assert streak[1].tolist() == [1, 2, 0, 1, 2]  # an unknown year breaks it
    assert streak[2].tolist() == [-1] * 5  # no designated class
    # the same as the platform's one-park rule, year by year
    for i, designated in enumerate((1, 2)):
        for j in range(5):
            hist = [None if np.isnan(v) else float(v) for v in outputs[i, : j + 1]]
            assert streak[i, j] == ind.below_class_streak(designated, hist)


def test_class_ranks_and_flags_of_three_parks() -> None:
    # Article 12: 150亿 -> class 1, 10亿 -> class 2, below -> 0 (not ranked). Only output is
    # reported, so the score is its weight (0.15 of 1.0) times the min-max normalised output:
    # 10亿 -> 0, 80亿 -> 0.5, 150亿 -> 1, i.e. scores 0, 7.5, 15 of 100.
    outputs = np.array([[CLASS_2], [8e5], [CLASS_1], [CLASS_2 - 1]])
    r = rank_region(["a", "b", "c", "d"], [2, 2, 1, None], [2025], _figures(outputs), np.ones((4, 1), dtype=bool))
    assert r.park_class[:, 0].tolist() == [2, 2, 1, 0]
    assert np.allclose(r.score[:3, 0], [0.0, 7.5, 15.0]) and np.isnan(r.score[3, 0])
    assert r.rank[:, 0].tolist() == [3, 2, 1, 0] and r.ranked.tolist() == [3]
    assert r.rewarded[:3, 0].all()  # the top 10 of three parks: all of them
    assert not r.penalised.any()  # the bottom 3 are counted outside the top 10


def test_top_ten_rewarded_bottom_three_penalised_of_fifteen() -> None:
    outputs = CLASS_2 * np.arange(1, 16, dtype=np.float64)[:, None]
    r = rank_region([f"p{i}" for i in range(15)], [2] * 15, [2025], _figures(outputs), np.ones((15, 1), dtype=bool))
    assert r.rank[:, 0].tolist() == list(range(15, 0, -1))
    assert r.rewarded[:, 0].tolist() == [False] * 5 + [True] * 10
    assert r.penalised[:, 0].tolist() == [True] * 3 + [False] * 12


def test_a_park_that_did_not_submit_is_not_ranked_and_years_before_a_method_are_not() -> None:
    outputs = np.array([[CLASS_2, CLASS_1], [CLASS_1, CLASS_1], [CLASS_1, CLASS_2]])
    submitted = np.array([[True, True], [True, False], [True, True]])
    r = rank_region(["a", "b", "c"], [1, 1, 1], [2020, 2021], _figures(outputs), submitted)
    assert r.ranked.tolist() == [0, 2] and r.methods[0] is None
    assert r.rank[:, 1].tolist() == [1, 0, 2]
    rows = park_results(r, 1)
    assert rows[1]["submitted"] is False and rows[1]["park_class"] is None and rows[1]["rank"] is None
    assert rows[1]["method"] is None or rows[1]["method"]["assumption"] is True
    assert park_results(r, 0)[1]["method"] == {
        "applies_from": 2021,
        "source": ind.ASSUMED_2021.source,
        "assumption": True,
    }


def test_history_years_feed_the_streak_but_are_not_shown() -> None:
    outputs = np.array([[9e4, 9e4, 9e4]])
    r = rank_region(["a"], [2], [2023, 2024, 2025], _figures(outputs), np.ones((1, 3), dtype=bool), history=2)
    assert r.years == [2025] and r.below_class_years.tolist() == [[3]] and r.downgrade_review.tolist() == [[True]]


def test_figure_arrays_take_numbers_only() -> None:
    rows = [
        {"park_code": "a", "year": 2025, "body": {"figures": {"output_value": 5.0, "tax": True, "employees": "9"}}},
        {"park_code": "zz", "year": 2025, "body": {}},  # not registered: left out
        {"park_code": "b", "year": 2019, "body": {}},  # outside the years
    ]
    figures, submitted = figure_arrays(["a", "b"], [2025], rows)
    assert figures["output_value"][0, 0] == 5.0 and np.isnan(figures["output_value"][1, 0])
    assert np.isnan(figures["tax"][0, 0]) and np.isnan(figures["employees"][0, 0])
    assert submitted.tolist() == [[True], [False]]


def test_missing_packages_are_those_due_by_today() -> None:
    got = missing_periods({"2025", "2025-01"}, [2025, 2026], date(2026, 3, 15))
    assert got["annual"] == []  # 2026 has not ended
    assert got["monthly"] == [f"2025-{m:02d}" for m in range(2, 13)] + ["2026-01", "2026-02"]
    assert missing_periods(set(), [2025], date(2026, 1, 1))["annual"] == ["2025"]


def test_periods_and_backoff() -> None:
    assert period_bounds("2024-12") == (date(2024, 12, 1), date(2025, 1, 1))
    assert period_bounds("2024") == (date(2024, 1, 1), date(2025, 1, 1))
    assert closed_periods(date(2026, 1, 10), months=2) == ["2025-11", "2025-12", "2025"]
    assert closed_periods(date(2026, 7, 1), months=1) == ["2026-06", "2025"]
    assert closed_periods(date(2026, 7, 1))[0] == "2025-07" and len(closed_periods(date(2026, 7, 1))) == 13
    assert [backoff_s(n, 3600) for n in (0, 1, 2, 9)] == [10, 20, 40, 3600]


@pytest.mark.parametrize("designated", [1, 2])
def test_exact_thresholds(designated: int) -> None:
    threshold = CLASS_1 if designated == 1 else CLASS_2
    streak = below_class_streaks(np.array([[threshold, threshold - 1]]), [designated])
    assert streak.tolist() == [[0, 1]]


def test_every_method_weighs_figures_a_package_carries() -> None:
    for method in ind.EVALUATION_METHODS.values():
        assert set(method.criteria) <= set(RANKING_FIGURES), set(method.criteria) - set(RANKING_FIGURES)


def test_a_region_without_parks_ranks_nothing() -> None:
    r = rank_region([], [], [2025], _figures(np.zeros((0, 1))), np.zeros((0, 1), dtype=bool))
    assert r.ranked.tolist() == [0] and r.rank.shape == (0, 1)
