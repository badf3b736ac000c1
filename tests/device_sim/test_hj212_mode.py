"""--hj212: CEMS, wastewater and air stations upload over HJ 212 and land like the rest."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from device_sim.hj212 import Hj212Sender, parse_address, speaks_hj212
from device_sim.load import backfill, park_from
from device_sim.publisher import Publisher
from tests.support.ingest import IngestProcess, park_readings
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def hj212_port(settings: Any) -> Any:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "smartpark.cli", "hj212", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=os.environ.copy(),
        stderr=subprocess.DEVNULL,
    )

    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    try:
        wait_until(listening, 30, "hj212 serve to listen")
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_hj212_devices_upload_directly_and_every_reading_lands(
    settings: Any, sim_model: dict[str, Any], hj212_port: int
) -> None:
    code = sim_model["parks"][0]["code"]
    ingest = IngestProcess(code).start()
    try:
        park = park_from(sim_model)
        loggers = [d for d in park.devices if speaks_hj212(d)]
        assert {d.kind for d in loggers} >= {"air_station", "stack_cems"}
        sender = Hj212Sender(loggers, "127.0.0.1", hj212_port, tz=park.timezone)
        end = int(time.time()) - 60
        try:
            with Publisher(park.gateways, url=settings.mqtt_url) as pub:
                pub.connect()
                summary = backfill(park, pub, start_s=end - 2 * 3600, end_s=end, interval_s=600, direct=sender)
        finally:
            sender.close()
        assert summary.hj212_uploads == len(loggers) * summary.ticks
        assert summary.hj212_refused == {}
        assert summary.hj212_readings == sum(len(d.metrics) for d in loggers) * summary.ticks
        # The gateways' messages no longer carry the loggers' devices.
        expected = summary.readings + summary.hj212_readings
        assert summary.readings == sum(len(d.metrics) for d in park.devices if not speaks_hj212(d)) * summary.ticks
        wait_until(lambda: park_readings(settings.database_url, code) >= expected, 120, "all readings")
        assert park_readings(settings.database_url, code) == expected
    finally:
        ingest.stop()


def test_address_is_checked() -> None:
    assert parse_address("example.org:8212") == ("example.org", 8212)
    with pytest.raises(ValueError, match="'nohost'"):
        parse_address("nohost")
