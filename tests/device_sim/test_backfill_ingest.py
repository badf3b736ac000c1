"""Back-fill through the real broker and ingester: every reading sent lands in TimescaleDB."""

from __future__ import annotations

import time
from typing import Any

import pytest

from device_sim.faults import FaultConfig
from device_sim.load import publish_readings
from tests.support.ingest import IngestProcess, park_readings, park_rejections
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def ingest(sim_model: dict[str, Any]) -> Any:
    proc = IngestProcess(sim_model["parks"][0]["code"]).start()
    yield proc
    proc.stop()


def test_a_day_of_backfill_lands_every_reading(settings: Any, sim_model: dict[str, Any], ingest: IngestProcess) -> None:
    end = int(time.time()) - 60
    summary = publish_readings(sim_model, start_s=end - 86_400, end_s=end, interval_s=600, url=settings.mqtt_url)
    code = sim_model["parks"][0]["code"]
    # a reading at least every 10-minute tick of the day (how many a tick holds depends on the
    # generated park's devices, which the park's random code seeds), none malformed
    assert summary.ticks == 144 and summary.readings >= summary.ticks and summary.malformed == 0
    url = settings.database_url
    wait_until(lambda: park_readings(url, code) >= summary.readings, 120, "every reading stored")
    time.sleep(1)  # nothing beyond what was sent arrives late
    assert park_readings(url, code) == summary.readings
    assert park_rejections(url, code) == {}


def test_duplicates_and_late_readings_are_stored_once(
    settings: Any, sim_model: dict[str, Any], ingest: IngestProcess
) -> None:
    end = int(time.time()) - 60
    faults = FaultConfig(duplicate=0.05, late=0.05, reorder=0.05)
    clean = publish_readings(
        sim_model, start_s=end - 4 * 3600, end_s=end, interval_s=600, first=2, url=settings.mqtt_url
    )
    code = sim_model["parks"][0]["code"]
    url = settings.database_url
    wait_until(lambda: park_readings(url, code) >= clean.readings, 120, "the clean copy")
    # The same history again, faulty this time: idempotent storage adds nothing.
    faulty = publish_readings(
        sim_model, start_s=end - 4 * 3600, end_s=end, interval_s=600, first=2, faults=faults, url=settings.mqtt_url
    )
    assert faulty.faults.get("duplicated", 0) > 0 and faulty.readings > clean.readings
    total = clean.messages + faulty.messages
    wait_until(lambda: (ingest.metric("messages_total") or 0) >= total, 120, "every message handled")
    assert park_readings(url, code) == clean.readings
