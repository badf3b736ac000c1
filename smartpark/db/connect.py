"""Connections to TimescaleDB through psycopg 3."""

from __future__ import annotations

from typing import Any

import psycopg

from smartpark.settings import Settings, get_settings


def database_url(settings: Settings | None = None) -> str:
    """The configured URL, else the local cluster that `smartpark services up` runs."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    from smartpark.services import local  # only needed for the local default

    return local.local_database_url(settings)


def connect(url: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(url or database_url(), **kwargs)
