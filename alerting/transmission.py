"""The effective transmission rate of each device's local day so far, as readings to judge.

Rules on the pseudo metric ``data.effective_rate_today_pct`` ("effective transmission rate below
X % today") are judged by the evaluator like any value rule (hysteresis, ``for``, routing). Their
readings come from here, not from MQTT: every few minutes the alerting service counts, for the
devices such rules watch, the readings stored since the park's local midnight, and turns them
into the rate by the completeness rule the API serves (:mod:`aggregation.completeness`:
expected from ``interval_s`` since midnight or registration, received capped per series, valid
= flag N; effective = transmission × validity, in %). A device that owes nothing yet (just past
midnight) gets no reading, so it is neither raised nor cleared.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psycopg

from aggregation.completeness import expected_readings, grouped
from alerting.evaluate import Evaluator
from alerting.metric_ids import EFFECTIVE_RATE_ID
from alerting.reading_batch import Batch
from alerting.rules import EFFECTIVE_RATE_TODAY

_SERIES = """
SELECT d.device_id, dm.metric_id, d.created_at, p.timezone,
       CASE WHEN d.attributes->>'interval_s' ~ '^[0-9]+(\\.[0-9]+)?$'
            THEN (d.attributes->>'interval_s')::float8 END
FROM devices d JOIN device_metrics dm USING (device_id)
JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)
WHERE d.device_id = ANY(%s)
ORDER BY d.device_id, dm.metric_id
"""
_COUNTS = """
SELECT device_id, metric_id, count(*), count(*) FILTER (WHERE flag = 0)
FROM telemetry
WHERE device_id = ANY(%(ids)s) AND ts >= %(since)s AND ts < %(until)s
GROUP BY 1, 2
"""


def watched(evaluator: Evaluator, metric: str = EFFECTIVE_RATE_TODAY) -> dict[int, int]:
    """device_id -> entity index, for the devices some rule on ``metric`` (a periodic figure,
    by default the effective rate) applies to."""
    rows = [i for i, r in enumerate(evaluator.rules) if r.metric == metric]
    if not rows:
        return {}
    mask = np.asarray(evaluator.applies[rows].any(axis=0), dtype=bool)
    return {int(e.key[2:]): i for i, e in enumerate(evaluator.entities) if bool(mask[i]) and e.key.startswith("d:")}


def rates_today(
    conn: psycopg.Connection[Any], *, devices: dict[int, int], now_ms: int, default_interval_s: float
) -> Batch:
    """One reading per watched device: its effective transmission rate today, in %."""
    if not devices:
        return Batch.of([], [], [], [])
    series = conn.execute(_SERIES, (list(devices),)).fetchall()
    by_zone: dict[str, list[int]] = defaultdict(list)
    for device_id, _, _, tz, _ in series:
        by_zone[tz].append(device_id)
    counts: dict[tuple[int, int], tuple[int, int]] = {}
    now_s = now_ms / 1000
    midnight = {}
    for tz, ids in by_zone.items():
        zone = ZoneInfo(tz)
        midnight[tz] = datetime.combine(datetime.fromtimestamp(now_s, zone).date(), time(), zone)
        until = datetime.fromtimestamp(now_s, zone)
        for device_id, metric_id, received, valid in conn.execute(
            _COUNTS, {"ids": sorted(set(ids)), "since": midnight[tz], "until": until}
        ).fetchall():
            counts[(device_id, metric_id)] = (int(received), int(valid))
    dev = np.array([r[0] for r in series], dtype=np.int64)
    start = np.array([max(midnight[r[3]].timestamp(), r[2].timestamp()) for r in series])
    interval = np.array([r[4] or default_interval_s for r in series], dtype=float)
    expected = expected_readings(now_s - start, interval)
    got = np.array([counts.get((r[0], r[1]), (0, 0)) for r in series], dtype=float).reshape(-1, 2)
    device_ids, rates = grouped(dev, expected, got[:, 0], got[:, 1])
    owed = rates.expected > 0
    ent = [devices[int(i)] for i in device_ids[owed]]
    return Batch.of(ent, [EFFECTIVE_RATE_ID] * len(ent), [now_ms] * len(ent), (rates.effective[owed] * 100).tolist())
