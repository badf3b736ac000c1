"""hj212_packets is bounded: the scheduler's retention deletes packets older than the policy,
at its boundary, batch by batch, and never one still queued for a target."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from forwarding import store
from smartpark.settings import Settings, StorageSettings
from storage.retention import AGGREGATES, CATEGORIES, Policy, apply
from tests.support.factories import unique_code

pytestmark = pytest.mark.integration

DAYS = 30


def test_packets_past_the_retention_go_and_queued_ones_stay(
    settings: Settings, hj212_park: dict[str, Any], db: psycopg.Connection[Any]
) -> None:
    park = hj212_park["parks"][0]["code"]
    (dev,) = db.execute(
        "SELECT d.device_id FROM devices d JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)"
        " WHERE p.code = %s AND d.code = 'cems000'",
        (park,),
    ).fetchone() or (None,)
    with db.transaction():
        target = store.put_target(
            db,
            target={
                "name": f"t-{unique_code()}",
                "host": "10.0.0.9",
                "port": 9000,
                "version": "2017",
                "reply": True,
                "over_time_s": 5.0,
                "re_count": 3,
                "max_rate": 100.0,
                "window": 8,
                "enabled": True,
            },
            outlets=[],
        )
    t0 = datetime(2026, 1, 26, 8, tzinfo=UTC)
    ages = {"old": DAYS * 1440 + 1, "older": DAYS * 1440 + 600, "edge": DAYS * 1440 - 1, "new": 5}  # minutes ago
    packets = [
        store.Recorded(dev, "31", "2051", f"2026012608{i:02d}00000", t0.replace(minute=i), f"DataTime=x;a21026-Avg={i}")
        for i in range(len(ages) + 1)
    ]

    async def fill() -> None:
        async with await psycopg.AsyncConnection.connect(settings.database_url or "", autocommit=True) as c:
            await store.record(c, packets=packets)

    asyncio.run(fill())
    ids = [
        r[0]
        for r in db.execute(
            "SELECT packet_id FROM hj212_packets WHERE device_id = %s ORDER BY packet_id", (dev,)
        ).fetchall()
    ]
    named = dict(zip([*ages, "queued"], ids, strict=True))
    for name, minutes in [*ages.items(), ("queued", DAYS * 1440 + 600)]:
        db.execute(
            "UPDATE hj212_packets SET received_at = now() - %s * interval '1 minute' WHERE packet_id = %s",
            (minutes, named[name]),
        )
    # an old packet still waiting for its target (e.g. a bureau down for longer than the retention)
    db.execute("INSERT INTO hj212_forward_outbox (target_id, packet_id) VALUES (%s, %s)", (target, named["queued"]))

    policy = _only_packets(DAYS)
    assert store.expire_packets(db, older_than_days=DAYS, batch=1) == 2  # one row per statement, to the end
    assert apply(db, policy=policy)["hj212_packets"] == 0  # nothing more to delete
    left = {r[0] for r in db.execute("SELECT packet_id FROM hj212_packets WHERE device_id = %s", (dev,)).fetchall()}
    assert left == {named["edge"], named["new"], named["queued"]}


def _only_packets(days: int) -> Policy:
    """A policy that keeps everything but the packet log forever."""
    return Policy(
        hot_days=0,
        category_days=dict.fromkeys(CATEGORIES, 0),
        table_days=dict.fromkeys(AGGREGATES, 0),
        cold=False,
        hj212_packets_days=days,
    )


def test_the_default_and_its_limits() -> None:
    assert StorageSettings().hj212_packets_days == 180
    assert Policy.of(StorageSettings(), hot_days=90).hj212_packets_days == 180
    with pytest.raises(ValueError, match="retention of hj212_packets: -1 days"):
        _only_packets(-1)
    with pytest.raises(ValueError, match="must be at least 1"):
        store.expire_packets(None, older_than_days=0)  # type: ignore[arg-type]
