"""Escalation, outages and storms through the real service, database and local endpoints."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from alerting import lifecycle, outbox_store, paging_store, routing_store
from alerting.metrics import AlertingMetrics
from alerting.paging import LinkSettings, Pager
from alerting.routing import Receiver
from benchmarks.paging_endpoints import PlatformServer, SmtpServer
from smartpark.settings import Settings
from smartpark.webhook_targets import TargetPolicy
from tests.alerting.test_paging import gas_rule, park_id
from tests.support.alerting import Gateway, running, scoped
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def gw(park: dict[str, Any], db: psycopg.Connection[Any]) -> Iterator[Gateway]:
    gateway = Gateway(park)
    yield gateway
    gateway.close()
    pid = park_id(db, park["parks"][0]["code"])
    db.execute("UPDATE alert_receivers SET enabled = false WHERE park_id = %s", (pid,))
    db.execute("UPDATE notify_policies SET enabled = false WHERE park_id = %s", (pid,))


def robot(db: psycopg.Connection[Any], pid: int, platforms: PlatformServer, channel: str, **kw: Any) -> str:
    """A robot receiver that routing leaves alone (energy alarms only): escalation names it."""
    c = platforms.creds
    url, secrets = {
        "wecom": (f"{platforms.base}/wecom/send", {"key": c.wecom_key}),
        "dingtalk": (
            f"{platforms.base}/dingtalk/send",
            {"access_token": c.dingtalk_token, "secret": c.dingtalk_secret},
        ),
    }[channel]
    name = f"{channel}-esc-{pid}"
    routing_store.create_receiver(
        db, name=name, park_id=pid, categories=kw.get("categories", ["energy"]), channel=channel, url=url,
        secrets=secrets, group_interval_s=kw.get("group_interval_s", 30),
    )  # fmt: skip
    return name


def people(db: psycopg.Connection[Any], pid: int, smtp: SmtpServer) -> tuple[str, str]:
    """An escalation-only mail receiver (nobody standing) and two contacts: on duty and lead."""
    mail = f"mail-esc-{pid}"
    routing_store.create_receiver(
        db,
        name=mail,
        park_id=pid,
        categories=["safety"],
        channel="email",
        config=smtp.receiver_config(to=[]),
        secrets={"password": smtp.password},
    )
    paging_store.create_contact(db, name=f"duty-{pid}", park_id=pid, email=f"duty-{pid}@park.example", phone=None)
    paging_store.create_contact(db, name=f"lead-{pid}", park_id=pid, email=f"lead-{pid}@park.example", phone=None)
    paging_store.save_roster(
        db,
        name=f"roster-{pid}",
        park_id=pid,
        definition={"rotation": "daily", "start": "2026-01-01", "members": [f"duty-{pid}"]},
    )
    return mail, f"lead-{pid}"


def escalation_row(db: psycopg.Connection[Any], pid: int) -> tuple[Any, ...] | None:
    return db.execute(
        "SELECT e.level, e.done_why FROM notify_escalations e JOIN notify_policies p USING (policy_id)"
        " WHERE p.park_id = %s AND e.done_why IS DISTINCT FROM 'not matched'",
        (pid,),
    ).fetchone()


def test_levels_page_in_turn_and_the_roster_names_who(
    settings: Settings,
    db: psycopg.Connection[Any],
    park: dict[str, Any],
    gw: Gateway,
    platforms: PlatformServer,
    smtp: SmtpServer,
) -> None:
    code = park["parks"][0]["code"]
    pid = park_id(db, code)
    wecom, ding = robot(db, pid, platforms, "wecom"), robot(db, pid, platforms, "dingtalk")
    mail, lead = people(db, pid, smtp)
    paging_store.save_policy(
        db,
        name=f"gas-{pid}",
        park_id=pid,
        matchers=[f"park={code}", "alertname=t-gas"],
        definition={
            "levels": [
                {"after_min": 0, "receivers": [wecom, mail], "rosters": [f"roster-{pid}"]},
                {"after_min": 0.05, "receivers": [ding, mail], "contacts": [lead]},  # 3 s
            ]
        },
    )
    with running(settings, gas_rule(code), parks=[code]):
        gw.send({"gd1": {"safety.lel_pct": 30}})
        wait_until(lambda: platforms.of("wecom") and smtp.mails, what="level 1: the robot and the person on duty")
        assert platforms.of("dingtalk") == []
        assert smtp.mails[0].rcpt_tos == [f"duty-{pid}@park.example"]
        wait_until(lambda: platforms.of("dingtalk"), what="level 2 after 3 s unacknowledged")
        wait_until(lambda: len(smtp.mails) == 2, what="the lead's mail")
        assert smtp.mails[1].rcpt_tos == [f"lead-{pid}@park.example"]
        wait_until(lambda: escalation_row(db, pid) == (2, "last level paged"), what="the escalation over")
    firing_at = db.execute("SELECT firing_at FROM alerts WHERE park_id = %s AND rule_id = 't-gas'", (pid,)).fetchone()[
        0
    ]  # type: ignore[index]
    # level 2 was not paged before its deadline
    assert platforms.of("dingtalk")[0].at >= firing_at.timestamp() + 3.0


def test_acknowledging_stops_the_escalation(
    settings: Settings,
    db: psycopg.Connection[Any],
    park: dict[str, Any],
    gw: Gateway,
    platforms: PlatformServer,
    smtp: SmtpServer,
) -> None:
    code = park["parks"][0]["code"]
    pid = park_id(db, code)
    wecom, ding = robot(db, pid, platforms, "wecom"), robot(db, pid, platforms, "dingtalk")
    paging_store.save_policy(
        db,
        name=f"gas-ack-{pid}",
        park_id=pid,
        matchers=[f"park={code}"],
        definition={
            "levels": [{"after_min": 0, "receivers": [wecom]}, {"after_min": 0.05, "receivers": [ding]}],
            "repeat_min": 1,
        },
    )
    with running(settings, gas_rule(code), parks=[code]):
        gw.send({"gd1": {"safety.lel_pct": 30}})
        wait_until(lambda: platforms.of("wecom"), what="level 1")
        aid = db.execute("SELECT alert_id FROM alerts WHERE park_id = %s AND rule_id = 't-gas'", (pid,)).fetchone()[0]  # type: ignore[index]
        with db.transaction():
            lifecycle.acknowledge(db, alert_id=aid, by="duty", comment="on my way")
        wait_until(
            lambda: escalation_row(db, pid) == (1, "acknowledged"), what="the escalation stopped at its deadline"
        )
    assert platforms.of("dingtalk") == []


def messages_of(platforms: PlatformServer, channel: str) -> list[str]:
    return [r.body["markdown"]["text"] for r in platforms.of(channel)]


def test_an_outage_and_a_restart_lose_nothing_and_keep_the_order(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], gw: Gateway, platforms: PlatformServer
) -> None:
    """The robot is down while three alarms fire one after the other and the service restarts;
    once the robot is back, every notification arrives once, in order (as one summary: the
    backlog is batched)."""
    code = park["parks"][0]["code"]
    pid = park_id(db, code)
    rules = scoped(
        code,
        {"id": "t-a", "summary": "alarm-A", "metric": "safety.lel_pct", "condition": {"op": ">=", "threshold": 25}},
        {"id": "t-b", "summary": "alarm-B", "metric": "safety.h2s_ppm", "condition": {"op": ">=", "threshold": 10}},
        {"id": "t-c", "summary": "alarm-C", "metric": "safety.co_ppm", "condition": {"op": ">=", "threshold": 30}},
    )
    ding = robot(db, pid, platforms, "dingtalk", categories=["safety"], group_interval_s=0)
    rid = db.execute("SELECT receiver_id FROM alert_receivers WHERE name = %s", (ding,)).fetchone()[0]  # type: ignore[index]

    def queued() -> int:
        row = db.execute("SELECT count(*) FROM alert_notifications WHERE receiver_id = %s", (rid,)).fetchone()
        return int(row[0])  # type: ignore[index]

    platforms.down = True
    with running(settings, rules, parks=[code], max_backoff_s=0.5):
        gw.send({"gd1": {"safety.lel_pct": 40}})
        wait_until(lambda: queued() == 1, what="A queued")
        gw.send({"gd1": {"safety.h2s_ppm": 20}})
        wait_until(lambda: queued() == 2, what="B queued")
    with running(settings, rules, parks=[code], max_backoff_s=0.5):
        gw.send({"gd1": {"safety.co_ppm": 50}})
        wait_until(lambda: queued() == 3, what="C queued after the restart")
        failed = wait_until(
            lambda: (
                db.execute(
                    "SELECT count(*) FROM notify_attempts WHERE receiver_id = %s AND result = 'error'", (rid,)
                ).fetchone()[0]  # type: ignore[index]
                >= 3
            ),
            what="failed attempts while down",
        )
        assert failed
        platforms.down = False
        wait_until(
            lambda: db.execute(
                "SELECT bool_and(delivered_at IS NOT NULL) FROM alert_notifications WHERE receiver_id = %s", (rid,)
            ).fetchone()[0],  # type: ignore[index]
            what="every notification delivered",
        )
        time.sleep(1.0)  # a duplicate would arrive on the next delivery passes
    # (a message of one alarm names it in its title and its body: each message counted once)
    found = [
        name for text in messages_of(platforms, "dingtalk") for name in dict.fromkeys(re.findall(r"alarm-[ABC]", text))
    ]
    assert found == ["alarm-A", "alarm-B", "alarm-C"]
    assert platforms.refused == []


def test_a_storm_becomes_at_most_the_budget_per_person(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], smtp: SmtpServer
) -> None:
    """1 000 pages for one person, queued while delivery runs, reach them as at most 10 messages
    per window, each a summary, and every page is delivered (the window is shortened to 2 s)."""
    pid = park_id(db, park["parks"][0]["code"])
    rid = routing_store.create_receiver(
        db,
        name=f"storm-mail-{pid}",
        park_id=pid,
        categories=["safety"],
        channel="email",
        config=smtp.receiver_config(to=[]),
        secrets={"password": smtp.password},
    )
    (receiver,) = [r for r in routing_store.fetch_receivers(db, park_ids=[pid])[0] if r.receiver_id == rid]
    pager = Pager(
        links=LinkSettings(None, "https://p.example", 3600),
        window_s=2.0,
        targets=TargetPolicy.from_cidrs(["127.0.0.0/8"]),  # the local SMTP server, allowed explicitly
    )
    metrics = AlertingMetrics.create(CollectorRegistry())
    # a real contact: its id is the budget's key, which a made-up one could share with another test's
    duty = paging_store.create_contact(db, name=f"storm-duty-{pid}", park_id=pid, email=None, phone=None)
    started = time.time()
    ids = []
    for i in range(1000):
        alert = {"alert_id": 10_000_000 + i, "status": "firing", "summary": f"storm {i}", "starts_at_ms": 0}
        payload = {"alerts": [alert], "person": {"id": duty, "name": "duty"}, "to": [f"duty-{pid}@park.example"]}
        ids.append(
            outbox_store.enqueue_notification(
                db, receiver_id=rid, group_key="storm", status="firing", payload=payload, alert_statuses=[]
            )
        )
        if i % 20 == 19:
            pager.deliver(db, receiver, metrics)
    wait_until(lambda: _deliver_all(db, pager, receiver, metrics, ids), what="every page delivered", timeout=60)
    elapsed = time.time() - started
    windows = int(elapsed // 2.0) + 1
    assert len(smtp.mails) <= 10 * windows
    # the first window: at most 10 messages
    first = [m for m in smtp.mails if m.at < started + 2.0]
    assert len(first) <= 10
    # every page once: the summaries' counts add up to 1 000
    counts = [int(m) for mail in smtp.mails for m in re.findall(r"(\d+) 条告警", str(mail.message["Subject"]))]
    singles = sum(1 for mail in smtp.mails if "条告警" not in str(mail.message["Subject"]))
    assert sum(counts) + singles == 1000


def _deliver_all(
    db: psycopg.Connection[Any], pager: Pager, receiver: Receiver, metrics: AlertingMetrics, ids: list[int]
) -> bool:
    pager.deliver(db, receiver, metrics)
    row = db.execute(
        "SELECT count(*) FROM alert_notifications WHERE notification_id = ANY(%s) AND delivered_at IS NULL", (ids,)
    ).fetchone()
    return row is not None and row[0] == 0
