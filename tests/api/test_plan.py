"""GET /parks/{id}/plan and /parks/{id}/device-states: the registry's plan with the visible
devices placed, each device's last reading and online state; scoped like every other read."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from smartpark import park_plan
from tests.api.conftest import Tenancy, device_id

pytestmark = pytest.mark.integration


def test_plan_places_every_device_in_its_zone(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    r = client.get(f"/api/v1/parks/{t.park_id}/plan", headers=t.headers("operator"))
    assert r.status_code == 200, r.text
    body = r.json()
    regions = park_plan.regions(body["svg"])
    assert {"e1", "e1/A1", "e1/B1", "e1/C1", "e2", "e2/D1", "e2/D2"} <= set(regions)
    cols = body["devices"]
    placed = dict(zip(cols["device_id"], zip(cols["x"], cols["y"], strict=True), strict=True))
    cems = device_id(db, t.e1, "cems1")
    zone = regions["e1/B1"]
    x, y = placed[cems]
    assert zone.x < x < zone.x + zone.w and zone.y < y < zone.y + zone.h
    assert body["unplaced"] == 0
    ents = dict(zip(body["enterprises"]["enterprise_id"], body["enterprises"]["code"], strict=True))
    assert ents[t.e1] == "e1" and ents[t.e2] == "e2"
    # the environment bureau sees the devices measuring its categories only
    env = client.get(f"/api/v1/parks/{t.park_id}/plan", headers=t.headers("env_regulator")).json()
    assert cems in env["devices"]["device_id"] and len(env["devices"]["device_id"]) < len(placed)


def test_plan_is_not_for_other_parks_or_enterprise_users(client: TestClient, tenancy: Tenancy) -> None:
    t = tenancy
    for who, park in (("other_operator", t.park_id), ("enterprise", t.park_id), ("operator", t.other_park_id)):
        r = client.get(f"/api/v1/parks/{park}/plan", headers=t.headers(who))
        assert r.status_code == 404, (who, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


def test_a_regulator_sees_its_own_parks_plan_only(client: TestClient, tenancy: Tenancy) -> None:
    t = tenancy
    for who in ("env_regulator", "emg_regulator"):
        own = client.get(f"/api/v1/parks/{t.park_id}/plan", headers=t.headers(who))
        assert own.status_code == 200, (who, own.text)
        assert own.json()["devices"]["device_id"], who  # each bureau measures something here
        for path in ("plan", "device-states"):
            other = client.get(f"/api/v1/parks/{t.other_park_id}/{path}", headers=t.headers(who))
            assert other.status_code == 404 or other.json()["total"] == 0, (who, path, other.text)
    # the emergency bureau's plan holds the gas detector and fire alarm, not the stack
    emg = client.get(f"/api/v1/parks/{t.park_id}/plan", headers=t.headers("emg_regulator")).json()
    env = client.get(f"/api/v1/parks/{t.park_id}/plan", headers=t.headers("env_regulator")).json()
    assert not set(emg["devices"]["device_id"]) & set(env["devices"]["device_id"])


def test_device_states_say_who_is_online(client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    t = tenancy
    fresh, stale = device_id(db, t.e1, "em1"), device_id(db, t.e1, "wm1")
    db.execute(
        "INSERT INTO telemetry_latest (device_id, metric_id, ts, value, flag)"
        " SELECT %s, metric_id, now() - interval '1 minute', 1, 0 FROM metrics WHERE code = 'elec.power_kw'",
        (fresh,),
    )
    db.execute(
        "INSERT INTO telemetry_latest (device_id, metric_id, ts, value, flag)"
        " SELECT %s, metric_id, now() - interval '2 hours', 1, 0 FROM metrics WHERE code = 'water.volume_m3'",
        (stale,),
    )
    r = client.get(f"/api/v1/parks/{t.park_id}/device-states", headers=t.headers("readonly"))
    assert r.status_code == 200, r.text
    body = r.json()
    d = body["devices"]
    state = {i: (seen, on) for i, seen, on in zip(d["device_id"], d["last_seen"], d["online"], strict=True)}
    assert state[fresh][1] == 1 and state[stale][1] == 0 and state[stale][0] is not None
    never = device_id(db, t.e2, "ww1")
    assert state[never] == (None, 0)
    assert body["total"] == len(d["device_id"]) and body["online"] == 1
    # an enterprise user sees its own devices' states only
    own = client.get(f"/api/v1/parks/{t.park_id}/device-states", headers=t.headers("enterprise")).json()
    assert set(own["devices"]["enterprise_id"]) == {t.e1}
