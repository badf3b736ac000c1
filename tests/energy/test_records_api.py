"""Meter changes, manual readings and their audit trail through the API, and who may record."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.energy.conftest import TREE, h, indicators, load_tree
from tests.support.readings import device_id

pytestmark = pytest.mark.integration
API = "/api/v1/energy"


def _em1(db: psycopg.Connection[Any], model: dict[str, Any]) -> int:
    return device_id(db, model, "e1", "em1")


def test_a_meter_change_makes_the_months_cost_exact(
    client: TestClient, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    assert (
        client.put(f"{API}/parks/{keys['park_id']}/meters", json={"meters": TREE}, headers=h(keys, "admin")).status_code
        == 200
    )
    em1 = _em1(db, tree_park)
    # E1 reads 1000 + 2 kWh per quarter hour from local 00:00 (16:00Z the day before): 1024 at
    # 03:00 and 1026 at 03:15. Swapped at 03:05, the old register reading 1024.4 and the new one
    # starting from there: 0.4 kWh on the old one, 1.6 on the new, no reset and no jump.
    body = {"changed_at": "2026-07-14T19:05:00Z", "old_final": 1024.4, "new_initial": 1024.4, "new_serial": "N-2"}
    r = client.post(f"{API}/devices/{em1}/changes", json=body, headers=h(keys, "operator"))
    assert r.status_code == 201, r.text
    assert client.post(f"{API}/devices/{em1}/changes", json=body, headers=h(keys, "operator")).status_code == 409
    r = client.get(f"{API}/enterprises/{keys['e1']}/cost", params={"month": "2026-07"}, headers=h(keys, "e1_user"))
    assert r.status_code == 200, r.text
    e1 = next(m for m in r.json()["meters"] if m["code"] == "E1")
    assert sum(e1["kwh"]) == pytest.approx(96.0)  # a change that fits the readings changes no total
    assert e1["demand_kw"] == pytest.approx(8.0)  # nor the month's demand: 2 kWh a quarter hour
    assert [c["new_serial"] for c in r.json()["meter_changes"]] == ["N-2"]
    # a change the readings around it cannot fit is refused, naming them
    bad = {**body, "changed_at": "2026-07-14T20:05:00Z", "old_final": 1.0}
    r = client.post(f"{API}/devices/{em1}/changes", json=bad, headers=h(keys, "admin"))
    assert r.status_code == 422 and "do not fit old_final" in r.json()["detail"]
    r = client.get(
        f"{API}/enterprises/{keys['e1']}/changes",
        params={"from": "2026-07-14", "to": "2026-07-15"},
        headers=h(keys, "readonly"),
    )
    assert [c["old_final"] for c in r.json()["changes"]] == [1024.4]


def test_manual_readings_are_corrected_by_superseding_with_an_audit_trail(
    client: TestClient, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    em1 = _em1(db, tree_park)
    r = client.post(
        f"{API}/devices/{em1}/readings",
        json={"metric": "elec.import_kwh", "ts": "2026-07-15T04:00:00Z", "value": 1500.0},
        headers=h(keys, "e1_user"),
    )
    assert r.status_code == 201, r.text
    first = r.json()["reading_id"]
    r = client.post(
        f"{API}/readings/{first}/corrections",
        json={"value": 1510.0, "reason": "misread digit"},
        headers=h(keys, "operator"),
    )
    assert r.status_code == 201, r.text
    second = r.json()["reading_id"]
    # the old one cannot be corrected again: the newest is
    again = client.post(
        f"{API}/readings/{first}/corrections", json={"value": 1.0, "reason": "x"}, headers=h(keys, "admin")
    )
    assert again.status_code == 409 and str(second) in again.json()["detail"]
    r = client.post(
        f"{API}/enterprises/{keys['e1']}/readings/import",
        json={"readings": [{"device": "em2", "metric": "elec.import_kwh", "ts": "2026-07-15T05:00:00Z", "value": 7.5}]},
        headers=h(keys, "operator"),
    )
    assert r.status_code == 201 and r.json()["imported"] == 1
    trail = client.get(
        f"{API}/enterprises/{keys['e1']}/readings",
        params={"from": "2026-07-15", "to": "2026-07-15"},
        headers=h(keys, "readonly"),
    ).json()["readings"]
    by_id = {t["reading_id"]: t for t in trail}
    assert by_id[first]["value"] == 1500.0 and by_id[first]["superseded_by"] == second  # never overwritten
    assert (by_id[second]["old_value"], by_id[second]["reason"], by_id[second]["supersedes"]) == (
        1500.0,
        "misread digit",
        first,
    )
    assert by_id[first]["entered_by"] != by_id[second]["entered_by"]  # who: the enterprise, then the operator
    assert sorted(t["source"] for t in trail) == ["import", "page", "page"]


@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 401), ("readonly", 403), ("regulator", 403), ("other_operator", 404)],
)
def test_who_may_record(
    client: TestClient,
    keys: dict[str, Any],
    db: psycopg.Connection[Any],
    tree_park: dict[str, Any],
    who: str | None,
    status: int,
) -> None:
    em1 = _em1(db, tree_park)
    body = {"metric": "elec.import_kwh", "ts": "2026-07-15T04:00:00Z", "value": 1.0}
    r = client.post(f"{API}/devices/{em1}/readings", json=body, headers=h(keys, who) if who else {})
    assert r.status_code == status, r.text


def test_an_enterprise_records_nothing_for_another_and_bad_input_names_the_field(
    client: TestClient, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    other = device_id(db, tree_park, "e2", "em1")
    body = {"metric": "elec.import_kwh", "ts": "2026-07-15T04:00:00Z", "value": 1.0}
    assert client.post(f"{API}/devices/{other}/readings", json=body, headers=h(keys, "e1_user")).status_code == 404
    em1 = _em1(db, tree_park)
    r = client.post(f"{API}/devices/{em1}/readings", json={**body, "metric": "elec.power_kw"}, headers=h(keys, "admin"))
    assert r.status_code == 422 and "metric" in r.json()["detail"]
    r = client.post(
        f"{API}/devices/{em1}/readings", json={**body, "ts": "2026-07-15T04:00:00"}, headers=h(keys, "admin")
    )
    assert r.status_code == 422 and "ts" in r.json()["detail"]  # a time without a zone is ambiguous
    r = client.post(f"{API}/readings/1/corrections", json={"value": 1.0, "reason": ""}, headers=h(keys, "admin"))
    assert r.status_code == 422 and "reason" in r.json()["detail"]
    r = client.post(
        f"{API}/enterprises/{keys['e1']}/readings/import",
        json={"readings": [{"device": "nope", "metric": "elec.import_kwh", "ts": "2026-07-15T05:00:00Z", "value": 1}]},
        headers=h(keys, "admin"),
    )
    assert r.status_code == 422 and "readings[0].device" in r.json()["detail"]


def test_calibration_reminders(client: TestClient, keys: dict[str, Any]) -> None:
    tree = [
        {**m, "attributes": {**m.get("attributes", {}), "calibration_due": "2020-01-01"}} if m["code"] == "E1A" else m
        for m in TREE
    ]
    assert (
        client.put(f"{API}/parks/{keys['park_id']}/meters", json={"meters": tree}, headers=h(keys, "admin")).status_code
        == 200
    )
    r = client.get(f"{API}/parks/{keys['park_id']}/calibrations", headers=h(keys, "e1_user"))
    assert r.status_code == 200 and [(d["code"], d["overdue"]) for d in r.json()["due"]] == [("E1A", True)]


def test_unit_consumption_against_its_limit(
    client: TestClient, keys: dict[str, Any], db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    load_tree(db, tree_park)
    indicators(db, keys["park_id"])  # e1's July: 96 kWh × 0.1229 kgce/kWh (GB/T 2589-2020) = 11.7984 kgce
    body = {"outputs": [{"product": "widget", "unit": "t", "quantity": 10, "limit_kgce": 1.0}]}
    url = f"{API}/enterprises/{keys['e1']}/output/2026-07"
    r = client.put(url, json=body, headers=h(keys, "e1_user"))
    assert r.status_code == 200, r.text
    (w,) = r.json()["products"]
    assert w["kgce_per_unit"] == pytest.approx(1.17984) and w["above_limit"] is True
    shares = {"outputs": [{"product": "a", "unit": "t", "quantity": 1, "energy_share": 0.7},
                          {"product": "b", "unit": "t", "quantity": 1, "energy_share": 0.7}]}  # fmt: skip
    r = client.put(url, json=shares, headers=h(keys, "operator"))
    assert r.status_code == 422 and "more than 1" in r.json()["detail"]
    assert client.get(url, headers=h(keys, "readonly")).json()["products"][0]["product"] == "widget"
    assert client.put(url, json=body, headers=h(keys, "readonly")).status_code == 403
    assert client.get(f"{API}/enterprises/{keys['e2']}/output/2026-07", headers=h(keys, "e1_user")).status_code == 404
