"""`smartpark services up|down|status|env`."""

from __future__ import annotations

import argparse
import shlex

from operations.services import local, mosquitto, postgres
from smartpark.settings import get_settings


def up(args: argparse.Namespace | None = None) -> int:
    settings = get_settings()
    if settings.database_url:
        print("database: using SMARTPARK_DATABASE_URL (local cluster not started)")
    else:
        postgres.start(settings)
    if settings.mqtt_url:
        print("broker: using SMARTPARK_MQTT_URL (local broker not started)")
    else:
        mosquitto.start(settings)
    if args is not None and getattr(args, "migrate", False):
        from smartpark.db import connect, database_url
        from smartpark.db.migrate import migrate

        with connect(database_url(local.resolved(settings)), autocommit=True) as conn:
            applied = migrate(conn)
        print(f"database: {len(applied)} migration(s) applied")
    return status(None)


def down(args: argparse.Namespace) -> int:
    settings = get_settings()
    mosquitto.stop(settings)
    postgres.stop(settings)
    if args.purge:
        mosquitto.destroy(settings)
        postgres.destroy(settings)
        local.paths(settings).credentials.unlink(missing_ok=True)
        print(f"removed the local services' data under {settings.state_dir}")
    else:
        print("stopped (data kept)")
    return 0


def status(args: argparse.Namespace | None) -> int:
    settings = get_settings()
    p = local.paths(settings)
    ok = True
    if settings.database_url:
        print("database  external (SMARTPARK_DATABASE_URL)")
    else:
        running = postgres.is_running(settings)
        ok &= running
        print(f"database  {'running' if running else 'stopped'}  127.0.0.1:{settings.pg_port}  data {p.pg_data}")
    try:
        v = postgres.versions(settings)
        print(f"          PostgreSQL {v['postgresql']}, TimescaleDB {v['timescaledb']}, edition {v['edition']}")
    except Exception as exc:  # status must report, not fail
        ok = False
        print(f"          not reachable: {exc}")
    if settings.mqtt_url:
        print("broker    external (SMARTPARK_MQTT_URL)")
    else:
        running = mosquitto.is_running(settings)
        ok &= running
        print(f"broker    {'running' if running else 'stopped'}  127.0.0.1:{settings.mqtt_port}  data {p.mqtt_data}")
        print(f"          Mosquitto {mosquitto.version()}, dynamic-security ACLs, config {p.mqtt_conf}")
    return 0 if ok else 1


def env(args: argparse.Namespace | None = None) -> int:
    """The servers' URLs as shell assignments, for `eval "$(smartpark services env)"`.

    They hold the local passwords: printed for the caller's shell only, never logged.
    """
    for name, url in local.runtime_env(local.resolved(get_settings())).items():
        print(f"export {name}={shlex.quote(url)}")
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    p_up = sub.add_parser("up", help="start (and set up on first use) TimescaleDB and Mosquitto")
    p_up.add_argument("--migrate", action="store_true", help="also apply database migrations")
    p_up.set_defaults(func=up)
    p_down = sub.add_parser("down", help="stop the local services")
    p_down.add_argument("--purge", action="store_true", help="also delete their data")
    p_down.set_defaults(func=down)
    sub.add_parser("status", help="versions, edition, ports, data directories").set_defaults(func=status)
    sub.add_parser(
        "env", help='the servers\' URLs as shell exports (secrets): eval "$(smartpark services env)"'
    ).set_defaults(func=env)
