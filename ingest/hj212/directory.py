"""Which registered device a data logger's MN is, with its password and local time zone.

Devices opt in with registry attributes ``hj212_mn`` and ``hj212_pw`` (and optionally
``hj212_cn``: the data commands stored for it). The directory is an in-memory snapshot,
reloaded periodically and, rate-limited, when an unknown MN connects.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg


@dataclass(frozen=True, slots=True)
class LoggerDevice:
    mn: str
    password: str | None
    park: str
    enterprise: str
    device: str
    device_id: int
    enterprise_id: int
    park_id: int
    tz: tzinfo
    store_cns: tuple[str, ...] | None = None  # None: the server's default

    def password_ok(self, given: str) -> bool:
        # constant time: the password is the only secret of a data logger
        return self.password is not None and hmac.compare_digest(self.password.encode(), given.encode())


SQL = """
SELECT d.attributes->>'hj212_mn', d.attributes->>'hj212_pw', d.attributes->'hj212_cn',
       p.code, e.code, d.code, d.device_id, e.enterprise_id, p.park_id, p.timezone
FROM devices d JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)
WHERE d.attributes ? 'hj212_mn'
"""


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Asia/Shanghai")  # HJ 212 times are Beijing time by the standard


def _cns(raw: Any) -> tuple[str, ...] | None:
    if isinstance(raw, list) and all(isinstance(c, str | int) for c in raw):
        return tuple(str(c) for c in raw)
    return None


def read_devices(conn: psycopg.Connection[Any]) -> list[LoggerDevice]:
    rows = conn.execute(SQL).fetchall()
    return [
        LoggerDevice(
            mn=str(mn),
            password=None if pw is None else str(pw),
            park=park,
            enterprise=ent,
            device=dev,
            device_id=int(did),
            enterprise_id=int(eid),
            park_id=int(pid),
            tz=_zone(tz),
            store_cns=_cns(cn),
        )
        for mn, pw, cn, park, ent, dev, did, eid, pid, tz in rows
    ]


class Directory:
    def __init__(
        self,
        load: Callable[[], Iterable[LoggerDevice]],
        *,
        refresh_s: float = 30.0,
        miss_refresh_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._refresh_s = refresh_s
        self._miss_refresh_s = miss_refresh_s
        self._clock = clock
        self._by_mn: Mapping[str, LoggerDevice] = MappingProxyType({})
        self._loaded_at = float("-inf")

    def reload(self) -> int:
        self._by_mn = MappingProxyType({d.mn: d for d in self._load()})
        self._loaded_at = self._clock()
        return len(self._by_mn)

    def due(self, *, missed: bool = False) -> bool:
        age = self._clock() - self._loaded_at
        return age >= (self._miss_refresh_s if missed else self._refresh_s)

    def get(self, mn: str) -> LoggerDevice | None:
        return self._by_mn.get(mn)

    def __len__(self) -> int:
        return len(self._by_mn)


def from_database(url: str) -> Callable[[], list[LoggerDevice]]:
    def load() -> list[LoggerDevice]:
        with psycopg.connect(url, autocommit=True) as conn:
            return read_devices(conn)

    return load
