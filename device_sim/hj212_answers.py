"""How a simulated data logger answers the platform's requests (pure: frames in, frames out).

A logger remembers what it generated (:class:`LoggerHistory`, bounded), uploaded or not, and
keeps its own clock (:class:`LoggerClock`, off by a skew until the platform sets it). To a
request it answers as HJ 212-2017's command interaction has it (:mod:`hj212.commands`):
9011 QnRtn=1, then for history extraction (2051/2061/2031 with BeginTime/EndTime) the stored
uploads of that command in the range with the request's QN, for a time query (1011) a 1011
packet with SystemTime, for a time setting (1012) nothing more than setting its clock; then 9012
(ExeRtn 1, or 100 when the range holds nothing). Other commands get 9011 QnRtn=8.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from hj212 import codes, commands
from hj212.encode import data_packets, flag_of, request_reply, segment
from hj212.errors import Hj212Error
from hj212.frame import encode_frame
from hj212.packet import Packet, parse_time
from smartpark.hj212_metrics import pollutants_of


class LoggerHistory:
    """Uploads a logger generated, per command and DataTime; the oldest go past ``max_uploads``
    (2 000: a day of 2011 data every minute and a half, or the uploads of a minute-data day).
    """

    def __init__(self, max_uploads: int = 2_000) -> None:
        if max_uploads < 1:
            raise ValueError(f"max_uploads {max_uploads} must be at least 1")
        self.max_uploads = max_uploads
        self._uploads: OrderedDict[tuple[str, int], dict[str, float]] = OrderedDict()

    def add(self, cn: str, ts_ms: int, values: Mapping[str, float]) -> None:
        self._uploads[(cn, ts_ms)] = dict(values)
        self._uploads.move_to_end((cn, ts_ms))
        while len(self._uploads) > self.max_uploads:
            self._uploads.popitem(last=False)

    def between(self, cn: str, first_ms: int, last_ms: int) -> list[tuple[int, dict[str, float]]]:
        """Uploads of ``cn`` with DataTime in [first_ms, last_ms], oldest first."""
        found = [(ts, v) for (c, ts), v in self._uploads.items() if c == cn and first_ms <= ts <= last_ms]
        return sorted(found, key=lambda item: item[0])

    def __len__(self) -> int:
        return len(self._uploads)


@dataclass
class LoggerClock:
    """The logger's clock: the true time plus ``skew_s`` (a drifted logger) until set."""

    skew_s: float = 0.0
    wall: Callable[[], float] = field(default=time.time)

    def now(self, tz: tzinfo) -> datetime:
        return datetime.fromtimestamp(self.wall() + self.skew_s, tz).replace(tzinfo=None)

    def set(self, local: datetime, tz: tzinfo) -> None:
        self.skew_s = local.replace(tzinfo=tz).timestamp() - self.wall()


def answer(
    request: Packet, *, mn: str, pw: str, tz: tzinfo, history: LoggerHistory, clock: LoggerClock, version: str
) -> list[bytes]:
    """The frames a logger sends back for one request of the platform (none when not for it)."""
    qn = request.qn
    if qn is None or request.mn != mn or request.pw != pw:
        return []  # not addressed to this logger, or no way to name the answer

    def reply(rtn: int) -> bytes:
        return request_reply(qn=qn, pw=pw, mn=mn, qn_rtn=rtn, version=version)

    def done(rtn: int) -> bytes:
        return commands.result(qn=qn, pw=pw, mn=mn, exe_rtn=rtn, version=version)

    ask = dict(request.params)
    if request.cn == commands.CN_TIME_QUERY:
        cp = f"SystemTime={commands.stamp(clock.now(tz))}"
        flag = flag_of(version, reply=False)
        data = encode_frame(segment(qn=qn, st=request.st, cn=request.cn, pw=pw, mn=mn, flag=flag, cp=cp))
        return [reply(codes.QN_READY), data, done(commands.EXE_OK)]
    if request.cn == commands.CN_TIME_SET and "SystemTime" in ask:
        try:
            clock.set(parse_time(ask["SystemTime"], "SystemTime"), tz)
        except Hj212Error:
            return [reply(codes.QN_READY), done(commands.EXE_FAILED)]
        return [reply(codes.QN_READY), done(commands.EXE_OK)]
    if request.cn in commands.HISTORY_CNS and "BeginTime" in ask and "EndTime" in ask:
        try:
            begin = parse_time(ask["BeginTime"], "BeginTime").replace(tzinfo=tz)
            end = parse_time(ask["EndTime"], "EndTime").replace(tzinfo=tz)
        except Hj212Error:
            return [reply(codes.QN_BAD_CN)]
        found = history.between(request.cn, int(begin.timestamp() * 1000), int(end.timestamp() * 1000))
        frames = [reply(codes.QN_READY)]
        for ts_ms, values in found:
            st, pollutants = pollutants_of(values, cn=request.cn)
            data_time = datetime.fromtimestamp(ts_ms / 1000, tz).replace(tzinfo=None)
            frames += data_packets(
                qn=qn,
                st=st,
                cn=request.cn,
                pw=pw,
                mn=mn,
                data_time=data_time,
                pollutants=pollutants,
                version=version,
                reply=False,
            )
        return [*frames, done(commands.EXE_OK if found else commands.EXE_NO_DATA)]
    return [reply(codes.QN_BAD_CN)]
