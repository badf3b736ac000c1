"""The published results' pure parts: cutting a publication to a scope, and the region table as
a report (the league's mail and the region view's export), without services."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from region.published import method_record, narrowed
from region.result_report import COLUMNS, report, row
from reports import render_xlsx


def _row(code: str, league: str, rank: int | None, **kw: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": f"园区{code}",
        "league": league,
        "designated_class": 2,
        "park_class": 2 if rank else 0,
        "score": None if rank is None else 100.0 - rank,
        "rank": rank,
        "ranked_parks": 2,
        "rewarded": rank is not None,
        "penalised": False,
        "below_class_years": 0,
        "downgrade_review": False,
        "figures": {"output_value": 120_000.0, "tax": 6_000.0},
        "revision": 1,
        "trend": [{"year": 2024, "rank": None}, {"year": 2025, "rank": rank}],
        "missing": {"annual": ["2024"], "monthly": ["2025-01", "2025-02"]},
        **kw,
    }


PUB = {"publication_id": 7, "year": 2025, "results": [_row("a", "bt", 2), _row("b", "od", 1), _row("c", "bt", None)]}


def test_a_publication_is_cut_to_a_league_or_a_park() -> None:
    assert [r["code"] for r in narrowed(PUB, league="bt", park_code=None)["results"]] == ["a", "c"]
    assert [r["code"] for r in narrowed(PUB, league=None, park_code="b")["results"]] == ["b"]
    assert len(narrowed(PUB, league=None, park_code=None)["results"]) == 3
    assert narrowed(PUB, league="bt", park_code=None)["publication_id"] == 7


def test_the_method_is_published_with_its_weights() -> None:
    m = method_record(2025)
    assert m is not None and m["criteria"] and all(c["weight"] >= 0 for c in m["criteria"].values())
    assert method_record(1990) is None  # before any method applies


def test_the_region_table_orders_by_rank_with_chinese_headers() -> None:
    r = row(PUB["results"][0])
    assert len(r) == len(COLUMNS) and r[8] == "是" and r[15] == "2024: —；2025: 2" and r[17] == "2025-01、2025-02"
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx.render(report(PUB["results"], year=2025))))
    sheet = book.worksheets[0]
    values = [[c.value for c in line] for line in sheet.iter_rows()]
    header = next(v for v in values if v and v[0] == "园区编码")
    assert "工业总产值 (万元)" in header and "排名" in header
    codes = [v[0] for v in values[values.index(header) + 1 :] if v[0] in {"a", "b", "c"}]
    assert codes == ["b", "a", "c"]  # ranked first by rank, the unranked last
