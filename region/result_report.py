"""The region's results as a report (`reports.model`): one table of every park shown, for the
XLSX/CSV export of the region view and the league's mail. Pure: rows in, a Report out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reports import render_xlsx, tabular
from reports.model import Column, Report, Section, table, text

COLUMNS = (
    text("园区编码"),
    text("园区名称"),
    text("盟市"),
    Column("认定类别", numeric=True, decimals=0),
    Column("当年类别", numeric=True, decimals=0),
    Column("综合得分", decimals=2),
    Column("排名", decimals=0),
    Column("参评园区数", decimals=0),
    text("奖励"),
    text("处罚"),
    Column("连续低于类别年数", unit="年", decimals=0),
    text("降级审查"),
    Column("工业总产值", unit="万元", decimals=1),
    Column("税收", unit="万元", decimals=1),
    Column("采用的年报版本", decimals=0),
    text("历年排名"),
    text("缺报年报"),
    text("缺报月报"),
)


def _flag(v: Any) -> str:
    return "是" if v else "否"


def _trend(trend: Sequence[dict[str, Any]]) -> str:
    return "；".join(f"{t['year']}: {t['rank'] if t.get('rank') else '—'}" for t in trend)


def row(r: dict[str, Any]) -> list[Any]:
    figures = r.get("figures") or {}
    missing = r.get("missing") or {}
    return [
        r["code"],
        r["name"],
        r["league"],
        r.get("designated_class"),
        r.get("park_class"),
        r.get("score"),
        r.get("rank"),
        r.get("ranked_parks"),
        _flag(r.get("rewarded")),
        _flag(r.get("penalised")),
        r.get("below_class_years"),
        _flag(r.get("downgrade_review")),
        figures.get("output_value"),
        figures.get("tax"),
        r.get("revision"),
        _trend(r.get("trend") or ()),
        "、".join(missing.get("annual") or ()),
        "、".join(missing.get("monthly") or ()),
    ]


def by_rank(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ranked parks by rank, then the unranked by code."""
    return sorted(rows, key=lambda r: (r.get("rank") is None, r.get("rank") or 0, r["code"]))


def report(rows: Sequence[dict[str, Any]], *, year: int, subtitle: str = "") -> Report:
    """Every row shown, by rank (unranked last, by code)."""
    ordered = by_rank(rows)
    notes = ("排名在全区参评园区中计算（第二十二条）；评价方法及权重见各园区结果。",)
    section = Section(f"{year} 年度评价结果", notes=notes, tables=(table("园区", COLUMNS, [row(r) for r in ordered]),))
    return Report(f"{year} 年度园区综合评价结果", subtitle=subtitle, sections=(section,))


def render(rows: Sequence[dict[str, Any]], *, year: int, fmt: str, subtitle: str = "") -> bytes:
    """The rows as an XLSX (the generic renderer) or a CSV with a byte-order mark, by rank."""
    if fmt == "xlsx":
        return render_xlsx.render(report(rows, year=year, subtitle=subtitle))
    if fmt == "csv":
        return b"".join(tabular.csv_chunks(COLUMNS, [row(r) for r in by_rank(rows)]))
    raise ValueError(f"format {fmt!r} is not xlsx or csv")
