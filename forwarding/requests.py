"""What an upstream platform may ask of the forwarder, and the answers HJ 212-2017 prescribes.

- History extraction (CN 2051 minute, 2061 hourly, 2031 daily with BeginTime/EndTime; the MN
  names the outlet): 9011 QnRtn=1, the stored packets of the range queued again (marked
  ``history`` in the outbox, sent after what is already queued), then 9012 ExeRtn=1, or
  ExeRtn=100 when nothing is stored for the range.
- Time query (CN 1011): 9011, the platform's time as SystemTime, 9012.
- Anything else: 9011 QnRtn=8 (CN not supported). Requests for an MN the target does not know
  for any outlet get QnRtn=4 once the outbox finds none (the query is scoped to the target).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from hj212 import codes
from hj212.encode import flag_of, request_reply, segment
from hj212.errors import Hj212Error
from hj212.frame import encode_frame, parse_frame
from hj212.packet import Packet, parse_segment, parse_time

if TYPE_CHECKING:
    from forwarding.link import Link, Outbox

log = logging.getLogger("smartpark.hj212.forward")
CN_TIME_QUERY = "1011"
EXE_OK = 1
EXE_NO_DATA = 100
HISTORY_CNS = (codes.CN_MINUTE, codes.CN_HOURLY, codes.CN_DAILY)
BEIJING = ZoneInfo("Asia/Shanghai")  # HJ 212 times are Beijing time


def parse_request(frame: bytes) -> Packet | None:
    """An extraction request (a data CN with BeginTime/EndTime and no DataTime), which the
    protocol package reads as data missing its DataTime; None when it is not one."""
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


def result(*, qn: str, pw: str, mn: str, exe_rtn: int, version: str) -> bytes:
    """9012: the result of executing a request."""
    cp = f"QN={qn};ExeRtn={exe_rtn}"
    return encode_frame(segment(qn=None, st=codes.ST_SYSTEM, cn=codes.CN_RESULT, pw=pw, mn=mn,
                                flag=flag_of(version, reply=False), cp=cp))  # fmt: skip


class RequestHandler:
    def __init__(self, link: Link, outbox: Outbox, *, now: type[datetime] = datetime) -> None:
        self.link = link
        self.outbox = outbox
        self.now = now

    async def handle(self, p: Packet) -> list[bytes]:
        if p.qn is None:
            return []  # a request without QN cannot be answered
        version = self.link.target.version
        ask = dict(p.params)

        def reply(rtn: int) -> bytes:
            return request_reply(qn=p.qn or "", pw=p.pw, mn=p.mn, qn_rtn=rtn, version=version)

        def done(rtn: int) -> bytes:
            return result(qn=p.qn or "", pw=p.pw, mn=p.mn, exe_rtn=rtn, version=version)

        if p.cn == CN_TIME_QUERY:
            stamp = self.now.now(BEIJING).strftime("%Y%m%d%H%M%S")
            extra = f"PolId={ask['PolId']};" if "PolId" in ask else ""
            cp = f"{extra}SystemTime={stamp}"
            flag = flag_of(version, reply=False)
            data = encode_frame(segment(qn=p.qn, st=p.st, cn=p.cn, pw=p.pw, mn=p.mn, flag=flag, cp=cp))
            return [reply(codes.QN_READY), data, done(EXE_OK)]
        if p.cn in HISTORY_CNS and "BeginTime" in ask and "EndTime" in ask:
            begin = parse_time(ask["BeginTime"], "BeginTime").replace(tzinfo=BEIJING)
            end = parse_time(ask["EndTime"], "EndTime").replace(tzinfo=BEIJING)
            n = await self.outbox.queue_history(
                target_id=self.link.target.target_id, mn=p.mn, cn=p.cn, begin=begin, end=end
            )
            log.info("hj212 forward %s: history %s %s..%s for MN %s: %d packets", self.link.target.name, p.cn,
                     begin, end, p.mn, n)  # fmt: skip
            return [reply(codes.QN_READY), done(EXE_OK if n else EXE_NO_DATA)]
        return [reply(codes.QN_BAD_CN)]
