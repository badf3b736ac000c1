"""Encoded answers shared for a few seconds by every caller of the same scope.

The ops-centre overview is the same for every operator of a park, and each open dashboard polls
it: within ``ttl_s`` they share one computed answer instead of each running the same five
queries. Staleness is bounded by ``ttl_s`` (alarms and readings arrive from other processes, so
no write here could invalidate them all); this process's own alarm actions clear the cache, so
the operator who acknowledges sees it at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable


class AnswerCache:
    """Key -> encoded answer for ``ttl_s`` seconds; concurrent misses of one key compute once.

    The key must hold everything the answer depends on, the caller's scope included (role, park,
    enterprise, categories): answers are shared between callers, never between scopes.
    """

    def __init__(self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 1024) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._max_keys = max_keys
        self._answers: dict[Hashable, tuple[float, bytes]] = {}
        self._locks: dict[Hashable, asyncio.Lock] = {}

    def clear(self) -> None:
        """Forget every answer (safe from a worker thread: one dict operation)."""
        self._answers.clear()

    def _fresh(self, key: Hashable) -> bytes | None:
        hit = self._answers.get(key)
        return hit[1] if hit is not None and hit[0] > self._clock() else None

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        if self.ttl_s <= 0:
            return await compute()
        answer = self._fresh(key)
        if answer is not None:
            return answer
        if len(self._locks) >= self._max_keys and key not in self._locks:
            self._locks.clear()  # many scopes at once: start over rather than grow without bound
            self._answers.clear()
        async with self._locks.setdefault(key, asyncio.Lock()):
            answer = self._fresh(key)  # computed by the caller that held the lock
            if answer is None:
                answer = await compute()  # an error is not kept: the next caller tries again
                self._answers[key] = (self._clock() + self.ttl_s, answer)
            return answer
