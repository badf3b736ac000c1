"""Data loggers' clocks: asked every ``every_s``, set when off by more than ``max_skew_s``.

A logger's DataTime is its own clock: a logger that runs late files its readings under the
wrong minute. The HJ 212 server asks each connected logger its time (CN 1011), records the skew
(the logger's SystemTime, read in the park's time zone, minus the platform's time when the
answer arrived) in ``hj212_logger_clock``, and when the skew is larger than allowed sets the
logger to the platform's time (CN 1012, HJ 212-2017 command-code table) and records the setting
once the logger confirms it (9012 ExeRtn=1). The allowed skew is a platform setting
(``SMARTPARK_HJ212_MAX_CLOCK_SKEW_S``): the bureaus' figure for loggers is not in HJ 212 itself
(verify the one your bureau applies).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg

from hj212 import commands
from ingest.hj212 import clock_store
from ingest.hj212.directory import LoggerDevice
from ingest.hj212.recovery import Server
from ingest.hj212.requests import Outstanding

log = logging.getLogger("smartpark.hj212.clock")


@dataclass(frozen=True, slots=True)
class ClockLimits:
    every_s: float = 3600.0
    max_skew_s: float = 60.0


def skew_s(request: Outstanding, tz: Any) -> float | None:
    """The logger's time minus the platform's, from a finished time query (None: no answer)."""
    if request.system_time is None or request.answered_at_s is None:
        return None
    return request.system_time.replace(tzinfo=tz).timestamp() - request.answered_at_s


class ClockCheck:
    def __init__(
        self,
        server: Server,
        connect: Callable[[], Any],
        *,
        limits: ClockLimits = ClockLimits(),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.server = server
        self._connect = connect  # -> awaitable AsyncConnection (autocommit)
        self.limits = limits
        self._clock = clock
        self._asked: dict[str, float] = {}  # MN -> when its time was last asked
        self._setting: dict[str, float] = {}  # MN -> the skew a pending setting corrects
        self._writes: set[asyncio.Task[None]] = set()
        self._in_order = asyncio.Lock()  # a setting's record after its check's (FIFO lock)

    async def run(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(min(60.0, self.limits.every_s))

    def tick(self) -> int:
        """Ask the time of every connected logger not asked within ``every_s``; returns how many."""
        self.server.expire_requests()
        now = self._clock()
        sent = 0
        for device in self.server.connected():
            if now - self._asked.get(device.mn, float("-inf")) < self.limits.every_s:
                continue
            if self._send(device, commands.CN_TIME_QUERY):
                self._asked[device.mn] = now
                sent += 1
        return sent

    def finished(self, device: LoggerDevice, request: Outstanding) -> None:
        """The server's listener: a time query answered or a setting confirmed."""
        if request.cn == commands.CN_TIME_QUERY and request.ok:
            skew = skew_s(request, device.tz)
            if skew is None:
                return
            self._write(clock_store.checked, device, skew)
            if abs(skew) > self.limits.max_skew_s and self._send(device, commands.CN_TIME_SET):
                self._setting[device.mn] = skew
                log.info("hj212 clock: MN %s is off by %.0f s, setting it", device.mn, skew)
        elif request.cn == commands.CN_TIME_SET:
            corrected = self._setting.pop(device.mn, None)
            if request.ok and corrected is not None:
                self._write(clock_store.was_set, device, corrected)
            elif not request.ok:
                log.warning("hj212 clock: MN %s did not set its time (%s)", device.mn, request.outcome)

    def _send(self, device: LoggerDevice, cn: str) -> bool:
        if device.password is None:
            return False
        now_local = datetime.fromtimestamp(self._clock(), device.tz)
        request = self.server.requests.open(device.mn, cn, now_local=now_local)
        if request is None:
            return False
        st = self.server.system_code(device)
        if cn == commands.CN_TIME_SET:
            frame = commands.time_set(
                qn=request.qn, st=st, pw=device.password, mn=device.mn, system_time=now_local.replace(tzinfo=None)
            )
        else:
            frame = commands.time_query(qn=request.qn, st=st, pw=device.password, mn=device.mn)
        if not self.server.send(device, frame):
            self.server.requests.drop(device.mn)
            return False
        return True

    def _write(self, write: Callable[..., Any], device: LoggerDevice, skew: float) -> None:
        async def go() -> None:
            try:
                async with self._in_order, await self._connect() as conn:
                    await write(
                        conn, device_id=device.device_id, at=datetime.fromtimestamp(self._clock(), UTC), skew_s=skew
                    )
            except (psycopg.Error, OSError) as exc:
                log.warning("hj212 clock of MN %s not recorded: %s", device.mn, exc)

        task = asyncio.get_running_loop().create_task(go())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def settle(self) -> None:
        """Wait for the records being written (tests, shutdown)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)
