from __future__ import annotations

from datetime import datetime

import pytest

from hj212 import encode
from hj212.encode import Pollutant, data_reply, request_reply
from hj212.packet import decode_frame
from hj212.reassembly import Reassembler
from tests.support.hj212 import MN, PW, upload


def test_data_reply_9014_echoes_qn() -> None:
    p = decode_frame(data_reply(qn="20260126080000123", pw=PW, mn=MN))
    assert (p.qn, p.st, p.cn, p.pw, p.mn, p.flag) == ("20260126080000123", "91", "9014", PW, MN, 4)
    assert p.params == () and p.readings == ()


def test_request_reply_9011_carries_qnrtn() -> None:
    p = decode_frame(request_reply(qn="20260126080000123", pw=PW, mn=MN, qn_rtn=3))
    assert (p.cn, p.params) == ("9011", (("QnRtn", "3"),))


def test_reply_in_the_senders_version() -> None:
    assert decode_frame(data_reply(qn="20260126080000123", pw=PW, mn=MN, version="2025")).version == "2025"
    with pytest.raises(ValueError, match="'1999'"):
        encode.flag_of("1999", reply=False)


@pytest.mark.parametrize(
    ("value", "text"),
    [(35.2, "35.2"), (7.0, "7"), (-0.0, "0"), (1e-7, "0.0000001"), (1e-13, "0"), (12345678.25, "12345678.25")],
)
def test_value_format(value: float, text: str) -> None:
    assert encode.format_value(value) == text


def test_value_format_refuses_non_finite() -> None:
    with pytest.raises(ValueError, match="inf"):
        encode.format_value(float("inf"))


def test_data_packet_round_trip() -> None:
    frames = upload([Pollutant("a21026", {"Rtd": 35.2, "ZsRtd": 40.1}), Pollutant("a19001", {"Rtd": 10.5}, "M")])
    assert len(frames) == 1
    p = decode_frame(frames[0])
    assert p.flag == 5 and p.data_time == datetime(2026, 1, 26, 8, 0)
    assert [(r.code, r.suffix, r.value, r.flag) for r in p.readings] == [
        ("a21026", "Rtd", 35.2, "N"),
        ("a21026", "ZsRtd", 40.1, "N"),
        ("a19001", "Rtd", 10.5, "M"),
    ]


def _many(n: int) -> list[Pollutant]:
    return [Pollutant(f"a{i:05d}", {"Rtd": i + 0.5, "Avg": i, "Max": i + 1}) for i in range(n)]


def _upload(qn: str = "20260126080000123", *, minute: int = 0) -> list[bytes]:
    """Minute data of 60 pollutants: too long for one packet."""
    return upload(_many(60), cn="2051", minute=minute, qn=qn)


def test_long_uploads_are_split_and_reassembled_in_any_order() -> None:
    frames = _upload("20260126080000123", minute=0)
    packets = [decode_frame(f) for f in frames]
    assert len(packets) > 1
    assert all(len(f) - 12 <= 1024 for f in frames)
    assert all(p.is_split and p.pnum == len(frames) for p in packets)
    assert [p.pno for p in packets] == list(range(1, len(frames) + 1))
    r = Reassembler()
    done = []
    for p in reversed(packets):
        whole, expired = r.add(p)
        assert expired == []
        if whole is not None:
            done.append(whole)
    assert len(done) == 1 and len(r) == 0
    whole = done[0]
    assert not whole.is_split and whole.wants_reply and whole.pno is None
    assert len(whole.readings) == 180
    assert [r.code for r in whole.readings[::3]] == [f"a{i:05d}" for i in range(60)]


def test_a_lost_part_is_reported_when_it_expires() -> None:
    now = [0.0]
    frames = _upload("20260126080000123", minute=0)
    r = Reassembler(max_age_s=60, clock=lambda: now[0])
    assert r.add(decode_frame(frames[0])) == (None, [])
    now[0] = 61.0
    whole, expired = r.add(decode_frame(frames[1]))
    assert whole is None
    assert len(expired) == 1 and f"1 of {len(frames)} parts" in expired[0].detail
    assert len(r.flush()) == 1


def test_pending_uploads_are_bounded() -> None:
    r = Reassembler(max_pending=2)
    expired_total = []
    for qn in ("20260126080000001", "20260126080000002", "20260126080000003"):
        frames = _upload(qn, minute=0)
        _, expired = r.add(decode_frame(frames[0]))
        expired_total += expired
    assert len(r) == 2
    assert [e.qn for e in expired_total] == ["20260126080000001"]


def test_parts_with_different_datatime_are_flagged() -> None:
    a = _upload("20260126080000123", minute=0)
    b = _upload("20260126080000123", minute=1)
    r = Reassembler()
    r.add(decode_frame(a[0]))
    whole = None
    for f in b[1:]:
        whole, _ = r.add(decode_frame(f))
    assert whole is not None
    assert [p.reason for p in whole.problems] == ["bad_split"]
