"""One ingest process: MQTT in, batches to TimescaleDB, acknowledgements after commit.

Flow control comes from MQTT itself: the broker sends at most ``ReceiveMaximum`` unacknowledged
messages (set in CONNECT), and a message is acknowledged only after the transaction holding its
readings committed. So while the database is down or slow, nothing is acknowledged, the broker
stops sending once the window is full, memory stays bounded by that window, and everything not
yet acknowledged is redelivered after a crash. Storage is idempotent, so a redelivery is a no-op.

Threads: paho's network thread only appends to a queue; this process's main thread decodes,
validates, writes, commits and acknowledges.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.subscribeoptions import SubscribeOptions
from prometheus_client import CollectorRegistry

from ingest import validate as v
from ingest.batch import Batch, BatchBuilder, Message, reject
from ingest.metrics import IngestMetrics
from ingest.mqtt_client import IngestClient
from ingest.partition import Partition, enterprise_filters
from ingest.quota import DEFAULT_QUOTA, Quota, QuotaLimits
from ingest.registry_index import RegistryIndex, index_from_snapshot
from ingest.rejections import DEFAULT_LIMITS, RejectionFolder, RejectionLimits, mqtt_source, record_rejections
from ingest.store import Stored, prepare_session, store_batch
from smartpark import mqtt as sp_mqtt
from smartpark.db.binary_copy import PG_EPOCH_US
from smartpark.heartbeat import STALE_AFTER_S, Heartbeat
from smartpark.origin import origin_key, signed_by_platform
from smartpark.registry import Snapshot

log = logging.getLogger("smartpark.ingest")

# The broker's window towards us (ReceiveMaximum sent by smartpark.mqtt.connect).
INFLIGHT_WINDOW: int = sp_mqtt.connect_properties(0).ReceiveMaximum  # type: ignore[attr-defined]

SESSION_TAKEN_OVER = 142  # MQTT v5 DISCONNECT reason code

# A partitioned ingester subscribes to a new enterprise's topics within this many seconds.
PARTITION_REFRESH_S = 5.0

# Reasons that may only mean "registered a moment ago": re-read the registry and check again.
_REGISTRY_MISSES = frozenset(
    {v.UNKNOWN_PARK, v.UNKNOWN_ENTERPRISE, v.UNKNOWN_GATEWAY, v.UNKNOWN_DEVICE, v.FOREIGN_DEVICE}
)


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    client_id: str
    group: str = "ingest"
    exclusive: bool = False  # a plain subscription: see `smartpark ingest --exclusive`
    partition: Partition | None = None  # plain subscriptions to a share of the enterprises
    park: str = "+"  # one park's code, or every park
    root: str = "smartpark/v1"
    batch_max_readings: int = 20000
    batch_max_ms: int = 200
    # Flush at half the broker's window so the next batch fills while this one commits.
    batch_max_messages: int = max(1, INFLIGHT_WINDOW // 2)
    window: v.Window = field(default_factory=lambda: v.Window.of(past_days=30, future_s=300))
    max_payload_bytes: int = 256 * 1024
    session_expiry_s: int = sp_mqtt.SESSION_EXPIRY_S
    registry_refresh_s: float = 30.0
    registry_miss_refresh_s: float = 1.0
    stop_grace_s: float = 15.0
    backoff_max_s: float = 5.0
    rejection_limits: RejectionLimits = DEFAULT_LIMITS
    quota: QuotaLimits = DEFAULT_QUOTA

    def __post_init__(self) -> None:
        if self.batch_max_readings < 1 or self.batch_max_ms < 1 or self.batch_max_messages < 1:
            raise ValueError(
                f"batch limits must be positive: {self.batch_max_readings} readings, "
                f"{self.batch_max_ms} ms, {self.batch_max_messages} messages"
            )
        if self.park != "+" and any(c in self.park for c in "/+#"):
            raise ValueError(f"park filter {self.park!r} must be one park code")
        if self.exclusive and self.partition is not None:
            raise ValueError("an exclusive ingester takes every enterprise: it has no partition")

    def subscriptions(self, enterprises: Iterable[tuple[str, str]] = ()) -> list[str]:
        """What to subscribe to; with a partition, the telemetry of the enterprises it owns."""
        if self.partition is not None:
            return enterprise_filters(self.root, self.partition.split(self._in_park(enterprises))[0])
        return self._wildcards(exclusive=self.exclusive)

    def stale_subscriptions(self, enterprises: Iterable[tuple[str, str]]) -> list[str]:
        """Filters the session may hold from an earlier run with another mode or partition count:
        left in place they would deliver messages a second time, or to the wrong ingester."""
        pairs = self._in_park(enterprises)
        wanted = set(self.subscriptions(pairs))
        candidates = [
            *self._wildcards(exclusive=False),
            *self._wildcards(exclusive=True),
            *enterprise_filters(self.root, pairs),
        ]
        return [f for f in candidates if f not in wanted]

    def registry_refresh_every_s(self) -> float:
        return min(self.registry_refresh_s, PARTITION_REFRESH_S) if self.partition else self.registry_refresh_s

    def _wildcards(self, *, exclusive: bool) -> list[str]:
        base = f"{self.root}/{self.park}" if exclusive else f"$share/{self.group}/{self.root}/{self.park}"
        return [f"{base}/+/+/telemetry", f"{base}/+/gateway/+/telemetry"]

    def _in_park(self, enterprises: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return sorted({(p, e) for p, e in enterprises if self.park in ("+", p)})


@dataclass(frozen=True, slots=True)
class Pending:
    message: Message
    mid: int
    qos: int
    generation: int  # connection the message came on: acks are only valid on that connection


class StopRequested(Exception):
    pass


class Ingester:
    def __init__(
        self,
        config: WorkerConfig,
        *,
        db_url: str,
        mqtt_url: str,
        metrics: IngestMetrics,
        clock: Callable[[], float] = time.time,
        connect_db: Callable[[str], psycopg.Connection[Any]] | None = None,
        heartbeat: Heartbeat | None = None,  # None: one of its own, not exported
    ) -> None:
        self.config = config
        self.heartbeat = heartbeat or Heartbeat(
            "ingest", stale_after_s=STALE_AFTER_S["ingest"], registry=CollectorRegistry()
        )
        self.lag_s = 0.0  # the median reading of the last batch: from its timestamp to committed
        self.db_url = db_url
        self.mqtt_url = mqtt_url
        self.metrics = metrics
        self.clock = clock
        self._connect_db = connect_db or _connect_db
        self.stop = threading.Event()
        self.inbox: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self.generation = 0
        self.conn: psycopg.Connection[Any] | None = None
        self.client: IngestClient | None = None
        self.index: RegistryIndex | None = None
        self.index_at = 0.0
        self.enterprises: frozenset[tuple[str, str]] = frozenset()  # (park, enterprise) codes
        self._subscribed: set[str] = set()
        self._subscribe_lock = threading.Lock()
        self._in_batch = 0
        self._stopping_since: float | None = None
        self.taken_over = False
        self.folder = RejectionFolder(config.rejection_limits)
        self._origin_key = origin_key(mqtt_url)
        self.quota = Quota(config.quota)
        metrics.track_queue(lambda: self.inbox.qsize() + self._in_batch)

    # -- MQTT (network thread) ------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        self.generation += 1
        self.metrics.connected.set(1)
        for chunk in _chunks(self.config.stale_subscriptions(self.enterprises)):
            client.unsubscribe(chunk)
        with self._subscribe_lock:
            self._subscribed = set()
        self._subscribe_new(client)
        log.info("connected as %s (session present: %s)", self.config.client_id, flags.session_present)

    def _subscribe_new(self, client: mqtt.Client) -> None:
        """Subscribe to what the configuration wants and this connection does not have yet."""
        with self._subscribe_lock:
            new = [t for t in self.config.subscriptions(self.enterprises) if t not in self._subscribed]
            self._subscribed.update(new)
            owns_nothing = not self._subscribed
        if new:
            # retain-as-published: the ingester must see that a gateway retained a message
            opts = SubscribeOptions(qos=1, retainAsPublished=True)
            for chunk in _chunks(new):
                client.subscribe([(t, opts) for t in chunk])
            log.info("subscribing to %d topic filters", len(new))
        elif owns_nothing:
            self.metrics.subscribed.set(1)  # a partition that owns no enterprise yet is ready too

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("the broker refused the subscriptions %s: %s", self.config.subscriptions(), refused)
        self.metrics.subscribed.set(0 if refused else 1)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.generation += 1  # acks of messages received so far would go to a dead connection
        self.metrics.connected.set(0)
        self.metrics.subscribed.set(0)
        if getattr(reason, "value", None) == SESSION_TAKEN_OVER:
            # Another process connected with this client id: fighting over the session would
            # make both reconnect forever, so this one leaves.
            log.error("another ingester connected as %s; stopping this one", self.config.client_id)
            self.taken_over = True
            self.stop.set()
            _c.disconnect()
        elif not self.stop.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        payload = bytes(msg.payload)
        # only the HJ 212 server marks its messages: checking the rest would cost for nothing
        from_logger = msg.properties is not None and signed_by_platform(
            self._origin_key, msg.topic, payload, msg.properties
        )
        if msg.retain and payload:
            # refused below; cleared here so that the broker does not replay it to subscribers
            _c.publish(msg.topic, b"", qos=1, retain=True)
        message = Message(
            msg.topic,
            payload,
            int(self.clock() * 1000),
            from_logger,
            retained=msg.retain,
            over_quota=not from_logger and not self.quota.allow(mqtt_source(msg.topic)),
        )
        self.inbox.put(Pending(message, msg.mid, msg.qos, self.generation))

    def _connect_broker(self) -> None:
        client = sp_mqtt.make_client(
            sp_mqtt.platform_client_id(self.config.client_id, self.mqtt_url),
            url=self.mqtt_url,
            clean_start=False,
            session_expiry=self.config.session_expiry_s,
            manual_ack=True,
            client_class=IngestClient,
        )
        assert isinstance(client, IngestClient)  # acknowledgements go out through its ack_all
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        self._retry("connect to the broker", lambda: sp_mqtt.connect(client))
        self.client = client

    # -- database ---------------------------------------------------------------------------

    def _db(self) -> psycopg.Connection[Any]:
        if self.conn is None or self.conn.closed:
            self.conn = self._connect_db(self.db_url)
            prepare_session(self.conn)
        return self.conn

    def _drop_db(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(psycopg.Error):
                self.conn.close()
        self.conn = None

    def _refresh_index(self) -> RegistryIndex:
        def fetch() -> RegistryIndex:
            try:
                snapshot = Snapshot.fetch(self._db())
            except psycopg.OperationalError:
                self._drop_db()
                raise
            self.enterprises = frozenset(
                {(d.park, d.enterprise) for d in snapshot.devices.values()}
                | {(park, ent) for park, ent, _gw in snapshot.gateways}
            )
            return index_from_snapshot(snapshot)

        self.index = self._retry("read the registry", fetch)
        self.index_at = time.monotonic()
        client = self.client
        if self.config.partition is not None and client is not None and client.is_connected():
            self._subscribe_new(client)  # enterprises registered since the last look
        return self.index

    def _retry(self, what: str, action: Callable[[], Any]) -> Any:
        """Run ``action`` until it succeeds, backing off; after a stop request, for a grace time."""
        delay = 0.1
        while True:
            # alive before each try too: one try may wait its whole timeout (a loaded broker's
            # CONNACK), and a worker just restarted has beaten for nobody yet
            self.heartbeat.beat()
            try:
                return action()
            except (
                psycopg.OperationalError,
                psycopg.InterfaceError,
                OSError,
                sp_mqtt.ConnectRefused,
                TimeoutError,
            ) as exc:
                if isinstance(exc, psycopg.Error):
                    self.metrics.db_failures.inc()
                log.warning("could not %s: %s; retrying in %.1f s", what, exc, delay)
            if self.stop.is_set() and time.monotonic() > self._stop_deadline():
                raise StopRequested(what)
            self.heartbeat.beat()  # alive and retrying: a database or broker outage is not a stuck loop
            time.sleep(delay)
            delay = min(delay * 2, self.config.backoff_max_s)

    def _stop_deadline(self) -> float:
        if self._stopping_since is None:
            self._stopping_since = time.monotonic()
        return self._stopping_since + self.config.stop_grace_s

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._refresh_index()
            self._connect_broker()
            while not self.stop.is_set():
                self._cycle(block=True)
                self.heartbeat.beat(self.lag_s)
            # Flush what was received before the stop; later arrivals stay unacknowledged in the
            # persistent session and come back to the next process with this client id.
            while not self.inbox.empty() and time.monotonic() < self._stop_deadline():
                self._cycle(block=False)
        except StopRequested as exc:
            log.warning("stopping before %s succeeded: unacknowledged messages will be redelivered", exc)
        finally:
            self.close()

    def close(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None
        self._drop_db()

    def _cycle(self, *, block: bool) -> None:
        if time.monotonic() - self.index_at > self.config.registry_refresh_every_s():
            self._refresh_index()
        items, builder = self._collect(block)
        if not items:
            self.lag_s = 0.0
            return
        batch = builder.finish(int(self.clock() * 1000))
        if self._registry_may_be_stale(batch):
            self._refresh_index()
            batch = self._rebuild(items)
        stored = self._retry("store a batch", lambda: self._store(items, batch))
        self._ack(items)
        log.debug("batch of %d messages, %d readings: %s", len(items), batch.readings, stored)
        self._observe(batch, stored)

    def _collect(self, block: bool) -> tuple[list[Pending], BatchBuilder]:
        cfg = self.config
        builder = self._builder()
        items: list[Pending] = []
        timeout = 0.25 if block else 0.0
        end: float | None = None
        while True:
            try:
                item = self.inbox.get(timeout=timeout) if timeout > 0 else self.inbox.get_nowait()
            except queue.Empty:
                break
            items.append(item)
            self._in_batch = len(items)
            builder.add(item.message)
            if builder.readings >= cfg.batch_max_readings or len(items) >= cfg.batch_max_messages:
                break
            now = time.monotonic()
            if end is None:
                end = now + cfg.batch_max_ms / 1000
            timeout = end - now if block else 0.0
            if block and timeout <= 0:
                break
            if self.stop.is_set():
                timeout = 0.0
                block = False
        return items, builder

    def _registry_may_be_stale(self, batch: Batch) -> bool:
        return time.monotonic() - self.index_at > self.config.registry_miss_refresh_s and any(
            r.reason_code in _REGISTRY_MISSES for r in batch.rejections
        )

    def _rebuild(self, items: list[Pending]) -> Batch:
        builder = self._builder()
        for item in items:
            builder.add(item.message)
        return builder.finish(int(self.clock() * 1000))

    def _builder(self) -> BatchBuilder:
        cfg = self.config
        assert self.index is not None
        return BatchBuilder(self.index, window=cfg.window, max_payload_bytes=cfg.max_payload_bytes, root=cfg.root)

    def _commit(self, conn: psycopg.Connection[Any], batch: Batch) -> Stored:
        """One transaction; a lost connection is dropped (and the error passed on for a retry)."""
        try:
            with conn.transaction():
                return store_batch(conn, batch=batch, folder=self.folder)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            self._drop_db()
            raise

    def _store(self, items: list[Pending], batch: Batch) -> Stored:
        conn = self._db()
        started = time.perf_counter()
        try:
            stored = self._commit(conn, batch)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            raise
        except psycopg.Error as exc:
            # Not the connection: something in this batch the database refuses. Store message by
            # message so that one bad message cannot hold up the others forever.
            log.error("batch refused (%s); storing its %d messages one by one", exc, len(items))
            stored = self._store_one_by_one(conn, items)
        self.metrics.commit_seconds.observe(time.perf_counter() - started)
        return stored

    def _store_one_by_one(self, conn: psycopg.Connection[Any], items: list[Pending]) -> Stored:
        inserted = duplicates = rejected = 0
        for item in items:
            try:
                s = self._commit(conn, self._rebuild([item]))
            except (psycopg.OperationalError, psycopg.InterfaceError):
                raise
            except psycopg.Error as exc:
                refusal = reject(item.message, v.STORE_FAILED, f"the database refused the readings: {exc}")
                with conn.transaction(), conn.cursor() as cur:
                    record_rejections(cur, rejections=(refusal,), folder=self.folder)
                s = Stored(0, 0, 1)
                self.metrics.rejected.labels(v.STORE_FAILED).inc()
            inserted += s.inserted
            duplicates += s.duplicates
            rejected += s.rejected
        return Stored(inserted, duplicates, rejected)

    def _ack(self, items: list[Pending]) -> None:
        client = self.client
        generation = self.generation
        if client is not None:
            # A message from an earlier connection is redelivered on this one: ack it then.
            client.ack_all(i.mid for i in items if i.generation == generation and i.qos == 1)
        self._in_batch = 0

    def _observe(self, batch: Batch, stored: Stored) -> None:
        m = self.metrics
        m.messages.inc(batch.messages)
        m.last_commit.set(self.clock())
        m.stored.inc(stored.inserted)
        m.duplicates.inc(stored.duplicates)
        for reason, count in batch.rejected_by_reason().items():
            m.rejected.labels(reason).inc(count)
        if len(batch.rows):
            m.batch_readings.observe(len(batch.rows))
            now_us = self.clock() * 1e6 - PG_EPOCH_US
            self.lag_s = max(0.0, (now_us - float(np.median(batch.rows.ts_us))) / 1e6)
            m.lag_seconds.observe(self.lag_s)


def _chunks(filters: list[str], size: int = 1000) -> list[list[str]]:
    """Keeps each SUBSCRIBE/UNSUBSCRIBE far below the broker's packet size limit."""
    return [filters[i : i + size] for i in range(0, len(filters), size)]


def _connect_db(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        url,
        autocommit=True,
        connect_timeout=5,
        application_name="smartpark-ingest",
        options="-c statement_timeout=120000",
    )
