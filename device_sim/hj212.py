"""Devices that speak HJ 212 over TCP, as CEMS, wastewater analysers and air stations do.

With ``--hj212 HOST:PORT`` a device whose registry attributes carry ``hj212_mn`` and
``hj212_pw`` sends its readings as real-time (CN 2011) uploads from its own data-logger
connection to ``smartpark hj212 serve`` instead of through its MQTT gateway. The wire format is
the protocol package ``hj212``; the logger's session and reply handling, ``hj212_logger``.
All loggers run concurrently on one asyncio loop in a background thread; :meth:`submit` blocks
while ``max_pending`` uploads await their 9014 reply, so a back-fill goes as fast as the
platform replies. Faults are not applied on this path.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import SimDevice

HJ212_KINDS = frozenset({"stack_cems", "wastewater", "air_station"})


def speaks_hj212(device: SimDevice) -> bool:
    a = device.attributes
    return device.kind in HJ212_KINDS and bool(a.get("hj212_mn")) and bool(a.get("hj212_pw"))


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--hj212 {text!r}: expected HOST:PORT")
    return host or "127.0.0.1", int(port)


@dataclass
class Hj212Stats:
    uploads: int = 0  # submitted
    accepted: int = 0  # 9014 data reply received
    readings: int = 0  # values in accepted uploads
    refused: Counter[str] | None = None  # reply CN (e.g. 9011) or error -> count

    def __post_init__(self) -> None:
        self.refused = Counter()


class Hj212Sender:
    """One data-logger connection per HJ 212 device, uploads sent in order per device."""

    def __init__(
        self,
        devices: Iterable[SimDevice],
        host: str,
        port: int,
        *,
        max_pending: int = 500,
        timeout: float = 30.0,  # the reply waits for the broker's PUBACK, slow on a busy platform
        tz: str = "Asia/Shanghai",
    ) -> None:
        from zoneinfo import ZoneInfo

        from device_sim.hj212_logger import DataLogger

        self.stats = Hj212Stats()
        self._timeout = timeout
        self._slots = threading.BoundedSemaphore(max_pending)
        self._pending = 0
        self._idle = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._loggers = {
            d.key: DataLogger(
                host, port, mn=str(d.attributes["hj212_mn"]), pw=str(d.attributes["hj212_pw"]), tz=ZoneInfo(tz)
            )
            for d in devices
        }
        self._queues: dict[str, asyncio.Queue[tuple[int, dict[str, float]] | None]] = {}
        self._thread = threading.Thread(target=self._run, name="hj212-loggers", daemon=True)
        self._started = threading.Event()
        self._thread.start()
        self._started.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        for key in self._loggers:
            self._queues[key] = asyncio.Queue()
            self._loop.create_task(self._worker(key))
        self._started.set()
        self._loop.run_forever()

    async def _worker(self, key: str) -> None:
        from hj212 import codes
        from hj212.errors import Hj212Error

        logger, queue = self._loggers[key], self._queues[key]
        connected = False
        while (item := await queue.get()) is not None:
            ts_ms, values = item
            outcome = "error"
            for _attempt in range(3):  # a logger resends when no reply comes
                try:
                    if not connected:
                        await logger.connect()
                        connected = True
                    answer = await logger.upload(values, ts_ms=ts_ms, timeout=self._timeout)
                    outcome = "ok" if answer.cn == codes.CN_DATA_REPLY else answer.cn
                    break
                except (TimeoutError, OSError, Hj212Error) as exc:
                    outcome = type(exc).__name__
                    await logger.close()
                    connected = False
                    await asyncio.sleep(0.5)
                except ValueError as exc:  # a reading the protocol cannot carry
                    outcome = f"unencodable: {exc}"
                    break
            self._done(outcome, len(values))
        await logger.close()

    def _done(self, outcome: str, n: int) -> None:
        with self._idle:
            if outcome == "ok":
                self.stats.accepted += 1
                self.stats.readings += n
            else:
                assert self.stats.refused is not None
                self.stats.refused[outcome] += 1
            self._pending -= 1
            self._idle.notify_all()
        self._slots.release()

    def submit(self, device_key: str, ts_ms: int, values: Mapping[str, float]) -> None:
        """Queue one upload of a device (blocks while too many await their reply)."""
        queue = self._queues[device_key]
        self._slots.acquire()
        with self._idle:
            self._pending += 1
            self.stats.uploads += 1
        self._loop.call_soon_threadsafe(queue.put_nowait, (ts_ms, dict(values)))

    def drain(self, timeout: float = 60.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 60.0) -> None:
        self.drain(timeout)
        for queue in self._queues.values():
            self._loop.call_soon_threadsafe(queue.put_nowait, None)

        async def _settle() -> None:
            await asyncio.sleep(0.1)

        asyncio.run_coroutine_threadsafe(_settle(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()
