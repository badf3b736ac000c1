"""Economic monthly reports as an XLSX template (written with xlsxwriter) and its import (read
with openpyxl), every bad cell named by its address (``E7``), its column and why.

The file is taken whole or not at all, like the CSV import of ``aggregation.economic``, whose
bounds it applies (money in 10⁴ yuan up to ``MAX_MONEY``, output, investment and R&D not
negative, employees a whole number up to 10 000 000, months from the conversion tables' first
year to the current one); the main products are free text of at most 500 characters. Each row
must name an enterprise the importer may report for.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
import xlsxwriter
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from aggregation import economic

SHEET = "经济运行月报"
MAX_ROWS = 10_000
MAX_ERRORS = 200  # errors listed; the count says how many there were
# field: (header, unit, signed); order of the template's columns
FIELDS: tuple[tuple[str, str, str, bool | None], ...] = (
    ("park", "园区编码", "", None),
    ("enterprise", "企业编码", "", None),
    ("name", "企业名称", "", None),
    ("month", "月份", "YYYY-MM", None),
    ("output_value", "工业总产值", "万元", False),
    ("value_added", "工业增加值", "万元", True),
    ("tax", "税收", "万元", True),
    ("fixed_asset_investment", "固定资产投资", "万元", False),
    ("employees", "从业人员", "人", None),
    ("rd_expense", "研发经费", "万元", False),
    ("main_products", "主要产品", "", None),
)
MAX_PRODUCTS_CHARS = 500
REQUIRED = ("park", "enterprise", "month")
_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-\d{1,2})?\s*$")


def header(title: str, unit: str) -> str:
    return f"{title} ({unit})" if unit else title


@dataclass(frozen=True, slots=True)
class CellError:
    cell: str  # A1 address, e.g. "E7"
    column: str  # the column's header
    value: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"cell": self.cell, "column": self.column, "value": _jsonable(self.value), "message": self.message}

    def __str__(self) -> str:
        return f"{self.cell} ({self.column}): {self.message}"


class CellErrors(ValueError):
    """The file was refused; ``errors`` names each bad cell (the first MAX_ERRORS of ``count``)."""

    def __init__(self, errors: list[CellError]) -> None:
        self.count = len(errors)
        self.errors = errors[:MAX_ERRORS]
        shown = "; ".join(str(e) for e in self.errors[:10])
        more = f" (+{self.count - 10} more)" if self.count > 10 else ""
        super().__init__(f"{self.count} cell(s) refused: {shown}{more}")


def _jsonable(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def reportable_enterprises(
    conn: psycopg.Connection[Any], *, park_id: int | None, enterprise_id: int | None
) -> list[dict[str, Any]]:
    """The enterprises an importer may report for: its enterprise, its park's, or all (dict rows)."""
    return conn.execute(
        "SELECT e.enterprise_id, e.park_id, p.code AS park, e.code AS enterprise, e.name FROM enterprises e"
        " JOIN parks p USING (park_id) WHERE (%(pid)s::int IS NULL OR e.park_id = %(pid)s)"
        " AND (%(eid)s::int IS NULL OR e.enterprise_id = %(eid)s) ORDER BY p.code, e.code",
        {"pid": park_id, "eid": enterprise_id},
    ).fetchall()


def template(enterprises: Sequence[Mapping[str, Any]], *, month: date | None = None) -> bytes:
    """The template: one row per enterprise (codes and name filled in, the month if given), the
    figures empty, and a sheet of instructions."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    locked = book.add_format({"bg_color": "#F2F2F2"})
    money = book.add_format({"num_format": "#,##0.00"})
    sheet = book.add_worksheet(SHEET)
    for c, (field, title, unit, _signed) in enumerate(FIELDS):
        sheet.write_string(0, c, header(title, unit), head)
        sheet.set_column(c, c, 28 if field in ("name", "main_products") else 16, money if 4 <= c < 10 else None)
    for r, e in enumerate(enterprises, start=1):
        sheet.write_string(r, 0, e["park"], locked)
        sheet.write_string(r, 1, e["enterprise"], locked)
        sheet.write_string(r, 2, e["name"], locked)
        if month is not None:
            sheet.write_string(r, 3, f"{month:%Y-%m}")
    last = max(len(enterprises), 1000)
    for c, (field, _, _, signed) in enumerate(FIELDS):
        if field == "employees":
            rule = {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": 10_000_000}
        elif signed is not None:
            low = -economic.MAX_MONEY if signed else 0
            rule = {"validate": "decimal", "criteria": "between", "minimum": low, "maximum": economic.MAX_MONEY}
        else:
            continue
        sheet.data_validation(1, c, last, c, {**rule, "error_message": "请输入数字（金额单位：万元）"})
    sheet.freeze_panes(1, 3)
    notes = book.add_worksheet("填写说明")
    for r, line in enumerate(
        (
            "每行一个企业一个月份；月份填 YYYY-MM（如 2026-11）。",
            "金额单位为万元；留空表示未报送；工业增加值与税收可为负数，其余不得为负。",
            "从业人员为整数（人）。主要产品为文字，最多 500 字。企业名称仅供核对，不导入。",
            "文件整体导入：任一单元格有误则全部不导入，错误按单元格列出。",
        )
    ):
        notes.write_string(r, 0, line)
    notes.set_column(0, 0, 90)
    book.close()
    return out.getvalue()


def parse(data: bytes, *, today: date, enterprises: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The months of a filled template, as ``economic.save_months`` takes them; CellErrors
    naming every bad cell otherwise."""
    if len(data) > economic.MAX_BYTES:
        raise CellErrors([CellError("-", "-", len(data), f"file larger than {economic.MAX_BYTES} bytes")])
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not XLSX
        raise CellErrors([CellError("-", "-", None, f"not an XLSX workbook ({type(exc).__name__})")]) from None
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        first = next(rows, None) or ()
        columns, errors = _columns(first)
        if errors:
            raise CellErrors(errors)
        allowed = {(e["park"], e["enterprise"]): e for e in enterprises}
        out: list[dict[str, Any]] = []
        seen: dict[tuple[int, date], str] = {}
        for r, values in enumerate(rows, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            if len(out) + 1 > MAX_ROWS:
                errors.append(CellError(f"A{r}", "-", None, f"more than {MAX_ROWS} rows"))
                break
            month, key = _row(values, r, columns, allowed, today, errors)
            if key is not None:
                cell = f"{get_column_letter(columns['month'] + 1)}{r}"
                if key in seen:
                    first_at = seen[key]
                    message = f"second report of this enterprise and month (first at {first_at})"
                    errors.append(CellError(cell, "月份", f"{key[1]:%Y-%m}", message))
                    continue
                seen[key] = cell
            if month is not None:
                out.append(month)
    finally:
        book.close()
    if errors:
        raise CellErrors(errors)
    return out


def _columns(first: Sequence[Any]) -> tuple[dict[str, int], list[CellError]]:
    """Field -> column index, by the headers of the first row (with or without the unit)."""
    names = {}
    for field, title, unit, _ in FIELDS:
        names[header(title, unit)] = field
        names[title] = field
    columns: dict[str, int] = {}
    for c, v in enumerate(first):
        found = names.get(str(v).strip()) if v is not None else None
        if found is not None:
            columns.setdefault(found, c)
    errors = [
        CellError("A1", "表头", None, f"column {header(title, unit)!r} is missing")
        for field, title, unit, _ in FIELDS
        if field in REQUIRED and field not in columns
    ]
    return columns, errors


def _row(
    values: Sequence[Any],
    r: int,
    columns: Mapping[str, int],
    allowed: Mapping[tuple[str, str], Mapping[str, Any]],
    today: date,
    errors: list[CellError],
) -> tuple[dict[str, Any] | None, tuple[int, date] | None]:
    """The row's month (None if any cell is bad), and its (enterprise, month) key whenever those
    two cells are good, so a repeated month is named even in a row with other errors."""
    before = len(errors)

    def value(field: str) -> tuple[Any, str, str]:
        c = columns.get(field)
        if c is None:
            return None, "", ""
        spec = next(f for f in FIELDS if f[0] == field)
        return (values[c] if c < len(values) else None), f"{get_column_letter(c + 1)}{r}", header(spec[1], spec[2])

    park, _, _ = value("park")
    ent, ent_cell, ent_head = value("enterprise")
    target = allowed.get((str(park or "").strip(), str(ent or "").strip()))
    if target is None:
        errors.append(CellError(ent_cell, ent_head, ent, f"enterprise {park}/{ent} is not one you may report for"))
    raw_month, month_cell, month_head = value("month")
    month = _month(raw_month)
    if month is None:
        errors.append(CellError(month_cell, month_head, raw_month, "month must be YYYY-MM (or a date cell)"))
    else:
        why = economic.month_refusal(month, today)
        if why is not None:
            errors.append(CellError(month_cell, month_head, raw_month, why))
    figures: dict[str, Any] = {}
    for field, _title, _unit, signed in FIELDS[4:]:
        raw, cell, head = value(field)
        try:
            if field == "main_products":
                figures[field] = _text(raw)
            elif field == "employees":
                figures[field] = _employees(raw)
            else:
                figures[field] = _money(raw, signed=bool(signed))
        except ValueError as exc:
            errors.append(CellError(cell, head, raw, str(exc)))
    if target is None or month is None:
        return None, None
    key = (int(target["enterprise_id"]), month)
    if len(errors) > before:
        return None, key
    return {"enterprise_id": target["enterprise_id"], "park_id": target["park_id"], "month": month, **figures}, key


def _month(v: Any) -> date | None:
    if isinstance(v, datetime | date):
        return date(v.year, v.month, 1)
    m = _MONTH.match(str(v)) if v is not None else None
    if not m or not (2000 <= int(m.group(1)) <= 2100 and 1 <= int(m.group(2)) <= 12):
        return None
    return date(int(m.group(1)), int(m.group(2)), 1)


def _number(v: Any) -> float | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, bool):
        raise ValueError("is not a number")
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(str(v).replace(",", "").strip())
    except ValueError:
        raise ValueError("is not a number") from None


def _money(v: Any, *, signed: bool) -> float | None:
    f = _number(v)
    if f is None:
        return None
    if not math.isfinite(f) or abs(f) > economic.MAX_MONEY:
        raise ValueError(f"is out of range (at most {economic.MAX_MONEY:.0e} 万元)")
    if f < 0 and not signed:
        raise ValueError("must not be negative")
    return f


def _text(v: Any) -> str | None:
    text = "" if v is None else str(v).strip()
    if len(text) > MAX_PRODUCTS_CHARS:
        raise ValueError(f"is longer than {MAX_PRODUCTS_CHARS} characters")
    return text or None


def _employees(v: Any) -> int | None:
    f = _number(v)
    if f is None:
        return None
    if not (math.isfinite(f) and f == int(f) and 0 <= f <= 10_000_000):
        raise ValueError("must be a whole number from 0 to 10 000 000")
    return int(f)
