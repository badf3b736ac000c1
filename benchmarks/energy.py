"""`smartpark bench energy`: time-of-use kWh and cost from 15-minute rollups, numpy against pandas.

``--meters`` meters (default 10 000) × ``--days`` days (default 31) of 15-minute consumption, half
of the meters on each Inner Mongolia schedule, each with its own prices, as the rollups hold them:
kWh and cost per meter, day and period by the numpy core (``energy.tou``), then by a pandas
formulation of the same computation (merge the calendar, group by meter, day and period, merge
the prices); results are checked equal. Then, in a throw-away database holding the demo park
(40 enterprises, their first electricity meter main below a park intake, the others sub-meters)
with a month of rollups, the park's hourly balance and its month of cost as the API computes them
(read the rollups, compute). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np

from energy.tariffs import PERIODS, Prices
from energy.tou import NP, QUARTER_MS, Calendar, Tou, edge_moves, tou

CODES = ("nm_west_2023", "nm_east_2023")
TZ = "Asia/Shanghai"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs of each side")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas side")
    parser.add_argument("--no-db", action="store_true", help="skip the database part")
    parser.set_defaults(func=run)


def generate(meters: int, cal: Calendar, seed: int = 11) -> dict[str, Any]:
    """Rollup rows sorted by (meter, bucket), 5 % of them missing (a meter silent for a while)."""
    rng = np.random.default_rng(seed)
    b = cal.buckets
    series = np.repeat(np.arange(meters, dtype=np.int64), b)
    bucket = np.tile(cal.start_ms + QUARTER_MS * np.arange(b, dtype=np.int64), meters)
    kwh = rng.exponential(25.0, meters * b).round(2)
    keep = rng.random(series.size) >= 0.05
    schedule = np.arange(meters, dtype=np.int64) % 2
    prices = np.stack(
        [
            Prices(float(f), float(x), schedule=CODES[s]).period_prices()
            for f, x, s in zip(
                rng.uniform(0.25, 0.45, meters).round(4), rng.uniform(0.1, 0.2, meters).round(4), schedule, strict=True
            )
        ]
    )
    kwh, series = kwh[keep], series[keep]
    register = np.cumsum(kwh)  # one register per meter: the offset between meters changes no delta
    return {
        "series": series,
        "bucket": bucket[keep],
        "kwh": kwh,
        "register": register,
        "schedule": schedule,
        "prices": prices,
    }


def numpy_side(cal: Calendar, d: dict[str, Any]) -> Tou:
    return tou(
        cal,
        series=d["series"],
        bucket_ms=d["bucket"],
        consumption=d["kwh"],
        n_series=d["prices"].shape[0],
        prices=d["prices"],
        schedule_of_series=d["schedule"],
        codes=CODES,
    )


def exact_side(cal: Calendar, d: dict[str, Any]) -> Tou:
    """The numpy core as the API runs it: with the intervals across period and day edges shared
    by time (one reading a bucket, at its start, as the rollups keep first and last)."""
    kw: dict[str, Any] = {
        "series": d["series"],
        "bucket_ms": d["bucket"],
        "schedule_of_series": d["schedule"],
        "codes": CODES,
    }
    moves = edge_moves(cal, first=d["register"], first_ts=d["bucket"], last=d["register"], last_ts=d["bucket"], **kw)
    return tou(cal, consumption=d["kwh"], n_series=d["prices"].shape[0], prices=d["prices"], moves=moves, **kw)


def pandas_side(cal: Calendar, d: dict[str, Any]) -> Any:
    import pandas as pd

    buckets = cal.start_ms + QUARTER_MS * np.arange(cal.buckets, dtype=np.int64)
    calendar = pd.concat(
        [
            pd.DataFrame(
                {"bucket": buckets, "schedule": s, "day": cal.day_of_bucket, "period": cal.period[code]}
            ).assign(month=lambda f: cal.month_of_day[f["day"]])
            for s, code in enumerate(CODES)
        ]
    )
    n = d["prices"].shape[0]
    prices = pd.DataFrame(
        {
            "series": np.repeat(np.arange(n), 13 * NP),
            "month": np.tile(np.repeat(np.arange(13), NP), n),
            "period": np.tile(np.arange(NP), n * 13),
            "price": d["prices"].ravel(),
        }
    )
    rows = pd.DataFrame({"series": d["series"], "bucket": d["bucket"], "kwh": d["kwh"]})
    rows["schedule"] = d["schedule"][rows["series"].to_numpy()]
    rows = rows.merge(calendar, on=["bucket", "schedule"], how="inner")
    out = rows.groupby(["series", "day", "period", "month"], sort=True, as_index=False)["kwh"].sum()
    out = out.merge(prices, on=["series", "month", "period"], how="left")
    out["cost"] = out["kwh"] * out["price"]
    return out


def check_equal(got: Tou, frame: Any) -> None:
    s, dy, p = (frame[c].to_numpy() for c in ("series", "day", "period"))
    for name in ("kwh", "cost"):
        mine = getattr(got, name)[s, dy, p]
        if not np.allclose(mine, frame[name].to_numpy(), rtol=1e-9, atol=1e-6):
            raise SystemExit(f"numpy and pandas differ on {name}")
        if not np.isclose(getattr(got, name).sum(), frame[name].sum(), rtol=1e-9):
            raise SystemExit(f"numpy and pandas totals differ on {name}")


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def run(args: argparse.Namespace) -> int:
    first = date(2026, 7, 1)
    cal = Calendar.of(first, first + timedelta(days=args.days - 1), TZ, CODES)
    d = generate(args.meters, cal)
    rows = int(d["series"].size)
    t_np, got = best(lambda: numpy_side(cal, d), args.repeat)
    t_cal, _ = best(lambda: Calendar.of(first, first + timedelta(days=args.days - 1), TZ, CODES), args.repeat)
    t_exact, exact = best(lambda: exact_side(cal, d), args.repeat)
    if not np.isclose(exact.kwh.sum(), got.kwh.sum(), rtol=1e-9):
        raise SystemExit("sharing intervals across edges changed the total")
    t_pd = None
    if not args.no_pandas:
        t_pd, frame = best(lambda: pandas_side(cal, d), max(1, args.repeat - 2))
        check_equal(got, frame)
    db = None if args.no_db else demo_park_month(first, args.days, max(args.repeat, 5))
    kwh, cost = got.per_period()
    print(f"{'figure':46} {'value':>12}")
    print(f"{'rollup rows (meters x days x 96, 5 % missing)':46} {rows:>12,}")
    print(f"{'numpy: TOU kWh and cost per meter/day/period':46} {t_np:>11.3f}s")
    print(f"{'numpy, exact across period edges (as the API)':46} {t_exact:>11.3f}s")
    print(f"{'calendar: periods of the buckets (once)':46} {t_cal:>11.3f}s")
    if t_pd is not None:
        print(f"{'pandas: same computation':46} {t_pd:>11.3f}s")
        print(f"{'speed-up (results equal)':46} {t_pd / t_np:>11.1f}x")
    if db is not None:
        print(f"{'park balance per hour over the days (database)':46} {db['balance_s'] * 1000:>10.1f}ms")
        print(f"{'park TOU cost of the days (database, meters)':46} {db['cost_s'] * 1000:>10.1f}ms")
    for i, name in enumerate(PERIODS):
        print(f"{'  kWh ' + name:46} {kwh[:, i].sum():>12,.0f}")
    print(f"{'  cost, yuan':46} {cost.sum():>12,.0f}")
    print(
        json.dumps(
            {
                "bench": "energy",
                "meters": args.meters,
                "days": args.days,
                "rows": rows,
                "numpy_s": round(t_np, 4),
                "numpy_exact_s": round(t_exact, 4),
                "pandas_s": None if t_pd is None else round(t_pd, 4),
                "speedup": None if t_pd is None else round(t_pd / t_np, 1),
                "db": db,
            }
        )
    )
    return 0


def demo_park_month(first: date, days: int, repeat: int) -> dict[str, Any]:
    """The balance and cost answers of the demo park over the days, from its rollups."""
    import psycopg

    from benchmarks.harness import scratch_db
    from device_sim.model import generate_model
    from energy import meters as em
    from energy import report
    from smartpark.registry import load_model
    from smartpark.settings import get_settings

    model = generate_model(seed=7)
    park = model["parks"][0]
    ops = next(e for e in park["enterprises"] if e["code"] == "ops")
    ops.setdefault("devices", []).append({"code": "in01", "kind": "elec_meter", "zone": "ops"})
    last = first + timedelta(days=days - 1)
    with scratch_db("benchenergy", get_settings()) as scratch, psycopg.connect(scratch.url, autocommit=True) as conn:
        with conn.transaction():
            load_model(conn, model, broker=None)
        park_id = conn.execute("SELECT park_id FROM parks").fetchone()[0]  # type: ignore[index]
        spec: list[dict[str, Any]] = [
            {"code": "IN", "carrier": "electricity", "role": "main", "device": "in01", "device_enterprise": "ops"}
        ]
        for e in park["enterprises"]:
            ems = [d["code"] for g in e.get("gateways", []) for d in g["devices"] if d["kind"] == "elec_meter"]
            for i, code in enumerate(ems):
                node = {
                    "code": f"{e['code']}.{code}",
                    "carrier": "electricity",
                    "enterprise": e["code"],
                    "device": code,
                    "attributes": {"floating_kwh": 0.32, "fixed_kwh": 0.16},
                }
                main = f"{e['code']}.{ems[0]}"
                spec.append({**node, "role": "sub", "parent": main} if i else {**node, "role": "main", "parent": "IN"})
        with conn.transaction():
            tree = em.resolve(conn, park_id=park_id, spec=spec)
            em.replace_tree(conn, park_id=park_id, tree=tree)
        devices = [m.device for m in tree.meters if m.device is not None]
        cal = Calendar.of(first, last, TZ, CODES)
        _store_rollups(conn, devices, cal)
        intake = tree.by_code["IN"]
        members = tree.children("IN")
        t_bal, _ = best(
            lambda: report.balance(conn, parent=intake, children=members, timezone=TZ, first=first, last=last), repeat
        )
        meters = [m for m in tree.meters if m.counts or m.enterprise is None]
        t_cost, _ = best(
            lambda: report.cost(conn, tree=tree, meters=meters, timezone=TZ, first=first, last=last), repeat
        )
    return {
        "meters": len(devices),
        "balance_s": round(t_bal, 4),
        "cost_s": round(t_cost, 4),
        "cost_meters": len(meters),
    }


def _store_rollups(conn: Any, devices: list[int], cal: Calendar) -> None:
    """15-minute and hourly rollups of a steady-ish load on every meter (benchmark data, written
    directly: no ingest, no rollup job)."""
    rng = np.random.default_rng(3)
    cols = "device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts, last, last_ts, consumption"
    starts = cal.start_ms + QUARTER_MS * np.arange(cal.buckets, dtype=np.int64)
    for table, width in (("rollup_15m", 1), ("rollup_1h", 4)):
        with conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for d in devices:
                kwh = rng.exponential(20.0, cal.buckets).reshape(-1, width).sum(axis=1)
                reg = 1000.0 + np.cumsum(kwh)
                for b, k, r in zip(starts[::width].tolist(), kwh.tolist(), reg.tolist(), strict=True):
                    at = _ts(b)
                    copy.write_row((d, 1, at, 1, r, r, r, r, r, at, r, at, k))


def _ts(ms: int) -> Any:
    from smartpark.timebase import datetime_from_ms

    return datetime_from_ms(ms)
