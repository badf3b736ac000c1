"""Faults mid-stream: every published reading is stored exactly once afterwards.

These restart the machine's shared PostgreSQL and Mosquitto for a few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from ingest.cli import EXIT_TAKEN_OVER
from smartpark.settings import Settings
from tests.support.ingest import IngestProcess, Stream, disconnect, gateway_client, park_readings, park_rejections
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _stream_through(
    settings: Settings,
    park: dict[str, Any],
    fault: Callable[[IngestProcess], None],
    *,
    workers: int = 1,
    extra: tuple[str, ...] = (),
    enterprises: tuple[str, ...] = ("e1",),
) -> None:
    code = park["parks"][0]["code"]
    url = settings.database_url or ""
    ingest = IngestProcess(code, workers=workers, extra=extra).start()
    clients = []
    try:
        streams = []
        for ent in enterprises:
            clients.append(gateway_client(park, ent))
            # Ten readings a message, a message every 5 ms: ~4 s of traffic, the fault in the middle.
            streams.append(
                Stream(
                    clients[-1],
                    code,
                    ent,
                    "gw1",
                    ["em1"],
                    messages=800,
                    per_device=10,
                    rate=200,
                    start_ms=int(time.time() * 1000) - 3 * 3600 * 1000,
                )
            )
        for stream in streams:
            stream.start()
        total = sum(s.readings for s in streams)
        wait_until(
            lambda: park_readings(url, code) > 0 and min(s.sent for s in streams) > 150, 30, "the stream to be flowing"
        )
        fault(ingest)
        for stream in streams:
            stream.join()
        wait_until(lambda: park_readings(url, code) >= total, 90, "every published reading to be stored")
        time.sleep(1)
        assert park_readings(url, code) == total
        assert park_rejections(url, code) == {}
    finally:
        for client in clients:
            disconnect(client)
        ingest.stop()


def test_kill_9_of_the_ingester_then_restart(settings: Settings, park: dict[str, Any]) -> None:
    def crash(ingest: IngestProcess) -> None:
        ingest.kill()
        time.sleep(0.5)
        ingest.start()

    _stream_through(settings, park, crash)


def test_sigterm_flushes_then_a_restart_resumes(settings: Settings, park: dict[str, Any]) -> None:
    def stop_and_restart(ingest: IngestProcess) -> None:
        assert ingest.stop() == 0  # flushed, committed, acknowledged, exited cleanly
        ingest.start()

    _stream_through(settings, park, stop_and_restart)


def test_a_second_ingester_with_the_same_client_id_does_not_start(park: dict[str, Any]) -> None:
    """Two processes fighting over one persistent session would reconnect forever."""
    code = park["parks"][0]["code"]
    first = IngestProcess(code).start()
    second = IngestProcess(code, tag=first.tag)
    try:
        second.start(wait=False)
        assert second.proc is not None
        assert second.proc.wait(30) == EXIT_TAKEN_OVER
        assert first.alive() and first.subscribed()
    finally:
        first.stop()
        second.stop()


def test_postgresql_restarted_mid_stream(settings: Settings, park: dict[str, Any]) -> None:
    from operations.services import postgres

    def restart(ingest: IngestProcess) -> None:
        postgres.stop(settings, mode="fast")
        time.sleep(2)
        postgres.start(settings)
        assert ingest.alive()

    _stream_through(settings, park, restart)


def _restart_mosquitto(settings: Settings) -> Callable[[IngestProcess], None]:
    from operations.services import mosquitto

    def restart(ingest: IngestProcess) -> None:
        mosquitto.stop(settings)
        time.sleep(1)
        mosquitto.start(settings)
        assert ingest.alive()

    return restart


def test_mosquitto_restarted_mid_stream(settings: Settings, park: dict[str, Any]) -> None:
    """With a plain persistent subscription, which Mosquitto restores after a restart.

    Mosquitto 2.0.11 does not restore shared subscriptions from its persistence file, so behind a
    shared subscription the readings published between the restart and the ingester's
    re-subscription have no subscriber (see `smartpark ingest --exclusive`).
    """
    _stream_through(settings, park, _restart_mosquitto(settings), extra=("--exclusive",))


def test_mosquitto_restarted_mid_stream_with_partitioned_workers(settings: Settings, park: dict[str, Any]) -> None:
    """Two workers, each on plain subscriptions to its own enterprises: both enterprises' streams
    land whole across the broker restart, whichever worker owns which."""
    _stream_through(
        settings, park, _restart_mosquitto(settings), workers=2, extra=("--partitioned",), enterprises=("e1", "e2")
    )


def test_kill_9_of_one_of_two_workers(settings: Settings, park: dict[str, Any]) -> None:
    """The supervisor restarts a killed worker with its client id; its session's messages land."""
    import os
    import signal

    def kill_worker(ingest: IngestProcess) -> None:
        assert ingest.proc is not None
        children = _children(ingest.proc.pid)
        assert len(children) == 2
        os.kill(children[0], signal.SIGKILL)

    _stream_through(settings, park, kill_worker, workers=2)


def _children(pid: int) -> list[int]:
    """The worker processes of a supervisor (not multiprocessing's resource tracker)."""
    from pathlib import Path

    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(int(child))
    return sorted(out)
