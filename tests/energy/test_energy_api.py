"""The energy API: the tree, cost per period with demand, balance; and who may see what.

Figures worked by hand from the fixture's readings (tests/energy/conftest.py): e1's main meter
E1 runs at 8 kWh/h from local 00:00 to 12:00 on 2026-07-15, a calm-season day of the 蒙西
schedule (内发改价费字〔2023〕1630号, verify): flat 00-06 and 08-11 (72 kWh), peak 06-08 (16),
valley 11-12 (8). At floating 0.40 and fixed 0.20 yuan/kWh: 72 × 0.60 + 16 × (0.40 × 1.54 +
0.20) + 8 × (0.40 × 0.44 + 0.20) = 43.2 + 13.056 + 3.008 = 59.264 yuan.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.energy.conftest import TREE, h

pytestmark = pytest.mark.integration
API = "/api/v1/energy"


def _put(client: TestClient, keys: dict[str, Any], who: str = "admin", **body: Any) -> Any:
    return client.put(f"{API}/parks/{keys['park_id']}/meters", json={"meters": TREE, **body}, headers=h(keys, who))


def test_an_admin_sets_the_tree_and_a_month_of_cost_follows(client: TestClient, keys: dict[str, Any]) -> None:
    r = _put(client, keys, recompute_from="2026-07-01")
    assert r.status_code == 200, r.text
    assert r.json()["meters"] == 6
    r = client.get(f"{API}/enterprises/{keys['e1']}/cost", params={"month": "2026-07"}, headers=h(keys, "operator"))
    assert r.status_code == 200, r.text
    body = r.json()
    e1 = next(m for m in body["meters"] if m["code"] == "E1")
    # periods: deep_valley, valley, flat, peak, critical_peak
    assert e1["kwh"] == pytest.approx([0.0, 8.0, 72.0, 16.0, 0.0])
    assert sum(e1["cost"]) == pytest.approx(59.264)
    assert body["total"]["kwh"] == pytest.approx([0.0, 8.0, 72.0, 16.0, 0.0])  # the subs are inside E1
    # the month's demand: 2 kWh in a quarter hour = 8 kW, against 50 kW contracted; 8 × 30 yuan/kW
    assert (e1["demand_kw"], e1["demand_level"], e1["demand_charge"]) == (
        pytest.approx(8.0),
        "ok",
        pytest.approx(240.0),
    )
    # E1R = E1 - E1A - E1B: 96 - 24 - 48 kWh, per period 72-18-36 flat, 16-4-8 peak, 8-2-4 valley
    (v,) = body["virtual"]
    assert v["kwh"] == pytest.approx([0.0, 2.0, 18.0, 4.0, 0.0])
    assert "1630" in body["sources"]["nm_west_2023"]["source"]


def test_balance_of_the_park_and_of_an_enterprise(client: TestClient, keys: dict[str, Any]) -> None:
    assert _put(client, keys).status_code == 200
    q = {"from": "2026-07-15", "to": "2026-07-15"}
    r = client.get(f"{API}/parks/{keys['park_id']}/balance", params=q, headers=h(keys, "operator"))
    assert r.status_code == 200, r.text
    (b,) = r.json()["balances"]
    # intake 25 kWh/h against E1 8 + E2 16: 1 kWh/h, 4 % lost, under the 5 % limit
    assert (b["parent"], b["children"], b["loss"], b["loss_pct"]) == ("IN", ["E1", "E2"], 12.0, 4.0)
    assert b["alarm_hours"] == []
    r = client.get(f"{API}/enterprises/{keys['e1']}/balance", params=q, headers=h(keys, "e1_user"))
    (b,) = r.json()["balances"]
    # E1 96 kWh against its sub-meters' 72: 25 % unmetered, alarmed in every hour with data
    assert (b["loss"], b["loss_pct"], len(b["alarm_hours"])) == (24.0, 25.0, 13)


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        (None, "parks/{park}/meters", 401),
        ("regulator", "parks/{park}/meters", 403),  # no energy category
        ("e1_user", "parks/{park}/cost?month=2026-07", 403),  # the park's figures
        ("e1_user", "parks/{park}/balance?from=2026-07-15&to=2026-07-15", 403),
        ("e1_user", "enterprises/{e2}/cost?month=2026-07", 404),  # another enterprise: not there
        ("other_operator", "enterprises/{e1}/cost?month=2026-07", 404),  # another park
        ("other_operator", "parks/{park}/meters", 404),
        ("readonly", "parks/{park}/cost?month=2026-07", 200),
        ("e1_user", "enterprises/{e1}/cost?month=2026-07", 200),
    ],
)
def test_role_boundaries(client: TestClient, keys: dict[str, Any], who: str | None, path: str, status: int) -> None:
    url = f"{API}/" + path.format(park=keys["park_id"], e1=keys["e1"], e2=keys["e2"])
    r = client.get(url, headers=h(keys, who) if who else {})
    assert r.status_code == status, r.text


def test_an_enterprise_user_sees_only_its_own_meters(client: TestClient, keys: dict[str, Any]) -> None:
    assert _put(client, keys).status_code == 200
    r = client.get(f"{API}/parks/{keys['park_id']}/meters", headers=h(keys, "e1_user"))
    assert r.status_code == 200
    assert {m["code"] for m in r.json()["meters"]} == {"E1", "E1A", "E1B", "E1R"}


def test_only_an_admin_changes_the_tree_and_bad_input_names_the_field(client: TestClient, keys: dict[str, Any]) -> None:
    assert _put(client, keys, who="operator").status_code == 403
    bad = [*TREE[:2], {**TREE[2], "parent": "NOPE"}]
    r = client.put(f"{API}/parks/{keys['park_id']}/meters", json={"meters": bad}, headers=h(keys, "admin"))
    assert r.status_code == 422 and "meters[2] ('E1A').parent: no meter 'NOPE'" in r.json()["detail"]
    r = client.put(
        f"{API}/parks/{keys['park_id']}/meters",
        json={"meters": [{**TREE[1], "contracted_kw": -5}]},
        headers=h(keys, "admin"),
    )
    assert r.status_code == 422 and "contracted_kw" in r.json()["detail"]
    r = client.get(f"{API}/enterprises/{keys['e1']}/cost", params={"month": "2026-13"}, headers=h(keys, "admin"))
    assert r.status_code == 422 and "month" in r.json()["detail"]
    q = {"from": "2026-07-01", "to": "2026-08-15"}
    r = client.get(f"{API}/parks/{keys['park_id']}/balance", params=q, headers=h(keys, "admin"))
    assert r.status_code == 422 and "31 days" in r.json()["detail"]
