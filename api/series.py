"""Planning a time-series request (pure): parse the pairs, pick the source, enforce the caps.

The rollups hold count, sum, min, max, first, last (and consumption for counters) per bucket, so
every aggregate of the API is one column or one ratio of the stored bucket; ``month`` re-buckets
the daily rollup by the park's calendar month and combines the parts exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from smartpark.catalogue import BY_CODE, Metric, MetricKind


class Interval(StrEnum):
    RAW = "raw"
    M15 = "15m"
    H1 = "1h"
    D1 = "1d"
    MONTH = "month"


class Aggregate(StrEnum):
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    COUNT = "count"
    FIRST = "first"
    LAST = "last"
    CONSUMPTION = "consumption"


BUCKET_SECONDS: dict[Interval, float] = {
    Interval.M15: 900,
    Interval.H1: 3600,
    Interval.D1: 86400,
    Interval.MONTH: 28 * 86400,  # lower bound: used only to estimate the point count
}


class SeriesError(ValueError):
    """A request the API refuses with 400; the message names the offending value."""


@dataclass(frozen=True, slots=True)
class Pair:
    device_id: int
    metric: Metric


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    pairs: tuple[Pair, ...]
    aggregates: tuple[Aggregate, ...]  # one per pair
    interval: Interval
    start: datetime
    end: datetime
    limit_per_series: int  # points; raw series are cut here and flagged truncated


def parse_pair(text: str) -> Pair:
    """``"<device_id>:<metric code>"``, e.g. ``"42:elec.power_kw"``."""
    device, sep, code = text.partition(":")
    if not sep or not (device.isascii() and device.isdigit()) or not 0 < int(device) < 2**31:
        raise SeriesError(f"series {text!r} is not '<device_id>:<metric code>'")
    metric = BY_CODE.get(code)
    if metric is None:
        raise SeriesError(f"unknown metric {code!r} in series {text!r}")
    return Pair(int(device), metric)


def default_aggregate(metric: Metric) -> Aggregate:
    if metric.kind is MetricKind.COUNTER:
        return Aggregate.CONSUMPTION
    if metric.kind is MetricKind.STATE:
        return Aggregate.MAX  # any alarm state in the bucket shows
    return Aggregate.AVG


def plan(
    pairs: list[Pair],
    *,
    start: datetime,
    end: datetime,
    interval: Interval,
    aggregates: list[Aggregate],
    max_points: int,
    max_series: int,
    max_raw_days: float,
    max_days: float,
) -> SeriesPlan:
    if not pairs:
        raise SeriesError("give at least one series=<device_id>:<metric code>")
    if len(pairs) > max_series:
        raise SeriesError(f"{len(pairs)} series requested; at most {max_series} per request")
    if len(set(pairs)) != len(pairs):
        raise SeriesError("the same series is requested twice")
    if start.tzinfo is None or end.tzinfo is None:
        raise SeriesError("from and to need a time zone (e.g. 2026-11-01T00:00:00+08:00 or Z)")
    if end <= start:
        raise SeriesError(f"to ({end.isoformat()}) must be after from ({start.isoformat()})")
    days = (end - start) / timedelta(days=1)
    limit_days = max_raw_days if interval is Interval.RAW else max_days
    if days > limit_days:
        raise SeriesError(f"range of {days:.1f} days exceeds {limit_days:g} days for interval {interval.value!r}")
    if len(aggregates) not in (0, 1, len(pairs)):
        raise SeriesError(f"give one aggregate, or one per series ({len(pairs)}), not {len(aggregates)}")
    aggs = tuple(
        aggregates[0] if len(aggregates) == 1 else aggregates[i] if aggregates else default_aggregate(p.metric)
        for i, p in enumerate(pairs)
    )
    for p, a in zip(pairs, aggs, strict=True):
        if a is Aggregate.CONSUMPTION and p.metric.kind is not MetricKind.COUNTER:
            raise SeriesError(f"aggregate 'consumption' needs a counter; {p.metric.code!r} is a {p.metric.kind.value}")
    per_series = max_points // len(pairs)
    if interval is not Interval.RAW:
        expected = math.ceil((end - start).total_seconds() / BUCKET_SECONDS[interval])
        if expected * len(pairs) > max_points:
            raise SeriesError(
                f"{len(pairs)} series x {expected} buckets of {interval.value} exceed the cap of"
                f" {max_points} points per response; use a coarser interval or a shorter range"
            )
    return SeriesPlan(tuple(pairs), aggs, interval, start, end, per_series)
