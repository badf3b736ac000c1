"""`smartpark db migrate|status`."""

from __future__ import annotations

import argparse

from smartpark.db.connect import connect, database_url
from smartpark.db.migrate import available, migrate
from smartpark.settings import get_settings


def _migrate(args: argparse.Namespace) -> int:
    with connect(database_url(get_settings()), autocommit=True) as conn:
        applied = migrate(conn)
    print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {n}" for n in applied))
    return 0


def _status(args: argparse.Namespace) -> int:
    with connect(database_url(get_settings()), autocommit=True) as conn:
        rows = conn.execute("SELECT name, applied_at FROM schema_migrations ORDER BY version").fetchall()
    applied = {name for name, _ in rows}
    for name, at in rows:
        print(f"applied  {name}  {at:%Y-%m-%d %H:%M:%S%z}")
    for mig in available():
        if mig.name not in applied:
            print(f"pending  {mig.name}")
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(func=_migrate)
    sub.add_parser("status", help="list applied and pending migrations").set_defaults(func=_status)
