"""Alarms: list and filter, detail with events, acknowledge, assign, resolve.

The actions go through alerting's lifecycle functions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from psycopg.rows import dict_row, tuple_row

from api.answers import AnswerCache
from api.auth import Principal, Role
from api.deps import (
    Answers,
    BigId,
    CurrentPrincipal,
    DbConn,
    DbRun,
    OperatorPrincipal,
    OptId,
    Paging,
)
from api.problems import Conflict, Forbidden, found
from api.queries import alarms as q
from api.schemas.alarms import (
    AlarmCategory,
    AlarmCountOut,
    AlarmDetailOut,
    AlarmOut,
    AlarmState,
    AssignIn,
    CommentIn,
    Severity,
)
from api.schemas.common import PageOut, fast_json, paged

router = APIRouter(tags=["alarms"])


@router.get("/alarms", response_model=PageOut[AlarmOut], summary="alarms, newest first")
async def list_alarms(
    run: DbRun,
    p: CurrentPrincipal,
    page: Paging,
    state: Annotated[list[AlarmState] | None, Query(max_length=4)] = None,
    severity: Annotated[list[Severity] | None, Query(max_length=4)] = None,
    category: AlarmCategory | None = None,
    park_id: OptId = None,
    enterprise_id: OptId = None,
    device_id: OptId = None,
    acknowledged: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Any:
    rows = await run(
        q.list_alarms,
        p,
        states=state,
        severities=severity,
        category=category,
        park_id=park_id,
        enterprise_id=enterprise_id,
        device_id=device_id,
        acknowledged=acknowledged,
        since=since,
        until=until,
        limit=page.limit,
        offset=page.offset,
    )
    return fast_json(PageOut[AlarmOut], paged(rows, page.limit, page.offset))


@router.get(
    "/alarms/summary",
    response_model=list[AlarmCountOut],
    summary="open alarms per severity, category and state",
)
def summary(conn: DbConn, p: CurrentPrincipal, park_id: OptId = None) -> list[dict[str, Any]]:
    return q.counts(conn, p, park_id=park_id)


def _detail(conn: DbConn, p: Principal, alert_id: int) -> dict[str, Any]:
    row = found(q.get_alarm(conn, p, alert_id=alert_id), f"no alarm {alert_id}")
    return {**row, "events": q.events(conn, alert_id=alert_id)}


@router.get("/alarms/{alert_id}", response_model=AlarmDetailOut, responses={404: {}})
def get_alarm(alert_id: BigId, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    return _detail(conn, p, alert_id)


def _act(conn: DbConn, p: Principal, answers: AnswerCache, alert_id: int, action: str, **kwargs: Any) -> dict[str, Any]:
    from alerting import lifecycle

    _detail(conn, p, alert_id)  # 404 unless visible to the caller
    conn.row_factory = tuple_row  # alerting's functions read plain tuples
    try:
        with conn.transaction():
            getattr(lifecycle, action)(conn, alert_id=alert_id, by=p.name, **kwargs)
    except (ValueError, LookupError) as exc:
        raise Conflict(f"cannot {action} alarm {alert_id}: {exc}") from exc
    finally:
        conn.row_factory = dict_row
    answers.clear()  # the overview's alarm counts changed: the caller sees it at once
    return _detail(conn, p, alert_id)


@router.post(
    "/alarms/{alert_id}/acknowledge",
    response_model=AlarmDetailOut,
    responses={403: {}, 404: {}, 409: {}},
    summary="acknowledge with a comment (operators; enterprises their own alarms)",
)
def acknowledge(
    alert_id: BigId, body: CommentIn, conn: DbConn, p: CurrentPrincipal, answers: Answers
) -> dict[str, Any]:
    if not (p.can_operate or p.role is Role.ENTERPRISE):
        raise Forbidden(f"role {p.role.value!r} may not acknowledge alarms")
    return _act(conn, p, answers, alert_id, "acknowledge", comment=body.comment)


@router.post(
    "/alarms/{alert_id}/assign",
    response_model=AlarmDetailOut,
    responses={403: {}, 404: {}, 409: {}},
)
def assign(alert_id: BigId, body: AssignIn, conn: DbConn, p: OperatorPrincipal, answers: Answers) -> dict[str, Any]:
    return _act(conn, p, answers, alert_id, "assign", assignee=body.assignee, comment=body.comment)


@router.post(
    "/alarms/{alert_id}/resolve",
    response_model=AlarmDetailOut,
    responses={403: {}, 404: {}, 409: {}},
)
def resolve(alert_id: BigId, body: CommentIn, conn: DbConn, p: OperatorPrincipal, answers: Answers) -> dict[str, Any]:
    return _act(conn, p, answers, alert_id, "resolve", comment=body.comment)
