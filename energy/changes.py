"""Meter changes: a register replaced in place, and the exact consumption across the change.

The rollups see a change as a drop (counted from zero: the new register's reading) or, when the
new register reads higher, as a jump; neither is the consumption. With the old register's final
reading and the new one's initial reading it is exact:
``(old_final − last reading before) + (first reading after − new_initial)``. The energy views
replace the rollups' figure of that interval with it (:func:`moves`), the old meter's part in
the period of the change, the new meter's in the period of its first reading. The one writer of
``energy_meter_changes``; calibration reminders come from the tree (``calibration_due``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.rows import tuple_row

from aggregation.rollup import Readings, counter_deltas
from aggregation.store import ms_sql
from energy.reads import Quarters, dict_rows
from energy.tou import Calendar, group_of_rows
from energy.tree import Meter

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class ChangeError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Change:
    device: int
    metric: int
    at_ms: int
    old_final: float
    new_initial: float


def across(before: float, after: float, change: Change) -> tuple[float, float]:
    """(the old register's part, the new one's) between a reading ``before`` and one ``after``."""
    old, new = change.old_final - before, after - change.new_initial
    if old < 0 or new < 0:
        raise ChangeError(
            f"change at {change.at_ms} of device {change.device}: readings {before} before and {after} after do not"
            f" fit old_final {change.old_final} and new_initial {change.new_initial}"
        )
    return old, new


def moves(
    cal: Calendar,
    q: Quarters,
    changes: Sequence[Change],
    *,
    devices: Sequence[int],
    schedule_of_series: I64,
    codes: tuple[str, ...],
) -> tuple[tuple[I64, I64, F64], I64]:
    """Moves (series, group, kWh) that replace what the rollups credited to each change's interval
    by its exact parts, and the rows whose interval they replace (for ``edge_moves`` to skip)."""
    pos = {d: i for i, d in enumerate(devices)}
    out_s: list[int] = []
    out_g: list[int] = []
    out_a: list[float] = []
    rows: list[int] = []
    groups = group_of_rows(cal, series=q.series, bucket_ms=q.bucket, schedule_of_series=schedule_of_series, codes=codes)
    for c in changes:
        s = pos.get(c.device)
        if s is None:
            continue
        mine = np.flatnonzero(q.series == s)
        after = mine[q.first_ts[mine] >= c.at_ms]
        before = mine[q.last_ts[mine] < c.at_ms]
        if after.size == 0 or before.size == 0:
            continue  # the interval is not inside the range: nothing of it is here
        i, j = int(after[0]), int(before[-1])
        if j != i - 1 or groups[i] < 0 or groups[j] < 0:
            continue
        r0, r1 = float(q.last[j]), float(q.first[i])
        old, new = across(r0, r1, c)
        credited = float(counter_deltas(Readings.of(np.zeros(2, np.int64), [0, 1], [r0, r1])).delta[1])
        at_bucket = group_of_rows(
            cal,
            series=np.asarray([s]),
            bucket_ms=np.asarray([c.at_ms - c.at_ms % 900_000]),
            schedule_of_series=schedule_of_series,
            codes=codes,
        )[0]
        out_s += [s, s, s]
        out_g += [int(groups[i]), int(at_bucket if at_bucket >= 0 else groups[i]), int(groups[i])]
        out_a += [-credited, old, new]
        rows.append(i)
    m = (np.asarray(out_s, dtype=np.int64), np.asarray(out_g, dtype=np.int64), np.asarray(out_a, dtype=np.float64))
    return m, np.asarray(rows, dtype=np.int64)


def record(conn: psycopg.Connection[Any], *, change: Change, new_serial: str, note: str, by: str) -> int:
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            "INSERT INTO energy_meter_changes (device_id, metric_id, changed_at, old_final, new_initial, new_serial,"
            f" note, recorded_by) VALUES (%s, %s, {ms_sql('%s::int8')}, %s, %s, %s, %s, %s) RETURNING change_id",
            (change.device, change.metric, change.at_ms, change.old_final, change.new_initial, new_serial, note, by),
        )
        row = cur.fetchone()
    assert row is not None
    return int(row[0])


def of_devices(
    conn: psycopg.Connection[Any], *, devices: Sequence[int], start_ms: int, end_ms: int
) -> list[dict[str, Any]]:
    return dict_rows(
        conn,
        "SELECT change_id, device_id, metric_id, (extract(epoch FROM changed_at) * 1000)::int8 AS at_ms,"
        " old_final, new_initial, new_serial, note, recorded_by, recorded_at FROM energy_meter_changes"
        f" WHERE device_id = ANY(%s) AND changed_at >= {ms_sql('%s::int8')} AND changed_at < {ms_sql('%s::int8')}"
        " ORDER BY changed_at, change_id",
        (list(devices), start_ms, end_ms),
    )


def calibrations_due(meters: Sequence[Meter], *, today: date, within_days: int) -> list[dict[str, Any]]:
    """Meters whose ``calibration_due`` (an ISO date in their attributes) falls within
    ``within_days`` of ``today`` or has passed, soonest first."""
    out = []
    for m in meters:
        due = m.attributes.get("calibration_due")
        if not isinstance(due, str):
            continue
        try:
            d = date.fromisoformat(due)
        except ValueError as exc:
            raise ChangeError(f"meter {m.code!r}.attributes.calibration_due: {due!r} is not a date") from exc
        if d <= today + timedelta(days=within_days):
            out.append({"code": m.code, "enterprise_id": m.enterprise, "due": d.isoformat(), "overdue": d < today})
    return sorted(out, key=lambda x: (x["due"], x["code"]))
