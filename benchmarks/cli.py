"""`smartpark bench NAME`: each benchmark prints a table and, last, one JSON line of figures."""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHES: dict[str, tuple[str, str]] = {
    "ingest": ("benchmarks.ingest", "MQTT -> TimescaleDB throughput against a naive baseline"),
    "aggregate": ("benchmarks.aggregate", "rollup core and incremental job against SQL and pandas"),
    "alerts": ("benchmarks.alerts", "publish -> webhook latency of threshold alarms"),
    "api": ("benchmarks.api", "requests/s and latency of a realistic API mix"),
    "hj212": ("benchmarks.hj212", "HJ 212 packets/s decoded and readings/s stored"),
    "sim": ("benchmarks.sim", "simulator readings/s from one process"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="bench", metavar="BENCH", required=True)
    wanted = sys.argv[2] if len(sys.argv) > 2 else None
    for name, (module, help_) in BENCHES.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if name == wanted:
            importlib.import_module(module).configure(p)
