"""A park with a meter tree: e1 has a main meter and two sub-meters, e2 a main meter, and the
park's intake meter is a device of e2 (the park operator's), with readings of one day."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from aggregation import indicator_job, job
from api.auth import Bureau, Role
from energy import meters as em
from smartpark.catalogue import metric
from smartpark.settings import ApiSettings, Settings
from tests.api.conftest import app_client, make_user
from tests.support.browser import _wait_http, launched_chromium
from tests.support.factories import small_model, unique_code
from tests.support.ports import free_port
from tests.support.readings import device_id, ms, store_readings

KWH = metric("elec.import_kwh").id
DAY = (2026, 7, 15)  # a calm-season day on the 蒙西 schedule
PRICES = {"floating_kwh": 0.40, "fixed_kwh": 0.20, "demand_kw_month": 30.0}
TREE = [
    {"code": "IN", "carrier": "electricity", "role": "main", "device": "in1", "device_enterprise": "e2"},
    {"code": "E1", "carrier": "electricity", "role": "main", "enterprise": "e1", "parent": "IN", "device": "em1",
     "contracted_kw": 50.0, "tariff": "nm_west_2023", "attributes": PRICES},
    {"code": "E1A", "carrier": "electricity", "role": "sub", "enterprise": "e1", "parent": "E1", "device": "em2"},
    {"code": "E1B", "carrier": "electricity", "role": "sub", "enterprise": "e1", "parent": "E1", "device": "em3"},
    {"code": "E1R", "carrier": "electricity", "role": "virtual", "enterprise": "e1", "formula": "E1 - E1A - E1B"},
    {"code": "E2", "carrier": "electricity", "role": "main", "enterprise": "e2", "parent": "IN", "device": "em1"},
]  # fmt: skip


def tree_model() -> dict[str, Any]:
    model = small_model(unique_code())
    e1, e2 = model["parks"][0]["enterprises"]
    e1["gateways"][0]["devices"] += [{"code": c, "kind": "elec_meter", "zone": "A1"} for c in ("em2", "em3")]
    e2["gateways"][0]["devices"].append({"code": "in1", "kind": "elec_meter", "zone": "D1"})
    return model


def readings(db: psycopg.Connection[Any], model: dict[str, Any]) -> None:
    """Local 00:00 to 12:00 of DAY (UTC+8), a reading every 15 minutes at a steady rate per meter:
    e1 main 96 kWh (8 kWh/h), its subs 24 and 48, e2 main 192, the intake 300."""
    rate = {("e1", "em1"): 8.0, ("e1", "em2"): 2.0, ("e1", "em3"): 4.0, ("e2", "em1"): 16.0, ("e2", "in1"): 25.0}
    start = ms(*DAY) - 8 * 3_600_000
    rows = [
        (device_id(db, model, e, d), KWH, start + q * 900_000, 1000.0 + r * q / 4)
        for (e, d), r in rate.items()
        for q in range(49)
    ]
    store_readings(db, rows)
    job.drain(db)


@pytest.fixture
def tree_park(db: psycopg.Connection[Any]) -> dict[str, Any]:
    from smartpark.registry import load_model

    model = tree_model()
    with db.transaction():
        load_model(db, model, broker=None)
    readings(db, model)
    return model


def load_tree(db: psycopg.Connection[Any], model: dict[str, Any]) -> int:
    park_id = park_id_of(db, model)
    with db.transaction():
        em.replace_tree(db, park_id=park_id, tree=em.resolve(db, park_id=park_id, spec=TREE))
    return park_id


def park_id_of(db: psycopg.Connection[Any], model: dict[str, Any]) -> int:
    row = db.execute("SELECT park_id FROM parks WHERE code = %s", (model["parks"][0]["code"],)).fetchone()
    assert row is not None
    return int(row[0])


def indicators(db: psycopg.Connection[Any], park_id: int) -> dict[str | None, float]:
    """electricity_kwh of DAY per enterprise code (None: the park), after the indicator job."""
    db.execute("INSERT INTO aggregation_dirty_days VALUES (%s, %s) ON CONFLICT DO NOTHING", (park_id, "2026-07-15"))
    indicator_job.drain(db)
    rows = db.execute(
        "SELECT e.code, i.electricity_kwh FROM indicator_daily i LEFT JOIN enterprises e USING (enterprise_id)"
        " WHERE i.park_id = %s AND i.day = %s",
        (park_id, "2026-07-15"),
    ).fetchall()
    return {code: kwh for code, kwh in rows}


@pytest.fixture(scope="module")
def client(settings: Settings, db_url: str) -> Iterator[TestClient]:
    limits = ApiSettings(pool_min=1, pool_max=2, token_check_s=0.0, auth_fail_limit=10_000)
    with app_client(settings, db_url, limits) as c:
        yield c


@pytest.fixture
def keys(db: psycopg.Connection[Any], tree_park: dict[str, Any]) -> dict[str, Any]:
    from smartpark.registry import load_model

    other = small_model(unique_code())
    with db.transaction():
        load_model(db, other)
    park_id = park_id_of(db, tree_park)
    ents = dict(db.execute("SELECT code, enterprise_id FROM enterprises WHERE park_id = %s", (park_id,)).fetchall())
    return {
        "park_id": park_id,
        "e1": ents["e1"],
        "e2": ents["e2"],
        "admin": make_user(db, Role.ADMIN),
        "operator": make_user(db, Role.OPERATOR, park_id=park_id),
        "e1_user": make_user(db, Role.ENTERPRISE, enterprise_id=ents["e1"]),
        "regulator": make_user(db, Role.REGULATOR, park_id=park_id, bureaus=[Bureau.ENVIRONMENT]),
        "readonly": make_user(db, Role.READONLY, park_id=park_id),
        "other_operator": make_user(db, Role.OPERATOR, park_id=park_id_of(db, other)),
    }


def h(keys: dict[str, Any], who: str) -> dict[str, str]:
    return {"X-API-Key": keys[who]}


@pytest.fixture(scope="module")
def server(settings: Settings, db_url: str) -> Iterator[str]:
    import uvicorn

    from api.app import create_app

    limits = ApiSettings(token_check_s=0.0, auth_fail_limit=10_000)  # the default pool: page, live stream
    app = create_app(settings, limits=limits, database_url=db_url)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    _wait_http(f"http://127.0.0.1:{port}/healthz", 60)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as b:
        yield b


@contextmanager
def viewing(
    chromium: Any,
    server: str,
    key: str,
    path: str,
    *,
    lang: str = "zh",
    viewport: dict[str, int] | None = None,
    view: str = "meters",
) -> Iterator[Any]:
    """A signed-in page (its own browser context) on the view ``path``; a JavaScript error fails the test."""
    ctx = chromium.new_context(
        viewport=viewport or {"width": 1600, "height": 1000},
        timezone_id="Europe/London",
        locale="en-GB",
        accept_downloads=True,
    )
    try:
        if lang == "en":
            ctx.add_init_script("localStorage.setItem('smartpark.lang', 'en')")
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server)
        page.fill("#api-key", key)
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#view[data-ready='1']", timeout=60_000)
        page.goto(server + path)
        page.wait_for_selector(f"#view[data-view='{view}'][data-ready='1']", timeout=60_000)
        yield page
        assert not errors, errors
    finally:
        ctx.close()
