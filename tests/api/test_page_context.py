"""GET /page/context (the page's start in one answer) and the latest readings that ride along
with /parks/{id}/device-states: scoped like every other read, bounded, refused by name."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import Role
from smartpark import catalogue
from tests.api.conftest import Tenancy, device_id, make_user

pytestmark = pytest.mark.integration
CONTEXT = "/api/v1/page/context"


def _code(db: psycopg.Connection[Any], park_id: int) -> str:
    return str(db.execute("SELECT code FROM parks WHERE park_id = %s", (park_id,)).fetchone()[0])  # type: ignore[index]


def _devices(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    d = body["devices"]
    return {i: {k: d[k][n] for k in d} for n, i in enumerate(d["device_id"])}


def test_context_needs_a_credential_and_no_scraper(client: TestClient, db: psycopg.Connection[Any]) -> None:
    assert client.get(CONTEXT).status_code == 401
    scraper = make_user(db, Role.METRICS)
    assert client.get(CONTEXT, headers={"X-API-Key": scraper}).status_code == 403


def test_a_bad_park_code_is_refused_naming_the_field(client: TestClient, tenancy: Tenancy) -> None:
    r = client.get(CONTEXT, params={"park": "Not A Code!"}, headers=tenancy.headers("admin"))
    assert r.status_code == 422
    assert r.json()["detail"].startswith("query.park:")


def test_an_operator_gets_its_park_whatever_it_asks_for(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    r = client.get(CONTEXT, params={"park": _code(db, t.other_park_id)}, headers=t.headers("operator"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["me"]["role"] == "operator" and body["me"]["park_id"] == t.park_id
    assert [p["park_id"] for p in body["parks"]] == [t.park_id] and body["park"]["park_id"] == t.park_id
    assert sorted(body["enterprises"]["enterprise_id"]) == sorted([t.e1, t.e2])
    devices = _devices(body)
    cems = device_id(db, t.e1, "cems1")
    assert devices[cems]["kind"] == "stack_cems" and devices[cems]["zone"] == "B1"
    assert catalogue.BY_CODE["stack.so2_mgm3"].id in devices[cems]["metrics"]
    count = db.execute(
        "SELECT count(*) FROM devices d JOIN enterprises e USING (enterprise_id) WHERE e.park_id = %s", (t.park_id,)
    ).fetchone()[0]  # type: ignore[index]
    assert len(devices) == count and body["devices_cut"] is False
    assert {m["code"] for m in body["metrics"]} >= {"elec.power_kw", "stack.so2_mgm3"}
    assert body["reference"]["aqi"]["categories"][0]["zh"] == "优"
    assert cems in {o["device_id"] for o in body["reference"]["limits"]["outlets"]}
    assert set(body["services"]) >= {"services", "alarms_stale_since", "statistics_stale_since"}


def test_an_admin_gets_the_park_asked_for_among_all(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    body = client.get(CONTEXT, params={"park": _code(db, t.other_park_id)}, headers=t.headers("admin")).json()
    assert body["park"]["park_id"] == t.other_park_id
    assert {t.park_id, t.other_park_id} <= {p["park_id"] for p in body["parks"]}
    assert body["enterprises"]["enterprise_id"][0] == t.other_e1
    assert set(body["enterprises"]) == {"enterprise_id", "code", "name", "industry"}
    # an unknown code: the first park, not an error (a browser may remember a park since removed)
    fallback = client.get(CONTEXT, params={"park": "no-such-park"}, headers=t.headers("admin")).json()
    assert fallback["park"]["park_id"] == fallback["parks"][0]["park_id"]


def test_an_enterprise_user_and_a_regulator_see_their_slice(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    own = client.get(CONTEXT, headers=t.headers("enterprise")).json()
    assert own["enterprises"]["enterprise_id"] == [t.e1]
    assert set(own["devices"]["enterprise_id"]) == {t.e1}
    env = client.get(CONTEXT, headers=t.headers("env_regulator")).json()
    devices = _devices(env)
    # the environment bureau: the stack and the wastewater outlet, with their emissions metrics only
    assert set(devices) == {device_id(db, t.e1, "cems1"), device_id(db, t.e2, "ww1")}
    categories = {m["metric_id"]: m["category"] for m in env["metrics"]}
    assert {categories[m] for d in devices.values() for m in d["metrics"]} <= {"emissions", "environment"}
    assert "energy" not in set(categories.values())


def test_device_states_bring_the_latest_readings_asked_for(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    em1, gd1 = device_id(db, t.e1, "em1"), device_id(db, t.e1, "gd1")
    db.execute(
        "INSERT INTO telemetry_latest (device_id, metric_id, ts, value, flag) VALUES"
        " (%s, %s, '2026-12-01T08:00:00Z', 412.5, 0), (%s, %s, '2026-12-01T08:00:05Z', 3.0, 0)",
        (em1, catalogue.BY_CODE["elec.power_kw"].id, gd1, catalogue.BY_CODE["safety.lel_pct"].id),
    )
    url = f"/api/v1/parks/{t.park_id}/device-states"
    r = client.get(url, params={"metric": ["elec.power_kw", "safety.lel_pct"]}, headers=t.headers("operator"))
    assert r.status_code == 200, r.text
    body = r.json()
    at = {d: n for n, d in enumerate(body["devices"]["device_id"])}
    power, lel = body["values"]["elec.power_kw"], body["values"]["safety.lel_pct"]
    assert len(power) == len(at) and power[at[em1]] == 412.5 and power[at[gd1]] is None
    assert lel[at[gd1]] == 3.0 and body["value_ts"]["safety.lel_pct"][at[gd1]] == 1796112005000
    assert "values" not in client.get(url, headers=t.headers("operator")).json()
    # refused by name: an unknown metric, too many, one outside a regulator's bureau
    bad = client.get(url, params={"metric": "elec.nope"}, headers=t.headers("operator"))
    assert bad.status_code == 422 and "elec.nope" in bad.text
    many = client.get(url, params={"metric": ["elec.power_kw"] * 9}, headers=t.headers("operator"))
    assert many.status_code == 422 and "metric" in many.text
    outside = client.get(url, params={"metric": "elec.power_kw"}, headers=t.headers("env_regulator"))
    assert outside.status_code == 403 and "elec.power_kw" in outside.text
