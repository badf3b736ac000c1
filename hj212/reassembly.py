"""Reassembly of split packets (Flag bit D, PNUM/PNO) into one packet per upload.

Parts share MN, QN and CN; they may arrive in any order. Incomplete uploads are evicted after
``max_age_s`` or when too many are pending, and reported, so a lost part is never silent.

What is held is bounded in bytes, not only in counts (a logger may announce 9 999 parts): a
part is held as the frame it came in (decoded again once its upload is whole), so its memory is
its size on the wire; each connection holds at most ``max_bytes`` of frames, and all
connections together at most what their shared :class:`ByteBudget` allows. Past either, the
oldest uploads of the connection are given up first; a part that still does not fit is given up
with its upload.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from hj212 import codes, errors
from hj212.packet import Packet, Problem, decode_frame


@dataclass(frozen=True, slots=True)
class Expired:
    mn: str
    qn: str | None
    cn: str
    received: int
    expected: int
    why: str = ""

    @property
    def detail(self) -> str:
        return (
            f"split upload QN={self.qn} CN={self.cn} from MN={self.mn}: "
            f"{self.received} of {self.expected} parts arrived{self.why}"
        )


class ByteBudget:
    """Bytes of held parts across all connections of a server."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError(f"byte budget {max_bytes} must be positive")
        self.max_bytes = max_bytes
        self.used = 0

    def take(self, n: int) -> bool:
        if self.used + n > self.max_bytes:
            return False
        self.used += n
        return True

    def give(self, n: int) -> None:
        self.used -= n


@dataclass(slots=True)
class _Pending:
    started: float
    parts: dict[int, Packet | bytes]  # the frame, when the caller gave it
    sizes: dict[int, int]


class Reassembler:
    def __init__(
        self,
        *,
        max_age_s: float = 120.0,
        max_pending: int = 1000,
        max_bytes: int = 256 * 1024,
        budget: ByteBudget | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pending: dict[tuple[str, str | None, str, int], _Pending] = {}
        self._max_age_s = max_age_s
        self._max_pending = max_pending
        self._max_bytes = max_bytes
        self._budget = budget or ByteBudget(max_bytes)
        self._clock = clock
        self.held_bytes = 0

    def add(self, packet: Packet, frame: bytes | None = None) -> tuple[Packet | None, list[Expired]]:
        """The whole upload once its last part arrived (else None), and uploads given up on.

        ``frame``: the part as received; held instead of the decoded packet, and counted."""
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
            pending = self._pending[key] = _Pending(self._clock(), {}, {})
        self._release(pending, packet.pno)  # a resent part replaces the earlier copy
        size = len(frame) if frame is not None else 0
        if not self._make_room(key, size, expired):
            expired.append(self._drop(key, f"; given up: over the {self._limit_text()} held for split uploads"))
            return None, expired
        pending.parts[packet.pno] = frame if frame is not None else packet
        pending.sizes[packet.pno] = size
        if len(pending.parts) < packet.pnum:
            return None, expired
        del self._pending[key]
        self._release_all(pending)
        parts = [pending.parts[i] for i in sorted(pending.parts)]
        return _merge([p if isinstance(p, Packet) else decode_frame(p) for p in parts]), expired

    def _make_room(self, key: tuple[str, str | None, str, int], size: int, expired: list[Expired]) -> bool:
        """Give up the oldest other uploads until ``size`` more bytes fit both limits."""
        while self.held_bytes + size > self._max_bytes or not self._budget.take(size):
            others = [k for k in self._pending if k != key]
            if not others:
                return False
            oldest = min(others, key=lambda k: self._pending[k].started)
            expired.append(self._drop(oldest, f"; given up: over the {self._limit_text()} held for split uploads"))
        self.held_bytes += size
        return True

    def _limit_text(self) -> str:
        return f"{self._max_bytes} bytes per connection or {self._budget.max_bytes} bytes in all"

    def _release(self, pending: _Pending, pno: int) -> None:
        size = pending.sizes.pop(pno, 0)
        pending.parts.pop(pno, None)
        self.held_bytes -= size
        self._budget.give(size)

    def _release_all(self, pending: _Pending) -> None:
        held = sum(pending.sizes.values())
        pending.sizes.clear()
        self.held_bytes -= held
        self._budget.give(held)

    def expire(self) -> list[Expired]:
        limit = self._clock() - self._max_age_s
        return [self._drop(k) for k, p in list(self._pending.items()) if p.started < limit]

    def flush(self) -> list[Expired]:
        """Give up on everything pending (the connection closed)."""
        return [self._drop(k) for k in list(self._pending)]

    def _drop(self, key: tuple[str, str | None, str, int], why: str = "") -> Expired:
        pending = self._pending.pop(key)
        received = len(pending.parts)
        self._release_all(pending)
        return Expired(key[0], key[1], key[2], received, key[3], why)

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
