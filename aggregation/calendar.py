"""Buckets in time: fixed widths (15 min, 1 h) and calendar units (day, month, year) of a park.

A park reports in its own time zone (Asia/Shanghai by default), so a "month" is the local
calendar month, not a UTC one. All instants are int64 epoch milliseconds. Calendar edges are
found with a Python loop over the few edges in range and assigned with one ``searchsorted``
over the readings, so the cost per reading stays vectorised.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt

from smartpark.timebase import datetime_from_ms, ms_from_datetime

Unit = Literal["day", "month", "year"]
UNITS: tuple[Unit, ...] = ("day", "month", "year")

MINUTE_MS = 60_000
WIDTH_MS: dict[str, int] = {"15m": 15 * MINUTE_MS, "1h": 60 * MINUTE_MS}
DEFAULT_TIMEZONE = "Asia/Shanghai"

I64 = npt.NDArray[np.int64]


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def fixed_start(ts_ms: I64, width_ms: int) -> I64:
    """Start of the fixed-width (UTC-aligned) bucket holding each instant."""
    if width_ms <= 0:
        raise ValueError(f"bucket width must be positive, got {width_ms}")
    return np.asarray(ts_ms, dtype=np.int64) // width_ms * width_ms  # floors negatives too


def _next_start(d: date, unit: Unit) -> date:
    if unit == "day":
        return d + timedelta(days=1)
    if unit == "month":
        return date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return date(d.year + 1, 1, 1)


def _floor(d: date, unit: Unit) -> date:
    if unit == "day":
        return d
    if unit == "month":
        return d.replace(day=1)
    return d.replace(month=1, day=1)


def _local_midnight_ms(d: date, tz: ZoneInfo) -> int:
    return ms_from_datetime(datetime(d.year, d.month, d.day, tzinfo=tz))


def local_date(ts_ms: int, tz: ZoneInfo) -> date:
    return datetime_from_ms(ts_ms).astimezone(tz).date()


def calendar_edges(lo_ms: int, hi_ms: int, unit: Unit, tz: ZoneInfo) -> I64:
    """Local-calendar bucket edges (epoch ms) covering ``[lo_ms, hi_ms]``, last edge > hi_ms."""
    if unit not in UNITS:
        raise ValueError(f"unknown calendar unit {unit!r}; expected one of {UNITS}")
    d = _floor(local_date(lo_ms, tz), unit)
    edges = [_local_midnight_ms(d, tz)]
    while edges[-1] <= hi_ms:
        d = _next_start(d, unit)
        edges.append(_local_midnight_ms(d, tz))
    return np.asarray(edges, dtype=np.int64)


def calendar_start_end(ts_ms: I64, unit: Unit, tz: ZoneInfo | str) -> tuple[I64, I64]:
    """Start and end (epoch ms) of the local calendar bucket holding each instant."""
    tz = zone(tz) if isinstance(tz, str) else tz
    ts = np.asarray(ts_ms, dtype=np.int64)
    if ts.size == 0:
        return ts.copy(), ts.copy()
    edges = calendar_edges(int(ts.min()), int(ts.max()), unit, tz)
    i = np.searchsorted(edges, ts, side="right") - 1
    return edges[i], edges[i + 1]


def local_day_start(d: date, tz: ZoneInfo | str) -> int:
    return _local_midnight_ms(d, zone(tz) if isinstance(tz, str) else tz)


def month_range(year: int, month: int, tz: ZoneInfo | str) -> tuple[int, int]:
    """[start, end) of a local calendar month in epoch ms."""
    z = zone(tz) if isinstance(tz, str) else tz
    first = date(year, month, 1)
    return _local_midnight_ms(first, z), _local_midnight_ms(_next_start(first, "month"), z)
