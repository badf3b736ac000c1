"""A simulated data logger answers the platform's requests from its own history and clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from device_sim.hj212_answers import LoggerClock, LoggerHistory, answer
from hj212 import commands
from hj212.packet import decode_frame

SH = ZoneInfo("Asia/Shanghai")
T0 = int(datetime(2026, 1, 26, 6, 0, tzinfo=SH).timestamp() * 1000)
QN = "20260126080000001"


def _history() -> LoggerHistory:
    h = LoggerHistory()
    for i in range(10):
        h.add("2051", T0 + i * 60_000, {"stack.so2_mgm3": 20.0 + i})
    h.add("2061", T0, {"stack.so2_mgm3": 24.5})
    return h


def _answer(request: bytes, history: LoggerHistory, clock: LoggerClock) -> list[bytes]:
    p = commands.parse_request(request)
    packet = p if p is not None else decode_frame(request)
    return answer(packet, mn="M1", pw="123456", tz=SH, history=history, clock=clock, version="2017")


def test_history_extraction_answers_9011_the_range_then_9012() -> None:
    req = commands.history_request(
        qn=QN,
        st="31",
        cn="2051",
        pw="123456",
        mn="M1",
        begin=datetime(2026, 1, 26, 6, 2),
        end=datetime(2026, 1, 26, 6, 4, 59),
    )
    out = [decode_frame(f) for f in _answer(req, _history(), LoggerClock())]
    assert [p.cn for p in out] == ["9011", "2051", "2051", "2051", "9012"]
    assert {p.qn for p in out[1:4]} == {QN}  # the data carry the request's QN
    assert [p.data_time for p in out[1:4]] == [datetime(2026, 1, 26, 6, m) for m in (2, 3, 4)]
    assert [(r.code, r.suffix, r.value) for r in out[1].readings] == [("a21026", "Avg", 22.0)]
    assert (commands.exe_rtn(out[-1]), out[1].wants_reply) == (commands.EXE_OK, False)


def test_an_empty_range_ends_with_no_data_and_unknown_commands_are_refused() -> None:
    req = commands.history_request(
        qn=QN, st="31", cn="2031", pw="123456", mn="M1", begin=datetime(2026, 1, 1), end=datetime(2026, 1, 2)
    )
    out = [decode_frame(f) for f in _answer(req, _history(), LoggerClock())]
    assert [(p.cn, commands.exe_rtn(p)) for p in out] == [("9011", None), ("9012", 100)]
    other = commands.request(qn=QN, st="31", cn="3011", pw="123456", mn="M1", cp="")
    assert [commands.qn_rtn(decode_frame(f)) for f in _answer(other, _history(), LoggerClock())] == [8]


def test_requests_for_another_mn_or_with_a_wrong_password_get_nothing() -> None:
    for mn, pw in (("M2", "123456"), ("M1", "000000")):
        req = commands.time_query(qn=QN, st="31", pw=pw, mn=mn)
        assert _answer(req, _history(), LoggerClock()) == []


def test_time_query_and_setting_apply_to_the_loggers_clock() -> None:
    true_now = datetime(2026, 1, 26, 8, 0, 0, tzinfo=SH).timestamp()
    clock = LoggerClock(skew_s=-95.0, wall=lambda: true_now)  # 95 s slow
    out = [
        decode_frame(f) for f in _answer(commands.time_query(qn=QN, st="31", pw="123456", mn="M1"), _history(), clock)
    ]
    assert [p.cn for p in out] == ["9011", "1011", "9012"]
    assert commands.param(out[1], "SystemTime") == "20260126075825"
    setting = commands.time_set(qn=QN, st="31", pw="123456", mn="M1", system_time=datetime(2026, 1, 26, 8, 0, 0))
    out = [decode_frame(f) for f in _answer(setting, _history(), clock)]
    assert [(p.cn, commands.exe_rtn(p)) for p in out] == [("9011", None), ("9012", 1)]
    assert clock.skew_s == 0.0 and clock.now(SH) == datetime(2026, 1, 26, 8, 0, 0)


def test_the_history_is_bounded() -> None:
    h = LoggerHistory(max_uploads=3)
    for i in range(5):
        h.add("2051", i, {"stack.so2_mgm3": 1.0})
    assert len(h) == 3 and [ts for ts, _ in h.between("2051", 0, 10)] == [2, 3, 4]
    with pytest.raises(ValueError, match="max_uploads"):
        LoggerHistory(max_uploads=0)
