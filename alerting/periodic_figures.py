"""The periodic figures (today's effective transmission rates, the month's demand against the
contract, the settled hour's balance loss), computed beside the evaluation loop.

Reading a month of 15-minute rollups for thousands of meters takes the database seconds
(``smartpark bench energy-alarms``); on the loop that would hold back every gas alarm for as
long. So a thread of its own computes them every ``every_s`` on its own connection, for the
devices that the rules of the running evaluator watch, and leaves them in a one-slot hand-over
(a newer pass replaces one not yet taken). The loop takes them and only judges them, a slice
(``SLICE``) per step: judging thousands of figures at once would record as many alarms in one
step (4 000 energy alarms take about 0.3 s to write), which no gas alarm may wait for. A pass
computed against an evaluator that has since been swapped out is mapped onto the entities of
the one in use by key. A shut-down does not wait for a pass in progress (a daemon
thread, its connection closed with the process).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg

from alerting.energy_levels import balance_losses, demand_ratios
from alerting.evaluate import Evaluator
from alerting.reading_batch import Batch
from alerting.rules import BALANCE_LOSS_HOUR, DEMAND_RATIO_MONTH
from alerting.transmission import rates_today, watched

log = logging.getLogger(__name__)
SLICE = 200  # readings judged in one step of the loop: at most twice as many alarms recorded


@dataclass(frozen=True, slots=True)
class Figures:
    evaluator: Evaluator  # whose entity indexes the batches use
    batches: tuple[Batch, ...]
    seconds: float  # how long the pass took on its thread


def compute(conn: psycopg.Connection[Any], evaluator: Evaluator, *, now_ms: int, default_interval_s: float) -> Figures:
    """Every periodic figure of the devices the evaluator's rules watch, read and computed."""
    started = time.perf_counter()
    batches: list[Batch] = []
    devices = watched(evaluator)
    if devices:
        batches.append(rates_today(conn, devices=devices, now_ms=now_ms, default_interval_s=default_interval_s))
    for metric, figures in ((DEMAND_RATIO_MONTH, demand_ratios), (BALANCE_LOSS_HOUR, balance_losses)):
        devices = watched(evaluator, metric)
        if devices:
            batches.append(figures(conn, devices=devices, now_ms=now_ms))
    return Figures(evaluator, tuple(b for b in batches if len(b)), time.perf_counter() - started)


def onto(batch: Batch, source: Evaluator, target: Evaluator) -> Batch:
    """The readings of ``batch`` (entity indexes of ``source``) as entity indexes of ``target``;
    those of entities ``target`` no longer has are left out."""
    if source is target:
        return batch
    index = np.array([target.entity_index.get(e.key, -1) for e in source.entities], dtype=np.int32)
    mapped = index[batch.entity] if len(batch) else batch.entity
    keep = mapped >= 0
    return Batch(mapped[keep], batch.metric[keep], batch.ts_ms[keep], batch.value[keep])


class Slices:
    """The readings of a pass, a slice at a time."""

    def __init__(self, figures: Figures, size: int = SLICE) -> None:
        if size < 1:
            raise ValueError(f"size {size} must be at least 1")
        self.figures, self.size = figures, size
        self._batch = self._at = 0

    def next(self) -> Batch | None:
        """The next ``size`` readings at most, of one batch; None when every one was handed out."""
        batches = self.figures.batches
        while self._batch < len(batches):
            b, i = batches[self._batch], self._at
            if i < len(b):
                j = self._at = min(i + self.size, len(b))
                return Batch(b.entity[i:j], b.metric[i:j], b.ts_ms[i:j], b.value[i:j])
            self._batch, self._at = self._batch + 1, 0
        return None


class FigureWorker(threading.Thread):
    def __init__(
        self,
        *,
        connect: Callable[[], psycopg.Connection[Any]],
        evaluator: Callable[[], Evaluator],  # the one in use
        now_ms: Callable[[], int],
        stop: threading.Event,
        every_s: float,
        default_interval_s: float,
    ) -> None:
        super().__init__(name="alerting-figures", daemon=True)
        if every_s <= 0:
            raise ValueError(f"every_s {every_s} must be positive")
        self._connect, self.evaluator, self.now_ms, self.stop = connect, evaluator, now_ms, stop
        self.every_s, self.default_interval_s = every_s, default_interval_s
        self.conn: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()
        self._ready: Figures | None = None
        self.computing_since: float | None = None  # perf_counter time the pass in progress started
        self.passes = 0
        self.longest_s = 0.0

    def take(self) -> Figures | None:
        with self._lock:
            figures, self._ready = self._ready, None
        return figures

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.pass_once()
            except psycopg.Error as exc:
                if self.stop.is_set():
                    break
                log.error("alerting: periodic figures not computed this time: %s", exc)
                self._close()
            except Exception:  # the alarms go on whatever went wrong here
                log.exception("alerting: periodic figures not computed this time")
            finally:
                self.computing_since = None
            self.stop.wait(self.every_s)
        self._close()

    def pass_once(self) -> Figures:
        if self.conn is None or self.conn.closed:
            self.conn = self._connect()
            # Background work keeps to one core: a parallel plan of the month's read would take
            # the database's other core from the loop's own queries (and so from gas alarms).
            self.conn.execute("SET max_parallel_workers_per_gather = 0")
        self.computing_since = time.perf_counter()
        figures = compute(self.conn, self.evaluator(), now_ms=self.now_ms(), default_interval_s=self.default_interval_s)
        with self._lock:
            self._ready = figures
        self.passes += 1
        self.longest_s = max(self.longest_s, figures.seconds)
        log.debug("alerting: periodic figures computed in %.0f ms", figures.seconds * 1000)
        return figures

    def _close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
            self.conn = None
