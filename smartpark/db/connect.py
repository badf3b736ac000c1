"""Connections to TimescaleDB through psycopg 3."""

from __future__ import annotations

from typing import Any

import psycopg

from smartpark.settings import Settings, required


def database_url(settings: Settings) -> str:
    """SMARTPARK_DATABASE_URL; an error naming it when it is unset."""
    return required(settings.database_url, "SMARTPARK_DATABASE_URL")


def connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    return psycopg.connect(url, **kwargs)
