"""Rules, silences and receivers (operators confined to their park), rejected messages, health."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Tenancy

pytestmark = pytest.mark.integration


def _code(db: psycopg.Connection[Any], park_id: int) -> str:
    row = db.execute("SELECT code FROM parks WHERE park_id = %s", (park_id,)).fetchone()
    assert row is not None
    return str(row[0])


def _rule(rule_id: str, parks: list[str]) -> dict[str, Any]:
    return {
        "id": rule_id,
        "metric": "safety.lel_pct",
        "condition": {"op": ">=", "threshold": 20},
        "severity": "major",
        "category": "safety",
        "scope": {"parks": parks},
    }


def test_operator_manages_rules_of_its_park_only(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    t = tenancy
    own, other = _code(db, t.park_id), _code(db, t.other_park_id)
    h = t.headers("operator")
    made = client.post("/api/v1/rules", headers=h, json=_rule(f"lel-{own}", [own]))
    assert made.status_code == 201, made.text
    assert made.json()["updated_by"].startswith("u")
    wide = client.post("/api/v1/rules", headers=h, json=_rule(f"lel-all-{own}", []))
    assert wide.status_code == 403 and own in wide.json()["detail"]
    bad = client.post("/api/v1/rules", headers=h, json={**_rule(f"x-{own}", [own]), "severity": "apocalyptic"})
    assert bad.status_code == 400 and "apocalyptic" in bad.json()["detail"]
    # the other park's operator neither sees nor changes it
    assert client.get(f"/api/v1/rules/lel-{own}", headers=t.headers("other_operator")).status_code == 404
    assert client.delete(f"/api/v1/rules/lel-{own}", headers=t.headers("other_operator")).status_code == 404
    # an admin's rule for the other park is invisible to this operator
    admin_rule = client.post("/api/v1/rules", headers=t.headers("admin"), json=_rule(f"lel-{other}", [other]))
    assert admin_rule.status_code == 201
    ids = {r["rule_id"] for r in client.get("/api/v1/rules", headers=h, params={"limit": 1000}).json()["items"]}
    assert f"lel-{own}" in ids and f"lel-{other}" not in ids
    # regulators read the rules of their categories, never write
    env = {
        r["rule_id"]
        for r in client.get("/api/v1/rules", headers=t.headers("env_regulator"), params={"limit": 1000}).json()["items"]
    }
    assert f"lel-{own}" not in env
    assert (
        client.post("/api/v1/rules", headers=t.headers("emg_regulator"), json=_rule(f"y-{own}", [own])).status_code
        == 403
    )
    changed = client.put(
        f"/api/v1/rules/lel-{own}",
        headers=h,
        json={**_rule("ignored", [own]), "condition": {"op": ">=", "threshold": 15}},
    )
    assert changed.json()["definition"]["condition"]["threshold"] == 15
    assert client.delete(f"/api/v1/rules/lel-{own}", headers=h).status_code == 204


def test_silences_need_the_operators_park(client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    t = tenancy
    own = _code(db, t.park_id)
    h = t.headers("operator")
    ok = client.post(
        "/api/v1/silences",
        headers=h,
        json={
            "matchers": [f"park={own}", "alertname=~lel-.*"],
            "ends_at": "2099-01-01T00:00:00Z",
            "comment": "sensor maintenance",
        },
    )
    assert ok.status_code == 201, ok.text
    wide = client.post(
        "/api/v1/silences",
        headers=h,
        json={"matchers": ["alertname=~.*"], "ends_at": "2099-01-01T00:00:00Z"},
    )
    assert wide.status_code == 403
    bad = client.post(
        "/api/v1/silences",
        headers=h,
        json={"matchers": [f"park={own}", "oops"], "ends_at": "2099-01-01T00:00:00Z"},
    )
    assert bad.status_code == 400 and "oops" in bad.json()["detail"]
    sid = ok.json()["silence_id"]
    assert sid in {
        s["silence_id"] for s in client.get("/api/v1/silences", headers=h, params={"active": True}).json()["items"]
    }
    assert client.delete(f"/api/v1/silences/{sid}", headers=t.headers("other_operator")).status_code == 404
    assert client.delete(f"/api/v1/silences/{sid}", headers=h).status_code == 204
    assert sid not in {
        s["silence_id"] for s in client.get("/api/v1/silences", headers=h, params={"active": True}).json()["items"]
    }


def test_ending_a_silence_that_has_not_started(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    """The API ends silences through alerting.routing_store like every other caller: who ended it is kept,
    and one that has not started yet ends without tripping the table's end-after-start check."""
    h = tenancy.headers("operator")
    made = client.post(
        "/api/v1/silences",
        headers=h,
        json={
            "matchers": [f"park={_code(db, tenancy.park_id)}"],
            "starts_at": "2098-01-01T00:00:00Z",
            "ends_at": "2099-01-01T00:00:00Z",
            "comment": "planned outage",
        },
    )
    assert made.status_code == 201, made.text
    sid = made.json()["silence_id"]
    assert client.delete(f"/api/v1/silences/{sid}", headers=h).status_code == 204
    row = db.execute("SELECT starts_at, ends_at, comment FROM alert_silences WHERE silence_id = %s", (sid,)).fetchone()
    assert row is not None
    assert (row[1] - row[0]).total_seconds() == 0.001
    assert row[2].startswith("planned outage [ended by ")


def test_receivers_crud_for_operators(client: TestClient, tenancy: Tenancy) -> None:
    t = tenancy
    h = t.headers("operator")
    body = {
        "name": f"env-bureau-{t.park_id}",
        "park_id": t.park_id,
        "categories": ["emissions"],
        "channel": "webhook",
        "url": "http://93.184.215.14:9/hook",  # a global address (refused targets: test_webhook_targets)
        "secret": "s" * 32,
    }
    made = client.post("/api/v1/receivers", headers=h, json=body)
    assert made.status_code == 201, made.text
    rid = made.json()["receiver_id"]
    assert made.json()["has_secret"] and "secret" not in made.json()
    elsewhere = {**body, "name": "x", "park_id": t.other_park_id}
    assert client.post("/api/v1/receivers", headers=h, json=elsewhere).status_code == 403
    assert client.post("/api/v1/receivers", headers=h, json=body).status_code == 409
    assert client.get(f"/api/v1/receivers/{rid}", headers=t.headers("other_operator")).status_code == 404
    assert client.get("/api/v1/receivers", headers=t.headers("enterprise")).status_code == 403
    patched = client.patch(f"/api/v1/receivers/{rid}", headers=h, json={"enabled": False})
    assert patched.json()["enabled"] is False
    assert client.delete(f"/api/v1/receivers/{rid}", headers=h).status_code == 204


def test_rejected_messages_per_role(client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]) -> None:
    t = tenancy
    for ent, reason in (
        (t.e1, "implausible"),
        (t.e2, "unknown_device"),
        (t.other_e1, "implausible"),
    ):
        park = t.other_park_id if ent == t.other_e1 else t.park_id
        db.execute(
            "INSERT INTO rejected_messages (received_at, topic, reason_code, reason, device,"
            " enterprise_id,"
            " park_id, excerpt) VALUES (now(), 'smartpark/v1/x/y/z/telemetry', %s, %s, 'em1', %s,"
            " %s, '{}')",
            (reason, f"{reason} for the test", ent, park),
        )

    def seen(who: str, **params: Any) -> set[int]:
        r = client.get("/api/v1/rejected", headers=t.headers(who), params={"limit": 1000, **params})
        assert r.status_code == 200, r.text
        return {x["enterprise_id"] for x in r.json()["items"]}

    assert seen("operator") == {t.e1, t.e2}
    assert seen("operator", reason_code="unknown_device") == {t.e2}
    assert seen("enterprise") == {t.e1}
    assert seen("enterprise", enterprise_id=t.e2) == set()
    own = client.get("/api/v1/rejected", headers=t.headers("enterprise")).json()["items"]
    received = own[0]["received_at"]
    assert seen("enterprise", since=received) == {t.e1}  # from, inclusive
    assert seen("enterprise", until=received) == set()  # to, exclusive
    assert client.get("/api/v1/rejected", headers=t.headers("env_regulator")).status_code == 403


def test_health_ready_and_metrics(client: TestClient, tenancy: Tenancy) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    client.get("/api/v1/parks")  # a 401, counted under its route template
    text = client.get("/metrics", headers=tenancy.headers("admin")).text
    assert 'smartpark_api_requests_total{method="GET",route="/api/v1/parks",status="401"}' in text
    big = client.post("/api/v1/auth/token", content=b"x" * (2 * 1024 * 1024))
    assert big.status_code == 413 and "limited" in big.json()["detail"]
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/telemetry/series" in spec["paths"]


def test_dashboard_page_is_served_at_root_and_api_routes_win(
    tmp_path: Any, settings: Any, db_url: str, api_limits: Any
) -> None:
    from api.app import create_app

    (tmp_path / "index.html").write_text("<html>ops centre</html>", encoding="utf-8")
    app = create_app(settings, limits=api_limits, database_url=db_url, static_dir=tmp_path)
    with TestClient(app) as c:
        assert "ops centre" in c.get("/").text
        assert c.get("/healthz").json()["status"] == "ok"
        assert c.get("/api/v1/parks").status_code == 401


@pytest.mark.parametrize("default_id", ["lel-level2", "fire-alarm"])
def test_operator_cannot_rewrite_or_delete_rules_beyond_its_park(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any], default_id: str
) -> None:
    """Issue 14, H2: the demo's lel-level2 and fire-alarm apply to every park (no scope.parks);
    an operator of one park rewrote one to its own park (PUT checked the new scope only), then
    deleted it."""
    from alerting.rules import by_id, default_rules, rule_to_dict

    t = tenancy
    own, other = _code(db, t.park_id), _code(db, t.other_park_id)
    admin, h = t.headers("admin"), t.headers("operator")
    demo = rule_to_dict(by_id(default_rules())[default_id])
    assert "parks" not in demo["scope"]  # as the demo stores it: every park
    everywhere = {**demo, "id": f"{default_id}-{own}"}
    both_parks = {**demo, "id": f"{default_id}-2-{own}", "scope": {"parks": [own, other]}}
    for rule in (everywhere, both_parks):
        assert client.post("/api/v1/rules", headers=admin, json=rule).status_code == 201
        rid = rule["id"]
        assert client.get(f"/api/v1/rules/{rid}", headers=h).status_code == 200  # it applies to the park
        narrowed = client.put(f"/api/v1/rules/{rid}", headers=h, json={**rule, "scope": {"parks": [own]}})
        assert narrowed.status_code == 403 and "an admin may change it" in narrowed.json()["detail"]
        disabled = client.put(f"/api/v1/rules/{rid}", headers=h, json={**rule, "enabled": False})
        assert disabled.status_code == 403
        deleted = client.delete(f"/api/v1/rules/{rid}", headers=h)
        assert deleted.status_code == 403 and "an admin may delete it" in deleted.json()["detail"]
        kept = client.get(f"/api/v1/rules/{rid}", headers=admin).json()
        assert kept["definition"]["scope"] == rule["scope"] and kept["enabled"] is True
        # an admin has authority over every park
        assert client.put(f"/api/v1/rules/{rid}", headers=admin, json={**rule, "enabled": False}).status_code == 200
        assert client.delete(f"/api/v1/rules/{rid}", headers=admin).status_code == 204


def test_enterprise_users_and_regulators_read_only_the_silences_that_concern_them(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    """Issue 14, Low: enterprise users and regulators read every silence of the park and its
    comment (another enterprise's maintenance, the operators' notes)."""
    t = tenancy
    own = _code(db, t.park_id)
    made = {}
    for label, matchers in (
        ("e1", [f"park={own}", "enterprise=e1"]),
        ("e2-safety", [f"park={own}", "enterprise=e2", "category=safety"]),
        ("energy", [f"park={own}", "category=energy"]),
        ("park", [f"park={own}"]),
    ):
        r = client.post(
            "/api/v1/silences",
            headers=t.headers("operator"),
            json={"matchers": matchers, "ends_at": "2099-01-01T00:00:00Z", "comment": f"note {label}"},
        )
        assert r.status_code == 201, r.text
        made[r.json()["silence_id"]] = label

    def seen(who: str) -> set[str]:
        r = client.get("/api/v1/silences", headers=t.headers(who), params={"limit": 1000})
        assert r.status_code == 200, r.text
        return {made[s["silence_id"]] for s in r.json()["items"] if s["silence_id"] in made}

    assert seen("operator") == seen("readonly") == {"e1", "e2-safety", "energy", "park"}
    assert seen("enterprise") == {"e1"}  # the user of e1
    # a regulator: those that can silence an alarm of its categories (naming none names every one)
    assert seen("emg_regulator") == {"e1", "e2-safety", "park"}
    assert seen("env_regulator") == {"e1", "park"}
    assert seen("other_operator") == set()


def test_metrics_need_an_admin_or_a_metrics_key(
    client: TestClient, tenancy: Tenancy, db: psycopg.Connection[Any]
) -> None:
    """Issue 14, Low: /metrics answered anyone. Prometheus scrapes with a 'metrics' user's key
    as a bearer token; that key reads nothing else."""
    from api.auth import Role
    from tests.api.conftest import make_user

    scraper = {"Authorization": f"Bearer {make_user(db, Role.METRICS)}"}
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=tenancy.headers("operator")).status_code == 403
    for h in (scraper, tenancy.headers("admin")):
        r = client.get("/metrics", headers=h)
        assert r.status_code == 200 and "smartpark_api_requests_total" in r.text
    assert client.get("/api/v1/parks", headers=scraper).status_code == 403
    assert client.get("/api/v1/auth/me", headers=scraper).status_code == 403


def test_every_answer_carries_the_security_headers(client: TestClient, tenancy: Tenancy) -> None:
    """Issue 14, Low: no CSP, X-Frame-Options or nosniff."""
    for path, headers in (
        ("/api/v1/parks", tenancy.headers("operator")),
        ("/api/v1/parks", {}),  # an error answer too
        ("/healthz", {}),
        ("/api/v1/docs", {}),
    ):
        r = client.get(path, headers=headers)
        assert r.headers["x-frame-options"] == "DENY", path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "no-referrer", path
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, path
    page_csp = client.get("/healthz").headers["content-security-policy"]
    assert "script-src 'self';" in page_csp and "unsafe-eval" not in page_csp


def test_key_list_filter_out_of_range_is_a_validation_error(client: TestClient, tenancy: Tenancy) -> None:
    """Issue 14, Low: /keys?user_id=2^40 answered 400 (a database error) instead of 422."""
    r = client.get("/api/v1/keys", headers=tenancy.headers("admin"), params={"user_id": 2**40})
    assert r.status_code == 422 and "user_id" in r.json()["detail"]
