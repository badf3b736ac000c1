"""Delivery of the outbox: webhooks (JSON, HMAC-SHA256 signed) and MQTT publishes.

A notification is sent by one worker at a time (its row is locked while it is sent), in order
per receiver (a receiver that is down holds back only its own queue), and marked delivered once
the receiver answered 2xx or the broker acknowledged the publish. Failures are retried with
exponential backoff; the outbox is a table, so nothing is lost when the service restarts.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpcore
import httpx
import psycopg

from alerting import outbox_store
from alerting.channels import PAGING_CHANNELS
from alerting.metrics import AlertingMetrics
from alerting.routing import Receiver
from smartpark.contract import ROOT
from smartpark.webhook_targets import TargetPolicy, TargetRefused

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Smartpark-Signature"
TIMESTAMP_HEADER = "X-Smartpark-Timestamp"
ID_HEADER = "X-Smartpark-Notification"
MQTT_ACK_TIMEOUT_S = 30.0


def body_of(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, timestamp_ms: int, body: bytes) -> str:
    """sha256=HEX of HMAC-SHA256 over "{timestamp}." + body: the timestamp is signed so that a
    captured request cannot be replayed later with a fresh one."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """What a receiver does (used by the tests and the benchmark's receiver)."""
    try:
        ts_ms = int(headers[TIMESTAMP_HEADER])
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(signature(secret, ts_ms, body), headers.get(SIGNATURE_HEADER, ""))


def alerts_topic(category: str, park: str, root: str = ROOT) -> str:
    return f"{root}/alerts/{category}/{park}"


def backoff_s(
    attempts: int, *, base: float = 0.5, cap: float = 300.0, rng: Callable[[], float] = random.random
) -> float:
    return min(cap, base * 2 ** max(0, attempts)) * (0.75 + 0.5 * rng())


class DeliveryError(RuntimeError):
    pass


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to addresses the target policy allows, checked when connecting: the address
    checked is the address connected to, so a name that resolved to a public address when the
    receiver was saved and resolves to 127.0.0.1 now (DNS rebinding) is refused."""

    def __init__(self, targets: TargetPolicy, inner: httpcore.NetworkBackend | None = None) -> None:
        self.targets = targets
        self.inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.targets.addresses(host, port)
        except TargetRefused as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        failure: Exception | None = None
        for address in addresses:
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # the next address of the name, as a resolver would
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError(f"webhooks are not delivered to unix sockets ({path!r})")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def guarded_http(targets: TargetPolicy, timeout: httpx.Timeout) -> httpx.Client:
    """An HTTP client whose every connection passes ``targets`` (and no proxy from the
    environment: a proxy would connect on its own terms)."""
    transport = httpx.HTTPTransport()
    transport._pool._network_backend = GuardedBackend(targets)  # httpx exposes no backend option
    return httpx.Client(transport=transport, timeout=timeout, follow_redirects=False)


class Sender:
    """One delivery attempt per call; raises DeliveryError with the reason.

    Webhooks go only to targets ``targets`` allows (smartpark.webhook_targets; by default public
    addresses only), checked at connection time, and are always signed.
    """

    def __init__(
        self,
        *,
        http: httpx.Client | None = None,
        mqtt_client: Any = None,
        root: str = ROOT,
        clock: Callable[[], float] = time.time,
        targets: TargetPolicy | None = None,
    ) -> None:
        self.http = http or guarded_http(targets or TargetPolicy(), httpx.Timeout(5.0, connect=2.0))
        self.mqtt = mqtt_client
        self.root = root
        self.clock = clock

    def send(self, receiver: Receiver, notification_id: int, payload: Mapping[str, Any]) -> None:
        # The id lets a receiver drop a repeat: after a lost acknowledgement a retry is the only
        # way not to lose a notification, so delivery is at least once.
        body = body_of({**payload, "notification_id": notification_id})
        if receiver.channel == "webhook":
            self._webhook(receiver, notification_id, body)
        else:
            self._mqtt(payload, body)

    def _webhook(self, receiver: Receiver, notification_id: int, body: bytes) -> None:
        now_ms = int(self.clock() * 1000)
        if not receiver.secret:  # the table gives every webhook receiver one (migration 0620)
            raise DeliveryError(f"receiver {receiver.name!r} has no secret: notifications are always signed")
        headers = {
            "Content-Type": "application/json",
            ID_HEADER: str(notification_id),
            TIMESTAMP_HEADER: str(now_ms),
            SIGNATURE_HEADER: signature(receiver.secret, now_ms, body),
        }
        try:
            resp = self.http.post(receiver.url or "", content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"POST {receiver.url}: {type(exc).__name__}: {exc}") from exc
        if not 200 <= resp.status_code < 300:
            raise DeliveryError(f"POST {receiver.url}: HTTP {resp.status_code} {resp.text[:200]!r}")

    def _mqtt(self, payload: Mapping[str, Any], body: bytes) -> None:
        if self.mqtt is None:
            raise DeliveryError("no MQTT connection for an mqtt receiver")
        labels = payload.get("group_labels") or {}
        topic = alerts_topic(str(labels.get("category", "unknown")), str(labels.get("park", "unknown")), self.root)
        info = self.mqtt.publish(topic, body, qos=1)
        info.wait_for_publish(timeout=MQTT_ACK_TIMEOUT_S)  # paho resends it meanwhile
        if not info.is_published():
            raise DeliveryError(f"publish to {topic!r} not acknowledged (rc {info.rc})")


class Deliverer(threading.Thread):
    """Works through the outbox: woken right after a notification is committed, and on a poll
    interval for retries."""

    def __init__(
        self,
        *,
        connect: Callable[[], psycopg.Connection[Any]],
        sender: Sender,
        receivers: Callable[[], Mapping[int, Receiver]],
        metrics: AlertingMetrics,
        poll_s: float = 0.5,
        max_backoff_s: float = 300.0,
        pager: Any = None,  # alerting.paging.Pager: the paging channels (email, robots, SMS)
    ) -> None:
        super().__init__(name="alerting-delivery", daemon=True)
        self.pager = pager
        self._connect = connect
        self.sender = sender
        self.receivers = receivers
        self.metrics = metrics
        self.poll_s = poll_s
        self.max_backoff_s = max_backoff_s
        self._wake: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._halt = threading.Event()

    def wake(self) -> None:
        self._wake.put(1)

    def stop(self) -> None:
        self._halt.set()
        self._wake.put(0)

    def run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._halt.is_set():
            with contextlib.suppress(queue.Empty):
                self._wake.get(timeout=self.poll_s)
            while not self._wake.empty():
                self._wake.get_nowait()
            try:
                if conn is None or conn.closed:
                    conn = self._connect()
                self.deliver_due(conn)
            except psycopg.Error as exc:
                log.error("outbox: database error, retrying: %s", exc)
                if conn is not None:
                    conn.close()
                conn = None
                self._halt.wait(1.0)
        if conn is not None:
            conn.close()
        if self.pager is not None:
            self.pager.close()

    def deliver_due(self, conn: psycopg.Connection[Any]) -> int:
        """One pass: the oldest undelivered notification of each receiver, if due, then the ones
        after it; returns how many were sent."""
        receivers = self.receivers()
        sent = 0
        heads = conn.execute(
            "SELECT DISTINCT ON (receiver_id) notification_id, next_attempt_at <= now(),"
            " count(*) OVER (PARTITION BY receiver_id), receiver_id FROM alert_notifications"
            " WHERE delivered_at IS NULL AND receiver_id = ANY(%s) ORDER BY receiver_id, notification_id",
            (list(receivers),),
        ).fetchall()
        pending = sum(n for _, _, n, _ in heads)
        paging = [receivers[rid] for _, _, _, rid in heads if receivers[rid].channel in PAGING_CHANNELS]
        if paging and self.pager is not None:
            # side by side, each on its own connection: a slow SMTP server does not hold back the
            # robots; budgets per person hold back one person's pages, not the queue
            sent += self.pager.deliver_all(paging, self.metrics)
        for nid, due, _, rid in heads:
            if receivers[rid].channel in PAGING_CHANNELS or not due:
                continue
            while nid is not None and not self._halt.is_set():
                nid, ok = self._deliver_one(conn, nid, receivers)
                sent += ok
        self.metrics.notifications_pending.set(pending - sent)
        return sent

    def _deliver_one(
        self, conn: psycopg.Connection[Any], nid: int, receivers: Mapping[int, Receiver]
    ) -> tuple[int | None, int]:
        """Send one; on success return the receiver's next due notification to keep its order."""
        with conn.transaction():
            rows = outbox_store.claim_due(conn, ids=[nid], limit=1)
            if not rows:
                return None, 0
            row = rows[0]
            receiver = receivers[row.receiver_id]
            try:
                self.sender.send(receiver, nid, row.payload)
            except DeliveryError as exc:
                delay = backoff_s(row.attempts, cap=self.max_backoff_s)
                outbox_store.mark_failed(conn, notification_id=nid, error=str(exc), retry_in_s=delay)
                self.metrics.notifications_failed.labels(receiver.channel).inc()
                log.warning(
                    "notification %s to %s failed (attempt %s, retry in %.1f s): %s",
                    nid,
                    receiver.name,
                    row.attempts + 1,
                    delay,
                    exc,
                )
                return None, 0
            outbox_store.mark_delivered(conn, notification_id=nid)
            self.metrics.notifications_sent.labels(receiver.channel).inc()
            nxt = conn.execute(
                "SELECT notification_id FROM alert_notifications WHERE receiver_id = %s AND delivered_at IS NULL"
                " AND notification_id > %s AND next_attempt_at <= now() ORDER BY notification_id LIMIT 1",
                (row.receiver_id, nid),
            ).fetchone()
        return (nxt[0] if nxt else None), 1
