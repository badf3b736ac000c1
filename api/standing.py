"""Whether the API key behind a token still stands, remembered for at most ``ttl_s`` (pure code).

A token is verified by its signature, but a signature cannot say that its key was revoked, that
the key expired or that its user was disabled since it was issued. Every request with a token
asks this cache; a miss (or an answer older than ``ttl_s``, one second by default,
``SMARTPARK_API_TOKEN_CHECK_S``) costs one indexed read of ``api_keys``. So revoking a key or
disabling a user ends every token of it within that time, in every API process, while a busy
dashboard still costs one read per key and second, not one per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from api.auth import AuthError


@dataclass(frozen=True, slots=True)
class _Seen:
    at: float
    refusal: str | None  # None: the key stands


class StandingCache:
    """``key_id`` → the last answer of ``lookup`` (raises AuthError when the key does not stand)."""

    def __init__(self, ttl_s: float, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self.clock = clock
        self._seen: dict[int, _Seen] = {}
        self._lock = threading.Lock()

    def cached(self, key_id: int) -> bool | None:
        """True/False when a fresh answer is known (raising AuthError for False), None on a miss."""
        seen = self._seen.get(key_id)
        if seen is None or self.clock() - seen.at >= self.ttl_s:
            return None
        if seen.refusal is not None:
            raise AuthError(seen.refusal)
        return True

    def check(self, key_id: int, lookup: Callable[[int], object]) -> None:
        """AuthError unless the key stands; ``lookup`` runs only when no fresh answer is known."""
        if self.cached(key_id):
            return
        try:
            lookup(key_id)
        except AuthError as exc:
            self._remember(key_id, str(exc))
            raise
        self._remember(key_id, None)

    def _remember(self, key_id: int, refusal: str | None) -> None:
        now = self.clock()
        with self._lock:
            if len(self._seen) >= self.max_keys:  # bounded: drop what is stale, else everything
                self._seen = {k: v for k, v in self._seen.items() if now - v.at < self.ttl_s}
                if len(self._seen) >= self.max_keys:
                    self._seen.clear()
            self._seen[key_id] = _Seen(now, refusal)
