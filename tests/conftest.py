"""Fixtures for integration tests: the real TimescaleDB and Mosquitto, isolated per test run.

Each run gets a fresh database (created, migrated, dropped at the end) and unique park codes on
the shared broker, so several checkouts and runs on one machine do not see each other's data.
The environment is pointed at the run's database so that processes the tests start (ingesters,
alerting, API) use it too. Unit tests of pure code use none of these fixtures.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from smartpark.settings import Settings, get_settings
from tests.support.factories import small_model, unique_code


@pytest.fixture(scope="session", autouse=True)
def _no_public_network() -> Iterator[None]:
    """The tests talk to this machine's servers only: a connection to a public address is refused
    at once, by name, instead of reaching the internet and leaving its socket to a later test."""
    connect = socket.socket.connect

    def local_only(sock: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple):
            try:
                public = ipaddress.ip_address(str(address[0]).split("%")[0]).is_global
            except ValueError:
                public = False
            if public:
                raise ConnectionRefusedError(f"tests do not reach public addresses: {address!r}")
        return connect(sock, address)

    socket.socket.connect = local_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = connect  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def services() -> Settings:
    """Start the local services unless external ones are configured; the settings with their URLs."""
    from operations.services import local

    get_settings.cache_clear()
    base = get_settings()
    if not base.database_url:
        from operations.services import postgres

        postgres.start(base)
    if not base.mqtt_url:
        from operations.services import mosquitto

        mosquitto.start(base)
    return local.resolved(base)


@pytest.fixture(scope="session")
def db_url(services: Settings) -> Iterator[str]:
    from smartpark.db import database_url
    from smartpark.db.scratch import scratch_database

    with scratch_database("smartpark_test", admin_url=database_url(services)) as scratch:
        yield scratch.url


@pytest.fixture(scope="session")
def settings(services: Settings, db_url: str) -> Iterator[Settings]:
    from smartpark.mqtt import admin_url, mqtt_url

    env = {
        "SMARTPARK_DATABASE_URL": db_url,
        "SMARTPARK_MQTT_URL": mqtt_url(services),
        "SMARTPARK_MQTT_ADMIN_URL": admin_url(services),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    get_settings.cache_clear()
    yield get_settings()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    get_settings.cache_clear()


@pytest.fixture
def db(settings: Settings) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(settings.database_url or "", autocommit=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def broker(settings: Settings) -> Iterator[Any]:
    from smartpark.broker_admin import BrokerAdmin

    with BrokerAdmin.of(settings) as admin:
        yield admin


@pytest.fixture
def park(db: psycopg.Connection[Any], broker: Any) -> Iterator[dict[str, Any]]:
    """A small park with a unique code, in the database and with broker accounts."""
    from smartpark.registry import broker_accounts, load_model

    model = small_model(unique_code())
    with db.transaction():
        load_model(db, model, broker=broker)
    yield model
    # The broker is shared by every run on the machine: leave no accounts behind.
    for account in broker_accounts(model):
        broker.delete_client(account.username)
