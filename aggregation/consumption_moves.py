"""Consumption across local midnights, shared by time (linear gap apportionment): the intervals
between a counter's readings that cross a midnight, what each day's share moves, and the stored
moves (``consumption_moves``, owned here) that days whose raw telemetry has expired keep.

The rollups credit an interval's whole consumption to the day of its later reading; a move takes
the earlier days' shares from it and gives them to those days.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from aggregation import apportion, arrays, store
from aggregation.calendar import local_date, local_day_start, zone
from aggregation.indicator_columns import CARRIER_COLUMN
from aggregation.indicator_store import Park
from aggregation.rollup import Readings, counter_deltas
from aggregation.series_params import DEFAULT_INTERVAL_S, series_params
from aggregation.steam_heat import meter_heat_gj
from energy import swaps
from energy.counted import counted_sql
from smartpark.catalogue import BY_ID, DEVICE_KINDS, MetricKind, metric

COUNTED = counted_sql("d.device_id")  # the meter tree: sub-meters and park meters are not added


@dataclass(frozen=True, slots=True)
class Gaps:
    """Intervals between successive valid readings of a park's energy and water counters that
    cross a local midnight, with the consumption the rollups credit to the later reading."""

    device: np.ndarray
    enterprise: np.ndarray
    metric: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    delta: np.ndarray
    raw_from_ms: int  # days from here on were searched in raw telemetry (older: expired)
    held: np.ndarray  # where the rollups hold each delta: t1, or after a meter change its first reading


def _counter_series(conn: store.Conn, park: Park) -> tuple[list[int], list[int]]:
    """(device, metric) of the park's counters that feed a carrier column."""
    devs, mets = [], []
    for dev, kind in conn.execute(
        f"SELECT d.device_id, d.kind FROM devices d WHERE d.enterprise_id = ANY(%s) AND {COUNTED} ORDER BY 1",
        (list(park.enterprises),),
    ).fetchall():
        for code in DEVICE_KINDS.get(kind, ()):
            m = metric(code)
            if m.kind is MetricKind.COUNTER and m.carrier in CARRIER_COLUMN:
                devs.append(dev)
                mets.append(m.id)
    return devs, mets


def find_gaps(conn: store.Conn, *, park: Park, days: list[date], raw_from_ms: int = 0) -> Gaps:
    """The intervals across the local midnights that bound ``days`` (one probe each way per
    counter and midnight), with each one's consumption by the rollups' counter rule. Days that
    start before ``raw_from_ms`` (raw telemetry expired) are not searched."""
    devs, mets = _counter_series(conn, park)
    days = [d for d in days if local_day_start(d, park.timezone) >= raw_from_ms]
    bounds = sorted({local_day_start(d, park.timezone) for d in days} | {_next_start(d, park) for d in days})
    found = conn.execute(
        "SELECT DISTINCT s.d, s.m, p.t, p.v, n.t, n.v"
        " FROM unnest(%(d)s::int[], %(m)s::int[]) AS s(d, m) CROSS JOIN unnest(%(b)s::int8[]) AS b(b)"
        " JOIN LATERAL (SELECT (extract(epoch FROM t.ts) * 1000)::int8 AS t, t.value AS v, t.ts FROM telemetry t"
        f"  WHERE t.device_id = s.d AND t.metric_id = s.m AND t.flag IN {store.VALID_SQL}"
        f"  AND t.ts < {store.ms_sql('b.b')} ORDER BY t.ts DESC LIMIT 1) p ON true"
        " JOIN LATERAL (SELECT (extract(epoch FROM t.ts) * 1000)::int8 AS t, t.value AS v, t.ts FROM telemetry t"
        f"  WHERE t.device_id = s.d AND t.metric_id = s.m AND t.flag IN {store.VALID_SQL}"
        f"  AND t.ts >= {store.ms_sql('b.b')} ORDER BY t.ts LIMIT 1) n ON true"
        # An interval whose buckets still wait for the rollup job is not yet credited to the later
        # reading's day: moving it now would leave that day negative. The rollup job marks the
        # days dirty when it has written them, and the interval is apportioned then.
        " WHERE NOT EXISTS (SELECT 1 FROM telemetry_touched q WHERE q.device_id = s.d AND q.metric_id = s.m"
        "  AND q.bucket >= time_bucket('15 minutes', p.ts) AND q.bucket <= n.ts)"
        " AND NOT EXISTS (SELECT 1 FROM rollup_claimed q WHERE q.device_id = s.d AND q.metric_id = s.m"
        "  AND q.bucket >= time_bucket('15 minutes', p.ts) AND q.bucket <= n.ts)",
        {"d": devs, "m": mets, "b": bounds},
    ).fetchall()
    dev = np.asarray([r[0] for r in found], dtype=np.int64)
    met = np.asarray([r[1] for r in found], dtype=np.int64)
    t0 = np.asarray([r[2] for r in found], dtype=np.int64)
    t1 = np.asarray([r[4] for r in found], dtype=np.int64)
    n = len(found)
    # each interval as its own two-reading series: its consumption by the rollups' rule
    pair = np.repeat(np.arange(n, dtype=np.int64), 2)
    r = Readings.of(pair, np.column_stack([t0, t1]).ravel(), np.asarray([(a[3], a[5]) for a in found]).ravel())
    devices = store.devices(conn, device_ids=dev)
    params = series_params(arrays.unique(store.pack(dev, met)), devices, default_interval_s=DEFAULT_INTERVAL_S)
    idx = params.index(store.pack(dev, met))[pair] if n else np.zeros(0, np.int64)
    d = counter_deltas(
        r,
        register_max=params.register_max[idx],
        register_step=params.register_step[idx],
        max_rate_per_s=params.max_rate_per_s[idx],
    )
    ent = np.asarray([devices[int(i)].enterprise_id for i in dev.tolist()], dtype=np.int64)
    values = np.asarray([(a[3], a[5]) for a in found], dtype=np.float64).reshape(-1, 2)
    return _split_at_changes(conn, Gaps(dev, ent, met, t0, t1, d.delta[1::2], raw_from_ms, t1), values)


def _split_at_changes(conn: store.Conn, gaps: Gaps, values: np.ndarray) -> Gaps:
    """Each interval across a recorded meter change as its two parts, the old register's over
    (reading before, change] and the new one's over (change, reading after], both held where the
    rollups put them (``energy.swaps``: at the first reading after): shared by time, the old part
    stays in the days before the change. A change the readings do not fit keeps the counter rule's
    figure, as in the rollups. ``values``: each interval's two readings."""
    if not gaps.t0.size:
        return gaps
    sw = swaps.of_devices(
        conn, devices=arrays.unique(gaps.device).tolist(), start_ms=int(gaps.t0.min()), end_ms=int(gaps.t1.max()) + 1
    )
    series = store.pack(gaps.device, gaps.metric)
    keep = np.ones(gaps.t0.size, dtype=bool)
    rows: list[int] = []
    parts: list[tuple[int, int, float]] = []
    for j in range(len(sw)):  # a loop over recorded changes (a handful), never over intervals
        at = int(sw.at_ms[j])
        hit = np.flatnonzero(keep & (series == sw.series[j]) & (gaps.t0 < at) & (gaps.t1 >= at))
        if not hit.size:
            continue
        i = int(hit[0])
        old, new = float(sw.old_final[j]) - values[i, 0], values[i, 1] - float(sw.new_initial[j])
        if old < 0 or new < 0:
            continue
        keep[i] = False
        rows.append(i)
        parts.append((int(gaps.t0[i]), at, old))
        if gaps.t1[i] > at:
            rows.append(i)
            parts.append((at, int(gaps.t1[i]), new))
    if not rows:
        return gaps
    idx = np.concatenate([np.flatnonzero(keep), np.asarray(rows, dtype=np.int64)])
    extra = np.asarray(parts, dtype=np.float64).reshape(-1, 3)
    return Gaps(
        gaps.device[idx],
        gaps.enterprise[idx],
        gaps.metric[idx],
        np.concatenate([gaps.t0[keep], extra[:, 0].astype(np.int64)]),
        np.concatenate([gaps.t1[keep], extra[:, 1].astype(np.int64)]),
        np.concatenate([gaps.delta[keep], extra[:, 2]]),
        gaps.raw_from_ms,
        gaps.held[idx],
    )


def _next_start(d: date, park: Park) -> int:
    return local_day_start(d + timedelta(days=1), park.timezone)


def gap_days(gaps: Gaps, park: Park) -> set[date]:
    """Every local day an interval touches: all of them change when it is apportioned."""
    out: set[date] = set()
    for a, b in zip(gaps.t0.tolist(), gaps.t1.tolist(), strict=True):
        d, last = local_date(a, zone(park.timezone)), local_date(b, zone(park.timezone))
        while d <= last:
            out.add(d)
            d += timedelta(days=1)
    return out


def fresh_moves(gaps: Gaps, *, park: Park, days: list[date]) -> dict[tuple[int, int, date], float]:
    """Per (device, metric, day) of ``days``: what linear apportionment of the gaps moves."""
    out: dict[tuple[int, int, date], float] = defaultdict(float)
    if gaps.t0.size == 0:
        return out
    span = sorted(gap_days(gaps, park) | set(days))
    every = [span[0] + timedelta(days=i) for i in range((span[-1] - span[0]).days + 1)]
    bounds = np.asarray([local_day_start(d, park.timezone) for d in every] + [_next_start(every[-1], park)])
    m = apportion.moves(gaps.t0, gaps.t1, gaps.delta, bounds, held=gaps.held)
    wanted = set(days)  # the caller extends days over every gap, so nothing of a gap is left out
    for i, k, amount in zip(m.interval.tolist(), m.day.tolist(), m.amount.tolist(), strict=True):
        if every[k] in wanted:
            out[(int(gaps.device[i]), int(gaps.metric[i]), every[k])] += amount
    return out


def store_moves(conn: store.Conn, *, park: Park, days: list[date], moves: dict[tuple[int, int, date], float]) -> None:
    """Replace the stored moves of the park's counters on ``days``."""
    conn.execute(
        "DELETE FROM consumption_moves c USING devices d WHERE d.device_id = c.device_id"
        " AND d.enterprise_id = ANY(%s) AND c.day = ANY(%s)",
        (list(park.enterprises), days),
    )
    keep = [(d, m, day, a) for (d, m, day), a in moves.items() if a != 0.0]
    if keep:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO consumption_moves (device_id, metric_id, day, amount) VALUES (%s, %s, %s, %s)", keep
            )


def apply_moves(
    conn: store.Conn, *, park: Park, days: list[date], rows: dict[tuple[int | None, date], dict[str, Any]]
) -> None:
    """Add the stored moves of ``days`` to the carrier columns (steam also to its heat)."""
    for ent, device, metric_id, day, amount, enthalpy in conn.execute(
        "SELECT d.enterprise_id, c.device_id, c.metric_id, c.day, c.amount, d.attributes->'steam_enthalpy_kj_kg'"
        " FROM consumption_moves c JOIN devices d USING (device_id)"
        f" WHERE d.enterprise_id = ANY(%s) AND c.day = ANY(%s) AND {COUNTED}",
        (list(park.enterprises), days),
    ).fetchall():
        row = rows.get((ent, day))
        carrier = BY_ID[metric_id].carrier if metric_id in BY_ID else None
        if row is None or carrier not in CARRIER_COLUMN:
            continue
        row[CARRIER_COLUMN[carrier]] += amount
        if carrier == "steam":
            row["steam_heat_gj"] += meter_heat_gj(device, amount, enthalpy)
