"""`smartpark economic import FILE.csv`: economic monthly reports per enterprise."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregation import economic


def import_file(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        if path.stat().st_size > economic.MAX_BYTES:
            raise economic.RefusedImport([f"{path} is larger than {economic.MAX_BYTES} bytes"])
        # today where it is latest (UTC+14), so no park's own current month is refused
        today = (datetime.now(UTC) + timedelta(hours=14)).date()
        reports = economic.parse(path.read_bytes(), today=today)
        if args.dry_run:
            print(json.dumps({"file": str(path), "reports": len(reports), "stored": 0}))
            return 0
        from smartpark.db import connect, database_url
        from smartpark.settings import get_settings

        with connect(database_url(get_settings()), autocommit=True) as conn, conn.transaction():
            n = economic.store(conn, reports=reports, source=path.name)
    except OSError as exc:
        print(f"smartpark economic import: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except economic.RefusedImport as exc:
        print(f"smartpark economic import: {path} refused:", file=sys.stderr)
        for e in exc.errors:
            print(f"  {e}", file=sys.stderr)
        return 2
    print(json.dumps({"file": str(path), "reports": len(reports), "stored": n}))
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="import a CSV of monthly reports", description=economic.__doc__)
    imp.add_argument("file", metavar="FILE.csv")
    imp.add_argument("--dry-run", action="store_true", help="check the file, store nothing")
    imp.set_defaults(func=import_file)
