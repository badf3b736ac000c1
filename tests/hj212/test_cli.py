from __future__ import annotations

import io
import json
import subprocess
import sys

from ingest.hj212.cli import MAX_LINE, decode_stream
from tests.support.hj212 import APPENDIX, data_frame


def _run(data: bytes) -> tuple[int, list[dict]]:
    out = io.StringIO()
    status = decode_stream(io.BytesIO(data), out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_object_per_packet() -> None:
    good = data_frame("2011", "DataTime=20260126080000;a21026-Rtd=35.2,a21026-Flag=N")
    status, rows = _run(APPENDIX + b"\n" + good.rstrip(b"\r\n") + b"\n\n")
    assert status == 0 and len(rows) == 2
    assert rows[0]["valid"] is True and rows[0]["crc_ok"] is True and rows[0]["error"] is None
    assert rows[0]["cn"] == "1062" and rows[0]["mn"] == "010000A8900016F000169DC0"
    assert rows[0]["params"] == {"RtdInterval": "30"}
    assert rows[1]["readings"] == [
        {"code": "a21026", "raw_code": "a21026", "suffix": "Rtd", "value": 35.2, "flag": "N"}
    ]
    assert rows[1]["data_time"] == "2026-01-26T08:00:00" and rows[1]["version"] == "2017"


def test_specific_errors_and_crc_state() -> None:
    bad_crc = APPENDIX.replace(b"1C80", b"1C81")
    bad_len = APPENDIX.replace(b"##0101", b"##0102")
    bad_time = data_frame("2011", "DataTime=20261301080000;a21026-Rtd=1")
    bad_value = data_frame("2011", "DataTime=20260126080000;a21026-Rtd=x;a21002-Rtd=2")
    status, rows = _run(b"\n".join([bad_crc, bad_len, bad_time, bad_value]))
    assert status == 1
    assert [(r["valid"], r["crc_ok"], r["error"]["reason"]) for r in rows] == [
        (False, False, "bad_crc"),
        (False, None, "bad_length"),
        (False, True, "bad_datatime"),
        (False, True, "bad_value"),
    ]
    assert "'x'" in rows[3]["error"]["detail"] and rows[3]["readings"][0]["code"] == "a21002"


def test_overlong_line_is_reported_not_read_whole() -> None:
    status, rows = _run(b"#" * (MAX_LINE * 3) + b"\n" + APPENDIX)
    assert status == 1
    assert [r["valid"] for r in rows] == [False, True]
    assert rows[0]["error"]["reason"] == "too_long"


def test_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "smartpark.cli", "hj212", "decode"], input=APPENDIX, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["qn"] == "20160801085857223"
