"""Grouping, repeat, silences and inhibition of the dispatcher (pure, time passed in)."""

from __future__ import annotations

import pytest

from alerting.routing import AlertView, Dispatcher, Matcher, Receiver, Silence, inhibit_rules_from_list, parse_matchers
from alerting.rules import RuleError, default_document

EMERGENCY = Receiver(1, "emergency", "p1", frozenset({"safety"}), "webhook", "http://x/e")
BUREAU = Receiver(2, "bureau", "p1", frozenset({"emissions", "environment"}), "webhook", "http://x/b")
OPS = Receiver(
    3,
    "ops",
    None,
    frozenset({"safety", "emissions", "environment", "energy"}),
    "mqtt",
    group_interval_s=10,
    repeat_interval_s=600,
)


def alert(aid: int, rule: str, status: str = "firing", **labels: str) -> AlertView:
    base = {
        "alertname": rule,
        "park": "p1",
        "enterprise": "e1",
        "category": "safety",
        "device": f"d{aid}",
        "zone": "C1",
        "severity": "major",
        "gateway": "gw1",
    }
    return AlertView(aid, status, {**base, **labels}, rule, 0)


def sent(notes: list) -> list[tuple[str, str, list[tuple[int, str]]]]:
    return [(n.receiver.name, n.status, [(a.alert_id, a.status) for a in n.alerts]) for n in notes]


def test_matchers() -> None:
    labels = {"alertname": "lel-level1", "park": "p1"}
    assert Matcher.parse("alertname=~lel-.*").matches(labels)
    assert not Matcher.parse("park!=p1").matches(labels)
    assert Matcher.parse('zone=""').matches(labels)  # absent label is the empty string
    assert Matcher.parse("alertname!~co-.*").matches(labels)
    with pytest.raises(RuleError, match="unclosed group"):
        Matcher.parse("a=~(")
    with pytest.raises(RuleError, match="'park is p1'"):
        parse_matchers(["park is p1"])


def test_routing_by_category_and_park_then_grouping() -> None:
    d = Dispatcher([EMERGENCY, BUREAU, OPS])
    d.update(alert(1, "lel-level1"), 0)
    d.update(alert(2, "lel-level1"), 0)
    d.update(alert(3, "stack-so2", category="emissions"), 0)
    d.update(alert(4, "lel-level1", park="p2"), 0)
    got = sorted(sent(d.due(0)))
    assert got == [
        ("bureau", "firing", [(3, "firing")]),
        ("emergency", "firing", [(1, "firing"), (2, "firing")]),  # one notification for the group
        ("ops", "firing", [(1, "firing"), (2, "firing")]),
        ("ops", "firing", [(3, "firing")]),
        ("ops", "firing", [(4, "firing")]),  # ops centre of every park
    ]
    assert d.due(1) == []  # nothing changed


def test_group_wait_interval_and_repeat() -> None:
    rec = Receiver(
        9,
        "r",
        None,
        frozenset({"safety"}),
        "webhook",
        "http://x",
        group_wait_s=5,
        group_interval_s=30,
        repeat_interval_s=300,
    )
    d = Dispatcher([rec])
    d.update(alert(1, "lel-level1"), 0)
    assert d.due(4_999) == []
    d.update(alert(2, "lel-level1"), 4_000)
    assert sent(d.due(5_000)) == [("r", "firing", [(1, "firing"), (2, "firing")])]
    d.update(alert(1, "lel-level1", status="resolved"), 6_000)
    assert d.due(20_000) == []  # within the group interval
    assert sent(d.due(35_000)) == [("r", "firing", [(1, "resolved"), (2, "firing")])]
    assert d.due(300_000) == []
    assert sent(d.due(335_000)) == [("r", "firing", [(2, "firing")])]  # repeat of what still fires
    d.update(alert(2, "lel-level1", status="resolved"), 336_000)
    assert sent(d.due(366_000)) == [("r", "resolved", [(2, "resolved")])]
    assert d.groups == {}


def test_silence_keeps_the_alarm_and_mutes_the_notification() -> None:
    d = Dispatcher([EMERGENCY], silences=[Silence(1, parse_matchers(["zone=C1", "alertname=~lel-.*"]), 0, 60_000)])
    d.update(alert(1, "lel-level1"), 0)
    d.update(alert(2, "lel-level1", zone="C2"), 0)
    assert sent(d.due(0)) == [("emergency", "firing", [(2, "firing")])]
    d.update(alert(3, "lel-level1"), 1_000)
    assert d.due(40_000) == []
    # the silence ends while alarm 1 still fires: now it is notified
    assert sent(d.due(60_000)) == [("emergency", "firing", [(1, "firing"), (2, "firing"), (3, "firing")])]


def test_resolution_of_a_silenced_alarm_is_not_sent() -> None:
    d = Dispatcher([EMERGENCY], silences=[Silence(1, parse_matchers(["alertname=fire-alarm"]), 0, 10**12)])
    d.update(alert(1, "fire-alarm"), 0)
    assert d.due(0) == []
    d.update(alert(1, "fire-alarm", status="resolved"), 10)
    assert d.due(100_000) == [] and d.groups == {}


def test_inhibition_fire_alarm_and_gateway_offline() -> None:
    inhibit = inhibit_rules_from_list(default_document()["inhibit"])
    d = Dispatcher([EMERGENCY], inhibit)
    d.update(alert(1, "fire-alarm", metric="safety.fire_alarm", severity="critical"), 0)
    d.update(alert(2, "lel-level1", metric="safety.lel_pct"), 0)
    d.update(alert(3, "lel-level1", metric="safety.lel_pct", zone="C9"), 0)
    assert sorted(sent(d.due(0))) == [
        ("emergency", "firing", [(1, "firing")]),
        ("emergency", "firing", [(3, "firing")]),
    ]
    gw = Dispatcher([OPS], inhibit)
    gw.update(alert(10, "gateway-offline", category="energy", device="gw1", kind="gateway"), 0)
    gw.update(alert(11, "nodata-safety", condition="nodata"), 0)
    gw.update(alert(12, "nodata-safety", condition="nodata", gateway="gw2"), 0)
    assert sorted(sent(gw.due(0))) == [("ops", "firing", [(10, "firing")]), ("ops", "firing", [(12, "firing")])]


def test_higher_level_inhibits_lower_of_the_same_family() -> None:
    d = Dispatcher([EMERGENCY], inhibit_rules_from_list(default_document()["inhibit"]))
    d.update(alert(1, "lel-level1", family="lel", device="gd1"), 0)
    d.update(alert(2, "lel-level2", family="lel", severity="critical", device="gd1"), 0)
    d.update(alert(3, "o2-low", severity="critical", device="gd1"), 0)  # no family: inhibits nothing
    assert sorted(sent(d.due(0))) == [
        ("emergency", "firing", [(2, "firing")]),
        ("emergency", "firing", [(3, "firing")]),
    ]


def test_an_episode_shorter_than_the_group_wait_is_still_reported() -> None:
    rec = Receiver(9, "r", None, frozenset({"safety"}), "webhook", "http://x", group_wait_s=5)
    d = Dispatcher([rec])
    d.update(alert(1, "lel-level2"), 0)
    d.update(alert(1, "lel-level2", status="resolved"), 1_000)
    assert sent(d.due(5_000)) == [("r", "resolved", [(1, "resolved")])]
    assert d.groups == {}


def test_restored_groups_do_not_repeat_and_do_not_lose_resolutions() -> None:
    d = Dispatcher([EMERGENCY])
    d.update(alert(1, "lel-level1"), 0, sent={1: "firing"}, sent_ms=0)
    assert d.due(1_000) == []
    d.update(alert(1, "lel-level1", status="resolved"), 40_000)
    assert sent(d.due(40_000)) == [("emergency", "resolved", [(1, "resolved")])]


def test_receiver_validation() -> None:
    with pytest.raises(RuleError, match="categories"):
        Receiver(1, "x", None, frozenset({"traffic"}), "webhook", "http://x")
    with pytest.raises(RuleError, match="webhook url 'ftp://x'"):
        Receiver(1, "x", None, frozenset({"safety"}), "webhook", "ftp://x")
    mq = Receiver(1, "x", None, frozenset({"safety"}), "mqtt", group_by=("alertname",))
    assert mq.group_key({"alertname": "a", "park": "p", "category": "safety"}) == "{category=safety,park=p,alertname=a}"
