"""Completeness read for the API: series, valid counts (rollup_1d) and flagged counts (telemetry),
turned into arrays for aggregation.completeness.

Valid readings are the daily rollups' counts (they hold the readings that count:
``catalogue.COUNTED_FLAGS``); the other flagged readings are not in the rollups and are counted
from telemetry over the range, one grouped scan. Received is the two together: a reading the
rollups count is never counted again as flagged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psycopg

from aggregation.completeness import expected_readings, grouped
from api.auth import Principal
from api.queries.scope import Where, tenant
from smartpark.catalogue import COUNTED_FLAGS
from smartpark.series_key import pack, unpack
from smartpark.timebase import ms_from_datetime
from storage import raw_tiers
from storage.coldfs import ColdStore

BY = ("device", "enterprise", "park", "category")
PERIODS = ("day", "month", "range")

_SERIES = """
SELECT d.device_id, dm.metric_id, d.enterprise_id, e.park_id, m.category, p.timezone, d.created_at,
       CASE WHEN d.attributes->>'interval_s' ~ '^[0-9]+(\\.[0-9]+)?$'
            THEN (d.attributes->>'interval_s')::float8 END AS interval_s
FROM devices d
JOIN device_metrics dm USING (device_id)
JOIN metrics m USING (metric_id)
JOIN enterprises e USING (enterprise_id)
JOIN parks p USING (park_id)
WHERE {where}
ORDER BY d.device_id, dm.metric_id
"""
_VALID = """
SELECT r.device_id, r.metric_id, (r.bucket AT TIME ZONE p.timezone)::date, r.count
FROM rollup_1d r
JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)
WHERE {where} AND r.bucket >= %(lo)s AND r.bucket < %(hi)s
  AND (r.bucket AT TIME ZONE p.timezone)::date BETWEEN %(first)s AND %(last)s
"""
_FLAGGED = """
SELECT t.device_id, t.metric_id, (t.ts AT TIME ZONE p.timezone)::date, count(*)
FROM telemetry t
JOIN devices d USING (device_id) JOIN enterprises e USING (enterprise_id) JOIN parks p USING (park_id)
WHERE {where} AND t.flag <> ALL(%(counted)s) AND t.ts >= %(lo)s AND t.ts < %(hi)s
  AND (t.ts AT TIME ZONE p.timezone)::date BETWEEN %(first)s AND %(last)s
GROUP BY 1, 2, 3
"""


def _fill(
    cells: np.ndarray[Any, Any], rows: Sequence[Any], index: dict[tuple[int, int], int], first: date, days: int
) -> None:
    for row in rows:  # dict rows (the API's connections) or tuples
        device_id, metric_id, day, count = row.values() if isinstance(row, dict) else row
        i = index.get((device_id, metric_id))
        d = (day - first).days
        if i is not None and 0 <= d < days:
            cells[i, d] += count


def _cold_flagged(
    conn: psycopg.Connection[Any],
    cold: ColdStore,
    series: Sequence[Any],
    lo: datetime,
    hi: datetime,
    first: date,
    last: date,
) -> list[tuple[int, int, date, int]]:
    """(device, metric, local day, flagged readings) of the series' cold readings in [lo, hi): the
    flags the rollups do not count."""
    keys = pack([r["device_id"] for r in series], [r["metric_id"] for r in series])
    got = raw_tiers.points(
        conn,
        cold,
        start_ms=ms_from_datetime(lo),
        end_ms=ms_from_datetime(hi),
        series=keys,
        flags=[f for f in range(1, 256) if f not in COUNTED_FLAGS],
    )
    if not len(got):
        return []
    zone_of = dict(zip(keys.tolist(), (r["timezone"] for r in series), strict=True))
    days = [first + timedelta(days=k) for k in range(-1, (last - first).days + 2)]
    tz = np.asarray([zone_of[int(k)] for k in got.series.tolist()], dtype=object)
    day_index = np.zeros(len(got), np.int64)
    for z in set(tz.tolist()):
        starts = [ms_from_datetime(datetime.combine(d, time(), ZoneInfo(z))) for d in days]
        mine = tz == z
        day_index[mine] = np.searchsorted(starts, got.ts[mine], side="right") - 1
    inside = (day_index >= 0) & (day_index < len(days))
    keyed, counts = np.unique(np.stack([got.series[inside], day_index[inside]]), axis=1, return_counts=True)
    dev, met = unpack(keyed[0])
    return [
        (int(d), int(m), days[int(k)], int(n))
        for d, m, k, n in zip(dev.tolist(), met.tolist(), keyed[1].tolist(), counts.tolist(), strict=True)
    ]


def completeness(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    first: date,
    last: date,
    by: str,
    period: str,
    default_interval_s: float,
    park_id: int | None = None,
    enterprise_id: int | None = None,
    now: datetime | None = None,
    cold: ColdStore | None = None,
) -> list[dict[str, Any]]:
    if by not in BY or period not in PERIODS:
        raise ValueError(f"by {by!r} must be one of {BY}, period {period!r} one of {PERIODS}")
    now = now or datetime.now(ZoneInfo("UTC"))
    w = tenant(Where(), p, park="e.park_id", enterprise="d.enterprise_id", category="m.category")
    w.when(park_id, "e.park_id = %(pid)s", "pid").when(enterprise_id, "d.enterprise_id = %(eid)s", "eid")
    series = conn.execute(_SERIES.format(where=w.sql), w.params).fetchall()
    if not series:
        return []
    days = (last - first).days + 1
    index = {(r["device_id"], r["metric_id"]): i for i, r in enumerate(series)}
    # UTC range around the local days of every time zone (±14 h), for chunk exclusion
    lo = datetime.combine(first, time(), ZoneInfo("UTC")) - timedelta(days=1)
    hi = datetime.combine(last, time(), ZoneInfo("UTC")) + timedelta(days=2)
    params = {**w.params, "lo": lo, "hi": hi, "first": first, "last": last, "counted": sorted(COUNTED_FLAGS)}
    valid = np.zeros((len(series), days))
    flagged = np.zeros((len(series), days))
    wm = tenant(Where(), p, park="e.park_id", enterprise="d.enterprise_id")
    wm.when(park_id, "e.park_id = %(pid)s", "pid").when(enterprise_id, "d.enterprise_id = %(eid)s", "eid")
    params.update(wm.params)
    _fill(valid, conn.execute(_VALID.format(where=wm.sql), params).fetchall(), index, first, days)
    _fill(flagged, conn.execute(_FLAGGED.format(where=wm.sql), params).fetchall(), index, first, days)
    if cold is not None:  # days moved to the cold tier: their flagged readings are there
        _fill(flagged, _cold_flagged(conn, cold, series, lo, hi, first, last), index, first, days)

    # seconds of each (series, day) that have passed since the device was registered
    zones = sorted({r["timezone"] for r in series})
    day_list = [first + timedelta(days=k) for k in range(days)]
    starts = {z: np.array([datetime.combine(d, time(), ZoneInfo(z)).timestamp() for d in day_list]) for z in zones}
    start = np.stack([starts[r["timezone"]] for r in series])
    end = np.stack([starts[r["timezone"]] + 86_400 for r in series])  # verify for zones with DST
    created = np.array([r["created_at"].timestamp() for r in series])[:, None]
    seconds = np.minimum(end, now.timestamp()) - np.maximum(start, created)
    interval = np.array([r["interval_s"] or default_interval_s for r in series], dtype=float)[:, None]
    expected = expected_readings(seconds, interval)
    received = valid + flagged

    group_of = {
        "device": lambda r: r["device_id"],
        "enterprise": lambda r: r["enterprise_id"],
        "park": lambda r: r["park_id"],
        "category": lambda r: r["category"],
    }[by]
    labels = sorted({group_of(r) for r in series})
    code = {g: k for k, g in enumerate(labels)}
    g = np.array([code[group_of(r)] for r in series], dtype=np.int64)[:, None]
    if period == "day":
        names = [d.isoformat() for d in day_list]
        pidx = np.arange(days, dtype=np.int64)[None, :]
    elif period == "month":
        names = sorted({d.strftime("%Y-%m") for d in day_list})
        month = {m: k for k, m in enumerate(names)}
        pidx = np.array([month[d.strftime("%Y-%m")] for d in day_list], dtype=np.int64)[None, :]
    else:
        names = [f"{first.isoformat()}/{last.isoformat()}"]
        pidx = np.zeros((1, days), dtype=np.int64)
    keys = (g * len(names) + pidx).ravel()
    uniq, r = grouped(keys, expected.ravel(), received.ravel(), valid.ravel())
    return [
        {by: labels[int(k) // len(names)], "period": names[int(k) % len(names)], **r.row(i)} for i, k in enumerate(uniq)
    ]
