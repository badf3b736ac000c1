"""Energy figures as readings to judge: the month's demand against the contract and the hour's
balance loss.

Rules on the pseudo metrics ``energy.demand_ratio_month_pct`` ("the month's demand approaches
the contracted demand") and ``energy.balance_loss_hour_pct`` ("a parent meter lost more than X %
against its children") are judged by the evaluator like any value rule (hysteresis, ``for``,
routing, silences, paging). Their readings come from here, every few minutes, as the effective
rate's do (:mod:`alerting.transmission`), computed from the rollups the energy views read with
the energy package's own rules:

- demand: a meter's largest quarter-hour kWh × 4 since its park's local month began
  (``energy.demand``), in % of its ``contracted_kw``; a meter without a contract gets none;
- balance: a parent meter of the tree (the intake, an enterprise's main meter) against the sum of
  its physical children over the last hour that ended ``SETTLE_MS`` ago, so that the rollup job
  has written every meter's hour (``energy.balance``); a parent that measured nothing gets none.

Each reading belongs to the meter's device (the parent's for the balance).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import psycopg

from alerting.metric_ids import BALANCE_LOSS_ID, DEMAND_RATIO_ID
from alerting.reading_batch import Batch
from energy import balance as bal
from energy.reads import COUNTER_OF, HOUR_MS

SETTLE_MS = 15 * 60_000  # an hour is judged once this long past its end: its rollups are written

_DEMAND = """
SELECT m.device_id, max(m.contracted_kw), max(r.consumption) * 4
FROM energy_meters m JOIN parks p USING (park_id)
JOIN rollup_15m r ON r.device_id = m.device_id AND r.metric_id = %(kwh)s
 AND r.bucket >= (date_trunc('month', to_timestamp(%(now)s / 1000.0) AT TIME ZONE p.timezone) AT TIME ZONE p.timezone)
 AND r.bucket < to_timestamp(%(now)s / 1000.0)
WHERE m.device_id = ANY(%(d)s) AND m.carrier = 'electricity' AND m.contracted_kw > 0
GROUP BY 1
"""
_PAIRS = """
SELECT p.device_id, p.carrier, c.device_id
FROM energy_meters p JOIN energy_meters c ON c.parent_id = p.meter_id AND c.device_id IS NOT NULL
WHERE p.device_id = ANY(%s)
ORDER BY 1, 3
"""
_HOUR = """
SELECT device_id, metric_id, coalesce(consumption, 0) FROM rollup_1h
WHERE device_id = ANY(%(d)s) AND bucket = to_timestamp(%(h)s / 1000.0)
"""


def demand_ratios(conn: psycopg.Connection[Any], *, devices: dict[int, int], now_ms: int) -> Batch:
    """One reading per watched meter with a contract and a demand this month: max demand, % of contract."""
    if not devices:
        return Batch.of([], [], [], [])
    rows = conn.execute(_DEMAND, {"kwh": COUNTER_OF["electricity"], "now": now_ms, "d": list(devices)}).fetchall()
    got = [(devices[int(r[0])], 100.0 * float(r[2]) / float(r[1])) for r in rows if r[2] is not None]
    return Batch.of([g[0] for g in got], [DEMAND_RATIO_ID] * len(got), [now_ms] * len(got), [g[1] for g in got])


def settled_hour(now_ms: int) -> int:
    """The start of the last hour that ended at least ``SETTLE_MS`` ago."""
    return (now_ms - SETTLE_MS) // HOUR_MS * HOUR_MS - HOUR_MS


def balance_losses(conn: psycopg.Connection[Any], *, devices: dict[int, int], now_ms: int) -> Batch:
    """One reading per watched parent meter whose hour measured something: its loss, % of it."""
    if not devices:
        return Batch.of([], [], [], [])
    children: dict[tuple[int, str], list[int]] = defaultdict(list)
    for parent, carrier, child in conn.execute(_PAIRS, (list(devices),)).fetchall():
        children[(int(parent), carrier)].append(int(child))
    if not children:
        return Batch.of([], [], [], [])
    hour = settled_hour(now_ms)
    wanted = sorted({d for (p, _), cs in children.items() for d in (p, *cs)})
    amount = {(int(d), int(m)): float(v) for d, m, v in conn.execute(_HOUR, {"d": wanted, "h": hour}).fetchall()}
    ent, val = [], []
    for (parent, carrier), cs in children.items():
        metric = COUNTER_OF[carrier]
        b = bal.balance([amount.get((parent, metric), 0.0)], [[amount.get((c, metric), 0.0)] for c in cs])
        if np.isfinite(b.loss_pct[0]):
            ent.append(devices[parent])
            val.append(float(b.loss_pct[0]))
    return Batch.of(ent, [BALANCE_LOSS_ID] * len(ent), [now_ms] * len(ent), val)
