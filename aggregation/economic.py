"""Economic monthly reports per enterprise: CSV parsing (pure) and storage.

CSV header (UTF-8, comma-separated; money in 10⁴ yuan):
``park,enterprise,month,output_value,value_added,tax,fixed_asset_investment,employees``, and
optionally ``rd_expense`` (R&D spending, Article 21's science and innovation).
``month`` is ``YYYY-MM``; empty cells mean "not reported". A file with any bad row is refused
whole, every bad row named with its line number, so a half-imported month cannot mislead.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from aggregation import store as agg_store
from aggregation.conversions import first_supported_year

COLUMNS = ("park", "enterprise", "month", "output_value", "value_added", "tax", "fixed_asset_investment", "employees")
OPTIONAL = ("rd_expense",)  # files without it still import: R&D is then "not reported"
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
MAX_MONEY = 1e9  # 10⁴ yuan: 10 trillion yuan, far above any enterprise
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class Report:
    park: str
    enterprise: str
    month: date
    output_value: float | None
    value_added: float | None
    tax: float | None
    fixed_asset_investment: float | None
    employees: int | None
    rd_expense: float | None = None


class RefusedImport(ValueError):
    """The file was refused; ``errors`` names every bad line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:20]) + (f" (+{len(errors) - 20} more)" if len(errors) > 20 else ""))
        self.errors = errors


def reportable_months(today: date) -> tuple[date, date]:
    """The first and last month a report may be for: from January of the conversion tables' first
    year (aggregation.conversions.first_supported_year: before it the indicator job has no
    coefficient and would stop on that month) to the current month (``today``'s)."""
    return date(first_supported_year(), 1, 1), today.replace(day=1)


def month_refusal(month: date, today: date) -> str | None:
    """Why a report for ``month`` cannot be taken, or None."""
    first, latest = reportable_months(today)
    if first <= month <= latest:
        return None
    return (
        f"month {month:%Y-%m} is outside the supported range {first:%Y-%m} to {latest:%Y-%m}"
        f" (conversion coefficients start in {first.year}; no month after the current one)"
    )


def _money(raw: str, name: str, *, signed: bool) -> float | None:
    if not raw.strip():
        return None
    try:
        v = float(raw)
    except ValueError:
        raise ValueError(f"{name} {raw!r} is not a number") from None
    if not math.isfinite(v) or abs(v) > MAX_MONEY or (v < 0 and not signed):
        raise ValueError(f"{name} {raw!r} is out of range")
    return v


def _row(rec: dict[str, str]) -> Report:
    m = _MONTH.match(rec["month"].strip())
    if not m or not (2000 <= int(m.group(1)) <= 2100 and 1 <= int(m.group(2)) <= 12):
        raise ValueError(f"month {rec['month']!r} is not YYYY-MM between 2000 and 2100")
    emp_raw = rec["employees"].strip()
    if emp_raw and not (emp_raw.isdigit() and int(emp_raw) <= 10_000_000):
        raise ValueError(f"employees {emp_raw!r} is not a whole number up to 10 000 000")
    if not rec["park"].strip() or not rec["enterprise"].strip():
        raise ValueError("park and enterprise codes are required")
    return Report(
        park=rec["park"].strip(),
        enterprise=rec["enterprise"].strip(),
        month=date(int(m.group(1)), int(m.group(2)), 1),
        output_value=_money(rec["output_value"], "output_value", signed=False),
        value_added=_money(rec["value_added"], "value_added", signed=True),
        tax=_money(rec["tax"], "tax", signed=True),
        fixed_asset_investment=_money(rec["fixed_asset_investment"], "fixed_asset_investment", signed=False),
        employees=int(emp_raw) if emp_raw else None,
        rd_expense=_money(rec.get("rd_expense") or "", "rd_expense", signed=False),
    )


def parse(data: bytes, *, today: date) -> list[Report]:
    """Reports of a CSV file; every bad cell and every month outside :func:`reportable_months`
    (as of ``today``) is named in one :class:`RefusedImport`, and nothing is taken."""
    if len(data) > MAX_BYTES:
        raise RefusedImport([f"file is {len(data)} bytes, more than {MAX_BYTES}"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RefusedImport([f"not UTF-8: {exc}"]) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RefusedImport([f"header lacks column(s) {missing}; expected {list(COLUMNS)}"])
    reports: list[Report] = []
    errors: list[str] = []
    seen: set[tuple[str, str, date]] = set()
    for rec in reader:
        line = reader.line_num
        if len(reports) + len(errors) >= MAX_ROWS:
            errors.append(f"more than {MAX_ROWS} rows")
            break
        try:
            if None in rec.values() or None in rec:
                raise ValueError("wrong number of cells")
            r = _row(rec)
            why = month_refusal(r.month, today)
            if why is not None:
                raise ValueError(why)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        key = (r.park, r.enterprise, r.month)
        if key in seen:
            errors.append(f"line {line}: second report for {r.park}/{r.enterprise} {r.month:%Y-%m}")
        seen.add(key)
        reports.append(r)
    if errors:
        raise RefusedImport(errors)
    return reports


def store(conn: psycopg.Connection[Any], *, reports: list[Report], source: str) -> int:
    """Upsert reports; unknown park/enterprise codes refuse the whole batch, named."""
    codes = sorted({(r.park, r.enterprise) for r in reports})
    rows = conn.execute(
        "SELECT p.code, e.code, e.enterprise_id, p.park_id FROM enterprises e JOIN parks p USING (park_id)"
        " WHERE (p.code, e.code) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
        ([c[0] for c in codes], [c[1] for c in codes]),
    ).fetchall()
    ids = {(p, e): (eid, pid) for p, e, eid, pid in rows}
    unknown = [f"{p}/{e}" for p, e in codes if (p, e) not in ids]
    if unknown:
        raise RefusedImport([f"unknown enterprise(s) {unknown}"])
    save_months(
        conn,
        months=[
            {
                "enterprise_id": ids[(r.park, r.enterprise)][0],
                "park_id": ids[(r.park, r.enterprise)][1],
                "month": r.month,
                **{f: getattr(r, f) for f in FIGURES},
            }
            for r in reports
        ],
        source=source,
    )
    return len(reports)


FIGURES = ("output_value", "value_added", "tax", "fixed_asset_investment", "employees", "rd_expense")


def save_months(conn: psycopg.Connection[Any], *, months: Sequence[Mapping[str, Any]], source: str) -> None:
    """Upsert one report per mapping (enterprise_id, park_id, month, the FIGURES and optionally
    main_products, None: not reported) and queue the parks' months for the indicator job to recompute. The one writer of
    economic_monthly: the CSV import above and the API both store through it."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO economic_monthly (enterprise_id, month, output_value, value_added, tax,"
            " fixed_asset_investment, employees, rd_expense, main_products, source) VALUES (%(enterprise_id)s,"
            " %(month)s, %(output_value)s, %(value_added)s, %(tax)s, %(fixed_asset_investment)s, %(employees)s,"
            " %(rd_expense)s, %(main_products)s, %(source)s) ON CONFLICT (enterprise_id, month) DO UPDATE"
            " SET output_value = excluded.output_value, value_added = excluded.value_added, tax = excluded.tax,"
            " fixed_asset_investment = excluded.fixed_asset_investment, employees = excluded.employees,"
            " rd_expense = excluded.rd_expense, main_products = excluded.main_products, source = excluded.source,"
            " imported_at = now()",
            [{**{f: m.get(f) for f in (*FIGURES, "main_products")}, **m, "source": source} for m in months],
        )
    # the monthly indicators of these months must be recomputed
    agg_store.mark_dirty_park_days(conn, park_days=[(m["park_id"], m["month"]) for m in months])
