"""`smartpark bench energy`: time-of-use kWh and cost from 15-minute rollups, numpy against pandas.

``--meters`` meters (default 10 000) × ``--days`` days (default 31) of 15-minute consumption, half
of the meters on each Inner Mongolia schedule, each with its own prices, as the rollups hold them:
kWh and cost per meter, day and period by the numpy core (``energy.tou``), then by a pandas
formulation of the same computation (merge the calendar, group by meter, day and period, merge
the prices); results are checked equal. Then the hourly park balance of a month (40 enterprise
main meters against the intake) by ``energy.balance``. In memory, no database. Prints a table,
then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np

from energy import balance
from energy.tariffs import PERIODS, Prices
from energy.tou import NP, QUARTER_MS, Calendar, Tou, tou

CODES = ("nm_west_2023", "nm_east_2023")
TZ = "Asia/Shanghai"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--meters", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs of each side")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas side")
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
    return {"series": series[keep], "bucket": bucket[keep], "kwh": kwh[keep], "schedule": schedule, "prices": prices}


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


def park_balance(days: int, enterprises: int = 40, seed: int = 5) -> Callable[[], balance.Balance]:
    rng = np.random.default_rng(seed)
    members = rng.exponential(500.0, (enterprises, days * 24))
    intake = members.sum(axis=0) * rng.uniform(1.01, 1.04, days * 24)
    return lambda: balance.balance(intake, members)


def run(args: argparse.Namespace) -> int:
    first = date(2026, 7, 1)
    cal = Calendar.of(first, first + timedelta(days=args.days - 1), TZ, CODES)
    d = generate(args.meters, cal)
    rows = int(d["series"].size)
    t_np, got = best(lambda: numpy_side(cal, d), args.repeat)
    t_cal, _ = best(lambda: Calendar.of(first, first + timedelta(days=args.days - 1), TZ, CODES), args.repeat)
    t_pd = None
    if not args.no_pandas:
        t_pd, frame = best(lambda: pandas_side(cal, d), max(1, args.repeat - 2))
        check_equal(got, frame)
    t_bal, _ = best(park_balance(args.days), max(args.repeat, 5))
    kwh, cost = got.per_period()
    print(f"{'figure':46} {'value':>12}")
    print(f"{'rollup rows (meters x days x 96, 5 % missing)':46} {rows:>12,}")
    print(f"{'numpy: TOU kWh and cost per meter/day/period':46} {t_np:>11.3f}s")
    print(f"{'  of which the calendar (periods of buckets)':46} {t_cal:>11.3f}s")
    if t_pd is not None:
        print(f"{'pandas: same computation':46} {t_pd:>11.3f}s")
        print(f"{'speed-up (results equal)':46} {t_pd / t_np:>11.1f}x")
    print(f"{'park balance per hour, 40 enterprises, month':46} {t_bal * 1000:>10.2f}ms")
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
                "pandas_s": None if t_pd is None else round(t_pd, 4),
                "speedup": None if t_pd is None else round(t_pd / t_np, 1),
                "balance_month_ms": round(t_bal * 1000, 3),
            }
        )
    )
    return 0
