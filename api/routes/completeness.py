"""Data completeness as the regulators judge it: transmission, validity and effective
transmission rates per device, enterprise, park or category, per day, month or the whole range
(aggregation/completeness.py has the rule and its sources)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from api.deps import Clock, ColdTier, CurrentPrincipal, DbConn, OptId
from api.problems import BadRequest
from api.queries.completeness import completeness
from api.schemas.completeness import CompletenessOut

router = APIRouter(tags=["completeness"])
MAX_DAYS = 92  # a quarter: the longest period the bureaus assess at once
EARLIEST, LATEST = date(1970, 1, 2), date(9999, 12, 1)  # room for the query's ±2-day UTC margin


@router.get(
    "/completeness",
    response_model=list[CompletenessOut],
    summary="expected, received and valid readings with transmission, validity and effective rates",
)
def get_completeness(
    request: Request,
    conn: DbConn,
    p: CurrentPrincipal,
    clock: Clock,
    cold: ColdTier,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to", description="last day, included")],
    by: Literal["device", "enterprise", "park", "category"] = "enterprise",
    period: Literal["day", "month", "range"] = "day",
    park_id: OptId = None,
    enterprise_id: OptId = None,
) -> list[dict[str, Any]]:
    if end < start:
        raise BadRequest(f"to ({end}) is before from ({start})")
    if start < EARLIEST or end > LATEST:
        raise BadRequest(f"days from {EARLIEST} to {LATEST} only (asked {start}..{end})")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadRequest(f"{(end - start).days + 1} days requested; at most {MAX_DAYS}")
    default_interval_s = request.app.state.settings.aggregation.default_interval_s
    return completeness(
        conn,
        p,
        first=start,
        last=end,
        by=by,
        period=period,
        default_interval_s=default_interval_s,
        park_id=park_id,
        enterprise_id=enterprise_id,
        now=datetime.fromtimestamp(clock(), UTC),
        cold=cold,
    )
