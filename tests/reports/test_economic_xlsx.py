"""Economic reports from the XLSX template: per-cell errors (unit) and the import route's
boundaries (integration)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from reports import economic_xlsx as ex
from tests.api.conftest import Tenancy

TODAY = date(2026, 12, 6)
ENTS = [
    {"enterprise_id": 11, "park_id": 1, "park": "p1", "enterprise": "e1", "name": "甲化工"},
    {"enterprise_id": 12, "park_id": 1, "park": "p1", "enterprise": "e2", "name": "乙食品"},
]


def _filled(rows: dict[int, dict[str, Any]], enterprises: list[dict[str, Any]] = ENTS) -> bytes:
    """The template with cells set: {row: {column letter: value}}."""
    book = load_workbook(io.BytesIO(ex.template(enterprises, month=date(2026, 11, 1))))
    sheet = book[ex.SHEET]
    for r, cells in rows.items():
        for col, v in cells.items():
            sheet[f"{col}{r}"] = v
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_template_lists_the_enterprises_with_chinese_headers_and_units() -> None:
    sheet = load_workbook(io.BytesIO(ex.template(ENTS, month=date(2026, 11, 1))))[ex.SHEET]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:6] == (
        "园区编码",
        "企业编码",
        "企业名称",
        "月份 (YYYY-MM)",
        "工业总产值 (万元)",
        "工业增加值 (万元)",
    )
    assert rows[1][:4] == ("p1", "e1", "甲化工", "2026-11") and rows[2][1] == "e2"


def test_a_filled_template_gives_the_months_with_numbers() -> None:
    data = _filled(
        {2: {"E": 5000, "F": 1200.5, "G": -3, "I": 120, "J": "80.5", "K": " 甲醇、烯烃 "}, 3: {"E": "1,500"}}
    )
    months = ex.parse(data, today=TODAY, enterprises=ENTS)
    assert months[0] == {
        "enterprise_id": 11,
        "park_id": 1,
        "month": date(2026, 11, 1),
        "output_value": 5000.0,
        "value_added": 1200.5,
        "tax": -3.0,  # tax and value added may be negative (refunds, losses)
        "fixed_asset_investment": None,  # empty: not reported
        "employees": 120,
        "rd_expense": 80.5,
        "main_products": "甲醇、烯烃",
    }
    assert months[1]["output_value"] == 1500.0


def test_every_bad_cell_is_named_and_nothing_is_taken() -> None:
    data = _filled(
        {
            2: {"E": -5, "I": 12.5, "K": "x" * 501},  # output negative, employees not whole, products too long
            3: {"D": "2026-13", "F": "lots"},  # no such month, not a number
            4: {"A": "p1", "B": "zz", "D": "2026-11"},  # an enterprise the importer may not report for
            5: {"A": "p1", "B": "e1", "D": "2026-11"},  # e1's November a second time
            6: {"A": "p1", "B": "e2", "D": "2027-01"},  # after the current month
        }
    )
    with pytest.raises(ex.CellErrors) as caught:
        ex.parse(data, today=TODAY, enterprises=ENTS)
    cells = {e.cell: e.message for e in caught.value.errors}
    assert cells["E2"] == "must not be negative"
    assert cells["I2"] == "must be a whole number from 0 to 10 000 000"
    assert cells["K2"] == "is longer than 500 characters"
    assert cells["D3"] == "month must be YYYY-MM (or a date cell)" and cells["F3"] == "is not a number"
    assert cells["B4"] == "enterprise p1/zz is not one you may report for"
    assert cells["D5"].startswith("second report of this enterprise and month (first at D2)")
    assert "outside the supported range" in cells["D6"]
    assert caught.value.errors[0].as_dict()["column"] == "工业总产值 (万元)"


def test_a_file_that_is_not_xlsx_or_lacks_a_column_is_refused() -> None:
    with pytest.raises(ex.CellErrors, match="not an XLSX workbook"):
        ex.parse(b"park,enterprise\n", today=TODAY, enterprises=ENTS)
    book = load_workbook(io.BytesIO(ex.template(ENTS)))
    book[ex.SHEET]["D1"] = "期间"
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ex.CellErrors, match=r"A1 \(表头\): column '月份 \(YYYY-MM\)' is missing"):
        ex.parse(out.getvalue(), today=TODAY, enterprises=ENTS)


XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _codes(db: psycopg.Connection[Any], t: Tenancy) -> list[dict[str, Any]]:
    park = db.execute("SELECT code FROM parks WHERE park_id = %s", (t.park_id,)).fetchone()
    assert park is not None
    return [
        {"enterprise_id": t.e1, "park_id": t.park_id, "park": park[0], "enterprise": "e1", "name": "e1"},
        {"enterprise_id": t.e2, "park_id": t.park_id, "park": park[0], "enterprise": "e2", "name": "e2"},
    ]


@pytest.mark.integration
def test_import_route_takes_a_good_file_and_names_bad_cells(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    ents = _codes(db, t)
    template = client.get("/api/v1/economic-reports/template", headers=t.headers("operator"))
    assert template.status_code == 200
    listed = list(load_workbook(io.BytesIO(template.content))[ex.SHEET].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in listed] == ["e1", "e2"]  # the operator's park only
    bad = _filled({2: {"E": "abc"}}, ents)
    refused = client.post(
        "/api/v1/economic-reports/import.xlsx", headers={**t.headers("operator"), **XLSX}, content=bad
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0] == {
        "cell": "E2",
        "column": "工业总产值 (万元)",
        "value": "abc",
        "message": "is not a number",
    }
    good = _filled({2: {"E": 5000, "I": 40, "K": "甲醇"}, 3: {"E": 700}}, ents)
    done = client.post("/api/v1/economic-reports/import.xlsx", headers={**t.headers("operator"), **XLSX}, content=good)
    assert done.status_code == 200 and done.json() == {"imported": 2}
    stored = db.execute(
        "SELECT output_value, employees, source, main_products FROM economic_monthly"
        " WHERE enterprise_id = %s AND month = '2026-11-01'",
        (t.e1,),
    ).fetchone()
    assert stored is not None and stored[0] == 5000 and stored[1] == 40 and stored[2].startswith("xlsx:")
    assert stored[3] == "甲醇"
    listed = client.get("/api/v1/economic-reports", headers=t.headers("operator"), params={"enterprise_id": t.e1})
    assert listed.json()["items"][0]["main_products"] == "甲醇"


@pytest.mark.integration
def test_an_enterprise_imports_for_itself_only_and_regulators_not_at_all(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    ents = _codes(db, t)
    h = {**t.headers("enterprise"), **XLSX}
    template = client.get("/api/v1/economic-reports/template", headers=t.headers("enterprise"))
    assert [
        r[1] for r in load_workbook(io.BytesIO(template.content))[ex.SHEET].iter_rows(min_row=2, values_only=True)
    ] == ["e1"]
    other = client.post("/api/v1/economic-reports/import.xlsx", headers=h, content=_filled({3: {"E": 1}}, ents))
    assert other.status_code == 422 and other.json()["errors"][0]["cell"] == "B3"
    own = client.post("/api/v1/economic-reports/import.xlsx", headers=h, content=_filled({2: {"E": 1}}, ents[:1]))
    assert own.status_code == 200
    regulator = {**t.headers("env_regulator"), **XLSX}
    assert client.post("/api/v1/economic-reports/import.xlsx", headers=regulator, content=b"x").status_code == 403
    assert client.get("/api/v1/economic-reports/template", headers=t.headers("env_regulator")).status_code == 403
    assert client.post("/api/v1/economic-reports/import.xlsx", headers=XLSX, content=b"x").status_code == 401
