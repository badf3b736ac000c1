"""A raw telemetry export over a range that reaches the cold tier gives the same file as while
every reading was hot: the Parquet files merged with the hot rows, series by series, with their
data flags; against the real TimescaleDB and the API with the cold tier configured.

The readings are of March 1975 (each test file of the storage tests keeps to years of its own).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import Role
from smartpark.catalogue import HJ212_FLAGS, metric
from smartpark.settings import ApiSettings, Settings, StorageSettings
from storage import tiering
from storage.coldfs import ColdStore
from tests.api.conftest import make_user
from tests.support.readings import device_id, ms, store_readings

pytestmark = pytest.mark.integration

DAY = 86_400_000


def _export(settings: Settings, key: str, park_id: int, cold_url: str | None, **params: str) -> str:
    with_cold = settings.model_copy(update={"storage": StorageSettings(cold_url=cold_url)})
    app = create_app(
        with_cold, limits=ApiSettings(pool_min=1, pool_max=2), database_url=settings.database_url, static_dir=None
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get(
            "/api/v1/exports/telemetry",
            headers={"X-API-Key": key},
            params={"park_id": str(park_id), "interval": "raw", "format": "csv", **params},
        )
    assert r.status_code == 200, r.text
    return r.text


def test_a_raw_export_reaching_the_cold_tier_is_the_file_it_was_while_hot(
    db: psycopg.Connection[Any], park: dict[str, Any], tmp_path: Path, settings: Settings
) -> None:
    em, cems = device_id(db, park, "e1", "em1"), device_id(db, park, "e1", "cems1")
    kwh, so2 = metric("elec.import_kwh").id, metric("stack.so2_mgm3").id
    t0 = ms(1975, 3, 1)
    rows = [(em, kwh, t0 + i * 600_000, 1000.0 + i * 2.5) for i in range(3 * 144)]
    rows += [(cems, so2, t0 + i * 600_000, round(30 + (i % 7) * 0.5, 1)) for i in range(3 * 144) if i % 5]
    store_readings(db, rows)
    store_readings(
        db, [(cems, so2, t0 + i * 600_000, 31.0) for i in range(3 * 144) if not i % 5], flag=HJ212_FLAGS["F"]
    )
    park_id = int(db.execute("SELECT park_id FROM parks WHERE code = %s", (park["parks"][0]["code"],)).fetchone()[0])  # type: ignore[index]
    key = make_user(db, Role.ADMIN)
    rng = {"from": "1975-03-01T12:00:00Z", "to": "1975-03-03T12:00:00Z", "enterprise_id": str(_ent(db, em))}
    hot = _export(settings, key, park_id, None, **rng)

    store = ColdStore.of(str(tmp_path))
    window = (datetime(1975, 3, 1, tzinfo=UTC), datetime(1975, 3, 3, tzinfo=UTC))
    moved = tiering.move_old(db, store, hot_days=90, zstd_level=3, window=window)
    assert sum(m.rows for m in moved) > 0  # the first two days are cold, the third still hot
    left = db.execute("SELECT count(*) FROM telemetry WHERE device_id = ANY(%s)", ([em, cems],)).fetchone()
    assert left is not None and 0 < left[0] < len(rows)

    across = _export(settings, key, park_id, str(tmp_path), **rng)
    assert across == hot
    lines = across.splitlines()
    assert len(lines) == 1 + 2 * 144 * 2  # the header, then two days of both series (every reading kept)
    assert sum(1 for line in lines if line.endswith(f",{HJ212_FLAGS['F']}")) == sum(
        1 for i in range(72, 72 + 288) if not i % 5
    )  # the stack's stopped readings keep their flag
    assert _export(settings, key, park_id, None, **rng) != hot  # without the cold tier: only the hot day


def _ent(db: psycopg.Connection[Any], device: int) -> int:
    row = db.execute("SELECT enterprise_id FROM devices WHERE device_id = %s", (device,)).fetchone()
    assert row is not None
    return int(row[0])
