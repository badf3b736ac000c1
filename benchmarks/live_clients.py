"""Clients a benchmark drives a live platform with, each riding out what a long run meets: a
database connection that connects again after a restart, HTTP calls that answer with a status
instead of raising, and a gateway's MQTT sender that reconnects when the broker drops it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


class Db:
    """An autocommit connection that connects again when the database restarts under the run
    (the machine is shared); a query is retried for up to a minute."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn: Any = None

    def __enter__(self) -> Db:
        return self

    def __exit__(self, *_: object) -> None:
        if self.conn is not None:
            self.conn.close()

    def execute(self, sql: str, params: Any = ()) -> Any:
        import psycopg

        for _ in range(60):
            try:
                if self.conn is None or self.conn.closed:
                    self.conn = psycopg.connect(self.url, autocommit=True)
                return self.conn.execute(sql, params)
            except psycopg.OperationalError as exc:
                print(f"bench platform: database away ({exc}); connecting again")
                self.conn = None
                time.sleep(1.0)
        raise SystemExit("bench platform: the database stayed away for a minute")


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while not check():
        if time.time() > deadline:
            raise SystemExit(f"bench platform: {what} not ready after {timeout:g} s")
        time.sleep(0.5)


def http_get(url: str, token: str | None = None) -> int:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def http_post(url: str, body: Any, token: str | None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def gateway_client(gw: dict[str, Any]) -> Any:
    from smartpark.broker_admin import gateway_client_id
    from smartpark.mqtt import BrokerTarget, connect, make_client, mqtt_url
    from smartpark.settings import get_settings

    target = BrokerTarget.parse(mqtt_url(get_settings())).with_credentials(gw["username"], gw["password"])
    c = make_client(gateway_client_id(gw["username"]), target=target, clean_start=True, session_expiry=0)
    connect(c)
    return c


class Sender:
    """One gateway's client for the leak or probe thread, connected again if the broker drops it."""

    def __init__(self, park: str, gw: dict[str, Any]) -> None:
        from smartpark.contract import gateway_topic

        self.gw, self.topic = gw, gateway_topic(park, gw["enterprise"], gw["code"])
        self.client = gateway_client(gw)

    def send(self, device: str, values: dict[str, float]) -> int:
        ts_ms = int(time.time() * 1000)
        body = json.dumps({device: [{"ts": ts_ms, "values": values}]})
        try:
            self.client.publish(self.topic, body, qos=1).wait_for_publish(10)
        except (RuntimeError, ValueError):
            self.client = gateway_client(self.gw)
            self.client.publish(self.topic, body, qos=1).wait_for_publish(10)
        return ts_ms

    def close(self) -> None:
        self.client.disconnect()
