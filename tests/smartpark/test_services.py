"""Killing the local services and bringing them up again keeps their data.

The test runs its own private TimescaleDB and Mosquitto (a state folder and ports of its own), so
killing them disturbs no other test run on the machine.
"""

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from operations.services import local, mosquitto, postgres
from operations.services.process import pid_alive, read_pid
from smartpark.settings import Settings
from tests.support.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _kill(pid):
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid)


@pytest.fixture
def private() -> Iterator[Settings]:
    # Not under pytest's 0700 temporary folder: the database runs as its own OS user.
    state = Path(tempfile.mkdtemp(prefix="smartpark-services-", dir="/var/tmp"))
    state.chmod(0o755)
    own = Settings(
        state_dir=state,
        pg_port=free_port(),
        mqtt_port=free_port(),
        database_url=None,
        mqtt_url=None,
        mqtt_admin_url=None,
    )
    try:
        yield own
    finally:
        mosquitto.stop(own)
        postgres.stop(own, mode="immediate")
        shutil.rmtree(state, ignore_errors=True)


def test_killed_services_come_back_with_their_data(private):
    postgres.start(private)
    mosquitto.start(private)
    code = "probe"
    with psycopg.connect(local.local_database_url(private), autocommit=True) as db:
        db.execute("CREATE TABLE services_probe (v text)")
        db.execute("INSERT INTO services_probe VALUES (%s)", (code,))
    from smartpark.broker_admin import BrokerAdmin

    with BrokerAdmin.of(local.resolved(private)) as admin:
        admin.execute([{"command": "createClient", "username": f"{code}.gw1", "password": "secret-pass-1"}])

    _kill(postgres.postmaster_pid(private))
    _kill(read_pid(local.paths(private).mqtt_pid))
    assert not postgres.is_running(private) and not mosquitto.is_running(private)

    # what `smartpark services up` does for the local services
    postgres.start(private)
    mosquitto.start(private)
    assert postgres.is_running(private) and mosquitto.is_running(private)
    with psycopg.connect(local.local_database_url(private), autocommit=True) as conn:
        assert conn.execute("SELECT v FROM services_probe WHERE v = %s", (code,)).fetchone() == (code,)
    with BrokerAdmin.of(local.resolved(private)) as admin:
        assert f"{code}.gw1" in admin.list_clients()
