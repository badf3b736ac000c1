"""Rejected messages: operators (and enterprises, for their own gateways) see why data was
refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import Role
from api.deps import CurrentPrincipal, DbConn, OptId, Paging
from api.problems import Forbidden
from api.queries.rejected import list_rejected
from api.schemas.common import PageOut, paged
from api.schemas.telemetry import RejectedOut

router = APIRouter(tags=["rejected"])


@router.get(
    "/rejected",
    response_model=PageOut[RejectedOut],
    summary="refused readings and messages, newest first",
)
def rejected(
    conn: DbConn,
    p: CurrentPrincipal,
    page: Paging,
    park_id: OptId = None,
    enterprise_id: OptId = None,
    reason_code: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    if p.role is Role.REGULATOR:
        raise Forbidden("rejected messages are for operators and the enterprises that sent them")
    rows = list_rejected(
        conn,
        p,
        park_id=park_id,
        enterprise_id=enterprise_id,
        reason_code=reason_code,
        since=since,
        until=until,
        limit=page.limit,
        offset=page.offset,
    )
    return paged(rows, page.limit, page.offset)
