"""Schemathesis drives every emergency operation of the OpenAPI schema as an admin, an operator
and an enterprise user: no input makes the server fail (tests/api/test_schema_fuzz.py does the
same for the whole schema)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples

from smartpark.settings import ApiSettings, Settings
from tests.api.conftest import Tenancy

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_no_emergency_operation_answers_a_server_error(
    client: TestClient, tenancy: Tenancy, settings: Settings, db_url: str, api_limits: ApiSettings
) -> None:
    from api.app import create_app

    app = create_app(settings, limits=api_limits, database_url=db_url, static_dir=None)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    tokens = {
        who: client.post("/api/v1/auth/token", headers=tenancy.headers(who)).json()["access_token"]
        for who in ("admin", "operator", "enterprise")
    }
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1/emergency"):
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @examples(
            max_examples=12, derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case: Any) -> None:
            if case.headers:
                case.headers.pop("X-API-Key", None)
            for who, token in tokens.items():
                response = case.call(headers={"Authorization": f"Bearer {token}"}, allow_redirects=False)
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{who} {case.method} {case.formatted_path} {case.query}"
                        f" {case.body!r:.200} -> {response.status_code} {response.text[:300]}"
                    )

        run()
    assert operations >= 20
    assert statuses[200] > 20 and statuses[401] == 0, statuses
    assert failures == []
