"""The reference tables the page draws with: authenticated, any role, outlets per tenant."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Tenancy, device_id

pytestmark = pytest.mark.integration
ROLES = ("admin", "operator", "enterprise", "env_regulator", "emg_regulator", "readonly")


def test_reference_needs_a_credential(client: TestClient) -> None:
    for path in ("/api/v1/reference/aqi", "/api/v1/reference/limits"):
        assert client.get(path).status_code == 401


def test_aqi_tables_for_every_role(client: TestClient, tenancy: Tenancy) -> None:
    for who in ROLES:
        r = client.get("/api/v1/reference/aqi", headers=tenancy.headers(who))
        assert r.status_code == 200, who
    doc = r.json()
    # HJ 633-2012 table 2: six categories, 优 up to 50, 严重污染 above 300
    assert [c["zh"] for c in doc["categories"]] == ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"]
    assert [c["max"] for c in doc["categories"]] == [50, 100, 150, 200, 300, None]
    assert doc["editions"]["2026"]["breakpoints"]["PM25_24H"][2] == 60
    assert doc["editions"]["2026"]["daily_items"] == ["PM25", "PM10", "SO2", "NO2", "CO", "O3_8H"]


def test_limits_per_outlet_the_caller_may_see(client: TestClient, db: object, tenancy: Tenancy) -> None:
    cems = device_id(db, tenancy.e1, "cems1")  # type: ignore[arg-type]
    ww = device_id(db, tenancy.e2, "ww1")  # type: ignore[arg-type]
    doc = client.get("/api/v1/reference/limits", headers=tenancy.headers("operator")).json()
    outlets = {o["device_id"]: o for o in doc["outlets"]}
    assert {cems, ww} <= set(outlets)
    # coal boiler, GB 13271-2014 table 2 at 9 % O2; wastewater GB 8978-1996 grade 1
    assert outlets[cems]["limits"]["stack.so2_mgm3"]["value"] == 300 and outlets[cems]["o2_ref_pct"] == 9
    assert outlets[ww]["limits"]["ww.cod_mgl"]["value"] == 100
    assert doc["gas_levels"]["safety.co_ppm"] == [17.1, 34.3] and doc["o2_band"] == [19.5, 23.5]
    own = client.get("/api/v1/reference/limits", headers=tenancy.headers("enterprise")).json()
    assert {o["device_id"] for o in own["outlets"]} == {cems}  # enterprise e1 sees its own outlet only
    other = client.get("/api/v1/reference/limits", headers=tenancy.headers("other_operator")).json()
    assert not {cems, ww} & {o["device_id"] for o in other["outlets"]}
