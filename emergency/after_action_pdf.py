"""The after-action report as PDF (fpdf2), Chinese text in Noto Sans CJK.

The font is the system's (Debian's fonts-noto-cjk, /usr/share/fonts/opentype/noto/), embedded
as a subset of the characters used.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from emergency.after_action import Report, Table, clock

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_INDEX_SC = 2  # the collection's Simplified Chinese face (JP, KR, SC, TC …)


class FontMissing(RuntimeError):
    pass


def _pdf() -> FPDF:
    if not FONT.is_file():
        raise FontMissing(f"the CJK font {FONT} is missing (Debian package fonts-noto-cjk)")
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.add_font("cjk", "", str(FONT), collection_font_number=FONT_INDEX_SC)
    pdf.set_font("cjk", size=9)
    pdf.set_auto_page_break(True, margin=12)
    return pdf


def _table(pdf: FPDF, table: Table) -> None:
    pdf.set_font("cjk", size=12)
    pdf.cell(0, 8, table.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    if not table.rows:
        pdf.cell(0, 6, "—", new_x="LMARGIN", new_y="NEXT")
        return
    with pdf.table(headings_style=FontFace(fill_color=(221, 227, 234))) as t:
        t.row([str(c) for c in table.columns])
        for values in table.rows:
            t.row(["" if v is None else str(v) for v in values])
    pdf.ln(3)


def render_pdf(report: Report) -> bytes:
    pdf = _pdf()
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    pdf.cell(0, 10, report.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    with pdf.table(col_widths=(1, 3), first_row_as_headings=False) as t:
        for label, value in report.facts:
            t.row([label, value])
    pdf.ln(3)
    _table(pdf, Table("时长 Durations", ("", "h:mm:ss"), tuple((k, clock(s)) for k, s in report.durations)))
    for table in (*report.tables, report.timeline):
        _table(pdf, table)
    return bytes(pdf.output())
