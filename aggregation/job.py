"""The incremental rollup job: recompute exactly the buckets that new or late readings touched.

One transaction per batch: take touched 15-minute buckets off the queue, read their readings
(for counters also the reading before, which the first delta needs, and the next bucket with
data, whose first delta depends on this bucket's last reading), roll up with the numpy core,
upsert 15-minute rows, then re-bucket the stored 15-minute rows of the affected hours and local
days into hourly and daily rows, and queue the affected (park, day) for the indicator job.
Every row is recomputed from raw data, so a crash (rolled back, queue intact) or a rerun never
counts anything twice.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from aggregation import arrays, failures, store
from aggregation.calendar import WIDTH_MS, calendar_start_end, fixed_start
from aggregation.rollup import Readings, Rollup, concat, counter_deltas_of, rebucket, rollup
from aggregation.series_params import DEFAULT_INTERVAL_S, SeriesParams, series_params
from aggregation.windows import Windows
from energy import swaps as meter_changes
from smartpark.db import touched
from smartpark.series_key import device_of
from storage.coldfs import ColdStore

log = logging.getLogger(__name__)

Q = WIDTH_MS["15m"]
H = WIDTH_MS["1h"]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def runs(series: I64, start: I64, end: I64) -> tuple[I64, I64, I64]:
    """Merge sorted unique (series, [start, end)) into maximal contiguous windows."""
    if series.size == 0:
        return series, start, end
    brk = np.ones(series.size, bool)
    brk[1:] = (series[1:] != series[:-1]) | (start[1:] != end[:-1])
    first = np.flatnonzero(brk)
    last = np.append(first[1:], series.size) - 1
    return series[first], start[first], end[last]


def _unique_pairs(series: I64, bucket: I64) -> tuple[I64, I64]:
    order = np.lexsort((bucket, series))
    s, b = series[order], bucket[order]
    keep = np.ones(s.size, bool)
    keep[1:] = (s[1:] != s[:-1]) | (b[1:] != b[:-1])
    return s[keep], b[keep]


def _unique_keys(series: I64, bucket: I64) -> tuple[I64, I64]:
    """Distinct (series, 15-minute bucket), sorted: one sort of packed keys."""
    k = arrays.unique(_key(series, bucket))
    return k >> 23, (k & ((1 << 23) - 1)) * Q


def _key(series: I64, bucket: I64) -> I64:
    if series.size and int(series.max()) >= 1 << 40:
        raise ValueError(f"device id {int(device_of(series.max()))} too large for the job's bucket keys")
    return (series << 23) | (bucket // Q)


def _local_days(bucket: I64, idx: I64, params: SeriesParams) -> tuple[I64, I64]:
    """Local-day [start, end) of each bucket in its series' park time zone."""
    start, end = np.empty_like(bucket), np.empty_like(bucket)
    tz_of = np.asarray(params.timezone, dtype=object)[idx]
    for tz in set(params.timezone):
        sel = tz_of == tz
        if sel.any():
            start[sel], end[sel] = calendar_start_end(bucket[sel], "day", tz)
    return start, end


@dataclass(slots=True)
class RollupStats:
    touched: int = 0
    readings: int = 0
    rows_15m: int = 0
    rows_1h: int = 0
    rows_1d: int = 0
    unknown_series: int = 0
    failed_parks: int = 0
    phases: dict[str, float] = field(default_factory=dict)

    def add(self, other: RollupStats) -> None:
        for k in ("readings", "rows_15m", "rows_1h", "rows_1d"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        for k, v in other.phases.items():
            self.phases[k] = self.phases.get(k, 0.0) + v


def compute_15m(
    r: Readings, params: SeriesParams, swaps: meter_changes.Swaps = meter_changes.NONE
) -> tuple[Rollup, npt.NDArray[np.bool_]]:
    """15-minute rollups of readings, with counter consumption for counter series; across a
    recorded meter change (``swaps``) the consumption is the change's exact parts, not a reset."""
    idx = params.index(r.series)
    deltas = counter_deltas_of(
        r,
        params.counter[idx],
        register_max=params.register_max[idx],
        register_step=params.register_step[idx],
        max_rate_per_s=params.max_rate_per_s[idx],
    )
    deltas = meter_changes.exact_deltas(r, deltas, swaps)
    out = rollup(r, fixed_start(r.ts, Q), Q, interval_ms=params.interval_ms[idx], deltas=deltas)
    return out, params.counter[params.index(out.series)]


PART_READINGS = 100_000  # a big batch is processed in parts of about this many readings...
MAX_PARTS = 16  # ...but in no more parts than this (each part costs a dozen round trips)


def parts(ws: I64, lo: I64, hi: I64, interval_ms: F64, *, size: int = PART_READINGS) -> list[slice]:
    """Slices of the windows (sorted by series) holding about ``size`` expected readings each,
    cut only between devices, so that a part's range scan of devices holds only its own series."""
    est = np.cumsum((hi - lo) / interval_ms)
    n = int(min(MAX_PARTS, est[-1] // size)) if est.size else 0
    dev = device_of(ws)
    between = np.flatnonzero(dev[1:] != dev[:-1]) + 1  # first window of each next device
    if n < 2 or between.size == 0:
        return [slice(0, ws.size)]
    want = np.searchsorted(est, est[-1] * np.arange(1, n) / n)
    cuts = arrays.unique(between[np.searchsorted(between, want).clip(0, between.size - 1)])
    edges = [0, *cuts.tolist(), ws.size]
    return [slice(a, b) for a, b in itertools.pairwise(edges) if b > a]


@dataclass(frozen=True, slots=True)
class PartInput:
    """What a part reads: its readings and the buckets it must write (the touched ones, plus
    for counters the next bucket with data, whose first delta depends on this part's last reading)."""

    readings: Readings
    t_series: I64
    t_bucket: I64
    seconds: float
    swaps: meter_changes.Swaps = meter_changes.NONE  # recorded meter changes of the part's counters


def read_part(
    conn: store.Conn,
    params: SeriesParams,
    series: I64,
    bucket: I64,
    ws: I64,
    lo: I64,
    hi: I64,
    *,
    clock: Any,
    cold: ColdStore | None = None,
) -> PartInput:
    """Read one part: the touched (``series``, ``bucket``) and their merged windows ``ws``/``lo``/``hi``.
    Only reads, so it may run on another connection than the job's transaction."""
    t0 = clock()
    wc = params.counter[params.index(ws)]
    # counters: read from the previous reading and through the next bucket with data
    prev, nxt = store.neighbours(conn, series=ws[wc], lo=lo[wc], hi=hi[wc], cold=cold)
    read_lo, read_hi = lo.copy(), hi.copy()
    read_lo[wc] = np.where(prev >= 0, prev, lo[wc])
    nb = fixed_start(nxt, Q)
    read_hi[wc] = np.where(nxt >= 0, nb + Q, hi[wc])
    extra = nxt >= 0
    rs, rt, rv = store.readings(conn, windows=Windows.merged(ws, read_lo, read_hi), cold=cold)
    swaps = meter_changes.NONE
    if wc.any():
        swaps = meter_changes.of_devices(
            conn,
            devices=arrays.unique(device_of(ws[wc])).tolist(),
            start_ms=int(read_lo[wc].min()),
            end_ms=int(read_hi[wc].max()) + 1,
        )
    return PartInput(
        Readings.of(rs, rt, rv),
        np.concatenate([series, ws[wc][extra]]),
        np.concatenate([bucket, nb[extra]]),
        clock() - t0,
        swaps,
    )


def refresh_rollups(
    conn: store.Conn,
    *,
    reader: store.Conn | None = None,
    batch: int = 20_000,
    default_interval_s: float = DEFAULT_INTERVAL_S,
    part_readings: int = PART_READINGS,
    clock: Any = None,
    isolate: bool = False,
    pass_: RollupPass | None = None,
    cold: ColdStore | None = None,
) -> RollupStats:
    """One batch of the queue in one transaction; returns what it did (touched == 0: queue empty
    or another process is running the job).

    With ``isolate`` (after a batch failed) each park of the batch is rolled up in a savepoint of
    its own: a park that fails has its buckets held back until its retry time and its failure
    recorded (``aggregation.failures``), and every other park proceeds.

    A big batch runs in parts of whole devices. With a ``reader`` (a second connection, in
    autocommit mode) a thread reads the next parts' readings there while this one computes and
    writes: PostgreSQL reads on one core while it writes on the other. Readings are immutable
    and a late one queues its bucket again, so reading them outside the job's transaction is safe.

    With ``pass_`` the batch stages keys from where the pass's previous batch stopped, and stages
    none once the pass has reached the queue's end (:func:`drain`). With a ``cold`` tier, buckets
    of periods moved there (a late correction, a recomputed day) read their readings from it too.
    """
    import time

    now = clock or time.perf_counter
    stats = RollupStats()
    t0 = now()
    with conn.transaction():
        if not store.lock_job(conn):
            log.info("another rollup job holds the lock; skipping this run")
            return stats
        touched.release_due(conn)
        if pass_ is None:
            touched.stage(conn, limit=batch)
        elif not pass_.at_end:
            staged = touched.stage(conn, limit=batch, after=pass_.after)
            pass_.after = staged.last or pass_.after
            pass_.at_end = staged.at_end
    # committed: ingest's inserts of the staged keys no longer wait for this batch
    with conn.transaction():
        if not store.lock_job(conn):
            log.info("another rollup job holds the lock; skipping this run")
            return stats
        series, bucket = touched.claim(conn, limit=batch)
        stats.touched = int(series.size)
        if series.size == 0:
            return stats
        useries = arrays.unique(series)
        devs = store.devices(conn, device_ids=store.unpack(useries)[0])
        params = series_params(useries, devs, default_interval_s=default_interval_s)
        known = params.known[params.index(series)]
        stats.unknown_series = int(arrays.unique(series[~known]).size)
        if stats.unknown_series:
            log.warning("%d touched series name no registered device/metric; skipped", stats.unknown_series)
        series, bucket = series[known], bucket[known]
        if series.size == 0:
            return stats  # only unknown series: their queue entries go, nothing to compute
        stats.phases["claim"] = now() - t0
        for k in ("read", "wait", "compute", "coarser", "write"):
            stats.phases[k] = 0.0
        if not isolate:
            series, bucket = _unique_keys(series, bucket)
            _roll(conn, reader, params, series, bucket, stats, part_readings=part_readings, clock=now, cold=cold)
            failures.clear_rollups(conn, park_ids=np.unique(params.park_id).tolist())
            return stats
        park_of = params.park_id[params.index(series)]
        for park_id in np.unique(park_of).tolist():
            mine = park_of == park_id
            try:
                with conn.transaction():
                    done = RollupStats(phases=dict.fromkeys(stats.phases, 0.0))
                    s, b = _unique_keys(series[mine], bucket[mine])
                    _roll(conn, None, params, s, b, done, part_readings=part_readings, clock=now, cold=cold)
                    failures.clear_rollups(conn, park_ids=[park_id])
                stats.add(done)
            except Exception as exc:  # this park's input: hold it back, never the others
                _held(conn, park_id, series[mine], bucket[mine], exc)
                stats.failed_parks += 1
    return stats


def _held(conn: store.Conn, park_id: int, series: I64, bucket: I64, exc: Exception) -> None:
    day = datetime.fromtimestamp(int(bucket.min()) / 1000, UTC).date()
    attempts = failures.record(conn, job="rollups", park_id=park_id, day=day, error=failures.describe(exc))
    delay = failures.retry_delay_s(attempts)
    touched.hold(conn, series=series, bucket_ms=bucket, retry_in_s=delay)
    log.error(
        "rollups of park %d from %s failed (%d in a row; retried in %.0f s): %s",
        park_id,
        day,
        attempts,
        delay,
        failures.describe(exc),
    )


def _roll(
    conn: store.Conn,
    reader: store.Conn | None,
    params: SeriesParams,
    series: I64,
    bucket: I64,
    stats: RollupStats,
    *,
    part_readings: int,
    clock: Any,
    cold: ColdStore | None = None,
) -> None:
    """Roll up the claimed (series, bucket) keys: 15-minute rows, then hours and days, then the
    indicator queue."""
    now = clock
    ws, lo, hi = runs(series, bucket, bucket + Q)
    cut = parts(ws, lo, hi, params.interval_ms[params.index(ws)], size=part_readings)

    def fetch(part: slice) -> PartInput:
        a = np.searchsorted(series, ws[part.start])
        b = np.searchsorted(series, ws[part.stop - 1], side="right")
        src = reader if reader is not None else conn
        return read_part(src, params, series[a:b], bucket[a:b], ws[part], lo[part], hi[part], clock=now, cold=cold)

    days: list[tuple[I64, I64]] = []
    with ThreadPoolExecutor(1) as pool:
        pending = [pool.submit(fetch, p) for p in cut] if reader is not None else []
        try:
            for i, part in enumerate(cut):
                t1 = now()
                got = pending[i].result() if pending else fetch(part)
                stats.phases["wait" if pending else "read"] += now() - t1
                if pending:
                    stats.phases["read"] += got.seconds
                days.append(_write_part(conn, params, got, stats, clock=now))
        finally:
            for f in pending:
                f.cancel()
    t4 = now()
    pi = params.index(np.concatenate([d[0] for d in days]))
    days_p, days_d = _unique_pairs(params.park_id[pi], np.concatenate([d[1] for d in days]))
    tz_by_park = dict(zip(params.park_id.tolist(), params.timezone, strict=True))
    store.mark_dirty_days(conn, park_id=days_p, day_ms=days_d, timezone=[tz_by_park[p] for p in days_p.tolist()])
    stats.phases["write"] += now() - t4


def _write_part(
    conn: store.Conn, params: SeriesParams, got: PartInput, stats: RollupStats, *, clock: Any
) -> tuple[I64, I64]:
    """Compute a part's 15-minute rows and the hours and days they fall in, write them; returns
    the (series, day) of the daily rows."""
    t2 = clock()
    stats.readings += len(got.readings)
    fine, _ = compute_15m(got.readings, params, got.swaps)
    fine = fine.take(arrays.isin(_key(fine.series, fine.bucket), _key(got.t_series, got.t_bucket)))
    stats.phases["compute"] += clock() - t2

    t3 = clock()
    hb = fixed_start(fine.bucket, H)
    hourly, old_15m = _coarser(conn, params, fine, "rollup_15m", hb, hb + H, to="1h")
    d0, d1 = _local_days(hourly.bucket, params.index(hourly.series), params)
    old_1h: tuple[I64, I64] | None = None
    # local days start on whole UTC hours in most zones (Asia/Shanghai): build them from hours
    if not (d0 % H).any():
        daily, old_1h = _coarser(conn, params, hourly, "rollup_1h", d0, d1, to="1d")
    else:
        f0, f1 = _local_days(fine.bucket, params.index(fine.series), params)
        daily, _ = _coarser(conn, params, fine, "rollup_15m", f0, f1, to="1d")
    stats.phases["coarser"] += clock() - t3
    t4 = clock()
    for table, rows, old in (
        ("rollup_15m", fine, old_15m),
        ("rollup_1h", hourly, old_1h),
        ("rollup_1d", daily, None),
    ):
        counter = params.counter[params.index(rows.series)]
        n = store.write_rollups(conn, table=table, rollup=rows, counter=counter, existing=old)
        setattr(stats, f"rows_{table[7:]}", getattr(stats, f"rows_{table[7:]}") + n)
    stats.phases["write"] += clock() - t4
    return daily.series, daily.bucket


def _coarser(
    conn: store.Conn, params: SeriesParams, fresh: Rollup, source: str, start: I64, end: I64, *, to: str
) -> tuple[Rollup, tuple[I64, I64]]:
    """Coarse rollups of the buckets [start, end) that the ``fresh`` rows (of table ``source``)
    fall in: the fresh rows plus the stored rows of ``source`` they do not replace. Also returns
    the keys of the stored rows that the fresh ones replace (to delete before writing)."""
    if len(fresh) == 0:
        return fresh, (fresh.series, fresh.bucket)
    _, first = np.unique(_key(fresh.series, start), return_index=True)  # sorted by (series, start)
    ws, lo, hi = runs(fresh.series[first], start[first], end[first])
    width = Q if source == "rollup_15m" else H
    stored = store.rollups(conn, table=source, windows=Windows(ws, lo, hi), width_ms=width)
    replaced = arrays.isin(_key(stored.series, stored.bucket), _key(fresh.series, fresh.bucket))
    old = (stored.series[replaced], stored.bucket[replaced])
    stored = stored.take(~replaced)
    idx = params.index(stored.series)
    stored = Rollup(
        **{**{f: getattr(stored, f) for f in Rollup.__dataclass_fields__}, "interval_ms": params.interval_ms[idx]}
    )
    both = concat([fresh, stored])
    if to == "1h":
        cb = fixed_start(both.bucket, H)
        return rebucket(both, cb, cb + H), old
    return rebucket(both, *_local_days(both.bucket, params.index(both.series), params)), old


MAX_BATCHES = 1000


@dataclass
class RollupPass:
    """One pass round the queue: where its last stage stopped, and whether it reached the end."""

    after: touched.Key | None = None
    at_end: bool = False


def drain(
    conn: store.Conn,
    *,
    reader: store.Conn | None = None,
    batch: int = 20_000,
    max_batches: int = MAX_BATCHES,
    **kw: Any,
) -> list[RollupStats]:
    """One pass: run batches until every key queued when it began is rolled up (bounded, so a
    flood cannot pin the job forever). Keys that ingest queues again meanwhile are the next
    pass's: under a live stream the queue is never empty, and a pass must still end."""
    done: list[RollupStats] = []
    pass_ = RollupPass()
    for _ in range(max_batches):
        try:
            s = refresh_rollups(conn, reader=reader, batch=batch, pass_=pass_, **kw)
        except Exception as exc:  # rolled back, the queue intact: again, park by park
            log.warning("rollup batch failed (%s); running it again park by park", failures.describe(exc))
            s = refresh_rollups(conn, batch=batch, isolate=True, pass_=pass_, **kw)
        if s.touched == 0:
            break
        done.append(s)
    return done


def totals(stats: Iterable[RollupStats]) -> dict[str, int]:
    keys = ("touched", "readings", "rows_15m", "rows_1h", "rows_1d", "unknown_series", "failed_parks")
    all_ = list(stats)
    return {k: sum(getattr(s, k) for s in all_) for k in keys}
