"""Test harness for the alerting service: a local webhook receiver, a gateway publisher, and the
service running in a thread against the real broker and database."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from alerting.metrics import AlertingMetrics
from alerting.routing import InhibitRule
from alerting.rules import Rule, rule_from_dict
from alerting.service import AlertingService
from benchmarks.webhook_sink import WebhookSink
from smartpark.broker_admin import gateway_client_id
from smartpark.contract import gateway_topic, status_topic
from smartpark.mqtt import BrokerTarget, connect, make_client, mqtt_url
from smartpark.settings import Settings, get_settings

WebhookReceiver = WebhookSink


class Gateway:
    """Publishes like a park gateway, with its own broker credentials."""

    def __init__(self, model: dict[str, Any], enterprise: str = "e1") -> None:
        park = model["parks"][0]
        ent = next(e for e in park["enterprises"] if e["code"] == enterprise)
        gw = ent["gateways"][0]
        self.park, self.enterprise, self.code = park["code"], enterprise, gw["code"]
        self.last_ts_ms = 0
        target = BrokerTarget.parse(mqtt_url(get_settings())).with_credentials(gw["username"], gw["password"])
        self.client = make_client(gateway_client_id(gw["username"]), target=target, clean_start=True, session_expiry=0)
        connect(self.client)

    def send(self, readings: dict[str, dict[str, float]], ts_ms: int | None = None) -> None:
        if ts_ms is None:  # each send a new instant: a repeated one is a duplicate, judged no more
            ts_ms = self.last_ts_ms = max(int(time.time() * 1000), self.last_ts_ms + 1)
        body = {dev: [{"ts": ts_ms, "values": values}] for dev, values in readings.items()}
        info = self.client.publish(gateway_topic(self.park, self.enterprise, self.code), json.dumps(body), qos=1)
        info.wait_for_publish(5)

    def status(self, device: str, state: str) -> None:
        info = self.client.publish(status_topic(self.park, self.enterprise, device), state, qos=1)
        info.wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def scoped(park_code: str, *rules: dict[str, Any]) -> list[Rule]:
    """Rules limited to the test's park (the test database is shared by the whole run)."""
    out = []
    for r in rules:
        scope = {**r.get("scope", {}), "parks": [park_code]}
        out.append(rule_from_dict({"severity": "major", "category": "safety", **r, "scope": scope}))
    return out


def silence_hour(conn: Any, matchers: Sequence[str], now_ms: int, by: str, comment: str) -> int:
    """A silence from a second before ``now_ms`` for an hour."""
    from alerting import routing_store

    return routing_store.create_silence(
        conn, matchers=matchers, starts_ms=now_ms - 1000, ends_ms=now_ms + 3_600_000, by=by, comment=comment
    )


def in_park(rule: Rule, park_code: str) -> Rule:
    return dataclasses.replace(rule, scope=dataclasses.replace(rule.scope, parks=(park_code,)))


@contextmanager
def running(
    settings: Settings,
    rules: Sequence[Rule] | None,  # None: the rules table
    *,
    inhibit: Sequence[InhibitRule] = (),
    client_id: str | None = None,
    group: str | None = None,
    tick_s: float = 0.1,
    max_backoff_s: float = 1.0,
    parks: Sequence[str] | None = None,
    session_expiry_s: int = 5,
    transmission_every_s: float = 300.0,
) -> Iterator[AlertingService]:
    service = AlertingService(
        settings=settings.model_copy(
            update={
                "alerting_share_group": group or f"alerting-{secrets.token_hex(4)}",
                "webhook_allowed_networks": ["127.0.0.0/8"],  # the test's webhook receivers
            }
        ),
        rules=rules,
        inhibit=inhibit,
        metrics=AlertingMetrics.create(CollectorRegistry()),
        client_id=client_id or f"alerting-test-{secrets.token_hex(4)}",
        tick_s=tick_s,
        refresh_s=0.5,
        max_backoff_s=max_backoff_s,
        session_expiry_s=session_expiry_s,
        parks=parks,
        transmission_every_s=transmission_every_s,
    )
    service.start()
    assert service.ready.wait(10), "the alerting service did not subscribe"
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        service.stop_event.set()
        thread.join(timeout=10)
        service.stop()


@contextmanager
def spawned(args: Sequence[str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A service process of the repository, its output in ``log_path``; killed if still running
    at the end."""
    from ingest.cli import die_with_parent
    from tests.support.ingest import ROOT

    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
