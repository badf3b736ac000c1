"""The meter tree (pure): checks, formulas, and totals that count each energy once."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from energy.tree import Meter, Tree, TreeError, parse_formula, totals, virtual_matrix


def _tree() -> Tree:
    return Tree.of(
        [
            Meter("IN", "electricity", "main", None, device=1),
            Meter("M1", "electricity", "main", 10, parent="IN", device=2),
            Meter("S1", "electricity", "sub", 10, parent="M1", device=3),
            Meter("S2", "electricity", "sub", 10, parent="M1", device=4),
            Meter("V1", "electricity", "virtual", 10, formula="M1 − S1 - S2"),
            Meter("M2", "electricity", "main", 20, parent="IN", device=5),
        ]
    )


def test_totals_count_main_meters_only() -> None:
    amounts = {1: 1000.0, 2: 600.0, 3: 200.0, 4: 300.0, 5: 350.0}
    # the sum of every meter would be 2450; each energy once: e10 = M1, e20 = M2
    assert totals(_tree(), amounts, carrier="electricity") == {10: 600.0, 20: 350.0}


def test_formula_reads_signs_and_coefficients() -> None:
    assert parse_formula("M1 − M2 + 0.5*M3") == [(1.0, "M1"), (-1.0, "M2"), (0.5, "M3")]
    with pytest.raises(TreeError, match="cannot read"):
        parse_formula("M1 M2")


def test_virtual_meters_expand_to_physical_coefficients() -> None:
    t = Tree.of([*_tree().meters, Meter("V2", "electricity", "virtual", 10, formula="V1 + S1")])
    m = virtual_matrix(t, ["V1", "V2"], ["M1", "S1", "S2"])
    assert m.tolist() == [[1.0, -1.0, -1.0], [1.0, 0.0, -1.0]]
    series = np.array([[10.0, 20.0], [3.0, 5.0], [4.0, 6.0]])  # per physical meter, per bucket
    assert (m @ series).tolist() == [[3.0, 9.0], [6.0, 14.0]]


@pytest.mark.parametrize(
    ("meters", "message"),
    [
        ([Meter("A", "electricity", "sub", 1, device=1)], "needs a parent"),
        ([Meter("A", "electricity", "main", 1, device=1, parent="B")], "no meter 'B'"),
        (
            [Meter("A", "water", "main", 1, device=1), Meter("B", "electricity", "sub", 1, parent="A", device=2)],
            "meters water",
        ),
        (
            [Meter("A", "electricity", "main", 1, device=1), Meter("B", "electricity", "sub", 2, parent="A", device=2)],
            "another enterprise",
        ),
        (
            [
                Meter("A", "electricity", "sub", 1, parent="B", device=1),
                Meter("B", "electricity", "sub", 1, parent="A", device=2),
            ],
            "cycle",
        ),
        ([Meter("V", "electricity", "virtual", 1, formula="V + V")], "refers back"),
        ([Meter("A", "electricity", "main", 1, device=1), Meter("B", "electricity", "main", 1, device=1)], "already"),
        ([Meter("A", "coal", "main", 1, device=1)], "carrier"),
        ([Meter("A", "electricity", "virtual", 1)], "formula"),
    ],
)
def test_bad_trees_are_refused_naming_the_field(meters: list[Meter], message: str) -> None:
    with pytest.raises(TreeError, match=message):
        Tree.of(meters)


@st.composite
def trees(draw: st.DrawFn) -> tuple[Tree, dict[int, float], dict[int, float]]:
    """Enterprises with one or two main meters and any hierarchy of sub-meters below them,
    each meter with any consumption (a sub-meter need not add up to its parent)."""
    meters: list[Meter] = []
    amounts: dict[int, float] = {}
    expected: dict[int, float] = {}
    device = 0
    for ent in range(1, draw(st.integers(1, 4)) + 1):
        for k in range(draw(st.integers(1, 2))):
            device += 1
            code = f"E{ent}M{k}"
            meters.append(Meter(code, "electricity", "main", ent, device=device))
            amounts[device] = draw(st.floats(0, 1e6))
            expected[ent] = expected.get(ent, 0.0) + amounts[device]
            codes = [code]
            for s in range(draw(st.integers(0, 6))):
                device += 1
                sub = f"E{ent}M{k}S{s}"
                meters.append(Meter(sub, "electricity", "sub", ent, parent=draw(st.sampled_from(codes)), device=device))
                amounts[device] = draw(st.floats(0, 1e6))
                codes.append(sub)
    return Tree.of(meters), amounts, expected


@given(trees())
def test_property_the_trees_total_is_its_main_meters_whatever_the_sub_meters(
    case: tuple[Tree, dict[int, float], dict[int, float]],
) -> None:
    tree, amounts, expected = case
    got = totals(tree, amounts, carrier="electricity")
    assert got.keys() == expected.keys()
    for ent, v in expected.items():
        assert got[ent] == pytest.approx(v)
