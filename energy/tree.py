"""The meter tree of a park: main, sub and virtual meters, checked, and totals that count each
energy once (pure code).

An enterprise's total of a carrier is the sum of its main meters; sub-meters are inside their
parent's figure and virtual meters are computed from others, so neither adds to a total. The
park's own meters (intake, feeders: ``enterprise`` None) hold the enterprises' energy and are
compared with it (``energy.balance``), never added to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Role = Literal["main", "sub", "virtual"]
ROLES: tuple[str, ...] = ("main", "sub", "virtual")
CARRIERS: tuple[str, ...] = ("electricity", "water", "natural_gas", "steam", "heat", "raw_coal")
MAX_METERS = 20_000  # one park's tree; the API refuses more
CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_TERM = re.compile(r"\s*([+\-−])?\s*(?:(\d+(?:\.\d+)?)\s*\*\s*)?([A-Za-z0-9_.]+)\s*")


class TreeError(ValueError):
    """A tree that cannot hold: the message names the meter and the field."""


@dataclass(frozen=True, slots=True)
class Meter:
    code: str
    carrier: str
    role: Role
    enterprise: int | None = None  # enterprise id; None: the park's own meter
    parent: str | None = None
    device: int | None = None
    formula: str | None = None
    name: str = ""
    tariff: str | None = None
    contracted_kw: float | None = None
    attributes: Mapping[str, object] = field(default_factory=dict)

    @property
    def counts(self) -> bool:
        """Whether the meter's energy adds to its enterprise's total."""
        return self.role == "main" and self.enterprise is not None


def parse_formula(formula: str, where: str = "formula") -> list[tuple[float, str]]:
    """``"M1 − M2 + 0.5*M3"`` as [(1, "M1"), (-1, "M2"), (0.5, "M3")]. Signs +, - or −; an
    optional coefficient before ``*``. A term without a sign is the first or an error."""
    terms: list[tuple[float, str]] = []
    pos = 0
    text = formula.strip()
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or m.end() == pos or (terms and m.group(1) is None):
            raise TreeError(f"{where}: cannot read {formula!r} at character {pos + 1}")
        sign = -1.0 if m.group(1) in ("-", "−") else 1.0
        terms.append((sign * float(m.group(2) or 1.0), m.group(3)))
        pos = m.end()
    if not terms:
        raise TreeError(f"{where}: empty formula")
    return terms


@dataclass(frozen=True, slots=True)
class Tree:
    """A checked tree: unique codes, known parents of the same carrier, no cycle, a formula on
    every virtual meter naming known meters of its carrier, an enterprise's main meter below
    nothing or below a park meter, a sub-meter below a meter of its own enterprise."""

    meters: tuple[Meter, ...]
    by_code: Mapping[str, Meter]

    @classmethod
    def of(cls, meters: Iterable[Meter]) -> Tree:
        ms = tuple(meters)
        if len(ms) > MAX_METERS:
            raise TreeError(f"meters: {len(ms)} meters; at most {MAX_METERS} in one park")
        by: dict[str, Meter] = {}
        devices: dict[int, str] = {}
        for i, m in enumerate(ms):
            where = f"meters[{i}] ({m.code!r})"
            if not CODE.fullmatch(m.code):
                raise TreeError(f"meters[{i}].code: {m.code!r} is not 1-64 letters, digits, '_', '.', '-'")
            if m.code in by:
                raise TreeError(f"{where}.code: given twice")
            if m.carrier not in CARRIERS:
                raise TreeError(f"{where}.carrier: {m.carrier!r} is not one of {', '.join(CARRIERS)}")
            if m.role not in ROLES:
                raise TreeError(f"{where}.role: {m.role!r} is not one of {', '.join(ROLES)}")
            if (m.role == "virtual") != (m.formula is not None):
                raise TreeError(f"{where}.formula: a virtual meter has a formula, no other meter has one")
            if (m.role == "virtual") != (m.device is None):
                raise TreeError(f"{where}.device: a physical meter names its device, a virtual one none")
            if m.device is not None:
                if m.device in devices:
                    raise TreeError(f"{where}.device: device {m.device} is already meter {devices[m.device]!r}")
                devices[m.device] = m.code
            by[m.code] = m
        tree = cls(ms, by)
        for i, m in enumerate(ms):
            tree._check_parent(i, m)
            if m.formula is not None:
                tree.coefficients(m.code)  # parses, resolves and refuses cycles
        return tree

    def _check_parent(self, i: int, m: Meter) -> None:
        where = f"meters[{i}] ({m.code!r}).parent"
        if m.parent is None:
            if m.role == "sub":
                raise TreeError(f"{where}: a sub-meter needs a parent")
            return
        p = self.by_code.get(m.parent)
        if p is None:
            raise TreeError(f"{where}: no meter {m.parent!r}")
        if p.carrier != m.carrier:
            raise TreeError(f"{where}: {m.parent!r} meters {p.carrier}, not {m.carrier}")
        if p.role == "virtual":
            raise TreeError(f"{where}: {m.parent!r} is virtual; a meter hangs below a physical one")
        if m.role == "main" and m.enterprise is not None and p.enterprise is not None:
            raise TreeError(f"{where}: an enterprise's main meter hangs below a park meter or nothing")
        if m.role != "main" and p.enterprise != m.enterprise:
            raise TreeError(f"{where}: {m.parent!r} belongs to another enterprise")
        seen = {m.code}
        while p is not None:
            if p.code in seen:
                raise TreeError(f"{where}: the parents of {m.code!r} make a cycle")
            seen.add(p.code)
            p = self.by_code.get(p.parent) if p.parent else None

    def coefficients(self, code: str, _path: tuple[str, ...] = ()) -> dict[str, float]:
        """A meter as physical meters with coefficients (virtual ones expanded)."""
        m = self.by_code[code]
        if m.formula is None:
            return {code: 1.0}
        if code in _path:
            raise TreeError(f"meter {code!r}.formula: refers back to itself through {' -> '.join(_path)}")
        out: dict[str, float] = {}
        for k, ref in parse_formula(m.formula, f"meter {code!r}.formula"):
            r = self.by_code.get(ref)
            if r is None:
                raise TreeError(f"meter {code!r}.formula: no meter {ref!r}")
            if r.carrier != m.carrier:
                raise TreeError(f"meter {code!r}.formula: {ref!r} meters {r.carrier}, not {m.carrier}")
            for leaf, c in self.coefficients(ref, (*_path, code)).items():
                out[leaf] = out.get(leaf, 0.0) + k * c
        return out

    def children(self, code: str) -> list[Meter]:
        return [m for m in self.meters if m.parent == code]

    def physical(self) -> list[Meter]:
        return [m for m in self.meters if m.device is not None]


def virtual_matrix(tree: Tree, virtual: Sequence[str], physical: Sequence[str]) -> F64:
    """Coefficients (virtual × physical) so that ``matrix @ series`` computes each virtual
    meter from the physical meters' series (rows of ``physical``), vectorised over buckets."""
    col = {c: j for j, c in enumerate(physical)}
    out = np.zeros((len(virtual), len(physical)))
    for i, v in enumerate(virtual):
        for leaf, c in tree.coefficients(v).items():
            if leaf not in col:
                raise TreeError(f"meter {v!r}: its formula needs {leaf!r}, which has no series")
            out[i, col[leaf]] += c
    return out


def totals(tree: Tree, amounts: Mapping[int, float], *, carrier: str) -> dict[int, float]:
    """Per enterprise: the carrier's total over its counted meters (``amounts`` per device).
    Devices outside the tree are not the tree's to count; the caller adds them."""
    out: dict[int, float] = {}
    for m in tree.meters:
        if m.counts and m.carrier == carrier and m.device is not None and m.enterprise is not None:
            out[m.enterprise] = out.get(m.enterprise, 0.0) + amounts.get(m.device, 0.0)
    return out
