"""Building the next evaluator beside the running one, so that a reload never stops the alarms.

A thread of its own wakes every ``interval_s`` (or when asked), reads rules and registry on its
own connection and, when either changed, builds a new evaluator: scopes come from a cache kept
across builds (an unchanged scope is not compiled again, and only names not seen before are
matched), the windows of new or changed average and rate rules are primed from storage, and its
entities are mapped to the running evaluator's. The result waits in a one-slot hand-over that the
evaluation loop takes between two batches (a newer build replaces one not yet taken), so the loop
only ever copies arrays. The build gives way to a shut-down between two rules.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import psycopg

from alerting.carry_over import carried_rules, carry_map
from alerting.directory import Directory
from alerting.entity import Entity
from alerting.evaluate import BuildCancelled, Evaluator
from alerting.metrics import AlertingMetrics
from alerting.rules import Rule
from alerting.scope import ScopeCache


class RebuildHost(Protocol):
    """What the rebuilder reads of the alerting service it builds for (the service is one)."""

    rules: list[Rule]
    directory: Directory
    evaluator: Evaluator
    parks: tuple[str, ...] | None
    stop_event: threading.Event
    metrics: AlertingMetrics

    def _connect(self) -> psycopg.Connection[Any]: ...

    def _load_rules(self, conn: psycopg.Connection[Any]) -> list[Rule]: ...

    def _now_ms(self) -> int: ...

    def _prime_windows(
        self,
        conn: psycopg.Connection[Any],
        evaluator: Evaluator,
        directory: Directory,
        now_ms: int,
        only: set[int] | None = None,
    ) -> None: ...


log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Build:
    rules: list[Rule]
    directory: Directory
    evaluator: Evaluator
    base: Evaluator  # the running evaluator it was mapped against
    entity_map: np.ndarray  # evaluator's entity index -> base's (-1: new)
    seconds: float


class Rebuilder(threading.Thread):
    def __init__(self, service: RebuildHost, *, interval_s: float) -> None:
        super().__init__(name="alerting-rebuild", daemon=True)
        self.service, self.interval_s = service, interval_s
        self.scopes = ScopeCache()
        self.conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._ready: Build | None = None
        self._wake = threading.Event()
        self._built: tuple[list[Rule], tuple[Entity, ...]] = (service.rules, service.directory.entities)
        self.building_since: float | None = None  # perf_counter time a build started, while it runs

    def request(self) -> None:
        """Rebuild now rather than at the next interval (a test, an operator's change)."""
        self._wake.set()

    def take(self) -> Build | None:
        with self._lock:
            build, self._ready = self._ready, None
        return build

    def run(self) -> None:
        stop = self.service.stop_event
        while not stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if stop.is_set():
                break
            try:
                self.build_once()
            except BuildCancelled:
                break
            except psycopg.Error as exc:
                log.error("alerting: rebuild failed, the running evaluator stays: %s", exc)
                self._close()
            except Exception:  # the running evaluator keeps judging whatever went wrong here
                log.exception("alerting: rebuild failed, the running evaluator stays")
            finally:
                self.building_since = None
        self._close()

    def build_once(self) -> Build | None:
        svc = self.service
        if self.conn is None or self.conn.closed:
            self.conn = svc._connect()
        self.building_since = started = time.perf_counter()
        rules = svc._load_rules(self.conn)
        directory = Directory.fetch(self.conn, svc.parks)
        if (rules, directory.entities) == self._built:
            return None
        base, now_ms = svc.evaluator, svc._now_ms()
        ev = Evaluator(rules, directory.entities, now_ms=now_ms, scopes=self.scopes, cancelled=svc.stop_event.is_set)
        self.scopes.keep_only([r.scope for r in ev.rules])
        fresh = set(range(len(ev.rules))) - carried_rules(ev, base)
        if fresh:
            svc._prime_windows(self.conn, ev, directory, now_ms, only=fresh)
        build = Build(rules, directory, ev, base, carry_map(ev, base), time.perf_counter() - started)
        with self._lock:
            self._ready = build
        self._built = (rules, directory.entities)
        svc.metrics.rebuild_seconds.observe(build.seconds)
        return build

    def _close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
            self.conn = None
