"""Time-of-use kWh and cost per meter, day and period from 15-minute rollups (the numpy core).

Each rollup bucket holds the consumption of the readings in it (each reading's increase since
the one before). A bucket lies in one period when the schedule's edges fall on quarter hours,
as Inner Mongolia's do; what a bucket boundary cannot split is the interval between the last
reading before an edge and the first after it, which the rollups credit wholly to the later
bucket. :func:`edge_moves` splits those intervals by time using the readings the rollups keep
(``last``/``last_ts`` of the bucket before, ``first``/``first_ts`` of the one after), so kWh per
period is exact at period and day edges and totals are unchanged.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from aggregation import apportion
from aggregation.calendar import local_day_start
from energy.tariffs import PERIODS, SCHEDULES, SLOTS

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
QUARTER_MS = 900_000
NP = len(PERIODS)


@dataclass(frozen=True, slots=True)
class Calendar:
    """The quarter-hour buckets of whole local days, with each bucket's day, month and period
    under each schedule."""

    start_ms: int
    days: tuple[date, ...]
    day_of_bucket: I64  # index into days
    month_of_day: I64  # 1-12
    period: dict[str, I64]  # schedule code -> period index of each bucket

    @property
    def buckets(self) -> int:
        return int(self.day_of_bucket.size)

    def groups(self, codes: tuple[str, ...]) -> I64:
        """day × NP + period of each bucket under each schedule: (schedules, buckets)."""
        return np.stack([self.day_of_bucket * NP + self.period[c] for c in codes])

    @classmethod
    def of(cls, first: date, last: date, timezone: str, schedules: tuple[str, ...]) -> Calendar:
        """Local days ``first`` .. ``last`` (included) in ``timezone``."""
        tz = ZoneInfo(timezone)
        days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
        starts = [local_day_start(d, tz) for d in days] + [local_day_start(last + timedelta(days=1), tz)]
        if any((b - a) % QUARTER_MS for a, b in itertools.pairwise(starts)):
            raise ValueError(f"time zone {timezone!r} does not keep days of whole quarter hours")
        sizes = (np.diff(np.asarray(starts, dtype=np.int64)) // QUARTER_MS).astype(np.int64)
        day_of_bucket = np.repeat(np.arange(len(days), dtype=np.int64), sizes)
        # quarter hour of the local day; a day lengthened by a clock change keeps its last period
        slot = np.minimum(np.arange(day_of_bucket.size) - np.repeat(np.cumsum(sizes) - sizes, sizes), SLOTS - 1)
        month = np.asarray([d.month for d in days], dtype=np.int64)
        period = {}
        for code in schedules:
            by_month = np.stack([SCHEDULES[code].months.get(m, np.zeros(SLOTS, np.int8)) for m in range(1, 13)])
            period[code] = by_month[month[day_of_bucket] - 1, slot].astype(np.int64)
        return cls(starts[0], days, day_of_bucket, month, period)


@dataclass(frozen=True, slots=True)
class Tou:
    """kWh and cost per (series, day, period); yuan."""

    kwh: F64  # (series, days, periods)
    cost: F64

    def per_period(self) -> tuple[F64, F64]:
        """Over the whole range: (series, period)."""
        return self.kwh.sum(axis=1), self.cost.sum(axis=1)


def group_of_rows(
    cal: Calendar, *, series: I64, bucket_ms: I64, schedule_of_series: I64, codes: tuple[str, ...]
) -> I64:
    """Per rollup row: day × NP + period under its series' schedule; -1 outside the calendar.
    One gather from a (schedule, bucket) table: the rows are many, the buckets few."""
    b = (np.asarray(bucket_ms, dtype=np.int64) - cal.start_ms) // QUARTER_MS
    table = cal.groups(codes).ravel()
    inside = None
    if b.size and (b.min() < 0 or b.max() >= cal.buckets):
        inside = (b >= 0) & (b < cal.buckets)
        b = np.where(inside, b, 0)
    if len(codes) > 1:
        b = np.asarray(schedule_of_series, dtype=np.int64)[series] * cal.buckets + b
    g = table[b]
    return g if inside is None else np.where(inside, g, -1)


def tou(
    cal: Calendar,
    *,
    series: I64,
    bucket_ms: I64,
    consumption: F64,
    n_series: int,
    prices: F64,
    schedule_of_series: I64,
    codes: tuple[str, ...],
    moves: tuple[I64, I64, F64] | None = None,
) -> Tou:
    """kWh and cost per (series, day, period) from rollup rows (``series`` 0..n_series-1).

    ``prices``: yuan/kWh per (series, month 1-12, period) (:meth:`Prices.period_prices` of each
    series' tariff, stacked); ``moves``: (series, group, kWh) from :func:`edge_moves`.
    """
    g = group_of_rows(cal, series=series, bucket_ms=bucket_ms, schedule_of_series=schedule_of_series, codes=codes)
    n_groups = len(cal.days) * NP
    weights = np.asarray(consumption, dtype=np.float64)
    key = np.asarray(series, dtype=np.int64) * n_groups
    key += g
    if g.size and g.min() < 0:  # rows outside the days: left out (rare; the reads keep to the range)
        ok = g >= 0
        key, weights = key[ok], weights[ok]
    flat = np.bincount(key, weights=weights, minlength=n_series * n_groups).astype(np.float64)
    if moves is not None:
        ms, mg, amount = moves
        flat += np.bincount(ms * n_groups + mg, weights=amount, minlength=flat.size)
    kwh = flat.reshape(n_series, len(cal.days), NP)
    price = prices[:, cal.month_of_day, :]  # (series, days, periods)
    return Tou(kwh, kwh * price)


def edge_moves(
    cal: Calendar,
    *,
    series: I64,
    bucket_ms: I64,
    first: F64,
    first_ts: I64,
    last: F64,
    last_ts: I64,
    schedule_of_series: I64,
    codes: tuple[str, ...],
    skip: I64 | None = None,
) -> tuple[I64, I64, F64]:
    """Moves that share each interval between a bucket's first reading and the reading before
    it (the last of the series' previous bucket) by time among the groups it spans, instead of
    all in the later bucket's. Rows sorted by (series, bucket). A drop (reset, rollover) is
    left where the rollups put it; so are the intervals ending at the rows ``skip`` (meter
    changes, which ``energy.changes`` splits)."""
    s = np.asarray(series, dtype=np.int64)
    b = (np.asarray(bucket_ms, dtype=np.int64) - cal.start_ms) // QUARTER_MS
    table = cal.groups(codes)  # (schedule, bucket)
    # buckets where a group begins (a period or a day) under any schedule; the interval before
    # a row can change group only there or across a gap, so only those rows are looked at
    begins = np.zeros(cal.buckets + 2, dtype=bool)
    begins[1 : cal.buckets] = (table[:, 1:] != table[:, :-1]).any(axis=0)
    # -1 and buckets: outside, never a beginning (clipped only when some row is outside)
    at = b if not b.size or (b.min() >= 0 and b.max() < cal.buckets) else np.clip(b, -1, cal.buckets)
    cand = np.flatnonzero((s[1:] == s[:-1]) & (begins[at[1:]] | (np.diff(b) > 1))) + 1
    cand = cand[(b[cand - 1] >= 0) & (b[cand] < cal.buckets)]
    if skip is not None and skip.size:
        cand = cand[~np.isin(cand, skip)]
    t0, t1 = np.asarray(last_ts)[cand - 1], np.asarray(first_ts)[cand]
    delta = np.asarray(first)[cand] - np.asarray(last)[cand - 1]
    ok = (delta > 0) & (t1 > t0)
    cand, t0, t1, delta = cand[ok], t0[ok], t1[ok], delta[ok]
    sched = np.asarray(schedule_of_series, dtype=np.int64)[s[cand]] if len(codes) > 1 else np.zeros(cand.size, np.int64)
    b0, b1 = b[cand - 1], b[cand]
    # an interval from one bucket into the next (nearly all): the part before the boundary goes
    # back to the earlier bucket's group, in closed form
    near = b1 - b0 == 1
    edge = cal.start_ms + QUARTER_MS * b1[near]
    back = delta[near] * (edge - t0[near]) / (t1[near] - t0[near])
    out_s = [s[cand[near]], s[cand[near]]]
    out_g = [table[sched[near], b0[near]], table[sched[near], b1[near]]]
    out_a = [back, -back]
    far = ~near
    if far.any():  # across a gap: shared by time among every bucket it spans
        bounds = cal.start_ms + QUARTER_MS * np.arange(cal.buckets + 1, dtype=np.int64)
        m = apportion.moves(t0[far], t1[far], delta[far], bounds)
        out_s.append(s[cand[far]][m.interval])
        out_g.append(table[sched[far][m.interval], m.day])
        out_a.append(m.amount)
    return np.concatenate(out_s), np.concatenate(out_g), np.concatenate(out_a)
