"""Series equal the rollups and the raw readings on a worked example; latest and live per role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from smartpark.catalogue import BY_CODE
from tests.api.conftest import Tenancy
from tests.api.conftest import device_id as _device

pytestmark = pytest.mark.integration

T0 = datetime(2026, 10, 30, 0, 0, tzinfo=UTC)


def _rollup(
    db: psycopg.Connection[Any],
    table: str,
    device: int,
    metric: str,
    bucket: datetime,
    values: list[float],
    consumption: float | None = None,
) -> None:
    db.execute(
        f"INSERT INTO {table} (device_id, metric_id, bucket, count, sum, min, max, mean, first,"
        " first_ts,"
        " last, last_ts, consumption) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            device,
            BY_CODE[metric].id,
            bucket,
            len(values),
            sum(values),
            min(values),
            max(values),
            sum(values) / len(values),
            values[0],
            bucket,
            values[-1],
            bucket,
            consumption,
        ),
    )


@pytest.fixture
def example(db: psycopg.Connection[Any], tenancy: Tenancy) -> dict[str, int]:
    """Power of em1 (e1): readings 10, 20, 30 in the first hour and 40, 60 in the second, as raw
    telemetry and as the 1 h rollups the aggregation job writes for them; daily import counters
    across a local (Asia/Shanghai) month boundary."""
    em1 = _device(db, tenancy.e1, "em1")
    power = BY_CODE["elec.power_kw"].id
    readings = [(0, 10.0), (20, 20.0), (40, 30.0), (60, 40.0), (90, 60.0)]
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO telemetry (ts, device_id, metric_id, value) VALUES (%s, %s, %s, %s)",
            [(T0 + timedelta(minutes=m), em1, power, v) for m, v in readings],
        )
    _rollup(db, "rollup_1h", em1, "elec.power_kw", T0, [10, 20, 30])
    _rollup(db, "rollup_1h", em1, "elec.power_kw", T0 + timedelta(hours=1), [40, 60])
    # local days 10-30, 10-31 (October) and 11-01 (November) start at 16:00 UTC the day before
    for day, kwh in (
        (datetime(2026, 10, 29, 16, tzinfo=UTC), 100.0),
        (datetime(2026, 10, 30, 16, tzinfo=UTC), 50.0),
        (datetime(2026, 10, 31, 16, tzinfo=UTC), 70.0),
    ):
        _rollup(db, "rollup_1d", em1, "elec.import_kwh", day, [1000.0, 1000.0 + kwh], consumption=kwh)
    return {"em1": em1}


def _series(client: TestClient, h: dict[str, str], **params: Any) -> Any:
    r = client.get("/api/v1/telemetry/series", headers=h, params=params)
    assert r.status_code == 200, r.text
    return r.json()["series"]


def test_hourly_aggregates_equal_rollups_and_raw(client: TestClient, tenancy: Tenancy, example: dict[str, int]) -> None:
    h = tenancy.headers("enterprise")
    pair = f"{example['em1']}:elec.power_kw"
    span = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=2)).isoformat(), "series": pair}
    expected = {
        "avg": [20.0, 50.0],
        "min": [10.0, 40.0],
        "max": [30.0, 60.0],
        "sum": [60.0, 100.0],
        "count": [3.0, 2.0],
        "first": [10.0, 40.0],
        "last": [30.0, 60.0],
    }
    for agg, values in expected.items():
        (s,) = _series(client, h, interval="1h", aggregate=agg, **span)
        assert s["values"] == values, agg
    (raw,) = _series(client, h, interval="raw", **span)
    assert raw["values"] == [10.0, 20.0, 30.0, 40.0, 60.0]
    assert raw["aggregate"] is None and raw["flags"] == [0] * 5
    # the hourly average is the mean of the raw readings of that hour
    assert sum(raw["values"][:3]) / 3 == 20.0


def test_month_buckets_follow_the_park_calendar(client: TestClient, tenancy: Tenancy, example: dict[str, int]) -> None:
    (s,) = _series(
        client,
        tenancy.headers("operator"),
        interval="month",
        series=f"{example['em1']}:elec.import_kwh",
        **{"from": "2026-10-01T00:00:00+08:00", "to": "2026-12-01T00:00:00+08:00"},
    )
    assert s["aggregate"] == "consumption"  # the default for a counter
    assert s["values"] == [150.0, 70.0]
    assert [datetime.fromtimestamp(t / 1000, UTC) for t in s["ts"]] == [
        datetime(2026, 9, 30, 16, tzinfo=UTC),
        datetime(2026, 10, 31, 16, tzinfo=UTC),
    ]
    (last,) = _series(
        client,
        tenancy.headers("operator"),
        interval="month",
        aggregate="last",
        series=f"{example['em1']}:elec.import_kwh",
        **{"from": "2026-10-01T00:00:00+08:00", "to": "2026-12-01T00:00:00+08:00"},
    )
    assert last["values"] == [1050.0, 1070.0]


def test_series_refuses_other_tenants_and_oversized_requests(
    client: TestClient, tenancy: Tenancy, example: dict[str, int], db: psycopg.Connection[Any]
) -> None:
    span = {"from": T0.isoformat(), "to": (T0 + timedelta(hours=2)).isoformat()}
    other = _device(db, tenancy.e2, "em1")
    r = client.get(
        "/api/v1/telemetry/series",
        headers=tenancy.headers("enterprise"),
        params={**span, "series": f"{other}:elec.power_kw"},
    )
    assert r.status_code == 404 and str(other) in r.json()["detail"]
    r = client.get(
        "/api/v1/telemetry/series",
        headers=tenancy.headers("env_regulator"),
        params={**span, "series": f"{example['em1']}:elec.power_kw"},
    )
    assert r.status_code == 404  # energy is not the environment bureau's
    r = client.get(
        "/api/v1/telemetry/series",
        headers=tenancy.headers("operator"),
        params={
            "from": "2020-01-01T00:00:00Z",
            "to": "2026-01-01T00:00:00Z",
            "interval": "15m",
            "series": f"{example['em1']}:elec.power_kw",
        },
    )
    assert r.status_code == 400 and "cap" in r.json()["detail"]
    r = client.get(
        "/api/v1/telemetry/series",
        headers=tenancy.headers("operator"),
        params={**span, "series": f"{example['em1']}:elec.power_kw", "aggregate": "consumption"},
    )
    assert r.status_code == 400 and "counter" in r.json()["detail"]
    r = client.get(
        "/api/v1/telemetry/series",
        headers=tenancy.headers("operator"),
        params={**span, "series": "abc"},
    )
    assert r.status_code == 400 and "'abc'" in r.json()["detail"]


def _latest(db: psycopg.Connection[Any], device: int, metric: str, value: float) -> None:
    db.execute(
        "INSERT INTO telemetry_latest (device_id, metric_id, ts, value) VALUES (%s, %s, now(), %s)"
        " ON CONFLICT (device_id, metric_id) DO UPDATE SET ts = excluded.ts, value ="
        " excluded.value",
        (device, BY_CODE[metric].id, value),
    )


def test_latest_per_role(client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    t = tenancy
    _latest(db, _device(db, t.e1, "em1"), "elec.power_kw", 12.5)
    _latest(db, _device(db, t.e1, "gd1"), "safety.lel_pct", 3.0)
    _latest(db, _device(db, t.e2, "em1"), "elec.power_kw", 7.0)

    def metrics(who: str, **params: Any) -> set[tuple[int, str]]:
        r = client.get("/api/v1/telemetry/latest", headers=t.headers(who), params={"limit": 1000, **params})
        assert r.status_code == 200, r.text
        return {(x["enterprise_id"], x["metric"]) for x in r.json()["items"]}

    assert metrics("operator", park_id=t.park_id) == {
        (t.e1, "elec.power_kw"),
        (t.e1, "safety.lel_pct"),
        (t.e2, "elec.power_kw"),
    }
    assert metrics("enterprise") == {(t.e1, "elec.power_kw"), (t.e1, "safety.lel_pct")}
    assert metrics("enterprise", enterprise_id=t.e2) == set()
    assert metrics("emg_regulator") == {(t.e1, "safety.lel_pct")}
    assert metrics("other_operator", park_id=t.park_id) == set()
    gd1 = _device(db, t.e1, "gd1")
    assert client.get(f"/api/v1/devices/{gd1}/latest", headers=t.headers("enterprise")).json()[0]["value"] == 3.0
    assert client.get(f"/api/v1/devices/{gd1}/latest", headers=t.headers("other_operator")).status_code == 404


def test_live_stream_obeys_the_same_scope(client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    t = tenancy
    own, other = _device(db, t.e1, "em1"), _device(db, t.e2, "em1")
    with client.websocket_connect(f"/api/v1/live?token={t.keys['enterprise']}") as ws:
        ws.send_json({"devices": [other]})
        msg = ws.receive_json()
        assert msg["type"] == "error" and msg["status"] == 404 and str(other) in msg["detail"]
    with client.websocket_connect(f"/api/v1/live?token={t.keys['enterprise']}") as ws:
        ws.send_json({"enterprise_id": t.e2})
        assert ws.receive_json()["status"] == 404
    with client.websocket_connect("/api/v1/live?token=spk_nope") as ws:
        assert ws.receive_json()["status"] == 401
    with client.websocket_connect(f"/api/v1/live?token={t.keys['enterprise']}") as ws:
        ws.send_json({"devices": [own], "alarms": True})
        assert ws.receive_json()["type"] == "subscribed"
        _latest(db, own, "elec.power_kw", 99.0)
        msg = ws.receive_json()
        assert msg["type"] == "reading" and msg["device_id"] == own and msg["value"] == 99.0
