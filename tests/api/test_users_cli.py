"""`smartpark users add|key|list|revoke` against the run's database, keys checked through
the API."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from smartpark.cli import main
from tests.api.conftest import Tenancy
from tests.support.factories import unique_code

pytestmark = pytest.mark.integration


def _key(out: str) -> str:
    found = re.search(r"key \d+: (spk_\S+)", out)
    assert found, out
    return found.group(1)


def test_users_cli_round_trip(
    client: TestClient,
    tenancy: Tenancy,
    db: psycopg.Connection[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    park = db.execute("SELECT code FROM parks WHERE park_id = %s", (tenancy.park_id,)).fetchone()[0]  # type: ignore[index]
    name = unique_code("cli")
    assert main(["users", "add", name, "--role", "enterprise", "--park", park, "--enterprise", "e1"]) == 0
    key = _key(capsys.readouterr().out)
    me = client.get("/api/v1/auth/me", headers={"X-API-Key": key}).json()
    assert me["role"] == "enterprise" and me["enterprise_id"] == tenancy.e1

    assert main(["users", "key", name, "--label", "second"]) == 0
    second = _key(capsys.readouterr().out)
    assert main(["users", "list", "--keys"]) == 0
    listing = capsys.readouterr().out
    assert name in listing and second.split("_")[1] in listing and second not in listing

    assert main(["users", "revoke", name]) == 0
    capsys.readouterr()
    for k in (key, second):
        assert client.get("/api/v1/auth/me", headers={"X-API-Key": k}).status_code == 401


def test_users_cli_names_what_is_missing(tenancy: Tenancy, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "add", unique_code("cli"), "--role", "regulator"]) == 2
    assert "--bureau" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="unknown park 'nowhere'"):
        main(["users", "add", unique_code("cli"), "--role", "operator", "--park", "nowhere"])


def test_a_prometheus_user_scrapes_metrics_and_nothing_else(
    client: TestClient, tenancy: Tenancy, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 14, Low: /metrics needs auth; the scrape key comes from `smartpark users add`."""
    assert main(["users", "add", unique_code("prometheus"), "--role", "metrics"]) == 0
    scraper = {"Authorization": f"Bearer {_key(capsys.readouterr().out)}"}
    assert client.get("/metrics", headers=scraper).status_code == 200
    assert client.get("/api/v1/enterprises", headers=scraper).status_code == 403
