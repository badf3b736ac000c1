"""One upstream target: its outbox delivered over one TCP connection, in order, at a bounded rate.

Per HJ 212-2017 (communication timeout, CN 1000 OverTime/ReCount): a packet that asks for a reply
and gets none within OverTime seconds is sent again, at most ReCount times; after that it stays
queued, the connection is closed and opened again later (backing off up to a minute), and the
backlog is sent from its oldest packet on. A packet leaves the outbox only when the target replied
(9014, or 9011 QnRtn=1), or, for a target configured without replies, once written.

Up to ``window`` packets await their replies at a time; ``max_rate`` packets per second are sent
at most, backlog included. Replies are matched by (MN, QN). A resent packet keeps its QN, so the
upstream can recognise a repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from forwarding import store, wire
from hj212 import codes
from hj212.commands import parse_request
from hj212.encode import qn_of
from hj212.errors import Hj212Error
from hj212.frame import FrameScanner, Junk, parse_frame
from hj212.packet import Packet, parse_segment

log = logging.getLogger("smartpark.hj212.forward")
MAX_BACKOFF_S = 60.0
# how often an idle link looks for new packets; the HJ 212 server's notification (store.announce)
# wakes it at once, so the poll only bounds what a lost notification costs
IDLE_POLL_S = 0.1


class LinkDown(Exception):
    pass


class Outbox(Protocol):
    async def pending(
        self, *, target_id: int, after: int, limit: int, delivered: list[int] | None = None
    ) -> list[store.Pending]: ...
    async def delivered(self, *, outbox_ids: list[int]) -> None: ...
    async def queue_history(self, *, target_id: int, mn: str, cn: str, begin: datetime, end: datetime) -> int: ...


@dataclass
class LinkStatus:
    connected: bool = False
    last_connect: datetime | None = None
    last_reply: datetime | None = None
    last_error: str | None = None
    sent: int = 0
    delivered: int = 0
    resent: int = 0


@dataclass
class _Out:
    outbox_id: int
    mn: str
    qn: str
    frames: list[bytes]
    attempts: int = 0
    deadline: float = 0.0
    replies_due: int = 0


@dataclass
class TokenBucket:
    """At most ``rate`` takes per second, with a burst of a tenth of a second's worth."""

    rate: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(default=0.0, init=False)
    _at: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"rate {self.rate!r} must be positive")
        self._at = self.clock()
        self._tokens = 1.0

    def wait_s(self) -> float:
        """0 and one token taken, or the seconds until a token is there."""
        now = self.clock()
        burst = max(1.0, self.rate / 10)
        self._tokens = min(burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0 - 1e-9:  # rounding must not leave a token a hair short
            self._tokens -= 1.0
            return 0.0
        return max((1.0 - self._tokens) / self.rate, 1e-6)


def outgoing(p: store.Pending, target: store.Target) -> _Out | None:
    """The frames of one queued packet for this target; None when it cannot be sent any more."""
    if p.mn is None or p.pw is None:
        return None  # the outlet was removed from the target
    qn = p.qn or qn_of(p.data_time.replace(microsecond=(p.packet_id % 1000) * 1000))
    frames = wire.frames(cp=p.cp, qn=qn, st=p.st, cn=p.cn, mn=p.mn, pw=p.pw, version=target.version, reply=target.reply)
    return _Out(p.outbox_id, p.mn, qn, frames)


_REPLY_CNS = (f"CN={codes.CN_DATA_REPLY};", f"CN={codes.CN_REQUEST_REPLY};")


@dataclass(frozen=True, slots=True)
class Reply:
    """What the link needs of a 9014 or 9011: the (MN, QN) it answers and its QnRtn."""

    cn: str
    key: tuple[str, str] | None
    qn_rtn: str | None


def quick_reply(segment: str) -> Reply | None:
    """A reply read from its (CRC-checked) segment without the full packet parse, which is most
    of a link's work per delivered packet; None for anything else. Lax on purpose: a reply is
    only matched against the packets in flight, so a malformed one matches nothing."""
    cp_at = segment.find("CP=&&")
    if cp_at < 0 or not any(cn in segment[:cp_at] for cn in _REPLY_CNS):
        return None
    head = dict(part.partition("=")[::2] for part in segment[:cp_at].split(";") if part)
    cp = dict(part.partition("=")[::2] for part in segment[cp_at + 5 : -2].split(";") if part)
    cn, mn = head.get("CN", ""), head.get("MN")
    qn = cp.get("QN", head.get("QN") if cn == codes.CN_DATA_REPLY else None)
    return Reply(cn, None if qn is None or mn is None else (mn, qn), cp.get("QnRtn"))


class Link:
    def __init__(
        self,
        target: store.Target,
        outbox: Outbox,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_request: Callable[[Packet], Awaitable[list[bytes]]] | None = None,
    ) -> None:
        self.target = target
        self.outbox = outbox
        self.status = LinkStatus()
        self.clock = clock
        self.on_request = on_request
        self._stop = asyncio.Event()
        self._session: _Session | None = None

    def stop(self) -> None:
        self._stop.set()

    def wake(self) -> None:
        """New packets are queued: look now rather than at the next poll."""
        if self._session is not None:
            self._session.progress.set()

    async def run(self) -> None:
        backoff = 1.0
        t = self.target
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(t.host, t.port), t.over_time_s)
            except (OSError, TimeoutError) as exc:
                self.status.last_error = f"connect to {t.host}:{t.port}: {exc or 'timed out'}"
                log.info("hj212 forward %s: %s; next try in %.0f s", t.name, self.status.last_error, backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            self.status.connected = True
            self.status.last_connect = datetime.now(UTC)
            log.info("hj212 forward %s: connected to %s:%d", t.name, t.host, t.port)
            try:
                self._session = _Session(self, reader, writer)
                await self._session.run()
                backoff = 1.0
            except LinkDown as exc:
                self.status.last_error = str(exc)
                log.warning("hj212 forward %s: %s", t.name, exc)
            except (OSError, asyncio.IncompleteReadError) as exc:
                self.status.last_error = f"connection lost: {exc}"
                log.warning("hj212 forward %s: %s", t.name, self.status.last_error)
            finally:
                self._session = None
                self.status.connected = False
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            await self._pause(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)


class _Session:
    def __init__(self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.link = link
        self.t = link.target
        self.reader = reader
        self.writer = writer
        self.queue: deque[_Out] = deque()
        self.inflight: OrderedDict[tuple[str, str], _Out] = OrderedDict()
        self.acked: list[int] = []
        self.after = 0
        self.bucket = TokenBucket(self.t.max_rate, link.clock)
        self.progress = asyncio.Event()
        self.rate_wait = 0.0

    async def run(self) -> None:
        reading = asyncio.create_task(self._read())
        try:
            while not self.link._stop.is_set():
                if reading.done():
                    reading.result()  # raises what ended it
                    raise LinkDown("closed by the upstream")
                self._check_timeouts()
                await self._refill()
                await self._send_ready()
                await self._wait()
        finally:
            reading.cancel()
            await self._flush()

    async def _refill(self) -> None:
        """More of the outbox, and what was answered since the last pass out of it, in one
        statement (or the answered alone when enough is queued): every pass empties what was
        answered, so a kill repeats at most the window and the replies of one round trip."""
        if len(self.queue) >= self.t.window:
            await self._flush()
            return
        ids, self.acked = self.acked, []
        rows = await self.link.outbox.pending(
            target_id=self.t.target_id, after=self.after, limit=4 * self.t.window, delivered=ids
        )
        if not rows:
            if not self.inflight and not self.queue and not self.acked:
                self.after = 0  # idle: look again from the start (nothing committed late is passed over)
            return
        self.after = rows[-1].outbox_id
        for p in rows:
            out = outgoing(p, self.t)
            if out is None:
                self.acked.append(p.outbox_id)
            else:
                self.queue.append(out)

    async def _send_ready(self) -> None:
        self.rate_wait = 0.0
        sent = 0
        while self.queue and len(self.inflight) < self.t.window:
            head = self.queue[0]
            if (head.mn, head.qn) in self.inflight:
                break  # the same (MN, QN) awaits its reply: keep the order
            self.rate_wait = self.bucket.wait_s()
            if self.rate_wait > 0:
                break  # the rate bound: wait in _wait, where replies are still taken
            self.queue.popleft()
            self._write(head)
            sent += 1
            if self.t.reply:
                self.inflight[(head.mn, head.qn)] = head
            else:
                self.acked.append(head.outbox_id)
                self.link.status.delivered += 1
        if sent:
            await self.writer.drain()  # once for what this pass wrote

    def _write(self, out: _Out) -> None:
        for frame in out.frames:
            self.writer.write(frame)
        out.attempts += 1
        out.replies_due = len(out.frames)
        out.deadline = self.link.clock() + self.t.over_time_s
        self.link.status.sent += 1
        if out.attempts > 1:
            self.link.status.resent += 1

    def _check_timeouts(self) -> None:
        now = self.link.clock()
        expired = [(key, out) for key, out in self.inflight.items() if out.deadline <= now]
        for key, out in expired:
            if out.attempts > self.t.re_count:
                raise LinkDown(
                    f"no reply to QN {out.qn} of MN {out.mn} after {out.attempts} sends "
                    f"(OverTime {self.t.over_time_s} s, ReCount {self.t.re_count}); kept queued"
                )
            del self.inflight[key]
        self.queue.extendleft(out for _, out in reversed(expired))  # resent first, in their order

    async def _flush(self) -> None:
        if self.acked:
            ids, self.acked = self.acked, []
            await self.link.outbox.delivered(outbox_ids=ids)

    async def _wait(self) -> None:
        if self.queue and len(self.inflight) < self.t.window and not self.rate_wait:
            return
        timeout = IDLE_POLL_S
        if self.queue and self.rate_wait:
            timeout = self.rate_wait
        if self.inflight:
            first = min(o.deadline for o in self.inflight.values())
            timeout = max(0.0, min(timeout, first - self.link.clock()))
        self.progress.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.progress.wait(), timeout)

    async def _read(self) -> None:
        scanner = FrameScanner()
        while True:
            data = await self.reader.read(65536)
            if not data:
                return
            for piece in scanner.feed(data):
                if isinstance(piece, Junk):
                    log.info("hj212 forward %s: junk from the upstream: %s", self.t.name, piece.detail)
                    continue
                try:
                    segment = parse_frame(piece).segment
                    reply = quick_reply(segment)
                    if reply is not None:
                        self._replied(reply)
                        continue
                    packet = parse_segment(segment)
                except Hj212Error as exc:
                    request = parse_request(piece)
                    if request is None:
                        log.info("hj212 forward %s: bad packet from the upstream: %s", self.t.name, exc.detail)
                        continue
                    packet = request
                if self.link.on_request is not None:
                    for answer in await self.link.on_request(packet):
                        self.writer.write(answer)
            self.progress.set()

    def _replied(self, reply: Reply) -> None:
        out = self.inflight.get(reply.key) if reply.key else None
        if out is None:
            return  # late reply to a packet already resent and answered, or not ours
        if reply.cn == codes.CN_REQUEST_REPLY and reply.qn_rtn != str(codes.QN_READY):
            self.link.status.last_error = f"upstream refused QN {out.qn} of MN {out.mn}: QnRtn={reply.qn_rtn}"
            return  # kept in flight: resent on timeout, then the link is re-established
        out.replies_due -= 1
        if out.replies_due <= 0:
            del self.inflight[reply.key]  # type: ignore[arg-type]
            self.acked.append(out.outbox_id)
            self.link.status.delivered += 1
            self.link.status.last_reply = datetime.now(UTC)
