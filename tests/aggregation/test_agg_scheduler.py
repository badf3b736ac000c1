"""`smartpark scheduler` as a real process against the real database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import psycopg
import pytest

from smartpark.catalogue import metric
from tests.support.readings import device_id, ms, store_readings

pytestmark = pytest.mark.integration

KWH = metric("elec.import_kwh").id
KEEP = {
    "SMARTPARK_AGG_TELEMETRY_RETENTION_DAYS": "0",
    "SMARTPARK_STORAGE_ROLLUP_15M_DAYS": "0",
    "SMARTPARK_STORAGE_ROLLUP_1H_DAYS": "0",
}


def scheduler(*args: str, extra_env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[str]:
    env = {**os.environ, **KEEP, **(extra_env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "smartpark.cli", "scheduler", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def consumption(db: psycopg.Connection[Any], dev: int, table: str = "rollup_15m") -> float | None:
    row = db.execute(
        f"SELECT sum(consumption) FROM {table} WHERE device_id = %s AND metric_id = %s", (dev, KWH)
    ).fetchone()
    return None if row is None else row[0]


def test_once_runs_every_job_and_restarts_do_not_double_count(
    db: psycopg.Connection[Any], park: dict[str, Any], settings: Any
) -> None:
    dev = device_id(db, park, "e1", "em1")
    t0 = ms(2026, 6, 1)
    store_readings(db, [(dev, KWH, t0 + i * 60_000, 100.0 + i) for i in range(120)])
    p = scheduler("--once")
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["rollups"]["readings"] >= 120 and doc["indicators"]["days"] >= 1
    assert consumption(db, dev) == 119.0
    # late readings of the same hours and a second process run: recomputed, not added
    store_readings(db, [(dev, KWH, t0 + 120 * 60_000, 220.0)])
    db.execute(
        "INSERT INTO telemetry_touched SELECT device_id, metric_id, bucket FROM rollup_15m"
        " WHERE device_id = %s ON CONFLICT DO NOTHING",
        (dev,),
    )
    p = scheduler("--once")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert consumption(db, dev) == 120.0
    assert consumption(db, dev, "rollup_1d") == 120.0
    day = db.execute(
        "SELECT electricity_kwh FROM indicator_daily WHERE day = '2026-06-01' AND enterprise_id ="
        " (SELECT enterprise_id FROM devices WHERE device_id = %s)",
        (dev,),
    ).fetchone()
    assert day == (120.0,)


@pytest.mark.slow
def test_a_stored_reading_is_in_its_rollup_within_a_minute(
    db: psycopg.Connection[Any], park: dict[str, Any], settings: Any
) -> None:
    dev = device_id(db, park, "e2", "em1")
    p = scheduler()
    try:
        time.sleep(2)  # let the first (immediate) run pass so the reading waits for a scheduled one
        t = int(time.time() * 1000)
        store_readings(db, [(dev, KWH, t, 42.0)])
        stored = time.monotonic()
        found = None
        while time.monotonic() - stored < 60 and p.poll() is None:
            found = db.execute(
                "SELECT count FROM rollup_15m WHERE device_id = %s AND metric_id = %s", (dev, KWH)
            ).fetchone()
            if found:
                break
            time.sleep(0.5)
        assert found == (1,), "reading not rolled up within a minute"
    finally:
        p.terminate()
        _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err


def test_a_large_pass_refreshes_the_planner_statistics_of_the_rollups(
    db: psycopg.Connection[Any], park: dict[str, Any], settings: Any
) -> None:
    """After a back-fill the indicator queries must not be planned for empty rollup chunks."""
    dev = device_id(db, park, "e1", "em1")
    store_readings(db, [(dev, KWH, ms(2026, 7, 1) + i * 60_000, 100.0 + i) for i in range(120)])
    p = scheduler("--once", extra_env={"SMARTPARK_AGG_ANALYZE_AFTER_ROWS": "8"})
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1])["rollups"]["analyzed"] is True
    analyzed = db.execute(
        "SELECT count(*) FILTER (WHERE s.last_analyze IS NOT NULL), count(*) FROM pg_stat_user_tables s"
        " JOIN timescaledb_information.chunks c ON c.chunk_schema = s.schemaname AND c.chunk_name = s.relname"
        " WHERE c.hypertable_name = 'rollup_15m'"
    ).fetchone()
    assert analyzed is not None and analyzed[1] >= 1 and analyzed[0] == analyzed[1]
