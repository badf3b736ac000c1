"""`smartpark bench storage`: what a reading costs hot and cold, how fast chunks move to the cold
tier, and how fast raw series read across both tiers.

A scratch database with a simulated park (``--enterprises``): one day of every device's readings
at one a minute (the simulator's signals), moved to Parquet with the product's own code
(storage.tiering), then per metric kind — counters, smooth gauges, noisy gauges, states — the
bytes per reading of files holding that kind alone. Gauges are smooth or noisy by their own
numbers: the spread of successive differences against the spread of the values (below 0.5:
smooth). Then a year of one series every 15 minutes and a month of one device's readings every
minute, most of each in the cold tier (its whole months compacted), read through the API's series
query. Last, what the hot
row's flag column, its primary-key index and the index's fill factor cost, on copies of the day.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.harness import BackendCpu, scratch_db

COLUMNS = (("ts", "timestamptz"), ("device_id", "int4"), ("metric_id", "int2"), ("value", "float8"), ("flag", "int2"))
DAY = datetime(2026, 3, 2, tzinfo=UTC)  # the park's full day
YEAR_FROM, MONTH_FROM = datetime(2025, 2, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
NOW, HOT_DAYS = datetime(2026, 2, 16, tzinfo=UTC), 30  # cold up to 2026-01-17
SMOOTH_BELOW = 0.5


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--enterprises", type=int, default=10, help="simulated enterprises (about 20 devices each)")
    parser.add_argument("--zstd-level", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=5, help="reads timed this many times (median)")
    parser.add_argument("--rounds", type=int, default=3, help="serial and overlapped exports of the day, each")
    parser.set_defaults(func=main)


def _copy(conn: psycopg.Connection[Any], arrays: dict[str, np.ndarray]) -> int:
    from smartpark.db.binary_copy import encode

    payload = encode(COLUMNS, arrays)
    with (
        conn.cursor() as cur,
        cur.copy("COPY telemetry (ts, device_id, metric_id, value, flag) FROM STDIN (FORMAT binary)") as cp,
    ):
        cp.write(payload)
    return len(arrays["ts"])


def _readings(
    sig: Any, ids: dict[tuple[str, str], int], ticks_s: np.ndarray, interval_s: float
) -> dict[str, np.ndarray]:
    from smartpark.catalogue import BY_CODE

    parts: dict[str, list[np.ndarray]] = {k: [] for k, _ in COLUMNS}
    for start in range(0, len(ticks_s), 1440):
        ts = ticks_s[start : start + 1440]
        for block in sig.block(ts, interval_s):
            for i, d in enumerate(block.devices):
                for j, code in enumerate(block.metrics):
                    n = len(ts)
                    parts["ts"].append(ts * 1000)
                    parts["device_id"].append(np.full(n, ids[(d.enterprise, d.code)], np.int32))
                    parts["metric_id"].append(np.full(n, BY_CODE[code].id, np.int16))
                    parts["value"].append(block.values[i, j, :])
                    parts["flag"].append(np.zeros(n, np.int16))
    return {k: np.concatenate(v) for k, v in parts.items()}


def _read_by_copy(conn: psycopg.Connection[Any], chunk: dict[str, Any]) -> int:
    """The baseline read: a binary COPY of the chunk, one message per reading."""
    from smartpark.db.binary_copy import TELEMETRY_COLUMNS, decode

    buf = bytearray()
    sql = f'COPY (SELECT ts, device_id, metric_id, value, flag FROM "{chunk["chunk_schema"]}"."{chunk["chunk_name"]}")'
    with conn.cursor() as cur, cur.copy(sql + " TO STDOUT (FORMAT binary)") as copy:
        for block in copy:
            buf += block
    return len(decode(TELEMETRY_COLUMNS, buf)["ts"])


def _cpu_timed(backend: BackendCpu, work: Any, *args: Any, **kwargs: Any) -> tuple[int, float, float, float]:
    """(what ``work`` returns, wall s, this process's CPU s, the database backends' CPU s)."""
    t0, cpu0, db0 = time.perf_counter(), time.process_time(), backend.total()
    n = work(*args, **kwargs)
    return n, time.perf_counter() - t0, time.process_time() - cpu0, backend.total() - db0


def _serial_export(conn: Any, store: Any, chunk: dict[str, Any], level: int) -> int:
    from benchmarks import storage_serial

    return storage_serial.export(conn, store, chunk, zstd_level=level)[0]


def _overlapped_export(conn: Any, readers: list[Any], store: Any, chunk: dict[str, Any], level: int) -> int:
    """The move's export (storage.export) to a folder of its own, without the manifest's rows."""
    from storage import export, tiering

    parks, categories = tiering.registry_maps(conn)
    files = export.planned_files(store.root, chunk, parks=set(parks.values()), categories=set(categories.values()))
    written = export.write_files(
        readers, store, chunk, files, zstd_level=level, park_of_device=parks, category_of_metric=categories,
        batches=export.device_batches(conn, chunk), clock=time.perf_counter,
    )  # fmt: skip
    return written.total


SERIES_10K = 10_000
ROWS_PER_YEAR = {"rollup_15m": 365 * 96, "rollup_1h": 365 * 24, "rollup_1d": 365}  # per series


def _rollups_of_a_cold_day(conn: psycopg.Connection[Any], store: Any, day: dict[str, np.ndarray]) -> dict[str, Any]:
    """The day's rollups computed from the cold tier once its chunk has moved (every bucket
    queued, as a recompute does), then what a rollup row costs hot and as Parquet, and a year of
    a 10 000-series park's rollups of each width."""
    from aggregation import job
    from smartpark.db import touched
    from smartpark.db.binary_copy import unix_ms_to_pg_us
    from smartpark.series_key import pack, unpack

    keys = np.unique(np.stack([pack(day["device_id"], day["metric_id"]), day["ts"] // 900_000 * 900_000]), axis=1)
    device, metric = unpack(keys[0])
    with conn.transaction(), conn.cursor() as cur:
        touched.record(cur, device_id=device, metric_id=metric, bucket_us=unix_ms_to_pg_us(keys[1]))
    t0 = time.perf_counter()
    stats = job.totals(job.drain(conn, cold=store))
    out: dict[str, Any] = {
        "rollups of the cold day recomputed: s": round(time.perf_counter() - t0, 2),
        "rollups of the cold day recomputed: readings": stats["readings"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for table, per_year in ROWS_PER_YEAR.items():
            rows = int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
            size = int(conn.execute("SELECT hypertable_size(%s)", (table,)).fetchone()[0])  # type: ignore[index]
            with conn.cursor(binary=True) as cur:
                cur.execute(f"SELECT * FROM {table} ORDER BY device_id, metric_id, bucket")
                names = [c.name for c in cur.description or []]
                got = cur.fetchall()
            t = pa.table({n: [r[i] for r in got] for i, n in enumerate(names)})
            path = os.path.join(tmp, f"{table}.parquet")
            pq.write_table(t, path, compression="zstd", compression_level=9)
            hot, cold = size / rows, os.path.getsize(path) / rows
            year = SERIES_10K * per_year
            out[f"{table}: rows, hot bytes/row, parquet bytes/row"] = [rows, round(hot, 1), round(cold, 1)]
            out[f"{table}: 10 000 series a year: rows, hot GB, parquet GB"] = [
                year,
                round(year * hot / 1e9, 2),
                round(year * cold / 1e9, 2),
            ]
    return out


def _kinds(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Per reading: counter, smooth gauge, noisy gauge or state."""
    from smartpark.catalogue import METRICS, MetricKind

    kind_of = {m.id: m.kind for m in METRICS}
    out = np.empty(len(arrays["ts"]), dtype=object)
    series = arrays["device_id"].astype(np.int64) << 16 | arrays["metric_id"].astype(np.int64)
    order = np.lexsort((arrays["ts"], series))
    s_sorted = series[order]
    edges = np.flatnonzero(np.diff(s_sorted)) + 1
    for idx in np.split(order, edges):
        k = kind_of[int(arrays["metric_id"][idx[0]])]
        if k is MetricKind.COUNTER:
            out[idx] = "counter"
        elif k is MetricKind.STATE:
            out[idx] = "state"
        else:
            v = arrays["value"][idx]
            rough = float(np.std(np.diff(v)) / (np.std(v) + 1e-12))
            out[idx] = "smooth gauge" if rough < SMOOTH_BELOW else "noisy gauge"
    return out


def _bytes_per_kind(arrays: dict[str, np.ndarray], level: int) -> dict[str, dict[str, float]]:
    """Each kind's readings alone in one file (the tier's layout and writer options)."""
    from smartpark.db.binary_copy import unix_ms_to_pg_us
    from storage import layout

    kinds = _kinds(arrays)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("counter", "smooth gauge", "noisy gauge", "state"):
            mask = kinds == kind
            if not mask.any():
                continue
            part = {k: v[mask] for k, v in arrays.items()}
            part["ts"] = unix_ms_to_pg_us(part["ts"])
            cat = dict.fromkeys(np.unique(part["metric_id"]).tolist(), "all")
            rows, _ = layout.split(part, park_of_device=dict.fromkeys(np.unique(part["device_id"]).tolist(), 1),
                                   category_of_metric=cat)  # fmt: skip
            # one file whatever the day: the kind's compressibility, not the day split's
            order = np.lexsort((rows["ts"], rows["metric_id"], rows["device_id"]))
            t = layout.table({k: v[order] for k, v in rows.items()})
            path = os.path.join(tmp, "k.parquet")
            pq.write_table(layout.encode(t), path, **layout.writer_options(level))
            size = os.path.getsize(path)
            out[kind] = {"readings": int(mask.sum()), "bytes_per_reading": round(size / int(mask.sum()), 2)}
    return out


def _hot_costs(conn: psycopg.Connection[Any]) -> dict[str, float]:
    """Bytes per row of copies of the day's chunk, in arrival (time) order, as ingest writes."""
    stored = "ts timestamptz, device_id int, metric_id int2, value float8, flag int2"
    names = "ts, device_id, metric_id, value, flag"
    pk = "PRIMARY KEY (device_id, metric_id, ts)"
    variants = {
        "as stored (flag, PK fillfactor 90)": (stored, names, pk),
        "without the flag column": (stored.removesuffix(", flag int2"), names.removesuffix(", flag"), pk),
        "flag placed after metric_id": (
            "ts timestamptz, value float8, device_id int, metric_id int2, flag int2",
            "ts, value, device_id, metric_id, flag",
            pk,
        ),
        "PK fillfactor 100": (stored, names, pk + " WITH (fillfactor = 100)"),
        "no index": (stored, names, None),
    }
    rows = conn.execute(
        "SELECT count(*) FROM telemetry WHERE ts >= %s AND ts < %s", (DAY, DAY + timedelta(days=1))
    ).fetchone()
    n = int(rows[0]) if rows else 0
    out = {}
    for i, (name, (cols, columns, key)) in enumerate(variants.items()):
        table = f"hot_cost_{i}"
        conn.execute(f"CREATE TABLE {table} ({cols}{', ' + key if key else ''})")
        conn.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM telemetry WHERE ts >= %s AND ts < %s ORDER BY ts",
            (DAY, DAY + timedelta(days=1)),
        )
        heap, total = conn.execute(
            f"SELECT pg_relation_size('{table}'), pg_total_relation_size('{table}')"
        ).fetchone() or (0, 0)
        out[f"{name}: heap"] = round(heap / n, 1)
        out[f"{name}: total"] = round(total / n, 1)
        conn.execute(f"DROP TABLE {table}")
    return out


def main(args: argparse.Namespace) -> int:
    from api.queries import telemetry as q
    from api.series import Aggregate, Interval, Pair, SeriesPlan
    from device_sim.model import generate_model, sim_parks
    from device_sim.signals import ParkSignals
    from smartpark.catalogue import BY_CODE
    from smartpark.registry import load_model
    from smartpark.settings import get_settings
    from storage import cold_read, compaction, export, layout, manifest, retention, tiering
    from storage.coldfs import ColdStore

    settings = get_settings()
    model = generate_model(enterprises=args.enterprises, park="bstore")
    park = sim_parks(model)[0]
    figures: dict[str, Any] = {"enterprises": args.enterprises, "zstd_level": args.zstd_level}
    with scratch_db("smartpark_bench_storage", settings) as scratch, tempfile.TemporaryDirectory() as cold_dir:
        store = ColdStore.of(cold_dir)
        with psycopg.connect(scratch.url, autocommit=True) as conn:
            with conn.transaction():
                load_model(conn, model)
            ids = {
                (e, d): i
                for e, d, i in conn.execute(
                    "SELECT e.code, d.code, d.device_id FROM devices d JOIN enterprises e USING (enterprise_id)"
                ).fetchall()
            }
            park_id = int(conn.execute("SELECT park_id FROM parks WHERE code = 'bstore'").fetchone()[0])  # type: ignore[index]
            day_ticks = int(DAY.timestamp()) + np.arange(1440, dtype=np.int64) * 60
            day = _readings(ParkSignals(park), ids, day_ticks, 60)
            figures["day_readings"] = _copy(conn, day)
            conn.execute("ANALYZE telemetry")
            figures.update({f"hot bytes/row, {k}": v for k, v in _hot_costs(conn).items()})

            # the day's chunk to the cold tier: export rate, the overlapped export against the
            # serial one on the same chunk, alternately, then the real move (manifest, verify, drop)
            chunk = retention.old_chunks(conn, hypertable="telemetry", older_than=DAY + timedelta(days=1))[-1]
            backend = BackendCpu(scratch.url, dbname=scratch.name)
            with export.reader_connections(conn) as readers:
                figures["export readers (connections)"] = len(readers)
                backend.total()  # every reader's backend seen before the first figure

                def by_arrays() -> int:
                    return len(tiering.read_chunk(conn, chunk)["ts"])

                for name, read in (("copy", lambda: _read_by_copy(conn, chunk)), ("arrays", by_arrays)):
                    n, *spent = _cpu_timed(backend, read)
                    assert n == figures["day_readings"]
                    figures[f"read chunk by {name}: s, client cpu s, db cpu s"] = [round(x, 3) for x in spent]
                # pyarrow's first conversions import what they need (about 0.2 s): not in either figure
                layout.encode(layout.table({k: np.asarray(v[:10]) for k, v in day.items()}))
                runs: dict[str, list[tuple[int, float, float, float]]] = {"serial": [], "overlapped": []}
                for _ in range(args.rounds):
                    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
                        runs["serial"].append(
                            _cpu_timed(backend, _serial_export, conn, ColdStore.of(a), chunk, args.zstd_level)
                        )
                        runs["overlapped"].append(
                            _cpu_timed(
                                backend, _overlapped_export, conn, readers, ColdStore.of(b), chunk, args.zstd_level
                            )
                        )
                for name, got in runs.items():
                    assert all(r[0] == figures["day_readings"] for r in got), name
                    walls = [r[1] for r in got]
                    figures[f"export {name}: readings/s, median of {args.rounds}"] = round(
                        figures["day_readings"] / statistics.median(walls)
                    )
                    figures[f"export {name}: wall s, each run"] = [round(w, 3) for w in walls]
                    cpu = statistics.median([r[2] + r[3] for r in got])
                    figures[f"export {name}: readings per cpu s (client + db)"] = round(figures["day_readings"] / cpu)
                t0, cpu0, db0 = time.perf_counter(), time.process_time(), backend.total()
                moved = tiering.move_chunk(conn, store, chunk, zstd_level=args.zstd_level, readers=readers)
                figures["move_chunk_s"] = round(time.perf_counter() - t0, 3)
                cpu = time.process_time() - cpu0
                db_cpu = backend.total() - db0
            figures["move_chunk_cpu_s, this process"] = round(cpu, 3)
            figures["move_chunk_cpu_s, database backends"] = round(db_cpu, 3)
            # the machine-independent figure: readings moved per CPU second, both sides together
            figures["move_readings_per_cpu_s"] = round(moved.rows / (cpu + db_cpu)) if cpu + db_cpu else None
            figures["export_s"] = round(moved.seconds_export, 3)
            figures["export_readings_per_s"] = round(moved.rows / moved.seconds_export)
            figures.update({f"move stage s, {k}": round(v, 3) for k, v in moved.seconds.items()})
            figures["cold_files"] = moved.files
            figures["cold_bytes_per_reading"] = round(moved.bytes / moved.rows, 2)
            for kind, f in _bytes_per_kind(day, args.zstd_level).items():
                figures[f"cold bytes/reading, {kind}"] = f["bytes_per_reading"]
            figures.update(_rollups_of_a_cold_day(conn, store, day))

            # a year of one series every 15 minutes, a month of one device every minute
            meters = [d for d in park.devices if d.kind == "elec_meter"]
            year_dev, month_dev = meters[0], meters[1]
            year_ticks = int(YEAR_FROM.timestamp()) + np.arange(365 * 96, dtype=np.int64) * 900
            year = _readings(ParkSignals(park, devices=[year_dev]), ids, year_ticks, 900)
            keep = year["metric_id"] == BY_CODE["elec.power_kw"].id
            _copy(conn, {k: v[keep] for k, v in year.items()})
            month_ticks = int(MONTH_FROM.timestamp()) + np.arange(31 * 1440, dtype=np.int64) * 60
            figures["month_readings"] = _copy(
                conn, _readings(ParkSignals(park, devices=[month_dev]), ids, month_ticks, 60)
            )
            t0 = time.perf_counter()
            moved_all = tiering.move_old(conn, store, hot_days=HOT_DAYS, zstd_level=args.zstd_level, now=NOW)
            figures["moved_chunks"] = len(moved_all)
            figures["moved_s"] = round(time.perf_counter() - t0, 2)
            t0 = time.perf_counter()
            figures["compacted_daily_files"] = compaction.compact(
                conn, store, before=(NOW - timedelta(days=HOT_DAYS)).date(), zstd_level=args.zstd_level
            )
            figures["compaction_s"] = round(time.perf_counter() - t0, 2)

        with psycopg.connect(scratch.url, autocommit=True, row_factory=psycopg.rows.dict_row) as reader:

            def timed(pairs: list[Pair], start: datetime, end: datetime) -> tuple[float, int]:
                plan = SeriesPlan(tuple(pairs), tuple(Aggregate.AVG for _ in pairs), Interval.RAW, start, end, 10**7)
                runs, n = [], 0
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    pts = q.series(
                        reader, plan, timezones=["Asia/Shanghai"] * len(pairs), parks=[park_id] * len(pairs), cold=store
                    )
                    runs.append(time.perf_counter() - t)
                    n = sum(len(p.ts) for p in pts)
                return statistics.median(runs), n

            s, n = timed(
                [Pair(ids[(year_dev.enterprise, year_dev.code)], BY_CODE["elec.power_kw"])],
                YEAR_FROM,
                YEAR_FROM + timedelta(days=365),
            )
            figures["year_15min_series_ms"], figures["year_15min_points"] = round(s * 1000, 1), n
            t = time.perf_counter()
            year_pair = Pair(ids[(year_dev.enterprise, year_dev.code)], BY_CODE["elec.power_kw"])
            year_end = YEAR_FROM + timedelta(days=365)
            cold_read.raw_series(reader, store, device_id=year_pair.device_id, metric_id=year_pair.metric.id,
                                 park_id=park_id, category="energy", start=YEAR_FROM, end=year_end)  # fmt: skip
            figures["year_15min_cold_part_ms"] = round((time.perf_counter() - t) * 1000, 1)
            figures["year_15min_cold_files"] = len(
                manifest.cold_paths(reader, hypertable="telemetry", park_id=park_id, category="energy",
                                    first_day=YEAR_FROM.date(), last_day=(YEAR_FROM + timedelta(days=364)).date())
            )  # fmt: skip
            dev = ids[(month_dev.enterprise, month_dev.code)]
            pairs = [Pair(dev, BY_CODE[m]) for m in month_dev.metrics]
            s, n = timed(pairs, MONTH_FROM, MONTH_FROM + timedelta(days=31))
            figures["month_device_raw_ms"], figures["month_device_points"] = round(s * 1000, 1), n
    figures["load_average"] = os.getloadavg()[0]
    print(f"{'figure':<60}{'value':>14}")
    for k, v in figures.items():
        print(f"{k:<60}{v!s:>14}")
    print(json.dumps(figures))
    return 0


_ = pa  # pyarrow is imported before the product's storage modules (a clear error when missing)
