"""Issue 14 H5: every refused message was a rejected_messages row (and HJ 212 two log lines), so
an unauthenticated flood filled the disk. Refusals now fold into counted rows with a per-source
budget per minute; the counts still add up to every refusal."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest

from ingest.batch import Rejection
from ingest.rejections import (
    REJECTIONS_CAPPED,
    LogBudget,
    RejectionFolder,
    RejectionLimits,
    mqtt_source,
    peer_source,
    record_rejections,
)
from tests.support.factories import unique_code

MINUTE_MS = 60_000
T0 = 1_764_115_200_000  # 2025-11-26T00:00:00Z, on a minute boundary


def refusal(topic: str, ms: int, reason: str = "unknown_device", device: str | None = "x1") -> Rejection:
    return Rejection(ms, topic, reason, f"{reason} on {device}", "{}", device=device)


def test_sources_are_what_the_sender_cannot_vary() -> None:
    assert mqtt_source("smartpark/v1/p1/e1/gateway/gw1/telemetry") == "smartpark/v1/p1/e1"
    assert mqtt_source("smartpark/v1/p1/e1/anything-else") == "smartpark/v1/p1/e1"
    assert peer_source("10.0.0.7:50123") == peer_source("10.0.0.7:50999") == "hj212://10.0.0.7"
    assert peer_source("::1:4000") == "hj212://::1"


def test_repeats_fold_and_a_source_has_a_row_budget_per_minute() -> None:
    folder = RejectionFolder(RejectionLimits(rows_per_source=5))
    topic = "smartpark/v1/p1/e1/gateway/gw1/telemetry"
    # 3 000 refusals in one minute: 1 000 of one kind, 2 000 with a new device code each
    same = [refusal(topic, T0 + i) for i in range(1000)]
    varied = [refusal(topic, T0 + i, device=f"d{i}") for i in range(2000)]
    writes = folder.fold((mqtt_source(r.topic), r) for r in same + varied)
    assert len(writes) == 5 + 1
    assert sum(w.count for w in writes) == 3000
    (capped,) = [w for w in writes if w.sample.reason_code == REJECTIONS_CAPPED]
    assert capped.count == 2000 - 4  # the first four new codes still got their own rows
    first = next(w for w in writes if w.sample.device == "x1")
    assert (first.count, first.first_ms, first.last_ms) == (1000, T0, T0 + 999)
    # the same rows keep counting in a later batch of the same minute ...
    again = folder.fold([(mqtt_source(topic), refusal(topic, T0 + 5000))])
    assert [(w.row_key, w.count) for w in again] == [(first.row_key, 1)]
    # ... and the next minute starts a new budget
    later = folder.fold([(mqtt_source(topic), refusal(topic, T0 + MINUTE_MS))])
    assert later[0].row_key != first.row_key and later[0].first_ms == T0 + MINUTE_MS


def test_other_sources_keep_their_own_budget_until_too_many_sources() -> None:
    folder = RejectionFolder(RejectionLimits(rows_per_source=2, max_sources=3))
    writes = folder.fold(
        (f"smartpark/v1/p1/e{s}", refusal(f"smartpark/v1/p1/e{s}/x/telemetry", T0, device=f"d{i}"))
        for s in range(10)
        for i in range(4)
    )
    # three sources with 2 rows + 1 counting row each, the other seven share one more budget
    assert len(writes) == 4 * 3
    assert sum(w.count for w in writes) == 40


def test_log_lines_per_source_are_rate_limited() -> None:
    budget = LogBudget(per_minute=3)
    allowed = [budget.allow("hj212://10.0.0.1", 60.0 + i / 1000) for i in range(1000)]
    assert allowed.count(True) == 3 and budget.exhausted("hj212://10.0.0.1") is False
    assert budget.allow("hj212://10.0.0.2", 61.0) and budget.allow("hj212://10.0.0.1", 120.0)


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="rows per source per minute 0"):
        RejectionLimits(rows_per_source=0)


@pytest.mark.integration
def test_thousands_of_refused_messages_add_a_bounded_number_of_rows(db: psycopg.Connection[Any]) -> None:
    park = unique_code("rej")
    topic = f"smartpark/v1/{park}/e1/gateway/gw1/telemetry"
    folder = RejectionFolder(RejectionLimits(rows_per_source=20))
    sent = 0
    for batch in range(10):  # ten batches (transactions) of 1 000 refusals within one minute
        rejections = [
            refusal(topic, T0 + batch * 1000 + i, reason=("unknown_device", "out_of_range")[i % 2], device=f"d{i % 50}")
            for i in range(1000)
        ]
        with db.transaction(), db.cursor() as cur:
            record_rejections(cur, rejections=rejections, folder=folder)
        sent += len(rejections)
    # a transaction that rolls back leaves its counts out, and the rows still exist for the next
    with pytest.raises(RuntimeError), db.transaction(), db.cursor() as cur:
        record_rejections(cur, rejections=[refusal(topic, T0 + 20_000, device="d0")], folder=folder)
        raise RuntimeError("rolled back")
    rows = db.execute(
        "SELECT count(*), sum(count), min(received_at), max(last_seen) FROM rejected_messages WHERE topic = %s",
        (topic,),
    ).fetchone()
    assert rows is not None
    assert rows[0] == 21 and rows[1] == sent == 10_000
    assert (rows[2].timestamp() * 1000, rows[3].timestamp() * 1000) == (T0, T0 + 9999)


@pytest.mark.integration
def test_a_flood_of_refused_hj212_frames_adds_a_bounded_number_of_rows(
    settings: Any, db: psycopg.Connection[Any], caplog: pytest.LogCaptureFixture
) -> None:
    from tests.hj212.conftest import running_gateway

    frames = 3000

    async def flood() -> float:
        async with running_gateway(settings) as gw:
            for _ in range(30):  # many connections from one address, 100 refused frames each
                _reader, writer = await asyncio.open_connection("127.0.0.1", gw.port)
                writer.write(b"##0010garbage!\r\n" * 100)
                await writer.drain()
                writer.close()
                await writer.wait_closed()
            while gw.rejected("bad_length") + gw.rejected("bad_frame") + gw.rejected("too_many_refused") < 1:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            await gw.server.close_connections()
            await gw.rejections.flush()
            return sum(
                gw.registry.get_sample_value("smartpark_hj212_rejected_total", {"reason": r}) or 0 for r in _reasons(gw)
            )

    refused = asyncio.run(flood())
    rows = db.execute(
        "SELECT count(*), coalesce(sum(count), 0) FROM rejected_messages"
        " WHERE source = 'hj212://127.0.0.1' AND received_at > now() - interval '5 minutes'"
    ).fetchone()
    assert rows is not None
    assert refused >= frames // 2
    assert rows[0] <= 2 * (20 + 1)  # the budget of this minute, and of the next if it turned
    assert rows[1] >= refused  # other runs on this machine may add to the same address
    assert caplog.text.count("hj212 ") <= 2 * 2 * 5 + 4


def _reasons(gw: Any) -> list[str]:
    return [
        s.labels["reason"]
        for metric in gw.registry.collect()
        if metric.name == "smartpark_hj212_rejected"
        for s in metric.samples
        if s.name.endswith("_total")
    ]
