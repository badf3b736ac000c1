"""Rollups per (series, bucket): arrays in, arrays out, one sorted pass with ``ufunc.reduceat``.

Readings are sorted once by (series, ts); a group is a run of equal (series, bucket) and every
statistic is one ``reduceat`` (or one fancy index) over the run starts. No Python loop touches a
reading. A series is any int64 id (the job uses smartpark.series_key's packing of device and
metric).

Partial rollups of disjoint parts of a stream combine exactly (:func:`merge`): counts and sums add,
extremes take the extreme, first/last take the earliest/latest instant. That is what lets late data
be folded in and 15-minute rollups be re-bucketed into hours and days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Readings:
    """Readings sorted by (series, ts), one per (series, ts): duplicates keep the last given."""

    series: I64
    ts: I64  # epoch ms
    value: F64

    def __len__(self) -> int:
        return int(self.ts.size)

    @classmethod
    def of(cls, series: npt.ArrayLike, ts: npt.ArrayLike, value: npt.ArrayLike) -> Readings:
        s = np.asarray(series, dtype=np.int64)
        t = np.asarray(ts, dtype=np.int64)
        v = np.asarray(value, dtype=np.float64)
        if not (s.shape == t.shape == v.shape and s.ndim == 1):
            raise ValueError(f"series, ts, value must be 1-d and equal length: {s.shape}, {t.shape}, {v.shape}")
        bad = ~np.isfinite(v)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"non-finite value {float(v[i])!r} in series {s[i]} at ts {t[i]} (index {i})")
        if not is_sorted(s, t):
            order = _sort_order(s, t)
            s, t, v = s[order], t[order], v[order]
        if s.size > 1:
            dup = (s[1:] == s[:-1]) & (t[1:] == t[:-1])
            if dup.any():
                keep = np.append(~dup, True)  # last of each run of equal (series, ts)
                s, t, v = s[keep], t[keep], v[keep]
        return cls(s, t, v)

    def take(self, mask: Bool) -> Readings:
        return Readings(self.series[mask], self.ts[mask], self.value[mask])


def _sort_order(s: I64, t: I64) -> I64:
    """Stable order by (series, ts). When series already come grouped in order (as the job reads
    them) and only some readings are late, one stable sort of a packed key is nearly linear
    (timsort on runs); otherwise a full lexsort."""
    span = int(t.max()) - int(t.min()) if t.size else 0
    if (s[1:] >= s[:-1]).all() and span < 1 << 41:
        dense = np.concatenate([[0], np.cumsum(s[1:] != s[:-1])])
        if int(dense[-1]) < 1 << 21:
            return np.argsort((dense << 41) | (t - t.min()), kind="stable")
    return np.lexsort((t, s))  # stable: among duplicates the given order survives


def is_sorted(s: I64, t: I64) -> bool:
    """Whether (series, ts) pairs are in order."""
    if s.size < 2:
        return True
    ds = s[1:] - s[:-1]
    if (ds < 0).any():
        return False
    return not ((ds == 0) & (t[1:] < t[:-1])).any()


# Counter delta status per reading.
FIRST = 0  # no earlier reading of the series in the input: no delta
NORMAL = 1
RESET = 2  # register went down and was not near its maximum: counted from zero
ROLLOVER = 3  # register wrapped past its declared maximum
IMPLAUSIBLE = 4  # faster than the declared maximum rate: flagged, not summed


@dataclass(frozen=True, slots=True)
class CounterDeltas:
    delta: F64  # consumption attributed to each reading (since the previous one), >= 0
    status: npt.NDArray[np.int8]


def counter_deltas(
    r: Readings,
    *,
    register_max: npt.ArrayLike = np.nan,
    register_step: npt.ArrayLike = np.nan,
    max_rate_per_s: npt.ArrayLike = np.nan,
    rollover_band: float = 0.1,
) -> CounterDeltas:
    """Consumption between successive readings of each meter register.

    ``register_max``, ``register_step`` and ``max_rate_per_s`` are scalars or per-reading arrays
    (NaN: undeclared). ``register_max`` is the largest value the register shows and
    ``register_step`` its resolution (undeclared: :func:`register_step_of` the maximum): the
    register counts modulo max + step, so 99999999.99 -> 0.00 is one step, 0.01. A drop is a
    rollover when the previous reading lay in the top ``rollover_band`` of a declared register
    maximum (consumption = max + step - previous + current), otherwise a reset (consumption =
    current). A delta faster than ``max_rate_per_s`` is implausible: flagged, counted as zero.
    The delta belongs to the later reading, so it lands in that reading's bucket and bucket totals
    add up to the meter's total across any bucket edge.
    """
    n = len(r)
    delta = np.zeros(n, dtype=np.float64)
    status = np.full(n, NORMAL, dtype=np.int8)
    if n < 2:
        return CounterDeltas(delta, np.full(n, FIRST, dtype=np.int8))
    status[0] = FIRST
    # Whole-array work is one subtraction; drops, jumps and series starts are rare, so they are
    # handled on their indices only (fewer temporaries of the full length).
    step = delta[1:]
    np.subtract(r.value[1:], r.value[:-1], out=step)
    first = np.flatnonzero(r.series[1:] != r.series[:-1]) + 1  # first reading of each series
    down = np.flatnonzero(step < 0) + 1
    down = down[~np.isin(down, first)]
    if down.size:
        prev, cur = r.value[down - 1], r.value[down]
        rmax = np.broadcast_to(np.asarray(register_max, dtype=np.float64), (n,))[down]
        rstep = np.broadcast_to(np.asarray(register_step, dtype=np.float64), (n,))[down]
        rstep = np.where(np.isfinite(rstep), rstep, register_step_of(rmax))
        wrap = np.isfinite(rmax) & (prev >= rmax * (1.0 - rollover_band)) & (cur <= rmax)
        # (max - prev) + step + cur, summed in that order: the small terms first keep 20.00 exact
        delta[down] = np.where(wrap, (rmax - prev) + rstep + cur, cur)
        status[down] = np.where(wrap, ROLLOVER, RESET)
    rate = np.asarray(max_rate_per_s, dtype=np.float64)
    if np.isfinite(rate).any():
        limit = np.diff(r.ts) * 0.001
        limit *= np.broadcast_to(rate, (n,))[1:]
        jump = np.flatnonzero(step > limit) + 1  # NaN limits compare False: undeclared
        delta[jump] = 0.0
        status[jump] = IMPLAUSIBLE
    delta[first] = 0.0
    status[first] = FIRST
    return CounterDeltas(delta, status)


def register_step_of(register_max: npt.ArrayLike) -> F64:
    """A register's resolution from the decimals of its declared maximum: 99999999.99 -> 0.01,
    99999 -> 1 (NaN stays NaN). Declare ``register_step`` where the maximum does not show it."""
    rmax = np.atleast_1d(np.asarray(register_max, dtype=np.float64))
    out = np.full(rmax.shape, np.nan)
    for i, v in enumerate(rmax.tolist()):  # per declared register (a few), never per reading
        if math.isfinite(v):
            exponent = Decimal(repr(v)).normalize().as_tuple().exponent
            out[i] = 10.0 ** min(int(exponent), 0) if isinstance(exponent, int) else np.nan
    return out


def counter_deltas_of(r: Readings, counter: Bool, **kw: Any) -> CounterDeltas:
    """:func:`counter_deltas` for the readings of counter series only (``counter`` per reading,
    constant within a series); other readings get no delta. Gauges go down half the time, so
    leaving them out keeps the rare-case paths rare."""
    if counter.all():
        return counter_deltas(r, **kw)
    sub = counter_deltas(r.take(counter), **{k: (v[counter] if np.ndim(v) else v) for k, v in kw.items()})
    delta = np.zeros(len(r))
    status = np.full(len(r), FIRST, dtype=np.int8)
    delta[counter] = sub.delta
    status[counter] = sub.status
    return CounterDeltas(delta, status)


@dataclass(frozen=True, slots=True)
class Rollup:
    """One row per (series, bucket), sorted by (series, bucket)."""

    series: I64
    bucket: I64  # start, epoch ms
    end: I64  # end (exclusive), epoch ms
    count: I64
    sum: F64
    min: F64
    max: F64
    first: F64
    first_ts: I64
    last: F64
    last_ts: I64
    interval_ms: F64  # expected spacing of readings (for coverage); NaN: unknown
    consumption: F64  # counters: sum of deltas (0 for gauges)
    resets: I64  # counter resets and rollovers
    jumps: I64  # implausible counter jumps (flagged, not summed)

    def __len__(self) -> int:
        return int(self.series.size)

    @property
    def mean(self) -> F64:
        return self.sum / self.count

    @property
    def coverage(self) -> F64:
        """Share of expected readings present, in [0, 1]."""
        return np.minimum(self.count * self.interval_ms / (self.end - self.bucket), 1.0)

    def take(self, index: npt.ArrayLike) -> Rollup:
        return Rollup(*(getattr(self, f.name)[index] for f in fields(self)))


def _run_starts(*keys: npt.NDArray[np.int64]) -> I64:
    n = keys[0].size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    return np.flatnonzero(change)


def _count_in_groups(index: I64, starts: I64) -> I64:
    """How many of the (sorted) reading indices fall in each group starting at ``starts``."""
    return np.bincount(np.searchsorted(starts, index, side="right") - 1, minlength=starts.size).astype(np.int64)


def rollup(
    r: Readings,
    bucket: I64,
    end: I64 | int,
    *,
    interval_ms: npt.ArrayLike = np.nan,
    deltas: CounterDeltas | None = None,
) -> Rollup:
    """Roll readings up per (series, bucket).

    ``bucket`` is the bucket start of each reading (non-decreasing within a series, as any
    bucketing of sorted instants is); ``end`` the bucket end (per reading, or a fixed width added
    to the start when an int). ``interval_ms`` is a scalar or a per-reading array.
    Limits are judged on hourly means, not here (aggregation.emissions).
    """
    n = len(r)
    bucket = np.asarray(bucket, dtype=np.int64)
    if bucket.shape != (n,):
        raise ValueError(f"need one bucket per reading: {bucket.shape} for {n} readings")
    ends = bucket + end if isinstance(end, int) else np.asarray(end, dtype=np.int64)
    starts = _run_starts(r.series, bucket)
    if n == 0:
        z, f = np.zeros(0, np.int64), np.zeros(0, np.float64)
        return Rollup(z, z, z, z, f, f, f, f, z, f, z, f, f, z, z)
    last = np.append(starts[1:], n) - 1
    count = np.diff(np.append(starts, n))
    interval = np.broadcast_to(np.asarray(interval_ms, dtype=np.float64), (n,))[starts]
    if deltas is None:
        consumption = np.zeros(starts.size)
        resets = jumps = np.zeros(starts.size, dtype=np.int64)
    else:
        consumption = np.add.reduceat(deltas.delta, starts)
        odd = np.flatnonzero(deltas.status > NORMAL)  # rare: count them per group sparsely
        st = deltas.status[odd]
        resets = _count_in_groups(odd[(st == RESET) | (st == ROLLOVER)], starts)
        jumps = _count_in_groups(odd[st == IMPLAUSIBLE], starts)
    return Rollup(
        series=r.series[starts],
        bucket=bucket[starts],
        end=ends[starts],
        count=count.astype(np.int64),
        sum=np.add.reduceat(r.value, starts),
        min=np.minimum.reduceat(r.value, starts),
        max=np.maximum.reduceat(r.value, starts),
        first=r.value[starts],
        first_ts=r.ts[starts],
        last=r.value[last],
        last_ts=r.ts[last],
        interval_ms=interval,
        consumption=consumption,
        resets=resets,
        jumps=jumps,
    )


def concat(parts: list[Rollup]) -> Rollup:
    return Rollup(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Rollup)))


def merge(parts: list[Rollup]) -> Rollup:
    """Combine rollups of disjoint parts of one stream into rollups of the whole."""
    return regroup(concat(parts))


def rebucket(r: Rollup, bucket: I64, end: I64) -> Rollup:
    """Roll finer rollups up into coarser buckets (``bucket``/``end`` per input row)."""
    return regroup(Rollup(**{**{f.name: getattr(r, f.name) for f in fields(r)}, "bucket": bucket, "end": end}))


def regroup(r: Rollup) -> Rollup:
    """One row per (series, bucket) of rows that may repeat keys, in any order."""
    if len(r) == 0:
        return r
    order = np.lexsort((r.first_ts, r.bucket, r.series))
    r = r.take(order)
    starts = _run_starts(r.series, r.bucket)
    # first/last: the rows holding the earliest first_ts / latest last_ts within each group.
    first_i = starts  # sorted by first_ts within the group
    n = len(r)
    group = np.repeat(np.arange(starts.size), np.diff(np.append(starts, n)))
    by_last = np.lexsort((r.last_ts, group))
    last_i = by_last[np.append(starts[1:], n) - 1]

    def add(a: Any) -> Any:
        return np.add.reduceat(a, starts)

    return Rollup(
        series=r.series[starts],
        bucket=r.bucket[starts],
        end=r.end[starts],
        count=add(r.count),
        sum=add(r.sum),
        min=np.minimum.reduceat(r.min, starts),
        max=np.maximum.reduceat(r.max, starts),
        first=r.first[first_i],
        first_ts=r.first_ts[first_i],
        last=r.last[last_i],
        last_ts=r.last_ts[last_i],
        interval_ms=r.interval_ms[starts],
        consumption=add(r.consumption),
        resets=add(r.resets),
        jumps=add(r.jumps),
    )
