"""Economic monthly reports: CSV checks (pure) and `smartpark economic import` on the database."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from aggregation.conversions import first_supported_year
from aggregation.economic import RefusedImport, month_refusal, parse, reportable_months
from smartpark.cli import main

TODAY = date(2026, 12, 6)
HEADER = "park,enterprise,month,output_value,value_added,tax,fixed_asset_investment,employees\n"


def test_parse_good_rows_and_empty_cells() -> None:
    (r,) = parse((HEADER + "demo,e001,2026-05,1200.5,300,,80,42\n").encode(), today=TODAY)
    assert (r.park, r.enterprise, r.month) == ("demo", "e001", date(2026, 5, 1))
    assert r.output_value == 1200.5 and r.tax is None and r.employees == 42


def test_rd_expense_is_an_optional_column() -> None:
    """Article 21 (science and innovation): R&D spending, 10⁴ yuan, when the file has it."""
    (r,) = parse(
        (HEADER.rstrip("\n") + ",rd_expense\n" + "demo,e001,2026-05,1200,300,,80,42,36.5\n").encode(), today=TODAY
    )
    assert r.rd_expense == 36.5
    (old,) = parse((HEADER + "demo,e001,2026-05,1200,300,,80,42\n").encode(), today=TODAY)
    assert old.rd_expense is None
    with pytest.raises(RefusedImport, match="rd_expense '-1' is out of range"):
        parse((HEADER.rstrip("\n") + ",rd_expense\n" + "demo,e001,2026-05,1,1,1,1,1,-1\n").encode(), today=TODAY)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("demo,e001,2026-13,1,1,1,1,1", "line 2: month '2026-13'"),
        ("demo,e001,2026-05,abc,1,1,1,1", "line 2: output_value 'abc' is not a number"),
        ("demo,e001,2026-05,-5,1,1,1,1", "output_value '-5' is out of range"),
        ("demo,e001,2026-05,1,1,1,1,4.5", "employees '4.5'"),
        ("demo,e001,2026-05,inf,1,1,1,1", "output_value 'inf' is out of range"),
        ("demo,e001,2026-05,1,1", "wrong number of cells"),
        (",e001,2026-05,1,1,1,1,1", "codes are required"),
    ],
)
def test_bad_rows_refuse_the_file_naming_the_line(row: str, message: str) -> None:
    with pytest.raises(RefusedImport) as exc:
        parse((HEADER + row + "\n").encode(), today=TODAY)
    assert any(message in e for e in exc.value.errors), exc.value.errors


def test_duplicates_and_header_are_checked() -> None:
    with pytest.raises(RefusedImport, match="second report for demo/e001 2026-05"):
        parse((HEADER + "demo,e001,2026-05,1,1,1,1,1\ndemo,e001,2026-05,2,2,2,2,2\n").encode(), today=TODAY)
    with pytest.raises(RefusedImport, match="lacks column"):
        parse(b"park,enterprise,month\n", today=TODAY)


def _main(*argv: str) -> int:
    saved = sys.argv[:]
    try:
        return main(list(argv))
    finally:
        sys.argv = saved


@pytest.mark.integration
def test_import_command_stores_and_updates(
    db: psycopg.Connection[Any], park: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = park["parks"][0]["code"]
    f = tmp_path / "econ.csv"
    f.write_text(HEADER + f"{code},e1,2026-05,1000,250,40,300,120\n{code},e2,2026-05,500,,,,\n", encoding="utf-8")
    assert _main("economic", "import", str(f)) == 0
    assert json.loads(capsys.readouterr().out) == {"file": str(f), "reports": 2, "stored": 2}
    f.write_text(HEADER + f"{code},e1,2026-05,1100,260,41,300,121\n", encoding="utf-8")
    assert _main("economic", "import", str(f)) == 0
    rows = db.execute(
        "SELECT e.code, m.output_value, m.employees, m.source FROM economic_monthly m"
        " JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id) WHERE p.code = %s ORDER BY 1",
        (code,),
    ).fetchall()
    assert rows == [("e1", 1100.0, 121, "econ.csv"), ("e2", 500.0, None, "econ.csv")]


@pytest.mark.integration
def test_import_refuses_unknown_enterprise_whole(
    db: psycopg.Connection[Any], park: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = park["parks"][0]["code"]
    f = tmp_path / "econ.csv"
    f.write_text(HEADER + f"{code},e1,2026-06,1,1,1,1,1\n{code},nope,2026-06,1,1,1,1,1\n", encoding="utf-8")
    assert _main("economic", "import", str(f)) == 2
    assert f"unknown enterprise(s) ['{code}/nope']" in capsys.readouterr().err
    stored = db.execute(
        "SELECT count(*) FROM economic_monthly WHERE month = '2026-06-01'"
        " AND enterprise_id IN (SELECT enterprise_id FROM enterprises e JOIN parks p USING (park_id)"
        " WHERE p.code = %s)",
        (code,),
    ).fetchone()
    assert stored == (0,)
    assert _main("economic", "import", str(tmp_path / "missing.csv")) == 2
    assert "cannot read" in capsys.readouterr().err


def test_reportable_months_start_with_the_conversion_tables() -> None:
    """Issue 14, H6: a report for 2020-01 stopped the indicator job of every park. The national
    CO2 factor of electricity (MEE/NBS) is published from 2021, and the equal-value coefficient
    for data of year Y is year Y-1's, published from 2020: 2021 is the first year both exist."""
    assert first_supported_year() == 2021
    today = date(2026, 12, 6)
    assert reportable_months(today) == (date(2021, 1, 1), date(2026, 12, 1))
    assert month_refusal(date(2021, 1, 1), today) is None and month_refusal(date(2026, 12, 1), today) is None
    assert month_refusal(date(2020, 12, 1), today) == (
        "month 2020-12 is outside the supported range 2021-01 to 2026-12"
        " (conversion coefficients start in 2021; no month after the current one)"
    )
    assert "2027-01" in (month_refusal(date(2027, 1, 1), today) or "")


def test_an_import_with_a_month_outside_the_supported_range_is_refused_whole() -> None:
    # The same rule as the API's 422 (issue H6): a month the indicator job cannot convert would
    # stop its park's statistics, so the file is refused, naming the line and the range.
    with pytest.raises(RefusedImport) as exc:
        parse((HEADER + "demo,e001,2026-05,1,1,1,1,1\ndemo,e001,2020-01,1,1,1,1,1\n").encode(), today=TODAY)
    assert exc.value.errors == [
        f"line 3: month 2020-01 is outside the supported range {first_supported_year()}-01 to 2026-12"
        f" (conversion coefficients start in {first_supported_year()}; no month after the current one)"
    ]
