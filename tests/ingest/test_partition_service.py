"""A partitioned ingester subscribes to an enterprise registered while it runs."""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

import psycopg
import pytest

from ingest.worker import PARTITION_REFRESH_S
from smartpark.settings import Settings
from tests.support.ingest import (
    IngestProcess,
    count,
    disconnect,
    gateway_client,
    park_readings,
    park_rejections,
    publish_all,
    readings_message,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_a_new_enterprise_is_taken_within_the_refresh_time(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any], broker: Any
) -> None:
    from smartpark.registry import load_model

    code = park["parks"][0]["code"]
    url = settings.database_url or ""
    ingest = IngestProcess(code, extra=("--partitioned",)).start()
    model = copy.deepcopy(park)
    username = f"{code}.e3.gw1"
    model["parks"][0]["enterprises"].append(
        {
            "code": "e3",
            "name": "新入园企业",
            "industry": "other",
            "gateways": [
                {
                    "code": "gw1",
                    "username": username,
                    "password": secrets.token_urlsafe(12),
                    "devices": [{"code": "em1", "kind": "elec_meter", "zone": "E1"}],
                }
            ],
        }
    )
    client = None
    try:
        with db.transaction():
            load_model(db, model, broker=broker)
        registered = time.monotonic()
        client = gateway_client(model, "e3")
        ts = int(time.time() * 1000) - 60_000
        # Until the partition subscribes, what e3 publishes reaches no ingester. A broker's "Success"
        # proves only that some session matches (the broker is shared: a platform session of another
        # run may), so the proof of the subscription is a probe reading stored.
        probe = 0
        while park_readings(url, code) == 0 and time.monotonic() - registered < PARTITION_REFRESH_S + 10:
            probe += 1
            publish_all(client, [readings_message(code, "e3", "em1", ts - probe, {"elec.power_kw": 1.0})])
            time.sleep(0.5)
        taken_after = time.monotonic() - registered
        assert park_readings(url, code) > 0, f"no probe stored within {taken_after:.1f} s"
        assert taken_after < PARTITION_REFRESH_S + 3
        messages = [readings_message(code, "e3", "em1", ts + i, {"elec.power_kw": float(i)}) for i in range(1, 51)]
        assert publish_all(client, messages) == ["Success"] * 50

        def stored_after_probes() -> int:
            return count(
                url,
                "SELECT count(*) FROM telemetry t JOIN devices d USING (device_id) JOIN enterprises e"
                " USING (enterprise_id) JOIN parks p USING (park_id) WHERE p.code = %s AND e.code = 'e3'"
                " AND t.ts > to_timestamp(%s / 1000.0)",
                (code, ts),
            )

        try:
            wait_until(lambda: stored_after_probes() >= 50, 30, "the new enterprise's readings to be stored")
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}; stored {stored_after_probes()}, refused {park_rejections(url, code)}"
            ) from None
        assert stored_after_probes() == 50
    finally:
        if client is not None:
            disconnect(client)
        ingest.stop()
        broker.delete_client(username)
