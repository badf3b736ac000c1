"""The shared-answer cache of the overview: lifetime, keys, one computation per burst, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from api.answers import AnswerCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _counting(answer: bytes) -> tuple[list[int], Callable[[], Awaitable[bytes]]]:
    calls: list[int] = []

    async def compute() -> bytes:
        calls.append(1)
        await asyncio.sleep(0.01)  # a query in flight: others asking meanwhile must wait for it
        return answer

    return calls, compute


def test_an_answer_is_shared_until_it_expires() -> None:
    clock = Clock()
    cache = AnswerCache(5.0, clock=clock)
    calls, compute = _counting(b"a")

    async def run() -> list[bytes]:
        got = [await cache.get("k", compute)]
        clock.now += 4.9
        got.append(await cache.get("k", compute))
        clock.now += 0.2
        got.append(await cache.get("k", compute))
        return got

    assert asyncio.run(run()) == [b"a", b"a", b"a"]
    assert len(calls) == 2  # computed at 100, shared at 104.9, computed again at 105.1


def test_keys_do_not_share_and_clear_forgets() -> None:
    cache = AnswerCache(5.0, clock=Clock())
    a_calls, a = _counting(b"a")
    b_calls, b = _counting(b"b")

    async def run() -> list[bytes]:
        got = [await cache.get(("park", 1, "operator"), a)]
        got.append(await cache.get(("park", 1, "enterprise"), b))
        cache.clear()
        got.append(await cache.get(("park", 1, "operator"), a))
        return got

    assert asyncio.run(run()) == [b"a", b"b", b"a"]
    assert (len(a_calls), len(b_calls)) == (2, 1)


def test_a_burst_of_misses_computes_once() -> None:
    cache = AnswerCache(5.0, clock=Clock())
    calls, compute = _counting(b"x")

    async def run() -> list[bytes]:
        return await asyncio.gather(*(cache.get("k", compute) for _ in range(20)))

    assert asyncio.run(run()) == [b"x"] * 20
    assert len(calls) == 1


def test_an_error_is_not_kept_and_ttl_zero_computes_every_time() -> None:
    cache = AnswerCache(5.0, clock=Clock())
    attempts: list[int] = []

    async def flaky() -> bytes:
        attempts.append(1)
        if len(attempts) == 1:
            raise LookupError("no park")
        return b"ok"

    async def run() -> bytes:
        with pytest.raises(LookupError):
            await cache.get("k", flaky)
        return await cache.get("k", flaky)

    assert asyncio.run(run()) == b"ok" and len(attempts) == 2
    never = AnswerCache(0.0, clock=Clock())
    calls, compute = _counting(b"y")

    async def twice() -> None:
        await never.get("k", compute)
        await never.get("k", compute)

    asyncio.run(twice())
    assert len(calls) == 2


def test_many_scopes_do_not_grow_the_cache_without_bound() -> None:
    cache = AnswerCache(5.0, clock=Clock(), max_keys=8)

    async def run() -> None:
        for i in range(50):
            _calls, compute = _counting(b"%d" % i)
            assert await cache.get(i, compute) == b"%d" % i

    asyncio.run(run())
    assert len(cache._locks) <= 8 and len(cache._answers) <= 8
