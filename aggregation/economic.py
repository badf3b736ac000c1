"""Economic monthly reports per enterprise: CSV parsing (pure) and storage.

CSV header (UTF-8, comma-separated; money in 10⁴ yuan):
``park,enterprise,month,output_value,value_added,tax,fixed_asset_investment,employees``
``month`` is ``YYYY-MM``; empty cells mean "not reported". A file with any bad row is refused
whole, every bad row named with its line number, so a half-imported month cannot mislead.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

COLUMNS = ("park", "enterprise", "month", "output_value", "value_added", "tax", "fixed_asset_investment", "employees")
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


class RefusedImport(ValueError):
    """The file was refused; ``errors`` names every bad line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:20]) + (f" (+{len(errors) - 20} more)" if len(errors) > 20 else ""))
        self.errors = errors


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
    )


def parse(data: bytes) -> list[Report]:
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
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO economic_monthly (enterprise_id, month, output_value, value_added, tax,"
            " fixed_asset_investment, employees, source) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (enterprise_id, month) DO UPDATE SET output_value = EXCLUDED.output_value,"
            " value_added = EXCLUDED.value_added, tax = EXCLUDED.tax,"
            " fixed_asset_investment = EXCLUDED.fixed_asset_investment,"
            " employees = EXCLUDED.employees, source = EXCLUDED.source, imported_at = now()",
            [
                (
                    ids[(r.park, r.enterprise)][0],
                    r.month,
                    r.output_value,
                    r.value_added,
                    r.tax,
                    r.fixed_asset_investment,
                    r.employees,
                    source,
                )
                for r in reports
            ],
        )
        # the monthly indicators of these months must be recomputed
        cur.executemany(
            "INSERT INTO aggregation_dirty_days (park_id, day) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            sorted({(ids[(r.park, r.enterprise)][1], r.month) for r in reports}),
        )
    return len(reports)
