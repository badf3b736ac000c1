"""Figures carry the time they are current to, and the days that fail to compute are visible:
in the statistics answer (failing_days) and in GET /health/jobs, each caller seeing its park's."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from aggregation import failures
from tests.api.conftest import Tenancy

pytestmark = pytest.mark.integration


def test_statistics_say_when_computed_and_which_days_fail(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    for day, at in ((date(2026, 3, 1), "2026-03-02T00:05:00Z"), (date(2026, 3, 2), "2026-03-03T00:05:00Z")):
        db.execute(
            "INSERT INTO indicator_daily (park_id, enterprise_id, day, readings, computed_at)"
            " VALUES (%s, NULL, %s, 96, %s)",
            (t.park_id, day, at),
        )
    failures.record(db, job="indicators", park_id=t.park_id, day=date(2026, 3, 3), error="KeyError: 'x'")
    failures.record(db, job="indicators", park_id=t.other_park_id, day=date(2026, 3, 3), error="KeyError: 'y'")
    got = client.get(
        f"/api/v1/statistics/parks/{t.park_id}",
        headers=t.headers("operator"),
        params={"from": "2026-03-01", "to": "2026-03-04"},
    )
    assert got.status_code == 200, got.text
    body = got.json()
    assert [r["computed_at"] for r in body["rows"]] == ["2026-03-02T00:05:00Z", "2026-03-03T00:05:00Z"]
    assert body["current_to"] == "2026-03-02T00:05:00Z"  # the oldest figure's
    assert body["failing_days"] == ["2026-03-03"]
    outside = client.get(
        f"/api/v1/statistics/parks/{t.park_id}",
        headers=t.headers("operator"),
        params={"from": "2026-03-01", "to": "2026-03-03"},
    )
    assert outside.json()["failing_days"] == []
    # the operator sees its park's failures with their error; an admin sees every park's
    mine = client.get("/api/v1/health/jobs", headers=t.headers("operator")).json()["failures"]
    assert [(f["park_id"], f["day"], f["error"], f["attempts"]) for f in mine] == [
        (t.park_id, "2026-03-03", "KeyError: 'x'", 1)
    ]
    every = client.get("/api/v1/health/jobs", headers=t.headers("admin")).json()["failures"]
    assert {t.park_id, t.other_park_id} <= {f["park_id"] for f in every}
    assert client.get("/api/v1/health/jobs").status_code == 401


def test_services_say_since_when_alarms_and_statistics_are_stale(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    from psycopg.types.json import Jsonb

    from smartpark.heartbeat import UPSERT

    db.execute("DELETE FROM service_heartbeats WHERE service IN ('alerting', 'scheduler')")
    now = db.execute("SELECT extract(epoch FROM now())::float8").fetchone()[0]  # type: ignore[index]
    db.execute(UPSERT, ("alerting", "h", 1, now - 120, 0.0, 15.0, Jsonb({})))  # stuck for two minutes
    db.execute(UPSERT, ("scheduler", "h", 2, now - 5, 0.0, 600.0, Jsonb({})))
    db.execute("DELETE FROM aggregation_failures WHERE park_id = %s", (tenancy.park_id,))
    body = client.get("/api/v1/health/services", headers=tenancy.headers("operator")).json()
    status = {s["service"]: s["status"] for s in body["services"]}
    assert status["alerting"] == "stale" and status["scheduler"] == "ok"
    beat = next(s for s in body["services"] if s["service"] == "alerting")["last_beat"]
    assert body["alarms_stale_since"] == beat and body["statistics_stale_since"] is None
    # a failing day of the caller's park makes its statistics stale since that failure
    failures.record(db, job="indicators", park_id=tenancy.park_id, day=date(2026, 4, 1), error="KeyError: 'z'")
    body = client.get("/api/v1/health/services", headers=tenancy.headers("operator")).json()
    assert body["statistics_stale_since"] is not None
    db.execute(UPSERT, ("alerting", "h", 1, now, 0.0, 15.0, Jsonb({})))
    assert (
        client.get("/api/v1/health/services", headers=tenancy.headers("operator")).json()["alarms_stale_since"] is None
    )


def test_services_name_safety_readings_the_alarms_never_saw(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    """Stored in a recent closed bucket, judged by no one: the park's users are told, another
    park's are not."""
    from datetime import UTC, datetime

    import numpy as np

    from aggregation.job import drain
    from alerting import coverage
    from smartpark.catalogue import metric
    from tests.api.conftest import device_id
    from tests.support.readings import store_readings

    t = tenancy
    lel = metric("safety.lel_pct").id
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    t0 = (now_ms - coverage.CLOSED_AFTER_S * 1000) // coverage.Q_MS * coverage.Q_MS - 2 * coverage.Q_MS
    store_readings(db, [(device_id(db, t.e1, "gd1"), lel, t0 + i * 1000, 2.0) for i in range(6)])
    drain(db)
    tally = coverage.Tally()
    tally.add(
        park_of_entity=np.array([t.park_id], dtype=np.int64),
        entity=np.zeros(2, dtype=np.int32),
        metric=np.full(2, lel, dtype=np.int32),
        ts_ms=np.array([t0, t0 + 1000], dtype=np.int64),
    )
    tally.write(db)
    mine = client.get("/api/v1/health/services", headers=t.headers("operator")).json()["alarms_missing"]
    assert [(m["park_id"], m["judged"], m["stored"]) for m in mine] == [(t.park_id, 2, 6)]
    assert mine[0]["bucket"] == datetime.fromtimestamp(t0 / 1000, UTC).isoformat().replace("+00:00", "Z")
    theirs = client.get("/api/v1/health/services", headers=t.headers("other_operator")).json()["alarms_missing"]
    assert theirs == []
