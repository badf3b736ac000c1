"""The alerting service: telemetry in (its own shared subscription), alarms and notifications out.

This module is the plumbing: start-up, the loop, reloads, recovery and shut-down. One evaluation
loop owns the evaluator, the open alarms and a database connection: it drains the messages the
MQTT thread queued, turns them into readings (``intake``), judges them as one batch, records the
transitions and the notifications they cause in one transaction (``alarms``), and wakes the
delivery thread (``delivery``). Readings are never written here (ingest does that), so an alarm
does not wait for telemetry storage. Every ``tick_s`` the periodic pass fires no-data and `for`
alarms on time and picks up what operators changed (manual clears, silences, receivers).

Every ``refresh_s`` rules and registry are reloaded by a rebuild thread (``rebuild``), which
builds the next evaluator beside the running one on its own connection; the loop swaps it in
between two batches (array copies of the series state). So a rule with a scope of ten thousand
devices, or a thousand new devices, never stops the evaluation of readings. In the same way the
periodic figures (effective rates, demand, balance: a month of rollups of every meter) are read
and computed by a thread of their own (``periodic_figures``) and the loop only judges them, a
slice per step. The longest step of the loop is reported as
``smartpark_alerting_longest_pause_seconds``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from prometheus_client import CollectorRegistry

from alerting import carry_over, coverage, routing_store, rule_store, window_store
from alerting.alarms import OpenAlarms
from alerting.delivery import Deliverer, Sender
from alerting.directory import Directory
from alerting.escalator import Escalator
from alerting.evaluate import Evaluator, Transition
from alerting.intake import Message, SkippedReadings, batch_of, subscriptions
from alerting.metrics import AlertingMetrics
from alerting.paging import Pager, link_settings
from alerting.periodic_figures import FigureWorker, Slices, onto
from alerting.reading_batch import Batch
from alerting.rebuild import Build, Rebuilder
from alerting.routing import InhibitRule, Receiver, inhibit_rules_from_list
from alerting.rules import Rule, default_document, default_rules
from smartpark import timebase
from smartpark.heartbeat import STALE_AFTER_S, Heartbeat
from smartpark.settings import Settings
from smartpark.webhook_targets import TargetPolicy

log = logging.getLogger(__name__)


def default_client_id() -> str:
    """One alerting instance per host keeps one broker session across restarts."""
    return f"alerting-{socket.gethostname()}"


MAX_DRAIN = 5000  # messages judged as one batch at most
SLOW_STEP_S = 0.1
ROUTING_REFRESH_S = 5.0
COVERAGE_EVERY_MS = 10_000  # the judged counts are written this often (alerting.coverage)
PRIME_MAX_S = 24 * 3600.0  # windows longer than a day resume from their last day
PRIME_MAX_ROWS = 2_000_000
STOP_WAIT_S = 0.5  # for the delivery thread at shut-down: a notification not sent stays in the outbox


class AlertingService:
    conn: psycopg.Connection[Any]
    directory: Directory
    evaluator: Evaluator

    def __init__(
        self,
        *,
        settings: Settings,
        rules: Sequence[Rule] | None = None,  # None: the rules table (seeded with the defaults)
        inhibit: Sequence[InhibitRule] | None = None,  # None: those of the default rule file
        metrics: AlertingMetrics | None = None,
        clock: Callable[[], float] = time.time,
        client_id: str | None = None,
        tick_s: float = 1.0,
        refresh_s: float = 30.0,
        max_backoff_s: float = 300.0,
        connect: Callable[[], psycopg.Connection[Any]] | None = None,
        session_expiry_s: int | None = None,  # None: the platform default (a week)
        parks: Sequence[str] | None = None,  # None: every park; else only these (sharding, benches)
        heartbeat: Heartbeat | None = None,  # None: one of its own, not exported
        transmission_every_s: float = 300.0,  # periodic figures (effective rate, demand, balance) computed this often
    ) -> None:
        self.settings = settings
        self.fixed_rules = list(rules) if rules is not None else None
        self.inhibit = list(inhibit) if inhibit is not None else inhibit_rules_from_list(default_document()["inhibit"])
        self.metrics = metrics or AlertingMetrics.create()
        self.heartbeat = heartbeat or Heartbeat(
            "alerting", stale_after_s=STALE_AFTER_S["alerting"], registry=CollectorRegistry()
        )
        self.clock = clock
        self.client_id = client_id or default_client_id()
        self.tick_s, self.refresh_s, self.max_backoff_s = tick_s, refresh_s, max_backoff_s
        if transmission_every_s <= 0:
            raise ValueError(f"transmission_every_s {transmission_every_s} must be positive")
        self.transmission_every_s = transmission_every_s
        self.figures: FigureWorker | None = None
        self._slices: Slices | None = None  # of the pass being judged
        self._connect = connect or self._default_connect
        self.inbox: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.alarms = OpenAlarms(inhibit=self.inhibit, metrics=self.metrics)
        self.stop_event = threading.Event()
        self.ready = threading.Event()
        self.rules: list[Rule] = []
        self.receivers: dict[int, Receiver] = {}
        self.mqtt: Any = None
        self.deliverer: Deliverer | None = None
        self.escalator: Escalator | None = None
        self.session_expiry_s = session_expiry_s
        self.parks = tuple(parks) if parks is not None else None
        self.skipped = SkippedReadings(self.metrics.ignored)
        self.park_ids: list[int] | None = None
        self.rebuilder: Rebuilder | None = None
        self.last_evaluation_s = 0.0  # clock time the loop last went round (its heartbeat)
        self.longest_pause_s = 0.0
        self.coverage = coverage.Tally()  # safety readings judged per park and bucket (alerting.coverage)
        self._next_coverage_ms = 0
        self.coverage_every_ms = COVERAGE_EVERY_MS
        self._next_coverage_expiry_ms = 0
        self._parks: tuple[Directory | None, npt.NDArray[np.int64]] = (None, np.zeros(0, dtype=np.int64))

    def _default_connect(self) -> psycopg.Connection[Any]:
        from smartpark.db import connect, database_url

        return connect(database_url(self.settings), autocommit=True)

    # -- start-up --------------------------------------------------------------------------------
    def start(self) -> None:
        self.conn = self._connect()
        now_ms = self._now_ms()
        self.rules = self._load_rules(self.conn)
        if self.parks is not None:
            rows = self.conn.execute("SELECT park_id FROM parks WHERE code = ANY(%s)", (list(self.parks),))
            self.park_ids = [r[0] for r in rows]
        self.directory = Directory.fetch(self.conn, self.parks)
        self._resume(now_ms)
        self._start_mqtt()
        self.deliverer = Deliverer(
            connect=self._connect,
            sender=Sender(
                mqtt_client=self.mqtt,
                root=self.settings.topic_root,
                targets=TargetPolicy.from_cidrs(self.settings.webhook_allowed_networks),
            ),
            receivers=lambda: self.receivers,
            metrics=self.metrics,
            max_backoff_s=self.max_backoff_s,
            pager=Pager(
                links=link_settings(self.settings.notify),
                max_backoff_s=self.max_backoff_s,
                rules=lambda: self.rules,
                connect=self._connect,
                targets=TargetPolicy.from_cidrs(self.settings.webhook_allowed_networks),
            ),
        )
        self.deliverer.start()
        self.deliverer.wake()  # whatever the outbox held when the service stopped
        self.rebuilder = Rebuilder(self, interval_s=self.refresh_s)
        self.rebuilder.start()
        self.figures = FigureWorker(
            connect=self._connect,
            evaluator=lambda: self.evaluator,
            now_ms=self._now_ms,
            stop=self.stop_event,
            every_s=self.transmission_every_s,
            default_interval_s=self.settings.aggregation.default_interval_s,
        )
        self.figures.start()
        self.escalator = Escalator(
            connect=self._connect, receivers=lambda: self.receivers, wake_delivery=self.deliverer.wake
        )
        self.escalator.start()

    def _load_rules(self, conn: psycopg.Connection[Any]) -> list[Rule]:
        if self.fixed_rules is not None:
            return self.fixed_rules
        with conn.transaction():
            rules, errors = rule_store.fetch_rules(conn)
            if not rules and not errors:
                rule_store.save_rules(conn, rules=default_rules(), by="alerting (default rules)")
                rules, errors = rule_store.fetch_rules(conn)
        for err in errors:
            log.error("stored rule not used: %s", err)
        return rules

    def _resume(self, now_ms: int) -> None:
        """Evaluator and open alarms as the store has them: at start and after a database failure."""
        self.evaluator = Evaluator(self.rules, self.directory.entities, now_ms=now_ms)
        self.alarms = OpenAlarms(inhibit=self.inhibit, metrics=self.metrics)
        self._refresh_routing(now_ms)
        self.alarms.restore(self.conn, self.evaluator, park_ids=self.park_ids, now_ms=now_ms)
        log.info(
            "alerting: %d rules, %d series, %d open alarms restored",
            len(self.rules),
            len(self.directory.entities),
            len(self.alarms.open),
        )
        self._prime_windows(self.conn, self.evaluator, self.directory, now_ms)

    def _start_mqtt(self) -> None:
        from smartpark.mqtt import ConnectRefused, connect, make_client, mqtt_url, platform_client_id

        url = mqtt_url(self.settings)
        client_id = platform_client_id(self.client_id, url)
        if self.session_expiry_s is None:
            client = make_client(client_id, url=url, clean_start=False)
        else:
            client = make_client(client_id, url=url, clean_start=False, session_expiry=self.session_expiry_s)
        root, group = self.settings.topic_root, self.settings.alerting_share_group
        subs = subscriptions(root, group, self.parks)

        def on_connect(c: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
            if not reason.is_failure:
                c.subscribe([(s, 1) for s in subs])

        def on_subscribe(c: Any, userdata: Any, mid: Any, reasons: Any, props: Any) -> None:
            # ready once the broker holds the subscriptions: a reading published before would
            # reach no new shared group
            if reasons and not any(r.is_failure for r in reasons):
                self.ready.set()
            else:
                log.error("alerting: subscriptions refused: %s", reasons)

        def on_message(c: Any, userdata: Any, msg: Any) -> None:
            self.inbox.put(Message(msg.topic, msg.payload, timebase.now_ms(self.clock)))

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        while True:
            try:
                connect(client)
                break
            except ConnectRefused:
                raise  # refused credentials are a configuration error: say so and stop
            except (TimeoutError, OSError) as exc:
                # a broker that is down or slow at start: keep trying, and stay visibly alive
                log.error("alerting: broker unavailable: %s; retrying", exc)
                self.heartbeat.beat()
                if self.stop_event.wait(2.0):
                    raise
        self.mqtt = client

    # -- the loop --------------------------------------------------------------------------------
    def run(self) -> None:
        next_tick = self.clock()
        next_routing = next_tick + ROUTING_REFRESH_S
        msgs: list[Message] = []
        while not self.stop_event.is_set():
            now = self.last_evaluation_s = self.clock()
            self.metrics.heartbeat.set(now)
            # lag: how long the oldest message of the last batch waited to be judged
            self.heartbeat.beat(now - min(m.received_ms for m in msgs) / 1000 if msgs else 0.0)
            try:
                build = self.rebuilder.take() if self.rebuilder is not None else None
                if build is not None:
                    self._timed("swap", self._swap, build)
                msgs = self._drain(timeout=max(0.0, min(next_tick - now, 0.2)))
                if msgs:
                    self._timed("process", self.process, msgs)
                now = self.clock()
                if now >= next_tick:
                    self._timed("tick", self.tick)
                    next_tick = now + self.tick_s
                if self._figures_due():
                    self._timed("figures", self.judge_figures, self._now_ms())
                if now >= next_routing:  # a new silence or receiver takes effect within seconds
                    self._timed("routing", self._refresh_routing, self._now_ms())
                    next_routing = now + ROUTING_REFRESH_S
            except psycopg.Error as exc:
                log.error("alerting: database error, resuming from the stored state: %s", exc)
                self._recover()
            except Exception:  # a bug must not stop the alarms of everything else
                log.exception("alerting: step failed; %d messages not evaluated", len(msgs))
                self.metrics.ignored.labels("evaluation_error").inc(len(msgs))
                self._recover()

    def _timed(self, what: str, step: Callable[..., None], *args: Any) -> None:
        started = time.perf_counter()
        step(*args)
        took = time.perf_counter() - started
        self.metrics.step_seconds.labels(what).observe(took)
        if took > self.longest_pause_s:
            self.longest_pause_s = took
            self.metrics.longest_pause.set(took)
            self.heartbeat.detail["longest_pause_s"] = round(took, 4)
        if took > self.heartbeat.detail.get(f"longest_{what}_s", 0.0):  # which step pauses the most
            self.heartbeat.detail[f"longest_{what}_s"] = round(took, 4)
        if took > SLOW_STEP_S:  # every alarm waits for this loop: say when it stalls
            log.warning("alerting: %s took %.0f ms", what, took * 1000)

    def _drain(self, timeout: float) -> list[Message]:
        try:
            msgs = [self.inbox.get(timeout=timeout)]
        except queue.Empty:
            return []
        while len(msgs) < MAX_DRAIN:
            try:
                msgs.append(self.inbox.get_nowait())
            except queue.Empty:
                break
        return msgs

    def _now_ms(self) -> int:
        return timebase.now_ms(self.clock)

    def process(self, msgs: Sequence[Message]) -> None:
        batch = batch_of(
            msgs,
            self.directory,
            root=self.settings.topic_root,
            max_payload_bytes=self.settings.max_payload_bytes,
            ignored=self.metrics.ignored,
        )
        self.metrics.readings.inc(len(batch))
        self.coverage.add(
            park_of_entity=self._park_of_entity(), entity=batch.entity, metric=batch.metric, ts_ms=batch.ts_ms
        )
        now_ms = self._now_ms()
        transitions = self.evaluator.evaluate(batch, now_ms=now_ms)
        self.skipped.export(self.evaluator)
        self._commit(transitions, now_ms)
        done = self.clock()
        oldest = min(m.received_ms for m in msgs) / 1000
        self.metrics.evaluation_latency.observe(max(0.0, done - oldest))

    def tick(self) -> None:
        now_ms = self._now_ms()
        transitions = self.evaluator.tick(now_ms=now_ms)
        self.alarms.forget_closed_by_hand(self.conn, self.evaluator, now_ms)
        self._commit(transitions, now_ms)
        if now_ms >= self._next_coverage_ms:
            self._next_coverage_ms = now_ms + self.coverage_every_ms
            self.coverage.write(self.conn)
            if now_ms >= self._next_coverage_expiry_ms:
                self._next_coverage_expiry_ms = now_ms + 3_600_000
                coverage.expire(self.conn)
        for state, n in self.alarms.counts(self.evaluator).items():
            self.metrics.alarms.labels(state).set(n)

    def _park_of_entity(self) -> npt.NDArray[np.int64]:
        """Each entity's park id, for the directory in use."""
        if self._parks[0] is not self.directory:
            self._parks = (self.directory, np.array([i.park_id for i in self.directory.ids], dtype=np.int64))
        return self._parks[1]

    def _figures_due(self) -> bool:
        """Whether figures wait to be judged: the rest of a pass, or a new one from the thread."""
        if self._slices is None and self.figures is not None:
            figures = self.figures.take()
            self._slices = Slices(figures) if figures is not None else None
        return self._slices is not None

    def judge_figures(self, now_ms: int) -> None:
        """The next slice of the figures the service computes itself (today's effective
        transmission rates, the month's demand against the contract, the settled hour's balance
        loss), computed by the figures thread, judged by the evaluator in use and recorded."""
        assert self._slices is not None
        batch = self._slices.next()
        if batch is None:
            self._slices = None
            return
        mapped = onto(batch, self._slices.figures.evaluator, self.evaluator)
        self._commit(self.evaluator.evaluate(mapped, now_ms=now_ms), now_ms)

    def _commit(self, transitions: Sequence[Transition], now_ms: int) -> None:
        if (
            self.alarms.record(self.conn, transitions, self.directory, now_ms, progress=self.heartbeat.beat)
            and self.deliverer is not None
        ):
            self.deliverer.wake()

    def _swap(self, build: Build) -> None:
        """Put the evaluator built beside this one in its place, with the live series state."""
        same_base = build.base is self.evaluator
        carry_over.take_over(build.evaluator, self.evaluator, build.entity_map if same_base else None)
        self.rules, self.directory, self.evaluator = build.rules, build.directory, build.evaluator
        log.info(
            "alerting: now %d rules over %d series (built in %.0f ms beside the running evaluator)",
            len(build.rules),
            len(build.directory.entities),
            build.seconds * 1000,
        )

    def _refresh_routing(self, now_ms: int) -> None:
        receivers, errors = routing_store.fetch_receivers(self.conn, park_ids=self.park_ids)
        silences, serrors = routing_store.fetch_silences(self.conn, now_ms=now_ms)
        for err in errors + serrors:
            log.error("not used: %s", err)
        self.receivers = {r.receiver_id: r for r in receivers}
        self.alarms.set_routing(receivers, silences)

    def _recover(self) -> None:
        """After a database failure: rebuild the state from what was committed."""
        with contextlib.suppress(psycopg.Error):
            self.conn.close()
        while not self.stop_event.is_set():
            try:
                self.conn = self._connect()
                break
            except psycopg.Error as exc:
                log.error("alerting: database unavailable: %s", exc)
                self.heartbeat.beat()  # alive and retrying: an outage is not a stuck loop
                self.stop_event.wait(2.0)
        else:
            return
        self._resume(self._now_ms())

    def _prime_windows(
        self,
        conn: psycopg.Connection[Any],
        evaluator: Evaluator,
        directory: Directory,
        now_ms: int,
        only: set[int] | None = None,
    ) -> None:
        """Average and rate windows (of the rule indexes ``only``, default all) resume from the
        stored telemetry (ingest's, valid readings)."""
        ids, longest = evaluator.window_metrics(only)
        devices = [int(e.key[2:]) for e in directory.entities if e.key.startswith("d:")]
        if not ids or not devices:
            return
        start_ms = now_ms - int(min(longest, PRIME_MAX_S) * 1000)
        rows = window_store.window_readings(
            conn,
            metric_ids=sorted(ids),
            device_ids=devices,
            start_ms=start_ms,
            end_ms=now_ms,
            limit=PRIME_MAX_ROWS,
        )
        index = evaluator.entity_index
        rows = [r for r in rows if f"d:{r[0]}" in index]
        batch = Batch.of(
            [index[f"d:{r[0]}"] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]
        )
        log.info(
            "alerting: %d stored readings resume the windows of average and rate rules", evaluator.prime(batch, only)
        )

    def stop(self) -> None:
        self.stop_event.set()
        if self.rebuilder is not None:  # a daemon thread: it gives way at its next rule, or dies with us
            self.rebuilder.join(timeout=0.2)
        if self.figures is not None:  # a daemon thread too: a pass in progress dies with us
            self.figures.join(timeout=0.2)
        if self.escalator is not None:
            self.escalator.stop()
            self.escalator.join(timeout=10)
        if self.deliverer is not None:
            self.deliverer.stop()
            self.deliverer.join(timeout=STOP_WAIT_S)
        if self.mqtt is not None:
            self.mqtt.disconnect()
            self.mqtt.loop_stop()
        with contextlib.suppress(AttributeError, psycopg.Error):
            self.conn.close()


def serve(service: AlertingService) -> int:
    # The supervisor and service managers stop children with SIGTERM: end the loop, then close
    # the delivery thread and the MQTT session cleanly as for Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: service.stop_event.set())
    try:
        service.start()
        log.info("alerting service %s (pid %d) running", service.client_id, os.getpid())
        service.run()
    except KeyboardInterrupt:
        service.stop_event.set()
    finally:
        service.stop()
    log.info("alerting service %s stopped", service.client_id)
    return 0
