"""The `smartpark` command: one entry point, one subcommand per service or tool.

Each subcommand lives in its own module, imported only when used, exposing
``configure(parser)`` which adds its arguments and sets ``func`` (called with the parsed args;
its return value is the exit code).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from pydantic import ValidationError

from smartpark.settings import SettingMissing
from smartpark.stacks import stacks_on_request

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "services": ("operations.services.cli", "start, stop and inspect the local TimescaleDB and Mosquitto"),
    "db": ("smartpark.db.cli", "database migrations"),
    "registry": ("smartpark.registry_cli", "load parks, enterprises, gateways and devices"),
    "ingest": ("ingest.cli", "MQTT -> TimescaleDB ingesters"),
    "sim": ("device_sim.cli", "the simulated park"),
    "aqi": ("aggregation.aqi_cli", "air-quality index of concentrations (HJ 633)"),
    "scheduler": ("aggregation.scheduler_cli", "rollups, indicators and retention on a schedule"),
    "storage": ("storage.cli", "storage report, retention with the Parquet cold tier, columnstore"),
    "economic": ("aggregation.economic_cli", "economic monthly reports"),
    "energy": ("energy.cli", "the meter tree of a park from a file; the time-of-use schedules"),
    "alerting": ("alerting.cli", "streaming alarm evaluation and notification delivery"),
    "emergency": ("emergency.cli", "hazards, plans and resources; the rule that opens incidents"),
    "api": ("api.cli", "the HTTP API and the ops-centre page"),
    "users": ("api.users_cli", "users and API keys"),
    "hj212": ("ingest.hj212.cli", "HJ 212 data-logger protocol: decode, serve"),
    "region": ("region.cli", "the regional level: park submissions (Art. 21), the region's ranking (Art. 22)"),
    "bench": ("benchmarks.cli", "benchmarks that print their figures (source checkout only)"),
    "up": ("operations.supervisor", "run every component of the platform in the foreground"),
}


def _command_module(module: str) -> ModuleType:
    """The module of a command. The benchmarks are not installed (neither in the wheel nor in the
    image): in a source checkout they sit beside the ``smartpark`` package, and are found there."""
    if module.split(".")[0] == "benchmarks" and importlib.util.find_spec("benchmarks") is None:
        checkout = Path(__file__).resolve().parent.parent
        if not (checkout / "benchmarks" / "__init__.py").is_file():
            raise SystemExit(
                "smartpark bench: the benchmarks come with the source tree, not with the installed package"
            )
        sys.path.insert(0, str(checkout))  # spawned bench processes inherit it
    return importlib.import_module(module)


def build_parser(commands: dict[str, tuple[str, str]] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smartpark", description="Smart industrial-park platform")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = sys.argv[1] if len(sys.argv) > 1 else None
    for name, (module, help_) in commands.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if name == wanted:  # import only the module that runs
            _command_module(module).configure(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is not None:
        sys.argv = ["smartpark", *argv]
    stacks_on_request()
    parser = build_parser()
    args = parser.parse_args()
    func = getattr(args, "func", None)
    if func is None:
        parser.parse_args([args.command, "--help"])
        return 2
    try:
        return int(func(args) or 0)
    except SettingMissing as exc:  # a configuration error, not a crash: no traceback
        print(f"smartpark {args.command}: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:  # a bad SMARTPARK_* value, named by pydantic
        print(f"smartpark {args.command}: bad setting: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
