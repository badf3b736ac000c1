"""Webhook receivers may not target the platform's own side of the network, and every one signs
(issue 14, M1: operators pointed receivers at 127.0.0.1, 169.254.169.254 and [::1], and a
receiver without a secret got unsigned notifications)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from smartpark.settings import ApiSettings, Settings
from tests.api.conftest import Tenancy, app_client
from tests.support.factories import unique_code

pytestmark = pytest.mark.integration

PUBLIC = "http://93.184.215.14/hook"  # a global address; nothing is delivered in these tests


def _receiver(t: Tenancy, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": unique_code("hook"),
        "park_id": t.park_id,
        "categories": ["safety"],
        "channel": "webhook",
        "url": url,
        **extra,
    }


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8040/api/v1/users", "loopback"),
        ("http://localhost:8040/", "loopback"),  # a name: what it resolves to is checked
        ("http://[::1]/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://10.0.0.8/hook", "private"),
        ("http://192.168.1.1/hook", "private"),
        ("http://0.0.0.0:5432/", "unspecified"),
    ],
)
def test_receivers_may_not_target_internal_addresses(client: TestClient, tenancy: Tenancy, url: str, why: str) -> None:
    r = client.post("/api/v1/receivers", headers=tenancy.headers("operator"), json=_receiver(tenancy, url))
    assert r.status_code == 400, r.text
    assert f"is a {why} address" in r.json()["detail"] and "SMARTPARK_WEBHOOK_ALLOWED_NETWORKS" in r.json()["detail"]
    made = client.post("/api/v1/receivers", headers=tenancy.headers("operator"), json=_receiver(tenancy, PUBLIC))
    assert made.status_code == 201, made.text
    moved = client.patch(
        f"/api/v1/receivers/{made.json()['receiver_id']}", headers=tenancy.headers("operator"), json={"url": url}
    )
    assert moved.status_code == 400 and why in moved.json()["detail"]


def test_an_admin_allowed_network_admits_its_targets(
    settings: Settings, db_url: str, api_limits: ApiSettings, tenancy: Tenancy
) -> None:
    allowing = settings.model_copy(update={"webhook_allowed_networks": ["10.20.0.0/16"]})
    with app_client(allowing, db_url, api_limits) as c:
        h = tenancy.headers("operator")
        assert (
            c.post("/api/v1/receivers", headers=h, json=_receiver(tenancy, "http://10.20.1.2/hook")).status_code == 201
        )
        r = c.post("/api/v1/receivers", headers=h, json=_receiver(tenancy, "http://10.21.1.2/hook"))
        assert r.status_code == 400 and "10.21.1.2 is a private address" in r.json()["detail"]


def test_every_webhook_receiver_has_a_secret_shown_once(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    h = tenancy.headers("operator")
    made = client.post("/api/v1/receivers", headers=h, json=_receiver(tenancy, PUBLIC))
    assert made.status_code == 201, made.text
    generated, rid = made.json()["generated_secret"], made.json()["receiver_id"]
    assert len(generated) >= 40 and made.json()["has_secret"]
    stored = db.execute("SELECT secret FROM alert_receivers WHERE receiver_id = %s", (rid,)).fetchone()
    assert stored is not None and stored[0] == generated
    shown = client.get(f"/api/v1/receivers/{rid}", headers=h).json()
    assert generated not in str(shown) and shown["has_secret"]
    own = client.post("/api/v1/receivers", headers=h, json=_receiver(tenancy, PUBLIC, secret="k" * 32))
    assert own.json()["generated_secret"] is None  # the operator's own secret is not echoed
    removed = client.patch(f"/api/v1/receivers/{rid}", headers=h, json={"secret": None})
    assert removed.status_code == 400 and "always signed" in removed.json()["detail"]
    # a receiver written without a secret by any other writer gets one from the table
    row = db.execute(
        "INSERT INTO alert_receivers (name, park_id, categories, channel, url) VALUES (%s, %s, '{safety}',"
        " 'webhook', %s) RETURNING secret",
        (unique_code("cli-hook"), tenancy.park_id, PUBLIC),
    ).fetchone()
    assert row is not None and len(row[0]) == 64
