"""Storage holds safety readings the alarms never saw: the health route says which park and
bucket, against the real database and the real alerting service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg
import pytest

from aggregation.job import drain
from alerting import coverage
from smartpark.catalogue import metric
from smartpark.settings import Settings
from tests.support.alerting import Gateway, running
from tests.support.readings import device_id, store_readings
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

LEL = metric("safety.lel_pct").id


def _park_id(db: psycopg.Connection[Any], park: dict[str, Any]) -> int:
    row = db.execute("SELECT park_id FROM parks WHERE code = %s", (park["parks"][0]["code"],)).fetchone()
    assert row is not None
    return int(row[0])


def test_a_bucket_with_fewer_judged_than_stored_is_named(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    pid, dev = _park_id(db, park), device_id(db, park, "e1", "gd1")
    t0 = int(datetime(2026, 5, 7, 10, 0, tzinfo=UTC).timestamp() * 1000)
    store_readings(db, [(dev, LEL, t0 + i * 1000, 1.0) for i in range(10)])
    drain(db)
    after = datetime.fromtimestamp((t0 + coverage.Q_MS) / 1000 + coverage.CLOSED_AFTER_S + 1, UTC)
    tally = coverage.Tally()
    seen = np.arange(4)  # the alarms judged 4 of the 10 (a stale member session took the rest)
    tally.add(
        park_of_entity=np.array([pid], dtype=np.int64),
        entity=np.zeros(seen.size, dtype=np.int32),
        metric=np.full(seen.size, LEL, dtype=np.int32),
        ts_ms=t0 + seen * 1000,
    )
    tally.write(db)
    [missing] = coverage.compare(db, park_ids=[pid], now=after)
    assert (missing["park_id"], missing["judged"], missing["stored"]) == (pid, 4, 10)
    assert missing["bucket"] == datetime.fromtimestamp(t0 / 1000, UTC)
    assert coverage.compare(db, park_ids=[pid + 1_000_000], now=after) == []  # another park's view

    tally.add(
        park_of_entity=np.array([pid], dtype=np.int64),
        entity=np.zeros(6, dtype=np.int32),
        metric=np.full(6, LEL, dtype=np.int32),
        ts_ms=t0 + np.arange(4, 10) * 1000,
    )
    tally.write(db)
    assert coverage.compare(db, park_ids=[pid], now=after) == []  # all judged: nothing to say


def test_buckets_before_the_alarms_first_judged_the_park_are_not_named(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    pid, dev = _park_id(db, park), device_id(db, park, "e1", "gd1")
    t0 = int(datetime(2026, 5, 9, 10, 0, tzinfo=UTC).timestamp() * 1000)
    store_readings(db, [(dev, LEL, t0 + k * coverage.Q_MS, 1.0) for k in range(3)])  # three buckets
    drain(db)
    after = datetime.fromtimestamp((t0 + 3 * coverage.Q_MS) / 1000 + coverage.CLOSED_AFTER_S + 1, UTC)
    assert len(coverage.compare(db, park_ids=[pid], now=after)) == 3  # never judged: all named
    tally = coverage.Tally()
    tally.add(  # the alarms start in the second bucket and see the third's reading, not the second's
        park_of_entity=np.array([pid], dtype=np.int64),
        entity=np.zeros(1, dtype=np.int32),
        metric=np.full(1, LEL, dtype=np.int32),
        ts_ms=np.array([t0 + 2 * coverage.Q_MS], dtype=np.int64),
    )
    tally.write(db)
    db.execute(
        "INSERT INTO alerting_coverage (park_id, bucket, readings) VALUES (%s, to_timestamp(%s), 0)",
        (pid, (t0 + coverage.Q_MS) / 1000),
    )
    named = coverage.compare(db, park_ids=[pid], now=after)
    assert [(m["bucket"], m["judged"], m["stored"]) for m in named] == [
        (datetime.fromtimestamp((t0 + coverage.Q_MS) / 1000, UTC), 0, 1)
    ]


def test_the_service_counts_what_it_judges(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    code, pid = park["parks"][0]["code"], _park_id(db, park)
    gw = Gateway(park)
    t = int(datetime(2026, 5, 8, 3, 0, tzinfo=UTC).timestamp() * 1000)
    try:
        with running(settings, None, parks=[code]) as service:
            service.coverage_every_ms = 0
            for i in range(5):
                gw.send({"gd1": {"safety.lel_pct": 1.0, "safety.o2_pct": 20.9}}, ts_ms=t + i * 1000)
            wait_until(
                lambda: (
                    db.execute(
                        "SELECT readings FROM alerting_coverage WHERE park_id = %s AND bucket = to_timestamp(%s)",
                        (pid, t / 1000),
                    ).fetchone()
                    == (10,)
                ),
                30,
                "the judged count written",
            )
    finally:
        gw.close()
