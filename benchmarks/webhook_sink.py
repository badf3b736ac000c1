"""A local webhook receiver that verifies signatures and records what arrived and when: what a
regulator's endpoint does, for the benchmark, the tests and trying out a deployment."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from alerting.delivery import ID_HEADER, verify


@dataclass
class Hit:
    at: float
    notification_id: int
    payload: dict[str, Any]
    signed: bool


@dataclass
class WebhookSink:
    """Records every POST; answers 503 while ``down``."""

    secret: str = field(default_factory=lambda: secrets.token_hex(8))
    down: bool = False
    hits: list[Hit] = field(default_factory=list)
    refused: int = 0
    on_hit: Callable[[Hit], None] | None = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(min(int(self.headers.get("Content-Length", "0")), 10 * 2**20))
                at = outer.clock()
                if outer.down:
                    outer.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                hit = Hit(
                    at,
                    int(self.headers.get(ID_HEADER, "0")),
                    json.loads(body),
                    verify(outer.secret, dict(self.headers), body),
                )
                outer.hits.append(hit)
                if outer.on_hit is not None:
                    outer.on_hit(hit)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-sink", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def alerts(self) -> list[tuple[str, str, str]]:
        """(alertname, device, status) of every alarm in every notification received."""
        return [
            (a["labels"]["alertname"], a["labels"]["device"], a["status"])
            for h in self.hits
            for a in h.payload["alerts"]
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
