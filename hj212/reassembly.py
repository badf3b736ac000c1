"""Reassembly of split packets (Flag bit D, PNUM/PNO) into one packet per upload.

Parts share MN, QN and CN; they may arrive in any order. Incomplete uploads are evicted after
``max_age_s`` or when too many are pending, and reported, so a lost part is never silent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from hj212 import codes, errors
from hj212.packet import Packet, Problem


@dataclass(frozen=True, slots=True)
class Expired:
    mn: str
    qn: str | None
    cn: str
    received: int
    expected: int

    @property
    def detail(self) -> str:
        return (
            f"split upload QN={self.qn} CN={self.cn} from MN={self.mn}: "
            f"{self.received} of {self.expected} parts arrived"
        )


@dataclass(slots=True)
class _Pending:
    started: float
    parts: dict[int, Packet]


class Reassembler:
    def __init__(
        self, *, max_age_s: float = 120.0, max_pending: int = 1000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._pending: dict[tuple[str, str | None, str, int], _Pending] = {}
        self._max_age_s = max_age_s
        self._max_pending = max_pending
        self._clock = clock

    def add(self, packet: Packet) -> tuple[Packet | None, list[Expired]]:
        """The whole upload once its last part arrived (else None), and uploads given up on."""
        expired = self.expire()
        if not packet.is_split or packet.pnum is None or packet.pno is None:
            return packet, expired
        if packet.pnum == 1:
            return _merge([packet]), expired
        key = (packet.mn, packet.qn, packet.cn, packet.pnum)
        pending = self._pending.get(key)
        if pending is None:
            if len(self._pending) >= self._max_pending:
                oldest = min(self._pending, key=lambda k: self._pending[k].started)
                expired.append(self._drop(oldest))
            pending = self._pending[key] = _Pending(self._clock(), {})
        pending.parts[packet.pno] = packet  # a resent part replaces the earlier copy
        if len(pending.parts) < packet.pnum:
            return None, expired
        del self._pending[key]
        return _merge([pending.parts[i] for i in sorted(pending.parts)]), expired

    def expire(self) -> list[Expired]:
        limit = self._clock() - self._max_age_s
        return [self._drop(k) for k, p in list(self._pending.items()) if p.started < limit]

    def flush(self) -> list[Expired]:
        """Give up on everything pending (the connection closed)."""
        return [self._drop(k) for k in list(self._pending)]

    def _drop(self, key: tuple[str, str | None, str, int]) -> Expired:
        pending = self._pending.pop(key)
        return Expired(key[0], key[1], key[2], len(pending.parts), key[3])

    def __len__(self) -> int:
        return len(self._pending)


def _merge(parts: list[Packet]) -> Packet:
    first = parts[0]
    times = {p.data_time for p in parts}
    problems = [pr for p in parts for pr in p.problems]
    if len(times) > 1:
        problems.append(
            Problem(errors.BAD_SPLIT, f"parts carry different DataTime values {sorted(map(str, times))}", "DataTime")
        )
    return replace(
        first,
        flag=first.flag & ~codes.FLAG_SPLIT,
        pnum=None,
        pno=None,
        readings=tuple(r for p in parts for r in p.readings),
        params=tuple(kv for p in parts for kv in p.params),
        problems=tuple(problems),
    )
