"""`smartpark emergency load FILE | watch`: the emergency registry from a file, and the rule
that opens incidents by itself (a second-level gas alarm and a fire alarm in one zone)."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import psycopg
import yaml
from pydantic import ValidationError

from emergency import registry_store, rule
from emergency.definitions import EmergencyModel
from smartpark.settings import get_settings

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    load = sub.add_parser("load", help="hazards, plans and resources of a park from a YAML file")
    load.add_argument("file", type=Path)
    load.set_defaults(func=run_load)
    watch = sub.add_parser("watch", help="open incidents by rule (gas second level + fire in one zone)")
    watch.add_argument("--every", type=float, default=2.0, help="seconds between passes (0.5..60)")
    watch.add_argument("--once", action="store_true", help="one pass, then exit")
    watch.set_defaults(func=run_watch)


def _connect() -> psycopg.Connection[Any]:
    from smartpark.db import connect, database_url

    return connect(database_url(get_settings()), autocommit=True)


def load_model(conn: psycopg.Connection[Any], model: EmergencyModel) -> dict[str, int]:
    """Save a park's emergency registry in one transaction; counts saved."""
    with conn.transaction():
        row = conn.execute("SELECT park_id FROM parks WHERE code = %s", (model.park,)).fetchone()
        if row is None:
            raise registry_store.RegistryError("park", f"park: no park {model.park!r}")
        park_id = int(row[0])
        for h in model.hazards:
            registry_store.save_hazard(conn, park_id=park_id, hazard=h)
        for p in model.plans:
            registry_store.save_plan(conn, park_id=park_id, plan=p)
        for r in model.resources:
            registry_store.save_resource(conn, park_id=park_id, resource=r)
    return {"hazards": len(model.hazards), "plans": len(model.plans), "resources": len(model.resources)}


def run_load(args: argparse.Namespace) -> int:
    try:
        model = EmergencyModel.model_validate(yaml.safe_load(args.file.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        print(f"smartpark emergency load: {args.file}: {exc}")
        return 2
    with _connect() as conn:
        try:
            print(load_model(conn, model))
        except registry_store.RegistryError as exc:
            print(f"smartpark emergency load: {args.file}: {exc}")
            return 2
    return 0


def run_watch(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    every = min(60.0, max(0.5, args.every))
    conn: psycopg.Connection[Any] | None = None
    try:
        while True:
            try:
                if conn is None or conn.closed:
                    conn = _connect()
                opened = rule.run_once(conn)
                if opened:
                    log.info("rule %s opened incidents %s", rule.RULE, opened)
            except psycopg.Error as exc:
                log.error("emergency watch: database error, retrying: %s", exc)
                if conn is not None:
                    conn.close()
                conn = None
            if args.once:
                return 0
            time.sleep(every)
    finally:
        if conn is not None:
            conn.close()
