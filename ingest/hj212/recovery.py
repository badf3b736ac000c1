"""History recovery: ask connected data loggers for the data missing from their telemetry.

Every ``every_s`` the HJ 212 server looks at the last ``lookback_s`` of each connected logger's
telemetry (up to ``settle_s`` ago: newer readings may still be on their way), finds the short
buckets by the completeness rule (:mod:`ingest.hj212.gaps`) and asks the logger for the oldest
range it has not asked for within ``retry_after_s`` (HJ 212-2017 history extraction, CN 2051,
2061 or 2031 with BeginTime/EndTime; :mod:`hj212.commands`). What comes back is recorded in
``hj212_packets`` with ``recovered`` set, only where nothing of that time is stored, and
republished as the device's telemetry, where storage is idempotent: nothing is doubled.
Outstanding requests per logger and their timeout are the server's (:mod:`ingest.hj212.requests`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import psycopg

from hj212 import commands
from ingest.hj212.directory import LoggerDevice
from ingest.hj212.gaps import NATURAL_INTERVAL_S, bucket_unit, find_gaps, history_cn
from ingest.hj212.mapping import DEFAULT_STORE_CNS
from ingest.hj212.requests import Requests

log = logging.getLogger("smartpark.hj212.recovery")


@dataclass(frozen=True, slots=True)
class RecoveryLimits:
    every_s: float = 300.0
    lookback_s: float = 2 * 86_400.0
    settle_s: float = 600.0
    retry_after_s: float = 3600.0  # a range asked for is not asked again sooner
    max_range_s: float = 6 * 3600.0  # one request asks for at most this span


class Server(Protocol):
    requests: Requests
    store_cns: tuple[str, ...]

    def connected(self) -> list[LoggerDevice]: ...
    def send(self, device: LoggerDevice, frame: bytes) -> bool: ...
    def system_code(self, device: LoggerDevice) -> str: ...
    def expire_requests(self) -> None: ...


_COUNTS = """
SELECT t.device_id, date_trunc(u.unit, t.ts AT TIME ZONE p.timezone), count(DISTINCT t.ts)
FROM unnest(%(ids)s::int[], %(units)s::text[]) AS u (device_id, unit)
JOIN telemetry t ON t.device_id = u.device_id
JOIN devices d ON d.device_id = u.device_id
JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)
WHERE t.ts >= %(lo)s AND t.ts < %(hi)s
GROUP BY 1, 2
"""
_DEVICES = """
SELECT device_id, created_at,
       CASE WHEN attributes->>'interval_s' ~ '^[0-9]+(\\.[0-9]+)?$' THEN (attributes->>'interval_s')::float8 END
FROM devices WHERE device_id = ANY(%s)
"""


async def received_per_bucket(
    conn: psycopg.AsyncConnection[Any], *, units: dict[int, str], lo: datetime, hi: datetime
) -> dict[int, dict[datetime, int]]:
    """device_id -> local bucket start -> distinct reading times stored."""
    ids = list(units)
    cur = await conn.execute(_COUNTS, {"ids": ids, "units": [units[i] for i in ids], "lo": lo, "hi": hi})
    out: dict[int, dict[datetime, int]] = {i: {} for i in ids}
    for device_id, bucket, n in await cur.fetchall():
        out[device_id][bucket] = int(n)
    return out


class Recovery:
    def __init__(
        self,
        server: Server,
        connect: Callable[[], Any],
        *,
        limits: RecoveryLimits = RecoveryLimits(),
        default_interval_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.server = server
        self._connect = connect  # -> awaitable AsyncConnection (autocommit)
        self.limits = limits
        self.default_interval_s = default_interval_s
        self._clock = clock
        self._asked: dict[tuple[int, datetime], float] = {}  # (device, gap begin) -> when

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.limits.every_s)
            try:
                await self.tick()
            except (psycopg.Error, OSError) as exc:  # the database comes back: next round
                log.warning("hj212 recovery: %s", exc)

    async def tick(self) -> int:
        """One round: at most one new request per connected logger; returns how many were sent."""
        self.server.expire_requests()
        now = self._clock()
        self._asked = {k: t for k, t in self._asked.items() if now - t < self.limits.retry_after_s}
        candidates: dict[int, tuple[LoggerDevice, str]] = {}
        for device in self.server.connected():
            cn = history_cn(device.store_cns or self.server.store_cns or DEFAULT_STORE_CNS)
            if cn is not None and self.server.requests.free(device.mn):
                candidates[device.device_id] = (device, cn)
        if not candidates:
            return 0
        hi = datetime.fromtimestamp(now - self.limits.settle_s, UTC)
        lo = hi - timedelta(seconds=self.limits.lookback_s)
        units = {i: bucket_unit(cn) for i, (_, cn) in candidates.items()}
        async with await self._connect() as conn:
            counts = await received_per_bucket(conn, units=units, lo=lo, hi=hi)
            cur = await conn.execute(_DEVICES, (list(candidates),))
            facts = {i: (created, interval) for i, created, interval in await cur.fetchall()}
        sent = 0
        for device_id, (device, cn) in candidates.items():
            if device_id not in facts:
                continue  # removed from the registry meanwhile
            created, interval = facts[device_id]
            interval_s = interval or NATURAL_INTERVAL_S.get(cn, self.default_interval_s)
            gaps = find_gaps(
                counts[device_id],
                lo=max(lo, created),
                hi=hi,
                tz=device.tz,
                unit=units[device_id],
                interval_s=interval_s,
                max_range_s=self.limits.max_range_s,
            )
            gap = next((g for g in gaps if (device_id, g.begin) not in self._asked), None)
            if gap is not None and self._ask(device, cn, gap.request_range(device.tz)):
                self._asked[(device_id, gap.begin)] = now
                sent += 1
        return sent

    def _ask(self, device: LoggerDevice, cn: str, span: tuple[datetime, datetime]) -> bool:
        begin, end = span
        if device.password is None:
            return False
        now_local = datetime.fromtimestamp(self._clock(), device.tz)
        request = self.server.requests.open(device.mn, cn, now_local=now_local, begin=begin, end=end)
        if request is None:
            return False
        frame = commands.history_request(
            qn=request.qn,
            st=self.server.system_code(device),
            cn=cn,
            pw=device.password,
            mn=device.mn,
            begin=begin,
            end=end,
        )
        if not self.server.send(device, frame):
            self.server.requests.drop(device.mn)
            return False
        log.info("hj212 recovery: asked MN %s for CN %s %s..%s (QN %s)", device.mn, cn, begin, end, request.qn)
        return True
