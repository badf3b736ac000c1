"""A :class:`reports.model.Report` as a PDF (fpdf2): Chinese text in an embedded Noto CJK face
(subset to the characters used), tables that repeat their header on each page, and bar and line
charts drawn with fpdf2's own lines and rectangles (no plotting library)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from reports.model import Chart, Column, Report, Section, Table

# Noto Sans CJK is a collection; face 2 is Simplified Chinese (SC). Checked in order.
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
)
FAMILY = "cjk"
PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75))
CHART_H = 60.0  # mm
MAX_BARS = 60  # categories drawn; more would be unreadable on a page (the XLSX has them all)


class FontMissing(RuntimeError):
    """No CJK font on the machine: a PDF with Chinese text cannot be written."""


def find_font(candidates: Sequence[tuple[str, int]] = FONT_CANDIDATES) -> tuple[str, int]:
    for path, face in candidates:
        if Path(path).is_file():
            return path, face
    tried = ", ".join(p for p, _ in candidates)
    raise FontMissing(f"no CJK font found (tried {tried}); install fonts-noto-cjk")


def render(report: Report, *, font: tuple[str, int] | None = None) -> bytes:
    path, face = font or find_font()
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=12)
    pdf.add_font(FAMILY, fname=path, collection_font_number=face)
    pdf.set_title(report.title)
    pdf.set_creator("smartpark")
    pdf.add_page()
    pdf.set_font(FAMILY, size=16)
    pdf.multi_cell(0, 9, report.title, new_x="LMARGIN", new_y="NEXT")
    if report.subtitle:
        pdf.set_font(FAMILY, size=9)
        pdf.multi_cell(0, 5, report.subtitle, new_x="LMARGIN", new_y="NEXT")
    for section in report.sections:
        _section(pdf, section)
    return bytes(pdf.output())


def cell_text(column: Column, value: object) -> str:
    """A cell as shown: numbers with the column's decimals and thousands separators."""
    if value is None:
        return "—"
    if column.numeric and isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return "—"
        return f"{value:,.{max(column.decimals, 0)}f}"
    return str(value)


def _section(pdf: FPDF, section: Section) -> None:
    pdf.ln(3)
    pdf.set_font(FAMILY, size=12)
    pdf.multi_cell(0, 7, section.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=8)
    for note in section.notes:
        pdf.multi_cell(0, 4.5, note, new_x="LMARGIN", new_y="NEXT")
    for table in section.tables:
        _table(pdf, table)
    for chart in section.charts:
        if chart.categories and chart.series:
            _chart(pdf, chart)


def _table(pdf: FPDF, table: Table) -> None:
    pdf.ln(2)
    pdf.set_font(FAMILY, size=9)
    pdf.multi_cell(0, 5, table.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=7)
    if not table.rows:
        pdf.multi_cell(0, 4, "（无数据）", new_x="LMARGIN", new_y="NEXT")
        return
    weights = [2.0 if not c.numeric else 1.0 for c in table.columns]
    align = tuple("RIGHT" if c.numeric else "LEFT" for c in table.columns)
    heading = FontFace(emphasis=None, fill_color=(221, 235, 247))
    with pdf.table(
        col_widths=tuple(weights),
        text_align=align,
        line_height=4,
        headings_style=heading,
        repeat_headings=1,
        first_row_as_headings=True,
    ) as t:
        head = t.row()
        for c in table.columns:
            head.cell(c.header, align="CENTER")
        for cells in table.rows:
            row = t.row()
            for c, v in zip(table.columns, cells, strict=True):
                row.cell(cell_text(c, v))


def _chart(pdf: FPDF, chart: Chart) -> None:
    categories = chart.categories[:MAX_BARS]
    if pdf.will_page_break(CHART_H + 14):
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FAMILY, size=9)
    title = chart.title + (f" ({chart.unit})" if chart.unit else "")
    pdf.multi_cell(0, 5, title, new_x="LMARGIN", new_y="NEXT")
    x0, y0 = pdf.l_margin + 14, pdf.get_y() + 2
    width = pdf.w - pdf.r_margin - x0 - 40  # room on the right for the legend
    values = [v for s in chart.series for v in s.values[: len(categories)] if v is not None and math.isfinite(v)]
    top = _nice_top(max(values, default=0.0))
    bottom = min(0.0, min(values, default=0.0))
    span = (top - bottom) or 1.0

    def y_of(v: float) -> float:
        return y0 + CHART_H * (1 - (v - bottom) / span)

    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    pdf.set_font(FAMILY, size=6)
    for k in range(5):  # grid and scale
        level = bottom + span * k / 4
        pdf.line(x0, y_of(level), x0 + width, y_of(level))
        pdf.set_xy(pdf.l_margin, y_of(level) - 1.5)
        pdf.cell(13, 3, _short(level), align="R")
    n = max(len(categories), 1)
    step = width / n
    label_every = max(1, math.ceil(n / 24))
    for i, cat in enumerate(categories):
        if i % label_every == 0:
            pdf.set_xy(x0 + i * step, y0 + CHART_H + 0.5)
            pdf.cell(step * label_every, 3, cat[:12], align="C" if chart.kind == "bar" else "L")
    for j, series in enumerate(chart.series):
        r, g, b = PALETTE[j % len(PALETTE)]
        pdf.set_fill_color(r, g, b)
        pdf.set_draw_color(r, g, b)
        vals = series.values[: len(categories)]
        if chart.kind == "bar":
            bar = step * 0.8 / max(len(chart.series), 1)
            for i, v in enumerate(vals):
                if v is None or not math.isfinite(v):
                    continue
                x = x0 + i * step + step * 0.1 + j * bar
                y_top, y_base = y_of(max(v, 0.0)), y_of(min(v, 0.0))
                pdf.rect(x, y_top, bar, max(y_base - y_top, 0.1), style="F")
        else:
            pdf.set_line_width(0.5)
            finite = [(i, v) for i, v in enumerate(vals) if v is not None and math.isfinite(v)]
            points = [(x0 + (i + 0.5) * step, y_of(v)) for i, v in finite]
            if len(points) > 1:
                pdf.polyline(points)
            pdf.set_line_width(0.2)
        pdf.rect(x0 + width + 4, y0 + 4 * j, 3, 3, style="F")
        pdf.set_xy(x0 + width + 8, y0 + 4 * j)
        pdf.cell(30, 3, series.name[:20])
    pdf.set_draw_color(0, 0, 0)
    pdf.set_xy(pdf.l_margin, y0 + CHART_H + 5)


def _nice_top(v: float) -> float:
    """A round upper bound of the scale (1, 2 or 5 times a power of ten)."""
    if v <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(v))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= v)


def _short(v: float) -> str:
    a = abs(v)
    if a >= 1e8:
        return f"{v / 1e8:.1f}亿"
    if a >= 1e4:
        return f"{v / 1e4:.1f}万"
    return f"{v:.0f}" if a >= 10 or v == 0 else f"{v:.2f}"
