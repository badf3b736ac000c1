"""The small HTTP server of a service without an API of its own (ingest, alerting, scheduler,
hj212): ``/metrics`` for Prometheus, ``/healthz`` (the process answers) and ``/readyz`` (its
heartbeat is fresh: 200, else 503, with the heartbeat as JSON), for compose's health checks and
the operator. Bound to loopback unless told otherwise."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from smartpark.heartbeat import Heartbeat


def serve_health(
    port: int, heartbeat: Heartbeat, *, registry: CollectorRegistry = REGISTRY, addr: str = "127.0.0.1"
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._send(200, b'{"status":"ok"}', "application/json")
            elif path == "/readyz":
                status = heartbeat.status()
                body = json.dumps(status.as_json()).encode()
                self._send(503 if status.stale else 200, body, "application/json")
            else:
                self._send(404, b'{"status":"not found"}', "application/json")

        def _send(self, code: int, body: bytes, ctype: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # probes every few seconds: not worth a log line
            return

    server = ThreadingHTTPServer((addr, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name=f"health-{heartbeat.service}", daemon=True).start()
    return server
