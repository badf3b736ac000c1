"""The figures of `smartpark bench platform`: per minute and overall, printed as a table and then
as one JSON line."""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from benchmarks.platform_load import Samples
from benchmarks.platform_model import GAS


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 4) if values else None


def report(
    args: argparse.Namespace,
    s: Samples,
    t0: float,
    published: int,
    stored: int,
    cpu: dict[str, float],
    rss: dict[str, float],
) -> int:
    minutes = int(np.ceil(args.minutes))

    def in_minute(xs: list[tuple[float, float]], m: int | None) -> list[float]:
        return [v for t, v in xs if m is None or t0 + 60 * m <= t < t0 + 60 * (m + 1)]

    def row(m: int | None) -> dict[str, Any]:
        return {
            "stored_lag_p99_s": _pct(in_minute(s.stored_lag, m), 99),
            "rollup_lag_max_s": max(in_minute(s.rollup_lag, m), default=None),
            "alarm_p99_s": _pct(in_minute(s.alarm, m), 99),
            "alarms": len(in_minute(s.alarm, m)),
            "longest_pause_s": max(in_minute(s.pause, m), default=None),
            "longest_swap_s": max(in_minute(s.swap, m), default=None),
            "api_p95_s": {k: _pct(in_minute(v, m), 95) for k, v in sorted(s.api.items())},
        }

    print(
        f"{'minute':>6} {'stored p99':>10} {'rollup lag':>10} {'alarm p99':>9} {'pause':>7} {'swap':>7}"
        "  API p95 per route (s)"
    )
    for m in [*range(minutes), None]:
        r = row(m)
        label = "all" if m is None else str(m + 1)
        print(
            f"{label:>6} {r['stored_lag_p99_s'] or '-':>10} {r['rollup_lag_max_s'] or '-':>10}"
            f" {r['alarm_p99_s'] or '-':>9} {r['longest_pause_s'] or '-':>7} {r['longest_swap_s'] or '-':>7}"
            f"  {r['api_p95_s']}"
        )
    for t, what in s.events:
        print(f"  at {t - t0:6.1f} s: {what}")
    lost, doubled = max(0, published - stored), max(0, stored - published)
    print(f"readings published {published}, stored {stored}: lost {lost}, doubled {doubled}")
    print(f"leaks: {len(s.alarm) + s.missed}, alarmed within 30 s {len(s.alarm)}, missed {s.missed}")
    print(f"CPU s per service: {cpu}; memory growth MB: {rss}")
    overall = row(None)
    print(
        json.dumps(
            {
                "bench": "platform",
                "devices": args.devices,
                "interval_s": args.interval,
                "minutes": args.minutes,
                "readings_per_s": round(args.devices * len(GAS) / args.interval),
                **overall,
                "per_minute": [row(m) for m in range(minutes)],
                "published": published,
                "stored": stored,
                "lost": lost,
                "doubled": doubled,
                "leaks_missed": s.missed,
                "cpu_s": cpu,
                "memory_growth_mb": rss,
                "events": [(round(t - t0, 1), w) for t, w in s.events],
            }
        )
    )
    return 0
