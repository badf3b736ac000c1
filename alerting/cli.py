"""`smartpark alerting`: run the service, and manage rules, receivers and silences."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from alerting.rules import RuleError, default_rules, load_rules_file, parse_duration, rule_to_dict
from smartpark import timebase


def configure(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(func=_run)
    parser.add_argument("--client-id", help="MQTT client id (stable across restarts: a persistent session)")
    parser.add_argument("--tick", type=float, default=1.0, help="seconds between periodic passes")
    parser.add_argument(
        "--park", action="append", dest="parks", help="handle only this park (repeatable; default: every park)"
    )
    parser.add_argument(
        "--session-expiry",
        type=int,
        default=3600,
        help="seconds the broker keeps queueing telemetry while the service is away "
        "(alarms on older readings would be stale)",
    )
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    p = sub.add_parser("run", help="run the service (the default)")
    p.set_defaults(func=_run)
    p = sub.add_parser("check", help="validate a rule file and print its rules as JSON")
    p.add_argument("file")
    p.set_defaults(func=_check)
    p = sub.add_parser("load", help="store the rules of a file (or the defaults) in the database")
    p.add_argument("file", nargs="?", help="YAML rule file; omitted: the default rules")
    p.add_argument("--by", default="cli")
    p.set_defaults(func=_load)
    p = sub.add_parser("receiver", help="add a receiver of notifications")
    p.add_argument("name")
    p.add_argument("--categories", required=True, help="comma-separated: safety,emissions,environment,energy")
    p.add_argument("--park", help="park code (omitted: every park)")
    p.add_argument("--channel", choices=("webhook", "mqtt"), default="webhook")
    p.add_argument("--url")
    p.add_argument("--secret")
    p.add_argument("--group-by", default="park,category,alertname")
    p.add_argument("--group-wait", default="0s")
    p.add_argument("--group-interval", default="30s")
    p.add_argument("--repeat-interval", default="4h")
    p.set_defaults(func=_receiver)
    p = sub.add_parser("silence", help="silence matching alarms for a while (maintenance window)")
    p.add_argument("matchers", nargs="+", help="label=value, label!=value, label=~regex")
    p.add_argument("--for", dest="duration", default="1h")
    p.add_argument("--by", required=True)
    p.add_argument("--comment", default="")
    p.set_defaults(func=_silence)
    p = sub.add_parser(
        "retire",
        help="end the broker session of an instance taken out of service (--client-id names it): until"
        " that session expires the broker keeps handing it a share of the readings, whose alarms no one"
        " evaluates",
    )
    p.set_defaults(func=_retire)
    p = sub.add_parser("outbox", help="delivered, pending and failing notifications")
    p.set_defaults(func=_outbox)


def _run(args: argparse.Namespace) -> int:
    from alerting.service import AlertingService, serve
    from smartpark.db import database_url
    from smartpark.health_http import serve_health
    from smartpark.heartbeat import STALE_AFTER_S, Heartbeat, publish
    from smartpark.settings import get_settings

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    heartbeat = Heartbeat("alerting", stale_after_s=STALE_AFTER_S["alerting"])
    if settings.metrics_port:
        serve_health(settings.metrics_port, heartbeat, addr="0.0.0.0")
    publish(heartbeat, database_url(settings))
    return serve(
        AlertingService(
            settings=settings,
            client_id=args.client_id,
            tick_s=args.tick,
            parks=args.parks,
            session_expiry_s=args.session_expiry,
            heartbeat=heartbeat,
        )
    )


def _retire(args: argparse.Namespace) -> int:
    from alerting.service import default_client_id
    from smartpark.mqtt import end_session, mqtt_url, platform_client_id
    from smartpark.settings import get_settings

    name = args.client_id or default_client_id()
    end_session(platform_client_id(name, mqtt_url(get_settings())), url=mqtt_url(get_settings()))
    print(f"alerting instance {name}: its broker session is ended; it takes no more readings")
    return 0


def _fail(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def _check(args: argparse.Namespace) -> int:
    try:
        rules = load_rules_file(args.file)
    except (RuleError, OSError) as exc:
        return _fail(exc)
    print(json.dumps([rule_to_dict(r) for r in rules], ensure_ascii=False, indent=1))
    return 0


def _db() -> Any:
    """The database of this command's settings (each subcommand opens one connection)."""
    from smartpark.db import connect, database_url
    from smartpark.settings import get_settings

    return connect(database_url(get_settings()), autocommit=True)


def _load(args: argparse.Namespace) -> int:
    from alerting import rule_store

    try:
        rules = load_rules_file(args.file) if args.file else default_rules()
    except (RuleError, OSError) as exc:
        return _fail(exc)
    with _db() as conn, conn.transaction():
        n = rule_store.save_rules(conn, rules=rules, by=args.by)
    print(f"{n} rules stored")
    return 0


def _receiver(args: argparse.Namespace) -> int:
    from alerting import routing_store
    from alerting.routing import Receiver

    try:
        group_by = tuple(x.strip() for x in args.group_by.split(",") if x.strip())
        timing = [
            parse_duration(args.group_wait),
            parse_duration(args.group_interval),
            parse_duration(args.repeat_interval),
        ]
        Receiver(
            0,
            args.name,
            args.park,
            frozenset(args.categories.split(",")),
            args.channel,
            args.url,
            args.secret,
            group_by,
            timing[0],
            timing[1],
            timing[2],
        )
    except RuleError as exc:
        return _fail(exc)
    with _db() as conn, conn.transaction():
        park_id = None
        if args.park:
            row = conn.execute("SELECT park_id FROM parks WHERE code = %s", (args.park,)).fetchone()
            if row is None:
                return _fail(LookupError(f"no park {args.park!r}"))
            park_id = row[0]
        rid = routing_store.create_receiver(
            conn,
            name=args.name,
            park_id=park_id,
            categories=args.categories.split(","),
            channel=args.channel,
            url=args.url,
            secret=args.secret,
            group_by=group_by,
            group_wait_s=timing[0],
            group_interval_s=timing[1],
            repeat_interval_s=timing[2],
        )
    print(f"receiver {rid} {args.name!r}")
    return 0


def _silence(args: argparse.Namespace) -> int:
    from alerting import routing_store

    try:
        seconds = parse_duration(args.duration, "--for")
        now_ms = timebase.now_ms()
        with _db() as conn, conn.transaction():
            sid = routing_store.create_silence(
                conn,
                matchers=args.matchers,
                starts_ms=now_ms,
                ends_ms=now_ms + int(seconds * 1000),
                by=args.by,
                comment=args.comment,
            )
    except RuleError as exc:
        return _fail(exc)
    print(f"silence {sid} until {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(now_ms / 1000 + seconds))}")
    return 0


def _outbox(args: argparse.Namespace) -> int:
    from alerting import outbox_store

    with _db() as conn:
        print(json.dumps(outbox_store.outbox_counts(conn)))
    return 0
