"""Message quotas per enterprise (pure): what one gateway account can make the platform store.

The broker has no rate limits (Mosquitto 2.0 bounds packet sizes, queues and in-flight windows,
not rates), so the ingester keeps a token bucket per topic enterprise, the most a gateway's
account reaches: ``rate`` messages a second sustained, ``burst`` at once (a gateway catching up
after an outage). A message over quota is refused with its reason and recorded, never stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    rate: float = 1000.0  # messages per second per enterprise; 0 = no quota
    burst: int = 20_000
    max_sources: int = 100_000

    def __post_init__(self) -> None:
        if self.rate < 0 or self.burst < 1 or self.max_sources < 1:
            raise ValueError(f"quota {self.rate}/s, burst {self.burst}, {self.max_sources} sources: out of range")


DEFAULT_QUOTA = QuotaLimits()


class Quota:
    def __init__(self, limits: QuotaLimits = DEFAULT_QUOTA, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # source -> (tokens, at)

    def allow(self, source: str) -> bool:
        lim = self.limits
        if lim.rate == 0:
            return True
        now = self._clock()
        tokens, at = self._buckets.get(source, (float(lim.burst), now))
        tokens = min(float(lim.burst), tokens + (now - at) * lim.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        if source not in self._buckets and len(self._buckets) >= lim.max_sources:
            self._forget_full(now)
        self._buckets[source] = (tokens, now)
        return allowed

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled (they would start full anyway)."""
        lim = self.limits
        full = [s for s, (t, at) in self._buckets.items() if t + (now - at) * lim.rate >= lim.burst]
        for s in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[s]
