"""A broker that is away when alerting starts does not stop the service: it keeps trying, stays
visibly alive (its heartbeat beats), and judges readings as soon as the broker answers."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from prometheus_client import CollectorRegistry

from alerting.metrics import AlertingMetrics
from alerting.rules import default_rules
from alerting.service import AlertingService
from smartpark.settings import Settings
from tests.support.alerting import Gateway, in_park
from tests.support.ports import free_port
from tests.support.relay import TcpRelay
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_alerting_started_while_the_broker_is_away_raises_the_alarm_once_it_returns(
    settings: Settings, db: psycopg.Connection[Any], park: dict[str, Any]
) -> None:
    code = park["parks"][0]["code"]
    url = urlsplit(settings.mqtt_url or "")
    relay = TcpRelay(free_port(), (url.hostname or "127.0.0.1", url.port or 1883))
    netloc = url.netloc.rsplit(":", 1)[0] + f":{relay.port}"
    service = AlertingService(
        settings=settings.model_copy(
            update={"mqtt_url": urlunsplit(url._replace(netloc=netloc)), "alerting_share_group": f"late-{code}"}
        ),
        rules=[in_park(r, code) for r in default_rules() if r.condition.type != "nodata"],
        metrics=AlertingMetrics.create(CollectorRegistry()),
        client_id=f"alerting-late-{secrets.token_hex(3)}",
        refresh_s=0.5,
        session_expiry_s=5,
        parks=[code],
    )
    failed: list[BaseException] = []

    def start() -> None:
        try:
            service.start()
        except BaseException as exc:  # what the test reports, not a thread's stray traceback
            failed.append(exc)

    starter = threading.Thread(target=start, daemon=True)
    starter.start()
    time.sleep(3)  # refused connections: the service retries instead of ending
    assert starter.is_alive() and not failed, failed
    assert service.heartbeat.last_beat is not None  # alive while it waits
    relay.open()
    loop: threading.Thread | None = None
    gw = Gateway(park)
    try:
        assert service.ready.wait(60), "no subscription once the broker answered"
        assert not failed, failed
        loop = threading.Thread(target=service.run, daemon=True)
        loop.start()
        gw.send({"gd1": {"safety.lel_pct": 32.5}})
        wait_until(
            lambda: (
                db.execute(
                    "SELECT count(*) FROM alerts a JOIN devices d USING (device_id) WHERE a.rule_id = 'lel-level1'"
                    " AND d.code = 'gd1' AND a.park_id = (SELECT park_id FROM parks WHERE code = %s)",
                    (code,),
                ).fetchone()[0]
                >= 1
            ),
            60,
            "the gas alarm after the broker came back",
        )
    finally:
        gw.close()
        service.stop_event.set()
        if loop is not None:
            loop.join(10)
        starter.join(15)
        service.stop()
        relay.close()
