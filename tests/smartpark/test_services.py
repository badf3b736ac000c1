"""Killing the local services and bringing them up again keeps their data."""

import os
import signal
import time

import psycopg
import pytest

from smartpark.services import local, mosquitto, postgres
from smartpark.services.process import pid_alive, read_pid

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _kill(pid):
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid)


def test_killed_services_come_back_with_their_data(settings, db, park):
    code = park["parks"][0]["code"]
    db.execute("CREATE TABLE IF NOT EXISTS services_probe (v text)")
    db.execute("INSERT INTO services_probe VALUES (%s)", (code,))
    db.close()

    _kill(postgres.postmaster_pid(settings))
    _kill(read_pid(local.paths(settings).mqtt_pid))
    assert not postgres.is_running(settings) and not mosquitto.is_running(settings)

    # what `smartpark services up` does for the local services
    postgres.start(settings)
    mosquitto.start(settings)
    assert postgres.is_running(settings) and mosquitto.is_running(settings)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        assert conn.execute("SELECT v FROM services_probe WHERE v = %s", (code,)).fetchone() == (code,)
    from smartpark.broker_admin import BrokerAdmin

    with BrokerAdmin.local(settings) as admin:
        assert f"{code}.e1.gw1" in admin.list_clients()
