"""`smartpark aqi`: one JSON object on stdout, specific errors on stderr."""

from __future__ import annotations

import json
import sys

import pytest

from smartpark.cli import main

EXAMPLE = ["PM25=80", "PM10=120", "SO2=20", "NO2=45", "CO=1.2", "O3_8H=130", "O3_1H=170"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    saved = sys.argv[:]  # main() rewrites sys.argv
    try:
        code = main(["aqi", *argv])
    finally:
        sys.argv = saved
    out, err = capsys.readouterr()
    return code, out, err


def test_worked_example_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *EXAMPLE, "--edition", "2012")
    assert code == 0 and out.count("\n") == 1
    doc = json.loads(out)
    assert doc["aqi"] == 107 and doc["category"] == "轻度污染" and doc["level"] == 3
    assert doc["primary_pollutants"] == ["PM25"]
    assert doc["iaqi"] == {"PM25": 107, "PM10": 85, "SO2": 20, "NO2": 57, "CO": 30, "O3_8H": 75, "O3_1H": 63}


def test_edition_follows_the_date(capsys: pytest.CaptureFixture[str]) -> None:
    _, before, _ = run(capsys, "PM10=120", "--date", "2026-02-28")
    _, after, _ = run(capsys, "PM10=120", "--date", "2026-03-01")
    assert json.loads(before)["iaqi"]["PM10"] == 85
    assert json.loads(after)["iaqi"]["PM10"] == 100
    assert json.loads(after)["edition"] == "HJ 633-2026"


def test_hourly_and_exact_decimal_input(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "CO=2.2", "--edition", "2012")
    assert json.loads(out)["iaqi"]["CO"] == 55
    _, out, _ = run(capsys, "SO2=900", "SO2_24H=400", "--hourly", "--edition", "2012")
    doc = json.loads(out)
    assert doc["iaqi"]["SO2"] == 139 and doc["substituted"] == ["SO2"] and doc["hourly"] is True


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("PM25=abc", "bad concentration 'abc' for PM25"),
        ("PM25=-3", "negative concentration"),
        ("XYZ=3", "bad argument 'XYZ=3'"),
        ("PM25", "bad argument 'PM25'"),
        ("PM25=1e9", "is above"),
        ("PM25=nan", "bad concentration 'nan'"),
    ],
)
def test_bad_input_named_on_stderr(capsys: pytest.CaptureFixture[str], arg: str, message: str) -> None:
    code, out, err = run(capsys, arg)
    assert code == 2 and out == ""
    assert message in err


def test_both_editions_answer_with_their_own_rules(capsys: pytest.CaptureFixture[str]) -> None:
    six = ["PM25=80.5", "PM10=40", "SO2=10", "NO2=20", "CO=0.4", "O3_8H=60"]
    _, out, _ = run(capsys, *six, "--edition", "2026")
    doc = json.loads(out)
    # GB/T 8170: 80.5 -> 80; 2026 PM2.5 60-115 -> 100-150: 100 + 50 × 20 / 55 = 118.2 -> 119
    assert doc["aqi"] == 119 and doc["edition"] == "HJ 633-2026" and "exceeding" not in doc
    _, out, _ = run(capsys, *six, "--date", "2026-02-28")
    doc = json.loads(out)
    # 2012: 75-115 -> 100-150: 100 + 50 × 5.5 / 40 = 106.9 -> 107, PM2.5 exceeding (IAQI > 100)
    assert doc["aqi"] == 107 and doc["exceeding"] == ["PM25"]
    _, out, _ = run(capsys, "PM10=120", "--date", "2026-03-01")
    assert json.loads(out)["aqi"] == "NA"  # five items missing, PM10 IAQI 100 is not above 100
