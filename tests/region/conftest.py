"""Two instances on one machine: a park and its region, each with its database and API port."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from api.auth import Role
from api.queries import users as uq
from region import store
from region.package import generate_key_file, load_key_file, public_from_text, public_raw
from smartpark.settings import ApiSettings, RegionSettings, Settings
from tests.support.factories import small_model, unique_code
from tests.support.ports import free_port
from tests.support.waiting import wait_until

LIMITS = ApiSettings(pool_min=1, pool_max=3, token_check_s=0.0, auth_fail_limit=10_000)


class ApiThread:
    """A real `smartpark api` app served by uvicorn on a port, in a thread; stopped and started
    again on the same port (a region that goes down and comes back)."""

    def __init__(self, make_app: Callable[[], FastAPI], port: int) -> None:
        self.make_app, self.port = make_app, port
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(self.make_app(), host="127.0.0.1", port=self.port, log_level="warning", ws="none")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name=f"api-{self.port}", daemon=True)
        self.thread.start()
        wait_until(lambda: self.server is not None and self.server.started, 60, f"the API on port {self.port}")

    def stop(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=60)
            assert not self.thread.is_alive(), f"the API on port {self.port} did not stop"
        self.server = self.thread = None


@dataclass
class TwoInstances:
    park: ApiThread
    region: ApiThread
    park_db: str
    region_db: str
    park_settings: Settings
    park_code: str
    park_id: int
    key: Ed25519PrivateKey
    keys: dict[str, str]  # who -> API key (park_* on the park instance, the others on the region)

    def headers(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}


def monthly_rows(db: psycopg.Connection[Any], park_id: int, year: int, *, output: float) -> None:
    """A year of the park's monthly indicators: 12 × ``output`` (10⁴ yuan)."""
    for m in range(1, 13):
        db.execute(
            "INSERT INTO indicator_monthly (park_id, enterprise_id, month, tce_equivalent, co2_t, output_value,"
            " value_added, tax, fixed_asset_investment, employees, land_area_mu, enterprises, exceedance_minutes,"
            " readings) VALUES (%s, NULL, %s, %s, %s, %s, %s, %s, %s, 1200, 3000, 2, 30, 2976)"
            " ON CONFLICT ON CONSTRAINT indicator_monthly_key DO UPDATE SET output_value = EXCLUDED.output_value,"
            " tax = EXCLUDED.tax",
            (park_id, date(year, m, 1), 500.0, 1000.0, output, output / 4, output / 20, output / 10),
        )


def queue_annual(t: TwoInstances, who: str, period: str = "2025") -> httpx.Response:
    """The park's package of ``period`` queued through the park instance's API as ``who``."""
    return httpx.post(
        t.park.url + "/api/v1/region/outbox",
        json={"park_id": t.park_id, "period": period},
        headers=t.headers(who),
        timeout=30,
    )


def region_user(conn: psycopg.Connection[Any], *, league: str | None = None, park: str | None = None) -> str:
    user = uq.create_user(conn, name=unique_code("r"), role=Role.READONLY)
    store.grant(conn, user_id=user["user_id"], league=league, park_code=park)
    made, _ = uq.create_key(conn, user_id=user["user_id"])
    return made.key


def key_of(conn: psycopg.Connection[Any], role: Role, **scope: Any) -> str:
    user = uq.create_user(conn, name=unique_code("u"), role=role, **scope)
    made, _ = uq.create_key(conn, user_id=user["user_id"])
    return made.key


@pytest.fixture
def two(settings: Settings, db_url: str, db: psycopg.Connection[Any], tmp_path: Path) -> Iterator[TwoInstances]:
    from api.app import create_app
    from smartpark.db import database_url
    from smartpark.db.scratch import scratch_database
    from smartpark.registry import load_model

    code = unique_code("bt")
    model = small_model(code)
    with db.transaction():
        load_model(db, model)
    park_id = db.execute("SELECT park_id FROM parks WHERE code = %s", (code,)).fetchone()[0]  # type: ignore[index]
    ents = dict(db.execute("SELECT code, enterprise_id FROM enterprises WHERE park_id = %s", (park_id,)).fetchall())
    key_path = tmp_path / "park.key"
    public = generate_key_file(key_path)
    with scratch_database("smartpark_region", admin_url=database_url(settings)) as region_db:
        region_port, park_port = free_port(), free_port()
        park_settings = settings.model_copy(
            update={"region": RegionSettings(url=f"http://127.0.0.1:{region_port}", key_file=key_path, timeout_s=5)}
        )
        # the region mails its leagues through a local SMTP server (tests/region/test_published.py)
        region_settings = settings.model_copy(update={"webhook_allowed_networks": ["127.0.0.0/8"]})
        region = ApiThread(lambda: create_app(region_settings, limits=LIMITS, database_url=region_db.url,
                                              static_dir=None), region_port)  # fmt: skip
        park = ApiThread(lambda: create_app(park_settings, limits=LIMITS, database_url=db_url, static_dir=None),
                         park_port)  # fmt: skip
        with psycopg.connect(region_db.url, autocommit=True) as rconn:
            store.register_park(
                rconn,
                code=code,
                name="测试园区",
                league="baotou",
                public_key=public_from_text(public),
                designated_class=2,
            )
            keys = {
                "admin": key_of(rconn, Role.ADMIN),
                "league": region_user(rconn, league="baotou"),
                "other_league": region_user(rconn, league="ordos"),
                "own_park": region_user(rconn, park=code),
                "region_operator_like": key_of(rconn, Role.READONLY),  # readonly without a region scope
            }
        keys["park_admin"] = key_of(db, Role.ADMIN)
        keys["park_operator"] = key_of(db, Role.OPERATOR, park_id=park_id)
        keys["park_enterprise"] = key_of(db, Role.ENTERPRISE, enterprise_id=ents["e1"])
        pair = TwoInstances(park, region, db_url, region_db.url, park_settings, code, park_id,
                            load_key_file(key_path), keys)  # fmt: skip
        try:
            park.start()
            region.start()
            yield pair
        finally:
            park.stop()
            region.stop()


def register(
    region_db: str, code: str, league: str, designated: int | None = 2, name: str | None = None
) -> Ed25519PrivateKey:
    """Another park at the region, with a key of its own (it signs its packages in the test)."""
    key = Ed25519PrivateKey.generate()
    with psycopg.connect(region_db, autocommit=True) as conn:
        store.register_park(
            conn, code=code, name=name or code, league=league, public_key=public_raw(key), designated_class=designated
        )
    return key
