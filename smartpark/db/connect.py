"""Connections to TimescaleDB through psycopg 3."""

from __future__ import annotations

from typing import Any

import psycopg

from smartpark.settings import Settings, get_settings, required


def database_url(settings: Settings | None = None) -> str:
    """SMARTPARK_DATABASE_URL; an error naming it when it is unset."""
    settings = settings or get_settings()
    return required(settings.database_url, "SMARTPARK_DATABASE_URL")


def connect(url: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(url or database_url(), **kwargs)
