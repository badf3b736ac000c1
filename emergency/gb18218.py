"""Major hazard sources of dangerous chemicals per GB 18218-2018 (危险化学品重大危险源辨识), pure.

Identification (4.2.2): a unit is a major hazard source when S = Σ q_i / Q_i ≥ 1, q_i the
quantity of each dangerous chemical present and Q_i its threshold quantity (临界量, table 1 by
name, table 2 by hazard class), both in tonnes.

Grading (4.3, the method of 安监总局令第40号 附件1 that the 2018 edition adopted):
R = α · Σ β_i · q_i / Q_i, with β_i the correction of the chemical (toxic gases by name, table 4;
explosives 2; flammable gases 1.5; others 1) and α that of the people who may be exposed within
500 m outside the plant (≥ 100: 2.0; 50–99: 1.5; 30–49: 1.2; 1–29: 1.0; 0: 0.5). Grades:
一级 R ≥ 100, 二级 100 > R ≥ 50, 三级 50 > R ≥ 10, 四级 R < 10.

Threshold quantities marked ``verified=False`` were read from secondary sources quoting the
table (the 2009 edition's figures, which the 2018 edition keeps for these names): verify them
against the standard's table 1 before relying on them; a hazard record may always state its
own ``threshold_t``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

GRADE_NAMES = MappingProxyType({1: "一级", 2: "二级", 3: "三级", 4: "四级"})
CATEGORIES = ("toxic_gas", "explosive", "flammable_gas", "other")
CATEGORY_BETA = MappingProxyType({"explosive": 2.0, "flammable_gas": 1.5, "other": 1.0})
TOXIC_GAS_DEFAULT_BETA = 2.0  # a toxic gas table 4 does not name; a highly toxic one: 4 (verify)


@dataclass(frozen=True, slots=True)
class Substance:
    name_zh: str
    threshold_t: float  # Q, table 1
    category: str  # decides β
    beta: float
    verified: bool  # threshold confirmed against a quotation of the 2018 table


def _s(zh: str, q: float, category: str, beta: float | None = None, verified: bool = False) -> Substance:
    return Substance(zh, q, category, beta if beta is not None else CATEGORY_BETA.get(category, 1.0), verified)


# Table 1 (a selection of the chemicals a park's plants commonly hold) with table 4's β of the
# toxic gases. SO2 20 t is confirmed by a worked example citing the standard; O2 200 t is one of
# the 2018 edition's additions; the rest: "verify".
SUBSTANCES: Mapping[str, Substance] = MappingProxyType(
    {
        "chlorine": _s("氯", 5, "toxic_gas", 4.0),
        "ammonia": _s("氨", 10, "toxic_gas", 2.0),
        "hydrogen_sulfide": _s("硫化氢", 5, "toxic_gas", 5.0),
        "sulfur_dioxide": _s("二氧化硫", 20, "toxic_gas", 2.0, verified=True),
        "carbon_monoxide": _s("一氧化碳", 10, "toxic_gas", 2.0),
        "ethylene_oxide": _s("环氧乙烷", 10, "toxic_gas", 2.0),
        "hydrogen_cyanide": _s("氰化氢", 1, "toxic_gas", 10.0),
        "phosgene": _s("碳酰氯", 0.3, "toxic_gas", 20.0),
        "hydrogen": _s("氢", 5, "flammable_gas"),
        "methane": _s("甲烷、天然气", 50, "flammable_gas"),
        "lpg": _s("液化石油气", 50, "flammable_gas"),
        "acetylene": _s("乙炔", 1, "flammable_gas"),
        "propylene": _s("丙烯", 10, "flammable_gas"),
        "methanol": _s("甲醇", 500, "other"),
        "benzene": _s("苯", 50, "other"),
        "toluene": _s("甲苯", 500, "other"),
        "gasoline": _s("汽油", 200, "other"),
        "oxygen": _s("氧(压缩的或液化的)", 200, "other", verified=True),
    }
)


class HazardError(ValueError):
    """A hazard record that cannot be identified or graded (names the field)."""


@dataclass(frozen=True, slots=True)
class Holding:
    """One chemical present in a unit: q tonnes against threshold Q with correction β."""

    substance: str
    quantity_t: float
    threshold_t: float
    beta: float


def holding(substance: str, quantity_t: float, threshold_t: float | None = None, beta: float | None = None) -> Holding:
    """A holding with Q and β from the table unless stated (a chemical the table does not name
    must state both: table 2's Q by hazard class, β by its category)."""
    known = SUBSTANCES.get(substance)
    if quantity_t < 0:
        raise HazardError(f"quantity_t of {substance!r} is {quantity_t}; it must be ≥ 0")
    q = threshold_t if threshold_t is not None else (known.threshold_t if known else None)
    b = beta if beta is not None else (known.beta if known else None)
    if q is None or b is None:
        raise HazardError(
            f"substance {substance!r} is not in the table; state its threshold_t (GB 18218-2018 table 2) and beta"
        )
    if q <= 0:
        raise HazardError(f"threshold_t of {substance!r} is {q}; it must be > 0")
    if b <= 0:
        raise HazardError(f"beta of {substance!r} is {b}; it must be > 0")
    return Holding(substance, float(quantity_t), float(q), float(b))


def alpha(exposed_people: int) -> float:
    """α of the people within 500 m outside the plant boundary (附件1 表3 / GB 18218-2018 表5)."""
    if exposed_people < 0:
        raise HazardError(f"exposed_people is {exposed_people}; it must be ≥ 0")
    if exposed_people >= 100:
        return 2.0
    if exposed_people >= 50:
        return 1.5
    if exposed_people >= 30:
        return 1.2
    if exposed_people >= 1:
        return 1.0
    return 0.5


def ratio_sum(holdings: Sequence[Holding]) -> float:
    """S = Σ q/Q (4.2.2); S ≥ 1 makes the unit a major hazard source."""
    return sum(h.quantity_t / h.threshold_t for h in holdings)


def is_major(holdings: Sequence[Holding]) -> bool:
    return ratio_sum(holdings) >= 1.0


def r_value(holdings: Sequence[Holding], exposed_people: int) -> float:
    """R = α Σ β q/Q (4.3)."""
    return alpha(exposed_people) * sum(h.beta * h.quantity_t / h.threshold_t for h in holdings)


def grade_of(r: float) -> int:
    """1 (一级, the highest) to 4 (四级) from R."""
    if r >= 100:
        return 1
    if r >= 50:
        return 2
    if r >= 10:
        return 3
    return 4


@dataclass(frozen=True, slots=True)
class Assessment:
    ratio_sum: float
    major: bool
    r: float
    grade: int | None  # None: not a major hazard source (S < 1), so not graded


def assess(holdings: Sequence[Holding], exposed_people: int) -> Assessment:
    if not holdings:
        raise HazardError("substances: a hazard lists at least one substance")
    s = ratio_sum(holdings)
    r = r_value(holdings, exposed_people)
    major = s >= 1.0
    return Assessment(round(s, 6), major, round(r, 6), grade_of(r) if major else None)
