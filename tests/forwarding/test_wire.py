"""The frames a target receives: the logger's CP under the target's header, split when too long."""

from __future__ import annotations

from forwarding.wire import frames, render_cp
from hj212.encode import Pollutant
from hj212.packet import decode_frame
from tests.support.hj212 import data_frame, upload


def test_the_cp_keeps_values_and_flags_as_received_and_writes_2005_codes_as_2017() -> None:
    # HJ 212-2017 appendix B: 2005 code 02 is SO2 a21026, 01 is smoke dust a34013
    packet = decode_frame(
        data_frame(cp="DataTime=20260126080000;02-Rtd=35.20,02-Flag=N;01-Rtd=12,01-Flag=D,01-EFlag=A01")
    )
    assert (
        render_cp(packet)
        == "DataTime=20260126080000;a21026-Rtd=35.2,a21026-Flag=N;a34013-Rtd=12,a34013-EFlag=A01,a34013-Flag=D"
    )


def test_the_header_is_the_targets_mn_password_and_version_with_a_reply_asked() -> None:
    cp = "DataTime=20260126080000;a21026-Rtd=35.2,a21026-Flag=N"
    (frame,) = frames(cp=cp, qn="20260126080000123", st="31", cn="2051", mn="TARGETMN01", pw="secret",
                      version="2025", reply=True)  # fmt: skip
    p = decode_frame(frame)
    assert (p.mn, p.pw, p.cn, p.qn, p.version, p.wants_reply) == (
        "TARGETMN01",
        "secret",
        "2051",
        "20260126080000123",
        "2025",
        True,
    )
    # Flag: version 000010 in bits 7..2 and A set: 0b1001 = 9
    assert p.flag == 9
    assert [(r.code, r.suffix, r.value, r.flag) for r in p.readings] == [("a21026", "Rtd", 35.2, "N")]


def test_a_long_cp_is_split_into_parts_that_each_repeat_datatime() -> None:
    pollutants = [Pollutant(f"a9{i:04d}", {"Avg": 1000.0 + i, "Min": 1.5, "Max": 2000.25}) for i in range(40)]
    whole = decode_frame(upload(pollutants, cn="2051", max_segment=100_000)[0])
    parts = frames(cp=render_cp(whole), qn="20260126080000123", st="31", cn="2051", mn="M1", pw="p",
                   version="2017", reply=True)  # fmt: skip
    decoded = [decode_frame(f) for f in parts]
    assert len(parts) > 1
    assert all(len(f) <= 1024 + 16 for f in parts)  # segment ≤ 1024 characters + ## length CRC CRLF
    assert [(d.pnum, d.pno) for d in decoded] == [(len(parts), i) for i in range(1, len(parts) + 1)]
    assert all(d.data_time == whole.data_time and d.qn == "20260126080000123" for d in decoded)
    got = sorted((r.code, r.suffix, r.value) for d in decoded for r in d.readings)
    assert got == sorted((r.code, r.suffix, r.value) for r in whole.readings)


def test_a_reply_read_quickly_names_what_the_full_parse_names() -> None:
    from forwarding.link import Reply, quick_reply
    from hj212.commands import result
    from hj212.encode import data_reply, segment
    from hj212.frame import encode_frame, parse_frame

    def quick(frame: bytes) -> Reply | None:
        return quick_reply(parse_frame(frame).segment)

    qn = "20260126080000123"
    assert quick(data_reply(qn=qn, pw="p", mn="UP1")) == Reply("9014", ("UP1", qn), None)
    # a 9011 names its packet by the QN in CP (the 2005 way) and says whether it was taken
    seg = segment(qn=None, st="91", cn="9011", pw="p", mn="UP1", flag=4, cp=f"QN={qn};QnRtn=3")
    assert quick(encode_frame(seg)) == Reply("9011", ("UP1", qn), "3")
    # anything else is not a reply
    assert quick(result(qn=qn, pw="p", mn="UP1", exe_rtn=1)) is None
    frame = frames(
        cp="DataTime=20260126080000;a21026-Rtd=1",
        qn=qn,
        st="31",
        cn="2011",
        mn="UP1",
        pw="p",
        version="2017",
        reply=True,
    )[0]
    assert quick(frame) is None
