"""`smartpark bench aggregate`: the rollup core and the incremental job against pandas and SQL.

Generated readings (half meter registers with resets, half gauges, one per minute with jitter)
are rolled up into 15-minute buckets three ways on the same input: the numpy core, pandas
groupby, and the best pure-SQL formulation (time_bucket, lag() for counter deltas, first/last)
inside TimescaleDB; then the full incremental job (read from TimescaleDB, compute, upsert 15 min /
1 h / 1 d) runs against a pure-SQL job doing the same upserts. Results are checked equal. Runs in
a throw-away database; prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from aggregation import store
from aggregation.calendar import WIDTH_MS, fixed_start
from aggregation.job import drain
from aggregation.rollup import Readings, Rollup, counter_deltas_of, rollup
from benchmarks.harness import CpuMeter, pids_cpu, scratch_db
from smartpark import series_key
from smartpark.db import binary_copy

Q = WIDTH_MS["15m"]
KWH, KW = 1, 3  # elec.import_kwh (counter), elec.power_kw (gauge)
T0 = 1_780_272_000_000  # 2026-06-01T00:00Z
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
COMPARED = ("count", "sum", "min", "max", "first", "last", "consumption")


def generate(n_readings: int, n_series: int, seed: int = 7) -> tuple[I64, I64, F64, npt.NDArray[np.bool_]]:
    """Readings sorted by (series, ts): series ids as the job packs them, half counters."""
    per = max(2, n_readings // n_series)
    rng = np.random.default_rng(seed)
    devices = np.arange(1, n_series // 2 + 2, dtype=np.int64)
    series = np.sort(np.concatenate([series_key.pack(devices, KWH), series_key.pack(devices, KW)]))[:n_series]
    counter = (series & 0xFFFF) == KWH
    ts = T0 + np.arange(per, dtype=np.int64) * 60_000 + rng.integers(0, 59_000, (n_series, per))
    value = rng.normal(500.0, 50.0, (n_series, per)).round(3)
    steps = rng.exponential(2.0, (int(counter.sum()), per)).round(3)
    reg = np.cumsum(steps, axis=1)
    resets = rng.random(reg.shape) < 1e-4  # a replaced meter starts again from its current step
    if resets.any():
        base = np.maximum.accumulate(np.where(resets, reg - steps, 0.0), axis=1)
        reg = np.round(reg - base, 3)
    value[counter] = reg
    s = np.repeat(series, per)
    return s, ts.ravel(), value.ravel(), np.repeat(counter, per)


def numpy_core(s: I64, t: I64, v: F64, counter: npt.NDArray[np.bool_]) -> Rollup:
    r = Readings.of(s, t, v)  # generated sorted: ``counter`` stays aligned
    return rollup(r, fixed_start(r.ts, Q), Q, interval_ms=60_000.0, deltas=counter_deltas_of(r, counter))


def pandas_core(s: I64, t: I64, v: F64, counter: npt.NDArray[np.bool_]) -> Any:
    import pandas as pd

    df = pd.DataFrame({"series": s, "ts": t, "value": v})
    df["bucket"] = df["ts"] - df["ts"] % Q
    prev = df.groupby("series", sort=False)["value"].shift()
    step = df["value"] - prev
    df["delta"] = step.where(step >= 0, df["value"]).where(prev.notna(), 0.0).where(counter, 0.0)
    return (
        df.groupby(["series", "bucket"], sort=True)
        .agg(
            count=("value", "size"),
            sum=("value", "sum"),
            min=("value", "min"),
            max=("value", "max"),
            first=("value", "first"),
            last=("value", "last"),
            consumption=("delta", "sum"),
        )
        .reset_index()
    )


SQL_CORE = """
SELECT device_id, metric_id, time_bucket('15 minutes', ts) AS bucket, count(*) AS count,
       sum(value) AS sum, min(value) AS min, max(value) AS max,
       first(value, ts) AS first, last(value, ts) AS last,
       CASE WHEN bool_or(counter) THEN sum(delta) ELSE 0 END AS consumption
FROM (
    SELECT t.device_id, t.metric_id, t.ts, t.value, m.kind = 'counter' AS counter,
           CASE WHEN lag(t.value) OVER w IS NULL THEN 0
                WHEN t.value >= lag(t.value) OVER w THEN t.value - lag(t.value) OVER w
                ELSE t.value END AS delta
    FROM telemetry t JOIN metrics m USING (metric_id)
    WHERE t.flag = 0
    WINDOW w AS (PARTITION BY t.device_id, t.metric_id ORDER BY t.ts)
) x
GROUP BY device_id, metric_id, time_bucket('15 minutes', ts)
"""

# The pure-SQL incremental job: recompute the touched buckets (plus, for counters, the reading
# before and the bucket after), then the hours and local days holding them, with upserts.
SQL_JOB = """
WITH touched AS (DELETE FROM telemetry_touched RETURNING device_id, metric_id, bucket),
win AS (SELECT device_id, metric_id, min(bucket) AS lo, max(bucket) + interval '15 minutes' AS hi
        FROM touched GROUP BY 1, 2),
src AS (
    SELECT t.device_id, t.metric_id, t.ts, t.value, m.kind = 'counter' AS counter,
           CASE WHEN lag(t.value) OVER w IS NULL THEN 0
                WHEN t.value >= lag(t.value) OVER w THEN t.value - lag(t.value) OVER w
                ELSE t.value END AS delta
    FROM win JOIN telemetry t ON t.device_id = win.device_id AND t.metric_id = win.metric_id
      AND t.ts >= coalesce((SELECT max(p.ts) FROM telemetry p WHERE p.device_id = win.device_id
                            AND p.metric_id = win.metric_id AND p.ts < win.lo AND p.flag = 0), win.lo)
      AND t.ts < win.hi
    JOIN metrics m ON m.metric_id = t.metric_id
    WHERE t.flag = 0
    WINDOW w AS (PARTITION BY t.device_id, t.metric_id ORDER BY t.ts)
)
INSERT INTO rollup_15m (device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts,
                        last, last_ts, coverage, consumption, computed_at)
SELECT s.device_id, s.metric_id, time_bucket('15 minutes', s.ts) AS b, count(*), sum(value),
       min(value), max(value), avg(value), first(value, ts), min(ts), last(value, ts), max(ts),
       least(count(*) * 60.0 / 900, 1), CASE WHEN bool_or(counter) THEN sum(delta) END, now()
FROM src s JOIN touched k ON k.device_id = s.device_id AND k.metric_id = s.metric_id
  AND k.bucket = time_bucket('15 minutes', s.ts)
GROUP BY 1, 2, 3
ON CONFLICT (device_id, metric_id, bucket) DO UPDATE SET count = EXCLUDED.count, sum = EXCLUDED.sum,
  min = EXCLUDED.min, max = EXCLUDED.max, mean = EXCLUDED.mean, first = EXCLUDED.first,
  first_ts = EXCLUDED.first_ts, last = EXCLUDED.last, last_ts = EXCLUDED.last_ts,
  coverage = EXCLUDED.coverage, consumption = EXCLUDED.consumption, computed_at = now()
"""

SQL_COARSER = """
INSERT INTO {table} (device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts,
                     last, last_ts, coverage, consumption, computed_at)
SELECT device_id, metric_id, {bucket} AS b, sum(count), sum(sum), min(min), max(max),
       sum(sum) / sum(count), first(first, first_ts), min(first_ts), last(last, last_ts),
       max(last_ts), least(sum(count) * 60.0 / extract(epoch FROM {width}), 1), sum(consumption), now()
FROM rollup_15m GROUP BY 1, 2, 3
ON CONFLICT (device_id, metric_id, bucket) DO UPDATE SET count = EXCLUDED.count, sum = EXCLUDED.sum,
  min = EXCLUDED.min, max = EXCLUDED.max, mean = EXCLUDED.mean, first = EXCLUDED.first,
  first_ts = EXCLUDED.first_ts, last = EXCLUDED.last, last_ts = EXCLUDED.last_ts,
  coverage = EXCLUDED.coverage, consumption = EXCLUDED.consumption, computed_at = now()
"""


def _aligned(keys: tuple[I64, I64], cols: dict[str, Any]) -> dict[str, Any]:
    order = np.lexsort((keys[1], keys[0]))
    return {"series": keys[0][order], "bucket": keys[1][order], **{k: np.asarray(v)[order] for k, v in cols.items()}}


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["series"].size != b["series"].size:
        return False
    if not (np.array_equal(a["series"], b["series"]) and np.array_equal(a["bucket"], b["bucket"])):
        return False
    for k in COMPARED:
        x, y = np.asarray(a[k], dtype=np.float64), np.asarray(b[k], dtype=np.float64)
        if not np.allclose(x, y, rtol=1e-9, atol=1e-6):
            return False
    return True


def job_cpu_meter(backend_pids: list[int]) -> CpuMeter:
    """CPU of this process (the job and its reader thread) and of the given database backends:
    a cost per reading that the machine's load inflates far less than wall time."""
    return CpuMeter({"job_process": time.process_time, "database": pids_cpu(backend_pids)}).start()


def per_reading(meter: CpuMeter, readings: int) -> dict[str, float | None]:
    """µs of CPU per reading; the database's None when its backends cannot be read (elsewhere)."""
    return {k: None if v is None else round(v / readings * 1e6, 3) for k, v in meter.spent().items()}


def _cpu_note(cpu: dict[str, float | None]) -> str:
    return f"CPU µs/reading: process {cpu['job_process']}, database {cpu['database']}"


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


TELEMETRY = (("ts", "timestamptz"), ("device_id", "int4"), ("metric_id", "int2"), ("value", "float8"), ("flag", "int2"))


def load(conn: Any, s: I64, t: I64, v: F64) -> None:
    dev, _ = series_key.unpack(np.unique(s))
    conn.execute("INSERT INTO parks (park_id, code, name) VALUES (1, 'bench', 'bench')")
    conn.execute("INSERT INTO enterprises (enterprise_id, park_id, code, name) VALUES (1, 1, 'e1', 'bench')")
    conn.execute(
        "INSERT INTO devices (device_id, enterprise_id, code, kind) SELECT d, 1, 'm' || d, 'elec_meter'"
        " FROM unnest(%s::int[]) AS d",
        (np.unique(dev).tolist(),),
    )
    d, m = series_key.unpack(s)
    payload = binary_copy.encode(
        TELEMETRY, {"ts": t, "device_id": d, "metric_id": m, "value": v, "flag": np.zeros(s.size, np.int16)}
    )
    with (
        conn.cursor() as cur,
        cur.copy("COPY telemetry (ts, device_id, metric_id, value, flag) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        step = 64 << 20
        for i in range(0, len(payload), step):
            copy.write(payload[i : i + step])
    conn.execute("ANALYZE telemetry")


def touch_all(conn: Any) -> None:
    conn.execute(
        "INSERT INTO telemetry_touched SELECT DISTINCT device_id, metric_id, time_bucket('15 minutes', ts)"
        " FROM telemetry ON CONFLICT DO NOTHING"
    )


def fetch_sql(conn: Any, sql: str) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT device_id, metric_id, (extract(epoch FROM bucket) * 1000)::int8, count, sum, min, max,"
        f" first, last, coalesce(consumption, 0) FROM ({sql}) q"
    ).fetchall()
    a = np.asarray(rows, dtype=np.float64) if rows else np.zeros((0, 10))
    keys = (series_key.pack(a[:, 0].astype(np.int64), a[:, 1].astype(np.int64)), a[:, 2].astype(np.int64))
    return _aligned(keys, dict(zip(COMPARED, a[:, 3:].T, strict=True)))


def snapshot(conn: Any) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in store.ROLLUP_TABLES}


def run(args: argparse.Namespace) -> int:
    # a terminated run still drops its scratch database (the context manager's finally)
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    if args.readings < 1000 or args.series < 2 or args.readings > 50_000_000 or args.series > 1_000_000:
        print("smartpark bench aggregate: need 1000 <= --readings <= 5e7 and 2 <= --series <= 1e6", file=sys.stderr)
        return 2
    s, t, v, counter = generate(args.readings, args.series)
    n = int(s.size)
    res: dict[str, Any] = {"readings": n, "series": args.series}
    rows: list[tuple[str, float, str]] = []

    core, sec = timed(lambda: numpy_core(s, t, v, counter))
    best = sec
    for _ in range(args.repeat - 1):
        best = min(best, timed(lambda: numpy_core(s, t, v, counter))[1])
    res["numpy_core_rps"] = n / best
    rows.append(("numpy core (sorted reduceat)", best, f"{len(core)} rollup rows"))
    np_out = _aligned((core.series, core.bucket), {k: getattr(core, k) for k in COMPARED})
    try:
        pd_out, sec = timed(lambda: pandas_core(s, t, v, counter))
    except ImportError:
        print("smartpark bench aggregate: pandas is needed (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    res["pandas_rps"] = n / sec
    rows.append(("pandas groupby", sec, ""))
    pd_aligned = _aligned(
        (pd_out["series"].to_numpy(), pd_out["bucket"].to_numpy()), {k: pd_out[k].to_numpy() for k in COMPARED}
    )
    equal = {"pandas": same(np_out, pd_aligned)}

    if not args.core_only:
        import psycopg

        with (
            scratch_db("smartpark_bench") as scratch,
            psycopg.connect(scratch.url, autocommit=True) as conn,
            psycopg.connect(scratch.url, autocommit=True) as reader,
        ):
            _, sec = timed(lambda: load(conn, s, t, v))
            rows.append(("load (binary COPY, setup)", sec, ""))
            conn.execute("SET work_mem = '256MB'")
            _, sec = timed(lambda: conn.execute(f"CREATE TEMP TABLE sql_core AS {SQL_CORE}"))
            res["sql_compute_rps"] = n / sec
            rows.append(("pure SQL rollup (window + group)", sec, "into a temp table"))
            equal["sql_compute"] = same(np_out, fetch_sql(conn, "SELECT * FROM sql_core"))

            touch_all(conn)
            cpu = job_cpu_meter([conn.info.backend_pid, reader.info.backend_pid])
            stats, sec = timed(lambda: drain(conn, reader=reader, batch=args.batch))
            res["job_rps"] = n / sec
            res["job_cpu_us_per_reading"] = per_reading(cpu, n)
            phases: dict[str, float] = {}
            for st in stats:
                for k, x in st.phases.items():
                    phases[k] = phases.get(k, 0.0) + x
            res["job_phases_s"] = {k: round(x, 3) for k, x in phases.items()}
            rows.append(
                (
                    "incremental job (read, numpy, upsert 15m/1h/1d)",
                    sec,
                    f"{len(stats)} batch(es); {_cpu_note(res['job_cpu_us_per_reading'])}",
                )
            )
            job_rows = snapshot(conn)
            equal["job_15m"] = same(np_out, fetch_sql(conn, "SELECT * FROM rollup_15m"))
            for tname in store.ROLLUP_TABLES:
                conn.execute(f"CREATE TEMP TABLE job_{tname} AS SELECT * FROM {tname}")
                conn.execute(f"TRUNCATE {tname}")
            touch_all(conn)

            def sql_job() -> None:
                with conn.transaction():
                    conn.execute(SQL_JOB)
                    conn.execute(
                        SQL_COARSER.format(
                            table="rollup_1h", bucket="time_bucket('1 hour', bucket)", width="interval '1 hour'"
                        )
                    )
                    conn.execute(
                        SQL_COARSER.format(
                            table="rollup_1d",
                            bucket="time_bucket('1 day', bucket, 'Asia/Shanghai')",
                            width="interval '1 day'",
                        )
                    )

            cpu = job_cpu_meter([conn.info.backend_pid])
            _, sec = timed(sql_job)
            res["sql_job_rps"] = n / sec
            res["sql_job_cpu_us_per_reading"] = per_reading(cpu, n)
            rows.append(("pure SQL job (same upserts)", sec, _cpu_note(res["sql_job_cpu_us_per_reading"])))
            equal["sql_job_15m"] = same(np_out, fetch_sql(conn, "SELECT * FROM rollup_15m"))
            for tname in ("rollup_1h", "rollup_1d"):
                equal[f"sql_job_{tname[7:]}"] = same(
                    fetch_sql(conn, f"SELECT * FROM job_{tname}"), fetch_sql(conn, f"SELECT * FROM {tname}")
                )
            res["rollup_rows"] = job_rows

    res["numpy_vs_pandas"] = res["numpy_core_rps"] / res["pandas_rps"]
    if "job_rps" in res:
        res["job_vs_sql_job"] = res["job_rps"] / res["sql_job_rps"]
    res["equal"] = equal
    print(f"{'what':<50} {'seconds':>9} {'readings/s':>14}  note")
    for name, sec, note in rows:
        print(f"{name:<50} {sec:>9.3f} {n / sec:>14,.0f}  {note}")
    if "job_phases_s" in res:
        print(f"job phases (s; read runs beside the others on a second connection): {res['job_phases_s']}")
    print(f"results equal: {equal}")
    print(json.dumps({k: (round(x) if isinstance(x, float) and x > 100 else x) for k, x in res.items()}))
    return 0 if all(equal.values()) else 1


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--readings", type=int, default=10_000_000, help="generated readings (default 10 M)")
    parser.add_argument("--series", type=int, default=10_000, help="series, half meter registers (default 10 000)")
    parser.add_argument("--batch", type=int, default=1_000_000, help="touched buckets per job transaction")
    parser.add_argument("--repeat", type=int, default=3, help="best of N for the numpy core")
    parser.add_argument("--core-only", action="store_true", help="numpy vs pandas only, no database")
    parser.set_defaults(func=run)
