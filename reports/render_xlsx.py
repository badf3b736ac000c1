"""A :class:`reports.model.Report` as an XLSX workbook (xlsxwriter): one sheet per section,
headers in Chinese with units, numbers stored as numbers, charts as native Excel charts drawn from
the chart's own data written beside it on the sheet."""

from __future__ import annotations

import io
import re
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from reports.model import Chart, Column, Report, Section, Table

MAX_SHEET_NAME = 31  # Excel's limit
_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
CHART_ROWS = 16  # rows a chart covers on its sheet
CHART_COL = 8  # charts sit to the right of the tables (column I)


def render(report: Report) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False})
    styles = _styles(book)
    used: set[str] = set()
    for section in report.sections or ():
        _section(book, styles, _sheet_name(section.title, used), report, section)
    if not report.sections:
        sheet = book.add_worksheet(_sheet_name(report.title, used))
        sheet.write(0, 0, report.title, styles["title"])
    book.close()
    return out.getvalue()


def number_format(column: Column) -> str:
    return "0" if column.decimals <= 0 else "#,##0." + "0" * column.decimals


def _styles(book: Any) -> dict[str, Any]:
    return {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "subtitle": book.add_format({"italic": True, "font_color": "#555555"}),
        "caption": book.add_format({"bold": True, "font_size": 11}),
        "header": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True}),
        "text": book.add_format({"border": 1}),
    }


def _sheet_name(title: str, used: set[str]) -> str:
    base = _FORBIDDEN.sub("_", title).strip("'") or "Sheet"
    name, n = base[:MAX_SHEET_NAME], 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: MAX_SHEET_NAME - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def _section(book: Any, styles: dict[str, Any], name: str, report: Report, section: Section) -> None:
    sheet = book.add_worksheet(name)
    sheet.write(0, 0, f"{report.title} — {section.title}", styles["title"])
    row = 1
    if report.subtitle:
        sheet.write(row, 0, report.subtitle, styles["subtitle"])
        row += 1
    for note in section.notes:
        sheet.write(row, 0, note)
        row += 1
    row += 1
    widths: dict[int, int] = {}
    for table in section.tables:
        row = _table(book, sheet, styles, table, row, widths) + 1
    for col, width in widths.items():
        sheet.set_column(col, col, min(max(width, 8), 40))
    chart_row = 1
    for chart in section.charts:
        if not chart.categories or not chart.series:
            continue  # nothing to draw (Excel refuses a chart without data)
        row = _chart(book, sheet, name, chart, data_row=row, at_row=chart_row) + 1
        chart_row += CHART_ROWS


def _table(book: Any, sheet: Any, styles: dict[str, Any], table: Table, row: int, widths: dict[int, int]) -> int:
    """Write the table from ``row``; the row after it."""
    sheet.write(row, 0, table.title, styles["caption"])
    row += 1
    numbers = [book.add_format({"border": 1, "num_format": number_format(c)}) for c in table.columns]
    for col, column in enumerate(table.columns):
        sheet.write_string(row, col, column.header, styles["header"])
        widths[col] = max(widths.get(col, 0), _display_width(column.header))
    row += 1
    for cells in table.rows:
        for col, (column, value) in enumerate(zip(table.columns, cells, strict=True)):
            if value is None:
                sheet.write_blank(row, col, None, styles["text"])
            elif column.numeric and isinstance(value, int | float):
                sheet.write_number(row, col, value, numbers[col])
            else:
                text = str(value)
                sheet.write_string(row, col, text, styles["text"])
                widths[col] = max(widths.get(col, 0), _display_width(text))
        row += 1
    return row


def _chart(book: Any, sheet: Any, name: str, chart: Chart, *, data_row: int, at_row: int) -> int:
    """The chart's data below the tables, and the chart drawn from it; the row after the data."""
    sheet.write(data_row, 0, f"{chart.title}（图表数据）")
    head = data_row + 1
    sheet.write_string(head, 0, chart.unit and f"单位: {chart.unit}")
    for i, category in enumerate(chart.categories):
        sheet.write_string(head + 1 + i, 0, category)
    drawn = book.add_chart({"type": "column" if chart.kind == "bar" else "line"})
    last = head + len(chart.categories)
    for j, series in enumerate(chart.series, start=1):
        sheet.write_string(head, j, series.name)
        for i, v in enumerate(series.values):
            if v is not None:
                sheet.write_number(head + 1 + i, j, v)
        drawn.add_series(
            {
                "name": [name, head, j],
                "categories": [name, head + 1, 0, last, 0],
                "values": [name, head + 1, j, last, j],
            }
        )
    drawn.set_title({"name": chart.title})
    drawn.set_y_axis({"name": chart.unit})
    drawn.set_legend({"position": "bottom"})
    drawn.set_size({"width": 620, "height": CHART_ROWS * 20 - 10})
    sheet.insert_chart(xl_rowcol_to_cell(at_row, CHART_COL), drawn)
    return last + 1


def _display_width(text: str) -> int:
    """Columns a text needs: CJK characters are about twice as wide as Latin ones."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) + 2
