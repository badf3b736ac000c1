"""Statistics of a period whose raw chunks are in the cold tier, against the real TimescaleDB:
recomputed from the Parquet files merged with the hot rows, they equal the figures computed while
every reading was hot; a late correction of a cold day counts with the cold readings of its
bucket; completeness counts the cold flagged readings.

The month is February 1989 (each test file of the storage tests keeps to years of its own).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from aggregation import indicator_job, job
from api.auth import Principal, Role
from api.queries.completeness import completeness
from smartpark.catalogue import HJ212_FLAGS, metric
from smartpark.settings import Settings
from storage import recompute, tiering
from storage.coldfs import ColdStore
from tests.support.readings import device_id, ms, store_readings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
START, END = datetime(1989, 2, 1, tzinfo=UTC), datetime(1989, 3, 1, tzinfo=UTC)
QUARTER_H = 900_000
DAYS = 28
LATER = ms(1990, 1, 1)  # as the scheduler runs long after: the month's days are past the hot age


def _store_month(db: psycopg.Connection[Any], park: dict[str, Any]) -> dict[str, int]:
    """A month of readings every 15 minutes: an electricity meter's register (its consumption
    crosses every midnight), a stack's SO2 and a water meter; the stack stopped (F) for two hours."""
    devs = {code: device_id(db, park, "e1", code) for code in ("em1", "cems1", "wm1")}
    t = ms(1989, 2, 1) + np.arange(DAYS * 96, dtype=np.int64) * QUARTER_H
    i = np.arange(t.size)
    stopped = (t >= ms(1989, 2, 10, 3)) & (t < ms(1989, 2, 10, 5))

    def rows(code: str, m: str, values: np.ndarray, at: np.ndarray) -> list[tuple[int, int, int, float]]:
        return [(devs[code], metric(m).id, int(a), float(v)) for a, v in zip(t[at], values[at], strict=True)]

    every = np.ones(t.size, bool)
    so2 = np.round(30 + 8 * np.sin(i / 5), 1)
    store_readings(
        db,
        rows("em1", "elec.import_kwh", np.round(1000 + np.cumsum(10 + 5 * np.sin(i / 9)), 2), every)
        + rows("cems1", "stack.so2_mgm3", so2, ~stopped)
        + rows("wm1", "water.volume_m3", np.round(50 + 0.25 * i, 2), every),
    )
    store_readings(db, rows("cems1", "stack.so2_mgm3", so2, stopped), flag=HJ212_FLAGS["F"])
    # registered before the month: completeness expects readings from then on
    db.execute("UPDATE devices SET created_at = %s WHERE device_id = ANY(%s)", (START, list(devs.values())))
    return devs


def _figures(db: psycopg.Connection[Any], devices: list[int], park_id: int) -> dict[str, list[tuple[Any, ...]]]:
    lo, hi = datetime(1989, 1, 31, tzinfo=UTC), datetime(1989, 3, 2, tzinfo=UTC)
    out = {
        table: db.execute(
            f"SELECT device_id, metric_id, bucket, count, sum, min, max, first, last, consumption FROM {table}"
            " WHERE device_id = ANY(%s) AND bucket >= %s AND bucket < %s ORDER BY 1, 2, 3",
            (devices, lo, hi),
        ).fetchall()
        for table in ("rollup_15m", "rollup_1h", "rollup_1d")
    }
    # every column of the indicators but when they were computed
    out["indicator_daily"] = db.execute(
        "SELECT to_jsonb(i) - 'computed_at' FROM indicator_daily i WHERE park_id = %s AND day BETWEEN %s AND %s"
        " ORDER BY enterprise_id, day",
        (park_id, date(1989, 2, 1), date(1989, 2, 28)),
    ).fetchall()
    out["indicator_monthly"] = db.execute(
        "SELECT to_jsonb(i) - 'computed_at' FROM indicator_monthly i WHERE park_id = %s AND month = %s"
        " ORDER BY enterprise_id",
        (park_id, date(1989, 2, 1)),
    ).fetchall()
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal, numbers to 1e-12 relative: an hour or a day summed from its parts in another order
    (a batch of the rollup job may end inside a series) may differ in the last bit."""
    if isinstance(a, float) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _completeness(settings: Settings, park_id: int, cold: ColdStore | None) -> list[dict[str, Any]]:
    admin = Principal(1, "admin", Role.ADMIN)
    with psycopg.connect(settings.database_url or "", row_factory=psycopg.rows.dict_row) as conn:
        return completeness(
            conn, admin, first=date(1989, 2, 1), last=date(1989, 2, 28), by="device", period="month",
            default_interval_s=900, park_id=park_id, now=datetime(1990, 1, 1, tzinfo=UTC), cold=cold,
        )  # fmt: skip


def test_a_month_moved_to_the_cold_tier_recomputes_to_the_same_statistics(
    db: psycopg.Connection[Any], park: dict[str, Any], tmp_path: Path, settings: Settings
) -> None:
    devs = _store_month(db, park)
    devices = list(devs.values())
    park_id = int(db.execute("SELECT park_id FROM parks WHERE code = %s", (park["parks"][0]["code"],)).fetchone()[0])  # type: ignore[index]
    job.drain(db)
    indicator_job.drain(db, raw_from_ms=0)  # while hot: the gaps across midnight found in raw telemetry
    before = _figures(db, devices, park_id)
    # the stack's stopped buckets hold no counted reading; two enterprises and the park a day
    assert len(before["rollup_15m"]) == 3 * DAYS * 96 - 8 and len(before["indicator_daily"]) == 3 * DAYS
    flagged_before = _completeness(settings, park_id, None)

    store = ColdStore.of(str(tmp_path))
    moved = tiering.move_old(db, store, hot_days=90, zstd_level=3, window=(START, END))
    assert sum(m.rows for m in moved) == 3 * DAYS * 96
    hot = db.execute("SELECT count(*) FROM telemetry WHERE device_id = ANY(%s) AND ts >= %s", (devices, START))
    assert hot.fetchone() == (0,)

    # the recompute command's queue: every bucket of the month, found in the cold files
    assert recompute.queue(db, store, park_id=park_id, start=START, end=END) == 3 * DAYS * 96
    done = job.totals(job.drain(db, cold=store))
    assert done["readings"] >= 3 * DAYS * 96 - 8  # read from the files: the database holds none
    indicator_job.drain(db, raw_from_ms=LATER, cold=store)
    after = _figures(db, devices, park_id)
    assert after.keys() == before.keys()
    for name in before:
        assert len(after[name]) == len(before[name]), name
        assert _same(after[name], before[name]), name
    # completeness counts the stopped hours' flagged readings from the files too
    assert _completeness(settings, park_id, store) == flagged_before
    cems = next(r for r in flagged_before if r["device"] == devs["cems1"])
    # local days of Asia/Shanghai (UTC+8): the month's last 8 hours UTC are 1 March there, outside
    # the days asked: 32 readings fewer
    assert (cems["received"], cems["valid"]) == (DAYS * 96 - 32, DAYS * 96 - 32 - 8)


def test_a_late_correction_of_a_cold_day_counts_with_its_cold_readings(
    db: psycopg.Connection[Any], park: dict[str, Any], tmp_path: Path
) -> None:
    dev = device_id(db, park, "e2", "em1")
    kw = metric("elec.power_kw").id
    t = ms(1989, 5, 1) + np.arange(96, dtype=np.int64) * QUARTER_H // 3  # every 5 minutes for 8 hours
    store_readings(db, [(dev, kw, int(a), 100.0 + i) for i, a in enumerate(t)])
    job.drain(db)
    store = ColdStore.of(str(tmp_path))
    day = (datetime(1989, 5, 1, tzinfo=UTC), datetime(1989, 5, 2, tzinfo=UTC))
    assert [m.rows for m in tiering.move_old(db, store, hot_days=90, zstd_level=3, window=day)] == [96]
    bucket = datetime(1989, 5, 1, 1, 0, tzinfo=UTC)
    row = "SELECT count, sum FROM rollup_15m WHERE device_id = %s AND metric_id = %s AND bucket = %s"
    assert db.execute(row, (dev, kw, bucket)).fetchone() == (3, 100.0 * 3 + 12 + 13 + 14)

    store_readings(db, [(dev, kw, ms(1989, 5, 1, 1, 7), 500.0)])  # late, into the cold day
    job.drain(db, cold=store)
    assert db.execute(row, (dev, kw, bucket)).fetchone() == (4, 100.0 * 3 + 12 + 13 + 14 + 500.0)


def _recompute(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smartpark.cli", "storage", "recompute", *args],
        env=os.environ, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_recompute_command_names_what_it_refuses(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    code = park["parks"][0]["code"]
    done = _recompute("--park", "no-such-park", "--from", "1989-06-01T00:00Z", "--to", "1989-06-02T00:00Z")
    assert (done.returncode, done.stderr.strip()) == (2, "smartpark storage recompute: no park 'no-such-park'")
    done = _recompute("--park", code, "--from", "1989-06-01T00:00Z", "--to", "1989-07-03T00:00Z")
    assert done.returncode == 2 and "32 days asked; at most 31 at a time" in done.stderr
    done = _recompute("--park", code, "--from", "1989-06-01", "--to", "1989-06-02T00:00Z")
    assert done.returncode == 2 and "has no time zone" in done.stderr
    store_readings(db, [(device_id(db, park, "e2", "em1"), metric("elec.power_kw").id, ms(1989, 6, 1, 0, 20), 1.0)])
    done = _recompute("--park", code, "--from", "1989-06-01T00:00Z", "--to", "1989-06-02T00:00Z")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"park": code, "queued_buckets": 1}
