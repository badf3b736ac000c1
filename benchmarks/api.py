"""`smartpark bench api`: latency of a realistic request mix at a fixed rate.

A throw-away database gets 30 days x N devices of hourly and daily rollups (generated in SQL),
open alarms and latest readings; the API runs in a uvicorn subprocess; a load generator in
another process sends an open-loop mix at the target rate: the ops-centre overview, enterprise
series (7 days, 1 h buckets, 5 devices) and the alarm list. The baseline, measured in the same
run at the same rate, is ``/healthz``: the HTTP floor of this machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import psycopg

from benchmarks.harness import BackendCpu, CpuMeter, free_port, process_cpu_s, scratch_db

MIX = (("overview", 0.3), ("series", 0.5), ("alarms", 0.2))


def _model(enterprises: int, per_enterprise: int) -> dict[str, Any]:
    return {
        "parks": [
            {
                "code": "bench",
                "name": "bench park",
                "timezone": "Asia/Shanghai",
                "grid_region": "east",
                "land_area_mu": 12000,
                "enterprises": [
                    {
                        "code": f"e{e:03d}",
                        "name": f"enterprise {e}",
                        "industry": "metallurgy",
                        "devices": [{"code": f"em{d:03d}", "kind": "elec_meter"} for d in range(per_enterprise)],
                    }
                    for e in range(enterprises)
                ],
            }
        ]
    }


def populate(conn: psycopg.Connection[Any], *, devices: int, days: int) -> dict[str, Any]:
    """Registry, rollups (1 h and 1 d of power and import energy), alarms, latest readings,
    users."""
    from api.auth import Role
    from api.queries import users as uq
    from smartpark.registry import load_model

    per = 20
    with conn.transaction():
        load_model(conn, _model(max(devices // per, 1), per))
    ids = [r[0] for r in conn.execute("SELECT device_id FROM devices ORDER BY device_id")]
    span = f"{days} days"
    with conn.transaction():
        for table, step in (("rollup_1h", "1 hour"), ("rollup_1d", "1 day")):
            conn.execute(
                f"INSERT INTO {table} (device_id, metric_id, bucket, count, sum, min, max, mean,"
                " first,"
                " first_ts, last, last_ts, consumption)"
                " SELECT d.device_id, m.metric_id, b, 60, 60 * 50, 10, 90, 50, 40, b, 60, b,"
                "  CASE WHEN m.metric_id = 1 THEN 50 ELSE NULL END"
                " FROM devices d CROSS JOIN (VALUES (1::smallint), (3::smallint)) m(metric_id)"
                f" CROSS JOIN generate_series(date_trunc('day', now()) - interval '{span}',"
                f"  date_trunc('day', now()), interval '{step}') b"
            )
        conn.execute(
            "INSERT INTO telemetry_latest (device_id, metric_id, ts, value) SELECT device_id, 3, now(), 50 FROM devices"
        )
        conn.execute(
            "INSERT INTO alerts (rule_id, series_key, park_id, enterprise_id, device_id, metric,"
            " severity,"
            " category, state, started_at, firing_at)"
            " SELECT 'power-high', 'd:' || d.device_id, e.park_id, e.enterprise_id, d.device_id,"
            "  'elec.power_kw', (ARRAY['critical','major','minor','warning'])[1 + d.device_id %"
            " 4], 'energy',"
            "  CASE WHEN d.device_id % 3 = 0 THEN 'firing' ELSE 'resolved' END,"
            "  now() - (d.device_id || ' minutes')::interval, now()"
            " FROM devices d JOIN enterprises e USING (enterprise_id)"
        )
        conn.execute(
            "INSERT INTO indicator_daily (park_id, enterprise_id, day, electricity_kwh,"
            " tce_equivalent, co2_t)"
            " SELECT p.park_id, NULL, g::date, 1e5, 12.29, 55 FROM parks p"
            f" CROSS JOIN generate_series(current_date - {days}, current_date, interval '1 day') g"
        )
        park_id = conn.execute("SELECT park_id FROM parks").fetchone()[0]  # type: ignore[index]
        ent = conn.execute("SELECT enterprise_id FROM enterprises ORDER BY enterprise_id LIMIT 1").fetchone()[0]  # type: ignore[index]
        op = uq.create_user(conn, name="bench-operator", role=Role.OPERATOR, park_id=park_id)
        en = uq.create_user(conn, name="bench-enterprise", role=Role.ENTERPRISE, enterprise_id=ent)
        op_key, _ = uq.create_key(conn, user_id=op["user_id"])
        en_key, _ = uq.create_key(conn, user_id=en["user_id"])
    ent_devices = [
        r[0]
        for r in conn.execute(
            "SELECT device_id FROM devices WHERE enterprise_id = %s ORDER BY device_id LIMIT 5",
            (ent,),
        )
    ]
    # Settle the fresh rows (hint bits, visibility map, statistics) as a running system's are;
    # otherwise the first reads write and autovacuum competes with the measurement.
    conn.execute("VACUUM (ANALYZE)")
    return {
        "park_id": park_id,
        "enterprise_id": ent,
        "devices": ent_devices,
        "operator_key": op_key.key,
        "enterprise_key": en_key.key,
        "device_count": len(ids),
    }


def _requests(ctx: dict[str, Any], base: str) -> dict[str, tuple[str, dict[str, Any], str]]:
    end = time.time()
    start = end - 7 * 86400
    iso = lambda t: time.strftime("%Y-%m-%dT%H:00:00Z", time.gmtime(t))  # noqa: E731
    series = [f"{d}:elec.power_kw" for d in ctx["devices"]]
    return {
        "overview": (f"{base}/api/v1/overview", {"park_id": ctx["park_id"]}, "operator"),
        "series": (
            f"{base}/api/v1/telemetry/series",
            {"series": series, "from": iso(start), "to": iso(end), "interval": "1h"},
            "enterprise",
        ),
        "alarms": (f"{base}/api/v1/alarms", {"state": "firing", "limit": 50}, "operator"),
        "healthz": (f"{base}/healthz", {}, "operator"),
    }


def load(base: str, ctx: dict[str, Any], kinds: list[str], rate: float, seconds: float, out: Any) -> None:
    """Open loop: request i is due at i / rate whatever the earlier ones did (no coordinated
    omission); latency counts from the due time. http.client keeps the generator's own CPU low."""
    import http.client
    from urllib.parse import urlencode

    host, port = urlsplit(base).hostname or "127.0.0.1", urlsplit(base).port or 80
    tokens = {}
    for who in ("operator", "enterprise"):
        c = http.client.HTTPConnection(host, port, timeout=10)
        c.request("POST", "/api/v1/auth/token", headers={"X-API-Key": ctx[f"{who}_key"]})
        tokens[who] = json.loads(c.getresponse().read())["access_token"]
        c.close()
    paths = {
        kind: (
            urlsplit(url).path + ("?" + urlencode(params, doseq=True) if params else ""),
            {"Authorization": f"Bearer {tokens[who]}"},
        )
        for kind, (url, params, who) in _requests(ctx, base).items()
    }
    n = int(rate * seconds)
    results: list[tuple[str, float, int]] = []
    lock = threading.Lock()
    local = threading.local()

    def one(i: int, due: float) -> None:
        kind = kinds[i % len(kinds)]
        path, headers = paths[kind]
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        status = 0
        for _attempt in range(2):  # a kept-alive connection the server closed is reopened once
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(host, port, timeout=10)
            try:
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                break
            except (OSError, http.client.HTTPException):
                conn.close()
                local.conn = None
        with lock:
            results.append((kind, time.perf_counter() - due, status))

    t0 = time.perf_counter() + 0.2
    with ThreadPoolExecutor(max_workers=32) as pool:
        for i in range(n):
            pool.submit(one, i, t0 + i / rate)
    wall = time.perf_counter() - t0
    out.put({"results": results, "wall": wall})


def api_cpu_meter(api_pid: int, db_url: str) -> CpuMeter:
    """The API process's own cost, and the PostgreSQL backends of the bench database (the API's
    pool, on the same cores): per request, a figure the shared machine's load inflates far less
    than latency."""
    return CpuMeter({"api": lambda: process_cpu_s(api_pid), "db": BackendCpu(db_url).total})


def cpu_per_request(spent: dict[str, float | None], requests: int) -> dict[str, float]:
    n = max(requests, 1)
    return {f"{k}_cpu_ms": round((v or 0.0) * 1000 / n, 2) for k, v in spent.items()}


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the API did not become ready")


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def _summary(results: list[tuple[str, float, int]], wall: float) -> dict[str, Any]:
    by: dict[str, list[float]] = {}
    errors = 0
    for kind, lat, status in results:
        by.setdefault(kind, []).append(lat)
        errors += status != 200
    return {
        "requests": len(results),
        "rps": round(len(results) / wall, 1),
        "errors": errors,
        **{
            k: {
                "n": len(v),
                "p50_ms": round(_pct(v, 0.5), 1),
                "p95_ms": round(_pct(v, 0.95), 1),
                "p99_ms": round(_pct(v, 0.99), 1),
            }
            for k, v in sorted(by.items())
        },
        "all": {
            "p50_ms": round(_pct([r[1] for r in results], 0.5), 1),
            "p95_ms": round(_pct([r[1] for r in results], 0.95), 1),
            "p99_ms": round(_pct([r[1] for r in results], 0.99), 1),
        },
    }


def warm_up(base: str, ctx: dict[str, Any]) -> None:
    """One request of each kind: FastAPI builds its routes' dependency plans on first use."""
    import httpx

    with httpx.Client(timeout=30.0) as c:
        tokens = {
            who: c.post(f"{base}/api/v1/auth/token", headers={"X-API-Key": ctx[f"{who}_key"]}).json()["access_token"]
            for who in ("operator", "enterprise")
        }
        for url, params, who in _requests(ctx, base).values():
            for _ in range(3):
                c.get(url, params=params, headers={"Authorization": f"Bearer {tokens[who]}"})


def _drive(base: str, ctx: dict[str, Any], kinds: list[str], rate: float, seconds: float) -> dict[str, Any]:
    q: mp.Queue[Any] = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(target=load, args=(base, ctx, kinds, rate, seconds, q))
    proc.start()
    got = q.get(timeout=seconds + 120)
    proc.join(timeout=30)
    return _summary(got["results"], got["wall"])


def run(args: argparse.Namespace, *, clock: Callable[[], float] = time.perf_counter) -> int:
    from smartpark.db.migrate import migrate

    proc = None
    # migrated below, inside the timed set-up
    with scratch_db("smartpark_bench_api", migrated=False) as scratch:
        url = scratch.url
        try:
            t = clock()
            with psycopg.connect(url, autocommit=True) as conn:
                migrate(conn)
                ctx = populate(conn, devices=args.devices, days=args.days)
                rows = conn.execute(
                    "SELECT (SELECT count(*) FROM rollup_1h) + (SELECT count(*) FROM rollup_1d)"
                ).fetchone()
            setup_s = clock() - t
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = {
                **os.environ,
                "SMARTPARK_DATABASE_URL": url,
                "SMARTPARK_API_POOL_MAX": str(args.pool),
            }
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "smartpark.cli",
                    "api",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                env=env,
            )
            _wait_ready(base, proc)
            warm_up(base, ctx)
            mix = [k for k, share in MIX for _ in range(int(share * 10))]
            load_before = os.getloadavg()[0]
            baseline = _drive(base, ctx, ["healthz"], args.rate, args.seconds / 2)
            meter = api_cpu_meter(proc.pid, url).start()
            figures = _drive(base, ctx, mix, args.rate, args.seconds)
            cpu = cpu_per_request(meter.spent(), figures["requests"])
            load_after = os.getloadavg()[0]
            # Each request kind alone, same rate: where the CPU of the mix goes, per route (healthz:
            # the HTTP floor of one request).
            per_route = {}
            for kind in [k for k, _ in MIX] + ["healthz"] if args.route_seconds > 0 else ():
                meter.start()
                alone = _drive(base, ctx, [kind], args.rate, args.route_seconds)
                per_route[kind] = {**alone[kind], **cpu_per_request(meter.spent(), alone["requests"])}
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=15)
    print(
        f"setup: {ctx['device_count']} devices x {args.days} days, {rows[0] if rows else 0}"
        " rollup rows,"
        f" {setup_s:.1f} s"
    )
    print(
        f"target {args.rate:g} req/s for {args.seconds:g} s; achieved {figures['rps']} req/s,"
        f" errors {figures['errors']}"
    )
    print(f"{'request':<10} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for kind in ("overview", "series", "alarms", "all"):
        f = figures[kind]
        print(f"{kind:<10} {f.get('n', figures['requests']):>6} {f['p50_ms']:>8} {f['p95_ms']:>8} {f['p99_ms']:>8}")
    b = baseline["healthz"]
    print(f"{'healthz*':<10} {b['n']:>6} {b['p50_ms']:>8} {b['p95_ms']:>8} {b['p99_ms']:>8}   (*baseline, same rate)")
    print(
        f"CPU per request of the mix: API process {cpu['api_cpu_ms']:.2f} ms, database backends"
        f" {cpu['db_cpu_ms']:.2f} ms; machine load average {load_before:.1f} ->"
        f" {load_after:.1f} on {os.cpu_count()} cores"
    )
    if per_route:
        print(f"each kind alone at {args.rate:g} req/s for {args.route_seconds:g} s:")
        print(f"{'request':<10} {'p50 ms':>8} {'p95 ms':>8} {'API CPU ms':>11} {'DB CPU ms':>10}")
        for kind, f in per_route.items():
            print(f"{kind:<10} {f['p50_ms']:>8} {f['p95_ms']:>8} {f['api_cpu_ms']:>11} {f['db_cpu_ms']:>10}")
    target_ok = figures["overview"]["p95_ms"] < 100 and figures["series"]["p95_ms"] < 100
    print(
        json.dumps(
            {
                "bench": "api",
                "devices": ctx["device_count"],
                "days": args.days,
                "rate": args.rate,
                "seconds": args.seconds,
                "rps": figures["rps"],
                "errors": figures["errors"],
                "overview": figures["overview"],
                "series": figures["series"],
                "alarms": figures["alarms"],
                "all": figures["all"],
                "baseline_healthz": b,
                "api_cpu_ms_per_request": cpu["api_cpu_ms"],
                "db_cpu_ms_per_request": cpu["db_cpu_ms"],
                "per_route": per_route,
                "load_average": [round(load_before, 1), round(load_after, 1)],
                "target_p95_under_100ms": target_ok,
            }
        )
    )
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of the mix")
    parser.add_argument("--pool", type=int, default=10, help="API connection pool size")
    parser.add_argument("--route-seconds", type=float, default=4.0, help="each kind alone afterwards (0: skip)")
    parser.set_defaults(func=run)
