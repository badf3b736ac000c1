"""`smartpark storage report` against the real TimescaleDB, the admin-only storage endpoint, and
the columnstore's detection and refusal on this machine's Apache-2 build of TimescaleDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from smartpark.catalogue import metric
from smartpark.settings import StorageSettings
from storage import columnstore, report
from storage.retention import Policy
from tests.support.readings import device_id, ms, store_readings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
KWH = metric("elec.import_kwh").id


def _week(db: psycopg.Connection[Any], park: dict[str, Any]) -> int:
    """Seven whole days of 1990-06 (one chunk each), 1440 readings a day; the device."""
    dev = device_id(db, park, "e1", "em1")
    t0 = ms(1990, 6, 1)
    store_readings(db, [(dev, KWH, t0 + i * 60_000, 1000.0 + i) for i in range(7 * 1440)])
    return dev


def test_the_report_gives_bytes_per_reading_per_table_and_chunk(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    _week(db, park)
    r = report.build(
        db, policy=Policy.of(StorageSettings(), hot_days=90), exact=True, now=datetime(1990, 6, 8, 9, tzinfo=UTC)
    )
    by_name = {t.table: t for t in r.tables}
    raw = by_name["telemetry"]
    week = [c for c in raw.chunks if c.range_start.startswith("1990-06-0")]
    assert [c.rows for c in week] == [1440] * 7
    assert all(c.bytes > 0 and c.bytes_per_row == round(c.bytes / 1440, 2) for c in week)
    assert raw.hypertable and raw.rows >= 7 * 1440 and raw.bytes >= sum(c.bytes for c in week)
    assert by_name["parks"].rows >= 1 and not by_name["parks"].hypertable  # plain tables too
    # growth: the mean of the complete days of the last week (1990-06-01…07), as of 1990-06-08
    assert r.growth_readings_per_day == 1440.0
    p = r.projection
    assert (p.hot_days, p.readings_per_day) == (1827, 1440.0)  # no cold tier: the longest category
    assert p.hot_bytes == round(1440.0 * raw.bytes_per_row * 1827)  # type: ignore[operator]
    assert "telemetry" in report.render(r)


def test_the_report_command_prints_json_and_a_table(settings: Any, db: psycopg.Connection[Any]) -> None:
    cmd = [sys.executable, "-m", "smartpark.cli", "storage", "report"]
    out = subprocess.run([*cmd, "--json"], env=dict(os.environ), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {"at", "tables", "cold", "growth_readings_per_day", "projection"} <= set(doc)
    assert "telemetry" in {t["table"] for t in doc["tables"]}
    text = subprocess.run(cmd, env=dict(os.environ), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert text.returncode == 0 and "projection: hot" in text.stdout, text.stderr


def test_the_storage_endpoint_answers_admins_only(settings: Any, db_url: str, db: psycopg.Connection[Any]) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import Role
    from smartpark.settings import ApiSettings
    from tests.api.conftest import make_user

    admin, reader = make_user(db, Role.ADMIN), make_user(db, Role.READONLY)
    app = create_app(settings, limits=ApiSettings(pool_min=1, pool_max=2), database_url=db_url, static_dir=None)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/health/storage", headers={"X-API-Key": admin})
        assert r.status_code == 200, r.text
        assert "telemetry" in {t["table"] for t in r.json()["tables"]}
        refused = c.get("/api/v1/health/storage", headers={"X-API-Key": reader})
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert c.get("/api/v1/health/storage").status_code == 401


def test_the_apache_build_is_detected_and_the_columnstore_refused(db: psycopg.Connection[Any]) -> None:
    # the project's set-up builds the Apache edition, so the refusal is always there to show
    assert columnstore.licence(db) == "apache"
    outcome = columnstore.enable(db, after_days=7)
    assert outcome == columnstore.Outcome(
        "apache", [], "TimescaleDB licence 'apache' has no columnstore (needs 'timescale')"
    )
    # the SQL it would issue is what the Apache build refuses, and nothing is left changed
    for statement in columnstore.statements(7)[:2]:
        with (
            pytest.raises(psycopg.errors.FeatureNotSupported, match='not supported under the current "apache" license'),
            db.transaction(),
        ):
            db.execute(statement)
    compressed = db.execute(
        "SELECT compression_enabled FROM timescaledb_information.hypertables WHERE hypertable_name = 'telemetry'"
    ).fetchone()
    assert compressed == (False,)
    assert columnstore.enable(db, after_days=0).refused == "columnstore_after_days is 0"
