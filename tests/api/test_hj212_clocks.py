"""GET /api/v1/hj212/clocks: each data logger's recorded skew and setting, within the caller's scope."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from ingest.hj212 import clock_store
from smartpark.settings import Settings
from tests.api.conftest import Tenancy, device_id

pytestmark = pytest.mark.integration


def test_logger_clocks_per_scope(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any], settings: Settings
) -> None:
    t = tenancy
    own, other = device_id(db, t.e1, "cems1"), device_id(db, t.other_e1, "cems1")
    at = datetime(2026, 1, 26, 8, tzinfo=UTC)

    async def fill() -> None:
        async with await psycopg.AsyncConnection.connect(settings.database_url or "", autocommit=True) as c:
            await clock_store.checked(c, device_id=own, at=at, skew_s=-95.0)
            await clock_store.was_set(c, device_id=own, at=at, skew_s=-95.0)
            await clock_store.checked(c, device_id=own, at=at, skew_s=-0.4)  # asked again after the setting
            await clock_store.checked(c, device_id=other, at=at, skew_s=12.0)

    asyncio.run(fill())
    rows = client.get("/api/v1/hj212/clocks", headers=t.headers("operator"))
    assert rows.status_code == 200, rows.text
    assert [(r["device_id"], r["skew_s"], r["set_skew_s"], r["sets"]) for r in rows.json()] == [(own, -0.4, -95.0, 1)]
    admin = client.get("/api/v1/hj212/clocks", headers=t.headers("admin"), params={"park_id": t.other_park_id}).json()
    assert [(r["device_id"], r["skew_s"], r["sets"]) for r in admin] == [(other, 12.0, 0)]
    # stack CEMS are the environment bureau's, not the emergency bureau's
    assert [r["device_id"] for r in client.get("/api/v1/hj212/clocks", headers=t.headers("env_regulator")).json()] == [
        own
    ]
    assert client.get("/api/v1/hj212/clocks", headers=t.headers("emg_regulator")).json() == []
    bad = client.get("/api/v1/hj212/clocks", headers=t.headers("admin"), params={"park_id": 0})
    assert bad.status_code in (400, 422) and bad.headers["content-type"].startswith("application/problem+json")
