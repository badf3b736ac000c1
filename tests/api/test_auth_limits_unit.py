"""The key-standing cache and the failed-authentication throttle: pure code, a fake clock."""

from __future__ import annotations

import pytest

from api.auth import AuthError
from api.standing import StandingCache
from api.throttle import FailureThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_standing_is_read_again_once_its_answer_is_older_than_the_ttl() -> None:
    clock, lookups = Clock(), []
    revoked = False

    def lookup(key_id: int) -> None:
        lookups.append(key_id)
        if revoked:
            raise AuthError(f"API key {key_id} was revoked")

    cache = StandingCache(1.0, clock=clock)
    cache.check(7, lookup)
    cache.check(7, lookup)  # fresh: no second read
    assert lookups == [7]
    revoked = True
    clock.now += 1.0  # the answer is now one TTL old: read again, and refused
    with pytest.raises(AuthError, match="revoked"):
        cache.check(7, lookup)
    with pytest.raises(AuthError, match="revoked"):  # the refusal is remembered too
        cache.cached(7)
    assert lookups == [7, 7]


def test_standing_cache_stays_bounded() -> None:
    clock = Clock()
    cache = StandingCache(1.0, max_keys=3, clock=clock)
    for key_id in range(10):
        cache.check(key_id, lambda _k: None)
    assert len(cache._seen) <= 3


def test_throttle_refuses_after_the_limit_until_the_window_passes() -> None:
    clock = Clock()
    throttle = FailureThrottle(limit=3, window_s=60, clock=clock)
    for _ in range(3):
        assert throttle.retry_after("10.0.0.1") is None
        throttle.failed("10.0.0.1")
    clock.now += 20
    assert throttle.retry_after("10.0.0.1") == 40  # the rest of the 60 s window
    assert throttle.retry_after("10.0.0.2") is None  # per source address
    clock.now += 40
    assert throttle.retry_after("10.0.0.1") is None


def test_throttle_forgets_the_oldest_sources_beyond_its_bound() -> None:
    throttle = FailureThrottle(limit=1, window_s=60, max_sources=2, clock=Clock())
    for source in ("a", "b", "c"):
        throttle.failed(source)
    assert throttle.retry_after("a") is None and throttle.retry_after("c") == 60
    with pytest.raises(ValueError, match="positive"):
        FailureThrottle(limit=0, window_s=1)
