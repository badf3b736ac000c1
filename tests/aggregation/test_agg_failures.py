"""A failing park's day stops nothing but itself: its failure is recorded with its error and
retried later with backoff, while every other park's statistics and rollups proceed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest

from aggregation import failures, indicator_daily, indicator_job, job
from smartpark.catalogue import metric
from tests.aggregation.conftest import loaded_park
from tests.support.readings import device_id, ms, store_readings

pytestmark = pytest.mark.integration
KW = metric("elec.power_kw").id


@pytest.fixture
def other(db: psycopg.Connection[Any]) -> dict[str, Any]:
    """A second park beside the test's ``park``."""
    return loaded_park(db)


def _park_id(db: psycopg.Connection[Any], model: dict[str, Any]) -> int:
    row = db.execute("SELECT park_id FROM parks WHERE code = %s", (model["parks"][0]["code"],)).fetchone()
    assert row is not None
    return int(row[0])


def _failures(db: psycopg.Connection[Any], job_name: str, park_id: int) -> list[dict[str, Any]]:
    return [f for f in failures.current(db, park_ids=[park_id]) if f["job"] == job_name]


def test_a_failing_park_day_does_not_stop_another_parks_statistics(
    db: psycopg.Connection[Any], park: dict[str, Any], other: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad, good = _park_id(db, park), _park_id(db, other)
    real = indicator_daily.daily

    def daily(conn: Any, *, park: Any, days: list[Any], **kw: Any) -> int:
        if park.park_id == bad and any(d.year == 2020 for d in days):  # as a bad report for 2020-01 did
            raise KeyError("no entry for year <= 2019 in the coefficient table")
        return int(real(conn, park=park, days=days, **kw))

    monkeypatch.setattr(indicator_daily, "daily", daily)
    # an economic report for 2020-01 queues 2020-01-01, a year the coefficient tables do not cover
    db.execute(
        "INSERT INTO aggregation_dirty_days (park_id, day) VALUES (%s, '2020-01-01'), (%s, '2026-05-02'),"
        " (%s, '2026-05-02')",
        (bad, bad, good),
    )
    done = indicator_job.drain(db)
    assert sum(s.failed_days for s in done) == 1
    computed = db.execute(
        "SELECT park_id, day FROM indicator_daily WHERE enterprise_id IS NULL AND park_id = ANY(%s) ORDER BY 1, 2",
        ([bad, good],),
    ).fetchall()
    assert [(p, d.isoformat()) for p, d in computed] == sorted([(bad, "2026-05-02"), (good, "2026-05-02")])
    (failed,) = _failures(db, "indicators", bad)
    assert failed["day"].isoformat() == "2020-01-01" and failed["attempts"] == 1
    assert failed["error"].startswith("KeyError") and "2019" in failed["error"]
    assert (failed["retry_at"] - failed["last_failed_at"]).total_seconds() == pytest.approx(failures.BASE_RETRY_S)
    # still queued, but left alone until its retry time
    assert all(s.failed_days == 0 for s in indicator_job.drain(db))
    assert _failures(db, "indicators", bad)[0]["attempts"] == 1
    # at its retry time it is tried again, and fails again: the next delay is twice as long
    db.execute("UPDATE aggregation_failures SET retry_at = now() WHERE job = 'indicators' AND park_id = %s", (bad,))
    assert sum(s.failed_days for s in indicator_job.drain(db)) == 1
    again = _failures(db, "indicators", bad)[0]
    assert again["attempts"] == 2
    assert (again["retry_at"] - again["last_failed_at"]).total_seconds() == pytest.approx(2 * failures.BASE_RETRY_S)


def test_retry_delay_doubles_up_to_its_ceiling() -> None:
    assert [failures.retry_delay_s(n) for n in (1, 2, 3)] == [60.0, 120.0, 240.0]
    assert failures.retry_delay_s(100) == failures.MAX_RETRY_S


@pytest.fixture
def broken_rollups(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[int]]:
    """Device ids whose rollup raises (as a bad input would)."""
    broken: set[int] = set()
    real = job.compute_15m

    def compute(r: Any, params: Any, *more: Any) -> Any:
        if np.isin(r.series >> 16, list(broken)).any():
            raise ValueError("a reading this job cannot roll up")
        return real(r, params, *more)

    monkeypatch.setattr(job, "compute_15m", compute)
    yield broken


def test_a_failing_park_rollup_is_held_back_and_the_others_proceed(
    db: psycopg.Connection[Any], park: dict[str, Any], other: dict[str, Any], broken_rollups: set[int]
) -> None:
    bad_dev, good_dev = device_id(db, park, "e1", "em1"), device_id(db, other, "e1", "em1")
    broken_rollups.add(bad_dev)
    t0 = ms(2026, 5, 3, 2)
    store_readings(db, [(d, KW, t0 + i * 60_000, 10.0) for d in (bad_dev, good_dev) for i in range(5)])
    stats = job.drain(db)
    assert sum(s.failed_parks for s in stats) == 1

    def rows(dev: int) -> int:
        row = db.execute("SELECT count(*) FROM rollup_15m WHERE device_id = %s", (dev,)).fetchone()
        return int(row[0]) if row else 0

    assert rows(good_dev) == 1 and rows(bad_dev) == 0
    (failed,) = _failures(db, "rollups", _park_id(db, park))
    assert failed["error"] == "ValueError: a reading this job cannot roll up"
    assert failed["day"].isoformat() == "2026-05-03"
    held = db.execute("SELECT count(*) FROM rollup_held WHERE device_id = %s", (bad_dev,)).fetchone()
    assert held is not None and held[0] == 1
    # fixed, and due again: rolled up, and the failure is history
    broken_rollups.clear()
    db.execute("UPDATE rollup_held SET retry_at = now() WHERE device_id = %s", (bad_dev,))
    job.drain(db)
    assert rows(bad_dev) == 1
    assert _failures(db, "rollups", _park_id(db, park)) == []
