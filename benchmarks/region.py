"""`smartpark bench region`: the region's class check and ranking of N parks × Y years.

Two figures: the numpy core alone (``region.ranking.rank_region`` on (park × year) arrays, the
two history years of the three-years-below-class check included), and the whole answer of
``GET /region/results`` from a scratch region database holding one signed annual package per
park and year (``region.results.results``: read the latest revisions, rank, trend, missing
packages). The issue's target: 100 parks × 5 years in under 1 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from typing import Any

import numpy as np
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.harness import scratch_db
from region import store
from region.package import decode, digest, new_package, public_raw, sign
from region.ranking import RANKING_FIGURES, rank_region
from region.results import HISTORY, results

LAST_YEAR = 2025


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--parks", type=int, default=100)
    parser.add_argument("--years", type=int, default=5, help="years ranked (1-10), plus 2 of history")
    parser.add_argument("--repeat", type=int, default=20, help="timed runs of each figure")
    parser.set_defaults(func=main)


def _figures(rng: np.random.Generator, parks: int, years: int) -> dict[str, np.ndarray]:
    """Outputs spread over class 1, class 2 and below (10⁴ yuan); other figures plausible."""
    shape = (parks, years)
    out = {k: rng.uniform(1.0, 100.0, shape) for k in RANKING_FIGURES}
    out["output_value"] = rng.lognormal(np.log(400_000.0), 1.0, shape)
    out["tax"] = out["output_value"] * rng.uniform(0.02, 0.08, shape)
    return out


def _timed(fn: Any, repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return runs


def _fill(conn: psycopg.Connection[Any], figures: dict[str, np.ndarray], parks: int, years: list[int]) -> None:
    """One signed annual package per park and year, stored as the region's intake stores it."""
    for i in range(parks):
        key = Ed25519PrivateKey.generate()
        code = f"bp{i:04d}"
        store.register_park(
            conn, code=code, name=code, league=f"l{i % 12:02d}", public_key=public_raw(key), designated_class=1 + i % 2
        )
        for j, year in enumerate(years):
            body = {"figures": {k: float(v[i, j]) for k, v in figures.items()}, "kind": "annual"}
            env = sign(new_package(park=code, period=str(year), revision=1, body=body, clock=time.time), key)
            raw = env.package
            store.add_submission(conn, package=decode(raw), raw=raw, signature=env.signature, digest=digest(raw))


def main(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(21)
    span = list(range(LAST_YEAR - args.years - HISTORY + 1, LAST_YEAR + 1))
    figures = _figures(rng, args.parks, len(span))
    codes = [f"bp{i:04d}" for i in range(args.parks)]
    designated = [1 + i % 2 for i in range(args.parks)]
    submitted = np.ones((args.parks, len(span)), dtype=bool)
    core = _timed(lambda: rank_region(codes, designated, span, figures, submitted, history=HISTORY), args.repeat)
    from smartpark.settings import get_settings

    with (
        scratch_db("smartpark_bench_region", get_settings()) as scratch,
        psycopg.connect(scratch.url, autocommit=True) as conn,
    ):
        with conn.transaction():
            _fill(conn, figures, args.parks, span)
        conn.execute("ANALYZE region_submissions")
        answer: list[dict[str, Any]] = []

        def whole() -> None:
            answer[:] = results(conn, year=LAST_YEAR, years=args.years, today=date(LAST_YEAR + 1, 6, 1))

        whole_runs = _timed(whole, args.repeat)
    ranked = sum(1 for r in answer if r["rank"] is not None)
    figures_out = {
        "parks": args.parks,
        "years": args.years,
        "ranked_last_year": ranked,
        "core_median_ms": round(1000 * statistics.median(core), 2),
        "core_max_ms": round(1000 * max(core), 2),
        "results_median_ms": round(1000 * statistics.median(whole_runs), 1),
        "results_max_ms": round(1000 * max(whole_runs), 1),
        "target_ms": 1000,
    }
    print(f"{'figure':<28}{'median ms':>12}{'max ms':>12}")
    print(f"{'ranking core (numpy)':<28}{figures_out['core_median_ms']:>12}{figures_out['core_max_ms']:>12}")
    print(f"{'results from the database':<28}{figures_out['results_median_ms']:>12}{figures_out['results_max_ms']:>12}")
    print(json.dumps(figures_out))
    return 0 if figures_out["results_max_ms"] < 1000 else 1
