"""`smartpark hj212 decode` (packets on stdin -> JSON lines), `serve`, `forward` and `targets load`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

MAX_LINE = 16 * 1024  # a frame is at most 10 011 bytes


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="hj212", metavar="ACTION", required=True)
    dec = sub.add_parser("decode", help="decode packets, one per line on stdin, to JSON lines")
    dec.set_defaults(func=_decode)
    srv = sub.add_parser("serve", help="accept data loggers over TCP and republish their readings")
    srv.add_argument("--host", default=None, help="listen address (default: settings hj212_host or 0.0.0.0)")
    srv.add_argument("--port", type=int, default=None, help="listen port (default: settings hj212_port or 8212)")
    srv.add_argument(
        "--store-cn",
        default="2011",
        help="data commands a logger may send; the finest becomes telemetry, coarser ones (averages"
        " of it) are counted for reconciliation, never stored twice (default real-time: 2011)",
    )
    srv.set_defaults(func=_serve)
    fwd = sub.add_parser("forward", help="deliver recorded packets to the upstream platforms (targets)")
    fwd.set_defaults(func=_forward)
    tgt = sub.add_parser("targets", help="upstream targets of forwarding")
    tsub = tgt.add_subparsers(dest="targets", metavar="ACTION", required=True)
    tload = tsub.add_parser("load", help="create or replace targets and their outlets from a YAML file")
    tload.add_argument("file", help="YAML file (see forwarding/config.py)")
    tload.set_defaults(func=_targets_load)


def decode_stream(stdin: IO[bytes], stdout: IO[str]) -> int:
    """Exit status 1 when any packet was invalid, so scripts can tell."""
    from hj212.describe import describe

    status = 0
    for raw in iter(lambda: stdin.readline(MAX_LINE), b""):
        if not raw.strip():
            continue
        out: dict[str, Any]
        if len(raw) >= MAX_LINE and not raw.endswith(b"\n"):
            out = {
                "valid": False,
                "crc_ok": None,
                "error": {"reason": "too_long", "detail": f"line over {MAX_LINE} bytes"},
            }
            for _ in iter(lambda: stdin.readline(MAX_LINE), b""):  # skip the rest of the line
                if _.endswith(b"\n"):
                    break
        else:
            out = describe(raw)
        status = status or (0 if out["valid"] else 1)
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return status


def _decode(args: argparse.Namespace) -> int:
    return decode_stream(sys.stdin.buffer, sys.stdout)


def _serve(args: argparse.Namespace) -> int:
    from ingest.hj212.service import run
    from smartpark.settings import get_settings

    store = tuple(c.strip() for c in args.store_cn.split(",") if c.strip())
    return run(get_settings(), host=args.host, port=args.port, store_cns=store)


def _forward(args: argparse.Namespace) -> int:
    from forwarding.service import run
    from smartpark.settings import get_settings

    return run(get_settings())


def _targets_load(args: argparse.Namespace) -> int:
    import psycopg
    import yaml

    from forwarding.config import load
    from smartpark.db import database_url
    from smartpark.settings import get_settings

    with open(args.file, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    with psycopg.connect(database_url(get_settings())) as conn:
        names = load(conn, doc)
    print(f"{len(names)} targets loaded: {', '.join(names)}")
    return 0
