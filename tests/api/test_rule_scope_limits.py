"""Rule scopes within the documented limits are saved; beyond them the API answers 422 naming
the limit (alerting.scope: entries per scope, wildcard entries, characters per entry)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerting.scope import MAX_PATTERN_CHARS, MAX_SCOPE_ENTRIES, MAX_SCOPE_WILDCARDS
from tests.api.conftest import Tenancy
from tests.api.test_rules_and_rejected import _rule as lel_rule

pytestmark = pytest.mark.integration


def _rule(rule_id: str, park: str, devices: list[str]) -> dict[str, Any]:
    base = lel_rule(rule_id, [park])
    return {**base, "scope": {**base["scope"], "devices": devices}}


def test_scope_limits_are_refused_with_422(client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    row = db.execute("SELECT code FROM parks WHERE park_id = %s", (tenancy.park_id,)).fetchone()
    assert row is not None
    park, h = str(row[0]), tenancy.headers("admin")
    at_limit = [f"e1/gd{i:05d}" for i in range(MAX_SCOPE_ENTRIES - 1)]  # + the park: the limit exactly
    ok = client.post("/api/v1/rules", headers=h, json=_rule(f"big-{park}", park, at_limit))
    assert ok.status_code == 201, ok.text
    assert len(ok.json()["definition"]["scope"]["devices"]) == MAX_SCOPE_ENTRIES - 1
    cases = {
        f"{MAX_SCOPE_ENTRIES + 1} entries": [*at_limit, "e1/one-more", "e1/and-another"][:MAX_SCOPE_ENTRIES],
        f"{MAX_SCOPE_WILDCARDS + 1} wildcard": [f"gd{i}*" for i in range(MAX_SCOPE_WILDCARDS + 1)],
        f"{MAX_PATTERN_CHARS + 1} characters": ["g" * (MAX_PATTERN_CHARS + 1)],
    }
    for i, (limit, devices) in enumerate(cases.items()):
        got = client.post("/api/v1/rules", headers=h, json=_rule(f"over-{i}-{park}", park, devices))
        assert got.status_code == 422, (limit, got.text)
        assert limit in got.json()["detail"]
        # a replacement beyond the limit is refused the same way, and the stored rule stays
        put = client.put(f"/api/v1/rules/big-{park}", headers=h, json=_rule(f"big-{park}", park, devices))
        assert put.status_code == 422 and limit in put.json()["detail"]
    kept = client.get(f"/api/v1/rules/big-{park}", headers=h).json()
    assert len(kept["definition"]["scope"]["devices"]) == MAX_SCOPE_ENTRIES - 1
