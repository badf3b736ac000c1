"""The FastAPI application factory: routers under /api/v1, problem errors, limits, metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from api import problems
from api.answers import AnswerCache
from api.compression import CompressionMiddleware
from api.db import make_pool
from api.deps import Authenticator
from api.middleware import BodyLimit, RequestMetrics, SecurityHeaders
from api.queries.users import token_secret
from api.routes.live import LiveSlots
from api.standing import StandingCache
from api.throttle import FailureThrottle
from smartpark.heartbeat import STALE_AFTER_S, Heartbeat, Publisher, beating
from smartpark.settings import ApiSettings, Settings, get_settings
from smartpark.webhook_targets import TargetPolicy
from storage.coldfs import ColdStore

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboards" / "web"

DESCRIPTION = """\
Park statistics, live telemetry and alarms of the smart industrial park.

**Auth**: send `X-API-Key: spk_…` (created by `smartpark users key NAME` or
`POST /api/v1/users/{id}/keys`), or exchange it at `POST /api/v1/auth/token` for a short-lived
token sent as `Authorization: Bearer spt.…`.
Errors are `application/problem+json`. Another tenant's object answers 404.
"""


def app_from_environment() -> FastAPI:
    """The entry point of `smartpark api --workers N`: each worker process resolves its settings."""
    return create_app(get_settings())


def create_app(
    settings: Settings,
    *,
    limits: ApiSettings | None = None,
    database_url: str | None = None,
    registry: CollectorRegistry | None = None,
    clock: Callable[[], float] = time.time,
    static_dir: Path | None = DASHBOARD_DIR,
    broker_factory: Callable[[], Any] | None = None,
) -> FastAPI:
    limits = limits or settings.api

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from smartpark.db import database_url as default_url

        url = database_url or default_url(settings)
        pool = make_pool(url, limits, open_=False)
        pool.open(wait=False)
        app.state.pool = pool
        beats = asyncio.create_task(beating(app.state.heartbeat))  # stops when the event loop is stuck
        publisher = Publisher(app.state.heartbeat, lambda: psycopg.connect(url, autocommit=True))
        publisher.start()
        try:
            with pool.connection() as conn:
                app.state.token_secret = token_secret(conn)
            app.state.auth = Authenticator(
                secret=app.state.token_secret,
                pool=pool,
                standing=StandingCache(limits.token_check_s),
                throttle=FailureThrottle(limit=limits.auth_fail_limit, window_s=limits.auth_fail_window_s),
                clock=clock,
            )
            yield
        finally:
            beats.cancel()
            publisher.stop()
            pool.close()

    app = FastAPI(
        title="smartpark API",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,  # served from vendored files at /docs (no CDN); /api/v1/docs redirects there
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.limits = limits
    app.state.clock = clock
    app.state.registry = registry or CollectorRegistry()
    app.state.heartbeat = Heartbeat("api", stale_after_s=STALE_AFTER_S["api"], registry=app.state.registry)
    app.state.answers = AnswerCache(limits.overview_ttl_s)
    app.state.live_slots = LiveSlots(limits.live_max_per_user)
    app.state.webhook_targets = TargetPolicy.from_cidrs(settings.webhook_allowed_networks)
    app.state.broker_factory = broker_factory or _local_broker(settings)
    cold_url = settings.storage.cold_url
    app.state.cold = ColdStore.of(cold_url) if cold_url else None
    problems.install(app)

    from api.routes import (
        ack_page,
        alarms,
        auth,
        completeness,
        emergency,
        emergency_registry,
        energy,
        energy_records,
        exports,
        forwarding,
        health,
        hj212,
        live,
        page,
        paging,
        plan,
        reference,
        region,
        region_outbox,
        rejected,
        rules,
        service_health,
        statistics,
        telemetry,
    )
    from api.routes import (
        registry as registry_routes,
    )
    from api.routes import reports as report_routes

    app.include_router(health.router)
    app.include_router(ack_page.router)  # /a/{token}: short, for the link in an SMS
    modules = (auth, registry_routes, telemetry, statistics, alarms, rules, paging, rejected, forwarding, completeness,
               hj212, live, reference, plan, page, energy, energy_records, exports, report_routes)  # fmt: skip
    for module in (*modules, region, region_outbox, service_health, emergency, emergency_registry):
        app.include_router(module.router, prefix=PREFIX)

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    def docs_moved() -> RedirectResponse:
        return RedirectResponse("/docs/", status_code=308)

    app.add_middleware(RequestMetrics, registry=app.state.registry, prefix=PREFIX)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    # Answers and static files in brotli or gzip, as the client accepts (api/compression.py);
    # WebSocket scopes pass through untouched, so the live stream is not buffered.
    app.add_middleware(CompressionMiddleware)
    app.add_middleware(SecurityHeaders)  # outermost: every answer carries them, errors included
    if static_dir is not None and static_dir.is_dir():
        # The ops-centre page; mounted last so every API route wins over a file name.
        app.mount("/", StaticFiles(directory=static_dir, html=True), name="dashboard")
    return app


def _local_broker(settings: Settings) -> Callable[[], Any]:
    def factory() -> Any:
        from smartpark.broker_admin import BrokerAdmin

        return BrokerAdmin.of(settings)

    return factory
