"""The rollup queue never makes ingest wait for a rollup batch, and loses no key across a crash
between staging and writing. Under a 40 000 readings/s load, ingest's inserts into the queue
once waited for every rollup batch that held the same keys (a transaction-id lock), and stored
nothing for minutes."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from aggregation.job import drain
from smartpark.catalogue import metric
from smartpark.db import touched
from tests.support.readings import device_id, ms, store_readings

pytestmark = pytest.mark.integration

KW = metric("elec.power_kw").id


def _bucket_us(t_ms: int) -> int:
    """A 15-minute bucket start as ingest records it: µs since 2000-01-01 UTC."""
    return (t_ms - t_ms % 900_000) * 1000 - 946_684_800_000_000


def test_ingest_queues_a_bucket_while_a_batch_holds_the_same_key(
    db: psycopg.Connection[Any], db_url: str, park: dict[str, Any]
) -> None:
    dev = device_id(db, park, "e1", "em1")
    t = ms(2026, 5, 4, 3, 1)
    store_readings(db, [(dev, KW, t, 1.0)])
    with psycopg.connect(db_url) as job, psycopg.connect(db_url, autocommit=True) as ingest:
        with job.transaction():
            touched.stage(job, limit=1_000_000)
        with job.transaction():  # a rollup batch in progress: its keys claimed, not committed
            series, _ = touched.claim(job, limit=1_000_000)
            assert series.size >= 1
            # ingest stores a late reading of the same bucket meanwhile: it must not wait
            ingest.execute("SET lock_timeout = '2s'")
            with ingest.cursor() as cur:
                touched.record(cur, device_id=[dev], metric_id=[KW], bucket_us=[_bucket_us(t)])
            raise psycopg.Rollback()  # the batch fails: its keys go back to rollup_claimed
    queued = db.execute(
        "SELECT count(*) FROM telemetry_touched WHERE device_id = %s AND metric_id = %s", (dev, KW)
    ).fetchone()
    assert queued == (1,)  # queued again for the next batch, not lost


def test_keys_staged_by_a_run_that_died_are_rolled_up_by_the_next(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    dev = device_id(db, park, "e1", "em1")
    t = ms(2026, 5, 5, 6, 2)
    store_readings(db, [(dev, KW, t + i * 60_000, float(i)) for i in range(5)])
    with db.transaction():
        touched.stage(db, limit=1_000_000)  # then the job died before its batch
    staged = db.execute("SELECT count(*) FROM rollup_claimed WHERE device_id = %s", (dev,)).fetchone()
    assert staged == (1,)
    drain(db)
    row = db.execute(
        "SELECT count, sum FROM rollup_15m WHERE device_id = %s AND metric_id = %s AND bucket = to_timestamp(%s)",
        (dev, KW, (t - t % 900_000) / 1000),
    ).fetchone()
    assert row == (5, 0.0 + 1 + 2 + 3 + 4)
    assert db.execute("SELECT count(*) FROM rollup_claimed").fetchone() == (0,)


def test_a_pass_reaches_every_series_while_live_ones_queue_again_and_then_ends(
    db: psycopg.Connection[Any], db_url: str, park: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every live series queues its current bucket again within a second. Staged from the queue's
    start each time, the job took the same low keys batch after batch: at 10 000 devices the
    upper half of the park was never rolled up, and the job's run never ended."""
    devs = [
        r[0]
        for r in db.execute(
            "SELECT device_id FROM devices JOIN enterprises USING (enterprise_id) JOIN parks p USING (park_id)"
            " WHERE p.code = %s ORDER BY device_id LIMIT 4",
            (park["parks"][0]["code"],),
        )
    ]
    assert len(devs) == 4
    t = ms(2026, 5, 6, 9, 1)
    store_readings(db, [(d, KW, t, 2.0) for d in devs])
    claim = touched.claim
    ingest = psycopg.connect(db_url, autocommit=True)

    def claim_while_live(conn: psycopg.Connection[Any], *, limit: int) -> Any:
        series, bucket = claim(conn, limit=limit)
        with ingest.cursor() as cur:  # ingest queues the same buckets again meanwhile
            touched.record(cur, device_id=devs, metric_id=[KW] * len(devs), bucket_us=[_bucket_us(t)] * len(devs))
        return series, bucket

    monkeypatch.setattr(touched, "claim", claim_while_live)
    with ingest:
        done = drain(db, batch=1)
    assert 4 <= len(done) < 10  # one pass round the queue, not a loop on the keys that come back
    counted = db.execute(
        "SELECT count(*) FROM rollup_15m WHERE metric_id = %s AND device_id = ANY(%s) AND count = 1", (KW, devs)
    ).fetchone()
    assert counted == (4,)  # the highest key too
    queued = db.execute(
        "SELECT count(*) FROM telemetry_touched WHERE metric_id = %s AND device_id = ANY(%s)", (KW, devs)
    ).fetchone()
    assert queued == (4,)  # the keys queued again wait for the next pass
