"""Writing batches into TimescaleDB: new readings take the direct COPY, redeliveries the fallback."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest

from ingest.batch import Batch, Rows
from ingest.store import Stored, prepare_session, store_batch
from smartpark.db.binary_copy import PG_EPOCH_US

pytestmark = pytest.mark.integration

MINUTE_US = 60_000_000
T0_US = 1_764_115_200_000_000 - PG_EPOCH_US  # 2025-11-26T00:00Z


@pytest.fixture
def conn(settings: Any) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(settings.database_url, autocommit=True) as c:
        prepare_session(c)
        yield c


@pytest.fixture
def device() -> int:
    """A device id no other test writes (telemetry has no foreign key to devices)."""
    return 1_000_000 + secrets.randbelow(1_000_000_000)


def _rows(device: int, minutes: list[int], value: float = 1.0) -> Rows:
    n = len(minutes)
    return Rows(
        T0_US + np.asarray(minutes, np.int64) * MINUTE_US,
        np.full(n, device, np.int32),
        np.ones(n, np.int16),
        np.full(n, value),
        np.zeros(n, np.int16),
    )


def _batch(*parts: Rows) -> Batch:
    rows = Rows(*(np.concatenate([getattr(p, f) for p in parts]) for f in Rows.__slots__))
    return Batch(rows, (), len(rows), len(parts))


def _store(conn: psycopg.Connection[Any], batch: Batch) -> tuple[Stored, int]:
    """Store in one transaction; also how many rows went through the staging table."""
    with conn.transaction():
        stored = store_batch(conn, batch=batch)
        staged = conn.execute("SELECT count(*) FROM ingest_stage").fetchone()
    assert staged is not None
    return stored, staged[0]


def _stored(conn: psycopg.Connection[Any], device: int) -> list[tuple[int, float]]:
    rows = conn.execute(
        "SELECT (extract(epoch FROM ts - %s::timestamptz) / 60)::int, value FROM telemetry"
        " WHERE device_id = %s ORDER BY ts",
        ("2025-11-26T00:00Z", device),
    ).fetchall()
    return [(m, v) for m, v in rows]


def _latest(conn: psycopg.Connection[Any], device: int) -> tuple[int, float] | None:
    return conn.execute(
        "SELECT (extract(epoch FROM ts - %s::timestamptz) / 60)::int, value FROM telemetry_latest WHERE device_id = %s",
        ("2025-11-26T00:00Z", device),
    ).fetchone()


def test_new_readings_are_copied_straight_into_telemetry(conn: psycopg.Connection[Any], device: int) -> None:
    stored, staged = _store(conn, _batch(_rows(device, [3, 1, 2, 20])))
    assert stored == Stored(inserted=4, duplicates=0, rejected=0)
    assert staged == 0  # the direct path: nothing went through the staging table
    assert _stored(conn, device) == [(1, 1.0), (2, 1.0), (3, 1.0), (20, 1.0)]
    assert _latest(conn, device) == (20, 1.0)
    buckets = conn.execute("SELECT count(*) FROM telemetry_touched WHERE device_id = %s", (device,)).fetchone()
    assert buckets == (2,)  # minutes 1-3 share a quarter hour, 20 starts the next


def test_a_redelivered_message_among_new_ones_is_stored_once(conn: psycopg.Connection[Any], device: int) -> None:
    _store(conn, _batch(_rows(device, [1, 2], value=1.0)))
    # The redelivery carries other values: the stored reading is kept, never replaced.
    stored, staged = _store(
        conn, _batch(_rows(device, [3, 4], value=2.0), _rows(device, [1, 2], value=9.0), _rows(device, [5], value=2.0))
    )
    assert stored == Stored(inserted=3, duplicates=2, rejected=0)
    assert staged == 5  # the fallback through the staging table
    assert _stored(conn, device) == [(1, 1.0), (2, 1.0), (3, 2.0), (4, 2.0), (5, 2.0)]
    assert _latest(conn, device) == (5, 2.0)


def test_a_batch_of_nothing_but_redeliveries_changes_nothing(conn: psycopg.Connection[Any], device: int) -> None:
    _store(conn, _batch(_rows(device, [1, 2, 3])))
    stored, _ = _store(conn, _batch(_rows(device, [3, 1], value=5.0)))
    assert stored == Stored(inserted=0, duplicates=2, rejected=0)
    assert _stored(conn, device) == [(1, 1.0), (2, 1.0), (3, 1.0)]
    assert _latest(conn, device) == (3, 1.0)


def test_the_same_reading_twice_in_one_batch_needs_no_fallback(conn: psycopg.Connection[Any], device: int) -> None:
    stored, staged = _store(conn, _batch(_rows(device, [7]), _rows(device, [8]), _rows(device, [7])))
    assert stored == Stored(inserted=2, duplicates=1, rejected=0)
    assert staged == 0
    assert _stored(conn, device) == [(7, 1.0), (8, 1.0)]


def test_a_reading_another_writer_has_not_committed_yet_is_stored_once(
    settings: Any, conn: psycopg.Connection[Any], device: int
) -> None:
    """Two workers given the same message (a redelivery after a reconnect): the second waits for
    the first's commit, then falls back and stores only its new readings."""
    with psycopg.connect(settings.database_url, autocommit=True) as other:
        prepare_session(other)
        outcome: list[Stored] = []
        with other.transaction():
            store_batch(other, batch=_batch(_rows(device, [1, 2])))
            writer = threading.Thread(target=lambda: outcome.append(_store(conn, _batch(_rows(device, [1, 2, 3])))[0]))
            writer.start()
            writer.join(0.5)
            assert writer.is_alive()  # waiting for the first transaction's rows
        writer.join(30)
    assert outcome == [Stored(inserted=1, duplicates=2, rejected=0)]
    assert _stored(conn, device) == [(1, 1.0), (2, 1.0), (3, 1.0)]
