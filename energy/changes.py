"""Meter changes: a register replaced in place, and the exact consumption across the change.

The counter rule alone sees a change as a drop (counted from zero: the new register's reading)
or, when the new register reads higher, as a jump; neither is the consumption. With the old
register's final reading and the new one's initial reading it is exact:
``(old_final − last reading before) + (first reading after − new_initial)``. The rollup job
credits that to the first reading after the change (``energy.swaps``; recording a change queues
its bucket); the energy views move the old meter's part to the period of the change and share
both by time (:func:`moves`). The one writer of ``energy_meter_changes``; calibration reminders
come from the tree (``calibration_due``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.rows import tuple_row

from aggregation import apportion
from aggregation.store import VALID_SQL, ms_sql
from energy.reads import Quarters, dict_rows
from energy.tou import QUARTER_MS, Calendar, group_of_rows
from energy.tree import Meter
from smartpark.db import binary_copy, touched

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


QUARTER_US = QUARTER_MS * 1000


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


@dataclass(frozen=True, slots=True)
class Around:
    """The raw readings either side of a change: the last of the old register, the first of the
    new one (the rollups keep a bucket's first and last only, and a change may fall inside one)."""

    before_ts: int
    before: float
    after_ts: int
    after: float


def _split(
    swaps: Sequence[tuple[Change, Around]], devices: Sequence[int]
) -> Iterator[tuple[int, Change, Around, float, float, float]]:
    """Per change of a device in ``devices``: its series, the change, the readings around it, the
    old and new registers' parts, and what the rollups credited to the interval (both parts, to
    the first reading after the change: ``energy.swaps``)."""
    pos = {d: i for i, d in enumerate(devices)}
    for c, a in swaps:
        if c.device in pos:
            old, new = across(a.before, a.after, c)
            yield pos[c.device], c, a, old, new, old + new


def moves(
    cal: Calendar,
    q: Quarters,
    swaps: Sequence[tuple[Change, Around]],
    *,
    devices: Sequence[int],
    schedule_of_series: I64,
    codes: tuple[str, ...],
) -> tuple[tuple[I64, I64, F64], I64]:
    """Moves (series, group, kWh) that replace what the rollups credited to each change's interval
    (to the first reading after it) by its exact parts, and the rows whose interval from the
    previous bucket is a change's (for ``edge_moves`` to skip)."""
    out_s: list[int] = []
    stamps: list[int] = []
    out_a: list[float] = []
    rows: list[int] = []
    parts: list[tuple[int, int, int, float]] = []  # (series, t0, t1, kWh) to share by time
    for s, c, a, old, new, credited in _split(swaps, devices):
        # each part credited where the rollups would put an interval ending there, then shared by time
        out_s += [s, s, s]
        stamps += [a.after_ts, c.at_ms, a.after_ts]
        out_a += [-credited, old, new]
        parts += [(s, a.before_ts, c.at_ms, old), (s, c.at_ms, a.after_ts, new)]
        rows += np.flatnonzero((q.series == s) & (q.first_ts == a.after_ts) & (q.first == a.after)).tolist()
    bounds = cal.start_ms + QUARTER_MS * np.arange(cal.buckets + 1, dtype=np.int64)
    inside = [p for p in parts if bounds[0] <= p[1] < p[2] < bounds[-1]]
    if inside:
        t0, t1, amount = (np.asarray(x) for x in zip(*[p[1:] for p in inside], strict=True))
        m = apportion.moves(t0, t1, amount, bounds)
        out_s += [inside[i][0] for i in m.interval.tolist()]
        stamps += bounds[m.day].tolist()
        out_a += m.amount.tolist()
    series = np.asarray(out_s, dtype=np.int64)
    bucket = np.asarray(stamps, dtype=np.int64)
    group = group_of_rows(
        cal, series=series, bucket_ms=bucket - bucket % QUARTER_MS, schedule_of_series=schedule_of_series, codes=codes
    )
    keep = group >= 0  # a part outside the range belongs to another answer
    return (series[keep], group[keep], np.asarray(out_a)[keep]), np.asarray(rows, dtype=np.int64)


def around(conn: psycopg.Connection[Any], *, change: Change) -> Around | None:
    """The valid readings either side of a change, from raw telemetry (None: one side has none)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(
            "SELECT (extract(epoch FROM p.ts) * 1000)::int8, p.value, (extract(epoch FROM n.ts) * 1000)::int8, n.value"
            " FROM (SELECT ts, value FROM telemetry WHERE device_id = %(d)s AND metric_id = %(m)s"
            f"  AND flag IN {VALID_SQL} AND ts < {ms_sql('%(t)s::int8')} ORDER BY ts DESC LIMIT 1) p,"
            " (SELECT ts, value FROM telemetry WHERE device_id = %(d)s AND metric_id = %(m)s"
            f"  AND flag IN {VALID_SQL} AND ts >= {ms_sql('%(t)s::int8')} ORDER BY ts LIMIT 1) n",
            {"d": change.device, "m": change.metric, "t": change.at_ms},
        ).fetchone()
    return None if row is None else Around(int(row[0]), float(row[1]), int(row[2]), float(row[3]))


def record(conn: psycopg.Connection[Any], *, change: Change, new_serial: str, note: str, by: str) -> int:
    """Record a change and queue the bucket of the first reading after it, whose consumption the
    rollup job now computes across the change."""
    near = around(conn, change=change)
    with conn.cursor(row_factory=tuple_row) as cur:
        cur.execute(
            "INSERT INTO energy_meter_changes (device_id, metric_id, changed_at, old_final, new_initial, new_serial,"
            f" note, recorded_by) VALUES (%s, %s, {ms_sql('%s::int8')}, %s, %s, %s, %s, %s) RETURNING change_id",
            (change.device, change.metric, change.at_ms, change.old_final, change.new_initial, new_serial, note, by),
        )
        row = cur.fetchone()
        if near is not None:
            us = int(binary_copy.unix_ms_to_pg_us(near.after_ts))
            touched.record(cur, device_id=[change.device], metric_id=[change.metric], bucket_us=[us - us % QUARTER_US])
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
