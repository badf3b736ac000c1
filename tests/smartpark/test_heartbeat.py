"""Heartbeats: stale once older than the service's stale time, seen the same way in Prometheus,
in /readyz of the service's health server, in the heartbeat file and in the database."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
import pytest
from prometheus_client import CollectorRegistry
from psycopg.types.json import Jsonb

from smartpark.health_http import serve_health
from smartpark.heartbeat import UPSERT, Heartbeat, file_age_s, latest
from tests.support.ports import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_beat_is_fresh_until_its_stale_time(tmp_path: Path) -> None:
    clock, registry = Clock(), CollectorRegistry()
    hb = Heartbeat("alerting", stale_after_s=15, registry=registry, path=tmp_path / "beat", clock=clock)
    assert hb.status().stale and hb.status().as_json()["last_beat"] is None  # never beaten: stale
    hb.beat(lag_s=0.25)
    assert not hb.status().stale
    assert registry.get_sample_value("smartpark_heartbeat_timestamp_seconds", {"service": "alerting"}) == clock.now
    assert registry.get_sample_value("smartpark_heartbeat_lag_seconds", {"service": "alerting"}) == 0.25
    assert (tmp_path / "beat").exists()
    clock.now += 15
    assert not hb.status().stale  # exactly at its stale time: still fresh
    clock.now += 0.001
    assert hb.status().stale and hb.status().as_json()["age_s"] == pytest.approx(15.001)


def test_the_file_says_how_old_the_beat_is(tmp_path: Path) -> None:
    path = tmp_path / "beat"
    assert file_age_s(path) is None
    Heartbeat("ingest", stale_after_s=30, registry=CollectorRegistry(), path=path).beat()
    os.utime(path, (1_000.0, 1_000.0))
    assert file_age_s(path, now=1_042.0) == 42.0


def test_readyz_answers_503_once_the_beat_is_stale() -> None:
    clock = Clock()
    hb = Heartbeat("scheduler", stale_after_s=600, registry=CollectorRegistry(), clock=clock)
    port = free_port()
    server = serve_health(port, hb, registry=CollectorRegistry())
    try:

        def readyz() -> tuple[int, dict[str, Any]]:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        hb.beat(lag_s=3.0)
        assert readyz() == (200, {**hb.status().as_json(), "status": "ok"})
        clock.now += 601
        code, body = readyz()
        assert code == 503 and body["status"] == "stale" and body["lag_s"] == 3.0
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
def test_the_table_keeps_the_last_beat_judged_on_the_database_clock(db: psycopg.Connection[Any]) -> None:
    now = db.execute("SELECT extract(epoch FROM now())::float8").fetchone()[0]  # type: ignore[index]
    db.execute(UPSERT, ("t-stuck", "h", 1, now - 100, 0.5, 15.0, Jsonb({})))
    db.execute(UPSERT, ("t-live", "h", 2, now - 1, 0.1, 15.0, Jsonb({})))
    db.execute(UPSERT, ("t-live", "h", 3, now - 500, 9.0, 15.0, Jsonb({})))  # a process long gone
    got = latest(db)
    assert got["t-stuck"].stale and got["t-stuck"].age_s == pytest.approx(100, abs=1)
    assert not got["t-live"].stale and got["t-live"].lag_s == 0.1
