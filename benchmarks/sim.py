"""`smartpark bench sim`: what one simulator process sustains in real time.

1. CPU cost of one tick (signals + payloads for every device), repeated: the ceiling of devices
   per process at a given interval, network aside.
2. Real time against the local broker, ``--devices`` devices at one reading every
   ``--interval`` s for ``--duration`` s, once with the single polling thread (``select``) and
   once with paho's thread per connection (``threads``, the baseline), measuring CPU use of the
   process, ticks that started late and readings/s achieved against the target.

The benchmark park (code ``simbench``, fixed seed, so the same accounts every run) needs one
broker account per gateway; the broker hashes each password slowly (~0.1 s), so missing accounts
are created once and kept for the next run (``--remove-accounts`` deletes them).
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

import numpy as np

from benchmarks.harness import IngestProcess, ensure_accounts, remove_accounts, scratch_db
from device_sim.load import park_from, run_realtime
from device_sim.model import SimPark, generate_model
from device_sim.publisher import Publisher
from device_sim.simulation import Simulation

THREADS_MAX_GATEWAYS = 300


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between readings")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per real-time run")
    parser.add_argument("--loops", default="select,threads", help="network loops to compare")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--remove-accounts", action="store_true", help="delete the benchmark's broker accounts afterwards"
    )
    parser.add_argument(
        "--backfill-days", type=float, default=0, help="also back-fill this many days through a real ingester (0: skip)"
    )
    parser.add_argument("--backfill-enterprises", type=int, default=40)
    parser.add_argument("--backfill-interval", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1, help="ingest workers for the back-fill")
    parser.add_argument("--skip-realtime", action="store_true")
    parser.set_defaults(func=run)


def bench_model(devices: int, seed: int) -> dict[str, Any]:
    """A generated park with at least ``devices`` devices, cut to whole gateways."""
    code = "simbench"
    per_enterprise = 21.0  # what the generator yields on average; corrected below
    enterprises = max(1, math.ceil(devices / per_enterprise))
    while True:
        model = generate_model(enterprises=enterprises, seed=seed, park=code)
        park = model["parks"][0]
        total = sum(len(g["devices"]) for e in park["enterprises"] for g in e["gateways"])
        if total >= devices:
            break
        enterprises = math.ceil(enterprises * devices / total * 1.05)
    kept, count = [], 0
    for ent in park["enterprises"]:
        if count >= devices:
            break
        kept.append(ent)
        count += sum(len(g["devices"]) for g in ent["gateways"])
    park["enterprises"] = kept
    return model


def tick_cost(park: SimPark, interval: float, repeats: int = 5) -> float:
    """Median CPU seconds of one real-time tick for all devices (signals + JSON payloads)."""
    sim = Simulation(park)
    now = int(time.time())
    costs = []
    for i in range(repeats):
        t0 = time.process_time()
        sim.rounds([now + int(i * interval)], interval, now + i * interval)
        costs.append(time.process_time() - t0)
    return float(np.median(costs))


def realtime(park: SimPark, loop: str, interval: float, duration: float) -> dict[str, Any]:
    from smartpark.mqtt import mqtt_url
    from smartpark.settings import get_settings

    with Publisher(
        park.gateways,
        url=mqtt_url(get_settings()),
        loop=loop,
        max_inflight=5000,
        session_expiry=60,
    ) as pub:
        t = time.monotonic()
        pub.connect(timeout=120)
        connect_s = time.monotonic() - t
        cpu0, wall0 = time.process_time(), time.monotonic()
        summary = run_realtime(park, pub, interval_s=interval, duration_s=duration)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    target = sum(len(d.metrics) for d in park.devices) / interval
    return {
        "loop": loop,
        "gateways": len(park.gateways),
        "devices": len(park.devices),
        "connect_s": round(connect_s, 2),
        "ticks": summary.ticks,
        "late_ticks": summary.late_ticks,
        "max_lag_s": round(summary.max_lag_s, 3),
        "readings_per_s": round(summary.readings / max(1, summary.ticks) / interval, 1),
        "target_readings_per_s": round(target, 1),
        "cpu_pct": round(100 * cpu / wall, 1),
        # Devices one fully busy core would carry at this interval, by the measured CPU share.
        "devices_per_core": round(len(park.devices) * wall / cpu) if cpu > 0 else None,
        "messages": summary.messages,
    }


def run(args: argparse.Namespace) -> int:
    from smartpark.registry import broker_accounts
    from smartpark.settings import get_settings

    settings = get_settings()
    backfill_figures = backfill_bench(args) if args.backfill_days > 0 else None
    if args.skip_realtime:
        print(json.dumps({"bench": "sim", "backfill": backfill_figures}))
        return 0
    model = bench_model(args.devices, args.seed)
    park = park_from(model)
    n_dev, n_gw = len(park.devices), len(park.gateways)
    cost = tick_cost(park, args.interval)
    ceiling = n_dev * args.interval / cost if cost > 0 else math.inf
    rows = []
    accounts = broker_accounts(model)
    t = time.monotonic()
    created = ensure_accounts(settings, accounts)
    setup_s = time.monotonic() - t
    try:
        loops = [x.strip() for x in args.loops.split(",") if x.strip()]
        for loop in loops:
            if loop == "threads" and n_gw > THREADS_MAX_GATEWAYS:
                # paho's own loop select()s its socket and wake-up pair: past fd 1024 it
                # fails, so compare both loops on as many gateways as threads can hold.
                part = SimPark(park.code, park.timezone, park.seed, park.gateways[:THREADS_MAX_GATEWAYS])
                if "select" in loops:
                    rows.append(realtime(part, "select", args.interval, args.duration))
                rows.append(realtime(part, "threads", args.interval, args.duration))
            else:
                rows.append(realtime(park, loop, args.interval, args.duration))
    finally:
        if args.remove_accounts:
            remove_accounts(settings, accounts)
    print(
        f"park: {n_dev} devices on {n_gw} gateways, a reading every {args.interval:g} s "
        f"({created} broker accounts created in {setup_s:.1f} s)"
    )
    print(
        f"tick cost (signals + payloads, all devices): {cost * 1000:.0f} ms CPU "
        f"-> ceiling ~{ceiling:,.0f} devices per process at this interval"
    )
    header = (
        "loop",
        "gateways",
        "devices",
        "connect_s",
        "ticks",
        "late_ticks",
        "max_lag_s",
        "readings_per_s",
        "cpu_pct",
        "devices_per_core",
    )
    print(" | ".join(f"{h:>12}" for h in header))
    for r in rows:
        print(" | ".join(f"{r[h]!s:>12}" for h in header))
    base = next((r for r in rows if r["loop"] == "threads"), None)
    best = next((r for r in rows if r["loop"] == "select" and base and r["gateways"] == base["gateways"]), None)
    result = {
        "bench": "sim",
        "devices": n_dev,
        "gateways": n_gw,
        "interval_s": args.interval,
        "tick_cpu_ms": round(cost * 1000, 1),
        "device_ceiling": round(ceiling),
        "runs": rows,
    }
    if backfill_figures is not None:
        result["backfill"] = backfill_figures
    if base and best and best["cpu_pct"] > 0:
        result["cpu_ratio_threads_over_select"] = round(base["cpu_pct"] / best["cpu_pct"], 2)
    print(json.dumps(result))
    return 0


def backfill_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Back-fill a generated park through ``smartpark ingest`` into a scratch database."""
    import psycopg

    from device_sim.load import ProgressBar, backfill
    from smartpark.mqtt import mqtt_url
    from smartpark.registry import broker_accounts, load_model
    from smartpark.settings import get_settings

    settings = get_settings()
    model = generate_model(enterprises=args.backfill_enterprises, seed=args.seed, park="simbackfill")
    park = park_from(model)
    service = None
    with scratch_db("smartpark_simbench", settings) as scratch:
        db_url = scratch.url
        try:
            ensure_accounts(settings, broker_accounts(model))
            with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():
                load_model(conn, model)  # accounts are in place: skip re-hashing passwords
            service = IngestProcess(db_url=db_url, park=park.code, workers=args.workers, name="simbench")
            end = int(time.time()) - 60
            t0 = time.monotonic()
            with Publisher(park.gateways, url=mqtt_url(settings), max_inflight=1000, session_expiry=120) as pub:
                pub.connect(timeout=120)
                summary = backfill(
                    park,
                    pub,
                    start_s=int(end - args.backfill_days * 86_400),
                    end_s=end,
                    interval_s=args.backfill_interval,
                    progress=ProgressBar(),
                )
            published_s = time.monotonic() - t0
            with psycopg.connect(db_url, autocommit=True) as conn:
                count_sql = "SELECT count(*) FROM telemetry"
                deadline = time.monotonic() + 600
                while True:
                    row = conn.execute(count_sql).fetchone()
                    stored = int(row[0]) if row else 0
                    if stored >= summary.readings or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
            stored_s = time.monotonic() - t0
        finally:
            if service is not None:
                service.stop()
    figures = {
        "enterprises": args.backfill_enterprises,
        "devices": len(park.devices),
        "gateways": len(park.gateways),
        "days": args.backfill_days,
        "interval_s": args.backfill_interval,
        "readings_sent": summary.readings,
        "readings_stored": stored,
        "all_stored": stored == summary.readings,
        "messages": summary.messages,
        "publish_s": round(published_s, 1),
        "stored_s": round(stored_s, 1),
        "readings_per_s": round(summary.readings / stored_s),
        "ingest_workers": args.workers,
    }
    print("back-fill: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    return figures
