"""GET /api/v1/completeness: expected, received, valid and the three rates, from the daily
rollups (valid counts) and telemetry's flagged readings; worked out by hand below."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Tenancy, device_id

pytestmark = pytest.mark.integration
DAY = "2026-01-26"  # a past local day of the park (Asia/Shanghai)


def test_device_and_enterprise_rates_of_a_day(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    dev = device_id(db, t.e1, "cems1")
    db.execute("UPDATE devices SET created_at = '2026-01-01' WHERE enterprise_id IN (%s, %s)", (t.e1, t.e2))
    metrics = [r[0] for r in db.execute("SELECT metric_id FROM device_metrics WHERE device_id = %s ORDER BY 1", (dev,))]
    assert len(metrics) >= 2
    first = metrics[0]
    # one series: 1 368 valid readings in the day's rollup, and 68 flagged readings in telemetry
    db.execute(
        "INSERT INTO rollup_1d (device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts, last,"
        " last_ts)"
        " VALUES (%s, %s, %s::date::timestamp AT TIME ZONE 'Asia/Shanghai', 1368, 0, 0, 0, 0, 0, now(), 0, now())",
        (dev, first, DAY),
    )
    db.execute(
        "INSERT INTO telemetry (ts, device_id, metric_id, value, flag)"
        " SELECT %s::date::timestamp AT TIME ZONE 'Asia/Shanghai' + make_interval(mins => 5 * i), %s, %s, 1, 3"
        " FROM generate_series(0, 67) i",
        (DAY, dev, first),
    )
    q = {"from": DAY, "to": DAY, "by": "device", "period": "day", "enterprise_id": t.e1}
    got = client.get("/api/v1/completeness", params=q, headers=t.headers("admin"))
    assert got.status_code == 200, got.text
    (row,) = [r for r in got.json() if r["device"] == dev]
    n = len(metrics)
    # every metric owes 86 400 s / 60 s (the default interval) = 1 440 readings
    assert (row["period"], row["expected"], row["received"], row["valid"]) == (DAY, 1440 * n, 1436, 1368)
    assert row["transmission_rate"] == pytest.approx(1436 / (1440 * n))
    assert row["validity_rate"] == pytest.approx(1368 / 1436)
    assert row["effective_rate"] == pytest.approx(1368 / (1440 * n))

    by_category = client.get(
        "/api/v1/completeness", params={**q, "by": "category", "period": "range"}, headers=t.headers("admin")
    ).json()
    assert sum(r["valid"] for r in by_category) == 1368
    assert all(r["period"] == f"{DAY}/{DAY}" for r in by_category)

    # the other park's operator sees none of it; a quarter is the longest range
    theirs = client.get(
        "/api/v1/completeness",
        params={k: v for k, v in q.items() if k != "enterprise_id"},
        headers=t.headers("other_operator"),
    )
    assert theirs.status_code == 200 and all(r["device"] != dev for r in theirs.json())
    long = client.get(
        "/api/v1/completeness", params={**q, "from": "2026-01-01", "to": "2026-06-30"}, headers=t.headers("admin")
    )
    assert long.status_code == 400 and "at most 92" in long.text
    ancient = client.get(
        "/api/v1/completeness", params={**q, "from": "0001-01-01", "to": "0001-01-02"}, headers=t.headers("admin")
    )
    assert ancient.status_code == 400 and "1970-01-02" in ancient.text


def test_a_reading_the_rollups_count_is_received_once(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    """Readings stamped on receipt (64), over range (T) and entered by hand (128) are in the
    rollups' count; received counted them a second time among the flagged."""
    from aggregation.job import drain
    from smartpark.catalogue import FLAG_MANUAL, FLAG_RECEIPT_TIME, HJ212_FLAGS
    from tests.support.readings import store_readings

    t = tenancy
    dev = device_id(db, t.e1, "cems1")
    db.execute("UPDATE devices SET created_at = '2026-01-01' WHERE enterprise_id IN (%s, %s)", (t.e1, t.e2))
    so2 = db.execute("SELECT metric_id FROM metrics WHERE code = 'stack.so2_mgm3'").fetchone()[0]  # type: ignore[index]
    day0 = db.execute("SELECT extract(epoch FROM '2026-01-27'::timestamp AT TIME ZONE 'Asia/Shanghai')").fetchone()
    t0 = int(day0[0]) * 1000  # type: ignore[index]
    at = iter(t0 + i * 60_000 for i in range(100))
    for flag, n in ((0, 10), (FLAG_RECEIPT_TIME, 1), (HJ212_FLAGS["T"], 2), (FLAG_MANUAL, 1), (HJ212_FLAGS["F"], 3)):
        store_readings(db, [(dev, so2, next(at), 5.0) for _ in range(n)], flag=flag)
    drain(db)
    q = {"from": "2026-01-27", "to": "2026-01-27", "by": "device", "period": "day", "enterprise_id": t.e1}
    got = client.get("/api/v1/completeness", params=q, headers=t.headers("admin"))
    assert got.status_code == 200, got.text
    (row,) = [r for r in got.json() if r["device"] == dev]
    # 17 readings stored: 14 that the rollups count (10 + 1 + 2 + 1) and 3 stopped (F)
    assert (row["received"], row["valid"]) == (17, 14)
