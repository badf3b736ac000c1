"""GET /api/v1/forwarding/targets: per target connected, backlog, oldest unsent, last reply;
never the password; operators see their park's share only."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from forwarding import store
from smartpark.settings import Settings
from tests.api.conftest import Tenancy, device_id
from tests.support.factories import unique_code

pytestmark = pytest.mark.integration


def test_target_status_per_role(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any], settings: Settings
) -> None:
    t = tenancy
    own = device_id(db, t.e1, "cems1")
    other = device_id(db, t.other_e1, "cems1")
    name = f"bureau-{unique_code()}"
    target = {"name": name, "host": "10.0.0.9", "port": 9000, "version": "2017", "reply": True,
              "over_time_s": 5.0, "re_count": 3, "max_rate": 100.0, "window": 8, "enabled": True}  # fmt: skip
    outs = [{"device_id": d, "mn": f"M{d}", "pw": "s3cret-pw", "cns": ["2051"]} for d in (own, other)]
    with db.transaction():
        target_id = store.put_target(db, target=target, outlets=outs)
    t0 = datetime(2026, 1, 26, 8, tzinfo=UTC)
    packets = [
        store.Recorded(
            d, "31", "2051", f"{t:%Y%m%d%H%M%S}000", t, f"DataTime={t:%Y%m%d%H%M%S};a21026-Avg=1,a21026-Flag=N"
        )
        for d in (own, other)
        for t in (t0 + timedelta(minutes=m) for m in range(3))
    ]

    async def fill() -> None:
        async with await psycopg.AsyncConnection.connect(settings.database_url or "", autocommit=True) as c:
            await store.record(c, packets=packets)
            await store.save_status(c, rows=[store.StatusRow(target_id, True, t0, t0, None, 7, 6, 1)])

    asyncio.run(fill())

    everything = client.get("/api/v1/forwarding/targets", headers=t.headers("admin"))
    assert everything.status_code == 200, everything.text
    (row,) = [r for r in everything.json() if r["name"] == name]
    assert (row["connected"], row["outlets"], row["backlog"], row["sent"], row["resent"]) == (True, 2, 6, 7, 1)
    assert row["oldest_unsent"] is not None and row["last_reply"] is not None
    assert "s3cret-pw" not in everything.text

    mine = client.get("/api/v1/forwarding/targets", headers=t.headers("operator")).json()
    (row,) = [r for r in mine if r["name"] == name]
    assert (row["outlets"], row["backlog"]) == (1, 3)  # the other park's outlet and packets are not its business
    theirs = client.get("/api/v1/forwarding/targets", headers=t.headers("other_operator")).json()
    assert [(r["outlets"], r["backlog"]) for r in theirs if r["name"] == name] == [(1, 3)]

    for who in ("enterprise", "env_regulator", "readonly"):
        assert client.get("/api/v1/forwarding/targets", headers=t.headers(who)).status_code == 403
