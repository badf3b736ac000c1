"""GB 18218-2018 identification and grading, worked by hand.

The clause: 4.2.2, S = Σ q/Q ≥ 1 is a major hazard source; 4.3 (the method of 安监总局令第40号
附件1), R = α Σ β q/Q, α by the people within 500 m outside the plant (≥100: 2.0, 50–99: 1.5,
30–49: 1.2, 1–29: 1.0, 0: 0.5), β of toxic gases by name (Cl2 4, NH3 2, H2S 5, SO2 2), flammable
gases 1.5, others 1; grades 一级 R ≥ 100, 二级 100 > R ≥ 50, 三级 50 > R ≥ 10, 四级 R < 10.
"""

from __future__ import annotations

import pytest

from emergency import gb18218
from emergency.gb18218 import HazardError, assess, holding


def test_the_worked_example_of_sulphur_dioxide_is_grade_three() -> None:
    # 200 t SO2 (Q 20 t, β 2), 60 people outside: R = 1.5 × (2 × 200 / 20) = 30 → 三级
    a = assess([holding("sulfur_dioxide", 200)], exposed_people=60)
    assert a.ratio_sum == 10.0
    assert a.major
    assert a.r == 30.0
    assert a.grade == 3
    assert gb18218.GRADE_NAMES[a.grade] == "三级"


def test_several_toxic_gases_add_up_to_grade_one() -> None:
    # Cl2 30 t (Q 5, β 4): 24; NH3 100 t (Q 10, β 2): 20; H2S 10 t (Q 5, β 5): 10
    # 120 people: α 2.0 → R = 2 × 54 = 108 → 一级
    a = assess([holding("chlorine", 30), holding("ammonia", 100), holding("hydrogen_sulfide", 10)], 120)
    assert a.r == 108.0
    assert a.grade == 1
    # without the H2S: R = 2 × 44 = 88 → 二级
    assert assess([holding("chlorine", 30), holding("ammonia", 100)], 120).grade == 2


@pytest.mark.parametrize(
    ("r", "grade"), [(100.0, 1), (250.0, 1), (99.999, 2), (50.0, 2), (49.99, 3), (10.0, 3), (9.99, 4), (0.5, 4)]
)
def test_grade_boundaries(r: float, grade: int) -> None:
    assert gb18218.grade_of(r) == grade


@pytest.mark.parametrize(
    ("people", "alpha"), [(0, 0.5), (1, 1.0), (29, 1.0), (30, 1.2), (49, 1.2), (50, 1.5), (99, 1.5), (100, 2.0)]
)
def test_alpha_of_the_people_outside(people: int, alpha: float) -> None:
    assert gb18218.alpha(people) == alpha


def test_below_its_threshold_a_unit_is_not_a_major_hazard_and_has_no_grade() -> None:
    a = assess([holding("methanol", 100)], 10)  # 100 / 500 = 0.2 < 1
    assert not a.major
    assert a.grade is None


def test_a_mixture_is_major_when_its_ratios_add_up_to_one() -> None:
    # methanol 300 / 500 = 0.6, benzene 25 / 50 = 0.5: S = 1.1 ≥ 1; β 1 each, α 1.0 → R 1.1 → 四级
    a = assess([holding("methanol", 300), holding("benzene", 25)], 10)
    assert a.ratio_sum == pytest.approx(1.1)
    assert a.major
    assert a.r == pytest.approx(1.1)
    assert a.grade == 4


def test_a_flammable_gas_is_corrected_by_one_and_a_half() -> None:
    # LPG 100 t (Q 50, β 1.5), nobody outside (α 0.5): R = 0.5 × 1.5 × 2 = 1.5
    assert assess([holding("lpg", 100)], 0).r == pytest.approx(1.5)


def test_a_chemical_the_table_lacks_needs_its_own_threshold_and_beta() -> None:
    with pytest.raises(HazardError, match="threshold_t"):
        holding("unobtainium", 5)
    h = holding("unobtainium", 5, threshold_t=50, beta=1.0)  # table 2 by hazard class
    assert assess([h], 0).ratio_sum == 0.1


def test_the_stated_threshold_overrides_the_table() -> None:
    assert holding("ammonia", 10, threshold_t=20).threshold_t == 20


def test_bad_quantities_are_refused_by_name() -> None:
    with pytest.raises(HazardError, match="quantity_t"):
        holding("ammonia", -1)
    with pytest.raises(HazardError, match="exposed_people"):
        gb18218.alpha(-3)
    with pytest.raises(HazardError, match="substances"):
        assess([], 0)


def test_what_is_verified_is_said() -> None:
    assert gb18218.SUBSTANCES["sulfur_dioxide"].verified
    assert not gb18218.SUBSTANCES["chlorine"].verified  # from quotations of the table: verify
