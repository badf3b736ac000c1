"""`smartpark users add|list|revoke|key|keys`: API users and their keys from the command line."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from api.auth import Bureau, Role


def _connect() -> Any:
    """The database of this command's settings (each subcommand opens one connection)."""
    from smartpark.db import connect, database_url
    from smartpark.settings import get_settings

    return connect(database_url(get_settings()))


def _resolve_scope(conn: Any, park: str | None, enterprise: str | None) -> tuple[int | None, int | None]:
    park_id = ent_id = None
    if park is not None:
        row = conn.execute("SELECT park_id FROM parks WHERE code = %s", (park,)).fetchone()
        if row is None:
            raise SystemExit(f"unknown park {park!r}")
        park_id = row[0]
    if enterprise is not None:
        if park_id is None:
            raise SystemExit("--enterprise needs --park (enterprise codes are unique per park)")
        row = conn.execute(
            "SELECT enterprise_id FROM enterprises WHERE park_id = %s AND code = %s",
            (park_id, enterprise),
        ).fetchone()
        if row is None:
            raise SystemExit(f"unknown enterprise {enterprise!r} in park {park!r}")
        ent_id = row[0]
    return park_id, ent_id


def _add(args: argparse.Namespace) -> int:
    import psycopg

    from api.queries import users as q

    role = Role(args.role)
    bureaus = [Bureau(b) for b in args.bureau or []]
    with _connect() as conn:
        park_id, ent_id = _resolve_scope(conn, args.park, args.enterprise)
        if role is Role.ENTERPRISE:
            park_id = None  # derived from the enterprise
        try:
            user = q.create_user(
                conn,
                name=args.name,
                role=role,
                park_id=park_id,
                enterprise_id=ent_id,
                bureaus=bureaus,
            )
        except psycopg.errors.UniqueViolation:
            print(f"user {args.name!r} exists", file=sys.stderr)
            return 1
        except psycopg.errors.CheckViolation:
            print(
                f"role {role.value!r} needs: operator --park; enterprise --park --enterprise;"
                " regulator --park --bureau environment|emergency",
                file=sys.stderr,
            )
            return 2
        print(f"user {user['name']} (id {user['user_id']}, role {user['role']})")
        if not args.no_key:
            made, key_id = q.create_key(conn, user_id=user["user_id"], label=args.label)
            print(f"key {key_id}: {made.key}")
            print("store it now: only its hash is kept", file=sys.stderr)
    return 0


def _key(args: argparse.Namespace) -> int:
    from api.queries import users as q

    with _connect() as conn:
        user = q.find_user(conn, name=args.name)
        if user is None:
            print(f"no user {args.name!r}", file=sys.stderr)
            return 1
        made, key_id = q.create_key(conn, user_id=user["user_id"], label=args.label)
    print(f"key {key_id}: {made.key}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from api.queries import users as q

    with _connect() as conn:
        users = q.list_users(conn)
        keys = q.list_keys(conn)
    print(f"{'id':>4}  {'name':<24} {'role':<10} {'park':>5} {'ent':>5} {'bureaus':<22} keys  state")
    for u in users:
        state = "disabled" if u["disabled_at"] else "active"
        print(
            f"{u['user_id']:>4}  {u['name']:<24} {u['role']:<10} {u['scope_park_id'] or '-':>5}"
            f" {u['enterprise_id'] or '-':>5} {','.join(u['categories']) or '-':<22}"
            f" {u['active_keys']:>4}  {state}"
        )
    if args.keys:
        print()
        for k in keys:
            state = "revoked" if k["revoked_at"] else "active"
            used = f"{k['last_used_at']:%Y-%m-%d %H:%M}" if k["last_used_at"] else "never"
            print(f"key {k['key_id']:>4}  {k['prefix']}  user {k['user_name']:<24} used {used:<16} {state}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from api.queries import users as q

    now = datetime.now(UTC)
    with _connect() as conn:
        if args.key is not None:
            done = q.revoke_key(conn, key_id=args.key, at=now)
            what = f"key {args.key}"
        else:
            user = q.find_user(conn, name=args.name)
            done = user is not None and q.disable_user(conn, user_id=user["user_id"], at=now)
            what = f"user {args.name!r} and all its keys"
    print(f"revoked {what}" if done else f"nothing to revoke: {what} unknown or already revoked")
    return 0 if done else 1


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="create a user (and print its first API key)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--park", help="park code (operator, regulator, readonly, enterprise)")
    add.add_argument("--enterprise", help="enterprise code within --park (enterprise role)")
    add.add_argument(
        "--bureau",
        action="append",
        choices=[b.value for b in Bureau],
        help="regulator's remit (repeatable)",
    )
    add.add_argument("--label", default="", help="label of the first key")
    add.add_argument("--no-key", action="store_true", help="do not issue a key")
    add.set_defaults(func=_add)
    key = sub.add_parser("key", help="issue another API key for a user")
    key.add_argument("name")
    key.add_argument("--label", default="")
    key.set_defaults(func=_key)
    lst = sub.add_parser("list", help="users (and keys with --keys)")
    lst.add_argument("--keys", action="store_true")
    lst.set_defaults(func=_list)
    rev = sub.add_parser("revoke", help="revoke one key (--key ID) or a user with all its keys")
    group = rev.add_mutually_exclusive_group(required=True)
    group.add_argument("--key", type=int)
    group.add_argument("name", nargs="?")
    rev.set_defaults(func=_revoke)
