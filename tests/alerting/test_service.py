"""The alerting service on the real broker and database: conditions, lifecycle, routing, delivery."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from alerting import lifecycle, outbox_store, routing_store
from alerting.lifecycle import AlertFilter
from alerting.routing import inhibit_rules_from_list
from alerting.rules import SILENCE_TYPES, default_document, default_rules
from smartpark.mqtt import connect, make_client
from smartpark.settings import Settings
from tests.support.alerting import Gateway, WebhookReceiver, in_park, running, scoped, silence_hour
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _receivers_end_with_the_test(db: psycopg.Connection[Any], park: dict[str, Any]) -> Iterator[None]:
    """The run's database is shared: nothing may keep calling this test's dead hooks."""
    yield
    db.execute(
        "UPDATE alert_receivers SET enabled = false WHERE park_id = (SELECT park_id FROM parks WHERE code = %s)",
        (park["parks"][0]["code"],),
    )


@pytest.fixture
def gw(park: dict[str, Any]) -> Iterator[Gateway]:
    """The test park's gateway, publishing with its own broker account."""
    gateway = Gateway(park)
    yield gateway
    gateway.close()


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    """A receiver's endpoint, registered by the test with the grouping it needs."""
    sink = WebhookReceiver()
    yield sink
    sink.close()


def park_id(db: psycopg.Connection[Any], model: dict[str, Any]) -> int:
    row = db.execute("SELECT park_id FROM parks WHERE code = %s", (model["parks"][0]["code"],)).fetchone()
    assert row is not None
    return int(row[0])


def states(db: psycopg.Connection[Any], pid: int, rule_id: str) -> list[str]:
    rows = lifecycle.list_alerts(db, where=AlertFilter(park_ids=(pid,), rule_id=rule_id))
    return [r["state"] for r in reversed(rows)]


def receiver(
    db: psycopg.Connection[Any], pid: int, hook: WebhookReceiver, categories: tuple[str, ...] = ("safety",), **kw: Any
) -> int:
    name = f"rx-{pid}-{hook.server.server_address[1]}"
    return routing_store.create_receiver(
        db, name=name, park_id=pid, categories=categories, channel="webhook", url=hook.url, secret=hook.secret, **kw
    )


def test_each_condition_through_the_service(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], gw: Gateway
) -> None:
    code, pid = park["parks"][0]["code"], park_id(db, park)
    rules = scoped(
        code,
        {"id": "t-lel", "metric": "safety.lel_pct", "condition": {"op": ">=", "threshold": 25}, "hysteresis": 5},
        {"id": "t-o2", "metric": "safety.o2_pct", "condition": {"band": [19.5, 23.5]}},
        {"id": "t-h2s-for", "metric": "safety.h2s_ppm", "condition": {"op": ">=", "threshold": 10}, "for": "600ms"},
        {
            "id": "t-co-avg",
            "metric": "safety.co_ppm",
            "condition": {"type": "avg", "window": "30s", "op": ">", "threshold": 10},
        },
        {
            "id": "t-power-rate",
            "metric": "elec.power_kw",
            "category": "energy",
            "condition": {"type": "rate", "window": "30s", "op": ">", "threshold": 100},
        },
        {
            "id": "t-so2",
            "metric": "stack.so2_mgm3",
            "category": "emissions",
            "transform": "o2_reference",
            "condition": {"op": ">", "threshold": 35},
        },
        {
            "id": "t-nodata",
            "metric": "*",
            "condition": {"type": "nodata", "window": "1500ms"},
            "scope": {"devices": ["e1/wm1"]},
        },
        {
            "id": "t-offline",
            "metric": "device.online",
            "condition": {"op": "<", "threshold": 0.5},
            "scope": {"devices": ["e1/fa1"]},
        },
    )
    with running(settings, rules, parks=[code]):
        gw.send(
            {
                "gd1": {"safety.lel_pct": 10, "safety.o2_pct": 20.9, "safety.h2s_ppm": 0, "safety.co_ppm": 0},
                "em1": {"elec.power_kw": 500},
                "cems1": {"stack.o2_pct": 9, "stack.so2_mgm3": 30},
                "wm1": {"water.volume_m3": 1},
            }
        )
        gw.send(
            {
                "gd1": {"safety.lel_pct": 30, "safety.o2_pct": 18.0, "safety.h2s_ppm": 12, "safety.co_ppm": 40},
                "em1": {"elec.power_kw": 650},
                "cems1": {"stack.o2_pct": 12, "stack.so2_mgm3": 33},
            }
        )
        gw.status("fa1", "offline")
        for rule_id in ("t-lel", "t-o2", "t-co-avg", "t-power-rate", "t-so2", "t-offline"):
            wait_until(lambda r=rule_id: states(db, pid, r) == ["firing"], what=f"{rule_id} firing")
        assert states(db, pid, "t-h2s-for")[:1] == ["pending"]
        wait_until(lambda: states(db, pid, "t-h2s-for") == ["firing"], what="for elapsed on the clock")
        # (a slow broker may deliver wm1's first reading after the window: an earlier episode)
        wait_until(lambda: states(db, pid, "t-nodata")[-1:] == ["firing"], what="no data from wm1")
        # hysteresis: 22 %LEL is below 25 but not below 20: still firing
        gw.send({"gd1": {"safety.lel_pct": 22, "safety.o2_pct": 20.9}, "wm1": {"water.volume_m3": 2}})
        wait_until(lambda: states(db, pid, "t-o2") == ["resolved"], what="o2 back in band")
        wait_until(lambda: states(db, pid, "t-nodata")[-1:] == ["resolved"], what="data from wm1 again")
        assert states(db, pid, "t-lel") == ["firing"]
        gw.send({"gd1": {"safety.lel_pct": 19}, "cems1": {"stack.o2_pct": 9, "stack.so2_mgm3": 30}})
        gw.status("fa1", "online")
        for rule_id in ("t-lel", "t-so2", "t-offline"):
            wait_until(lambda r=rule_id: states(db, pid, r) == ["resolved"], what=f"{rule_id} resolved")
    lel = lifecycle.list_alerts(db, where=AlertFilter(park_ids=(pid,), rule_id="t-lel"))[0]
    assert lel["trigger_value"] == 30 and lel["labels"]["zone"] == "C1" and lel["labels"]["device"] == "gd1"
    so2 = lifecycle.list_alerts(db, where=AlertFilter(park_ids=(pid,), rule_id="t-so2"))[0]
    assert so2["trigger_value"] == pytest.approx(33 * (21 - 9) / (21 - 12))


def test_manual_clear_and_acknowledgement(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], gw: Gateway, hook: WebhookReceiver
) -> None:
    code, pid = park["parks"][0]["code"], park_id(db, park)
    receiver(db, pid, hook, group_interval_s=0.2)
    rules = scoped(code, {"id": "t-lel", "metric": "safety.lel_pct", "condition": {"op": ">=", "threshold": 25}})
    with running(settings, rules, parks=[code]):
        gw.send({"gd1": {"safety.lel_pct": 40}})
        first = wait_until(
            lambda: lifecycle.list_alerts(db, where=AlertFilter(park_ids=(pid,), states=("firing",))), what="firing"
        )[0]
        with db.transaction():
            lifecycle.acknowledge(db, alert_id=first["alert_id"], by="operator", comment="seen, crew on the way")
        with db.transaction():
            lifecycle.resolve(db, alert_id=first["alert_id"], by="operator", comment="sensor recalibrated")
        wait_until(lambda: ("t-lel", "gd1", "resolved") in hook.alerts(), what="manual clear notified")
        gw.send({"gd1": {"safety.lel_pct": 41}})  # still leaking: a new alarm
        wait_until(lambda: states(db, pid, "t-lel") == ["resolved", "firing"], what="a new alarm")
        wait_until(lambda: hook.alerts().count(("t-lel", "gd1", "firing")) == 2, what="second firing notified")
    alert = lifecycle.get_alert(db, alert_id=first["alert_id"])
    assert alert["acknowledged_by"] == "operator" and alert["resolved_by"] == "operator"
    assert [e["kind"] for e in alert["events"]] == ["firing", "acknowledged", "cleared"]
    assert all(h.signed for h in hook.hits)


def test_grouping_silence_and_inhibition(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], gw: Gateway, hook: WebhookReceiver
) -> None:
    code, pid = park["parks"][0]["code"], park_id(db, park)
    receiver(db, pid, hook, group_by=("park", "category"), group_interval_s=0.5)
    now_ms = int(time.time() * 1000)
    silence_hour(db, [f"park={code}", "alertname=t-co"], now_ms, "maintenance", "sensor swap")
    rules = scoped(
        code,
        {"id": "t-lel", "metric": "safety.lel_pct", "condition": {"op": ">=", "threshold": 25}},
        {"id": "t-h2s", "metric": "safety.h2s_ppm", "condition": {"op": ">=", "threshold": 10}},
        {"id": "t-co", "metric": "safety.co_ppm", "condition": {"op": ">=", "threshold": 30}},
        {
            "id": "fire-alarm",
            "metric": "safety.fire_alarm",
            "condition": {"op": ">=", "threshold": 1},
            "severity": "critical",
        },
    )
    inhibit = inhibit_rules_from_list(default_document()["inhibit"])
    with running(settings, rules, parks=[code], inhibit=inhibit):
        gw.send({"gd1": {"safety.lel_pct": 30, "safety.h2s_ppm": 12, "safety.co_ppm": 50}})
        wait_until(lambda: hook.hits, what="a notification")
        time.sleep(0.3)
        assert len(hook.hits) == 1  # one notification for the group, the silenced alarm left out
        assert sorted(a[0] for a in hook.alerts()) == ["t-h2s", "t-lel"]
        assert states(db, pid, "t-co") == ["firing"]  # silenced, still recorded
        # a fire in zone C1 inhibits the gas alarms of C1 that rise after it
        gw.send({"fa1": {"safety.fire_alarm": 1}, "gd1": {"safety.lel_pct": 10, "safety.h2s_ppm": 0}})
        wait_until(lambda: ("fire-alarm", "fa1", "firing") in hook.alerts(), what="fire notified")
        gw.send({"gd1": {"safety.lel_pct": 60}})
        wait_until(lambda: states(db, pid, "t-lel") == ["resolved", "firing"], what="second gas alarm")
        time.sleep(1.2)  # two group intervals: it would have been notified by now
        second = states_id(db, pid, "t-lel")
        assert [a["status"] for h in hook.hits for a in h.payload["alerts"] if a["alert_id"] == second] == []
        assert hook.alerts().count(("t-lel", "gd1", "resolved")) == 1  # the first one, notified


def sample(metric: Any, suffix: str = "", **labels: str) -> float:
    """The value of one sample of a prometheus metric (counters: the _total sample)."""
    want = suffix or ("_total" if metric._type == "counter" else "")
    for s in metric.collect()[0].samples:
        if s.name.endswith(want) and all(s.labels.get(k) == v for k, v in labels.items()):
            return float(s.value)
    return 0.0


def states_id(db: psycopg.Connection[Any], pid: int, rule_id: str) -> int:
    return int(lifecycle.list_alerts(db, where=AlertFilter(park_ids=(pid,), rule_id=rule_id))[0]["alert_id"])


@pytest.mark.slow
def test_receiver_down_then_back_gets_every_notification_once(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], gw: Gateway, hook: WebhookReceiver
) -> None:
    code, pid = park["parks"][0]["code"], park_id(db, park)
    hook.down = True
    receiver(db, pid, hook, group_by=("alertname", "device"), group_interval_s=0)
    rules = scoped(code, {"id": "t-lel", "metric": "safety.lel_pct", "condition": {"op": ">=", "threshold": 25}})
    with running(settings, rules, parks=[code], max_backoff_s=0.5):
        for i in range(3):
            gw.send({"gd1": {"safety.lel_pct": 40}})
            wait_until(lambda i=i: states(db, pid, "t-lel") == ["resolved"] * i + ["firing"], what="firing")
            gw.send({"gd1": {"safety.lel_pct": 5}})
            wait_until(lambda i=i: states(db, pid, "t-lel") == ["resolved"] * (i + 1), what="resolved")
        wait_until(lambda: hook.refused >= 3, what="failed attempts")
        assert outbox_store.outbox_counts(db)["pending"] >= 1
        hook.down = False
        wait_until(lambda: len(hook.hits) >= 6, timeout=60, what="all 6 notifications")
        time.sleep(1.5)
    ids = [h.notification_id for h in hook.hits]
    assert len(ids) == len(set(ids)) == 6
    assert [a[2] for a in hook.alerts()] == ["firing", "resolved"] * 3  # in order per receiver


@pytest.mark.slow
def test_restart_mid_episode_no_duplicate_no_lost_resolution(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], gw: Gateway, hook: WebhookReceiver
) -> None:
    code, pid = park["parks"][0]["code"], park_id(db, park)
    receiver(db, pid, hook, group_by=("alertname", "device"), group_interval_s=0.2)
    rules = scoped(
        code, {"id": "t-lel", "metric": "safety.lel_pct", "condition": {"op": ">=", "threshold": 25}, "hysteresis": 5}
    )
    client_id, group = f"alerting-restart-{pid}", f"alerting-restart-{pid}"
    with running(settings, rules, parks=[code], client_id=client_id, group=group, session_expiry_s=60):
        gw.send({"gd1": {"safety.lel_pct": 35}})
        wait_until(lambda: ("t-lel", "gd1", "firing") in hook.alerts(), what="firing notified")
    # while the service is away: still high, then back to normal (queued by its session)
    gw.send({"gd1": {"safety.lel_pct": 36}})
    gw.send({"gd1": {"safety.lel_pct": 3}})
    with running(settings, rules, parks=[code], client_id=client_id, group=group, session_expiry_s=0):
        wait_until(lambda: ("t-lel", "gd1", "resolved") in hook.alerts(), what="resolution after restart")
        time.sleep(0.5)
    assert hook.alerts() == [("t-lel", "gd1", "firing"), ("t-lel", "gd1", "resolved")]
    assert states(db, pid, "t-lel") == ["resolved"]


def test_gas_leak_reaches_the_emergency_receiver(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], gw: Gateway
) -> None:
    """End to end with the default rules: gateway publishes a leak; emergency management hears it
    (webhook, signed), the operations centre gets it over MQTT, the environment bureau does not."""
    code, pid = park["parks"][0]["code"], park_id(db, park)
    emergency, bureau = WebhookReceiver(), WebhookReceiver()
    receiver(db, pid, emergency, ("safety",))
    receiver(db, pid, bureau, ("emissions", "environment"))
    routing_store.create_receiver(
        db, name=f"ops-{pid}", park_id=pid, categories=["safety", "emissions", "environment", "energy"], channel="mqtt"
    )
    got: list[dict[str, Any]] = []
    arrived = threading.Event()
    ops = make_client(f"ops-centre-{pid}", url=settings.mqtt_url, clean_start=True, session_expiry=0)
    ops.on_message = lambda c, u, m: (got.append(json.loads(m.payload)), arrived.set())
    connect(ops)
    subscribed = threading.Event()
    ops.on_subscribe = lambda *a: subscribed.set()
    ops.subscribe(f"{settings.topic_root}/alerts/safety/{code}", qos=1)
    assert subscribed.wait(30)
    rules = [in_park(r, code) for r in default_rules() if r.condition.type not in SILENCE_TYPES]
    assert {r.id for r in rules} >= {"lel-level1", "lel-level2"}
    try:
        inhibit = inhibit_rules_from_list(default_document()["inhibit"])
        with running(settings, rules, parks=[code], inhibit=inhibit) as service:
            sent_at = time.time()
            gw.send({"gd1": {"safety.lel_pct": 32.5}})
            hit = wait_until(lambda: emergency.hits, what="emergency notified")[0]
            assert arrived.wait(30)  # the shared broker can take seconds
            m = service.metrics
            wait_until(lambda: sample(m.alarms, state="firing") == 1, what="alarms gauge")
            assert sample(m.notifications_sent, channel="webhook") >= 1
            wait_until(lambda: sample(m.notifications_sent, channel="mqtt") >= 1, what="PUBACK of the alert")
            assert sample(m.evaluation_latency, suffix="_count") >= 1
    finally:
        ops.disconnect()
        ops.loop_stop()
        emergency.close()
        bureau.close()
    assert hit.signed and hit.at - sent_at < 5
    [alert] = hit.payload["alerts"]
    assert alert["labels"]["alertname"] == "lel-level1" and alert["value"] == 32.5
    assert alert["labels"]["park"] == code and alert["labels"]["zone"] == "C1"
    assert got[0]["alerts"][0]["labels"]["alertname"] == "lel-level1" and got[0]["notification_id"] > 0
    assert hit.payload["notification_id"] == hit.notification_id
    assert bureau.hits == []


def test_average_windows_resume_from_stored_telemetry(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], gw: Gateway
) -> None:
    """After a restart an hourly average continues over the stored last hour: one low reading
    cannot stand for the hour (and one reading alone could not fire it either)."""
    code, pid = park["parks"][0]["code"], park_id(db, park)
    row = db.execute(
        "SELECT device_id FROM devices d JOIN enterprises e USING (enterprise_id)"
        " WHERE e.park_id = %s AND e.code = 'e1' AND d.code = 'cems1'",
        (pid,),
    ).fetchone()
    assert row is not None
    now = time.time()
    with db.cursor() as cur:
        cur.executemany(
            "INSERT INTO telemetry (ts, device_id, metric_id, value) VALUES (to_timestamp(%s), %s, %s, %s)",
            [(now - 60 * i, row[0], m, x) for i in range(1, 51) for m, x in ((23, 9.0), (20, 45.0))],
        )
    rules = scoped(
        code,
        {
            "id": "t-so2-avg",
            "metric": "stack.so2_mgm3",
            "category": "emissions",
            "transform": "o2_reference",
            "condition": {"type": "avg", "window": "1h", "op": ">", "threshold": 35},
        },
    )
    with running(settings, rules, parks=[code]):
        gw.send({"cems1": {"stack.o2_pct": 9, "stack.so2_mgm3": 20}})
        wait_until(lambda: states(db, pid, "t-so2-avg") == ["firing"], what="hourly average over the limit")
    alert = lifecycle.list_alerts(db, where=AlertFilter(park_ids=(pid,), rule_id="t-so2-avg"))[0]
    assert alert["trigger_value"] == pytest.approx((50 * 45 + 20) / 51)
