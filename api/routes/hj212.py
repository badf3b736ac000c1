"""The data loggers' clocks: how far each was off when last asked, and when it was set."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import CurrentPrincipal, DbConn, OptId
from api.queries.hj212 import logger_clocks
from api.schemas.hj212 import LoggerClockOut

router = APIRouter(tags=["hj212"])


@router.get(
    "/hj212/clocks",
    response_model=list[LoggerClockOut],
    summary="data loggers' clock skew (time query) and the last time setting, per logger",
)
def clocks(conn: DbConn, p: CurrentPrincipal, park_id: OptId = None) -> list[dict[str, Any]]:
    return logger_clocks(conn, p, park_id=park_id)
