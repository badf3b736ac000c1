"""`smartpark sim`: generate a park model, run it in real time, or back-fill its history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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


def cmd_init(args: argparse.Namespace) -> int:
    try:
        model = generate_model(
            enterprises=args.enterprises, seed=args.seed, park=args.park, name=args.name
        )
    except ModelError as exc:
        print(f"smartpark sim init: {exc}", file=sys.stderr)
        return 2
    if str(args.output) == "-":
        from .model import dump_model

        sys.stdout.write(dump_model(model))
    else:
        write_model(model, args.output)
        park = model["parks"][0]
        n_dev = sum(len(g["devices"]) for e in park["enterprises"] for g in e["gateways"])
        n_gw = sum(len(e["gateways"]) for e in park["enterprises"])
        print(
            f"wrote {args.output}: park {park['code']!r}, {len(park['enterprises'])} enterprises, "
            f"{n_gw} gateways, {n_dev} devices",
            file=sys.stderr,
        )
    return 0
