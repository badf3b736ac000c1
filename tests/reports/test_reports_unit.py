"""The generic parts without services: the report model, the XLSX and PDF renderers, the
streamed CSV/XLSX writers, the flat statistics table and the due periods of the job."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from reports import flatten, render_pdf, render_xlsx, tabular
from reports.job import due_periods
from reports.model import Column, Report, Section, chart, table, text


def _report() -> Report:
    energy = table(
        "各企业能源消费",
        [text("企业"), Column("用电量", "kWh", decimals=1), Column("综合能耗", "tce", decimals=3)],
        [["甲化工", 1234.5, 0.152], ["乙食品", None, 0.031]],
    )
    bars = chart("综合能耗", "bar", ["甲化工", "乙食品"], {"综合能耗": [0.152, 0.031]}, "tce")
    line = chart("电力负荷", "line", [f"{h:02d}" for h in range(24)], {"有功功率": [float(h) for h in range(24)]}, "kW")
    return Report(
        "测试园区 运行日报 2026-11-03", "时区 Asia/Shanghai", (Section("能源", ("说明",), (energy,), (bars, line)),)
    )


def test_a_row_must_fit_its_columns_and_a_series_its_categories() -> None:
    with pytest.raises(ValueError, match="row 0 has 1 cells for 2 columns"):
        table("t", [Column("a"), Column("b")], [[1]])
    with pytest.raises(ValueError, match="series 's' has 1 values for 2 categories"):
        chart("c", "bar", ["x", "y"], {"s": [1.0]})
    assert Column("用电量", "kWh").header == "用电量 (kWh)" and Column("企业").header == "企业"


def test_xlsx_renderer_writes_chinese_headers_numbers_and_a_chart() -> None:
    data = render_xlsx.render(_report())
    book = load_workbook(io.BytesIO(data))
    sheet = book["能源"]
    rows = [r for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r)]
    header = next(r for r in rows if r[0] == "企业")
    assert header[:3] == ("企业", "用电量 (kWh)", "综合能耗 (tce)")
    first = rows[rows.index(header) + 1]
    assert first[:3] == ("甲化工", 1234.5, 0.152)  # numbers, not text
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert {"xl/charts/chart1.xml", "xl/charts/chart2.xml"} <= set(names)  # native Excel charts


def test_pdf_renderer_embeds_a_cjk_font() -> None:
    pdf = render_pdf.render(_report())
    assert pdf.startswith(b"%PDF-") and b"/FontFile" in pdf  # the CJK face embedded (subset)
    assert len(pdf) < 200_000


def test_a_missing_font_is_named() -> None:
    with pytest.raises(render_pdf.FontMissing, match="no CJK font found"):
        render_pdf.find_font((("/nonexistent/font.ttc", 0),))


def test_pdf_cells_show_the_columns_decimals() -> None:
    assert render_pdf.cell_text(Column("x", decimals=1), 1234.56) == "1,234.6"
    assert render_pdf.cell_text(Column("x"), None) == "—"
    assert render_pdf.cell_text(text("x"), "甲") == "甲"


def test_csv_chunks_start_with_a_bom_header_and_keep_numbers() -> None:
    cols = [text("时间"), Column("数值", "kW")]
    rows = ((datetime(2026, 11, 3, 0, 15), 1.5), (datetime(2026, 11, 3, 0, 30), None))
    body = b"".join(tabular.csv_chunks(cols, rows))
    assert body.startswith("\ufeff时间,数值 (kW)\n".encode())  # lines end as COPY ends them
    parsed = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert parsed[1:] == [["2026-11-03 00:15:00", "1.5"], ["2026-11-03 00:30:00", ""]]


def test_floats_are_written_as_the_server_writes_a_float8() -> None:
    # PostgreSQL's float8 output: shortest digits, positional from 1e-4 up to 1e15
    cases = {31.0: "31", 1897.5: "1897.5", 1e15: "1e+15", 1e14: "100000000000000", 100.0: "100"}
    cases |= {0.0001: "0.0001", 0.00001: "1e-05", -2.5: "-2.5", 0.1 + 0.2: "0.30000000000000004"}
    assert {v: tabular.pg_float(v) for v in cases} == cases


def test_csv_chunks_are_bounded_whatever_the_length() -> None:
    rows = ((i, float(i)) for i in range(200_000))
    sizes = [len(c) for c in tabular.csv_chunks([Column("n"), Column("v")], rows)]
    assert max(sizes) < tabular.CHUNK_BYTES + 100 and len(sizes) > 10


def test_xlsx_file_continues_on_a_new_sheet_when_one_is_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tabular, "SHEET_ROWS", 4)  # header + 3 rows per sheet
    rows = [(datetime(2026, 11, 3, h), float(h)) for h in range(7)]
    f = tabular.xlsx_file([text("时间"), Column("数值", "kW")], rows, sheet="数据")
    book = load_workbook(io.BytesIO(b"".join(tabular.file_chunks(f))))
    assert book.sheetnames == ["数据", "数据 (2)", "数据 (3)"]
    values = [r for ws in book.worksheets for r in ws.iter_rows(min_row=2, values_only=True)]
    assert [v for _, v in values] == [float(h) for h in range(7)]
    assert values[0][0] == datetime(2026, 11, 3, 0)  # a date cell
    assert book.worksheets[1]["B1"].value == "数值 (kW)"


def test_statistics_table_leaves_out_groups_the_reader_may_not_see() -> None:
    rows = [
        {
            "period": date(2026, 11, 3),
            "readings": 96,
            "energy": None,  # an environment regulator: no energy group
            "emissions": {"so2_kg": 1.5, "exceedance_minutes": 30.0},
            "economic": None,
            "intensities": None,
            "aqi": {"aqi": 78, "primary": ["PM10"], "category": "良"},
        }
    ]
    t = flatten.statistics("统计", rows)
    assert [c.header for c in t.columns] == [
        "周期",
        "读数条数",
        "二氧化硫排放量 (kg)",
        "超标时长 (min)",
        "AQI",
        "首要污染物",
        "空气质量类别",
    ]
    assert t.rows[0] == ("2026-11-03", 96, 1.5, 30.0, 78, "PM10", "良")


@pytest.mark.parametrize(
    ("now", "daily", "monthly"),
    [
        (datetime(2026, 12, 1, 2, 0, tzinfo=UTC), date(2026, 11, 30), date(2026, 11, 1)),  # 10:00 local
        (datetime(2026, 11, 30, 16, 30, tzinfo=UTC), date(2026, 11, 29), date(2026, 10, 1)),  # 00:30 local, Dec 1
        (datetime(2026, 11, 30, 17, 30, tzinfo=UTC), date(2026, 11, 30), date(2026, 11, 1)),  # 01:30 local, Dec 1
    ],
)
def test_packs_are_due_for_yesterday_and_last_month_of_the_park(now: datetime, daily: date, monthly: date) -> None:
    assert due_periods("Asia/Shanghai", now) == {"daily": daily, "monthly": monthly}


def test_an_empty_chart_or_table_is_left_out_quietly() -> None:
    """A day without alarms: no categories to chart, no rows to list (warnings are errors here)."""
    empty = Report(
        "空",
        "",
        (Section("告警", (), (table("告警明细", [text("级别")], []),), (chart("告警", "bar", [], {}),)),),
    )
    book = load_workbook(io.BytesIO(render_xlsx.render(empty)))
    assert [r for r in book["告警"].iter_rows(values_only=True) if r[0] == "级别"] == [("级别",)]
    assert render_pdf.render(empty).startswith(b"%PDF-")
