"""Emission statistics of outlets from hourly means, the way HJ 75-2017 judges them.

Compliance and emitted mass are figures of *hours*, not of single readings:

- an hourly mean counts when its readings cover :data:`VALID_HOUR_MINUTES` of the hour (HJ 75-2017:
  at least 45 valid minutes in the hour; verify the clause), see :func:`covered_minutes`;
- a stack's hourly mean is corrected to the outlet's reference O2 with the hour's mean O2 (or
  taken from the instrument's own corrected -Zs series), and is not evaluable above the O2
  ceiling (source not firing), see :mod:`smartpark.limits`;
- an hour whose corrected mean is above the outlet's limit is an exceedance hour: 60 exceedance
  minutes, so a bucket never counts more minutes than it has;
- hourly mass = hourly mean measured concentration × hourly mean flow × 1 h (HJ 75-2017 hourly
  emission; standards.md 3). An hour the source was running without a valid mean is substituted
  per HJ 75-2017's table for invalid periods (维护期间和其他异常导致的数据无效时段; table number and
  wording to verify): with a capture rate of at least 90 %, a gap of at most 24 h takes the mean
  of the valid hours before and after it, a longer gap the maximum of the 720 valid hours before
  it; below 90 % the maximum of the 2160 valid hours before it. Hours flagged F (source stopped)
  emit nothing; wastewater loads are summed over valid hours only (HJ 75 does not cover them).

The pure functions take hourly arrays; :func:`daily_figures` reads the rollups and returns the
indicator columns per (enterprise, local day).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from aggregation import conversions as cv
from aggregation.calendar import local_day_start
from smartpark import limits
from smartpark.catalogue import BY_CODE, HJ212_FLAGS
from smartpark.series_key import device_of
from smartpark.timebase import datetime_from_ms
from storage import raw_tiers
from storage.coldfs import ColdStore

F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
H = 3_600_000
VALID_HOUR_MINUTES = 45.0  # of 60 (HJ 75-2017; verify)
DEFAULT_SPACING_S = 60.0  # a lone reading of a device that declares no interval_s stands for a minute
SHORT_GAP_HOURS = 24
CAPTURE_RATE_FLOOR = 0.90
HISTORY_HOURS = (720, 2160)  # HJ 75-2017: max of the previous 720 / 2160 valid hours
FLAG_STOPPED = HJ212_FLAGS["F"]

# How an hour's mass was obtained.
MEASURED, STOPPED, BRIDGED, MAX_720, MAX_2160, PROVISIONAL, NO_HISTORY, PENDING = range(8)

# concentration metric -> (indicator column, the instrument's O2-corrected (-Zs) metric)
STACK_LOADS = {
    "stack.so2_mgm3": ("so2_kg", "stack.so2_zs_mgm3"),
    "stack.nox_mgm3": ("nox_kg", "stack.nox_zs_mgm3"),
    "stack.dust_mgm3": ("dust_kg", "stack.dust_zs_mgm3"),
}
WATER_LOADS = {"ww.cod_mgl": "cod_kg", "ww.nh3n_mgl": "nh3n_kg"}
COLUMNS = ("so2_kg", "nox_kg", "dust_kg", "cod_kg", "nh3n_kg", "exceedance_minutes")


def covered_minutes(count: int, first_ms: int, last_ms: int, interval_s: float | None) -> float:
    """Minutes of an hour its readings stand for: from the first to the last reading plus one
    spacing (the declared ``interval_s``, else the spacing observed in the hour), at most 60.
    A CEMS sending every 30 s or every 5 minutes covers its hour; one that stopped at :20 does
    not; a lone reading stands for its declared interval (3600 s for an hourly-data logger)."""
    if count <= 0:
        return 0.0
    if interval_s is not None:
        spacing_ms = interval_s * 1000.0
    elif count >= 2:
        spacing_ms = (last_ms - first_ms) / (count - 1)
    else:
        spacing_ms = DEFAULT_SPACING_S * 1000.0
    return min(60.0, (last_ms - first_ms + spacing_ms) / 60_000.0)


def exceeding_hours(corrected: F64, limit: float) -> Bool:
    """Hours whose (O2-corrected) mean is above the limit; NaN hours are not judged."""
    c = np.asarray(corrected, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(c) & (c > limit)


def substitute(mass: F64, stopped: Bool) -> tuple[F64, npt.NDArray[np.int8]]:
    """Hourly masses with invalid hours substituted (see the module docstring).

    ``mass`` is NaN where the source ran without a valid hourly mean; ``stopped`` marks hours
    the source did not run. Returns the filled masses and how each was obtained. A short gap
    that ends in a stop takes the valid hour before it (PROVISIONAL: there is no hour after
    it to bridge to). A gap still open at the end of what is known is left at 0 (PENDING: the
    data may yet arrive, and whether the source ran is unknown), as is a gap with no valid hour
    before it (NO_HISTORY)."""
    m = np.asarray(mass, dtype=np.float64)
    stop = np.asarray(stopped, dtype=bool)
    n = m.size
    out = np.where(np.isfinite(m) & ~stop, m, 0.0)
    how = np.full(n, MEASURED, dtype=np.int8)
    how[stop] = STOPPED
    valid = np.isfinite(m) & ~stop
    invalid = ~np.isfinite(m) & ~stop
    if not invalid.any():
        return out, how
    edges = np.diff(np.concatenate([[0], invalid.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    valid_idx = np.flatnonzero(valid)
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        before = valid_idx[valid_idx < a]
        if before.size == 0 or b == n:
            how[a:b] = NO_HISTORY if before.size == 0 else PENDING
            continue
        window = slice(max(int(valid_idx[0]), b - HISTORY_HOURS[1]), b)  # from the first valid hour
        running = int(valid[window].sum() + invalid[window].sum())
        capture = valid[window].sum() / running if running else 0.0
        if capture < CAPTURE_RATE_FLOOR:
            value, code = float(m[before[-HISTORY_HOURS[1] :]].max()), MAX_2160
        elif b - a > SHORT_GAP_HOURS:
            value, code = float(m[before[-HISTORY_HOURS[0] :]].max()), MAX_720
        elif b < n and valid[b]:
            value, code = (float(m[before[-1]]) + float(m[b])) / 2, BRIDGED
        else:  # the gap runs into a stop: the hour before it
            value, code = float(m[before[-1]]), PROVISIONAL
        out[a:b] = value
        how[a:b] = code
    return out, how


@dataclass(frozen=True, slots=True)
class Outlet:
    device_id: int
    enterprise_id: int
    kind: str
    limits: limits.OutletLimits


def outlet_figures(outlet: Outlet, hourly: Mapping[str, F64], stopped: Bool) -> tuple[dict[str, F64], Bool]:
    """Per hour: mass (kg) per indicator column, and whether any pollutant exceeded its limit."""
    n = stopped.size
    exceeded = np.zeros(n, dtype=bool)
    masses: dict[str, F64] = {}
    lim = outlet.limits
    if outlet.kind == limits.STACK_KIND:
        flow = hourly.get("stack.flow_m3h")
        o2 = hourly.get("stack.o2_pct", np.full(n, np.nan))
        for code, (column, zs) in STACK_LOADS.items():
            conc = hourly.get(code)
            corrected = hourly.get(zs) if zs else None
            if conc is not None and lim.o2_ref_pct is not None:
                mine = limits.o2_corrected(conc, o2, lim.o2_ref_pct, lim.o2_ceiling_pct)
                corrected = mine if corrected is None else np.where(np.isfinite(corrected), corrected, mine)
            limit = lim.threshold(code)
            if corrected is not None and np.isfinite(limit):
                exceeded |= exceeding_hours(corrected, limit)
            if conc is not None and flow is not None:
                filled, _ = substitute(cv.stack_mass_kg(conc, flow, 1.0), stopped)
                masses[column] = filled
    elif outlet.kind == limits.WASTEWATER_KIND:
        flow = hourly.get("ww.flow_m3h")
        for code, column in WATER_LOADS.items():
            conc = hourly.get(code)
            if conc is None:
                continue
            limit = lim.threshold(code)
            if np.isfinite(limit):
                exceeded |= exceeding_hours(conc, limit)
            if flow is not None:
                load = cv.wastewater_load_kg(conc, flow, 1.0)
                masses[column] = np.where(np.isfinite(load) & ~stopped, load, 0.0)
    return masses, exceeded


EMISSION_METRICS = tuple(
    BY_CODE[c].id
    for c in (
        *STACK_LOADS,
        *(zs for _, zs in STACK_LOADS.values()),
        "stack.o2_pct",
        "stack.flow_m3h",
        *WATER_LOADS,
        "ww.flow_m3h",
    )
    if c in BY_CODE
)
CODE_OF = {BY_CODE[c].id: c for c in BY_CODE}


def _interval_s(raw: Any) -> float | None:
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return v if 0 < v <= 86_400 else None


def _has_gap(series: Mapping[str, F64], in_days: Bool) -> bool:
    """Whether some hour of the days lacks a valid mean of a stack pollutant it reports, or of flow."""
    return any(bool((~np.isfinite(series[c]) & in_days).any()) for c in (*STACK_LOADS, "stack.flow_m3h") if c in series)


def _read(
    conn: Any,
    ids: list[int],
    read_lo: int,
    read_hi: int,
    lo: int,
    declared: Mapping[int, float | None],
    hourly: dict[int, dict[str, F64]],
    stopped: dict[int, Bool],
    cold: ColdStore | None = None,
) -> None:
    """Valid hourly means and stopped (F) hours of the outlets in [read_lo, read_hi), into the
    arrays of hours counted from ``lo`` (``stopped`` makes an outlet's arrays of the right size);
    with a ``cold`` tier, the stopped hours of periods moved there too."""
    for dev, met, bucket_ms, mean, count, first_ms, last_ms in conn.execute(
        "SELECT device_id, metric_id, (extract(epoch FROM bucket) * 1000)::int8, mean, count,"
        " (extract(epoch FROM first_ts) * 1000)::int8, (extract(epoch FROM last_ts) * 1000)::int8 FROM rollup_1h"
        " WHERE device_id = ANY(%(ids)s) AND metric_id = ANY(%(mets)s)"
        " AND bucket >= %(lo)s::timestamptz AND bucket < %(hi)s::timestamptz",
        {"ids": ids, "mets": list(EMISSION_METRICS), "lo": datetime_from_ms(read_lo), "hi": datetime_from_ms(read_hi)},
    ).fetchall():
        if mean is None or covered_minutes(count, first_ms, last_ms, declared[dev]) < VALID_HOUR_MINUTES:
            continue
        series = hourly[dev].setdefault(CODE_OF[met], np.full(stopped[dev].size, np.nan))
        series[(bucket_ms - lo) // H] = mean
    for dev, bucket_ms in conn.execute(
        "SELECT DISTINCT device_id, (extract(epoch FROM date_trunc('hour', ts)) * 1000)::int8 FROM telemetry"
        " WHERE device_id = ANY(%(ids)s) AND ts >= %(lo)s::timestamptz AND ts < %(hi)s::timestamptz"
        f" AND (flag & 63) = {FLAG_STOPPED}",  # a literal: the partial index of migration 0631 applies
        {"ids": ids, "lo": datetime_from_ms(read_lo), "hi": datetime_from_ms(read_hi)},
    ).fetchall():
        stopped[dev][(bucket_ms - lo) // H] = True
    if cold is not None:
        got = raw_tiers.points(
            conn, cold, start_ms=read_lo, end_ms=read_hi, devices=ids, flags=(FLAG_STOPPED, FLAG_STOPPED | 64)
        )
        for dev, hour in zip(device_of(got.series).tolist(), ((got.ts - lo) // H).tolist(), strict=True):
            stopped[dev][hour] = True


def _next(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)


def daily_figures(
    conn: Any, *, enterprises: Iterable[int], days: list[date], timezone: str, cold: ColdStore | None = None
) -> dict[tuple[int, date], dict[str, float]]:
    """Emitted mass and exceedance minutes per (enterprise, local day) of the park's outlets."""
    ents = list(enterprises)
    out: dict[tuple[int, date], dict[str, float]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0.0))
    if not ents or not days:
        return out
    day_starts = sorted({local_day_start(d, timezone) for d in days})
    lo = (day_starts[0] // H - HISTORY_HOURS[1]) * H
    hi = (max(local_day_start(d, timezone) for d in days) // H + 48) * H
    n = (hi - lo) // H
    declared: dict[int, float | None] = {}
    outlets = []
    for d, e, kind, attrs in conn.execute(
        "SELECT device_id, enterprise_id, kind, attributes FROM devices"
        " WHERE enterprise_id = ANY(%s) AND kind = ANY(%s) ORDER BY device_id",
        (ents, [limits.STACK_KIND, limits.WASTEWATER_KIND]),
    ).fetchall():
        outlets.append(Outlet(d, e, kind, limits.outlet_limits(kind, attrs)))
        declared[d] = _interval_s((attrs or {}).get("interval_s"))
    if not outlets:
        return out
    hourly: dict[int, dict[str, F64]] = defaultdict(dict)
    stopped: dict[int, Bool] = defaultdict(lambda: np.zeros(n, dtype=bool))
    # The days and a day around them first; the three months before only for the stacks with a
    # gap in those days to substitute (most days have none: the history is not read at all).
    near = (day_starts[0] // H - SHORT_GAP_HOURS) * H
    ids = [o.device_id for o in outlets]
    _read(conn, ids, near, hi, lo, declared, hourly, stopped, cold)
    in_days = np.zeros(n, dtype=bool)
    in_days[(near - lo) // H + SHORT_GAP_HOURS :] = True
    gaps = [o.device_id for o in outlets if o.kind == limits.STACK_KIND and _has_gap(hourly[o.device_id], in_days)]
    if gaps:
        _read(conn, gaps, lo, near, lo, declared, hourly, stopped, cold)
    hour_start = lo + np.arange(n, dtype=np.int64) * H
    spans = [
        (day, (hour_start >= local_day_start(day, timezone)) & (hour_start < local_day_start(_next(day), timezone)))
        for day in days
    ]
    for o in outlets:
        masses, exceeded = outlet_figures(o, hourly.get(o.device_id, {}), stopped[o.device_id])
        for day, sel in spans:
            row = out[(o.enterprise_id, day)]
            for column, kg in masses.items():
                row[column] += float(kg[sel].sum())
            row["exceedance_minutes"] += 60.0 * float(exceeded[sel].sum())
    return out
