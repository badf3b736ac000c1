"""The platform's requests outstanding at each data logger, bounded and timed out (pure).

History extraction and clock commands go down a logger's own connection. A logger works one
command at a time in practice, and one that never answers must hold only its own slots, so each
MN has at most ``per_logger`` requests outstanding and each is given up after ``timeout_s``; a
closed connection ends its requests at once. A request finishes with the logger's 9012, or with
a 9011 that refuses it (QnRtn other than 1).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hj212 import codes, commands
from hj212.encode import qn_of
from hj212.packet import Packet


@dataclass(slots=True)
class Outstanding:
    mn: str
    qn: str
    cn: str
    sent_at: float  # monotonic
    begin: datetime | None = None  # history range, the logger's local time, both ends included
    end: datetime | None = None
    qn_rtn: int | None = None  # from the 9011
    exe_rtn: int | None = None  # from the 9012; None also when given up
    received: int = 0  # data packets that came back for it
    system_time: datetime | None = None  # a 1011 answer: the logger's clock (local, naive)
    answered_at_s: float | None = None  # wall-clock seconds at which system_time arrived
    outcome: str = "open"  # open, done, refused, timed_out, disconnected

    @property
    def ok(self) -> bool:
        return self.outcome == "done" and self.exe_rtn == commands.EXE_OK


class Requests:
    def __init__(
        self, *, per_logger: int = 1, timeout_s: float = 120.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_logger < 1:
            raise ValueError(f"per_logger {per_logger} must be at least 1")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s {timeout_s} must be positive")
        self.per_logger = per_logger
        self.timeout_s = timeout_s
        self._clock = clock
        self._open: dict[str, dict[str, Outstanding]] = {}  # mn -> qn -> request
        self._seq = itertools.count()

    def outstanding(self, mn: str) -> int:
        return len(self._open.get(mn, ()))

    def free(self, mn: str) -> bool:
        return self.outstanding(mn) < self.per_logger

    def open(
        self, mn: str, cn: str, *, now_local: datetime, begin: datetime | None = None, end: datetime | None = None
    ) -> Outstanding | None:
        """A new request with a QN of the logger's local time, unique per MN; None when full."""
        if not self.free(mn):
            return None
        mine = self._open.setdefault(mn, {})
        base = now_local.replace(tzinfo=None, microsecond=0)
        while (qn := qn_of(base + timedelta(milliseconds=next(self._seq) % 1000))) in mine:
            pass
        request = Outstanding(mn=mn, qn=qn, cn=cn, sent_at=self._clock(), begin=begin, end=end)
        mine[qn] = request
        return request

    def find(self, mn: str, qn: str | None) -> Outstanding | None:
        return None if qn is None else self._open.get(mn, {}).get(qn)

    def answer(self, packet: Packet) -> Outstanding | None:
        """A 9011 or 9012 of the logger: the request it finished, if it finished one.

        The 9012 names its request by the QN in CP (the standard's example) or in the header.
        """
        qn = commands.param(packet, "QN") or packet.qn
        request = self.find(packet.mn, qn)
        if request is None:
            return None
        if packet.cn == codes.CN_REQUEST_REPLY:
            request.qn_rtn = commands.qn_rtn(packet)
            if request.qn_rtn == codes.QN_READY:
                return None
            return self._finish(request, "refused")
        if packet.cn == codes.CN_RESULT:
            request.exe_rtn = commands.exe_rtn(packet)
            return self._finish(request, "done")
        return None

    def expire(self) -> list[Outstanding]:
        """Requests past their timeout, given up."""
        limit = self._clock() - self.timeout_s
        late = [r for mine in self._open.values() for r in mine.values() if r.sent_at <= limit]
        return [self._finish(r, "timed_out") for r in late]

    def drop(self, mn: str) -> list[Outstanding]:
        """The logger's connection closed: its requests can no longer be answered."""
        return [self._finish(r, "disconnected") for r in list(self._open.get(mn, {}).values())]

    def _finish(self, request: Outstanding, outcome: str) -> Outstanding:
        request.outcome = outcome
        mine = self._open.get(request.mn, {})
        mine.pop(request.qn, None)
        if not mine:
            self._open.pop(request.mn, None)
        return request
