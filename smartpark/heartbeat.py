"""Heartbeats: each long-running service says when its loop last went round and how far behind
its input it is, so that a stuck service is seen (and restarted) instead of looking alive.

A service calls :meth:`Heartbeat.beat` from the loop that does its work (alerting: each pass of
the evaluation loop; ingest: each pass of a worker; scheduler: each job run; hj212 and the API:
a task of their event loop), with its lag when it knows one. The beat is read four ways:

- Prometheus: ``smartpark_heartbeat_timestamp_seconds``, ``smartpark_heartbeat_lag_seconds`` and
  ``smartpark_heartbeat_stale_after_seconds``, labelled by service;
- the service's ``/readyz`` (:mod:`smartpark.health_http`), 503 once the beat is older than
  ``stale_after_s``;
- a heartbeat file (``SMARTPARK_HEARTBEAT_FILE``, set by the supervisor) whose modification
  time is the last beat: the supervisor restarts a child whose file stops moving;
- the ``service_heartbeats`` table (migration 0651), written every few seconds by a thread of
  its own (:class:`Publisher`), so that the API can tell the page since when alarms or
  statistics are stale. The thread writes the last beat, not the time of writing: a stuck loop
  shows as an old beat.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Gauge
from psycopg.types.json import Jsonb

log = logging.getLogger(__name__)

FILE_ENV = "SMARTPARK_HEARTBEAT_FILE"
FILE_EVERY_S = 1.0  # the file is touched at most this often (a beat may come every millisecond)
PUBLISH_EVERY_S = 5.0
# A beat older than this means the service is stuck (its loop goes round every second or so;
# the scheduler's rollup pass may take minutes on a back-fill).
STALE_AFTER_S = {"ingest": 30.0, "alerting": 15.0, "scheduler": 600.0, "hj212": 15.0, "api": 15.0}


@dataclass(frozen=True, slots=True)
class Status:
    service: str
    last_beat: float | None  # Unix time; None: never
    lag_s: float | None
    stale_after_s: float
    now: float

    @property
    def age_s(self) -> float | None:
        return None if self.last_beat is None else max(0.0, self.now - self.last_beat)

    @property
    def stale(self) -> bool:
        age = self.age_s
        return age is None or age > self.stale_after_s

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "status": "stale" if self.stale else "ok",
            "last_beat": None if self.last_beat is None else datetime.fromtimestamp(self.last_beat, UTC).isoformat(),
            "age_s": None if self.age_s is None else round(self.age_s, 3),
            "lag_s": None if self.lag_s is None else round(self.lag_s, 3),
            "stale_after_s": self.stale_after_s,
        }


class Heartbeat:
    def __init__(
        self,
        service: str,
        *,
        stale_after_s: float,
        registry: CollectorRegistry = REGISTRY,
        path: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if stale_after_s <= 0:
            raise ValueError(f"stale_after_s {stale_after_s!r} must be > 0")
        self.service, self.stale_after_s, self.clock = service, stale_after_s, clock
        env = os.environ.get(FILE_ENV)
        self.path = path if path is not None else (Path(env) if env else None)
        self.last_beat: float | None = None
        self.lag_s: float | None = None
        self.detail: dict[str, float] = {}  # figures of the service written with the beat
        self._touched = 0.0
        gauges = {
            name: Gauge(f"smartpark_heartbeat_{name}", doc, ["service"], registry=registry).labels(service)
            for name, doc in (
                ("timestamp_seconds", "Unix time the service's loop last went round"),
                ("lag_seconds", "how far behind its input the service is"),
                ("stale_after_seconds", "a beat older than this means the service is stuck"),
            )
        }
        self._at, self._lag = gauges["timestamp_seconds"], gauges["lag_seconds"]
        gauges["stale_after_seconds"].set(stale_after_s)

    def beat(self, lag_s: float | None = None) -> None:
        now = self.clock()
        self.last_beat = now
        self._at.set(now)
        if lag_s is not None:
            self.lag_s = max(0.0, lag_s)
            self._lag.set(self.lag_s)
        if self.path is not None and now - self._touched >= FILE_EVERY_S:
            self._touched = now
            try:
                self.path.touch()
            except OSError as exc:  # a full or read-only disk must not stop the service's work
                log.warning("heartbeat file %s not touched: %s", self.path, exc)

    def status(self) -> Status:
        return Status(self.service, self.last_beat, self.lag_s, self.stale_after_s, self.clock())


async def beating(heartbeat: Heartbeat, every_s: float = 1.0) -> None:
    """Beat from an event loop (hj212, the API): the beat stops when the loop is blocked."""
    import asyncio

    while True:
        heartbeat.beat()
        await asyncio.sleep(every_s)


def file_age_s(path: Path, now: float | None = None) -> float | None:
    """Seconds since the heartbeat file was touched; None when there is none yet."""
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return max(0.0, (time.time() if now is None else now) - mtime)


UPSERT = (
    "INSERT INTO service_heartbeats (service, host, pid, beat_at, lag_s, stale_after_s, detail, written_at)"
    " VALUES (%s, %s, %s, to_timestamp(%s), %s, %s, %s, now())"
    " ON CONFLICT (service, host, pid) DO UPDATE SET beat_at = excluded.beat_at, lag_s = excluded.lag_s,"
    " stale_after_s = excluded.stale_after_s, detail = excluded.detail, written_at = now()"
)


def latest(conn: Any) -> dict[str, Status]:
    """Each service's freshest beat as the table has it, judged on the database's clock."""
    from psycopg.rows import tuple_row

    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(
            "SELECT service, extract(epoch FROM max(beat_at))::float8,"
            " (array_agg(lag_s ORDER BY beat_at DESC))[1], max(stale_after_s), extract(epoch FROM now())::float8"
            " FROM service_heartbeats GROUP BY service"
        ).fetchall()
    return {r[0]: Status(r[0], r[1], r[2], r[3], r[4]) for r in rows}


class Publisher(threading.Thread):
    """Writes the last beat to ``service_heartbeats`` every ``every_s`` on its own connection."""

    def __init__(self, heartbeat: Heartbeat, connect: Callable[[], Any], *, every_s: float = PUBLISH_EVERY_S) -> None:
        super().__init__(name=f"heartbeat-{heartbeat.service}", daemon=True)
        self.heartbeat, self.connect, self.every_s = heartbeat, connect, every_s
        self.stop_event = threading.Event()
        self.host, self.pid = socket.gethostname(), os.getpid()

    def run(self) -> None:
        conn = None
        while not self.stop_event.wait(self.every_s):
            hb = self.heartbeat
            if hb.last_beat is None:
                continue
            try:
                if conn is None:
                    conn = self.connect()
                    # a beat lost in a crash is replaced by the next one: no need to wait for the
                    # disk, whose flushes the readings' commits need under load
                    conn.execute("SET synchronous_commit = off")
                conn.execute(
                    UPSERT,
                    (hb.service, self.host, self.pid, hb.last_beat, hb.lag_s, hb.stale_after_s, Jsonb(hb.detail)),
                )
            except Exception as exc:  # the database may be away: the next round tries again
                log.warning("heartbeat of %s not written: %s", hb.service, exc)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                conn = None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def stop(self) -> None:
        self.stop_event.set()


def publish(heartbeat: Heartbeat, database_url: str) -> Publisher:
    """Start writing ``heartbeat`` to the database (autocommit connections of its own)."""
    import psycopg

    pub = Publisher(heartbeat, lambda: psycopg.connect(database_url, autocommit=True))
    pub.start()
    return pub
