"""A small generated park (3 enterprises), loaded into the test database and the broker."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from device_sim.model import generate_model
from tests.support.factories import unique_code


@pytest.fixture
def sim_model(db: psycopg.Connection[Any], settings: Any) -> dict[str, Any]:
    from device_sim.hj212 import HJ212_KINDS
    from smartpark.broker_admin import BrokerAdmin, BrokerAdminError
    from smartpark.registry import load_model

    # The park code seeds the model: take one whose three enterprises have every kind of data
    # logger, so the HJ 212 tests always see CEMS, wastewater and air stations.
    while True:
        model = generate_model(enterprises=3, seed=11, park=unique_code("sim"))
        kinds = {
            d["kind"] for e in model["parks"][0]["enterprises"] for g in e.get("gateways", []) for d in g["devices"]
        }
        if kinds >= HJ212_KINDS:
            break
    # Every admin connection receives every dynamic-security response, so while other test
    # runs administer the shared broker an answer can be someone else's, and that connection's
    # answers stay out of step: load again (idempotent) over a fresh connection.
    for attempt in range(4):
        try:
            with BrokerAdmin.of(settings) as admin, db.transaction():
                load_model(db, model, broker=admin)
            break
        except (ValueError, BrokerAdminError):
            if attempt == 3:
                raise
    return model
