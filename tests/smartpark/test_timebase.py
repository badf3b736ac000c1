"""Epoch ms between modules; the conversions at the edges. Figures worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from smartpark import timebase
from smartpark.db import binary_copy

# 1970-01-01 .. 2026-01-01: 56 years, 14 of them leap (1972 .. 2024): 20 454 days.
NEW_YEAR_2026_MS = 20_454 * 86_400_000


def test_the_copy_codecs_epoch_is_2000_01_01_utc() -> None:
    # 1970 .. 1999: 30 years, 7 leap (1972 .. 1996): 10 957 days.
    assert binary_copy.PG_EPOCH_MS == 10_957 * 86_400_000
    assert timebase.ms_from_datetime(datetime(2000, 1, 1, tzinfo=UTC)) == binary_copy.PG_EPOCH_MS


def test_aware_datetimes_become_epoch_ms_whatever_their_zone() -> None:
    shanghai_8am = datetime(2026, 1, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # UTC+8, no DST
    assert timebase.ms_from_datetime(shanghai_8am) == NEW_YEAR_2026_MS
    assert timebase.ms_from_datetime(datetime(2026, 1, 1, tzinfo=UTC)) == NEW_YEAR_2026_MS
    plus_one = datetime(2026, 1, 1, 1, 0, 0, 1500, tzinfo=timezone(timedelta(hours=1)))
    assert timebase.ms_from_datetime(plus_one) == NEW_YEAR_2026_MS + 1  # 1.5 ms floors to 1


def test_sub_millisecond_parts_floor_before_1970_too() -> None:
    just_before = datetime(1969, 12, 31, 23, 59, 59, 999_500, tzinfo=UTC)
    assert timebase.ms_from_datetime(just_before) == -1


def test_a_naive_datetime_is_refused_by_value() -> None:
    with pytest.raises(ValueError, match="2026-01-01T00:00:00"):
        timebase.ms_from_datetime(datetime(2026, 1, 1))


def test_epoch_ms_back_to_an_aware_utc_datetime() -> None:
    back = timebase.datetime_from_ms(NEW_YEAR_2026_MS + 250)
    assert back == datetime(2026, 1, 1, 0, 0, 0, 250_000, tzinfo=UTC)
    assert back.utcoffset() == timedelta(0)
    assert timebase.datetime_from_s(1.5) == datetime(1970, 1, 1, 0, 0, 1, 500_000, tzinfo=UTC)


def test_a_clock_reading_in_epoch_ms() -> None:
    assert timebase.now_ms(lambda: 1_767_225_600.2345) == NEW_YEAR_2026_MS + 234
