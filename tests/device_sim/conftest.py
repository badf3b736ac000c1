"""A small generated park (3 enterprises), loaded into the test database and the broker."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from device_sim.model import generate_model
from tests.factories import unique_code


@pytest.fixture
def sim_model(db: psycopg.Connection[Any], broker: Any) -> dict[str, Any]:
    from smartpark.registry import load_model

    model = generate_model(enterprises=3, seed=11, park=unique_code("sim"))
    with db.transaction():
        load_model(db, model, broker=broker)
    return model
