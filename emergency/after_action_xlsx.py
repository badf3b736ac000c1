"""The after-action report as XLSX: a summary sheet (facts, durations), one sheet per table."""

from __future__ import annotations

import io

import xlsxwriter

from emergency.after_action import Report, clock


def render_xlsx(report: Report) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bg_color": "#DDE3EA", "border": 1})
    summary = book.add_worksheet("概要 Summary")
    summary.set_column(0, 0, 44)
    summary.set_column(1, 1, 60)
    summary.write(0, 0, report.title, bold)
    row = 2
    for label, value in report.facts:
        summary.write(row, 0, label, bold)
        summary.write(row, 1, value)
        row += 1
    row += 1
    summary.write_row(row, 0, ("时长 Duration", "h:mm:ss", "s"), head)
    for label, seconds in report.durations:
        row += 1
        summary.write_row(row, 0, (label, clock(seconds), "" if seconds is None else round(seconds)))
    for n, table in enumerate((*report.tables, report.timeline)):
        sheet = book.add_worksheet(f"{n + 1} {table.title}"[:31])
        sheet.write_row(0, 0, table.columns, head)
        sheet.set_column(0, len(table.columns) - 1, 20)
        for r, values in enumerate(table.rows, start=1):
            sheet.write_row(r, 0, ["" if v is None else v for v in values])
        sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
