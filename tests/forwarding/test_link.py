"""One target's link against an independent upstream (tests/support/hj212_upstream.py), without
the database: the outbox is in memory. HJ 212-2017 communication timeout: OverTime, ReCount."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from forwarding import store
from forwarding.link import Link, TokenBucket
from hj212.packet import Packet
from tests.support.hj212_upstream import Behaviour, Upstream
from tests.support.ports import free_port

T0 = datetime(2026, 1, 26, 8, 0, tzinfo=UTC)


class MemoryOutbox:
    def __init__(self, rows: list[store.Pending]) -> None:
        self.rows = {r.outbox_id: r for r in rows}
        self.deleted: list[int] = []

    async def pending(
        self, *, target_id: int, after: int, limit: int, delivered: list[int] | None = None
    ) -> list[store.Pending]:
        await self.delivered(outbox_ids=delivered or [])
        return [self.rows[i] for i in sorted(self.rows) if i > after][:limit]

    async def delivered(self, *, outbox_ids: list[int]) -> None:
        for i in outbox_ids:
            self.deleted.append(i)
            self.rows.pop(i, None)

    async def queue_history(self, **_: object) -> int:
        return 0


def queued(n: int, outlets: int = 3) -> list[store.Pending]:
    rows = []
    for i in range(n):
        t = T0 + timedelta(minutes=i // outlets)
        qn = t.strftime("%Y%m%d%H%M%S") + "000"
        cp = f"{t.strftime('DataTime=%Y%m%d%H%M%S')};a21026-Avg={i},a21026-Flag=N"
        rows.append(store.Pending(i + 1, i + 1, False, "31", "2051", qn, t, cp, f"MN{i % outlets:04d}", "pw"))
    return rows


def target(port: int, **kw: object) -> store.Target:
    base: dict[str, object] = {"over_time_s": 0.3, "re_count": 2, "max_rate": 5000.0, "window": 16}
    return store.Target(1, "bureau", "127.0.0.1", port, **{**base, **kw})  # type: ignore[arg-type]


def deliver(
    link: Link,
    outbox: MemoryOutbox,
    *,
    until: Callable[[], bool] | None = None,
    during: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run the link until the outbox is empty (and ``until`` holds)."""

    async def scenario() -> None:
        task = asyncio.create_task(link.run())
        if during is not None:
            await during()
        for _ in range(600):
            if not outbox.rows and (until is None or until()):
                break
            await asyncio.sleep(0.05)
        link.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())


def keys(packets: list[Packet]) -> list[tuple[str, str | None]]:
    return [(p.mn, p.qn) for p in packets]


def expected(rows: list[store.Pending]) -> list[tuple[str, str | None]]:
    return [(r.mn or "", r.qn) for r in rows]


def test_every_packet_arrives_once_in_the_order_queued(upstream: Upstream) -> None:
    rows = queued(300)
    outbox = MemoryOutbox(rows)
    link = Link(target(upstream.port), outbox)
    deliver(link, outbox)
    assert keys(upstream.data()) == expected(rows)
    assert outbox.deleted == [r.outbox_id for r in rows]
    assert (link.status.sent, link.status.delivered, link.status.resent) == (300, 300, 0)
    assert link.status.last_reply is not None


def test_a_packet_without_reply_is_resent_after_overtime_with_its_qn(upstream: Upstream) -> None:
    rows = queued(20)
    lost = (rows[4].mn or "", rows[4].qn)
    upstream.behaviour = Behaviour(drop=lambda p, nth: (p.mn, p.qn) == lost and nth == 1)
    outbox = MemoryOutbox(rows)
    link = Link(target(upstream.port), outbox)
    deliver(link, outbox)
    assert upstream.seen[lost] == 2  # sent, no reply within OverTime, sent again
    assert all(n == 1 for k, n in upstream.seen.items() if k != lost)
    assert link.status.resent == 1
    assert sorted(outbox.deleted) == [r.outbox_id for r in rows]


def test_after_recount_resends_the_packet_stays_queued_and_the_link_is_opened_again(upstream: Upstream) -> None:
    rows = queued(5)
    first = (rows[0].mn or "", rows[0].qn)
    re_count = 2
    # no reply to the first send nor to the ReCount resends: 1 + ReCount sends on the first connection
    upstream.behaviour = Behaviour(drop=lambda p, nth: (p.mn, p.qn) == first and nth <= 1 + re_count)
    outbox = MemoryOutbox(rows)
    link = Link(target(upstream.port, re_count=re_count, window=1), outbox)
    deliver(link, outbox)
    assert upstream.seen[first] == 1 + re_count + 1  # then sent once more on the new connection
    assert link.status.last_error is not None and "ReCount 2" in link.status.last_error
    # window 1: nothing overtook the packet that stayed queued
    assert [k for k in keys(upstream.data()) if k != first] == expected(rows[1:])


def test_a_target_that_is_down_gets_its_backlog_in_order_when_it_returns() -> None:
    up = Upstream(free_port())  # not listening: connections are refused
    try:
        rows = queued(200)
        outbox = MemoryOutbox(rows)
        link = Link(target(up.port), outbox)

        async def outage() -> None:
            await asyncio.sleep(1.5)  # at least one refused connection and a back-off
            assert link.status.last_error is not None and "connect to" in link.status.last_error
            assert len(outbox.rows) == 200
            up.accept()

        deliver(link, outbox, during=outage)
        assert keys(up.data()) == expected(rows)
    finally:
        up.close()


def test_an_upstream_that_cuts_the_connection_mid_backlog_loses_nothing(upstream: Upstream) -> None:
    rows = queued(400)
    outbox = MemoryOutbox(rows)
    link = Link(target(upstream.port, max_rate=400.0), outbox)

    async def cut() -> None:
        while len(upstream.data()) < 100:
            await asyncio.sleep(0.01)
        upstream.refuse()
        await asyncio.sleep(0.5)
        upstream.accept()

    deliver(link, outbox, during=cut)
    got = set(keys(upstream.data()))
    assert got == set(expected(rows))
    # resent: at most what was awaiting a reply when the connection was cut (the window)
    assert sum(n - 1 for n in upstream.seen.values()) <= 16


def test_a_target_without_replies_has_a_packet_delivered_once_written(upstream: Upstream) -> None:
    rows = queued(50)
    outbox = MemoryOutbox(rows)
    link = Link(target(upstream.port, reply=False), outbox)
    deliver(link, outbox, until=lambda: len(upstream.data()) == 50)
    assert keys(upstream.data()) == expected(rows)
    assert all(not p.wants_reply for p in upstream.data())


def test_the_token_bucket_allows_rate_per_second_after_a_short_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(100.0, clock=lambda: now[0])
    taken = 0
    while now[0] < 10.0:
        wait = bucket.wait_s()
        if wait == 0:
            taken += 1
        else:
            now[0] += wait
    # one token at the start, then one every 1/100 s: 1 + 100 × 10 s, give or take the last one
    assert 1000 <= taken <= 1001
    with pytest.raises(ValueError, match="rate 0"):
        TokenBucket(0)


def test_the_upstreams_time_query_and_history_request_are_answered(upstream: Upstream) -> None:
    from forwarding.requests import RequestHandler
    from hj212.frame import encode_frame
    from hj212.packet import decode_frame

    class History(MemoryOutbox):
        def __init__(self) -> None:
            super().__init__([])
            self.asked: list[tuple[str, str, datetime, datetime]] = []

        async def queue_history(self, **kw: Any) -> int:
            self.asked.append((kw["mn"], kw["cn"], kw["begin"], kw["end"]))
            return 3

    outbox = History()
    link = Link(target(upstream.port), outbox)
    link.on_request = RequestHandler(link, outbox).handle
    # HJ 212-2017: 1011 time query; 2051 with BeginTime/EndTime extracts minute data
    time_query = encode_frame("QN=20260126080000001;ST=31;CN=1011;PW=pw;MN=MN0001;Flag=5;CP=&&PolId=a21026&&")
    history = encode_frame(
        "QN=20260126080000002;ST=31;CN=2051;PW=pw;MN=MN0001;Flag=5;CP=&&BeginTime=20260126070000;EndTime=20260126075900&&"
    )

    async def ask() -> None:
        while not upstream.connections():
            await asyncio.sleep(0.02)
        upstream.send(time_query + history)
        while len(upstream.other) < 5:
            await asyncio.sleep(0.02)

    deliver(link, outbox, during=ask)
    answers = [decode_frame(f) for f in upstream.other]
    assert [(a.cn, dict(a.params).get("QnRtn"), dict(a.params).get("ExeRtn")) for a in answers] == [
        ("9011", "1", None),
        ("1011", None, None),
        ("9012", None, "1"),
        ("9011", "1", None),
        ("9012", None, "1"),
    ]
    assert "SystemTime" in dict(answers[1].params)
    bj = ZoneInfo("Asia/Shanghai")
    assert outbox.asked == [
        ("MN0001", "2051", datetime(2026, 1, 26, 7, tzinfo=bj), datetime(2026, 1, 26, 7, 59, tzinfo=bj))
    ]
