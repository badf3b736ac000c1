"""Recomputing a park's statistics of a past period from its raw readings, in either tier.

Queues every (series, 15-minute bucket) of the park's readings in [start, end) — the hot rows and
the cold files alike — on the rollup job's queue (smartpark.db.touched, its owner), as late
readings would: the scheduler's rollup job then recomputes those buckets from both tiers, and the
hours, days and indicators that hold them follow (`smartpark storage recompute`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import psycopg

from smartpark.db import touched
from smartpark.db.binary_copy import unix_ms_to_pg_us
from smartpark.series_key import pack, unpack
from smartpark.timebase import ms_from_datetime
from storage import raw_tiers
from storage.coldfs import ColdStore
from storage.sql import tuples

Conn = psycopg.Connection[Any]
MAX_DAYS = 31  # a month of a 10 000-series park is 30 million keys on the queue at most
BUCKET_MS = 900_000
RECORD_BATCH = 200_000  # keys a statement


def queue(conn: Conn, cold: ColdStore | None, *, park_id: int, start: datetime, end: datetime) -> int:
    """Queue the park's buckets holding readings in [start, end); how many (series, bucket)."""
    if end <= start:
        raise ValueError(f"end {end.isoformat()} is not after start {start.isoformat()}")
    if end - start > timedelta(days=MAX_DAYS):
        raise ValueError(f"{(end - start).days} days asked; at most {MAX_DAYS} at a time")
    devices = [
        int(r[0])
        for r in tuples(
            conn,
            "SELECT d.device_id FROM devices d JOIN enterprises e USING (enterprise_id) WHERE e.park_id = %s",
            (park_id,),
        ).fetchall()
    ]
    if not devices:
        return 0
    queued, day = 0, start
    while day < end:  # a day at a time: a park's day of readings is what memory holds at once
        nxt = min(end, day + timedelta(days=1))
        queued += _queue_span(conn, cold, devices, day, nxt)
        day = nxt
    return queued


def _queue_span(conn: Conn, cold: ColdStore | None, devices: list[int], start: datetime, end: datetime) -> int:
    hot = tuples(
        conn,
        "SELECT DISTINCT device_id, metric_id, (extract(epoch FROM time_bucket('15 minutes', ts)) * 1000)::int8"
        " FROM telemetry WHERE device_id = ANY(%s) AND ts >= %s AND ts < %s",
        (devices, start, end),
    ).fetchall()
    series = [pack(np.asarray([r[0] for r in hot], np.int64), np.asarray([r[1] for r in hot], np.int64))]
    buckets = [np.asarray([r[2] for r in hot], np.int64)]
    if cold is not None:
        got = raw_tiers.points(
            conn, cold, start_ms=ms_from_datetime(start), end_ms=ms_from_datetime(end), devices=devices
        )
        series.append(got.series)
        buckets.append(got.ts // BUCKET_MS * BUCKET_MS)
    keys = np.unique(np.stack([np.concatenate(series), np.concatenate(buckets)]), axis=1)
    device, metric = unpack(keys[0])
    with conn.transaction(), conn.cursor() as cur:
        for i in range(0, keys.shape[1], RECORD_BATCH):
            part = slice(i, i + RECORD_BATCH)
            touched.record(
                cur, device_id=device[part], metric_id=metric[part], bucket_us=unix_ms_to_pg_us(keys[1][part])
            )
    return int(keys.shape[1])
