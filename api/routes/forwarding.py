"""Forwarding to the environment regulators' platforms: is each target receiving our data?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import Role
from api.deps import CurrentPrincipal, DbConn
from api.problems import Forbidden
from api.queries.forwarding import target_status
from api.schemas.forwarding import TargetStatusOut

router = APIRouter(tags=["forwarding"])


@router.get(
    "/forwarding/targets",
    response_model=list[TargetStatusOut],
    summary="upstream HJ 212 targets: connected, backlog, oldest unsent, last reply",
)
def targets(conn: DbConn, p: CurrentPrincipal) -> list[dict[str, Any]]:
    if p.role not in (Role.ADMIN, Role.OPERATOR):
        raise Forbidden("the forwarding status is for administrators and operators")
    return target_status(conn, park_id=p.park_id)
