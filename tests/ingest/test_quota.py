"""Issue 14 M8: the message quota per enterprise (a token bucket), pure."""

from __future__ import annotations

import pytest

from ingest.quota import Quota, QuotaLimits


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_the_sustained_rate() -> None:
    clock = Clock()
    quota = Quota(QuotaLimits(rate=10, burst=100), clock=clock)
    assert sum(quota.allow("p/e1") for _ in range(150)) == 100
    assert quota.allow("p/e2")  # another enterprise has its own bucket
    clock.now = 2.0  # two seconds refill 20 messages
    assert sum(quota.allow("p/e1") for _ in range(50)) == 20


def test_zero_means_no_quota_and_limits_are_checked() -> None:
    quota = Quota(QuotaLimits(rate=0, burst=1))
    assert all(quota.allow("p/e1") for _ in range(10_000))
    with pytest.raises(ValueError, match="burst 0"):
        QuotaLimits(burst=0)


def test_memory_is_bounded() -> None:
    clock = Clock()
    quota = Quota(QuotaLimits(rate=1, burst=5, max_sources=100), clock=clock)
    for i in range(10_000):
        clock.now += 0.001
        quota.allow(f"p/e{i}")
    assert len(quota._buckets) <= 100
