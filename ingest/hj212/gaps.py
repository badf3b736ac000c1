"""Where a data logger's data has gaps, judged by the completeness rule (pure).

The same rule the regulators' transmission rate uses (:mod:`aggregation.completeness`): a
device owes one reading per declared interval; a bucket (an hour of minute or hourly data, a day
of daily data, in the park's local time) that received fewer distinct reading times than it owes
is a gap. Consecutive short buckets make one range, cut at ``max_range_s`` so that one request
asks for a bounded amount of history.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

import numpy as np

from aggregation.completeness import expected_readings
from hj212 import codes
from ingest.hj212.mapping import telemetry_cn

# the reading spacing of each history command when the device declares none (interval_s)
NATURAL_INTERVAL_S = {codes.CN_HOURLY: 3600.0, codes.CN_DAILY: 86400.0}


def history_cn(store_cns: Collection[str]) -> str | None:
    """The history command that fills the device's telemetry: its stored command, when the
    standard has a history extraction for it (real-time 2011 has none)."""
    cn = telemetry_cn(store_cns)
    return cn if cn in (codes.CN_MINUTE, codes.CN_HOURLY, codes.CN_DAILY) else None


def bucket_unit(cn: str) -> str:
    """``date_trunc`` unit the gaps of a command's data are judged in."""
    return "day" if cn == codes.CN_DAILY else "hour"


@dataclass(frozen=True, slots=True)
class Gap:
    begin: datetime  # aware, first instant of the first short bucket
    end: datetime  # aware, end of the last short bucket (excluded)

    def request_range(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """BeginTime and EndTime of the request: local, naive, both included (second resolution)."""
        last = self.end - timedelta(seconds=1)
        return self.begin.astimezone(tz).replace(tzinfo=None), last.astimezone(tz).replace(tzinfo=None)


def _starts(lo: datetime, hi: datetime, unit: str, tz: tzinfo) -> list[datetime]:
    local = lo.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        local = local.replace(hour=0)
    step = timedelta(days=1) if unit == "day" else timedelta(hours=1)
    naive = local.replace(tzinfo=None)
    out = []
    while (aware := naive.replace(tzinfo=tz)) < hi:
        out.append(aware)
        naive += step
    return out


def find_gaps(
    received: Mapping[datetime, int],
    *,
    lo: datetime,
    hi: datetime,
    tz: tzinfo,
    unit: str,
    interval_s: float,
    max_range_s: float,
) -> list[Gap]:
    """Short buckets between ``lo`` and ``hi`` (aware), merged and cut at ``max_range_s``.

    ``received`` maps a bucket's local start (naive) to the distinct reading times stored in it.
    Only the part of a bucket inside [lo, hi) is owed, so the device's registration and the
    readings still on their way never count as gaps.
    """
    if lo.tzinfo is None or hi.tzinfo is None:
        raise ValueError("lo and hi must be aware datetimes")
    starts = _starts(lo, hi, unit, tz)
    if not starts:
        return []
    step = timedelta(days=1) if unit == "day" else timedelta(hours=1)
    begin_s = np.array([max(s, lo).timestamp() for s in starts])
    end_s = np.array([min(s + step, hi).timestamp() for s in starts])
    owed = expected_readings(end_s - begin_s, np.full(len(starts), float(interval_s)))
    got = np.array([received.get(s.replace(tzinfo=None), 0) for s in starts], dtype=float)
    short = (owed > 0) & (got < owed)
    gaps: list[Gap] = []
    for i in np.flatnonzero(short):
        b, e = max(starts[i], lo), min(starts[i] + step, hi)
        last = gaps[-1] if gaps else None
        if last is not None and last.end == b and (e - last.begin).total_seconds() <= max_range_s:
            gaps[-1] = Gap(last.begin, e)
        else:
            gaps.append(Gap(b, e))
    return gaps
