"""`smartpark bench NAME`: each benchmark prints a table and, last, one JSON line of figures."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable

BENCHES: dict[str, tuple[str, str]] = {
    "ingest": ("benchmarks.ingest", "MQTT -> TimescaleDB throughput against a naive baseline"),
    "aggregate": ("benchmarks.aggregate", "rollup core and incremental job against SQL and pandas"),
    "alerts": ("benchmarks.alerts", "publish -> webhook latency of threshold alarms"),
    "notify": ("benchmarks.notify", "gas leak -> email and robots latency, escalation deadlines, storms"),
    "api": ("benchmarks.api", "requests/s and latency of a realistic API mix"),
    "hj212": ("benchmarks.hj212", "HJ 212 packets/s decoded and readings/s stored"),
    "sim": ("benchmarks.sim", "simulator readings/s from one process"),
    "indicators": ("benchmarks.indicators", "indicator job per live run: gaps across midnight later vs linear"),
    "platform": ("benchmarks.platform", "the whole platform under live load and disturbances, minute by minute"),
    "completeness": ("benchmarks.completeness", "transmission and effective rates of 1 000 devices × 30 days"),
    "forward": ("benchmarks.forward", "HJ 212 forwarding: packets/s, end-to-end p99, backlog after an outage"),
    "page": ("benchmarks.page", "cold load of each ops-centre view in headless Chromium"),
    "storage": ("benchmarks.storage", "bytes per reading hot and cold, export rate, reads across tiers"),
    "region": ("benchmarks.region", "the region's class check and ranking of 100 parks × 5 years"),
    "emergency": ("benchmarks.emergency", "alarm -> incident -> first pages; a 2-hour incident's report"),
    "energy": ("benchmarks.energy", "time-of-use kWh and cost of 10 000 meters × 31 days, numpy against pandas"),
    "energy-alarms": (
        "benchmarks.energy_alarms",
        "energy alarm figures of 2 000 enterprises × 4 meters over a month, and the alarm loop's longest step",
    ),
    "reports": ("benchmarks.reports", "CSV/XLSX export rows/s and peak memory, the demo park's monthly report pack"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench", metavar="BENCH", required=True)
    wanted = sys.argv[2] if len(sys.argv) > 2 else None
    for name, (module, help_) in BENCHES.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if name == wanted:
            importlib.import_module(module).configure(p)
            p.set_defaults(func=_on_local_services(p.get_default("func")))


def _on_local_services(run: Callable[[argparse.Namespace], int | None]) -> Callable[[argparse.Namespace], int | None]:
    """A benchmark runs on the servers of the settings, else on the local services: their URLs
    are resolved here, once, for the benchmark and the processes it starts."""

    def with_urls(args: argparse.Namespace) -> int | None:
        from operations.services import local
        from smartpark.settings import get_settings

        os.environ.update(local.runtime_env(local.resolved(get_settings())))
        get_settings.cache_clear()
        return run(args)

    return with_urls
