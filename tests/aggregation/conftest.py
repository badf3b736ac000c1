"""Aggregation tests need the registry in the database but no broker accounts."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.support.factories import small_model, unique_code


def loaded_park(db: psycopg.Connection[Any]) -> dict[str, Any]:
    """A small park with a unique code, loaded into the database only (no MQTT in these tests)."""
    from smartpark.registry import load_model

    model = small_model(unique_code())
    with db.transaction():
        load_model(db, model, broker=None)
    return model


@pytest.fixture
def park(db: psycopg.Connection[Any]) -> dict[str, Any]:
    return loaded_park(db)
