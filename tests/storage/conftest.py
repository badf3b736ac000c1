"""Storage tests need the registry in the database but no broker accounts."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.aggregation.conftest import loaded_park


@pytest.fixture
def park(db: psycopg.Connection[Any]) -> dict[str, Any]:
    return loaded_park(db)
