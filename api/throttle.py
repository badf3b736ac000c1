"""Failed API-key authentications per source address, and the pause they earn (pure code).

A key's secret has 256 bits, so guessing one is hopeless; what the limit stops is a client that
hammers the key lookup (one database read each) or probes prefixes. After ``limit`` failures from
one address within ``window_s`` seconds, that address's key authentications answer 429 with
``Retry-After`` until the window that counted them has passed; a success does not reset the
count. Tokens are not limited here: checking one needs no lookup by a guessable value.

Per API process, in memory, for at most ``max_sources`` addresses (the oldest are forgotten).
The address is the TCP peer (behind a reverse proxy run uvicorn with ``--proxy-headers``).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class FailureThrottle:
    def __init__(
        self,
        *,
        limit: int,
        window_s: float,
        max_sources: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError(f"limit {limit} and window {window_s} s must be positive")
        self.limit = limit
        self.window_s = window_s
        self.max_sources = max_sources
        self.clock = clock
        self._windows: OrderedDict[str, tuple[float, int]] = OrderedDict()  # source -> (start, failures)
        self._lock = threading.Lock()

    def retry_after(self, source: str) -> int | None:
        """Seconds ``source`` must wait before its next attempt, or None if it may try now."""
        with self._lock:
            start, failures = self._current(source)
            if failures < self.limit:
                return None
            return max(1, math.ceil(start + self.window_s - self.clock()))

    def failed(self, source: str) -> None:
        with self._lock:
            start, failures = self._current(source)
            self._windows[source] = (start, failures + 1)
            self._windows.move_to_end(source)
            while len(self._windows) > self.max_sources:
                self._windows.popitem(last=False)

    def _current(self, source: str) -> tuple[float, int]:
        now = self.clock()
        start, failures = self._windows.get(source, (now, 0))
        if now - start >= self.window_s:
            return now, 0
        return start, failures
