"""`smartpark energy load PARK FILE` and `smartpark energy tariffs`."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from energy import meters
from energy.tariffs import PERIODS, SCHEDULES
from energy.tree import TreeError
from smartpark.db import connect, database_url
from smartpark.settings import get_settings

MAX_RECOMPUTE_DAYS = 366


def _load(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(path.read_text())
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"error: {path}: {exc}")
        return 2
    spec = data.get("meters") if isinstance(data, dict) else data
    if not isinstance(spec, list):
        print(f"error: {path}: expected a list of meters or a mapping with 'meters'")
        return 2
    with connect(database_url(get_settings())) as conn:
        row = conn.execute("SELECT park_id, timezone FROM parks WHERE code = %s", (args.park,)).fetchone()
        if row is None:
            print(f"error: no park {args.park!r}")
            return 2
        today = datetime.now(ZoneInfo(row[1])).date()  # the park's calendar
        since: date = args.recompute_from or today.replace(day=1)
        if since > today or (today - since).days + 1 > MAX_RECOMPUTE_DAYS:
            print(f"error: --recompute-from {since} must be one of the last {MAX_RECOMPUTE_DAYS} days")
            return 2
        days = [since + timedelta(days=i) for i in range((today - since).days + 1)]
        try:
            n = meters.load(conn, park_id=int(row[0]), spec=spec, recompute=days)
        except TreeError as exc:
            print(f"error: {path}: {exc}")
            return 2
    print(f"park {args.park}: {n} meter(s); indicators from {since} queued")
    return 0


def _tariffs(args: argparse.Namespace) -> int:
    for s in SCHEDULES.values():
        print(f"{s.code}  {s.name}  from {s.effective_from}  ({s.source}; verify: {', '.join(s.verify)})")
        for month in (1, 7):
            hours = {PERIODS[i]: float((s.months[month] == i).sum()) / 4 for i in range(len(PERIODS))}
            mult = s.multipliers[month]
            print(f"  month {month}: " + ", ".join(f"{p} {h:g} h ×{mult.get(p, 0):g}" for p, h in hours.items() if h))
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("load", help="make a file's meters (YAML or JSON) the park's meter tree")
    p.add_argument("park", help="park code")
    p.add_argument("file")
    p.add_argument("--recompute-from", type=date.fromisoformat, help="queue the indicators from this day")
    p.set_defaults(func=_load)
    t = sub.add_parser("tariffs", help="the shipped time-of-use schedules with their sources")
    t.set_defaults(func=_tariffs)
