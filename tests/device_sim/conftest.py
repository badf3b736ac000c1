"""A small generated park (3 enterprises), loaded into the test database and the broker."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from device_sim.model import generate_model
from tests.factories import unique_code


@pytest.fixture
def sim_model(db: psycopg.Connection[Any], broker: Any) -> dict[str, Any]:
    from smartpark.broker_admin import BrokerAdminError
    from smartpark.registry import load_model

    model = generate_model(enterprises=3, seed=11, park=unique_code("sim"))
    # Every admin connection receives every dynamic-security response, so while other test
    # runs administer the shared broker an answer can be someone else's; loading is idempotent.
    for attempt in range(4):
        try:
            with db.transaction():
                load_model(db, model, broker=broker)
            break
        except (ValueError, BrokerAdminError):
            if attempt == 3:
                raise
    return model
