"""Liveness and readiness (no authentication: for probes), and Prometheus metrics.

``/metrics`` names routes, request counts and latencies, which tell an outsider what the platform
runs and how busy it is: it answers admins and users of the ``metrics`` role only. Prometheus
scrapes it with such a user's key as a bearer token (``authorization: {credentials: spk_…}``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ScrapePrincipal
from api.schemas.auth import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut, summary="the process is alive")
def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    response_model=HealthOut,
    summary="the database answers, the API schema is migrated and the event loop's heartbeat is fresh",
    responses={503: {"model": HealthOut}},
)
def readyz(request: Request) -> Response:
    checks: dict[str, str] = {}
    try:
        with request.app.state.pool.connection(timeout=2.0) as conn:
            conn.execute("SELECT 1 FROM api_token_secret LIMIT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "not ready", reported, never raised
        checks["database"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    beat = request.app.state.heartbeat.status()  # the event loop goes round (smartpark.heartbeat)
    checks["heartbeat"] = "ok" if not beat.stale else f"stale: last beat {beat.as_json()['last_beat']}"
    ok = all(v == "ok" for v in checks.values())
    body = HealthOut(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics (admins, or a user of role 'metrics' with its key as a bearer token)",
    response_class=Response,
    responses={401: {}, 403: {}},
)
def metrics(request: Request, p: ScrapePrincipal) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
