"""The alarms' count of the safety readings they judged, per park and 15-minute bucket: pure."""

from __future__ import annotations

import numpy as np

from alerting.coverage import Q_MS, Tally
from smartpark.catalogue import metric

LEL, O2, KW = metric("safety.lel_pct").id, metric("safety.o2_pct").id, metric("elec.power_kw").id


def test_safety_readings_are_counted_per_park_and_bucket_of_their_own_time() -> None:
    park_of_entity = np.array([7, 7, 9], dtype=np.int64)
    t0 = 1_780_000_000_000 // Q_MS * Q_MS  # a bucket start
    tally = Tally()
    tally.add(
        park_of_entity=park_of_entity,
        entity=np.array([0, 1, 2, 0, 2, 1], dtype=np.int32),
        metric=np.array([LEL, O2, LEL, KW, -3, LEL], dtype=np.int32),  # energy and a pseudo id: not safety
        ts_ms=np.array([t0, t0 + 1, t0 + 5, t0, t0, t0 + Q_MS], dtype=np.int64),
    )
    tally.add(
        park_of_entity=park_of_entity,
        entity=np.array([2], dtype=np.int32),
        metric=np.array([O2], dtype=np.int32),
        ts_ms=np.array([t0 + Q_MS - 1], dtype=np.int64),
    )
    assert dict(tally.counts) == {(7, t0): 2, (9, t0): 2, (7, t0 + Q_MS): 1}


def test_a_batch_without_safety_readings_counts_nothing() -> None:
    tally = Tally()
    tally.add(
        park_of_entity=np.array([1], dtype=np.int64),
        entity=np.array([0], dtype=np.int32),
        metric=np.array([KW], dtype=np.int32),
        ts_ms=np.array([0], dtype=np.int64),
    )
    assert tally.counts == {}
