"""A plan pages its park's people or platform-wide ones: saving one that names another park's
contact, roster or receiver is refused with 422 naming each (the rule paging's API applies to
rosters and policies), through the API and the registry file alike."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerting import paging_store, routing_store
from emergency import registry_store
from emergency.cli import load_model
from emergency.definitions import EmergencyModel
from tests.api.conftest import Tenancy
from tests.support.paging import forget_platform_wide

pytestmark = pytest.mark.integration
API = "/api/v1/emergency"


def _people(db: psycopg.Connection[Any], t: Tenancy, request: pytest.FixtureRequest) -> dict[str, str]:
    """A contact, roster and receiver of each park, and a platform-wide contact (gone after the
    test): role -> name."""
    names = {}
    for who, park_id in (("mine", t.park_id), ("theirs", t.other_park_id)):
        contact, roster, hook = f"{who}-{park_id}", f"{who}-roster-{park_id}", f"{who}-hook-{park_id}"
        paging_store.create_contact(db, name=contact, park_id=park_id, email=f"{contact}@park.example", phone=None)
        paging_store.save_roster(db, name=roster, park_id=park_id,
                                 definition={"start": "2026-11-30", "members": [contact]})  # fmt: skip
        routing_store.create_receiver(
            db, name=hook, park_id=park_id, categories=("energy",), channel="webhook", url="http://127.0.0.1:9/hook",
            secret="s", enabled=False,
        )  # fmt: skip
        names |= {f"{who}_contact": contact, f"{who}_roster": roster, f"{who}_hook": hook}
    names["everyone"] = f"everyone-{t.park_id}"
    paging_store.create_contact(db, name=names["everyone"], park_id=None, email=None, phone="+8613800000014")
    request.addfinalizer(lambda: forget_platform_wide(db, contacts=[names["everyone"]]))
    return names


def _plan(*notify: dict[str, list[str]]) -> dict[str, Any]:
    steps = [{"title": f"step {i + 1}", "notify": n} for i, n in enumerate(notify)]
    return {"code": "leak-names", "name": "泄漏预案", "incident_type": "gas_leak", "steps": steps}


def test_a_plan_names_only_its_parks_or_platform_wide_people(
    client: TestClient, db: psycopg.Connection[Any], tenancy: Tenancy, request: pytest.FixtureRequest
) -> None:
    t, n = tenancy, _people(db, tenancy, request)
    put = f"{API}/parks/{t.park_id}/plans"
    op, admin = t.headers("operator"), t.headers("admin")
    ours = {
        "receivers": [n["mine_hook"]],
        "contacts": [n["mine_contact"], n["everyone"]],
        "rosters": [n["mine_roster"]],
    }
    # each of another park's names refused, where it is named; the park's own not named in the answer
    refused = client.put(put, headers=op, json=_plan(
        ours,
        {"receivers": [n["mine_hook"], n["theirs_hook"]], "contacts": [n["theirs_contact"]]},
        {"receivers": [n["mine_hook"]], "rosters": [n["mine_roster"], n["theirs_roster"]]},
    ))  # fmt: skip
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"]
    assert refused.json()["field"] == "steps.1.notify.contacts"
    for name, where in (
        (n["theirs_contact"], "steps.1.notify.contacts"),
        (n["theirs_hook"], "steps.1.notify.receivers"),
        (n["theirs_roster"], "steps.2.notify.rosters"),
    ):
        assert f"{where}: " in detail and repr(name) in detail, (name, detail)
    assert all(repr(n[k]) not in detail for k in ("mine_contact", "mine_hook", "mine_roster", "everyone"))
    # an admin's plan of the park is held to the same rule; nothing was saved by the refusals
    assert client.put(put, headers=admin, json=_plan({"receivers": [n["theirs_hook"]]})).status_code == 422
    assert "leak-names" not in [p["code"] for p in client.get(f"{API}/plans", headers=op).json()]
    # its own, platform-wide and not yet saved names are taken (they can only resolve in the park)
    saved = client.put(put, headers=op, json=_plan(ours, {"receivers": ["not-yet-saved"], "contacts": ["later"]}))
    assert saved.status_code == 200, saved.text
    assert saved.json()["steps"][0]["notify"] == ours
    # the route's boundaries: another park's operator, a role that saves nothing, no key
    assert client.put(put, headers=t.headers("other_operator"), json=_plan(ours)).status_code == 404
    assert client.put(put, headers=t.headers("readonly"), json=_plan(ours)).status_code == 403
    assert client.put(put, json=_plan(ours)).status_code == 401
    # the other park's operator cannot name this park's people in a plan of theirs either
    mirrored = client.put(f"{API}/parks/{t.other_park_id}/plans", headers=t.headers("other_operator"),
                          json=_plan({"receivers": [n["theirs_hook"]], "contacts": [n["mine_contact"]]}))  # fmt: skip
    assert mirrored.status_code == 422 and repr(n["mine_contact"]) in mirrored.json()["detail"], mirrored.text


def test_a_registry_file_naming_another_parks_people_is_refused_whole(
    db: psycopg.Connection[Any], tenancy: Tenancy, request: pytest.FixtureRequest
) -> None:
    t, n = tenancy, _people(db, tenancy, request)
    code = db.execute("SELECT code FROM parks WHERE park_id = %s", (t.park_id,)).fetchone()[0]  # type: ignore[index]
    model = EmergencyModel.model_validate(
        {"park": code, "plans": [_plan({"receivers": [n["mine_hook"]], "contacts": [n["theirs_contact"]]})]}
    )
    with pytest.raises(registry_store.RegistryError) as refused:
        load_model(db, model)
    assert refused.value.field == "steps.0.notify.contacts" and repr(n["theirs_contact"]) in str(refused.value)
    left = db.execute("SELECT count(*) FROM emergency_plans WHERE park_id = %s", (t.park_id,)).fetchone()
    assert left == (0,)
