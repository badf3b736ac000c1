"""Gaps of a data logger's data by the completeness rule: owed readings per bucket."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hj212 import codes
from ingest.hj212.gaps import Gap, bucket_unit, find_gaps, history_cn

SH = ZoneInfo("Asia/Shanghai")


def at(h: int, m: int = 0, day: int = 26) -> datetime:
    return datetime(2026, 1, day, h, m, tzinfo=SH)


def test_the_history_command_is_the_stored_one_when_the_standard_has_one() -> None:
    assert history_cn(["2051"]) == "2051"
    assert history_cn(["2061", "2031"]) == "2061"  # the finest: the one that is telemetry
    assert history_cn(["2011", "2051"]) is None  # real-time is telemetry: no history command for it
    assert (bucket_unit(codes.CN_MINUTE), bucket_unit(codes.CN_DAILY)) == ("hour", "day")


def test_short_hours_merge_and_whole_hours_are_no_gap() -> None:
    received = {at(6).replace(tzinfo=None): 60, at(7).replace(tzinfo=None): 59, at(8).replace(tzinfo=None): 0}
    gaps = find_gaps(received, lo=at(6), hi=at(10), tz=SH, unit="hour", interval_s=60, max_range_s=6 * 3600)
    assert gaps == [Gap(at(7), at(10))]  # 07:00 owes 60 and has 59; 08:00 and 09:00 have none
    assert gaps[0].request_range(SH) == (datetime(2026, 1, 26, 7, 0), datetime(2026, 1, 26, 9, 59, 59))


def test_a_range_is_cut_at_the_limit() -> None:
    gaps = find_gaps({}, lo=at(0), hi=at(5), tz=SH, unit="hour", interval_s=60, max_range_s=2 * 3600)
    assert gaps == [Gap(at(0), at(2)), Gap(at(2), at(4)), Gap(at(4), at(5))]


def test_only_the_owed_part_of_a_bucket_counts() -> None:
    # registered at 06:30: the 06:00 hour owes 30 readings, and 30 are there
    received = {at(6).replace(tzinfo=None): 30}
    assert find_gaps(received, lo=at(6, 30), hi=at(7), tz=SH, unit="hour", interval_s=60, max_range_s=3600) == []
    # hourly data: an hour owes one reading (floor(3600 / 3600))
    hourly = {at(h).replace(tzinfo=None): 1 for h in (0, 1, 3)}
    assert find_gaps(hourly, lo=at(0), hi=at(4), tz=SH, unit="hour", interval_s=3600, max_range_s=3600) == [
        Gap(at(2), at(3))
    ]


def test_daily_data_is_judged_per_local_day() -> None:
    days = {(at(0, day=d)).replace(tzinfo=None): 1 for d in (24, 26)}
    gaps = find_gaps(days, lo=at(0, day=24), hi=at(0, day=27), tz=SH, unit="day", interval_s=86400, max_range_s=86400)
    assert gaps == [Gap(at(0, day=25), at(0, day=25) + timedelta(days=1))]
