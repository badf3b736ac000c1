"""Alarm storage and the operators' lifecycle on the real database."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest

from alerting import alarm_store, lifecycle, routing_store, rule_store, store_sql
from alerting.lifecycle import AlertFilter
from alerting.rules import RuleError, default_rules, rule_from_dict, rule_to_dict

pytestmark = pytest.mark.integration
T0 = 1_764_115_200_000
RULE = rule_from_dict(
    {
        "id": "lel-test",
        "metric": "safety.lel_pct",
        "severity": "major",
        "category": "safety",
        "condition": {"op": ">=", "threshold": 25},
        "summary": "gas",
    }
)


def series(db: psycopg.Connection[Any], park: dict[str, Any]) -> tuple[str, alarm_store.SeriesIds]:
    row = db.execute(
        "SELECT d.device_id, e.enterprise_id, p.park_id FROM devices d JOIN enterprises e USING (enterprise_id)"
        " JOIN parks p USING (park_id) WHERE p.code = %s AND e.code = 'e1' AND d.code = 'gd1'",
        (park["parks"][0]["code"],),
    ).fetchone()
    assert row is not None
    return f"d:{row[0]}", alarm_store.SeriesIds(row[2], row[1], row[0], None)


def test_rules_round_trip_through_the_table(db: psycopg.Connection[Any]) -> None:
    rules = default_rules()
    with db.transaction():
        assert rule_store.save_rules(db, rules=rules, by="test") == len(rules)
    stored, errors = rule_store.fetch_rules(db)
    assert errors == []
    assert {r.id: r for r in stored}["stack-so2-limit"] == {r.id: r for r in rules}["stack-so2-limit"]


def test_one_open_alarm_per_series_and_every_transition_recorded(
    db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    key, ids = series(db, park)
    labels = {"alertname": RULE.id, "park": park["parks"][0]["code"]}
    with db.transaction():
        aid = alarm_store.open_alert(
            db, rule=RULE, series_key=key, ids=ids, state="pending", at_ms=T0, value=30.0, labels=labels
        )
        assert aid is not None
        assert (
            alarm_store.open_alert(
                db, rule=RULE, series_key=key, ids=ids, state="firing", at_ms=T0, value=31.0, labels=labels
            )
            is None
        )
        assert alarm_store.move_alert(db, alert_id=aid, to="firing", at_ms=T0 + 1000, value=32.0)
    with db.transaction():
        lifecycle.acknowledge(db, alert_id=aid, by="operator-li", comment="crew sent to C1")
        lifecycle.assign(db, alert_id=aid, by="operator-li", assignee="wang")
        lifecycle.comment(db, alert_id=aid, by="wang", comment="valve closed")
    with db.transaction():
        lifecycle.resolve(db, alert_id=aid, by="wang", comment="leak fixed")
    alert = lifecycle.get_alert(db, alert_id=aid)
    assert alert["state"] == "resolved" and alert["resolved_by"] == "wang"
    assert alert["acknowledged_by"] == "operator-li" and alert["assignee"] == "wang"
    assert alert["trigger_value"] == 30.0 and alert["value"] == 32.0
    kinds = [(e["kind"], e["by"], e["comment"]) for e in alert["events"]]
    assert kinds == [
        ("pending", "system", ""),
        ("firing", "system", ""),
        ("acknowledged", "operator-li", "crew sent to C1"),
        ("assigned", "operator-li", "assignee: wang"),
        ("commented", "wang", "valve closed"),
        ("cleared", "wang", "leak fixed"),
    ]
    assert alarm_store.closed_by_hand(db, alert_ids=[aid]) == [aid]
    # the evaluator's own resolution of an alarm already cleared by hand changes nothing
    assert not alarm_store.move_alert(db, alert_id=aid, to="resolved", at_ms=T0 + 5000, value=1.0)
    with pytest.raises(lifecycle.AlertStateError, match="already resolved"):
        lifecycle.resolve(db, alert_id=aid, by="wang")
    # the series may raise a new alarm now
    assert (
        alarm_store.open_alert(
            db, rule=RULE, series_key=key, ids=ids, state="firing", at_ms=T0 + 9000, value=40.0, labels=labels
        )
        is not None
    )


def test_listing_with_filters(db: psycopg.Connection[Any], park: dict[str, Any]) -> None:
    key, ids = series(db, park)
    a = alarm_store.open_alert(db, rule=RULE, series_key=key, ids=ids, state="firing", at_ms=T0, value=30.0, labels={})
    other = rule_from_dict(
        {
            "id": "so2-test",
            "metric": "stack.so2_mgm3",
            "severity": "minor",
            "category": "emissions",
            "condition": {"threshold": 1},
        }
    )
    b = alarm_store.open_alert(db, rule=other, series_key=key, ids=ids, state="firing", at_ms=T0, value=3.0, labels={})
    lifecycle.acknowledge(db, alert_id=b or 0, by="x")
    park_only = AlertFilter(park_ids=(ids.park_id,))
    assert [r["alert_id"] for r in lifecycle.list_alerts(db, where=park_only)] == [b, a]
    got = lifecycle.list_alerts(db, where=AlertFilter(park_ids=(ids.park_id,), categories=("safety",)))
    assert [r["alert_id"] for r in got] == [a]
    got = lifecycle.list_alerts(db, where=AlertFilter(park_ids=(ids.park_id,), acknowledged=False, states=("firing",)))
    assert [r["alert_id"] for r in got] == [a]
    assert [r["alert_id"] for r in lifecycle.list_alerts(db, where=park_only, limit=1, before_id=b)] == [a]
    with pytest.raises(ValueError, match="limit 0"):
        lifecycle.list_alerts(db, limit=0)
    with pytest.raises(lifecycle.AlertNotFound, match="no alert -1"):
        lifecycle.acknowledge(db, alert_id=-1, by="x")
    with pytest.raises(ValueError, match="comment of 5000 characters"):
        lifecycle.acknowledge(db, alert_id=a or 0, by="x", comment="x" * 5000)


def test_silences_expire_and_rules_switch_off(db: psycopg.Connection[Any]) -> None:
    now_ms = int(time.time() * 1000)
    sid = routing_store.create_silence(
        db,
        matchers=["alertname=lel-level1", "zone=~C.*"],
        starts_ms=now_ms - 1000,
        ends_ms=now_ms + 3_600_000,
        by="maint",
        comment="calibration",
    )
    active, errors = routing_store.fetch_silences(db, now_ms=now_ms)
    assert errors == [] and sid in [s.silence_id for s in active]
    assert routing_store.expire_silence(db, silence_id=sid, by="maint", at_ms=now_ms)
    assert not routing_store.expire_silence(db, silence_id=sid, by="maint", at_ms=now_ms + 1)
    later = now_ms + 10
    assert sid not in [s.silence_id for s in routing_store.fetch_silences(db, now_ms=later)[0]]
    with pytest.raises(RuleError, match="'zone is C1'"):
        routing_store.create_silence(db, matchers=["zone is C1"], starts_ms=now_ms, ends_ms=now_ms + 1, by="x")
    rule_store.save_rules(db, rules=[RULE], by="test")
    assert rule_store.set_rule_enabled(db, rule_id=RULE.id, enabled=False, by="operator")
    assert not {r.id: r for r in rule_store.fetch_rules(db)[0]}[RULE.id].enabled
    assert not rule_store.set_rule_enabled(db, rule_id="no-such-rule", enabled=False, by="operator")


def test_ending_a_silence_keeps_it_with_who_ended_it(db: psycopg.Connection[Any]) -> None:
    now_ms = int(time.time() * 1000)
    sid = routing_store.create_silence(
        db, matchers=["alertname=lel-level1"], starts_ms=now_ms - 1000, ends_ms=now_ms + 60_000, by="a", comment="c"
    )
    assert routing_store.expire_silence(db, silence_id=sid, by="night shift", at_ms=now_ms)
    ends, comment = db.execute("SELECT ends_at, comment FROM alert_silences WHERE silence_id = %s", (sid,)).fetchone()
    assert store_sql.ms(ends) == now_ms and comment == "c [ended by night shift]"
    assert sid not in [s.silence_id for s in routing_store.fetch_silences(db, now_ms=now_ms)[0]]


def test_ending_a_silence_that_has_not_started_never_lets_it_start(db: psycopg.Connection[Any]) -> None:
    """Ending it "now" would put its end before its start, which the table refuses: it ends 1 ms
    after its start instead, and a second end finds it already ended."""
    now_ms = int(time.time() * 1000)
    starts = now_ms + 3_600_000
    sid = routing_store.create_silence(
        db, matchers=["alertname=lel-level1"], starts_ms=starts, ends_ms=starts + 60_000, by="a"
    )
    assert routing_store.expire_silence(db, silence_id=sid, by="b", at_ms=now_ms)
    (ends,) = db.execute("SELECT ends_at FROM alert_silences WHERE silence_id = %s", (sid,)).fetchone()
    assert store_sql.ms(ends) == starts + 1
    assert not routing_store.expire_silence(db, silence_id=sid, by="b", at_ms=now_ms)
    assert sid not in [s.silence_id for s in routing_store.fetch_silences(db, now_ms=starts + 1)[0]]


def test_rules_created_replaced_and_deleted_through_the_store(db: psycopg.Connection[Any]) -> None:
    rule = rule_from_dict({**rule_to_dict(RULE), "id": f"lel-owner-{time.time_ns()}"}, "test")
    assert rule_store.create_rule(db, rule=rule, by="op")
    assert not rule_store.create_rule(db, rule=rule, by="op")
    off = rule_from_dict({**rule_to_dict(rule), "enabled": False}, "test")
    assert rule_store.replace_rule(db, rule=off, by="op2")
    assert not {r.id: r for r in rule_store.fetch_rules(db)[0]}[rule.id].enabled
    assert rule_store.delete_rule(db, rule_id=rule.id)
    assert not rule_store.delete_rule(db, rule_id=rule.id)
    assert not rule_store.replace_rule(db, rule=rule, by="op")
