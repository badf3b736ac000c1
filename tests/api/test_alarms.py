"""Alarms per role: visibility by park, enterprise and category; acknowledge, assign, resolve."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from tests.api.conftest import Tenancy
from tests.api.conftest import device_id as _device

pytestmark = pytest.mark.integration


def _alarm(
    db: psycopg.Connection[Any],
    *,
    park_id: int,
    enterprise_id: int,
    device_id: int,
    metric: str,
    category: str,
    rule: str,
) -> int:
    row = db.execute(
        "INSERT INTO alerts (rule_id, series_key, park_id, enterprise_id, device_id, metric,"
        " severity,"
        " category, state, labels, summary, trigger_value, value, started_at, firing_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, 'major', %s, 'firing', %s, 'test alarm', 30, 30, now(),"
        " now())"
        " RETURNING alert_id",
        (
            rule,
            f"d:{device_id}",
            park_id,
            enterprise_id,
            device_id,
            metric,
            category,
            Jsonb({"rule": rule}),
        ),
    ).fetchone()
    assert row is not None
    db.execute(
        "INSERT INTO alert_events (alert_id, kind, by, value) VALUES (%s, 'firing', 'system', 30)",
        (row[0],),
    )
    return int(row[0])


@pytest.fixture
def alarms(db: psycopg.Connection[Any], tenancy: Tenancy) -> dict[str, int]:
    t = tenancy
    # name: park, enterprise, device code, metric, category, rule
    specs = {
        "gas_e1": (t.park_id, t.e1, "gd1", "safety.lel_pct", "safety", "lel-level1"),
        "so2_e1": (t.park_id, t.e1, "cems1", "stack.so2_mgm3", "emissions", "so2-limit"),
        "cod_e2": (t.park_id, t.e2, "ww1", "ww.cod_mgl", "emissions", "cod-limit"),
        "other": (t.other_park_id, t.other_e1, "gd1", "safety.lel_pct", "safety", "lel-level1"),
    }
    return {
        name: _alarm(
            db,
            park_id=park_id,
            enterprise_id=enterprise_id,
            device_id=_device(db, enterprise_id, code),
            metric=metric,
            category=category,
            rule=rule,
        )
        for name, (park_id, enterprise_id, code, metric, category, rule) in specs.items()
    }


def _listed(client: TestClient, t: Tenancy, who: str, **params: Any) -> set[int]:
    r = client.get("/api/v1/alarms", headers=t.headers(who), params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return {a["alert_id"] for a in r.json()["items"]}


EXPECTED = {
    "admin": {"gas_e1", "so2_e1", "cod_e2", "other"},
    "operator": {"gas_e1", "so2_e1", "cod_e2"},
    "readonly": {"gas_e1", "so2_e1", "cod_e2"},
    "enterprise": {"gas_e1", "so2_e1"},
    "env_regulator": {"so2_e1", "cod_e2"},
    "emg_regulator": {"gas_e1"},
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_role_lists_and_reads_only_its_alarms(
    client: TestClient, tenancy: Tenancy, alarms: dict[str, int], who: str
) -> None:
    ours = set(alarms.values())
    assert _listed(client, tenancy, who) & ours == {alarms[k] for k in EXPECTED[who]}
    for name, alert_id in alarms.items():
        r = client.get(f"/api/v1/alarms/{alert_id}", headers=tenancy.headers(who))
        assert r.status_code == (200 if name in EXPECTED[who] else 404), (who, name)
        if r.status_code == 200:
            assert [e["kind"] for e in r.json()["events"]] == ["firing"]


def test_filters_cannot_widen_the_scope(client: TestClient, tenancy: Tenancy, alarms: dict[str, int]) -> None:
    assert _listed(client, tenancy, "enterprise", enterprise_id=tenancy.e2) == set()
    assert _listed(client, tenancy, "env_regulator", category="safety") == set()
    assert _listed(client, tenancy, "operator", park_id=tenancy.other_park_id) == set()
    assert _listed(client, tenancy, "operator", category="emissions") & set(alarms.values()) == {
        alarms["so2_e1"],
        alarms["cod_e2"],
    }


def test_since_and_until_bound_the_start_half_open(
    client: TestClient, tenancy: Tenancy, alarms: dict[str, int]
) -> None:
    gas = alarms["gas_e1"]
    r = client.get(f"/api/v1/alarms/{gas}", headers=tenancy.headers("operator"))
    started = r.json()["started_at"]
    assert gas in _listed(client, tenancy, "operator", since=started)
    assert gas not in _listed(client, tenancy, "operator", until=started)
    assert gas in _listed(client, tenancy, "operator", since=started, until="2100-01-01T00:00:00Z")


def test_acknowledge_assign_resolve_with_events(client: TestClient, tenancy: Tenancy, alarms: dict[str, int]) -> None:
    h = tenancy.headers("operator")
    a = alarms["cod_e2"]
    r = client.post(f"/api/v1/alarms/{a}/acknowledge", headers=h, json={"comment": "crew sent"})
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_at"] is not None
    r = client.post(f"/api/v1/alarms/{a}/assign", headers=h, json={"assignee": "zhang.wei"})
    assert r.json()["assignee"] == "zhang.wei"
    r = client.post(f"/api/v1/alarms/{a}/resolve", headers=h, json={"comment": "valve closed"})
    body = r.json()
    assert body["state"] == "resolved"
    assert [e["kind"] for e in body["events"]] == ["firing", "acknowledged", "assigned", "cleared"]
    assert body["events"][1]["comment"] == "crew sent"
    again = client.post(f"/api/v1/alarms/{a}/resolve", headers=h, json={})
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]


def test_forbidden_actions(client: TestClient, tenancy: Tenancy, alarms: dict[str, int]) -> None:
    t = tenancy
    # an enterprise acknowledges its own alarm, not another's (404), and may not resolve (403)
    ok = client.post(f"/api/v1/alarms/{alarms['gas_e1']}/acknowledge", headers=t.headers("enterprise"), json={})
    assert ok.status_code == 200
    other = client.post(f"/api/v1/alarms/{alarms['cod_e2']}/acknowledge", headers=t.headers("enterprise"), json={})
    assert other.status_code == 404
    r = client.post(f"/api/v1/alarms/{alarms['gas_e1']}/resolve", headers=t.headers("enterprise"), json={})
    assert r.status_code == 403
    for who in ("env_regulator", "emg_regulator", "readonly"):
        r = client.post(f"/api/v1/alarms/{alarms['gas_e1']}/acknowledge", headers=t.headers(who), json={})
        assert r.status_code == 403, who
    r = client.post(f"/api/v1/alarms/{alarms['other']}/resolve", headers=t.headers("operator"), json={})
    assert r.status_code == 404


def test_summary_counts_open_alarms(client: TestClient, tenancy: Tenancy, alarms: dict[str, int]) -> None:
    rows = client.get(
        "/api/v1/alarms/summary",
        headers=tenancy.headers("emg_regulator"),
        params={"park_id": tenancy.park_id},
    ).json()
    assert {r["category"] for r in rows} == {"safety"}
    assert sum(r["n"] for r in rows) == 1


def _overview_alarms(client: TestClient, t: Tenancy, who: str) -> tuple[int, set[int]]:
    r = client.get("/api/v1/overview", headers=t.headers(who))
    assert r.status_code == 200, r.text
    body = r.json()
    return body["unacknowledged_alarms"], {a["alert_id"] for a in body["latest_alarms"]}


def test_overview_answers_are_shared_only_within_one_scope(
    client: TestClient, tenancy: Tenancy, alarms: dict[str, int]
) -> None:
    # Asked one right after the other, inside the overview's sharing time: each scope its own.
    expected = {k: v for k, v in EXPECTED.items() if k != "admin"}
    for who, names in expected.items():
        n, latest = _overview_alarms(client, tenancy, who)
        assert (n, latest) == (len(names), {alarms[k] for k in names}), who


def test_own_alarm_action_shows_in_the_overview_at_once(
    client: TestClient, tenancy: Tenancy, alarms: dict[str, int]
) -> None:
    h = tenancy.headers("operator")
    assert _overview_alarms(client, tenancy, "operator")[0] == 3
    r = client.post(f"/api/v1/alarms/{alarms['cod_e2']}/acknowledge", headers=h, json={})
    assert r.status_code == 200, r.text
    assert _overview_alarms(client, tenancy, "operator")[0] == 2
