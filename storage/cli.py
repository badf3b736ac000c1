"""`smartpark storage`: what storage costs (report), the retention pass with the cold tier (tier),
and TimescaleDB's columnstore where the server's licence has it (columnstore)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any

from smartpark.settings import get_settings
from storage.tiering import STEPS


def _connect() -> Any:
    from smartpark.db import connect, database_url

    return connect(database_url(get_settings()), autocommit=True)


def _report(args: argparse.Namespace) -> int:
    from storage import report
    from storage.retention import Policy

    s = get_settings()
    with _connect() as conn:
        r = report.build(
            conn, policy=Policy.of(s.storage, hot_days=s.aggregation.telemetry_retention_days), exact=args.exact
        )
    print(json.dumps(r.as_json()) if args.json else report.render(r))
    return 0


def _instant(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (e.g. 2026-01-01T00:00:00Z)")
    return at


def _pause_at(step: str | None) -> Any:
    def pause(reached: str) -> None:
        if reached == step:  # a crash drill: hold here until killed
            print(f"paused at {reached}", flush=True)
            while True:
                time.sleep(3600)

    return pause


def _tier(args: argparse.Namespace) -> int:
    from storage import job

    s = get_settings()
    with _connect() as conn:
        out = job.run(
            conn,
            storage=s.storage,
            hot_days=s.aggregation.telemetry_retention_days,
            pause=_pause_at(args.pause_at),
            limit=args.limit,
            window=(args.since, args.until),
        )
    print(json.dumps(out))
    return 0


def _recompute(args: argparse.Namespace) -> int:
    from storage import recompute
    from storage.coldfs import ColdStore

    s = get_settings()
    cold = ColdStore.of(s.storage.cold_url) if s.storage.cold_url else None
    with _connect() as conn:
        row = conn.execute("SELECT park_id FROM parks WHERE code = %s", (args.park,)).fetchone()
        if row is None:
            print(f"smartpark storage recompute: no park {args.park!r}", file=sys.stderr)
            return 2
        try:
            n = recompute.queue(conn, cold, park_id=int(row[0]), start=args.start, end=args.end)
        except ValueError as exc:
            print(f"smartpark storage recompute: {exc}", file=sys.stderr)
            return 2
    print(json.dumps({"park": args.park, "queued_buckets": n}))
    return 0


def _columnstore(args: argparse.Namespace) -> int:
    from storage import columnstore

    after = get_settings().storage.columnstore_after_days
    if args.dry_run:
        print("\n".join(s + ";" for s in columnstore.statements(after)))
        return 0
    with _connect() as conn:
        outcome = columnstore.enable(conn, after_days=after)
    print(json.dumps({"licence": outcome.licence, "enabled": outcome.enabled, "refused": outcome.refused}))
    if outcome.refused:
        print(f"smartpark storage columnstore: not enabled: {outcome.refused}", file=sys.stderr)
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("report", help="bytes per reading per table and chunk, growth, projection")
    p.add_argument("--json", action="store_true", help="one JSON document instead of the table")
    p.add_argument("--exact", action="store_true", help="count rows (reads every row) instead of estimates")
    p.set_defaults(func=_report)
    p = sub.add_parser("tier", help="the retention pass: old raw chunks to the cold tier, expired data deleted")
    p.add_argument("--limit", type=int, default=None, help="move at most this many chunks")
    p.add_argument("--since", type=_instant, default=None, help="move only chunks starting at or after (ISO 8601)")
    p.add_argument("--until", type=_instant, default=None, help="move only chunks ending at or before (ISO 8601)")
    p.add_argument("--pause-at", choices=STEPS, default=None, help="crash drills: hold after this step until killed")
    p.set_defaults(func=_tier)
    p = sub.add_parser(
        "recompute", help="queue a past period of a park for its rollups and indicators, from both tiers"
    )
    p.add_argument("--park", required=True, help="the park's code")
    p.add_argument("--from", dest="start", type=_instant, required=True, help="first instant (ISO 8601 with zone)")
    p.add_argument("--to", dest="end", type=_instant, required=True, help="end, excluded (at most 31 days on)")
    p.set_defaults(func=_recompute)
    p = sub.add_parser("columnstore", help="enable TimescaleDB's columnstore where the licence has it")
    p.add_argument("--dry-run", action="store_true", help="print the SQL, change nothing")
    p.set_defaults(func=_columnstore)
