"""`smartpark bench indicators`: what linear gap apportionment costs the indicator job.

The demo park (40 enterprises) gets ``--days`` days of counter readings every ``--interval`` s,
rolled up once; then the live case is repeated: the last day dirty, one indicator run, with the
consumption across midnight left in the later day (``later``) and shared by time (``linear``,
which also recomputes the day before: the last interval of the night reaches into it). Prints a
table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg

from aggregation import indicator_job, job
from benchmarks.harness import scratch_db
from device_sim.model import generate_model
from smartpark.catalogue import DEVICE_KINDS, MetricKind, metric
from smartpark.registry import load_model


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--interval", type=int, default=300, help="seconds between readings")
    parser.add_argument("--repeat", type=int, default=7)
    parser.set_defaults(func=run)


def _store_counters(conn: psycopg.Connection[Any], *, start: datetime, days: int, interval_s: int) -> int:
    devices = conn.execute("SELECT device_id, kind FROM devices").fetchall()
    series = [
        (d, metric(c).id)
        for d, kind in devices
        for c in DEVICE_KINDS.get(kind, ())
        if metric(c).kind is MetricKind.COUNTER
    ]
    n = days * 86_400 // interval_s
    stamps = [start + timedelta(seconds=i * interval_s) for i in range(n)]
    values = np.cumsum(np.ones(n)).tolist()
    with conn.cursor() as cur, cur.copy("COPY telemetry (device_id, metric_id, ts, value, flag) FROM STDIN") as copy:
        for d, m in series:
            for t, v in zip(stamps, values, strict=True):
                copy.write_row((d, m, t, v, 0))
    conn.execute(
        "INSERT INTO telemetry_touched SELECT DISTINCT device_id, metric_id, time_bucket('15 minutes', ts)"
        " FROM telemetry ON CONFLICT DO NOTHING"
    )
    return len(series) * n


def run(args: argparse.Namespace) -> int:
    start = datetime(2026, 12, 4, 16, tzinfo=UTC)  # local midnight in Asia/Shanghai
    last_day = (start + timedelta(hours=8) + timedelta(days=args.days - 1)).date()
    from smartpark.settings import get_settings

    figures: dict[str, Any] = {}
    with scratch_db("benchind", get_settings()) as scratch, psycopg.connect(scratch.url, autocommit=True) as conn:
        with conn.transaction():
            load_model(conn, generate_model(seed=7), broker=None)
        figures["readings"] = _store_counters(conn, start=start, days=args.days, interval_s=args.interval)
        job.drain(conn)
        indicator_job.drain(conn)
        park_id = conn.execute("SELECT park_id FROM parks").fetchone()[0]  # type: ignore[index]
        for mode in ("later", "linear"):
            times = []
            for _ in range(args.repeat):
                conn.execute("INSERT INTO aggregation_dirty_days VALUES (%s, %s)", (park_id, last_day))
                t0 = time.perf_counter()
                indicator_job.drain(conn, gap_apportionment=mode)
                times.append(time.perf_counter() - t0)
            figures[f"{mode}_ms_median"] = round(float(np.median(times)) * 1000, 1)
    print(f"{'figure':<24}{'value':>12}")
    for key, value in figures.items():
        print(f"{key:<24}{value:>12,}")
    print(json.dumps(figures))
    return 0
