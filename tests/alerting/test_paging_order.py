"""A later page never overtakes an earlier one of the same receiver and person: while the oldest
waits for its retry (the channel was down, its backoff grew), what was queued after it waits
with it, and both go as one summary, in order, when the retry is due. Real DingTalk endpoint
on 127.0.0.1 (allowed explicitly), real database."""

from __future__ import annotations

import re
import time
from typing import Any

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from alerting import outbox_store, routing_store
from alerting.metrics import AlertingMetrics
from alerting.paging import LinkSettings, Pager
from benchmarks.paging_endpoints import PlatformServer
from smartpark.webhook_targets import TargetPolicy
from tests.alerting.test_escalation import robot
from tests.alerting.test_paging import park_id
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _enqueue(db: psycopg.Connection[Any], rid: int, name: str, alert_id: int) -> int:
    alert = {"alert_id": alert_id, "status": "firing", "summary": name, "starts_at_ms": 0}
    return outbox_store.enqueue_notification(
        db, receiver_id=rid, group_key=name, status="firing", payload={"alerts": [alert]}, alert_statuses=[]
    )


def test_a_page_queued_during_an_outage_waits_behind_the_older_one(
    db: psycopg.Connection[Any], park: dict[str, Any], platforms: PlatformServer
) -> None:
    pid = park_id(db, park["parks"][0]["code"])
    name = robot(db, pid, platforms, "dingtalk")
    (receiver,) = [r for r in routing_store.fetch_receivers(db, park_ids=[pid])[0] if r.name == name]
    pager = Pager(links=LinkSettings(None, "https://p.example", 3600), targets=TargetPolicy.from_cidrs(["127.0.0.0/8"]))
    metrics = AlertingMetrics.create(CollectorRegistry())
    try:
        platforms.down = True
        first = _enqueue(db, receiver.receiver_id, "older-page", 20_000_001)
        assert pager.deliver(db, receiver, metrics) == 0  # the endpoint answers 503: a retry later
        # after many failures the backoff is long: the older page's retry is 2 s away
        outbox_store.defer(db, notification_ids=[first], until_s=time.time() + 2.0)
        second = _enqueue(db, receiver.receiver_id, "newer-page", 20_000_002)
        platforms.down = False
        assert pager.deliver(db, receiver, metrics) == 0  # due, but behind the older one
        assert platforms.of("dingtalk") == []
        wait_until(lambda: pager.deliver(db, receiver, metrics) == 2, what="both pages, when the older one is due")
    finally:
        pager.close()
    (message,) = platforms.of("dingtalk")
    assert re.findall(r"(?:older|newer)-page", message.body["markdown"]["text"])[:2] == ["older-page", "newer-page"]
    delivered = db.execute(
        "SELECT count(*) FROM alert_notifications WHERE notification_id = ANY(%s) AND delivered_at IS NOT NULL",
        ([first, second],),
    ).fetchone()
    assert delivered == (2,)
