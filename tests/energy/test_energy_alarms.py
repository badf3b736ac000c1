"""Demand approaching the contract and balance losses as alarms of the running alerting service,
with the shipped default rules: routed to a receiver of the energy category, silenced, inhibited."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from alerting import lifecycle, routing_store
from alerting.energy_levels import SETTLE_MS, settled_hour
from alerting.lifecycle import AlertFilter
from alerting.routing import inhibit_rules_from_list
from alerting.rules import default_document, default_rules
from energy import meters as em
from smartpark.catalogue import metric
from smartpark.registry import load_model
from smartpark.settings import Settings
from tests.alerting.test_regulator_rules import _zone_past_noon
from tests.energy.conftest import TREE, park_id_of, tree_model
from tests.support.alerting import WebhookReceiver, in_park, running, silence_hour
from tests.support.readings import device_id, store_readings
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration
KWH = metric("elec.import_kwh").id
Q_MS = 900_000


def _tree(contracted_kw: float) -> list[dict[str, Any]]:
    return [{**m, "contracted_kw": contracted_kw} if m["code"] == "E1" else m for m in TREE]


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    sink = WebhookReceiver()
    yield sink
    sink.close()


def _states(db: psycopg.Connection[Any], pid: int, rule_id: str) -> list[tuple[str, str, float]]:
    rows = lifecycle.list_alerts(db, where=AlertFilter(park_ids=(pid,), rule_id=rule_id))
    return [(r["labels"]["device"], r["state"], round(float(r["trigger_value"]), 3)) for r in reversed(rows)]


def test_demand_and_balance_alarms_through_the_service(
    settings: Settings, db: psycopg.Connection[Any], hook: WebhookReceiver
) -> None:
    model = tree_model()
    code = model["parks"][0]["code"]
    model["parks"][0]["timezone"] = _zone_past_noon()  # the settled hour and its quarter before: this month
    with db.transaction():
        load_model(db, model, broker=None)
    pid = park_id_of(db, model)
    with db.transaction():
        em.replace_tree(db, park_id=pid, tree=em.resolve(db, park_id=pid, spec=_tree(105.0)))
    # E1 (e1/em1) reads 25 kWh a quarter hour, its sub-meter E1A (em2) 22.5 and E1B (em3) nothing,
    # over the last hour that ended SETTLE_MS ago: E1's demand 25 × 4 = 100 kW, 95.238 % of 105 kW
    # (approaching at 90 %, the platform's default); its hour 100 kWh against 90 below it, a loss
    # of 10 % (above the 5 % default).
    now_ms = int(time.time() * 1000)
    to_next = 3_600_000 - (now_ms - SETTLE_MS) % 3_600_000
    if to_next < 60_000:  # the settled hour is about to move on: start with the next one
        time.sleep(to_next / 1000 + 1)
        now_ms = int(time.time() * 1000)
    h0 = settled_hour(now_ms)
    assert now_ms - (h0 + 3_600_000) >= SETTLE_MS
    em1, em2 = device_id(db, model, "e1", "em1"), device_id(db, model, "e1", "em2")
    store_readings(
        db,
        [(d, KWH, h0 + (k - 1) * Q_MS, 1000.0 + rate * k) for d, rate in ((em1, 25.0), (em2, 22.5)) for k in range(5)],
    )
    from aggregation import job

    job.drain(db)
    routing_store.create_receiver(
        db,
        name=f"rx-energy-{pid}",
        park_id=pid,
        categories=("energy",),
        channel="webhook",
        url=hook.url,
        secret=hook.secret,
        group_by=("park", "category", "alertname"),
        group_interval_s=0.5,
    )
    # the operators know about E1's losses this hour
    silence_hour(db, [f"park={code}", "alertname=balance-loss"], now_ms, "energy team", "CT being replaced")
    rules = [in_park(r, code) for r in default_rules() if r.metric.startswith("energy.")]
    assert {r.id for r in rules} == {"demand-approaching", "demand-exceeded", "balance-loss", "balance-gain"}
    inhibit = inhibit_rules_from_list(default_document()["inhibit"])
    with running(settings, rules, parks=[code], inhibit=inhibit, transmission_every_s=0.2):
        wait_until(lambda: ("demand-approaching", "em1", "firing") in hook.alerts(), what="demand notified")
        assert _states(db, pid, "demand-approaching") == [("em1", "firing", 95.238)]
        assert _states(db, pid, "demand-exceeded") == []
        wait_until(lambda: _states(db, pid, "balance-loss") == [("em1", "firing", 10.0)], what="the loss alarm")
        assert _states(db, pid, "balance-gain") == []
        # the contract lowered to 95 kW: 100 kW is 105.263 % of it, the exceeded alarm rises
        with db.transaction():
            em.replace_tree(db, park_id=pid, tree=em.resolve(db, park_id=pid, spec=_tree(95.0)))
        wait_until(lambda: ("demand-exceeded", "em1", "firing") in hook.alerts(), what="exceeded notified")
        assert _states(db, pid, "demand-exceeded") == [("em1", "firing", 105.263)]
        # silenced: recorded, never sent
        assert all(a[0] != "balance-loss" for a in hook.alerts())


def test_the_energy_figures_are_judged_as_values_and_their_hour_is_settled() -> None:
    from alerting.rules import RuleError, rule_from_dict

    with pytest.raises(RuleError, match="judged as a value"):
        rule_from_dict(
            {
                "id": "x",
                "severity": "minor",
                "category": "energy",
                "metric": "energy.balance_loss_hour_pct",
                "condition": {"type": "avg", "op": ">", "threshold": 5, "window": "1h"},
            }
        )
    # at 10:14 the hour 09:00-10:00 ended 14 minutes ago: 08:00 is judged; at 10:15, 09:00
    ten = 1_765_000_800_000 // 3_600_000 * 3_600_000
    assert settled_hour(ten + 14 * 60_000) == ten - 2 * 3_600_000
    assert settled_hour(ten + 15 * 60_000) == ten - 3_600_000
