"""`smartpark bench page`: cold load of each ops-centre view in headless Chromium.

A throw-away database gets a park of N enterprises (demo-sized by default: 50), each with an
electricity, water and gas meter, a gas detector and, for one in five, a stack CEMS; 40 days of
daily indicators, two days of 15-minute park load, latest readings of every series and the default
alert rules, all generated in SQL. The API runs in a subprocess as `smartpark api` runs it; for
each view a new browser context (empty cache) opens the view with a stored key and waits until
every panel is filled. Printed per view: time to every panel filled, API calls (sign-in and the
view's own; the target is at most 8 together) and bytes transferred (compressed). Debian's
Chromium is driven through playwright.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

import psycopg

from benchmarks.api import _wait_ready
from benchmarks.harness import free_port, scratch_db

VIEWS = ("overview", "plan", "energy", "environment", "safety", "enterprise", "regulator", "device")
# The page's sign-in: the token exchange and, at the same time, the park context (one answer
# whatever the number of enterprises: api/routes/page.py).
SIGN_IN = {"/auth/token", "/page/context"}
CHROMIUM = "/usr/bin/chromium"
WARM_SETTLE_S = 3.0  # the static files' background recompression (brotli q10) takes ~1 s of a core
# Every panel has its data: the view is ready, nothing is still loading, every chart is drawn.
FILLED = """() => {
  const v = document.querySelector('#view');
  if (!v || v.dataset.ready !== '1' || v.querySelector('.empty:not([data-empty])')) return false;
  if (v.textContent.includes('加载中') || v.textContent.includes('Loading')) return false;
  return [...v.querySelectorAll('.chart')].every((c) => c.dataset.empty === '0' || c.dataset.empty === '1');
}"""


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--enterprises", type=int, default=50, help="enterprises of the park (demo: 50)")
    p.add_argument("--runs", type=int, default=3, help="cold loads of each view; the median is printed")
    p.add_argument("--width", type=int, default=1920)
    p.add_argument("--height", type=int, default=1080)
    p.add_argument("--waterfall", action="store_true", help="print each view's requests: start, end, size (ms, KiB)")
    p.set_defaults(func=run)


def _model(enterprises: int) -> dict[str, Any]:
    def devices(e: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {"code": "em1", "kind": "elec_meter", "zone": f"A{e % 9 + 1}"},
            {"code": "wm1", "kind": "water_meter", "zone": f"A{e % 9 + 1}"},
            {"code": "gm1", "kind": "gas_meter", "zone": f"A{e % 9 + 1}"},
            {"code": "gd1", "kind": "gas_detector", "zone": f"C{e % 9 + 1}"},
        ]
        if e % 5 == 0:
            out.append(
                {"code": "cems1", "kind": "stack_cems", "zone": f"B{e % 9 + 1}", "attributes": {"o2_ref_pct": 9}}
            )
        return out

    return {
        "parks": [
            {
                "code": "benchpage",
                "name": "基准园区",
                "timezone": "Asia/Shanghai",
                "grid_region": "east",
                "land_area_mu": 12000,
                "enterprises": [
                    {
                        "code": f"e{e:03d}",
                        "name": f"第{e + 1}号企业有限公司",
                        "industry": "chemical",
                        "devices": devices(e),
                    }
                    for e in range(enterprises)
                ],
            }
        ]
    }


def populate(conn: psycopg.Connection[Any], *, enterprises: int) -> tuple[str, int]:
    """The park, its figures and an admin key; returns the key and an electricity meter's id (the
    device view's device)."""
    from alerting import rule_store
    from alerting.rules import default_rules
    from api.auth import Role
    from api.queries import users as uq
    from smartpark.registry import load_model

    with conn.transaction():
        load_model(conn, _model(enterprises))
        rule_store.save_rules(conn, rules=default_rules(), by="bench")
        park_id = conn.execute("SELECT park_id FROM parks WHERE code = 'benchpage'").fetchone()[0]  # type: ignore[index]
        today = "(now() AT TIME ZONE 'Asia/Shanghai')::date"
        days = f"generate_series(({today} - 40)::timestamp, {today}::timestamp, '1 day') g(ts)"
        conn.execute(
            "INSERT INTO indicator_daily (park_id, enterprise_id, day, electricity_kwh, water_m3, natural_gas_nm3,"
            " raw_coal_t, heat_gj, tce_equivalent, co2_t, so2_kg, readings)"
            f" SELECT %(p)s, e.enterprise_id, g.ts::date, 2000 + e.enterprise_id * 10, 30, 50, 5, 20,"
            " (2000 + e.enterprise_id * 10) * 0.1229 / 1000 + 50 * 1.2143 / 1000 + 5 * 0.7143 + 20 * 0.03412,"
            f" 3, 1, 1440 FROM enterprises e CROSS JOIN {days} WHERE e.park_id = %(p)s",
            {"p": park_id},
        )
        sums = ", ".join(
            f"sum({c})"
            for c in (
                "electricity_kwh",
                "water_m3",
                "natural_gas_nm3",
                "raw_coal_t",
                "heat_gj",
                "tce_equivalent",
                "co2_t",
                "so2_kg",
                "readings",
            )
        )
        conn.execute(
            "INSERT INTO indicator_daily (park_id, enterprise_id, day, electricity_kwh, water_m3, natural_gas_nm3,"
            f" raw_coal_t, heat_gj, tce_equivalent, co2_t, so2_kg, readings) SELECT park_id, NULL, day, {sums}"
            " FROM indicator_daily WHERE park_id = %(p)s GROUP BY park_id, day",
            {"p": park_id},
        )
        conn.execute(
            "INSERT INTO rollup_15m (device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts,"
            " last, last_ts) SELECT d.device_id, 3, b, 15, 1500, 80, 120, 100 + 20 * sin(extract(epoch FROM b) / 7200),"
            " 100, b, 100, b FROM devices d CROSS JOIN generate_series(date_trunc('hour', now()) - interval '2 days',"
            " now(), interval '15 minutes') b WHERE d.kind = 'elec_meter'"
        )
        conn.execute(
            "INSERT INTO telemetry_latest (device_id, metric_id, ts, value)"
            " SELECT dm.device_id, dm.metric_id, now(), CASE WHEN m.code = 'stack.o2_pct' THEN 9"
            "  WHEN m.code = 'safety.o2_pct' THEN 20.9 WHEN m.code = 'safety.lel_pct' THEN 2 ELSE 20 END"
            " FROM device_metrics dm JOIN metrics m USING (metric_id)"
        )
        admin = uq.create_user(conn, name="bench-page-admin", role=Role.ADMIN)
        made, _ = uq.create_key(conn, user_id=admin["user_id"])
        meter = conn.execute("SELECT min(device_id) FROM devices WHERE kind = 'elec_meter'").fetchone()[0]  # type: ignore[index]
    return made.key, int(meter)


def _cold_load(browser: Any, base: str, key: str, view: str, size: tuple[int, int]) -> dict[str, Any]:
    """One cold load of ``view`` (a hash path: ``overview``, ``device?id=42``)."""
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, timezone_id="Europe/London")
    ctx.add_init_script(f"sessionStorage.setItem('smartpark.apiKey', '{key}')")
    page = ctx.new_page()
    calls: list[str] = []
    transferred = [0]

    def done(request: Any) -> None:
        try:
            sizes = request.sizes()
        except Exception:  # torn down with the page
            return
        transferred[0] += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if "/api/v1/" in request.url and request.resource_type in ("fetch", "xhr"):
            calls.append(request.url.split("/api/v1", 1)[1].split("?")[0])

    page.on("requestfinished", done)
    try:
        t0 = time.perf_counter()
        page.goto(f"{base}/#/{view}")
        page.wait_for_function(FILLED, timeout=60_000)
        seconds = time.perf_counter() - t0
        # What the browser waited on: every request's start and end since navigation, and size.
        waterfall = page.evaluate(
            "() => performance.getEntriesByType('resource').map((e) => [e.name.replace(location.origin, ''),"
            " Math.round(e.startTime), Math.round(e.responseEnd), e.transferSize])"
        )
        filled_ms = page.evaluate("() => Math.round(performance.now())")
    finally:
        ctx.close()
    own = [c for c in calls if c not in SIGN_IN]
    return {
        "seconds": seconds,
        "sign_in_calls": len(calls) - len(own),
        "view_calls": len(own),
        "bytes": transferred[0],
        "waterfall": waterfall,
        "filled_ms": filled_ms,
    }


def run(args: argparse.Namespace) -> int:
    from playwright.sync_api import sync_playwright

    from smartpark.db.migrate import migrate
    from smartpark.settings import get_settings

    proc = None
    with scratch_db("smartpark_bench_page", get_settings(), migrated=False) as scratch:
        try:
            with psycopg.connect(scratch.url, autocommit=True) as conn:
                migrate(conn)
                key, meter = populate(conn, enterprises=args.enterprises)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            env = {**os.environ, "SMARTPARK_DATABASE_URL": scratch.url}
            cmd = [sys.executable, "-m", "smartpark.cli", "api", "--port", str(port), "--log-level", "warning"]
            proc = subprocess.Popen(cmd, env=env)
            _wait_ready(base, proc)
            results: dict[str, list[dict[str, Any]]] = {}
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                # A running server: each view once (the API's first requests, every static file
                # compressed), then the high-quality recompression of those files in the background
                # (api/compression.py) left to finish before the timed loads.
                paths = {view: f"device?id={meter}" if view == "device" else view for view in VIEWS}
                for path in paths.values():
                    _cold_load(browser, base, key, path, (args.width, args.height))
                time.sleep(WARM_SETTLE_S)
                for view, path in paths.items():
                    results[view] = [
                        _cold_load(browser, base, key, path, (args.width, args.height)) for _ in range(args.runs)
                    ]
                browser.close()
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=15)
    print(f"park of {args.enterprises} enterprises, {args.width}x{args.height}, median of {args.runs} cold loads")
    print(f"{'view':12s} {'filled s':>9s} {'sign-in calls':>14s} {'view calls':>11s} {'KiB':>7s}")
    figures = {}
    for view, runs in results.items():
        mid = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
        waterfall = mid.pop("waterfall")
        figures[view] = {**mid, "seconds": round(mid["seconds"], 3)}
        if args.waterfall:
            print(f"-- {view}: requests (start ms, end ms, KiB) until filled at {mid['filled_ms']} ms")
            for name, start, end, size in waterfall:
                print(f"   {start:6d} {end:6d} {size / 1024:7.1f}  {name[:110]}")
        calls = f"{mid['sign_in_calls']:14d} {mid['view_calls']:11d}"
        print(f"{view:12s} {mid['seconds']:9.2f} {calls} {mid['bytes'] / 1024:7.0f}")
    print(json.dumps({"bench": "page", "enterprises": args.enterprises, "views": figures}))
    return 0
