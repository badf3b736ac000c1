"""Calendar buckets in the park's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from aggregation.calendar import calendar_start_end, fixed_start, month_range


def ms(*args: int, tz: object = UTC) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp() * 1000)  # type: ignore[arg-type, misc]


def test_month_boundary_in_asia_shanghai_is_16_utc_of_the_last_day() -> None:
    # 2026-01-31 15:59:59 UTC is still January in Shanghai; 16:00:00 UTC is February 1st.
    ts = np.asarray([ms(2026, 1, 31, 15, 59, 59), ms(2026, 1, 31, 16, 0, 0)], dtype=np.int64)
    start, end = calendar_start_end(ts, "month", "Asia/Shanghai")
    assert start.tolist() == [ms(2025, 12, 31, 16), ms(2026, 1, 31, 16)]
    assert end.tolist() == [ms(2026, 1, 31, 16), ms(2026, 2, 28, 16)]


def test_days_and_years_local() -> None:
    ts = np.asarray([ms(2025, 12, 31, 16, 30)], dtype=np.int64)  # 2026-01-01 00:30 local
    d0, d1 = calendar_start_end(ts, "day", "Asia/Shanghai")
    y0, y1 = calendar_start_end(ts, "year", "Asia/Shanghai")
    assert (d0[0], d1[0]) == (ms(2025, 12, 31, 16), ms(2026, 1, 1, 16))
    assert (y0[0], y1[0]) == (ms(2025, 12, 31, 16), ms(2026, 12, 31, 16))


def test_month_range_and_lengths_over_a_year() -> None:
    starts = [month_range(2024, m, "Asia/Shanghai")[0] for m in range(1, 13)]
    days = [
        (month_range(2024, m, "Asia/Shanghai")[1] - s) // 86_400_000 for m, s in zip(range(1, 13), starts, strict=True)
    ]
    assert days == [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def test_dst_zone_day_lengths() -> None:
    # a zone with daylight saving: the local day of the spring change has 23 hours
    ts = np.asarray([ms(2026, 3, 8, 12)], dtype=np.int64)
    s, e = calendar_start_end(ts, "day", "America/New_York")
    assert e[0] - s[0] == 23 * 3_600_000


def test_fixed_start_floors_negative_and_positive() -> None:
    assert fixed_start(np.asarray([-1, 0, 899_999, 900_000]), 900_000).tolist() == [-900_000, 0, 0, 900_000]


def test_unknown_zone_and_unit_are_named() -> None:
    with pytest.raises(ValueError, match="Mars/Base"):
        calendar_start_end(np.asarray([0]), "day", "Mars/Base")
    with pytest.raises(ValueError, match="'week'"):
        calendar_start_end(np.asarray([0]), "week", "UTC")  # type: ignore[arg-type]
