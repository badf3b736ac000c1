"""Delivery checks a webhook's target again when it connects (issue 14, M1): DNS rebinding,
loopback without an allowed network, and notifications always signed. A real HTTP receiver on
127.0.0.1."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from alerting.delivery import DeliveryError, Sender, verify
from alerting.routing import Receiver
from smartpark.webhook_targets import TargetPolicy

SECRET = "a-receiver-secret-of-some-length"


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[int, list[tuple[dict[str, str], bytes]]]]:
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), received
    finally:
        server.shutdown()
        server.server_close()


def _receiver(url: str, secret: str | None = SECRET) -> Receiver:
    return Receiver(1, "bureau", "p1", frozenset({"safety"}), "webhook", url, secret)


def test_loopback_is_refused_when_connecting_unless_allowed(hook: tuple[int, list[Any]]) -> None:
    port, received = hook
    with pytest.raises(DeliveryError, match=re.escape("127.0.0.1 is a loopback address")):
        Sender().send(_receiver(f"http://127.0.0.1:{port}/hook"), 1, {"status": "firing"})
    assert received == []
    allowed = Sender(targets=TargetPolicy.from_cidrs(["127.0.0.0/8"]))
    allowed.send(_receiver(f"http://127.0.0.1:{port}/hook"), 2, {"status": "firing"})
    ((headers, body),) = received
    assert verify(SECRET, headers, body)


def test_a_name_rebound_to_loopback_is_refused_at_delivery(hook: tuple[int, list[Any]]) -> None:
    """The API saw hooks.example at a public address; by delivery it resolves to 127.0.0.1."""
    port, received = hook
    answers = {"hooks.example": ["93.184.215.14"]}
    policy = TargetPolicy(resolver=lambda host, _port: answers[host])
    assert policy.check_url(f"http://hooks.example:{port}/hook")  # what the API checked
    answers["hooks.example"] = ["127.0.0.1"]  # rebound
    with pytest.raises(DeliveryError, match=re.escape("'hooks.example': 127.0.0.1 is a loopback address")):
        Sender(targets=policy).send(_receiver(f"http://hooks.example:{port}/hook"), 1, {"status": "firing"})
    assert received == []
    # the address checked is the one connected to: allowed, the name reaches the local receiver
    pinned = TargetPolicy.from_cidrs(["127.0.0.0/8"], resolver=lambda host, _port: answers[host])
    Sender(targets=pinned).send(_receiver(f"http://hooks.example:{port}/hook"), 2, {"status": "firing"})
    assert len(received) == 1 and received[0][0]["Host"] == f"hooks.example:{port}"


def test_a_receiver_without_a_secret_gets_nothing_unsigned(hook: tuple[int, list[Any]]) -> None:
    port, received = hook
    sender = Sender(targets=TargetPolicy.from_cidrs(["127.0.0.0/8"]))
    with pytest.raises(DeliveryError, match="always signed"):
        sender.send(_receiver(f"http://127.0.0.1:{port}/hook", secret=None), 1, {"status": "firing"})
    assert received == []
