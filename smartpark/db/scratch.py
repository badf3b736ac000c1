"""Scratch databases for benchmarks and test runs: created, migrated, dropped afterwards.

Each gets a unique name on the configured server, so runs beside each other (and beside the
platform's own database) never see each other's rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg


@dataclass(frozen=True, slots=True)
class Scratch:
    name: str
    url: str


def with_dbname(url: str, dbname: str) -> str:
    """The same server, credentials and options, another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))


@contextmanager
def scratch_database(prefix: str, *, admin_url: str, migrated: bool = True) -> Iterator[Scratch]:
    """A fresh database ``{prefix}_{random}``, migrated unless told otherwise; dropped on exit,
    with any connection still open to it."""
    from smartpark.db.migrate import migrate

    admin = admin_url
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        scratch = Scratch(name, with_dbname(admin, name))
        if migrated:
            with psycopg.connect(scratch.url, autocommit=True) as conn:
                migrate(conn)
        yield scratch
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
