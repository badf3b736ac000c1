"""The platform's requests to data loggers and their answers, on the wire (HJ 212-2017)."""

from __future__ import annotations

from datetime import datetime

import pytest

from hj212 import codes, commands
from hj212.crc import crc_hex
from hj212.packet import decode_frame


def test_history_request_carries_the_range_and_asks_for_the_answers() -> None:
    frame = commands.history_request(
        qn="20260126080000123",
        st="31",
        cn="2051",
        pw="123456",
        mn="LD130133000015",
        begin=datetime(2026, 1, 26, 6, 0, 0),
        end=datetime(2026, 1, 26, 7, 59, 59),
    )
    segment = frame[6:-6].decode()
    assert segment == (
        "QN=20260126080000123;ST=31;CN=2051;PW=123456;MN=LD130133000015;Flag=5;"
        "CP=&&BeginTime=20260126060000;EndTime=20260126075959&&"
    )  # Flag=5: version 2017 (000001), A set: the logger answers 9011 and 9012
    assert frame[-6:-2].decode() == crc_hex(segment.encode())
    p = commands.parse_request(frame)
    assert p is not None and (p.cn, p.qn, dict(p.params)["EndTime"]) == ("2051", "20260126080000123", "20260126075959")


def test_real_time_data_has_no_history_command_and_ranges_run_forward() -> None:
    with pytest.raises(ValueError, match="no history extraction"):
        commands.history_request(
            qn="1" * 17,
            st="31",
            cn=codes.CN_REALTIME,
            pw="1",
            mn="M",
            begin=datetime(2026, 1, 1),
            end=datetime(2026, 1, 2),
        )
    with pytest.raises(ValueError, match="before BeginTime"):
        commands.history_request(
            qn="1" * 17,
            st="31",
            cn=codes.CN_MINUTE,
            pw="1",
            mn="M",
            begin=datetime(2026, 1, 2),
            end=datetime(2026, 1, 1),
        )


def test_time_commands_and_the_execution_result() -> None:
    q = decode_frame(commands.time_query(qn="20260126080000001", st="31", pw="123456", mn="M1"))
    assert (q.cn, q.flag, q.params) == ("1011", 5, ())
    s = decode_frame(
        commands.time_set(
            qn="20260126080000002", st="31", pw="123456", mn="M1", system_time=datetime(2026, 1, 26, 8, 0, 5)
        )
    )
    assert (s.cn, commands.param(s, "SystemTime")) == ("1012", "20260126080005")
    r = decode_frame(commands.result(qn="20260126080000002", pw="123456", mn="M1", exe_rtn=commands.EXE_NO_DATA))
    # 9012 on ST=91 without Flag A, the request's QN in header and CP, ExeRtn=100 "no data"
    assert (r.st, r.cn, r.flag, r.qn, commands.param(r, "QN"), commands.exe_rtn(r)) == (
        "91",
        "9012",
        4,
        "20260126080000002",
        "20260126080000002",
        100,
    )


def test_a_data_upload_is_not_a_request() -> None:
    from hj212.encode import Pollutant, data_packets

    frame = data_packets(
        qn="20260126080000001",
        st="31",
        cn="2051",
        pw="1",
        mn="M",
        data_time=datetime(2026, 1, 1),
        pollutants=[Pollutant("a21026", {"Avg": 1.0})],
    )[0]
    assert commands.parse_request(frame) is None
    assert commands.parse_request(b"##0000garbage") is None
