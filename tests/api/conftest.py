"""API fixtures: the app on the run's database, and one user (with a key) per role and scope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.auth import Bureau, Role
from api.queries import users as uq
from smartpark.settings import ApiSettings, Settings
from tests.support.factories import small_model, unique_code


@pytest.fixture(scope="session")
def api_limits() -> ApiSettings:
    # token_check_s=0: every token request reads its key's standing (the cache has unit tests);
    # the failure throttle is tested on an app of its own, not shared by every test of the run.
    return ApiSettings(
        pool_min=1,
        pool_max=4,
        max_points=5000,
        live_poll_s=0.2,
        live_recheck_s=0.5,
        token_check_s=0.0,
        auth_fail_limit=10_000,
    )


@contextmanager
def app_client(settings: Settings, db_url: str, limits: ApiSettings) -> Iterator[TestClient]:
    """A TestClient of an app of its own (its own pool, throttle and live slots)."""
    from api.app import create_app

    app = create_app(settings, limits=limits, database_url=db_url, static_dir=None)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def client(settings: Settings, db_url: str, api_limits: ApiSettings) -> Iterator[TestClient]:
    with app_client(settings, db_url, api_limits) as c:
        yield c


@dataclass(frozen=True, slots=True)
class Tenancy:
    """Two parks' ids and one key per role, for the cross-tenant cases."""

    park_id: int
    other_park_id: int
    e1: int  # enterprises of park
    e2: int
    other_e1: int  # an enterprise of the other park
    keys: dict[str, str]  # role label -> key
    model: dict[str, Any]

    def headers(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}


def _ids(db: psycopg.Connection[Any], park_code: str) -> tuple[int, dict[str, int]]:
    park_id = db.execute("SELECT park_id FROM parks WHERE code = %s", (park_code,)).fetchone()[0]  # type: ignore[index]
    ents = dict(db.execute("SELECT code, enterprise_id FROM enterprises WHERE park_id = %s", (park_id,)).fetchall())
    return park_id, ents


def device_id(db: psycopg.Connection[Any], enterprise_id: int, code: str) -> int:
    row = db.execute(
        "SELECT device_id FROM devices WHERE enterprise_id = %s AND code = %s",
        (enterprise_id, code),
    ).fetchone()
    assert row is not None, f"no device {code!r} in enterprise {enterprise_id}"
    return int(row[0])


def make_user(db: psycopg.Connection[Any], role: Role, **scope: Any) -> str:
    user = uq.create_user(db, name=unique_code("u"), role=role, **scope)
    made, _ = uq.create_key(db, user_id=user["user_id"])
    return made.key


@pytest.fixture
def tenancy(db: psycopg.Connection[Any]) -> Tenancy:
    from smartpark.registry import load_model

    # Two parks in the database only: reading them needs no broker accounts.
    park, other = small_model(unique_code()), small_model(unique_code())
    with db.transaction():
        load_model(db, park)
        load_model(db, other)
    park_id, ents = _ids(db, park["parks"][0]["code"])
    other_id, other_ents = _ids(db, other["parks"][0]["code"])
    keys = {
        "admin": make_user(db, Role.ADMIN),
        "operator": make_user(db, Role.OPERATOR, park_id=park_id),
        "enterprise": make_user(db, Role.ENTERPRISE, enterprise_id=ents["e1"]),
        "env_regulator": make_user(db, Role.REGULATOR, park_id=park_id, bureaus=[Bureau.ENVIRONMENT]),
        "emg_regulator": make_user(db, Role.REGULATOR, park_id=park_id, bureaus=[Bureau.EMERGENCY]),
        "readonly": make_user(db, Role.READONLY, park_id=park_id),
        "other_operator": make_user(db, Role.OPERATOR, park_id=other_id),
    }
    return Tenancy(park_id, other_id, ents["e1"], ents["e2"], other_ents["e1"], keys, park)
