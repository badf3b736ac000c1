"""`smartpark bench completeness`: transmission, validity and effective rates of N devices × D days.

A scratch database with ``--devices`` devices (stack CEMS and electricity meters, 10 per
enterprise), a daily rollup for every series and day with a reading count, and some flagged
readings in telemetry; then GET /completeness's query (api/queries/completeness.py, numpy in
aggregation/completeness.py) per device and day, and per enterprise and month, timed.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from benchmarks.harness import scratch_db


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.set_defaults(func=main)


def _model(devices: int) -> dict[str, Any]:
    per = 10
    ents = []
    for e in range((devices + per - 1) // per):
        devs = [
            {"code": f"d{k:02d}", "kind": "stack_cems" if k % 2 else "elec_meter"}
            for k in range(min(per, devices - e * per))
        ]
        ents.append({"code": f"e{e:04d}", "name": "bench", "gateways": [{"code": "gw1", "devices": devs}]})
    return {"parks": [{"code": "cmpb", "name": "bench", "timezone": "Asia/Shanghai", "enterprises": ents}]}


def _fill(conn: psycopg.Connection[Any], first: date, days: int) -> int:
    conn.execute("UPDATE devices SET created_at = %s", (datetime(2000, 1, 1, tzinfo=UTC),))
    # 1 440 minus a device-dependent gap, valid readings per series and day
    conn.execute(
        """
        INSERT INTO rollup_1d (device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts, last, last_ts)
        SELECT dm.device_id, dm.metric_id, (%s::date + k)::timestamp AT TIME ZONE 'Asia/Shanghai',
               1440 - (dm.device_id * 7 + k) %% 120, 0, 0, 0, 0, 0, now(), 0, now()
        FROM device_metrics dm, generate_series(0, %s - 1) k
        """,
        (first, days),
    )
    # flagged readings: 10 per series on every fifth day
    conn.execute(
        """
        INSERT INTO telemetry (ts, device_id, metric_id, value, flag)
        SELECT (%s::date + k)::timestamp AT TIME ZONE 'Asia/Shanghai' + make_interval(mins => i), dm.device_id,
               dm.metric_id, 0, 3
        FROM device_metrics dm, generate_series(0, %s - 1, 5) k, generate_series(1, 10) i
        """,
        (first, days),
    )
    conn.execute("ANALYZE rollup_1d")
    conn.execute("ANALYZE telemetry")
    row = conn.execute("SELECT count(*) FROM rollup_1d").fetchone()
    return int(row[0]) if row else 0


def main(args: argparse.Namespace) -> int:
    from api.auth import Principal, Role
    from api.queries.completeness import completeness
    from smartpark.registry import load_model
    from smartpark.settings import get_settings

    settings = get_settings()
    first = date(2026, 1, 1)
    last = first + timedelta(days=args.days - 1)
    admin = Principal(0, "bench", Role.ADMIN)
    figures: dict[str, Any] = {"devices": args.devices, "days": args.days}
    with scratch_db("smartpark_bench_completeness", settings) as scratch:
        with psycopg.connect(scratch.url, autocommit=True) as conn:
            with conn.transaction():
                load_model(conn, _model(args.devices))
            figures["rollup_rows"] = _fill(conn, first, args.days)
        with psycopg.connect(scratch.url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
            for by, period in (("device", "day"), ("enterprise", "month"), ("category", "range")):
                start = time.perf_counter()
                rows = completeness(conn, admin, first=first, last=last, by=by, period=period,
                                    default_interval_s=60.0, now=datetime(2026, 6, 1, tzinfo=UTC))  # fmt: skip
                figures[f"{by}_{period}_s"] = round(time.perf_counter() - start, 3)
                figures[f"{by}_{period}_rows"] = len(rows)
    print(f"{'figure':<28}{'value':>14}")
    for k, v in figures.items():
        print(f"{k:<28}{v!s:>14}")
    print(json.dumps(figures))
    return 0
