"""Registry reads per role (tenant isolation answers 404) and admin writes with provisioning."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Tenancy
from tests.support.factories import unique_code

pytestmark = pytest.mark.integration


def _ids(client: TestClient, path: str, headers: dict[str, str], key: str, **params: object) -> set[int]:
    r = client.get(path, headers=headers, params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return {row[key] for row in r.json()["items"]}


def test_parks_per_role(client: TestClient, tenancy: Tenancy) -> None:
    both = {tenancy.park_id, tenancy.other_park_id}
    assert both <= _ids(client, "/api/v1/parks", tenancy.headers("admin"), "park_id")
    for who in ("operator", "enterprise", "env_regulator", "emg_regulator", "readonly"):
        assert _ids(client, "/api/v1/parks", tenancy.headers(who), "park_id") == {tenancy.park_id}
        r = client.get(f"/api/v1/parks/{tenancy.other_park_id}", headers=tenancy.headers(who))
        assert r.status_code == 404, who


def test_enterprise_sees_only_itself_by_id_and_by_filter(client: TestClient, tenancy: Tenancy) -> None:
    h = tenancy.headers("enterprise")
    assert _ids(client, "/api/v1/enterprises", h, "enterprise_id") == {tenancy.e1}
    assert client.get(f"/api/v1/enterprises/{tenancy.e1}", headers=h).status_code == 200
    assert client.get(f"/api/v1/enterprises/{tenancy.e2}", headers=h).status_code == 404
    assert client.get(f"/api/v1/enterprises/{tenancy.other_e1}", headers=h).status_code == 404
    # a filter naming another enterprise yields nothing, not its rows
    assert _ids(client, "/api/v1/devices", h, "device_id", enterprise_id=tenancy.e2) == set()
    assert _ids(client, "/api/v1/gateways", h, "gateway_id", enterprise_id=tenancy.e2) == set()
    own = _ids(client, "/api/v1/devices", h, "device_id")
    assert own and all(client.get(f"/api/v1/devices/{d}", headers=h).json()["enterprise_id"] == tenancy.e1 for d in own)


def test_operator_sees_its_park_only(client: TestClient, tenancy: Tenancy) -> None:
    h = tenancy.headers("operator")
    assert _ids(client, "/api/v1/enterprises", h, "enterprise_id") == {tenancy.e1, tenancy.e2}
    assert client.get(f"/api/v1/enterprises/{tenancy.other_e1}", headers=h).status_code == 404
    assert _ids(client, "/api/v1/devices", h, "device_id", park_id=tenancy.other_park_id) == set()


def test_regulator_sees_devices_and_metrics_of_its_categories(client: TestClient, tenancy: Tenancy) -> None:
    env = client.get("/api/v1/devices", headers=tenancy.headers("env_regulator"), params={"limit": 1000}).json()[
        "items"
    ]
    kinds = {d["kind"] for d in env}
    assert "stack_cems" in kinds and "gas_detector" not in kinds and "elec_meter" not in kinds
    emg = client.get("/api/v1/devices", headers=tenancy.headers("emg_regulator"), params={"limit": 1000}).json()[
        "items"
    ]
    assert {d["kind"] for d in emg} >= {"gas_detector", "fire_alarm"}
    assert "stack_cems" not in {d["kind"] for d in emg}
    gd = next(d for d in emg if d["kind"] == "gas_detector")
    r = client.get(f"/api/v1/devices/{gd['device_id']}", headers=tenancy.headers("env_regulator"))
    assert r.status_code == 404
    cats = {m["category"] for m in client.get("/api/v1/metrics", headers=tenancy.headers("emg_regulator")).json()}
    assert cats == {"safety"}


def test_pagination_and_page_size_limit(client: TestClient, tenancy: Tenancy) -> None:
    h = tenancy.headers("operator")
    first = client.get("/api/v1/devices", headers=h, params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    second = client.get("/api/v1/devices", headers=h, params={"limit": 2, "offset": 2}).json()
    assert not {d["device_id"] for d in first["items"]} & {d["device_id"] for d in second["items"]}
    r = client.get("/api/v1/devices", headers=h, params={"limit": 100_000})
    assert r.status_code == 400 and "maximum page size" in r.json()["detail"]


@pytest.mark.parametrize("who", ["operator", "enterprise", "env_regulator", "readonly"])
def test_registry_writes_are_for_admins(client: TestClient, tenancy: Tenancy, who: str) -> None:
    h = tenancy.headers(who)
    assert client.post("/api/v1/parks", headers=h, json={"code": "x", "name": "x"}).status_code == 403
    r = client.patch(f"/api/v1/enterprises/{tenancy.e1}", headers=h, json={"name": "x"})
    assert r.status_code == 403


def test_admin_creates_and_provisions(client: TestClient, tenancy: Tenancy) -> None:
    h = tenancy.headers("admin")
    code = unique_code("p")
    park = client.post("/api/v1/parks", headers=h, json={"code": code, "name": "新园区", "grid_region": "east"})
    assert park.status_code == 201, park.text
    assert client.post("/api/v1/parks", headers=h, json={"code": code, "name": "x"}).status_code == 409
    bad_tz = client.post(
        "/api/v1/parks",
        headers=h,
        json={"code": unique_code("p"), "name": "x", "timezone": "Mars/Olympus"},
    )
    assert bad_tz.status_code == 400 and "Mars/Olympus" in bad_tz.json()["detail"]
    ent = client.post(
        "/api/v1/enterprises",
        headers=h,
        json={"park_id": park.json()["park_id"], "code": "e9", "name": "九号企业"},
    ).json()
    gw = client.post("/api/v1/gateways", headers=h, json={"enterprise_id": ent["enterprise_id"], "code": "gw1"})
    assert gw.status_code == 201, gw.text
    assert gw.json()["credentials"]["username"] == f"{code}.e9.gw1"
    dev = client.post(
        "/api/v1/devices",
        headers=h,
        json={
            "enterprise_id": ent["enterprise_id"],
            "gateway_id": gw.json()["gateway_id"],
            "code": "em1",
            "kind": "elec_meter",
            "credentials": True,
        },
    )
    assert dev.status_code == 201, dev.text
    body = dev.json()
    assert body["metrics"] == ["elec.import_kwh", "elec.export_kwh", "elec.power_kw", "elec.pf"]
    assert body["credentials"]["password"]
    # the same codes again: 409, and no second row or broker account
    again = {"enterprise_id": ent["enterprise_id"], "code": "gw1"}
    assert client.post("/api/v1/gateways", headers=h, json=again).status_code == 409
    again = {"enterprise_id": ent["enterprise_id"], "code": "em1", "kind": "elec_meter"}
    assert client.post("/api/v1/devices", headers=h, json=again).status_code == 409
    gateways = client.get("/api/v1/gateways", headers=h, params={"enterprise_id": ent["enterprise_id"]}).json()
    assert [g["code"] for g in gateways["items"]] == ["gw1"]
    bad = client.post(
        "/api/v1/devices",
        headers=h,
        json={"enterprise_id": ent["enterprise_id"], "code": "x1", "kind": "toaster"},
    )
    assert bad.status_code == 400 and "toaster" in bad.json()["detail"]
    patched = client.patch(
        f"/api/v1/devices/{body['device_id']}",
        headers=h,
        json={"zone": "Z9", "metrics": ["elec.power_kw"]},
    )
    assert patched.status_code == 200 and patched.json()["metrics"] == ["elec.power_kw"]
    assert patched.json()["zone"] == "Z9"


def test_a_loggers_hj212_password_is_never_read_back(client: TestClient, tenancy: Tenancy) -> None:
    h = tenancy.headers("admin")
    dev = client.post(
        "/api/v1/devices",
        headers=h,
        json={
            "enterprise_id": tenancy.e1,
            "code": unique_code("cems"),
            "kind": "stack_cems",
            "attributes": {"hj212_mn": unique_code("mn"), "hj212_pw": "123456", "o2_ref_pct": 9},
        },
    )
    assert dev.status_code == 201, dev.text
    for who in ("admin", "operator"):
        read = client.get(f"/api/v1/devices/{dev.json()['device_id']}", headers=tenancy.headers(who))
        assert read.status_code == 200, read.text
        assert "hj212_pw" not in read.json()["attributes"] and read.json()["attributes"]["o2_ref_pct"] == 9


def _logger(client: TestClient, tenancy: Tenancy, mn: str) -> int:
    dev = client.post(
        "/api/v1/devices",
        headers=tenancy.headers("admin"),
        json={
            "enterprise_id": tenancy.e1,
            "code": unique_code("cems"),
            "kind": "stack_cems",
            "attributes": {"hj212_mn": mn, "hj212_pw": "123456", "o2_ref_pct": 9},
        },
    )
    assert dev.status_code == 201, dev.text
    return int(dev.json()["device_id"])


def _stored_attributes(db: psycopg.Connection[Any], device_id: int) -> dict[str, Any]:
    row = db.execute("SELECT attributes FROM devices WHERE device_id = %s", (device_id,)).fetchone()
    assert row is not None
    return dict(row[0])


def test_editing_attributes_keeps_the_loggers_password(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    """Issue 14, M3: the GET hides hj212_pw, so a PATCH of what it shows deleted it."""
    h, mn = tenancy.headers("admin"), unique_code("mn")
    device_id = _logger(client, tenancy, mn)
    shown = client.get(f"/api/v1/devices/{device_id}", headers=h).json()["attributes"]
    edited = client.patch(f"/api/v1/devices/{device_id}", headers=h, json={"attributes": {**shown, "o2_ref_pct": 11}})
    assert edited.status_code == 200, edited.text
    assert edited.json()["attributes"] == {"hj212_mn": mn, "o2_ref_pct": 11}  # never the password
    assert _stored_attributes(db, device_id) == {"hj212_mn": mn, "hj212_pw": "123456", "o2_ref_pct": 11}
    # replaced only when named; removed only by an explicit null
    client.patch(f"/api/v1/devices/{device_id}", headers=h, json={"attributes": {"hj212_pw": "654321"}})
    client.patch(f"/api/v1/devices/{device_id}", headers=h, json={"attributes": {"o2_ref_pct": None}})
    assert _stored_attributes(db, device_id) == {"hj212_mn": mn, "hj212_pw": "654321"}


def test_logger_mns_only_for_those_who_need_them(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    """Issue 14, H4 (API part): an MN is half of a data logger's HJ 212 credential."""
    t, mn = tenancy, unique_code("mn")
    device_id = _logger(client, t, mn)
    for who, sees in (
        ("admin", True),
        ("operator", True),
        ("enterprise", True),  # its own logger
        ("env_regulator", False),
        ("readonly", False),
    ):
        one = client.get(f"/api/v1/devices/{device_id}", headers=t.headers(who))
        assert one.status_code == 200, (who, one.text)
        listed = client.get("/api/v1/devices", headers=t.headers(who), params={"kind": "stack_cems", "limit": 1000})
        mns = {d["attributes"].get("hj212_mn") for d in listed.json()["items"]}
        assert ("hj212_mn" in one.json()["attributes"]) is sees, who
        assert (mn in mns) is sees, who
        assert "hj212_pw" not in one.json()["attributes"]
    # nor through ingest's rejections of that logger's frames
    db.execute(
        "INSERT INTO rejected_messages (received_at, topic, reason_code, reason, device, enterprise_id, park_id,"
        " excerpt) VALUES (now(), %s, 'bad_password', %s, 'cems', %s, %s, %s)",
        (f"hj212://192.0.2.7:40000/{mn}", f"wrong password for MN={mn}", t.e1, t.park_id, f"QN=1;ST=31;MN={mn};PW=***"),
    )
    for who, sees in (("operator", True), ("enterprise", True), ("readonly", False)):
        rows = client.get("/api/v1/rejected", headers=t.headers(who), params={"reason_code": "bad_password"}).json()
        text = json.dumps(rows["items"])
        assert rows["items"] and (mn in text) is sees, who
        if not sees:
            assert rows["items"][0]["topic"] == "hj212://192.0.2.7:40000/***"
            assert rows["items"][0]["excerpt"] == "QN=1;ST=31;MN=***;PW=***"


def test_the_simulators_seed_is_not_served(client: TestClient, tenancy: Tenancy, db: psycopg.Connection) -> None:
    """Issue 14 C1: every user read the seed in GET /parks. A generated model no longer stores it,
    and migration 0610 removes it from parks loaded before."""
    from device_sim.model import generate_model
    from smartpark.db.migrate import available
    from smartpark.registry import load_model

    model = generate_model(enterprises=1, seed=5, park=unique_code("sim"))
    with db.transaction():
        load_model(db, model)
    old = db.execute(
        "UPDATE parks SET attributes = attributes || '{\"sim_seed\": 7}' WHERE park_id = %s RETURNING park_id",
        (tenancy.park_id,),
    ).fetchone()
    assert old is not None
    (migration,) = [m for m in available() if m.version == "0610"]
    db.execute(migration.sql)
    r = client.get("/api/v1/parks", headers=tenancy.headers("admin"), params={"limit": 1000})
    assert r.status_code == 200, r.text
    served = {p["code"]: p for p in r.json()["items"]}
    assert model["parks"][0]["code"] in served
    assert all("sim_seed" not in (p.get("attributes") or {}) for p in served.values())


def test_a_device_named_like_a_gateway_does_not_take_its_broker_account(
    client: TestClient, tenancy: Tenancy, settings: Any, broker: Any
) -> None:
    """Issue 14 M6: the device's account reset the gateway's broker password."""
    from smartpark.broker_admin import gateway_client_id
    from smartpark.mqtt import BrokerTarget, connect, make_client, mqtt_url

    h = tenancy.headers("admin")
    code = unique_code("gw")
    gw = client.post("/api/v1/gateways", headers=h, json={"enterprise_id": tenancy.e1, "code": code})
    assert gw.status_code == 201, gw.text
    creds = gw.json()["credentials"]
    dev = client.post(
        "/api/v1/devices",
        headers=h,
        json={"enterprise_id": tenancy.e1, "code": code, "kind": "elec_meter", "credentials": True},
    )
    assert dev.status_code == 409 and f"broker user {creds['username']!r} is taken" in dev.json()["detail"]
    target = BrokerTarget.parse(mqtt_url(settings)).with_credentials(creds["username"], creds["password"])
    still = make_client(gateway_client_id(creds["username"]), target=target, clean_start=True, session_expiry=0)
    connect(still)  # the gateway's password is what it was
    still.disconnect()
    still.loop_stop()
    broker.delete_client(creds["username"])
