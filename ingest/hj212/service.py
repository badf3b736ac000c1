"""`smartpark hj212 serve`: the server wired to the registry, the broker and rejected_messages."""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from collections.abc import Collection
from typing import Any

import psycopg
from prometheus_client import REGISTRY

from forwarding.recorder import PacketRecorder
from ingest.hj212.clock import ClockCheck, ClockLimits
from ingest.hj212.directory import Directory, from_database
from ingest.hj212.lockout import lockout_limits
from ingest.hj212.publisher import MqttPublisher
from ingest.hj212.recovery import Recovery, RecoveryLimits
from ingest.hj212.rejections import RejectionLog, database_sink
from ingest.hj212.requests import Requests
from ingest.hj212.server import Hj212Server, Limits
from ingest.rejections import rejection_limits
from smartpark.db import database_url
from smartpark.health_http import serve_health
from smartpark.heartbeat import STALE_AFTER_S, Heartbeat, beating, publish
from smartpark.mqtt import connect, make_client, mqtt_url
from smartpark.origin import origin_key
from smartpark.settings import Settings

log = logging.getLogger("smartpark.hj212")
DEFAULT_HOST = "127.0.0.1"  # data loggers are outside: pass --host 0.0.0.0 on the park's gateway host
DEFAULT_PORT = 8212


async def serve(
    settings: Settings,
    host: str,
    port: int,
    store_cns: Collection[str],
    *,
    ready: asyncio.Event | None = None,
    heartbeat: Heartbeat | None = None,
) -> None:
    url = database_url(settings)
    # No session to keep: a message unacknowledged at exit was never replied to, so the logger
    # resends it. A new unguessable id per start: nobody can take this connection over.
    client = make_client(f"hj212-{secrets.token_hex(12)}", url=mqtt_url(settings), clean_start=True, session_expiry=0)
    await asyncio.to_thread(connect, client)
    rejections = RejectionLog(
        sink=await asyncio.to_thread(database_sink, url), registry=REGISTRY, limits=rejection_limits(settings.ingest)
    )
    recorder = PacketRecorder(lambda: psycopg.AsyncConnection.connect(url, autocommit=True))
    server = Hj212Server(
        directory=Directory(from_database(url)),
        publisher=MqttPublisher(client, origin_key=origin_key(mqtt_url(settings))),
        rejections=rejections,
        store_cns=store_cns,
        topic_root=settings.topic_root,
        lockout=lockout_limits(settings.hj212),
        limits=Limits(
            split_bytes_per_connection=settings.hj212.split_bytes_per_connection,
            split_bytes_total=settings.hj212.split_bytes_total,
        ),
        registry=REGISTRY,
        recorder=recorder,
        requests=Requests(per_logger=settings.hj212.requests_per_logger, timeout_s=settings.hj212.request_timeout_s),
    )
    recording = asyncio.create_task(recorder.run())
    loops = _logger_commands(settings, server, url)
    tcp = await server.start(host, port)
    flusher = asyncio.create_task(rejections.run())
    refresher = asyncio.create_task(_refresh(server))
    beater = asyncio.create_task(beating(heartbeat)) if heartbeat is not None else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("hj212 listening on %s:%d, %d data loggers registered", host, port, len(server.directory))
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        tcp.close()
        await server.close_connections()
        await tcp.wait_closed()
        flusher.cancel()
        refresher.cancel()
        if beater is not None:
            beater.cancel()
        recording.cancel()
        for task in loops:
            task.cancel()
        await recorder.close()
        await rejections.flush()
        client.disconnect()
        client.loop_stop()


def _logger_commands(settings: Settings, server: Hj212Server, url: str) -> list[asyncio.Task[None]]:
    """History recovery and the clock check, each off when its period is 0."""
    h = settings.hj212

    def connect() -> Any:
        return psycopg.AsyncConnection.connect(url, autocommit=True)

    tasks = []
    if h.recovery_every_s > 0:
        limits = RecoveryLimits(
            every_s=h.recovery_every_s,
            lookback_s=h.recovery_lookback_h * 3600,
            settle_s=h.recovery_settle_s,
            retry_after_s=h.recovery_retry_after_s,
            max_range_s=h.recovery_max_range_h * 3600,
        )
        recovery = Recovery(server, connect, limits=limits, default_interval_s=settings.aggregation.default_interval_s)
        tasks.append(asyncio.create_task(recovery.run()))
    if h.clock_every_s > 0:
        check = ClockCheck(server, connect, limits=ClockLimits(every_s=h.clock_every_s, max_skew_s=h.max_clock_skew_s))
        server.finished.append(check.finished)
        tasks.append(asyncio.create_task(check.run()))
    return tasks


async def _refresh(server: Hj212Server) -> None:
    while True:
        await asyncio.sleep(5)
        try:
            await server.reload()
        except Exception:  # a database restart must not stop the gateway
            log.exception("hj212 directory reload failed")


def run(settings: Settings, *, host: str | None, port: int | None, store_cns: Collection[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    heartbeat = Heartbeat("hj212", stale_after_s=STALE_AFTER_S["hj212"])
    if settings.metrics_port:
        serve_health(settings.metrics_port, heartbeat, addr="0.0.0.0")
    publish(heartbeat, database_url(settings))
    asyncio.run(serve(settings, host or DEFAULT_HOST, port or DEFAULT_PORT, store_cns, heartbeat=heartbeat))
    return 0
