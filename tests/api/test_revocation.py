"""A credential ends when its key or user ends: tokens, the live stream, and their limits.

Issue 14, H1: a token renewed itself forever through POST /auth/token, past a revoked key and a
disabled user, and an open WebSocket kept streaming after its user was disabled. Low: live
connections per user and failed key authentications per address had no bound.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import Role
from api.queries import users as uq
from smartpark.settings import ApiSettings, Settings
from tests.api.conftest import Tenancy, app_client
from tests.support.factories import unique_code

pytestmark = pytest.mark.integration


def _user(db: psycopg.Connection[Any], park_id: int, **key: Any) -> tuple[int, int, str]:
    """A fresh read-only user of the park: (user id, key id, key)."""
    user = uq.create_user(db, name=unique_code("u"), role=Role.READONLY, park_id=park_id)
    made, key_id = uq.create_key(db, user_id=user["user_id"], **key)
    return user["user_id"], key_id, made.key


def _token(client: TestClient, key: str) -> dict[str, Any]:
    r = client.post("/api/v1/auth/token", headers={"X-API-Key": key})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_not_exchanged_for_another(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    _, _, key = _user(db, tenancy.park_id)
    token = _token(client, key)["access_token"]
    r = client.post("/api/v1/auth/token", headers=_bearer(token))
    assert r.status_code == 401 and "API key" in r.json()["detail"]


@pytest.mark.parametrize("end", ["key revoked", "user disabled"])
def test_a_token_ends_with_its_key_or_user(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any], end: str
) -> None:
    user_id, key_id, key = _user(db, tenancy.park_id)
    token = _token(client, key)["access_token"]
    assert client.get("/api/v1/parks", headers=_bearer(token)).status_code == 200
    if end == "key revoked":
        assert client.delete(f"/api/v1/keys/{key_id}", headers=tenancy.headers("admin")).status_code == 204
    else:
        uq.disable_user(db, user_id=user_id, at=datetime.now(UTC))
    r = client.get("/api/v1/parks", headers=_bearer(token))
    assert r.status_code == 401 and r.json()["detail"] in (
        f"API key {key.split('_')[1]} was revoked",
        f"user {uq.get_user(db, user_id=user_id)['name']!r} is disabled",  # type: ignore[index]
    )


def test_a_token_expires_at_the_latest_with_its_key(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    key_expires = datetime.now(UTC) + timedelta(seconds=120)  # sooner than the 15 min token TTL
    _, _, key = _user(db, tenancy.park_id, expires_at=key_expires)
    assert _token(client, key)["expires_at"] <= key_expires.timestamp()
    db.execute("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE prefix = %s", (key.split("_")[1],))
    # a token issued before its key expired stops with it
    _, _, other = _user(db, tenancy.park_id, expires_at=datetime.now(UTC) + timedelta(hours=1))
    token = _token(client, other)["access_token"]
    db.execute("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE prefix = %s", (other.split("_")[1],))
    r = client.get("/api/v1/parks", headers=_bearer(token))
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def _frames_until_closed(ws: Any) -> tuple[list[dict[str, Any]], int]:
    """Every frame the server sends, then its close code (pytest's timeout bounds a server that
    would never close)."""
    frames = []
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return frames, int(message["code"])
        frames.append(json.loads(message["text"]))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("credential", ["key", "token"])
def test_open_live_stream_closes_once_its_user_is_disabled(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any], api_limits: ApiSettings, credential: str
) -> None:
    user_id, _, key = _user(db, tenancy.park_id)
    secret = key if credential == "key" else _token(client, key)["access_token"]
    with client.websocket_connect(f"/api/v1/live?token={secret}") as ws:
        ws.send_json({"alarms": True})
        assert ws.receive_json()["type"] == "subscribed"
        uq.disable_user(db, user_id=user_id, at=datetime.now(UTC))
        # within live_recheck_s (0.5 s here, 2 s by default) the server says why and closes
        frames, code = _frames_until_closed(ws)
    assert code == 1008  # policy violation
    assert frames[-1]["type"] == "error" and frames[-1]["status"] == 401
    assert "disabled" in frames[-1]["detail"] or "revoked" in frames[-1]["detail"]


def test_live_streams_per_user_are_capped(
    settings: Settings, db_url: str, api_limits: ApiSettings, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    _, _, key = _user(db, tenancy.park_id)
    _, _, other = _user(db, tenancy.park_id)
    with app_client(settings, db_url, api_limits.model_copy(update={"live_max_per_user": 1})) as c:
        with c.websocket_connect(f"/api/v1/live?token={key}") as first:
            first.send_json({"alarms": True})
            assert first.receive_json()["type"] == "subscribed"
            with c.websocket_connect(f"/api/v1/live?token={key}") as second:
                frames, code = _frames_until_closed(second)
            assert code == 4429
            assert frames[0]["status"] == 429 and "at most" not in frames[0]["detail"]
            assert "1 live streams open" in frames[0]["detail"]
            with c.websocket_connect(f"/api/v1/live?token={other}") as another_user:
                another_user.send_json({"alarms": True})
                assert another_user.receive_json()["type"] == "subscribed"
        # the slot is given back when the first stream ends
        with c.websocket_connect(f"/api/v1/live?token={key}") as again:
            again.send_json({"alarms": True})
            assert again.receive_json()["type"] == "subscribed"


def test_failed_key_authentications_are_throttled_per_address(
    settings: Settings, db_url: str, api_limits: ApiSettings, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    _, _, key = _user(db, tenancy.park_id)
    limits = api_limits.model_copy(update={"auth_fail_limit": 3, "auth_fail_window_s": 60.0})
    with app_client(settings, db_url, limits) as c:
        token = _token(c, key)["access_token"]
        wrong = {"X-API-Key": "spk_aaaaaaaa_" + "b" * 43}
        assert [c.get("/api/v1/parks", headers=wrong).status_code for _ in range(3)] == [401] * 3
        r = c.get("/api/v1/parks", headers=wrong)
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
        assert "retry in" in r.json()["detail"]
        # while throttled, a right key from that address waits too (no oracle for guesses) ...
        assert c.get("/api/v1/parks", headers={"X-API-Key": key}).status_code == 429
        with c.websocket_connect(f"/api/v1/live?token={key}") as ws:
            frames, code = _frames_until_closed(ws)
        assert code == 4429 and frames[0]["status"] == 429
        # ... and a signed token, which cannot be guessed, still works
        assert c.get("/api/v1/parks", headers=_bearer(token)).status_code == 200
