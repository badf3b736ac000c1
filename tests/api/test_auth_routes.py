"""Keys, tokens, revocation and user administration through the HTTP API."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Tenancy

pytestmark = pytest.mark.integration


def test_no_or_bad_credentials_answer_401_problem(client: TestClient, tenancy: Tenancy) -> None:
    r = client.get("/api/v1/parks")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "X-API-Key" in r.json()["detail"]
    r = client.get("/api/v1/parks", headers={"X-API-Key": "spk_aaaaaaaa_" + "b" * 43})
    assert r.status_code == 401 and r.json()["detail"] == "unknown API key"
    r = client.get("/api/v1/parks", headers={"Authorization": "Bearer spt.e30.AAAA"})
    assert r.status_code == 401


def test_key_exchanged_for_token_carries_the_scope(client: TestClient, tenancy: Tenancy) -> None:
    r = client.post("/api/v1/auth/token", headers=tenancy.headers("enterprise"))
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "enterprise"
    assert me["enterprise_id"] == tenancy.e1 and me["park_id"] == tenancy.park_id


def test_revoked_key_is_refused(client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    admin = tenancy.headers("admin")
    made = client.post(
        "/api/v1/users",
        headers=admin,
        json={"name": f"ro-{tenancy.park_id}", "role": "readonly", "park_id": tenancy.park_id},
    )
    assert made.status_code == 201, made.text
    key = client.post(f"/api/v1/users/{made.json()['user_id']}/keys", headers=admin, json={}).json()
    assert client.get("/api/v1/parks", headers={"X-API-Key": key["key"]}).status_code == 200
    stored = db.execute("SELECT key_hash, last_used_at FROM api_keys WHERE key_id = %s", (key["key_id"],)).fetchone()
    assert stored is not None and key["key"].encode() not in bytes(stored[0])
    assert stored[1] is not None  # last use recorded
    assert client.delete(f"/api/v1/keys/{key['key_id']}", headers=admin).status_code == 204
    r = client.get("/api/v1/parks", headers={"X-API-Key": key["key"]})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


@pytest.mark.parametrize("who", ["operator", "enterprise", "env_regulator", "readonly"])
def test_only_admins_manage_users(client: TestClient, tenancy: Tenancy, who: str) -> None:
    h = tenancy.headers(who)
    assert client.get("/api/v1/users", headers=h).status_code == 403
    r = client.post("/api/v1/users", headers=h, json={"name": "x", "role": "admin"})
    assert r.status_code == 403


def test_user_without_its_scope_is_a_clear_400(client: TestClient, tenancy: Tenancy) -> None:
    r = client.post(
        "/api/v1/users",
        headers=tenancy.headers("admin"),
        json={"name": f"op-noscope-{tenancy.park_id}", "role": "operator"},
    )
    assert r.status_code == 400 and "park_id" in r.json()["detail"]
