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
from hj212.commands import CN_TIME_QUERY, EXE_NO_DATA, EXE_OK, HISTORY_CNS, result
from hj212.encode import flag_of, request_reply, segment
from hj212.frame import encode_frame
from hj212.packet import Packet, parse_time

if TYPE_CHECKING:
    from forwarding.link import Link, Outbox

log = logging.getLogger("smartpark.hj212.forward")
BEIJING = ZoneInfo("Asia/Shanghai")  # HJ 212 times are Beijing time


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
