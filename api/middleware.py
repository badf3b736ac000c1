"""ASGI middleware: request-size limit, Prometheus request metrics, security headers."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response


class BodyLimit:
    """Refuse bodies over ``max_bytes`` with 413, whether announced (Content-Length) or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(413, "Request too large", f"request bodies are limited to {self.max_bytes} bytes")
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class RequestMetrics:
    """Count and time requests by route template (not raw path: ids would explode the labels)."""

    def __init__(
        self,
        app: ASGIApp,
        registry: CollectorRegistry,
        prefix: str = "",
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.app = app
        self.prefix = prefix
        self.clock = clock
        self.requests = Counter(
            "smartpark_api_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "smartpark_api_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = self.clock()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = _route_of(scope, self.prefix)
            self.requests.labels(scope["method"], route, str(status[0])).inc()
            self.latency.labels(scope["method"], route).observe(self.clock() - start)


def _route_of(scope: Scope, prefix: str) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return "unmatched"
    # routes of included routers carry their own path; the request path says under which prefix
    if prefix and scope.get("path", "").startswith(prefix) and not path.startswith(prefix):
        return prefix + path
    return path


# The ops-centre page loads its own scripts and styles and the vendored ECharts, and talks to its
# own origin only (fetch and the live WebSocket: CSP 3 'self' covers ws/wss of the same host).
# Inline style attributes stay allowed (the views and ECharts' tooltips set colours with them);
# inline and evaluated scripts do not. Media: the page's own alarm sound.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
    " media-src 'self'; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'"
)
# FastAPI's interactive documentation is a page of Swagger UI from its CDN with an inline script.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net;"
    " style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com;"
    " connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """Every HTTP answer (API, page, errors) carries a Content-Security-Policy, X-Frame-Options
    DENY, X-Content-Type-Options nosniff and Referrer-Policy no-referrer."""

    def __init__(self, app: ASGIApp, docs_path: str = "/api/v1/docs") -> None:
        self.app = app
        self.docs_path = docs_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope.get("path", "").startswith(self.docs_path) else PAGE_CSP
        extra = [*SECURITY_HEADERS, (b"content-security-policy", csp.encode())]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
