"""Paging through the API: receivers' secrets written never read, contacts, rosters and who is
on duty, escalation policies, an alarm's notification log, and the acknowledge page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerting import ack_links, paging_store, routing_store
from smartpark.settings import ApiSettings, NotifySettings, Settings
from tests.api.conftest import Tenancy, app_client, device_id
from tests.api.test_alarms import _alarm
from tests.support.paging import forget_platform_wide

pytestmark = pytest.mark.integration
SECRET = "api-test-ack-secret-0123456789"


@pytest.fixture(scope="module")
def linked(settings: Settings, db_url: str, api_limits: ApiSettings) -> Iterator[TestClient]:
    """The app with acknowledge links on."""
    from api.app import create_app

    app = create_app(
        settings.model_copy(update={"notify": NotifySettings(ack_secret=SECRET)}),
        limits=api_limits,
        database_url=db_url,
        static_dir=None,
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def gas_alarm(db: psycopg.Connection[Any], t: Tenancy) -> int:
    return _alarm(
        db,
        park_id=t.park_id,
        enterprise_id=t.e1,
        device_id=device_id(db, t.e1, "gd1"),
        metric="safety.lel_pct",
        category="safety",
        rule="lel-level1",
    )


def test_a_receivers_secrets_are_written_never_read(client: TestClient, tenancy: Tenancy) -> None:
    t = tenancy
    h = t.headers("operator")
    body = {
        "name": f"ding-{t.park_id}",
        "park_id": t.park_id,
        "categories": ["safety"],
        "channel": "dingtalk",  # no url: DingTalk's own endpoint (the test machine resolves no public name)
        "config": {"language": "zh"},
        "secrets": {"access_token": "token-value-123", "secret": "SECsigning-value-456"},
    }
    made = client.post("/api/v1/receivers", headers=h, json=body)
    assert made.status_code == 201, made.text
    rid = made.json()["receiver_id"]
    assert made.json()["secret_names"] == ["access_token", "secret"]
    for answer in (made, client.get(f"/api/v1/receivers/{rid}", headers=h), client.get("/api/v1/receivers", headers=h)):
        assert "token-value-123" not in answer.text and "SECsigning-value-456" not in answer.text
    # a patch that replaces the secrets must still leave what the channel needs
    bad = client.patch(f"/api/v1/receivers/{rid}", headers=h, json={"secrets": {"secret": "x"}})
    assert bad.status_code == 400 and "access_token" in bad.text
    ok = client.patch(f"/api/v1/receivers/{rid}", headers=h, json={"secrets": {"access_token": "t2"}})
    assert ok.status_code == 200 and ok.json()["secret_names"] == ["access_token"]
    assert client.patch(f"/api/v1/receivers/{rid}", headers=h, json={"config": {"per_minute": 21}}).status_code == 400


def test_only_an_admin_names_a_file_the_service_reads(client: TestClient, tenancy: Tenancy) -> None:
    t = tenancy
    body = {
        "name": f"mail-ca-{t.park_id}",
        "park_id": t.park_id,
        "categories": ["safety"],
        "channel": "email",
        "config": {"host": "93.184.215.14", "from": "a@park.example", "ca_file": "/etc/ssl/park-ca.pem"},
    }
    assert client.post("/api/v1/receivers", headers=t.headers("operator"), json=body).status_code == 403
    made = client.post("/api/v1/receivers", headers=t.headers("admin"), json=body)
    assert made.status_code == 201, made.text
    assert made.json()["config"]["ca_file"] == "/etc/ssl/park-ca.pem"


@pytest.mark.parametrize(("host", "why"), [("127.0.0.1", "loopback"), ("169.254.169.254", "link-local"),
                                          ("10.1.2.3", "private"), ("localhost", "loopback")])  # fmt: skip
def test_an_smtp_host_inside_the_deployment_is_refused_when_saved(
    client: TestClient, tenancy: Tenancy, settings: Settings, db_url: str, api_limits: ApiSettings, host: str, why: str
) -> None:
    """The same rule as a URL's (smartpark.webhook_targets); delivery checks again when it connects."""
    t = tenancy
    body = {
        "name": f"mail-in-{t.park_id}-{host}",
        "park_id": t.park_id,
        "categories": ["safety"],
        "channel": "email",
        "config": {"host": host, "port": 2525, "security": "starttls", "from": "a@park.example"},
    }
    refused = client.post("/api/v1/receivers", headers=t.headers("operator"), json=body)
    assert refused.status_code == 400 and f"is a {why} address" in refused.json()["detail"], refused.text
    public = {**body, "config": {**body["config"], "host": "93.184.215.14"}}
    made = client.post("/api/v1/receivers", headers=t.headers("operator"), json=public)
    assert made.status_code == 201, made.text
    rid = made.json()["receiver_id"]
    moved = client.patch(f"/api/v1/receivers/{rid}", headers=t.headers("operator"), json={"config": body["config"]})
    assert moved.status_code == 400 and why in moved.json()["detail"]
    networks = ["127.0.0.0/8", "::1/128", "169.254.169.254/32", "10.1.0.0/16"]
    allowing = settings.model_copy(update={"webhook_allowed_networks": networks})
    with app_client(allowing, db_url, api_limits) as c:
        again = {**body, "name": body["name"] + "-ok"}
        allowed = c.post("/api/v1/receivers", headers=t.headers("operator"), json=again)
        assert allowed.status_code == 201, allowed.text


@pytest.mark.parametrize(
    ("channel", "config", "secrets", "says"),
    [
        ("email", {"from": "a@park.example"}, {}, "SMTP host"),
        ("email", {"host": "mx", "from": "a@b.c", "security": "none", "username": "u"}, {"password": "p"}, "TLS"),
        ("email", {"host": "mx", "from": "a@b.c", "to": ["not-an-address"]}, {}, "not valid"),
        ("sms", {"provider": "tencent", "to": ["+8613800000000"]}, {}, "secret_id"),
        ("sms", {"provider": "carrier-pigeon"}, {}, "provider"),
        ("wecom", {}, {}, "key"),
        ("feishu", {"smtp": "x"}, {"hook_token": "t"}, "unknown"),
        ("webhook", {"language": "zh"}, {}, "no config"),
    ],
)
def test_a_channel_with_bad_settings_is_refused(
    client: TestClient, tenancy: Tenancy, channel: str, config: dict[str, Any], secrets: dict[str, str], says: str
) -> None:
    body = {
        "name": f"bad-{channel}-{tenancy.park_id}",
        "park_id": tenancy.park_id,
        "categories": ["safety"],
        "channel": channel,
        "url": "https://example.invalid/x",
        "config": config,
        "secrets": secrets,
    }
    answer = client.post("/api/v1/receivers", headers=tenancy.headers("operator"), json=body)
    assert answer.status_code == 400 and says in answer.text, answer.text


def test_contacts_rosters_and_who_is_on_duty(client: TestClient, tenancy: Tenancy) -> None:
    t = tenancy
    h = t.headers("operator")
    for name, phone in (("li", "+8613800000011"), ("wang", "+8613800000012")):
        made = client.post(
            "/api/v1/notify/contacts",
            headers=h,
            json={"name": f"{name}-{t.park_id}", "park_id": t.park_id, "phone": phone},
        )
        assert made.status_code == 201, made.text
    assert (
        client.post("/api/v1/notify/contacts", headers=h, json={"name": "x", "park_id": t.park_id}).status_code == 400
    )
    roster = {
        "name": f"night-{t.park_id}",
        "park_id": t.park_id,
        "definition": {
            "rotation": "weekly",
            "handoff": "08:00",
            "start": "2026-11-30",
            "members": [f"li-{t.park_id}", f"wang-{t.park_id}"],
        },
    }
    saved = client.put("/api/v1/notify/rosters", headers=h, json=roster)
    assert saved.status_code == 200, saved.text
    rid = saved.json()["roster_id"]
    # 2026-12-07T23:30Z is 07:30 on Tuesday 8 December in Shanghai (UTC+8), before the 08:00
    # hand-off: the shift of Monday 7 December, the second week from 30 November: wang.
    duty = client.get(f"/api/v1/notify/rosters/{rid}/on-duty", headers=h, params={"at": "2026-12-07T23:30:00Z"})
    assert duty.status_code == 200, duty.text
    assert duty.json()["member"] == f"wang-{t.park_id}" and duty.json()["shift_date"] == "2026-12-07"
    assert duty.json()["timezone"] == "Asia/Shanghai"
    # one hour earlier it is still the first week's last shift (Sunday 6 December): li
    earlier = client.get(f"/api/v1/notify/rosters/{rid}/on-duty", headers=h, params={"at": "2026-12-06T23:59:00Z"})
    assert earlier.json()["member"] == f"li-{t.park_id}"
    now = client.get(f"/api/v1/notify/rosters/{rid}/on-duty", headers=h)
    assert now.status_code == 200 and now.json()["member"] in (f"li-{t.park_id}", f"wang-{t.park_id}")
    bad = {**roster, "definition": {**roster["definition"], "rotation": "hourly"}}
    assert client.put("/api/v1/notify/rosters", headers=h, json=bad).status_code == 400
    elsewhere = {**roster, "name": "x", "park_id": t.other_park_id}
    assert client.put("/api/v1/notify/rosters", headers=h, json=elsewhere).status_code == 403
    assert client.get(f"/api/v1/notify/rosters/{rid}/on-duty", headers=t.headers("other_operator")).status_code == 404
    assert (
        client.put(
            "/api/v1/notify/rosters", headers=t.headers("other_operator"), json={**roster, "park_id": t.other_park_id}
        ).status_code
        == 409
    )
    assert client.get("/api/v1/notify/rosters", headers=t.headers("enterprise")).status_code == 403


def test_who_is_on_duty_on_every_roster_in_one_answer(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    """GET /notify/on-duty: the page's panel. An operator's park's rosters (a roster that no
    longer validates answers why "invalid" instead of hiding the others), paged; an admin picks
    a park; other parks' rosters are not seen; enterprises get 403."""
    t = tenancy
    definition = {"rotation": "daily", "handoff": "08:00", "start": "2026-11-30", "members": [f"li-{t.park_id}"]}
    paging_store.save_roster(db, name=f"everyone-a-{t.park_id}", park_id=t.park_id, definition=definition)
    paging_store.save_roster(db, name=f"everyone-b-{t.park_id}", park_id=t.park_id, definition={"rotation": "x"})
    paging_store.save_roster(db, name=f"everyone-c-{t.other_park_id}", park_id=t.other_park_id, definition=definition)
    at = {"at": "2026-12-07T23:30:00Z"}

    def mine(who: str, **params: Any) -> dict[str, Any]:
        answer = client.get("/api/v1/notify/on-duty", headers=t.headers(who), params={**at, **params})
        assert answer.status_code == 200, answer.text
        return {r["roster"]: r for r in answer.json()["items"] if r["roster"].startswith("everyone-")}

    rows = mine("operator")
    assert set(rows) == {f"everyone-a-{t.park_id}", f"everyone-b-{t.park_id}"}
    good, bad = rows[f"everyone-a-{t.park_id}"], rows[f"everyone-b-{t.park_id}"]
    assert (good["member"], good["why"], good["shift_date"], good["timezone"]) == (
        f"li-{t.park_id}",
        "rotation",
        "2026-12-07",
        "Asia/Shanghai",
    )
    assert bad["member"] is None and bad["why"] == "invalid" and "no longer validates" in bad["error"]
    assert set(mine("operator", park_id=t.other_park_id)) == set(rows)  # an operator's park is fixed
    assert set(mine("admin", park_id=t.park_id)) == set(rows)
    assert set(mine("other_operator")) == {f"everyone-c-{t.other_park_id}"}
    first = client.get("/api/v1/notify/on-duty", headers=t.headers("operator"), params={"limit": 1})
    assert len(first.json()["items"]) == 1 and first.json()["next_offset"] == 1
    assert client.get("/api/v1/notify/on-duty", headers=t.headers("enterprise")).status_code == 403
    naive = client.get("/api/v1/notify/on-duty", headers=t.headers("operator"), params={"at": "2026-12-07T23:30"})
    assert naive.status_code == 400


def test_policies_are_confined_to_the_operators_park(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    h = t.headers("operator")
    code = db.execute("SELECT code FROM parks WHERE park_id = %s", (t.park_id,)).fetchone()[0]  # type: ignore[index]
    policy = {
        "name": f"gas-{t.park_id}",
        "park_id": t.park_id,
        "matchers": [f"park={code}", "category=safety"],
        "definition": {
            "levels": [{"after_min": 0, "receivers": ["duty-sms"]}, {"after_min": 10, "receivers": ["lead-sms"]}],
            "repeat_min": 15,
        },
    }
    saved = client.put("/api/v1/notify/policies", headers=h, json=policy)
    assert saved.status_code == 200, saved.text
    assert (
        client.put("/api/v1/notify/policies", headers=h, json={**policy, "matchers": ["category=safety"]}).status_code
        == 403
    )
    not_growing = {
        **policy,
        "definition": {"levels": [{"after_min": 0, "receivers": ["a"]}, {"after_min": 0, "receivers": ["b"]}]},
    }
    answer = client.put("/api/v1/notify/policies", headers=h, json=not_growing)
    assert answer.status_code == 400 and "grow" in answer.text
    listed = client.get("/api/v1/notify/policies", headers=h).json()["items"]
    assert [p["name"] for p in listed] == [f"gas-{t.park_id}"]
    assert client.delete(f"/api/v1/notify/policies/{saved.json()['policy_id']}", headers=h).status_code == 204


def test_a_roster_or_policy_names_only_its_parks_or_platform_wide_people(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any], request: pytest.FixtureRequest
) -> None:
    """Contacts, rosters and receivers are named across parks by their (unique) names: an operator's
    roster or policy naming another park's is refused with 422 naming it, as is a platform-wide
    one naming a park's; the other park's contact stays unseen."""
    t = tenancy
    h, admin = t.headers("operator"), t.headers("admin")
    mine, theirs, everyone = f"mine-{t.park_id}", f"theirs-{t.other_park_id}", f"everyone-{t.park_id}"
    for name, park_id, who in ((mine, t.park_id, h), (theirs, t.other_park_id, t.headers("other_operator"))):
        made = client.post("/api/v1/notify/contacts", headers=who, json={"name": name, "park_id": park_id,
                                                                         "email": f"{name}@park.example"})  # fmt: skip
        assert made.status_code == 201, made.text
    made = client.post("/api/v1/notify/contacts", headers=admin, json={"name": everyone, "phone": "+8613800000013"})
    assert made.status_code == 201, made.text
    # Platform-wide rows are every park's: the tests that follow (a park's on-duty panel, its
    # contacts) must not find them.
    request.addfinalizer(lambda: forget_platform_wide(db, contacts=[everyone], rosters=[f"r-{t.park_id}-None"]))
    paging_store.save_roster(
        db, name=f"their-roster-{t.other_park_id}", park_id=t.other_park_id,
        definition={"start": "2026-11-30", "members": [theirs]},
    )  # fmt: skip
    routing_store.create_receiver(
        db, name=f"their-hook-{t.other_park_id}", park_id=t.other_park_id, categories=("safety",), channel="webhook",
        url="http://127.0.0.1:9/hook", secret="s", enabled=False,
    )  # fmt: skip

    def roster(park_id: int | None, *members: str) -> dict[str, Any]:
        return {"name": f"r-{t.park_id}-{park_id}", "park_id": park_id,
                "definition": {"start": "2026-11-30", "members": list(members)}}  # fmt: skip

    refused = client.put("/api/v1/notify/rosters", headers=h, json=roster(t.park_id, mine, theirs))
    assert refused.status_code == 422 and theirs in refused.json()["detail"], refused.text
    assert mine not in refused.json()["detail"]
    override = roster(t.park_id, mine)
    override["definition"]["overrides"] = [{"start": "2026-12-24T20:00", "end": "2026-12-25T08:00", "member": theirs}]
    assert client.put("/api/v1/notify/rosters", headers=h, json=override).status_code == 422
    saved = client.put("/api/v1/notify/rosters", headers=h, json=roster(t.park_id, mine, everyone, "not-yet-saved"))
    assert saved.status_code == 200, saved.text
    # platform-wide: read by every park's operators, so only platform-wide people
    assert client.put("/api/v1/notify/rosters", headers=admin, json=roster(None, mine)).status_code == 422
    assert client.put("/api/v1/notify/rosters", headers=admin, json=roster(None, everyone)).status_code == 200

    code = db.execute("SELECT code FROM parks WHERE park_id = %s", (t.park_id,)).fetchone()[0]  # type: ignore[index]

    def policy(**level: list[str]) -> dict[str, Any]:
        return {"name": f"p-{t.park_id}", "park_id": t.park_id, "matchers": [f"park={code}"],
                "definition": {"levels": [{"after_min": 0, "receivers": ["mail"], **level}]}}  # fmt: skip

    for level, named in (
        ({"contacts": [mine, theirs]}, theirs),
        ({"rosters": [f"their-roster-{t.other_park_id}"]}, f"their-roster-{t.other_park_id}"),
        ({"receivers": ["mail", f"their-hook-{t.other_park_id}"]}, f"their-hook-{t.other_park_id}"),
    ):
        answer = client.put("/api/v1/notify/policies", headers=h, json=policy(**level))
        assert answer.status_code == 422 and named in answer.json()["detail"], answer.text
        assert answer.json()["field"] == f"definition.levels.0.{next(iter(level))}"
    ok = client.put("/api/v1/notify/policies", headers=h, json=policy(contacts=[mine, everyone]))
    assert ok.status_code == 200, ok.text
    # the other park's contact is not read through this park's lists, nor is this park's through theirs
    listed = {
        c["name"] for c in client.get("/api/v1/notify/contacts", headers=h, params={"limit": 500}).json()["items"]
    }
    assert mine in listed and everyone in listed and theirs not in listed
    theirs_listed = client.get("/api/v1/notify/contacts", headers=t.headers("other_operator"), params={"limit": 500})
    assert mine not in {c["name"] for c in theirs_listed.json()["items"]}
    # the boundaries of the routes that check the names
    assert client.put("/api/v1/notify/rosters", json=roster(t.park_id, mine)).status_code == 401
    assert (
        client.put("/api/v1/notify/rosters", headers=t.headers("enterprise"), json=roster(t.park_id, mine)).status_code
        == 403
    )
    assert client.put("/api/v1/notify/policies", headers=t.headers("readonly"), json=policy()).status_code == 403
    rid = saved.json()["roster_id"]
    assert client.get(f"/api/v1/notify/rosters/{rid}/on-duty", headers=t.headers("other_operator")).status_code == 404


def test_the_notification_log_of_an_alarm(client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    t = tenancy
    aid = gas_alarm(db, t)
    paging_store.log_attempt(
        db,
        receiver_id=None,  # type: ignore[arg-type]
        channel="sms",
        target="+8613800000001",
        budget_key="person:1",
        notification_ids=[1],
        alert_ids=[aid],
        result="error",
        error='tencent refused 1 of 1 numbers: [{"PhoneNumber": "+8613800000001", "Code": "LimitExceeded"}]',
        latency_ms=12.5,
    )
    log = client.get(f"/api/v1/alarms/{aid}/notifications", headers=t.headers("operator"))
    assert log.status_code == 200, log.text
    (attempt,) = log.json()["attempts"]
    # the duty officer's number is masked in the target and in the error (api/target_mask.py)
    assert (attempt["channel"], attempt["target"], attempt["result"], attempt["latency_ms"]) == (
        "sms",
        "+86138****0001",
        "error",
        12.5,
    )
    assert "LimitExceeded" in attempt["error"] and "8613800000001" not in log.text
    assert client.get(f"/api/v1/alarms/{aid}/notifications", headers=t.headers("other_operator")).status_code == 404


def test_acknowledge_from_the_phone(linked: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    aid = gas_alarm(db, tenancy)
    token = ack_links.make_token(SECRET, alert_id=aid, expires_s=int(time.time()) + 600)
    page = linked.get(f"/a/{token}")
    assert page.status_code == 200 and "<form" in page.text and "确认" in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert linked.post(f"/a/{token}", data={"comment": "no name"}).status_code == 400
    done = linked.post(f"/a/{token}", data={"name": "张三", "comment": "已关阀,现场通风"})
    assert done.status_code == 200, done.text
    row = db.execute("SELECT acknowledged_by FROM alerts WHERE alert_id = %s", (aid,)).fetchone()
    assert row == ("张三 (link)",)
    event = db.execute(
        "SELECT comment FROM alert_events WHERE alert_id = %s AND kind = 'acknowledged'", (aid,)
    ).fetchone()
    assert event == ("已关阀,现场通风",)
    # single use
    assert linked.post(f"/a/{token}", data={"name": "李四"}).status_code == 410
    assert linked.get(f"/a/{token}").status_code == 410
    # forged: another alarm's id under the same signature
    forged = token[:4] + ("A" if token[4] != "A" else "B") + token[5:]
    assert linked.get(f"/a/{forged}").status_code == 404
    assert linked.post(f"/a/{forged}", data={"name": "x"}).status_code == 404
    # expired (minutes since 2020 in the token: an expiry two minutes ago has passed)
    old = ack_links.make_token(SECRET, alert_id=aid, expires_s=int(time.time()) - 120)
    assert linked.get(f"/a/{old}").status_code == 410
    assert linked.get("/a/short").status_code == 404  # malformed


def test_no_links_without_a_secret(client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    aid = gas_alarm(db, tenancy)
    token = ack_links.make_token(SECRET, alert_id=aid, expires_s=int(time.time()) + 600)
    assert client.get(f"/a/{token}").status_code == 404
    assert client.post(f"/a/{token}", data={"name": "x"}).status_code == 404
