"""The platform's requests to a data logger and their answers (HJ 212-2017 command interaction).

A request goes down with Flag A; the logger answers 9011 (QnRtn, HJ 212-2017 request-reply
table), then whatever the command yields (data uploads carrying the request's QN, or a 1011
packet with SystemTime), then 9012 (ExeRtn, the execution-result table). Commands used here
(HJ 212-2017 command-code table; table number in the published text: verify):

- 1011 提取现场机时间 (time query): the logger answers ``SystemTime=YYYYMMDDhhmmss``;
- 1012 设置现场机时间 (time setting): ``SystemTime`` in the request, the logger sets its clock;
- 2051 / 2061 / 2031 取污染物分钟 / 小时 / 日历史数据 (history extraction) with
  ``BeginTime`` and ``EndTime`` (both included); real-time data (2011) has no history command.

Times on the wire are the logger's local time without an offset, as DataTime is.
"""

from __future__ import annotations

from datetime import datetime

from hj212 import codes
from hj212.encode import flag_of, segment
from hj212.errors import Hj212Error
from hj212.frame import encode_frame, parse_frame
from hj212.packet import Packet, parse_segment

CN_TIME_QUERY = "1011"
CN_TIME_SET = "1012"
HISTORY_CNS = (codes.CN_MINUTE, codes.CN_HOURLY, codes.CN_DAILY)
# ExeRtn of a 9012 (HJ 212-2017 execution-result table): 1 done, 2 failed, 100 no data
EXE_OK = 1
EXE_FAILED = 2
EXE_NO_DATA = 100
STAMP = "%Y%m%d%H%M%S"


def stamp(when: datetime) -> str:
    return when.strftime(STAMP)


def request(*, qn: str, st: str, cn: str, pw: str, mn: str, cp: str, version: str = "2017") -> bytes:
    """A platform request that asks for the 9011/9012 answers (Flag A)."""
    flag = flag_of(version, reply=True)
    return encode_frame(segment(qn=qn, st=st, cn=cn, pw=pw, mn=mn, flag=flag, cp=cp))


def history_request(
    *, qn: str, st: str, cn: str, pw: str, mn: str, begin: datetime, end: datetime, version: str = "2017"
) -> bytes:
    if cn not in HISTORY_CNS:
        raise ValueError(f"CN {cn!r} has no history extraction; one of {HISTORY_CNS}")
    if end < begin:
        raise ValueError(f"EndTime {end} is before BeginTime {begin}")
    cp = f"BeginTime={stamp(begin)};EndTime={stamp(end)}"
    return request(qn=qn, st=st, cn=cn, pw=pw, mn=mn, cp=cp, version=version)


def time_query(*, qn: str, st: str, pw: str, mn: str, version: str = "2017") -> bytes:
    return request(qn=qn, st=st, cn=CN_TIME_QUERY, pw=pw, mn=mn, cp="", version=version)


def time_set(*, qn: str, st: str, pw: str, mn: str, system_time: datetime, version: str = "2017") -> bytes:
    return request(qn=qn, st=st, cn=CN_TIME_SET, pw=pw, mn=mn, cp=f"SystemTime={stamp(system_time)}", version=version)


def result(*, qn: str, pw: str, mn: str, exe_rtn: int, version: str = "2017") -> bytes:
    """9012: the result of executing a request (its QN inside CP, as the standard's example)."""
    cp = f"QN={qn};ExeRtn={exe_rtn}"
    flag = flag_of(version, reply=False)
    return encode_frame(segment(qn=qn, st=codes.ST_SYSTEM, cn=codes.CN_RESULT, pw=pw, mn=mn, flag=flag, cp=cp))


def parse_request(frame: bytes) -> Packet | None:
    """A history extraction request (a data CN with BeginTime/EndTime and no DataTime), which
    :func:`hj212.packet.parse_segment` reads as data missing its DataTime; None when not one."""
    try:
        seg = parse_frame(frame).segment
    except Hj212Error:
        return None
    cp_at = seg.find("CP=&&")
    if cp_at < 0 or "BeginTime=" not in seg[cp_at:] or "DataTime=" in seg[cp_at:]:
        return None
    begin = seg[cp_at:].split("BeginTime=", 1)[1][:14]
    try:
        return parse_segment(f"{seg[: cp_at + 5]}DataTime={begin};{seg[cp_at + 5 :]}")
    except Hj212Error:
        return None


def param(packet: Packet, key: str) -> str | None:
    for k, v in packet.params:
        if k == key:
            return v
    return None


def exe_rtn(packet: Packet) -> int | None:
    """ExeRtn of a 9012 (None when absent or not a number)."""
    raw = param(packet, "ExeRtn")
    return int(raw) if raw is not None and raw.isdigit() else None


def qn_rtn(packet: Packet) -> int | None:
    raw = param(packet, "QnRtn")
    return int(raw) if raw is not None and raw.isdigit() else None
