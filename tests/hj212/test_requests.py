"""Outstanding requests to data loggers: bounded per logger, timed out, ended by 9011/9012."""

from __future__ import annotations

from datetime import datetime

import pytest

from hj212 import codes, commands
from hj212.encode import request_reply
from hj212.packet import decode_frame
from ingest.hj212.requests import Requests

NOW = datetime(2026, 1, 26, 8, 0, 0)


def test_at_most_per_logger_requests_each_logger_apart() -> None:
    r = Requests(per_logger=2, timeout_s=60)
    a1 = r.open("A", "2051", now_local=NOW)
    a2 = r.open("A", "1011", now_local=NOW)
    assert a1 is not None and a2 is not None and a1.qn != a2.qn  # QN unique per logger
    assert r.open("A", "2051", now_local=NOW) is None  # the third is refused: the limit holds at 2
    assert r.open("B", "2051", now_local=NOW) is not None  # another logger is not blocked
    assert (r.outstanding("A"), r.outstanding("B")) == (2, 1)


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="per_logger"):
        Requests(per_logger=0)
    with pytest.raises(ValueError, match="timeout_s"):
        Requests(timeout_s=0)


def test_a_9012_finishes_the_request_its_cp_names_and_a_refusing_9011_too() -> None:
    r = Requests()
    req = r.open("A", "2051", now_local=NOW)
    assert req is not None
    ready = decode_frame(request_reply(qn=req.qn, pw="p", mn="A", qn_rtn=codes.QN_READY))
    assert r.answer(ready) is None and req.qn_rtn == 1 and r.outstanding("A") == 1
    done = r.answer(decode_frame(commands.result(qn=req.qn, pw="p", mn="A", exe_rtn=commands.EXE_OK)))
    assert done is req and req.ok and r.outstanding("A") == 0
    other = r.open("A", "1012", now_local=NOW)
    assert other is not None
    refused = r.answer(decode_frame(request_reply(qn=other.qn, pw="p", mn="A", qn_rtn=codes.QN_BAD_CN)))
    assert refused is other and (other.outcome, other.ok) == ("refused", False)


def test_an_answer_from_another_mn_or_qn_finishes_nothing() -> None:
    r = Requests()
    req = r.open("A", "2051", now_local=NOW)
    assert req is not None
    assert r.answer(decode_frame(commands.result(qn=req.qn, pw="p", mn="B", exe_rtn=1))) is None
    assert r.answer(decode_frame(commands.result(qn="20990101000000000", pw="p", mn="A", exe_rtn=1))) is None
    assert r.outstanding("A") == 1


def test_a_silent_logger_is_given_up_at_the_timeout_and_a_closed_one_at_once() -> None:
    now = [100.0]
    r = Requests(timeout_s=60, clock=lambda: now[0])
    req = r.open("A", "2051", now_local=NOW)
    now[0] += 59.9
    assert r.expire() == []
    now[0] += 0.1  # exactly the timeout
    assert r.expire() == [req] and req is not None and req.outcome == "timed_out"
    assert r.free("A")
    b = r.open("B", "1011", now_local=NOW)
    assert r.drop("B") == [b] and b is not None and b.outcome == "disconnected" and r.free("B")


def test_the_settings_of_the_requests_hold_their_bounds() -> None:
    from pydantic import ValidationError

    from smartpark.settings import Hj212Settings

    s = Hj212Settings(requests_per_logger=16, request_timeout_s=3600, recovery_every_s=0, clock_every_s=0)
    assert (s.requests_per_logger, s.recovery_every_s, s.clock_every_s) == (16, 0, 0)  # 0: that loop is off
    for bad in (
        {"requests_per_logger": 0},
        {"requests_per_logger": 17},
        {"request_timeout_s": 0},
        {"recovery_lookback_h": 0},
        {"max_clock_skew_s": 0},
        {"recovery_max_range_h": 24 * 31 + 1},
    ):
        with pytest.raises(ValidationError):
            Hj212Settings(**bad)
