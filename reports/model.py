"""A report as data: a title, sections, tables with Chinese headers and units, charts as series.

Everything that renders (``reports.render_xlsx``, ``reports.render_pdf``) reads only these
types, so any package can describe a document (an operations pack, an after-action report) and
have it written as XLSX and PDF without knowing either format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Cell = float | int | str | None
ChartKind = Literal["bar", "line"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its Chinese header, its unit (shown as ``标题 (单位)``) and whether its cells
    are numbers (written as numbers, never as text) or text."""

    title: str
    unit: str = ""
    numeric: bool = True
    decimals: int = 2  # digits shown (PDF, XLSX number format); the stored value keeps all

    @property
    def header(self) -> str:
        return f"{self.title} ({self.unit})" if self.unit else self.title


def text(title: str) -> Column:
    """A column of text cells (names, codes, times as shown)."""
    return Column(title, numeric=False)


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def __post_init__(self) -> None:
        width = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(f"table {self.title!r}: row {i} has {len(row)} cells for {width} columns")


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar or line chart: one value per category for each series, all in one unit."""

    title: str
    kind: ChartKind
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str = ""

    def __post_init__(self) -> None:
        for s in self.series:
            if len(s.values) != len(self.categories):
                raise ValueError(
                    f"chart {self.title!r}: series {s.name!r} has {len(s.values)} values"
                    f" for {len(self.categories)} categories"
                )


@dataclass(frozen=True, slots=True)
class Section:
    """One heading with its notes, tables and charts; one sheet of the XLSX."""

    title: str
    notes: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    subtitle: str = ""
    sections: tuple[Section, ...] = field(default_factory=tuple)


def table(title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> Table:
    """A Table from lists (the frozen types want tuples)."""
    return Table(title, tuple(columns), tuple(tuple(r) for r in rows))


def chart(
    title: str, kind: ChartKind, categories: Sequence[str], series: dict[str, Sequence[float | None]], unit: str = ""
) -> Chart:
    return Chart(title, kind, tuple(categories), tuple(Series(k, tuple(v)) for k, v in series.items()), unit)
