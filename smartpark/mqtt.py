"""paho-mqtt 2.x clients configured from the settings (MQTT v5, QoS 1, persistent sessions).

The platform's services keep persistent sessions under stable client ids; whoever connects
with such an id takes the session over. So their ids end in a tag derived from the platform
account's password: stable across restarts (the queued messages wait for them), yet nobody
without that password can compute it. Gateways cannot use them anyway (their accounts are
bound to their own ids, see :mod:`smartpark.broker_admin`). Log the service's name, never the id.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from smartpark.settings import Settings, required

SESSION_EXPIRY_S = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class BrokerTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def parse(cls, url: str) -> BrokerTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts"):
            raise ValueError(f"broker URL {url.split('@')[-1]!r} must start with mqtt:// or mqtts://")
        if not parts.hostname:
            raise ValueError(f"broker URL {url.split('@')[-1]!r} has no host")
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname,
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )

    def with_credentials(self, username: str, password: str) -> BrokerTarget:
        return BrokerTarget(self.host, self.port, username, password, self.tls)


def platform_client_id(name: str, url: str) -> str:
    """The client id of the platform service called ``name`` connecting with ``url``'s account."""
    target = BrokerTarget.parse(url)
    key = f"{target.username}:{target.password}".encode()
    tag = hmac.new(key, name.encode(), hashlib.sha256).hexdigest()[:24]
    return f"{name}-{tag}"


def end_session(client_id: str, *, url: str, timeout: float = 10.0) -> None:
    """End a persistent session now: connect as its client with a clean start and no expiry, and
    leave. A member of a shared subscription keeps receiving its share while its session lives,
    connected or not."""
    client = make_client(client_id, url=url, clean_start=True, session_expiry=0)
    connect(client, timeout=timeout)
    client.disconnect()
    client.loop_stop()


def mqtt_url(settings: Settings) -> str:
    """The platform services' account (SMARTPARK_MQTT_URL); an error naming it when unset."""
    return required(settings.mqtt_url, "SMARTPARK_MQTT_URL")


def admin_url(settings: Settings) -> str:
    """The dynamic-security admin account (SMARTPARK_MQTT_ADMIN_URL); an error naming it when unset."""
    return required(settings.mqtt_admin_url, "SMARTPARK_MQTT_ADMIN_URL")


def make_client(
    client_id: str,
    *,
    url: str | None = None,
    target: BrokerTarget | None = None,
    clean_start: bool = False,
    session_expiry: int = SESSION_EXPIRY_S,
    manual_ack: bool = False,
    userdata: Any = None,
    client_class: type[mqtt.Client] = mqtt.Client,
) -> mqtt.Client:
    """A configured, not yet connected client (of ``url`` or ``target``, one of them required).
    Connect with :func:`connect` or ``connect_async``."""
    if target is None:
        if url is None:
            raise TypeError(f"make_client({client_id!r}) needs the broker: url= or target=")
        target = BrokerTarget.parse(url)
    client = client_class(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        userdata=userdata,
        manual_ack=manual_ack,
    )
    if target.username is not None:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set()
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.reconnect_delay_set(min_delay=1, max_delay=5)
    client._smartpark_target = target  # type: ignore[attr-defined]
    client._smartpark_session = (clean_start, session_expiry)  # type: ignore[attr-defined]
    return client


def connect_properties(session_expiry: int) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = session_expiry
    props.ReceiveMaximum = 1000
    return props


class ConnectRefused(ConnectionError):
    """The broker answered and refused the login (credentials, client id): retrying will not help."""


class BrokerUnreachable(ConnectionError):
    """No connection to the broker's port (down, restarting, network): worth trying again."""


def connect(client: mqtt.Client, *, timeout: float = 10.0, keepalive: int = 30) -> None:
    """Connect and start the network loop; wait for CONNACK and raise if the broker refuses."""
    target: BrokerTarget = client._smartpark_target  # type: ignore[attr-defined]
    clean_start, expiry = client._smartpark_session  # type: ignore[attr-defined]
    done = threading.Event()
    outcome: dict[str, Any] = {}
    previous = client.on_connect

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        outcome["reason"] = reason
        done.set()
        client.on_connect = previous
        if previous is not None:
            previous(c, userdata, flags, reason, props)  # type: ignore[call-arg]

    def on_connect_fail(c: mqtt.Client, userdata: Any) -> None:
        outcome["unreachable"] = True
        done.set()

    client.on_connect = on_connect
    client.on_connect_fail = on_connect_fail
    client.connect_async(
        target.host,
        target.port,
        keepalive=keepalive,
        clean_start=clean_start,
        properties=connect_properties(expiry),
    )
    client.loop_start()
    answered = done.wait(timeout)
    client.on_connect_fail = None
    if not answered or outcome.get("unreachable"):
        client.loop_stop()
        # paho's loop_start opens a new wake-up socket pair each time and never closes the last
        client._reset_sockets(sockpair_only=True)
        client.on_connect = previous  # the next attempt wraps the caller's callback, not this one
        if not answered:
            raise TimeoutError(f"no CONNACK from {target.host}:{target.port} within {timeout} s")
        raise BrokerUnreachable(f"no connection to the broker at {target.host}:{target.port}")
    reason = outcome["reason"]
    if reason.is_failure:
        client.disconnect()
        client.loop_stop()
        raise ConnectRefused(f"broker refused {target.username!r}: {reason}")
