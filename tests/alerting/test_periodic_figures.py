"""The energy figures never hold a gas alarm back: they are read and computed by a thread of their
own (alerting.periodic_figures) and the loop only judges them. A month of rollups of a large park
takes the database about a second (``smartpark bench energy-alarms``); here the pass is held in
its first query (the meter table locked) for as long as the test wants, and a gas leak published
meanwhile still raises its alarm."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pytest

from alerting.entity import Entity
from alerting.evaluate import Evaluator
from alerting.periodic_figures import Figures, Slices, onto
from alerting.reading_batch import Batch
from alerting.rules import default_rules, rule_from_dict
from benchmarks import metered_park
from smartpark.settings import Settings
from tests.support.alerting import Gateway, in_park, running, scoped
from tests.support.factories import unique_code
from tests.support.waiting import wait_until

ENTERPRISES = 300  # 1 200 meters, their month of 15-minute rollups so far


@pytest.fixture
def gw(park: dict[str, Any]) -> Iterator[Gateway]:
    gateway = Gateway(park)
    yield gateway
    gateway.close()


def _local(now_s: float, zone: str) -> tuple[int, int]:
    local = datetime.fromtimestamp(now_s, ZoneInfo(zone))
    return local.day, local.hour


def _waiting_on_meters(db: psycopg.Connection[Any]) -> int:
    """Queries waiting for the lock on energy_meters."""
    row = db.execute(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
        " WHERE c.relname = 'energy_meters' AND NOT l.granted"
    ).fetchone()
    return int(row[0]) if row else 0


def _alarms(db: psycopg.Connection[Any], rule_id: str, park_code: str) -> int:
    row = db.execute(
        "SELECT count(*) FROM alerts a JOIN parks p USING (park_id) WHERE a.rule_id = %s AND p.code = %s",
        (rule_id, park_code),
    ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.integration
def test_a_gas_alarm_is_raised_while_the_energy_figures_of_a_large_park_are_computed(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], gw: Gateway
) -> None:
    code = park["parks"][0]["code"]
    now = time.time()
    # a zone whose month is more than an hour old: its meters have quarter hours this month
    zone = next(z for z in ("Asia/Shanghai", "Europe/London") if _local(now, z) > (1, 0))
    big = metered_park.build(db, code=unique_code("m"), enterprises=ENTERPRISES, now_ms=int(now * 1000), timezone=zone)
    rules = scoped(code, {"id": "t-lel", "metric": "safety.lel_pct", "condition": {"op": ">=", "threshold": 50}})
    rules += [in_park(r, big.code) for r in default_rules() if r.id == "demand-approaching"]
    with psycopg.connect(settings.database_url or "") as locker:
        locker.execute("LOCK TABLE energy_meters IN ACCESS EXCLUSIVE MODE")
        with running(settings, rules, parks=[code, big.code], transmission_every_s=300) as svc:
            assert svc.figures is not None
            wait_until(lambda: _waiting_on_meters(db) > 0, what="the figures pass in its first query")
            gw.send({"gd1": {"safety.lel_pct": 60.0}})
            wait_until(lambda: _alarms(db, "t-lel", code), timeout=60, what="the gas alarm")
            # raised while the pass that reads the meters was still waiting
            assert _waiting_on_meters(db) > 0 and svc.figures.passes == 0
            assert svc.figures.computing_since is not None
            held_step = svc.longest_pause_s
            locker.rollback()
            wait_until(lambda: svc.figures.passes == 1, what="the figures pass")
            # the loop judges what the pass computed: every main meter at 60..100 kW of 100 kW
            # contracted over the month has come near it at least once
            wait_until(lambda: _alarms(db, "demand-approaching", big.code) > 0, timeout=60, what="the demand alarms")
            print(
                f"longest loop step while the pass waited {held_step * 1000:.1f} ms;"
                f" the pass took {svc.figures.longest_s * 1000:.0f} ms"
            )


def _ev(*keys: str) -> Evaluator:
    rule = {"id": "d", "metric": "energy.demand_ratio_month_pct", "severity": "minor", "category": "energy"}
    rules = [rule_from_dict({**rule, "condition": {"op": ">=", "threshold": 90}})]
    return Evaluator(rules, [Entity(k, "p", "e", k, "elec_meter") for k in keys], now_ms=0)


def test_figures_of_a_swapped_out_evaluator_are_judged_on_the_new_entities() -> None:
    old, new = _ev("d:1", "d:2", "d:3"), _ev("d:3", "d:4", "d:2")
    batch = Batch.of([0, 1, 2], [7, 7, 7], [5, 5, 5], [10.0, 20.0, 30.0])
    moved = onto(batch, old, new)
    # d:1 is gone; d:2 is now entity 2, d:3 entity 0
    assert moved.entity.tolist() == [2, 0]
    assert moved.value.tolist() == [20.0, 30.0]
    assert moved.metric.dtype == np.int32 and moved.ts_ms.tolist() == [5, 5]
    assert onto(batch, old, old) is batch
    assert len(onto(Batch.of([], [], [], []), old, new)) == 0


def test_a_pass_is_judged_a_slice_at_a_time() -> None:
    old = _ev("d:1", "d:2", "d:3")
    rates, demand = Batch.of([0, 1, 2], [1, 1, 1], [5, 5, 5], [1.0, 2.0, 3.0]), Batch.of([2], [2], [5], [4.0])
    slices = Slices(Figures(old, (rates, demand), 0.0), size=2)
    handed = []
    while (b := slices.next()) is not None:
        handed.append((b.metric.tolist(), b.value.tolist()))
    # never more than the size, never mixing two batches, every reading once and in order
    assert handed == [([1, 1], [1.0, 2.0]), ([1], [3.0]), ([2], [4.0])]
    assert slices.next() is None
    with pytest.raises(ValueError, match="at least 1"):
        Slices(Figures(old, (), 0.0), size=0)


@pytest.mark.integration
def test_a_figures_pass_keeps_to_one_core_of_the_database(db_url: str) -> None:
    """No parallel plan for the month's read: the database's other core stays the loop's."""
    import threading

    from alerting.periodic_figures import FigureWorker

    worker = FigureWorker(
        connect=lambda: psycopg.connect(db_url, autocommit=True),
        evaluator=lambda: Evaluator([], [], now_ms=0),
        now_ms=lambda: int(time.time() * 1000),
        stop=threading.Event(),
        every_s=60,
        default_interval_s=60,
    )
    worker.pass_once()
    assert worker.conn is not None
    row = worker.conn.execute("SHOW max_parallel_workers_per_gather").fetchone()
    worker.conn.close()
    assert row is not None and row[0] == "0"
