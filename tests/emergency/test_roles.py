"""Role boundaries of emergency management: an enterprise sees its own incidents, the emergency
bureau its park's, another park nothing; regulators and read-only users act on nothing; photos
are checked, stored privately and served only to those who see the incident."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import Role
from tests.api.conftest import Tenancy, make_user
from tests.emergency.conftest import hazard_body, raise_alarm

pytestmark = pytest.mark.integration
API = "/api/v1/emergency"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def incident(client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, registry: dict[str, Any]) -> int:
    aid = raise_alarm(db, tenancy, "gd1", "lel-level2", 66)
    r = client.post(f"{API}/incidents", json={"alert_ids": [aid]}, headers=tenancy.headers("operator"))
    assert r.status_code == 201, r.text
    return int(r.json()["incident_id"])


def ids(client: TestClient, headers: dict[str, str]) -> list[int]:
    r = client.get(f"{API}/incidents", params={"limit": 500}, headers=headers)
    assert r.status_code == 200, r.text
    return [i["incident_id"] for i in r.json()["items"]]


def test_who_sees_an_incident(client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, incident: int) -> None:
    e2 = {"X-API-Key": make_user(db, Role.ENTERPRISE, enterprise_id=tenancy.e2)}
    for who in ("operator", "readonly", "enterprise", "emg_regulator", "admin"):
        assert incident in ids(client, tenancy.headers(who)), who
        assert client.get(f"{API}/incidents/{incident}", headers=tenancy.headers(who)).status_code == 200, who
    for headers in (tenancy.headers("other_operator"), e2):
        assert incident not in ids(client, headers)
        assert client.get(f"{API}/incidents/{incident}", headers=headers).status_code == 404
    env = client.get(f"{API}/incidents", headers=tenancy.headers("env_regulator"))
    assert env.status_code == 403 and "emergency bureau" in env.json()["detail"]
    assert client.get(f"{API}/incidents").status_code == 401
    assert client.get(f"{API}/incidents", headers={"X-API-Key": "spk_nonsense"}).status_code == 401


def test_the_bureau_follows_its_parks_events_as_they_happen(
    client: TestClient, tenancy: Tenancy, incident: int
) -> None:
    feed = client.get(f"{API}/events", headers=tenancy.headers("emg_regulator")).json()
    mine = [e for e in feed["items"] if e["incident_id"] == incident]
    assert [e["kind"] for e in mine][:2] == ["opened", "alarm"]
    after = feed["last_event_id"]
    op = tenancy.headers("operator")
    assert client.post(f"{API}/incidents/{incident}/state", json={"to": "responding"}, headers=op).status_code == 200
    new = client.get(f"{API}/events", params={"after": after}, headers=tenancy.headers("emg_regulator")).json()
    assert [(e["incident_id"], e["kind"]) for e in new["items"]] == [(incident, "state")]
    other = client.get(f"{API}/events", headers=tenancy.headers("other_operator")).json()
    assert all(e["incident_id"] != incident for e in other["items"])


def test_only_operators_act_and_an_enterprise_adds_notes(
    client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, incident: int
) -> None:
    aid = raise_alarm(db, tenancy, "fa1", "fire-alarm", 1)
    for who in ("readonly", "emg_regulator", "enterprise"):
        h = tenancy.headers(who)
        assert client.post(f"{API}/incidents", json={"alert_ids": [aid]}, headers=h).status_code == 403, who
        assert client.post(f"{API}/incidents/{incident}/state", json={"to": "closed"}, headers=h).status_code == 403
        assert client.post(f"{API}/incidents/{incident}/steps/1/done", json={}, headers=h).status_code == 403
        assert client.patch(f"{API}/incidents/{incident}", json={"level": 1}, headers=h).status_code == 403
    note = {"kind": "note", "text": "现场已拉警戒线"}
    assert (
        client.post(f"{API}/incidents/{incident}/notes", json=note, headers=tenancy.headers("enterprise")).status_code
        == 201
    )
    for who in ("readonly", "emg_regulator"):
        assert (
            client.post(f"{API}/incidents/{incident}/notes", json=note, headers=tenancy.headers(who)).status_code == 403
        )
    # another park's operator: the incident does not exist for them, nor do its alarms
    other = tenancy.headers("other_operator")
    assert client.post(f"{API}/incidents/{incident}/state", json={"to": "closed"}, headers=other).status_code == 404
    assert client.post(f"{API}/incidents", json={"alert_ids": [aid]}, headers=other).status_code == 422


def test_registry_writes_are_the_parks_operators(
    client: TestClient, tenancy: Tenancy, registry: dict[str, Any]
) -> None:
    put = f"{API}/parks/{tenancy.park_id}/hazards"
    assert client.put(put, json=hazard_body(), headers=tenancy.headers("other_operator")).status_code == 404
    for who in ("readonly", "enterprise", "emg_regulator"):
        assert client.put(put, json=hazard_body(), headers=tenancy.headers(who)).status_code == 403, who
    assert client.put(put, json=hazard_body(), headers=tenancy.headers("admin")).status_code == 200
    hid = registry["hazard"]["hazard_id"]
    assert client.delete(f"{API}/hazards/{hid}", headers=tenancy.headers("other_operator")).status_code == 404
    seen = client.get(f"{API}/hazards", headers=tenancy.headers("other_operator")).json()
    assert all(h["park_id"] != tenancy.park_id for h in seen)
    assert [h["code"] for h in client.get(f"{API}/hazards", headers=tenancy.headers("enterprise")).json()] == [
        "cl-tank"
    ]
    resources = client.get(f"{API}/resources", headers=tenancy.headers("enterprise")).json()
    assert sorted(r["code"] for r in resources) == ["e1-scba", "e1-team", "park-foam"]
    foam = next(r["resource_id"] for r in resources if r["code"] == "park-foam")
    assert client.delete(f"{API}/resources/{foam}", headers=tenancy.headers("enterprise")).status_code == 403
    assert client.delete(f"{API}/resources/{foam}", headers=tenancy.headers("operator")).status_code == 204
    left = client.get(f"{API}/resources", headers=tenancy.headers("operator")).json()
    assert "park-foam" not in [r["code"] for r in left]


def test_photos_are_checked_private_and_served_to_who_sees_the_incident(
    client: TestClient, tenancy: Tenancy, incident: int, photo_dir: Path
) -> None:
    url = f"{API}/incidents/{incident}/photos"
    ent = {**tenancy.headers("enterprise"), "Content-Type": "image/png"}
    r = client.put(url, params={"caption": "储罐阀门"}, content=PNG, headers=ent)
    assert r.status_code == 201, r.text
    pid = r.json()["photo_id"]
    (stored,) = list(photo_dir.iterdir())
    assert stored.stat().st_mode & 0o777 == 0o600 and photo_dir.stat().st_mode & 0o777 == 0o700
    assert stored.read_bytes() == PNG and "储罐" not in stored.name
    got = client.get(f"{url}/{pid}", headers=tenancy.headers("emg_regulator"))
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
    assert "sandbox" in got.headers["content-security-policy"]
    assert client.get(f"{url}/{pid}", headers=tenancy.headers("other_operator")).status_code == 404
    assert client.get(f"{url}/{pid}", headers=tenancy.headers("env_regulator")).status_code == 403
    html = client.put(url, content=b"<script>", headers={**tenancy.headers("operator"), "Content-Type": "text/html"})
    assert html.status_code == 415
    fake = client.put(url, content=b"<svg/>", headers={**tenancy.headers("operator"), "Content-Type": "image/png"})
    assert fake.status_code == 422 and fake.json()["field"] == "body"
    big = client.put(url, content=PNG * 2000, headers={**tenancy.headers("operator"), "Content-Type": "image/png"})
    assert big.status_code == 413
    ro = client.put(url, content=PNG, headers={**tenancy.headers("readonly"), "Content-Type": "image/png"})
    assert ro.status_code == 403
    detail = client.get(f"{API}/incidents/{incident}", headers=tenancy.headers("operator")).json()
    assert [p["caption"] for p in detail["photos"]] == ["储罐阀门"]
    assert any(e["kind"] == "photo" for e in detail["timeline"])
