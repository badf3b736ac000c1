"""`smartpark registry load FILE`."""

from __future__ import annotations

import argparse

from smartpark.broker_admin import BrokerAdmin
from smartpark.db import connect, database_url
from smartpark.registry import ModelError, load_model, read_model
from smartpark.settings import get_settings


def _load(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        model = read_model(args.file)
        with connect(database_url(settings)) as conn:
            broker = None if args.no_broker else BrokerAdmin.of(settings)
            try:
                summary = load_model(conn, model, broker=broker)
            finally:
                if broker is not None:
                    broker.close()
    except ModelError as exc:
        print(f"error: {exc}")
        return 2
    print(
        f"loaded {summary.parks} park(s), {summary.enterprises} enterprise(s), "
        f"{summary.gateways} gateway(s), {summary.devices} device(s); "
        f"{summary.broker_accounts} broker account(s) ensured"
    )
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("load", help="create or update the rows and broker accounts of a model file")
    p.add_argument("file", help="park model (YAML or JSON), e.g. from `smartpark sim init`")
    p.add_argument("--no-broker", action="store_true", help="do not create broker accounts")
    p.set_defaults(func=_load)
