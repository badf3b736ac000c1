"""Recorded meter changes inside the rollup job: the interval across a change is exact.

The counter rule of the rollups (``aggregation.rollup.counter_deltas``) sees a replaced register
as a drop (counted from zero) or a jump; with the recorded old register's final and the new one's
initial reading the interval from the last reading before the change to the first after it is
``(old_final − before) + (after − new_initial)``, credited, as every interval is, to the later
reading. The rollup job reads the changes of the devices it rolls up (:func:`of_devices`) and
replaces those deltas (:func:`exact_deltas`); the energy views read the rollups and move the two
parts to their periods (``energy.changes.moves``), and the daily indicators' linear apportionment
shares each part over its own interval, so the old register's part stays in the days before the
change (``aggregation.consumption_moves``). Depends on nothing of ``aggregation`` but the
value types, so the rollup job may import it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.rows import tuple_row

from aggregation.rollup import NORMAL, CounterDeltas, Readings
from aggregation.store import ms_sql
from smartpark.series_key import pack

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Swaps:
    """Recorded changes as arrays: the series (``series_key.pack``), instant and both readings."""

    series: I64
    at_ms: I64
    old_final: F64
    new_initial: F64

    def __len__(self) -> int:
        return int(self.series.size)

    @classmethod
    def of(
        cls, series: npt.ArrayLike, at_ms: npt.ArrayLike, old_final: npt.ArrayLike, new_initial: npt.ArrayLike
    ) -> Swaps:
        return cls(
            np.asarray(series, dtype=np.int64).reshape(-1),
            np.asarray(at_ms, dtype=np.int64).reshape(-1),
            np.asarray(old_final, dtype=np.float64).reshape(-1),
            np.asarray(new_initial, dtype=np.float64).reshape(-1),
        )


NONE = Swaps.of([], [], [], [])


def exact_deltas(r: Readings, deltas: CounterDeltas, swaps: Swaps) -> CounterDeltas:
    """``deltas`` of readings ``r`` (sorted by series and time) with the interval across each
    change that the readings straddle replaced by its two exact parts. A change whose readings no
    longer fit it (a late reading above the old final) keeps the counter rule's figure, logged."""
    if not len(swaps) or not len(r):
        return deltas
    delta, status = deltas.delta.copy(), deltas.status.copy()
    # the first reading at or after each change, among the readings of its series
    key = np.searchsorted(r.series, swaps.series, side="left")
    end = np.searchsorted(r.series, swaps.series, side="right")
    for i in range(len(swaps)):  # a loop over recorded changes (a handful), never over readings
        a, b = int(key[i]), int(end[i])
        k = a + int(np.searchsorted(r.ts[a:b], swaps.at_ms[i], side="left"))
        if k <= a or k >= b:
            continue  # the readings do not straddle it: nothing of this part crosses the change
        old = float(swaps.old_final[i]) - float(r.value[k - 1])
        new = float(r.value[k]) - float(swaps.new_initial[i])
        if old < 0 or new < 0:
            log.warning(
                "meter change of series %d at %d does not fit readings around it", swaps.series[i], swaps.at_ms[i]
            )
            continue
        delta[k] = old + new
        status[k] = NORMAL
    return CounterDeltas(delta, status)


def of_devices(conn: psycopg.Connection[Any], *, devices: Sequence[int], start_ms: int, end_ms: int) -> Swaps:
    """The recorded changes of ``devices`` in [start, end)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT device_id, metric_id, (extract(epoch FROM changed_at) * 1000)::int8, old_final, new_initial"
            " FROM energy_meter_changes WHERE device_id = ANY(%s)"
            f" AND changed_at >= {ms_sql('%s::int8')} AND changed_at < {ms_sql('%s::int8')}"
            " ORDER BY device_id, metric_id, changed_at",
            (list(devices), start_ms, end_ms),
        ).fetchall()
    if not rows:
        return NONE
    d, m, at, old, new = (np.asarray(c) for c in zip(*rows, strict=True))
    return Swaps.of(pack(d.astype(np.int64), m.astype(np.int64)), at, old, new)
