"""MQTT connections of many simulated gateways, each with its own broker account.

Every gateway is its own paho-mqtt 2.x client (MQTT v5, persistent session, QoS 1) with a
retained last will ``offline`` on its status topic and ``online`` published on connect —
exactly what a real data concentrator does. Two ways to run the network I/O:

- ``loop="select"`` (default): one thread polls every socket; publishing writes inline, PUBACKs
  are read when the caller services the connections (:meth:`Publisher.service`), so the
  caller's thread owns everything and needs no locks. Cheapest per gateway.
- ``loop="threads"``: paho's own network thread per connection (``loop_start``), the usual way;
  kept to compare (``smartpark bench sim``) and for callers that cannot service the loop.

Flow control: at most ``max_inflight`` messages await a PUBACK across all gateways; publish
blocks (servicing the sockets) until the broker has acknowledged enough.
"""

from __future__ import annotations

import contextlib
import select
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from smartpark.broker_admin import gateway_client_id
from smartpark.contract import ROOT, gateway_topic, status_topic
from smartpark.mqtt import BrokerTarget, connect_properties, make_client

from .model import SimGateway

SESSION_EXPIRY_S = 3600
DISCONNECT_WITH_WILL = 4  # MQTT v5 reason code: the broker publishes the will


class PublishError(RuntimeError):
    pass


@dataclass
class Stats:
    messages: int = 0  # published (QoS 1)
    acked: int = 0  # PUBACK received
    bytes: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # username -> broker's reason
    disconnects: int = 0  # unexpected connection losses


@dataclass(eq=False)
class _Link:
    gateway: SimGateway
    client: mqtt.Client
    topic: str
    status: str
    connected: bool = False
    wanted: bool = True  # False while the simulated gateway is offline
    retry_at: float = 0.0
    pending: int = 0


class Publisher:
    """Connections of ``gateways``; publish their messages with bounded in-flight QoS 1."""

    def __init__(
        self,
        gateways: Iterable[SimGateway],
        *,
        url: str,
        topic_root: str = ROOT,
        loop: str = "select",
        max_inflight: int = 2000,
        session_expiry: int = SESSION_EXPIRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if loop not in ("select", "threads"):
            raise ValueError(f"network loop {loop!r}: choose 'select' or 'threads'")
        if not 1 <= max_inflight <= 100_000:
            raise ValueError(f"max_inflight {max_inflight} outside 1..100000")
        self.target = BrokerTarget.parse(url)
        self.loop = loop
        self.max_inflight = max_inflight
        self.clock = clock
        self.session_expiry = session_expiry
        self.stats = Stats()
        self._cond = threading.Condition()
        self._links: dict[str, _Link] = {}
        root = topic_root
        for g in gateways:
            client = make_client(
                gateway_client_id(g.username),  # the only id its account is allowed
                target=self.target.with_credentials(g.username, g.password),
                session_expiry=session_expiry,
            )
            link = _Link(
                g,
                client,
                gateway_topic(g.park, g.enterprise, g.code, root),
                status_topic(g.park, g.enterprise, g.code, root),
            )
            client.will_set(link.status, b"offline", qos=1, retain=True)
            client.user_data_set(link)
            client.on_connect = self._on_connect
            client.on_disconnect = self._on_disconnect
            client.on_publish = self._on_publish
            self._links[g.key] = link

    # -- callbacks (the loop thread in "threads" mode, the caller's thread in "select" mode)

    def _on_connect(self, client: mqtt.Client, link: _Link, flags: Any, reason: Any, props: Any) -> None:
        with self._cond:
            if reason.is_failure:
                self.stats.refused[link.gateway.username] = str(reason)
                link.wanted = False  # do not hammer the broker with a wrong password
            else:
                link.connected = True
                # Counted like telemetry so that in-flight = published − acknowledged holds.
                self.stats.messages += 1
                link.pending += 1
                client.publish(link.status, b"online", qos=1, retain=True)
            self._cond.notify_all()

    def _on_disconnect(self, client: mqtt.Client, link: _Link, flags: Any, reason: Any, props: Any) -> None:
        with self._cond:
            if link.connected and link.wanted:
                self.stats.disconnects += 1
            link.connected = False
            link.retry_at = self.clock() + 1.0
            self._cond.notify_all()

    def _on_publish(self, client: mqtt.Client, link: _Link, mid: int, reason: Any, props: Any) -> None:
        with self._cond:
            self.stats.acked += 1
            link.pending -= 1
            self._cond.notify_all()

    # -- connections

    def connect(self, timeout: float = 30.0) -> None:
        """Connect every gateway; raise naming the accounts the broker refused."""
        for link in self._links.values():
            self._start(link)
        deadline = self.clock() + timeout
        while True:
            with self._cond:
                waiting = [
                    lk
                    for lk in self._links.values()
                    if not lk.connected and lk.gateway.username not in self.stats.refused
                ]
            if not waiting or self.clock() > deadline:
                break
            self._wait(0.05)
        if self.stats.refused:
            refused = ", ".join(f"{u!r} ({r})" for u, r in sorted(self.stats.refused.items()))
            raise PublishError(f"broker refused gateway accounts: {refused}")
        if waiting:
            names = ", ".join(repr(lk.gateway.username) for lk in waiting[:5])
            raise PublishError(
                f"{len(waiting)} gateways not connected to {self.target.host}:{self.target.port} "
                f"within {timeout} s: {names}"
            )

    def _start(self, link: _Link) -> None:
        props = connect_properties(self.session_expiry)
        host, port = self.target.host, self.target.port
        try:
            if self.loop == "threads":
                link.client.connect_async(host, port, 30, clean_start=False, properties=props)
                link.client.loop_start()
            else:
                link.client.connect(host, port, 30, clean_start=False, properties=props)
        except OSError as exc:
            raise PublishError(
                f"cannot reach broker {host}:{port} for gateway {link.gateway.username!r}: {exc}"
            ) from exc

    def set_online(self, gateway_key: str, online: bool) -> None:
        """Simulate a gateway going away (its will fires) or coming back."""
        link = self._links[gateway_key]
        if not online:
            link.wanted = False
            if link.connected:
                reason = ReasonCode(PacketTypes.DISCONNECT, identifier=DISCONNECT_WITH_WILL)
                link.client.disconnect(reasoncode=reason)
            return
        link.wanted = True
        link.retry_at = 0.0
        if self.loop == "threads" and not link.connected:
            link.client.reconnect()

    def await_online(self, gateway_key: str, timeout: float = 30.0) -> bool:
        link = self._links[gateway_key]
        deadline = self.clock() + timeout
        while not link.connected and self.clock() < deadline:
            self._wait(0.05)
        return link.connected

    def close(self, timeout: float = 30.0) -> None:
        """Wait for outstanding acknowledgements, then disconnect cleanly (no will)."""
        self.drain(timeout)
        for link in self._links.values():
            link.wanted = False
            if link.connected:
                link.client.disconnect()
        if self.loop == "select":
            self.service(0.05)
        else:
            for link in self._links.values():
                link.client.loop_stop()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- publishing

    @property
    def inflight(self) -> int:
        return self.stats.messages - self.stats.acked

    def publish(self, gateway_key: str, payload: bytes) -> None:
        """QoS 1 on the gateway's telemetry topic; blocks while too many await a PUBACK."""
        link = self._links[gateway_key]
        while self.inflight >= self.max_inflight:
            self._wait(0.05)
        with self._cond:
            self.stats.messages += 1
            self.stats.bytes += len(payload)
            link.pending += 1
        info = link.client.publish(link.topic, payload, qos=1)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            # NO_CONN is fine: paho keeps the message and sends it after reconnecting.
            raise PublishError(f"gateway {link.gateway.username!r}: publish failed: {info.rc}")

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every published message is acknowledged; False on timeout."""
        deadline = self.clock() + timeout
        while self.inflight > 0 and self.clock() < deadline:
            if not any(lk.wanted or lk.connected for lk in self._links.values() if lk.pending):
                break  # what remains belongs to gateways that are offline on purpose
            self._wait(0.05)
        return self.inflight == 0

    def wait_until(self, deadline: float) -> None:
        """Keep the connections alive until the clock reaches ``deadline``."""
        while (left := deadline - self.clock()) > 0:
            self._wait(min(left, 0.5))

    def _wait(self, timeout: float) -> None:
        if self.loop == "threads":
            with self._cond:
                self._cond.wait(timeout)
        else:
            self.service(timeout)

    def service(self, timeout: float) -> None:
        """One round of socket I/O for every connection (``loop="select"`` only)."""
        poller = select.poll()
        by_fd: dict[int, _Link] = {}
        now = self.clock()
        for link in self._links.values():
            sock = link.client.socket()
            if sock is None:
                if link.wanted and now >= link.retry_at:
                    self._reconnect(link)
                continue
            fd = sock.fileno()
            by_fd[fd] = link
            poller.register(fd, select.POLLIN | (select.POLLOUT if link.client.want_write() else 0))
        for fd, event in poller.poll(max(0.0, timeout) * 1000):
            link = by_fd[fd]
            if event & (select.POLLIN | select.POLLERR | select.POLLHUP):
                link.client.loop_read()
            if event & select.POLLOUT and link.client.socket() is not None:
                link.client.loop_write()
        for link in self._links.values():
            if link.client.socket() is not None:
                link.client.loop_misc()

    def _reconnect(self, link: _Link) -> None:
        link.retry_at = self.clock() + 2.0
        with contextlib.suppress(OSError):  # broker away: retry later; the session keeps readings
            link.client.reconnect()
