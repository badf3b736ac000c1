"""`smartpark sim`: generate a park model, run it in real time, or back-fill its history."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .model import ModelError, generate_model, write_model


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="sim_command", metavar="ACTION", required=True)

    p = sub.add_parser("init", help="write a generated park model (registry YAML)")
    p.add_argument("--enterprises", type=int, default=40, help="enterprises besides park operations")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--park", default="demo", help="park code [a-z0-9-]")
    p.add_argument("--name", help="park name (default: generated)")
    p.add_argument("-o", "--output", type=Path, default=Path("park.yaml"), help="'-' for stdout")
    p.set_defaults(func=cmd_init)
    configure_runs(sub)


def cmd_init(args: argparse.Namespace) -> int:
    try:
        model = generate_model(enterprises=args.enterprises, seed=args.seed, park=args.park, name=args.name)
    except ModelError as exc:
        print(f"smartpark sim init: {exc}", file=sys.stderr)
        return 2
    if str(args.output) == "-":
        from .model import dump_model

        sys.stdout.write(dump_model(model))
    else:
        from smartpark import park_plan

        park = model["parks"][0]
        # The park plan beside the model, for the park's people to redraw (regions keep their names).
        plan = args.output.with_name(f"{args.output.stem}-plan.svg")
        plan.write_text(park_plan.generate(park_plan.plot_specs(park)), encoding="utf-8")
        park["plan"] = plan.name
        write_model(model, args.output)
        n_dev = sum(len(g["devices"]) for e in park["enterprises"] for g in e["gateways"])
        n_gw = sum(len(e["gateways"]) for e in park["enterprises"])
        print(
            f"wrote {args.output}: park {park['code']!r}, {len(park['enterprises'])} enterprises, "
            f"{n_gw} gateways, {n_dev} devices; its plan: {plan}",
            file=sys.stderr,
        )
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", type=Path, default=Path("park.yaml"), help="park model (sim init)")
    p.add_argument("--park", help="park code, when the model holds several")
    p.add_argument("--enterprise", action="append", metavar="CODE", help="only these (repeatable)")
    p.add_argument("--first", type=int, metavar="N", help="only the first N enterprises")
    p.add_argument("--seed", type=int, help="signal seed (default: the model's sim_seed)")
    p.add_argument("--faults", default="", help="e.g. 'drop=0.01,late=0.02,offline=0.5' or 'all'")
    p.add_argument("--url", help="broker URL (default: the configured / local broker)")
    p.add_argument(
        "--loop",
        choices=("select", "threads"),
        default="select",
        help="network I/O: one polling thread, or a paho thread per gateway",
    )
    p.add_argument("--max-inflight", type=int, default=1000, help="unacknowledged messages at most")
    p.add_argument("--json", action="store_true", help="summary as one JSON line only")
    p.add_argument(
        "--hj212",
        metavar="HOST:PORT",
        help="CEMS, wastewater and air stations upload over HJ 212 to smartpark hj212 serve",
    )


def configure_runs(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="publish readings in real time")
    _common(p)
    p.add_argument("--interval", type=float, default=10.0, help="seconds between readings")
    p.add_argument("--duration", type=float, help="seconds to run (default: until Ctrl-C)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("backfill", help="publish history as fast as the platform takes it")
    _common(p)
    p.add_argument("--days", type=float, default=30.0)
    p.add_argument("--end", help="end of the history, RFC 3339 (default: now)")
    p.add_argument("--interval", type=int, default=300, help="seconds between readings")
    p.add_argument(
        "--ticks-per-message", type=int, default=12, help="readings of each device batched per gateway message"
    )
    p.set_defaults(func=cmd_backfill)


def _setup(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from .faults import FaultConfig
    from .load import park_from
    from .publisher import Publisher

    if args.first is not None and args.first < 1:
        raise ModelError(f"--first {args.first} must be at least 1")
    park = park_from(args.model, park=args.park, enterprises=args.enterprise, first=args.first, seed=args.seed)
    if not park.gateways:
        raise ModelError(f"no gateways selected in {str(args.model)!r}")
    faults = FaultConfig.parse(args.faults)
    from smartpark.mqtt import mqtt_url
    from smartpark.settings import get_settings

    url = args.url or mqtt_url(get_settings())
    pub = Publisher(park.gateways, url=url, loop=args.loop, max_inflight=args.max_inflight)
    return park, faults, pub


def _guarded(action: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from .faults import FaultError
        from .publisher import PublishError

        try:
            return action(args)
        except (ModelError, FaultError, ValueError) as exc:
            print(f"smartpark sim {args.sim_command}: {exc}", file=sys.stderr)
            return 2
        except PublishError as exc:
            print(f"smartpark sim {args.sim_command}: {exc}", file=sys.stderr)
            return 1

    return run


@_guarded
def cmd_run(args: argparse.Namespace) -> int:
    from .load import print_summary, run_realtime

    park, faults, pub = _setup(args)
    n = len(park.devices)
    print(f"{len(park.gateways)} gateways, {n} devices, a reading every {args.interval:g} s", file=sys.stderr)
    direct = _hj212(args, park)
    try:
        with pub:
            pub.connect()
            summary = run_realtime(
                park,
                pub,
                interval_s=args.interval,
                duration_s=args.duration,
                faults=faults,
                direct=direct,
                on_tick=_status_line(),
            )
    finally:
        if direct is not None:
            direct.close()
    _report(summary, args.json, print_summary)
    return 0


@_guarded
def cmd_backfill(args: argparse.Namespace) -> int:
    from .load import ProgressBar, backfill, print_summary

    if not 0 < args.days <= 366:
        raise ValueError(f"--days {args.days} outside (0, 366]")
    if not 1 <= args.ticks_per_message <= 1000:
        raise ValueError(f"--ticks-per-message {args.ticks_per_message} outside 1..1000")
    end = _parse_time(args.end) if args.end else int(time.time())
    start = int(end - args.days * 86_400)
    # The ingester refuses readings older than its window: start inside it, with a margin for
    # the time the back-fill itself takes to reach the ingester.
    from smartpark.settings import get_settings

    window_days = get_settings().ingest.accept_past_days
    oldest = int(time.time() - window_days * 86_400 + 600)
    if start < oldest:
        print(
            f"the platform accepts readings up to {window_days:g} days old: starting at "
            f"{datetime.fromtimestamp(oldest, UTC).isoformat()}",
            file=sys.stderr,
        )
        start = oldest
    if start >= end:
        raise ValueError(f"--end {args.end!r} is older than the platform accepts")
    park, faults, pub = _setup(args)
    print(
        f"{len(park.gateways)} gateways, {len(park.devices)} devices, {args.days:g} days every {args.interval} s",
        file=sys.stderr,
    )
    direct = _hj212(args, park)
    try:
        with pub:
            pub.connect()
            summary = backfill(
                park,
                pub,
                start_s=start,
                end_s=end,
                interval_s=args.interval,
                ticks_per_round=args.ticks_per_message,
                faults=faults,
                progress=ProgressBar(),
                direct=direct,
            )
    finally:
        if direct is not None:
            direct.close()
    _report(summary, args.json, print_summary)
    return 0


def _status_line(every_s: float = 60.0) -> Callable[[Any], None]:
    """A line on stderr about once a minute, so a long run shows it is alive and on time."""
    last = [time.monotonic()]

    def show(summary: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= every_s:
            last[0] = now
            print(
                f"{summary.ticks} ticks, {summary.readings} readings in {summary.messages} "
                f"messages, max lag {summary.max_lag_s:.2f} s, late ticks {summary.late_ticks}",
                file=sys.stderr,
                flush=True,
            )

    return show


def _hj212(args: argparse.Namespace, park: Any) -> Any:
    if not args.hj212:
        return None
    from .hj212 import Hj212Sender, parse_address, speaks_hj212

    host, port = parse_address(args.hj212)
    loggers = [d for d in park.devices if speaks_hj212(d)]
    print(f"{len(loggers)} devices upload over HJ 212 to {host}:{port}", file=sys.stderr)
    return Hj212Sender(loggers, host, port, tz=park.timezone)


def _report(summary: Any, json_only: bool, printer: Callable[[Any], None]) -> None:
    if json_only:
        print(json.dumps(summary.as_dict(), sort_keys=True))
    else:
        printer(summary)


def _parse_time(text: str) -> int:
    from smartpark.contract import parse_ts

    try:
        return parse_ts(text) // 1000
    except ValueError as exc:
        raise ValueError(f"--end: {exc}") from exc
