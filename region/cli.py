"""`smartpark region …`: the regional level, both sides.

Park side: ``keygen`` (the park's key pair), ``submit PERIOD`` (queue and send a package),
``deliver`` (send the outbox), ``outbox``, ``result`` (its own result, from the region).
Region side (an instance with its own database): ``park add`` (register a park and its public
key), ``grant`` (a league's or a park's readonly user), ``results`` (the ranking as JSON). The
private key is never printed or logged.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from region.package import PackageError


def _connect() -> Any:
    import psycopg
    from psycopg.rows import dict_row

    from smartpark.db import database_url
    from smartpark.settings import get_settings

    return psycopg.connect(database_url(get_settings()), autocommit=True, row_factory=dict_row)


def _print(value: Any) -> None:
    print(json.dumps(value, default=str, ensure_ascii=False, indent=2))


def _keygen(args: argparse.Namespace) -> int:
    from region.package import generate_key_file

    try:
        public = generate_key_file(Path(args.key))
    except FileExistsError as exc:
        print(f"smartpark region keygen: {exc}", file=sys.stderr)
        return 1
    print(f"private key written to {args.key} (mode 0600); register this public key at the region:")
    print(public)
    return 0


def _key(args: argparse.Namespace) -> Any:
    from region.package import load_key_file
    from smartpark.settings import get_settings

    path = args.key or get_settings().region.key_file
    if path is None:
        raise SystemExit("smartpark region: no key: give --key FILE or set SMARTPARK_REGION_KEY_FILE")
    return load_key_file(Path(path))


def _deliver(conn: Any) -> dict[str, int]:
    from region.delivery import deliver_due
    from smartpark.settings import get_settings

    return deliver_due(conn, settings=get_settings().region)


def _submit(args: argparse.Namespace) -> int:
    from region.delivery import submit
    from region.park_package import NoStatistics

    key = _key(args)
    with _connect() as conn:
        try:
            row, new = submit(conn, park_code=args.park, period=args.period, key=key)
        except (PackageError, NoStatistics, LookupError) as exc:
            print(f"smartpark region submit: {exc}", file=sys.stderr)
            return 1
        print(f"{args.park} {args.period}: revision {row['revision']} {'queued' if new else 'unchanged'}")
        if args.no_send:
            return 0
        _print(_deliver(conn))
    return 0


def _deliver_cmd(args: argparse.Namespace) -> int:
    with _connect() as conn:
        _print(_deliver(conn))
    return 0


def _outbox(args: argparse.Namespace) -> int:
    from region import outbox

    with _connect() as conn:
        _print(outbox.entries(conn, park_codes=[args.park] if args.park else None, limit=args.limit))
    return 0


def _result(args: argparse.Namespace) -> int:
    """The park's own result, read from its region with the park's key there."""
    import httpx

    from smartpark.settings import get_settings

    region = get_settings().region
    if not region.url or not region.api_key:
        print("smartpark region result: set SMARTPARK_REGION_URL and SMARTPARK_REGION_API_KEY", file=sys.stderr)
        return 2
    got = httpx.get(
        region.url.rstrip("/") + "/api/v1/region/results",
        params={"year": args.year, "years": args.years},
        headers={"X-API-Key": region.api_key},
        timeout=region.timeout_s,
    )
    if got.status_code != 200:
        print(f"smartpark region result: HTTP {got.status_code}: {got.text[:500]}", file=sys.stderr)
        return 1
    _print(got.json())
    return 0


def _park_add(args: argparse.Namespace) -> int:
    from region import store
    from region.package import public_from_text

    try:
        public = public_from_text(args.public_key)
    except PackageError as exc:
        print(f"smartpark region park add: {exc}", file=sys.stderr)
        return 2
    import psycopg

    with _connect() as conn:
        try:
            row = store.register_park(
                conn, code=args.code, name=args.name, league=args.league, public_key=public, designated_class=args.klass
            )
        except psycopg.errors.UniqueViolation:
            print("smartpark region park add: the public key is registered for another park", file=sys.stderr)
            return 1
        except psycopg.errors.CheckViolation as exc:
            print(f"smartpark region park add: {exc.diag.message_primary}", file=sys.stderr)
            return 2
    print(f"park {row['park_code']} ({row['league']}) key {row['key_id']}")
    return 0


def _grant(args: argparse.Namespace) -> int:
    from api.queries import users
    from region import store

    with _connect() as conn:
        user = users.find_user(conn, name=args.user)
        if user is None or user["role"] != "readonly" or user["park_id"] is not None:
            print(f"smartpark region grant: {args.user!r} is not a readonly user without a park", file=sys.stderr)
            return 1
        if args.park and not store.parks(conn, codes=[args.park]):
            print(f"smartpark region grant: no park {args.park!r} registered", file=sys.stderr)
            return 1
        store.grant(conn, user_id=user["user_id"], league=args.league, park_code=args.park)
    print(f"{args.user}: {'league ' + args.league if args.league else 'park ' + args.park}")
    return 0


def _results(args: argparse.Namespace) -> int:
    from region.results import results

    with _connect() as conn:
        today = datetime.fromtimestamp(time.time(), UTC).date()
        _print(results(conn, year=args.year, years=args.years, today=today, league=args.league))
    return 0


def _publish(args: argparse.Namespace) -> int:
    from region import league_mail, published
    from smartpark.settings import get_settings
    from smartpark.webhook_targets import TargetPolicy

    targets = TargetPolicy.from_cidrs(get_settings().webhook_allowed_networks)
    with _connect() as conn:
        today = datetime.fromtimestamp(time.time(), UTC).date()
        with conn.transaction():
            made = published.publish(conn, year=args.year, years=args.years, today=today)
        mail = league_mail.send_publication(conn, publication=made, targets=targets)
    print(f"published {args.year}: publication {made['publication_id']}, {len(made['results'])} parks")
    _print({"mail": mail})
    return 0


def _league_receiver(args: argparse.Namespace) -> int:
    from region import published

    with _connect() as conn:
        found = conn.execute(
            "SELECT receiver_id FROM alert_receivers WHERE name = %s AND channel = 'email'", (args.receiver,)
        ).fetchone()
        if found is None:
            print(f"smartpark region league-receiver: no email receiver {args.receiver!r}", file=sys.stderr)
            return 1
        published.add_league_receiver(conn, league=args.league, receiver_id=found["receiver_id"])
    print(f"{args.league}: results mailed to receiver {args.receiver}")
    return 0


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="region_command", metavar="ACTION", required=True)
    p = sub.add_parser("keygen", help="park: write a new Ed25519 key (0600) and print its public key")
    p.add_argument("--key", required=True, help="file for the private key (refused if it exists)")
    p.set_defaults(func=_keygen)
    p = sub.add_parser("submit", help="park: queue the Article 21 package of an ended period, then send")
    p.add_argument("period", help="YYYY (annual) or YYYY-MM (monthly)")
    p.add_argument("--park", required=True, help="the park's code in this instance")
    p.add_argument("--key", help="private key file (default SMARTPARK_REGION_KEY_FILE)")
    p.add_argument("--no-send", action="store_true", help="only queue: the scheduler's outbox job sends")
    p.set_defaults(func=_submit)
    p = sub.add_parser("deliver", help="park: send every due package of the outbox once")
    p.set_defaults(func=_deliver_cmd)
    p = sub.add_parser("outbox", help="park: the queued packages and what the region answered")
    p.add_argument("--park")
    p.add_argument("--limit", type=int, default=100)
    p.set_defaults(func=_outbox)
    p = sub.add_parser("result", help="park: its own class and rank, read from the region")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--years", type=int, default=5)
    p.set_defaults(func=_result)
    park = sub.add_parser("park", help="region: registered parks").add_subparsers(dest="park_command", required=True)
    p = park.add_parser("add", help="register a park (or replace its key, league, class)")
    p.add_argument("code")
    p.add_argument("--name", required=True)
    p.add_argument("--league", required=True, help="the league or city (盟市) code")
    p.add_argument("--public-key", required=True, help="base64, as printed by `smartpark region keygen`")
    p.add_argument("--class", dest="klass", type=int, choices=(1, 2), help="designated class (Article 13)")
    p.set_defaults(func=_park_add)
    p = sub.add_parser("grant", help="region: a readonly user (no park) sees one league's parks or one park")
    p.add_argument("user")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--league")
    who.add_argument("--park")
    p.set_defaults(func=_grant)
    p = sub.add_parser("results", help="region: class and ranking of every park as JSON")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--years", type=int, default=5, help="trend years (1-10)")
    p.add_argument("--league")
    p.set_defaults(func=_results)
    p = sub.add_parser("publish", help="region: rank the year, freeze it and mail each league/city its parks")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--years", type=int, default=5, choices=range(1, 11), metavar="1-10", help="trend years")
    p.set_defaults(func=_publish)
    p = sub.add_parser("league-receiver", help="region: a league/city's results go to this email receiver")
    p.add_argument("league")
    p.add_argument("--receiver", required=True, help="an email receiver's name (as configured for paging)")
    p.set_defaults(func=_league_receiver)
