"""How current the platform is, for signed-in users: the services' heartbeats (is anything
judging alarms, computing statistics?) and the scheduled jobs that fail per park and day. The
page shows a banner from these when alarms or statistics are stale, with since when.

What storage costs (``/health/storage``) is for admins only: its table sizes and growth describe
every park's traffic together, which no park's user needs to see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request

from api.deps import AdminPrincipal, CurrentPrincipal, DbConn
from api.schemas.statistics import JobsOut, ServicesOut

router = APIRouter(tags=["health"])


@router.get("/health/jobs", response_model=JobsOut, summary="scheduled jobs that fail, per park and day")
def jobs(conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    from aggregation import failures

    return {"failures": failures.current(conn, park_ids=None if p.park_id is None else [p.park_id])}


@router.get(
    "/health/services",
    response_model=ServicesOut,
    summary="each service's last heartbeat; alarms and statistics stale, and since when",
)
def services(conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    from aggregation import failures
    from alerting import coverage
    from smartpark.heartbeat import STALE_AFTER_S, latest

    beats = latest(conn)
    out = [
        beats[name].as_json() if name in beats else {"service": name, "status": "stale", "last_beat": None}
        for name in STALE_AFTER_S
    ]
    failing = failures.current(conn, park_ids=None if p.park_id is None else [p.park_id])
    by_name = {s["service"]: s for s in out}

    def stale_since(service: str) -> datetime | str | None:
        s = by_name[service]
        if s["status"] == "ok":
            return None
        return datetime.fromisoformat(s["last_beat"]) if s["last_beat"] else "never"

    stats_since = stale_since("scheduler") or (min(f["first_failed_at"] for f in failing) if failing else None)
    return {
        "services": out,
        "alarms_missing": coverage.compare(conn, park_ids=None if p.park_id is None else [p.park_id]),
        "alarms_stale_since": stale_since("alerting"),
        "statistics_stale_since": stats_since,
    }


@router.get(
    "/health/storage",
    summary="bytes per reading of every table and chunk, growth per day, projection (admins only)",
    responses={403: {}},
)
def storage(request: Request, conn: DbConn, p: AdminPrincipal) -> dict[str, Any]:
    from storage import report
    from storage.retention import Policy

    settings = request.app.state.settings
    policy = Policy.of(settings.storage, hot_days=settings.aggregation.telemetry_retention_days)
    return report.build(conn, policy=policy).as_json()
