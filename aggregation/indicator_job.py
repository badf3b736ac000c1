"""Daily and monthly indicators per enterprise and park, from rollups and economic reports.

Consumes ``aggregation_dirty_days`` (queued by the rollup job and the economic import) and
recomputes those local days, then the months holding them, in one transaction per batch. Each
park's days are computed in a savepoint of their own, and if that fails each day alone: a
(park, day) that fails is recorded with its error (``aggregation.failures``), queued again and
left alone until its retry time, and every other park and day proceeds. Park
rows (enterprise_id NULL) are the sums of the park's enterprises; every enterprise gets a row
for every recomputed day, zeros included, so "no consumption" and "not computed" differ.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from aggregation import apportion, failures, indicator_daily, indicator_monthly, store
from aggregation.consumption_moves import find_gaps, gap_days
from aggregation.indicator_store import Park, load_park
from storage.coldfs import ColdStore

log = logging.getLogger(__name__)


@dataclass(slots=True)
class IndicatorStats:
    claimed: int = 0
    days: int = 0
    daily_rows: int = 0
    monthly_rows: int = 0
    failed_days: int = 0

    def add(self, other: IndicatorStats) -> None:
        self.days += other.days
        self.daily_rows += other.daily_rows
        self.monthly_rows += other.monthly_rows
        self.failed_days += other.failed_days


def refresh_indicators(
    conn: store.Conn,
    *,
    batch: int = 400,
    gap_apportionment: apportion.Apportionment = "linear",
    raw_from_ms: int = 0,
    cold: ColdStore | None = None,
) -> IndicatorStats:
    """One batch of dirty (park, day) in one transaction, each park (and if need be each day) in
    a savepoint of its own. With linear gap apportionment the days an interval across midnight
    spans are recomputed together, so the shares always add up; ``raw_from_ms``: where raw
    telemetry begins (retention), before which stored moves stand; ``cold``: the cold tier, read
    for the raw data of days moved there (the emissions' stopped hours)."""
    stats = IndicatorStats()
    with conn.transaction():
        dirty = store.claim_dirty_days(conn, limit=batch)
        stats.claimed = sum(len(d) for d in dirty.values())
        for park_id, days in dirty.items():
            park = load_park(conn, park_id)
            if park is None:
                log.warning("indicator queue names park %d, which does not exist; skipped", park_id)
                continue
            linear = gap_apportionment == "linear"
            stats.add(_isolated(conn, park, days, linear=linear, raw_from_ms=raw_from_ms, cold=cold))
    return stats


def _compute(
    conn: store.Conn, park: Park, days: list[date], *, linear: bool, raw_from_ms: int, cold: ColdStore | None
) -> IndicatorStats:
    done = IndicatorStats()
    gaps = None
    if linear:
        gaps = find_gaps(conn, park=park, days=days, raw_from_ms=raw_from_ms)
        more = gap_days(gaps, park) - set(days)
        if more:
            days = sorted({*days, *more})
            gaps = find_gaps(conn, park=park, days=days, raw_from_ms=raw_from_ms)
    done.days = len(days)
    done.daily_rows = indicator_daily.daily(conn, park=park, days=days, gaps=gaps, linear=linear, cold=cold)
    done.monthly_rows = indicator_monthly.monthly(conn, park=park, months=sorted({d.replace(day=1) for d in days}))
    return done


def _isolated(
    conn: store.Conn, park: Park, days: list[date], *, linear: bool, raw_from_ms: int, cold: ColdStore | None = None
) -> IndicatorStats:
    """The days of a park together; if that fails, each day alone, so that a failing day holds
    back nothing but itself."""
    try:
        with conn.transaction():
            done = _compute(conn, park, days, linear=linear, raw_from_ms=raw_from_ms, cold=cold)
            failures.clear(conn, job="indicators", park_id=park.park_id, days=days)
        return done
    except Exception as exc:  # any error of this park's input: isolate it, never the others
        if len(days) > 1:
            done = IndicatorStats()
            for d in days:
                done.add(_isolated(conn, park, [d], linear=linear, raw_from_ms=raw_from_ms, cold=cold))
            return done
        attempts = failures.record(
            conn, job="indicators", park_id=park.park_id, day=days[0], error=failures.describe(exc)
        )
        store.mark_dirty_park_days(conn, park_days=[(park.park_id, days[0])])
        log.error(
            "indicators of park %d on %s failed (%d in a row; retried in %.0f s): %s",
            park.park_id,
            days[0],
            attempts,
            failures.retry_delay_s(attempts),
            failures.describe(exc),
        )
        return IndicatorStats(failed_days=1)


def drain(
    conn: store.Conn,
    *,
    batch: int = 400,
    max_batches: int = 100,
    gap_apportionment: apportion.Apportionment = "linear",
    raw_from_ms: int = 0,
    cold: ColdStore | None = None,
) -> list[IndicatorStats]:
    done = []
    for _ in range(max_batches):
        s = refresh_indicators(
            conn, batch=batch, gap_apportionment=gap_apportionment, raw_from_ms=raw_from_ms, cold=cold
        )
        if s.claimed == 0:
            break
        done.append(s)
    return done
