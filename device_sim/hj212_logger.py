"""A small HJ 212 data-logger client: what a CEMS or water analyser's 数采仪 does on the wire.

Used by the simulator's CEMS devices, the benchmark and the tests: it encodes catalogue readings
as HJ 212 data packets (splitting long ones) with the protocol package ``hj212`` and the shared
code table ``smartpark.hj212_metrics``, sends them over TCP, and waits for the platform's replies.
It lives with the simulator, apart from the gateway it talks to, so that what the tests and the
simulator send is not the server's own idea of the protocol. The asyncio logger reads its
connection all the time and answers the platform's requests (history extraction, time query and
setting) from what it generated and its own clock (:mod:`device_sim.hj212_answers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from device_sim.hj212_answers import LoggerClock, LoggerHistory, answer
from hj212 import codes, commands
from hj212.encode import data_packets, qn_of
from hj212.errors import Hj212Error
from hj212.frame import FrameScanner
from hj212.packet import Packet, decode_frame
from smartpark.hj212_metrics import pollutants_of

BEIJING = ZoneInfo("Asia/Shanghai")


class UploadEncoder:
    """Frames of one logger's uploads (pure): QN, DataTime in the logger's local time, splitting."""

    def __init__(self, *, mn: str, pw: str, version: str = "2017", tz: tzinfo = BEIJING) -> None:
        self.mn, self.pw, self.version, self.tz = mn, pw, version, tz
        self._seq = itertools.count()

    def frames(
        self,
        values: Mapping[str, float],
        *,
        ts_ms: int,
        cn: str = codes.CN_REALTIME,
        flags: Mapping[str, str] | None = None,
        reply: bool = True,
    ) -> tuple[str, list[bytes]]:
        """(QN, frames) of one upload."""
        st, pollutants = pollutants_of(values, cn=cn, flags=flags)
        data_time = datetime.fromtimestamp(ts_ms / 1000, self.tz).replace(tzinfo=None)
        # QN must be unique per upload: the send time plus a sequence in the milliseconds
        now = datetime.now(self.tz).replace(tzinfo=None, microsecond=0)
        qn = qn_of(now + timedelta(milliseconds=next(self._seq) % 1000))
        frames = data_packets(
            qn=qn,
            st=st,
            cn=cn,
            pw=self.pw,
            mn=self.mn,
            data_time=data_time,
            pollutants=pollutants,
            version=self.version,
            reply=reply,
        )
        return qn, frames


def _replies(scanner: FrameScanner, data: bytes) -> list[Packet]:
    out = []
    for piece in scanner.feed(data):
        if isinstance(piece, bytes):
            try:
                out.append(decode_frame(piece))
            except Hj212Error:  # a history request reads as data without DataTime
                request = commands.parse_request(piece)
                if request is not None:
                    out.append(request)
    return out


REPLIES = (codes.CN_REQUEST_REPLY, codes.CN_DATA_REPLY, codes.CN_NOTICE_REPLY, codes.CN_RESULT)


def _check(answer: Packet, qn: str) -> bool:
    """True to go on with the next part; raises on a reply to another packet."""
    if answer.qn != qn:
        raise Hj212Error("bad_field", f"reply to QN {answer.qn}, expected {qn}")
    return answer.cn == codes.CN_DATA_REPLY


class DataLogger(UploadEncoder):
    """One asyncio connection to the platform, speaking for one MN.

    ``answers=False`` makes a logger that never answers the platform's requests."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        mn: str,
        pw: str,
        version: str = "2017",
        tz: tzinfo = BEIJING,
        history: LoggerHistory | None = None,
        clock: LoggerClock | None = None,
        answers: bool = True,
    ) -> None:
        super().__init__(mn=mn, pw=pw, version=version, tz=tz)
        self.host, self.port = host, port
        self.history = history if history is not None else LoggerHistory()
        self.clock = clock if clock is not None else LoggerClock()
        self.answers = answers
        self.requests_seen = 0
        self._writer: asyncio.StreamWriter | None = None
        self._inbox: asyncio.Queue[Packet | None] = asyncio.Queue()
        self._reading: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._inbox = asyncio.Queue()
        self._reading = asyncio.create_task(self._read(reader, self._writer))

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Replies to the inbox; requests answered at once, between uploads as a logger does."""
        scanner = FrameScanner()
        try:
            while data := await reader.read(4096):
                for packet in _replies(scanner, data):
                    if packet.cn in REPLIES:
                        self._inbox.put_nowait(packet)
                        continue
                    self.requests_seen += 1
                    if self.answers:
                        for frame in answer(
                            packet,
                            mn=self.mn,
                            pw=self.pw,
                            tz=self.tz,
                            history=self.history,
                            clock=self.clock,
                            version=self.version,
                        ):
                            writer.write(frame)
                        await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._inbox.put_nowait(None)  # the platform closed the connection

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await self._writer.wait_closed()
            self._writer = None
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await self._reading
            self._reading = None

    async def send_raw(self, data: bytes) -> None:
        assert self._writer is not None, "connect() first"
        self._writer.write(data)
        await self._writer.drain()

    async def reply(self, timeout: float = 30.0) -> Packet:
        """The next reply of the platform (9014 data reply or 9011 refusal)."""
        assert self._reading is not None, "connect() first"
        packet = await asyncio.wait_for(self._inbox.get(), timeout)
        if packet is None:
            self._inbox.put_nowait(None)  # every later wait learns it too
            raise ConnectionError("platform closed the connection")
        return packet

    async def upload(
        self,
        values: Mapping[str, float],
        *,
        ts_ms: int,
        cn: str = codes.CN_REALTIME,
        flags: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        retries: int = 0,
    ) -> Packet:
        """Send one upload and wait for the platform's reply to its last part (or its refusal).

        Without a reply within ``timeout`` the upload is sent again, up to ``retries`` times, as
        loggers do (the platform stores a repeat once); late replies to earlier tries are skipped.
        The upload is remembered first, so that it can be asked for again if it never arrives.
        """
        self.history.add(cn, ts_ms, values)
        qn, frames = self.frames(values, ts_ms=ts_ms, cn=cn, flags=flags)
        for attempt in range(retries + 1):
            try:
                for frame in frames:
                    await self.send_raw(frame)
                    answer = await self._reply_to(qn, timeout)
                    if answer.cn != codes.CN_DATA_REPLY:
                        break  # refused: the 9011 says why
                return answer
            except TimeoutError:
                if attempt == retries:
                    raise
        raise AssertionError("unreachable")

    async def _reply_to(self, qn: str, timeout: float) -> Packet:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            answer = await self.reply(max(0.0, deadline - asyncio.get_running_loop().time()))
            if answer.qn == qn:
                return answer
            # a late reply to an earlier upload or try: already dealt with


class BlockingDataLogger(UploadEncoder):
    """The same with a plain socket, for threaded callers such as the simulator's publishers."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        mn: str,
        pw: str,
        version: str = "2017",
        tz: tzinfo = BEIJING,
        timeout: float = 30.0,
    ) -> None:
        super().__init__(mn=mn, pw=pw, version=version, tz=tz)
        self.host, self.port, self.timeout = host, port, timeout
        self._sock: socket.socket | None = None
        self._scanner = FrameScanner()
        self._replies: list[Packet] = []

    def connect(self) -> None:
        self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def reply(self) -> Packet:
        assert self._sock is not None, "connect() first"
        while not self._replies:
            data = self._sock.recv(4096)
            if not data:
                raise ConnectionError("platform closed the connection")
            self._replies += _replies(self._scanner, data)
        return self._replies.pop(0)

    def upload(
        self,
        values: Mapping[str, float],
        *,
        ts_ms: int,
        cn: str = codes.CN_REALTIME,
        flags: Mapping[str, str] | None = None,
    ) -> Packet:
        """Send one upload (connecting first if needed) and wait for the reply to its last part."""
        if self._sock is None:
            self.connect()
        qn, frames = self.frames(values, ts_ms=ts_ms, cn=cn, flags=flags)
        for frame in frames:
            assert self._sock is not None
            self._sock.sendall(frame)
            answer = self.reply()
            if not _check(answer, qn):
                break
        return answer
