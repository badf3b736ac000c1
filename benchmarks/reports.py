"""`smartpark bench reports`: the streamed CSV export's rows/s and peak memory, the XLSX export's
rows/s, and the time of the demo park's monthly report pack.

A scratch database gets ``--series`` series (electricity meters, 4 metrics each, 10 meters per
enterprise) with ``--days`` days of 15-minute rollups, then the export of GET /exports/telemetry
(api/queries/exports.py through reports/tabular.py's COPY path) runs in a fresh process for a
quarter of the range and for all of it: rows per second, and the process's peak RSS, which
stays flat when the export streams. The demo park (40 enterprises, ``device_sim``) gets a month
of daily and monthly indicators, economic reports and alarms, and its monthly pack (XLSX + PDF)
is generated for the park, then for every enterprise.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from benchmarks.harness import scratch_db

T0 = datetime(2025, 1, 1, tzinfo=UTC) - timedelta(hours=8)  # local midnight, Asia/Shanghai
MONTH = date(2026, 11, 1)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--series", type=int, default=1000, help="series exported (4 per meter)")
    parser.add_argument("--days", type=int, default=30, help="days of 15-minute data (365: a year)")
    parser.add_argument("--xlsx-days", type=int, default=2, help="days exported as XLSX")
    parser.add_argument("--skip-pack", action="store_true", help="leave out the demo park's report pack")
    parser.set_defaults(func=main)


def _model(series: int) -> dict[str, Any]:
    meters = (series + 3) // 4
    ents = []
    for e in range((meters + 9) // 10):
        devs = [{"code": f"m{k:02d}", "kind": "elec_meter"} for k in range(min(10, meters - e * 10))]
        ents.append({"code": f"e{e:04d}", "name": "bench", "gateways": [{"code": "gw1", "devices": devs}]})
    return {"parks": [{"code": "expb", "name": "bench", "timezone": "Asia/Shanghai", "enterprises": ents}]}


def _fill_rollups(conn: psycopg.Connection[Any], days: int) -> int:
    """``days`` days of 15-minute rows for every series, a month per statement."""
    for first in range(0, days, 31):
        n = min(31, days - first) * 96
        conn.execute(
            "INSERT INTO rollup_15m (device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts,"
            " last, last_ts, consumption)"
            " SELECT dm.device_id, dm.metric_id, b, 15, 15 * v, v, v, v, v, b, v, b, v / 4"
            " FROM device_metrics dm, generate_series(0, %(n)s - 1) i,"
            " LATERAL (SELECT %(t0)s + (%(first)s * 96 + i) * interval '15 minutes' AS b,"
            " (dm.device_id %% 97) + (i %% 96) * 0.5 AS v) x",
            {"n": n, "t0": T0, "first": first},
        )
    conn.execute("ANALYZE rollup_15m")
    row = conn.execute("SELECT count(*) FROM rollup_15m").fetchone()
    return int(row[0]) if row else 0


def _export(url: str, days: int, fmt: str, out: Any) -> None:
    """In a fresh process: export ``days`` days of every series; rows, seconds, peak RSS (MiB)."""
    from api.auth import Principal, Role
    from api.queries import exports
    from api.series import Interval
    from reports import tabular

    admin = Principal(0, "bench", Role.ADMIN)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        park = conn.execute("SELECT park_id, code, timezone FROM parks WHERE code = 'expb'").fetchone()
        assert park is not None
        export = exports.telemetry(
            conn, admin, park=park, enterprise_id=None, device_ids=None, metric_ids=None,
            interval=Interval.M15, start=T0, end=T0 + timedelta(days=days),
        )  # fmt: skip
        t0 = time.perf_counter()
        size = lines = 0
        if fmt == "csv":
            for chunk in tabular.copy_chunks(conn, export.columns, export.sql, export.params):
                size += len(chunk)
                lines += chunk.count(b"\n")
            rows = lines - 1
        else:
            f = tabular.xlsx_file(export.columns, tabular.cursor_rows(conn, export.sql, export.params), sheet="数据")
            for chunk in tabular.file_chunks(f):
                size += len(chunk)
            rows = len(export.params["dev"]) * days * 96
        seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put({"rows": rows, "seconds": seconds, "bytes": size, "rss_mib": peak, "rss_after_import_mib": base_rss})


def _in_child(url: str, days: int, fmt: str) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_export, args=(url, days, fmt, q))
    p.start()
    got: dict[str, Any] = q.get(timeout=3600)
    p.join()
    return got


def _fill_demo_month(conn: psycopg.Connection[Any], park_id: int) -> None:
    """A month of indicators for every enterprise (and the park's sums), economic reports and
    50 alarms with events: what the indicator job and alerting would have left."""
    first, last = MONTH, (MONTH + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    conn.execute(
        "INSERT INTO indicator_daily (park_id, enterprise_id, day, electricity_kwh, natural_gas_nm3, steam_t,"
        " water_m3, tce_equivalent, tce_equal, co2_t, so2_kg, nox_kg, dust_kg, exceedance_minutes, readings)"
        " SELECT e.park_id, e.enterprise_id, d::date, 5000 + e.enterprise_id * 13 %% 7000, 300, 12, 800,"
        " 2.5, 6.1, 9.3, 1.2, 2.4, 0.3, (e.enterprise_id + extract(day FROM d)::int) %% 17, 9000"
        " FROM enterprises e, generate_series(%(a)s::date, %(b)s::date, interval '1 day') d WHERE e.park_id = %(p)s",
        {"a": first, "b": last, "p": park_id},
    )
    sums = ", ".join(
        f"sum({c})"
        for c in ("electricity_kwh", "natural_gas_nm3", "steam_t", "water_m3", "tce_equivalent", "tce_equal",
                  "co2_t", "so2_kg", "nox_kg", "dust_kg", "exceedance_minutes", "readings")
    )  # fmt: skip
    cols = (
        "electricity_kwh, natural_gas_nm3, steam_t, water_m3, tce_equivalent, tce_equal, co2_t, so2_kg, nox_kg,"
        " dust_kg, exceedance_minutes, readings"
    )
    conn.execute(
        f"INSERT INTO indicator_daily (park_id, enterprise_id, day, {cols}) SELECT park_id, NULL, day, {sums}"
        " FROM indicator_daily WHERE park_id = %s GROUP BY park_id, day",
        (park_id,),
    )
    conn.execute(
        f"INSERT INTO indicator_monthly (park_id, enterprise_id, month, {cols}, output_value, value_added, tax,"
        f" fixed_asset_investment, employees, rd_expense, land_area_mu, enterprises)"
        f" SELECT park_id, enterprise_id, %(m)s, {sums}, 3000, 800, 120, 400, 150, 60, 200, 41"
        " FROM indicator_daily WHERE park_id = %(p)s GROUP BY park_id, enterprise_id",
        {"m": MONTH, "p": park_id},
    )
    conn.execute(
        "INSERT INTO economic_monthly (enterprise_id, month, output_value, value_added, tax,"
        " fixed_asset_investment, employees, rd_expense, source)"
        " SELECT enterprise_id, %s, 3000, 800, 120, 400, 150, 60, 'bench' FROM enterprises WHERE park_id = %s",
        (MONTH, park_id),
    )
    conn.execute(
        "WITH a AS (INSERT INTO alerts (rule_id, series_key, park_id, enterprise_id, device_id, metric, severity,"
        " category, state, summary, trigger_value, started_at, firing_at, acknowledged_at, acknowledged_by,"
        " resolved_at)"
        " SELECT 'bench', 'd:' || d.device_id, e.park_id, e.enterprise_id, d.device_id, 'stack.so2_mgm3',"
        " (ARRAY['critical','major','minor','warning'])[1 + d.device_id %% 4], 'emissions', 'resolved', '超标',"
        " 120, %(t)s + d.device_id * interval '7 hours', %(t)s + d.device_id * interval '7 hours',"
        " %(t)s + d.device_id * interval '7 hours' + interval '9 minutes', 'duty',"
        " %(t)s + d.device_id * interval '7 hours' + interval '1 hour'"
        " FROM devices d JOIN enterprises e USING (enterprise_id) WHERE e.park_id = %(p)s"
        " ORDER BY d.device_id LIMIT 50 RETURNING alert_id, started_at)"
        " INSERT INTO alert_events (alert_id, at, kind, by) SELECT alert_id, started_at, 'firing', 'system' FROM a",
        {"t": datetime(2026, 11, 1, tzinfo=UTC), "p": park_id},
    )


def _pack(url: str) -> dict[str, Any]:
    from device_sim.model import generate_model
    from reports import job, sources
    from smartpark.registry import load_model

    with psycopg.connect(url, autocommit=True) as plain, plain.transaction():
        load_model(plain, generate_model(enterprises=40, park="demo"))
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        park_id = conn.execute("SELECT park_id FROM parks WHERE code = 'demo'").fetchone()["park_id"]  # type: ignore[index]
        with conn.transaction():
            _fill_demo_month(conn, park_id)
        subjects = sources.subjects(conn, park_id=park_id)
        t0 = time.perf_counter()
        park = job.generate(conn, subjects[0], kind="monthly", period=MONTH, created_by="bench")
        park_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        for s in subjects[1:]:
            job.generate(conn, s, kind="monthly", period=MONTH, created_by="bench")
        every_s = time.perf_counter() - t1
    return {
        "pack_park_s": round(park_s, 2),
        "pack_park_xlsx_kib": round(park.xlsx_bytes / 1024, 1),
        "pack_park_pdf_kib": round(park.pdf_bytes / 1024, 1),
        "pack_enterprises": len(subjects) - 1,
        "pack_enterprises_s": round(every_s, 2),
    }


def main(args: argparse.Namespace) -> int:
    from smartpark.registry import load_model
    from smartpark.settings import get_settings

    figures: dict[str, Any] = {"series": args.series, "days": args.days}
    with scratch_db("smartpark_bench_reports", get_settings()) as scratch:
        with psycopg.connect(scratch.url, autocommit=True) as conn:
            with conn.transaction():
                load_model(conn, _model(args.series))
            t0 = time.perf_counter()
            figures["rollup_rows"] = _fill_rollups(conn, args.days)
            figures["fill_s"] = round(time.perf_counter() - t0, 1)
        for label, days in (("quarter", max(1, args.days // 4)), ("all", args.days)):
            got = _in_child(scratch.url, days, "csv")
            figures[f"csv_{label}_rows"] = got["rows"]
            figures[f"csv_{label}_rows_per_s"] = round(got["rows"] / got["seconds"])
            figures[f"csv_{label}_mib"] = round(got["bytes"] / 2**20, 1)
            figures[f"csv_{label}_peak_rss_mib"] = round(got["rss_mib"], 1)
            print(f"csv {label}: {got}", flush=True)
        got = _in_child(scratch.url, args.xlsx_days, "xlsx")
        figures["xlsx_rows"] = got["rows"]
        figures["xlsx_rows_per_s"] = round(got["rows"] / got["seconds"])
        figures["xlsx_peak_rss_mib"] = round(got["rss_mib"], 1)
        if not args.skip_pack:
            figures |= _pack(scratch.url)
    print(f"{'figure':<28}{'value':>14}")
    for k, v in figures.items():
        print(f"{k:<28}{v!s:>14}")
    print(json.dumps(figures))
    return 0
