"""The asyncio TCP server data loggers connect to.

Per connection: cut the stream into frames, decode, find the device by MN, check its password,
reassemble split uploads, map to the catalogue and republish as the device's MQTT telemetry
(QoS 1); reply per the standard once the broker has acknowledged. Every refusal is recorded with
its reason; the connection survives anything a logger sends short of a long run of refusals.

The platform's own requests (history extraction, clock) go down the connection a logger logged
in on (:attr:`Hj212Server.sessions`); its answers are matched to them by QN
(:mod:`ingest.hj212.requests`) and data coming back for a history request is recorded as
recovered.

Password guessing is locked out per MN and per address (:mod:`ingest.hj212.lockout`), and an
unknown MN, a wrong password and a locked-out login get the same answer (QnRtn=3), so the
replies neither confirm an MN nor a guess; the recorded reason tells the operator which it was.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

import psycopg
from prometheus_client import CollectorRegistry, Counter, Gauge

from forwarding.recorder import PacketRecorder, RecordFailed
from hj212 import codes, commands, encode, errors
from hj212.errors import Hj212Error
from hj212.frame import FrameScanner, Junk
from hj212.packet import Packet, decode_frame, parse_time
from hj212.reassembly import ByteBudget, Reassembler
from ingest.hj212 import mapping
from ingest.hj212.directory import Directory, LoggerDevice
from ingest.hj212.lockout import DEFAULT_LOCKOUT, LockoutLimits, LoginGuard
from ingest.hj212.publisher import Publisher, PublishError
from ingest.hj212.rejections import RejectionLog
from ingest.hj212.requests import Outstanding, Requests
from smartpark import contract

log = logging.getLogger("smartpark.hj212")
PUBLISH_FAILED = "publish_failed"
LOCKED_OUT = "locked_out"
RECORD_FAILED = "record_failed"
Finished = Callable[[LoggerDevice, Outstanding], None]
REPLY_CNS = (codes.CN_REQUEST_REPLY, codes.CN_RESULT, codes.CN_NOTICE_REPLY, codes.CN_DATA_REPLY)


@dataclass(frozen=True, slots=True)
class Limits:
    idle_timeout_s: float = 900.0  # loggers send at least every few minutes (2011 interval)
    # refusals in a row (garbage, bad frames, wrong passwords) before the connection is closed:
    # bounds what one misbehaving peer can write into rejected_messages; loggers reconnect
    max_refused: int = 50
    read_size: int = 64 * 1024
    # frames of split uploads held for reassembly: per connection, and over all connections
    split_bytes_per_connection: int = 256 * 1024
    split_bytes_total: int = 16 * 1024 * 1024


class _Metrics:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.packets = Counter("smartpark_hj212_packets", "HJ 212 packets by outcome", ["outcome"], registry=registry)
        self.readings = Counter(
            "smartpark_hj212_readings", "HJ 212 readings by outcome", ["outcome"], registry=registry
        )
        self.connections = Gauge("smartpark_hj212_connections", "open data-logger connections", registry=registry)
        self.requests = Counter(
            "smartpark_hj212_requests",
            "requests to data loggers by command and outcome",
            ["cn", "outcome"],
            registry=registry,
        )


class Hj212Server:
    def __init__(
        self,
        *,
        directory: Directory,
        publisher: Publisher,
        rejections: RejectionLog,
        store_cns: Collection[str] = mapping.DEFAULT_STORE_CNS,
        topic_root: str = contract.ROOT,
        limits: Limits = Limits(),
        lockout: LockoutLimits = DEFAULT_LOCKOUT,
        registry: CollectorRegistry | None = None,
        recorder: PacketRecorder | None = None,
        requests: Requests | None = None,
    ) -> None:
        self.directory = directory
        self.requests = requests or Requests()
        self.sessions: dict[str, _Connection] = {}  # MN -> the connection it last logged in on
        self.finished: list[Finished] = []  # told of every request that ends
        self.recorder = recorder  # the packet log and the forwarding outbox; None: not kept
        self.publisher = publisher
        self.rejections = rejections
        self.store_cns = tuple(store_cns)
        self.topic_root = topic_root
        self.limits = limits
        self.guard = LoginGuard(lockout)
        self.split_budget = ByteBudget(limits.split_bytes_total)
        self.metrics = _Metrics(registry)
        self._reload_lock = asyncio.Lock()
        self._handlers: set[asyncio.Task[None]] = set()

    async def start(self, host: str, port: int) -> asyncio.Server:
        if len(self.directory) == 0:
            await self.reload()
        return await asyncio.start_server(self.handle, host, port, limit=self.limits.read_size)

    async def reload(self, *, missed: bool = False) -> None:
        async with self._reload_lock:
            if self.directory.due(missed=missed):
                count = await asyncio.to_thread(self.directory.reload)
                log.debug("hj212 directory: %d data loggers", count)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        addr = writer.get_extra_info("peername")
        peer = f"{addr[0]}:{addr[1]}" if isinstance(addr, tuple) else str(addr)
        conn = _Connection(self, peer, str(addr[0]) if isinstance(addr, tuple) else peer, writer)
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        self.metrics.connections.inc()
        try:
            await conn.run(reader)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            log.info("hj212 %s: connection lost: %s", peer, exc)
        except asyncio.CancelledError:
            log.debug("hj212 %s: closed by shutdown", peer)  # ending normally keeps asyncio quiet
        except Exception:  # a fault of ours must cost one connection, not the server
            log.exception("hj212 %s: closing after an unexpected error", peer)
        finally:
            conn.close()
            self.metrics.connections.dec()
            writer.close()
            if task is not None:
                self._handlers.discard(task)

    def connected(self) -> list[LoggerDevice]:
        """The data loggers with a live connection, as of their last login."""
        return [c.devices[mn] for mn, c in self.sessions.items()]

    def system_code(self, device: LoggerDevice) -> str:
        conn = self.sessions.get(device.mn)
        return conn.sts.get(device.mn, codes.ST_AIR_SOURCE) if conn is not None else codes.ST_AIR_SOURCE

    def send(self, device: LoggerDevice, frame: bytes) -> bool:
        """Write a request down the logger's connection; False when it is not connected.

        Not awaited: a logger that stops reading fills only its own socket buffer."""
        conn = self.sessions.get(device.mn)
        if conn is None or conn.writer.is_closing():
            return False
        conn.writer.write(frame)
        return True

    def expire_requests(self) -> None:
        for request in self.requests.expire():
            self._ended(request)

    def _ended(self, request: Outstanding) -> None:
        self.metrics.requests.labels(request.cn, request.outcome).inc()
        device = self.directory.get(request.mn)
        if device is None:
            return
        for listener in self.finished:
            try:
                listener(device, request)
            except Exception:  # one listener's fault must not cost the connection
                log.exception("hj212 request %s of MN %s: listener failed", request.qn, request.mn)

    async def close_connections(self) -> None:
        """End every open connection (shutdown): their partial frames are recorded as truncated."""
        handlers = list(self._handlers)
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


class _Connection:
    def __init__(self, server: Hj212Server, peer: str, address: str, writer: asyncio.StreamWriter) -> None:
        self.s = server
        self.peer = peer
        self.address = address  # the peer without its port: what lockouts count
        self.writer = writer
        self.scanner = FrameScanner()
        self.parts = Reassembler(max_bytes=server.limits.split_bytes_per_connection, budget=server.split_budget)
        self.refused = 0  # in a row: reset by every accepted packet
        self.devices: dict[str, LoggerDevice] = {}  # MNs logged in on this connection
        self.sts: dict[str, str] = {}  # MN -> the system code (ST) it last sent: requests use it

    def reject(
        self,
        reason: str,
        detail: str,
        *,
        mn: str | None = None,
        device: LoggerDevice | None = None,
        excerpt: str = "",
        metric: str | None = None,
    ) -> None:
        self.refused += 1
        self.s.metrics.packets.labels("rejected").inc()
        self.s.rejections.record(reason, detail, peer=self.peer, mn=mn, device=device, excerpt=excerpt, metric=metric)

    async def run(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                data = await asyncio.wait_for(reader.read(self.s.limits.read_size), self.s.limits.idle_timeout_s)
            except TimeoutError:
                log.info("hj212 %s: idle for %s s, closing", self.peer, self.s.limits.idle_timeout_s)
                return
            if not data:
                return
            for piece in self.scanner.feed(data):
                if isinstance(piece, Junk):
                    self._junk(piece)
                else:
                    await self._frame(piece)
                if self.refused > self.s.limits.max_refused:
                    self.s.rejections.record(
                        errors.TOO_MANY_REFUSED,
                        f"more than {self.s.limits.max_refused} refusals in a row, closing",
                        peer=self.peer,
                    )
                    return

    def close(self) -> None:
        rest = self.scanner.close()
        if rest is not None:
            self._junk(rest)
        for lost in self.parts.flush():
            self.reject(errors.BAD_SPLIT, lost.detail, mn=lost.mn)
        for mn in self.devices:
            if self.s.sessions.get(mn) is self:
                del self.s.sessions[mn]
                for request in self.s.requests.drop(mn):
                    self.s._ended(request)

    def _junk(self, junk: Junk) -> None:
        self.reject(junk.reason, junk.detail, excerpt=junk.preview)

    async def _frame(self, frame: bytes) -> None:
        try:
            packet = decode_frame(frame)
        except Hj212Error as exc:
            self.reject(exc.reason, exc.detail, excerpt=frame[:120].decode("ascii", "backslashreplace"))
            return
        if self._answer(packet):
            return
        device = await self._device(packet)
        if device is None:
            return
        self.devices[device.mn] = device
        self.sts[device.mn] = packet.st
        self.s.sessions[device.mn] = self
        request = self.s.requests.find(packet.mn, packet.qn)
        recovered = request is not None and request.cn == packet.cn and packet.cn in commands.HISTORY_CNS
        for problem in packet.problems:
            self.reject(problem.reason, problem.detail, mn=packet.mn, device=device, metric=problem.key)
        whole, expired = self.parts.add(packet, frame)
        for lost in expired:
            self.reject(errors.BAD_SPLIT, lost.detail, mn=lost.mn, device=device)
        if whole is None:  # a part held for reassembly: acknowledge receipt of the part
            self.s.metrics.packets.labels("part").inc()
            await self._reply(packet, encode.data_reply)
            return
        if not await self._record(whole, device, recovered=recovered) or not await self._store(whole, device):
            return
        if recovered and request is not None:
            request.received += 1
        self.refused = 0
        await self._reply(packet, encode.data_reply)

    async def _device(self, packet: Packet) -> LoggerDevice | None:
        guard = self.s.guard
        if guard.locked(packet.mn, self.address):
            self.reject(LOCKED_OUT, f"MN {packet.mn!r} or address {self.address} is locked out after failed logins")
            await self._refuse(packet, codes.QN_BAD_PASSWORD)
            return None
        device = self.s.directory.get(packet.mn)
        if device is None and self.s.directory.due(missed=True):
            try:
                await self.s.reload(missed=True)
            except psycopg.Error as exc:
                # the registry cannot be read: no verdict and no reply, the logger sends again
                log.warning("hj212 MN=%s unknown and the registry unreadable: %s", packet.mn, exc)
                return None
            device = self.s.directory.get(packet.mn)
        if device is None:
            guard.failed(None, self.address)
            self.reject(errors.UNKNOWN_MN, f"MN {packet.mn!r} is not a registered data logger", mn=packet.mn)
            await self._refuse(packet, codes.QN_BAD_PASSWORD)  # as a wrong password: MNs are not confirmed
            return None
        if not device.password_ok(packet.pw):
            guard.failed(packet.mn, self.address)
            self.reject(
                errors.BAD_PASSWORD,
                f"wrong password for MN {packet.mn!r} (device {device.device!r})",
                mn=packet.mn,
                device=device,
            )
            await self._refuse(packet, codes.QN_BAD_PASSWORD)
            return None
        guard.succeeded(packet.mn, self.address)
        return device

    def _answer(self, packet: Packet) -> bool:
        """A logger's answer to the platform's request (9011, 9012, the 1011 time): True when
        handled here. Only an MN logged in on this connection, with its password, is heard."""
        device = self.devices.get(packet.mn)
        if packet.cn in REPLY_CNS:
            self.s.metrics.packets.labels("reply_received").inc()
            if device is not None and device.password_ok(packet.pw):
                ended = self.s.requests.answer(packet)
                if ended is not None:
                    self.s._ended(ended)
            return True
        if packet.cn != commands.CN_TIME_QUERY:
            return False
        request = self.s.requests.find(packet.mn, packet.qn)
        system_time = commands.param(packet, "SystemTime")
        if device is None or request is None or system_time is None or not device.password_ok(packet.pw):
            return False  # not an answer to us: judged as any other packet
        try:
            request.system_time = parse_time(system_time, "SystemTime")
        except Hj212Error as exc:
            self.reject(exc.reason, exc.detail, mn=packet.mn, device=device)
            return True
        request.answered_at_s = time.time()
        return True

    async def _record(self, packet: Packet, device: LoggerDevice, *, recovered: bool = False) -> bool:
        """Keep the packet for forwarding and history requests; False: no reply, the logger resends."""
        if self.s.recorder is None:
            return True
        try:
            await self.s.recorder.record(packet, device_id=device.device_id, tz=device.tz, recovered=recovered)
        except RecordFailed as exc:
            self.reject(RECORD_FAILED, f"packet log unavailable: {exc}", mn=packet.mn, device=device)
            return False
        return True

    async def _store(self, packet: Packet, device: LoggerDevice) -> bool:
        """Publish the packet's readings; False when the logger must not get a reply."""
        mapped, skipped = mapping.map_packet(packet, tz=device.tz, store_cns=device.store_cns or self.s.store_cns)
        for s in skipped:
            self.s.metrics.readings.labels(s.reason).inc()
            log.debug("hj212 MN=%s: %s", packet.mn, s.detail)
        if not mapped:
            self.s.metrics.packets.labels("nothing_to_store").inc()
            return True
        topic = contract.device_topic(device.park, device.enterprise, device.device, self.s.topic_root)
        try:
            await self.s.publisher.publish(topic, mapping.to_payload(mapped))
        except PublishError as exc:
            # no reply: the logger sends the packet again, and storage ignores the repeat
            self.reject(PUBLISH_FAILED, str(exc), mn=packet.mn, device=device)
            return False
        self.s.metrics.packets.labels("published").inc()
        self.s.metrics.readings.labels("published").inc(len(mapped))
        return True

    async def _refuse(self, packet: Packet, qn_rtn: int) -> None:
        if packet.wants_reply and packet.qn is not None:
            self.writer.write(
                encode.request_reply(qn=packet.qn, pw=packet.pw, mn=packet.mn, qn_rtn=qn_rtn, version=packet.version)
            )
            await self.writer.drain()

    async def _reply(self, packet: Packet, reply: Callable[..., bytes]) -> None:
        if packet.wants_reply and packet.qn is not None:
            self.writer.write(reply(qn=packet.qn, pw=packet.pw, mn=packet.mn, version=packet.version))
            await self.writer.drain()
            self.s.metrics.packets.labels("replied").inc()
