"""Paging: contacts, duty rosters and escalation policies (operators of their park, admins of
all), who is on duty now, and an alarm's notification log (whoever may see the alarm)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Query, status

from alerting import paging_names, paging_store
from alerting.escalation import policy_from_dict
from alerting.rosters import on_duty, roster_from_dict
from alerting.rules import RuleError
from api.auth import Principal
from api.deps import BigId, Clock, CurrentPrincipal, DbConn, Id, OperatorPrincipal, Paging
from api.problems import BadRequest, Conflict, Forbidden, Unprocessable, found
from api.queries import alarms as alarm_q
from api.queries import paging as q
from api.schemas.common import PageOut, paged
from api.schemas.paging import (
    ContactIn,
    ContactOut,
    NotificationLogOut,
    OnDutyOut,
    PolicyIn,
    PolicyOut,
    RosterIn,
    RosterOut,
)
from api.target_mask import mask_error, mask_targets

router = APIRouter(tags=["paging"])
LOG_LIMIT = 1000


def _own(p: Principal, park_id: int | None, what: str) -> None:
    if p.park_id is not None and park_id != p.park_id:
        raise Forbidden(f"an operator's {what} needs park_id {p.park_id}")


def _page(conn: DbConn, what: str, park_id: int | None, page: Paging) -> dict[str, Any]:
    """A page of contacts, rosters or policies: a park's and the platform-wide ones (None: all)."""
    rows = q.list_of(conn, what, park_id=park_id, limit=page.limit, offset=page.offset)
    return paged(rows, page.limit, page.offset)


@contextmanager
def _definition_checked() -> Iterator[None]:
    """A roster or policy that does not validate is refused with the reason."""
    try:
        yield
    except RuleError as exc:
        raise BadRequest(str(exc)) from exc


def _saved_by_name(
    conn: DbConn, p: Principal, what: str, name: str, save: Callable[[], int], names: Callable[[], None]
) -> dict[str, Any]:
    """Saving by name replaces, so only one the caller may see and change (then ``names`` checks
    what it names); the row as saved."""
    row = q.by_name(conn, what, name=name)
    if row is not None and p.park_id is not None and row["park_id"] != p.park_id:
        raise Conflict(f"{what[:-1] if what != 'policies' else 'policy'} {name!r} exists in another scope")
    names()
    with conn.transaction():
        key = save()
    return _visible(conn, p, what, key)


def _names_own(conn: DbConn, park_id: int | None, named: list[tuple[str, str, Iterable[str]]]) -> None:
    """A roster or policy names its park's or platform-wide people only (alerting.paging_names)."""
    try:
        paging_names.check(conn, park_id=park_id, named=named)
    except paging_names.NamedElsewhere as exc:
        raise Unprocessable(str(exc), field=exc.field) from exc


def _visible(conn: DbConn, p: Principal, what: str, key: int) -> dict[str, Any]:
    return found(q.one(conn, what, key=key, park_id=p.park_id), f"no {what} {key}")


def _writable(conn: DbConn, p: Principal, what: str, key: int) -> dict[str, Any]:
    row = _visible(conn, p, what, key)
    if p.park_id is not None and row["park_id"] != p.park_id:
        raise Forbidden(f"{what} {key} is platform-wide; an admin may change it")
    return row


# --- contacts ---------------------------------------------------------------------------------


@router.get("/notify/contacts", response_model=PageOut[ContactOut], summary="people paging can reach")
def list_contacts(conn: DbConn, p: OperatorPrincipal, page: Paging) -> dict[str, Any]:
    return _page(conn, "contacts", p.park_id, page)


@router.post(
    "/notify/contacts", response_model=ContactOut, status_code=status.HTTP_201_CREATED, responses={403: {}, 409: {}}
)
def create_contact(body: ContactIn, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    _own(p, body.park_id, "contact")
    if not (body.email or body.phone):
        raise BadRequest(f"contact {body.name!r} needs an email address or a phone number")
    try:
        with conn.transaction():
            cid = paging_store.create_contact(conn, **body.model_dump())
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(f"contact {body.name!r} exists") from exc
    return _visible(conn, p, "contacts", cid)


@router.delete("/notify/contacts/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
def delete_contact(contact_id: Id, conn: DbConn, p: OperatorPrincipal) -> None:
    _writable(conn, p, "contacts", contact_id)
    paging_store.delete_contact(conn, contact_id=contact_id)


# --- rosters ----------------------------------------------------------------------------------


@router.get("/notify/rosters", response_model=PageOut[RosterOut], summary="duty rosters")
def list_rosters(conn: DbConn, p: OperatorPrincipal, page: Paging) -> dict[str, Any]:
    return _page(conn, "rosters", p.park_id, page)


@router.put(
    "/notify/rosters",
    response_model=RosterOut,
    responses={400: {}, 403: {}, 409: {}, 422: {}},
    summary="create or replace by name",
)
def save_roster(body: RosterIn, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    _own(p, body.park_id, "roster")
    with _definition_checked():
        roster = roster_from_dict(body.definition)
    return _saved_by_name(
        conn,
        p,
        "rosters",
        body.name,
        lambda: paging_store.save_roster(conn, name=body.name, park_id=body.park_id, definition=body.definition),
        lambda: _names_own(conn, body.park_id, [("definition", "contacts", roster.names())]),
    )


def _when(at: datetime | None, clock: Clock) -> datetime:
    when = at if at is not None else datetime.fromtimestamp(clock(), UTC)
    if when.tzinfo is None:
        raise BadRequest(f"at {when.isoformat()} needs a UTC offset")
    return when


@router.get(
    "/notify/on-duty",
    response_model=PageOut[OnDutyOut],
    summary="who is on duty (now or at) on every roster the caller sees, one answer for the page's panel",
)
def who_is_on_duty_everywhere(
    conn: DbConn,
    p: OperatorPrincipal,
    clock: Clock,
    page: Paging,
    at: datetime | None = None,
    park_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="an admin's choice of park")] = None,
) -> dict[str, Any]:
    """An operator's park's rosters and the platform-wide ones; an admin's, of one park or all."""
    when = _when(at, clock)
    answer = _page(conn, "rosters", p.park_id if p.park_id is not None else park_id, page)
    answer["items"] = [_on_duty_or_why_not(conn, row, when) for row in answer["items"]]
    return answer


def _on_duty_or_why_not(conn: DbConn, row: dict[str, Any], when: datetime) -> dict[str, Any]:
    """One broken roster does not hide who is on duty on the others."""
    try:
        return _on_duty(conn, row, when)
    except Conflict as exc:
        return {"roster_id": row["roster_id"], "roster": row["name"], "at": when, "why": "invalid", "error": exc.detail}


@router.get("/notify/rosters/{roster_id}/on-duty", response_model=OnDutyOut, summary="who is on duty (now or at)")
def who_is_on_duty(
    roster_id: Id, conn: DbConn, p: OperatorPrincipal, clock: Clock, at: datetime | None = None
) -> dict[str, Any]:
    return _on_duty(conn, _visible(conn, p, "rosters", roster_id), _when(at, clock))


def _on_duty(conn: DbConn, row: dict[str, Any], when: datetime) -> dict[str, Any]:
    tz = q.park_timezone(conn, park_id=row["park_id"])
    try:
        duty = on_duty(roster_from_dict(row["definition"]), when, tz)
    except RuleError as exc:
        raise Conflict(f"roster {row['name']!r} no longer validates: {exc}") from exc
    return {
        "roster_id": row["roster_id"],
        "roster": row["name"],
        "at": when,
        "timezone": tz,
        "member": duty.member,
        "why": duty.why,
        "shift_date": duty.shift_date,
    }


@router.delete("/notify/rosters/{roster_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
def delete_roster(roster_id: Id, conn: DbConn, p: OperatorPrincipal) -> None:
    _writable(conn, p, "rosters", roster_id)
    paging_store.delete_roster(conn, roster_id=roster_id)


# --- policies ---------------------------------------------------------------------------------


@router.get("/notify/policies", response_model=PageOut[PolicyOut], summary="escalation policies")
def list_policies(conn: DbConn, p: OperatorPrincipal, page: Paging) -> dict[str, Any]:
    return _page(conn, "policies", p.park_id, page)


@router.put(
    "/notify/policies",
    response_model=PolicyOut,
    responses={400: {}, 403: {}, 409: {}, 422: {}},
    summary="create or replace by name",
)
def save_policy(body: PolicyIn, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    _own(p, body.park_id, "policy")
    with _definition_checked():
        policy = policy_from_dict(0, body.name, body.matchers, body.definition)
    if p.park_id is not None:
        code = conn.execute("SELECT code FROM parks WHERE park_id = %s", (p.park_id,)).fetchone()
        if code is None or f"park={code['code']}" not in [str(m) for m in policy.matchers]:
            raise Forbidden("an operator's policy needs the matcher 'park=<its park code>'")
    return _saved_by_name(
        conn,
        p,
        "policies",
        body.name,
        lambda: paging_store.save_policy(
            conn,
            name=body.name,
            park_id=body.park_id,
            matchers=[str(m) for m in policy.matchers],
            definition=body.definition,
            enabled=body.enabled,
        ),
        lambda: _names_own(
            conn,
            body.park_id,
            paging_names.of_levels("definition.levels.{i}.{kind}", policy.levels),
        ),
    )


@router.delete("/notify/policies/{policy_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
def delete_policy(policy_id: Id, conn: DbConn, p: OperatorPrincipal) -> None:
    _writable(conn, p, "policies", policy_id)
    paging_store.delete_policy(conn, policy_id=policy_id)


# --- the log ------------------------------------------------------------------------------------


@router.get(
    "/alarms/{alert_id}/notifications",
    response_model=NotificationLogOut,
    responses={404: {}},
    summary="every delivery attempt of the alarm (channel, target masked, result, latency) and its escalations",
)
def notification_log(alert_id: BigId, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    found(alarm_q.get_alarm(conn, p, alert_id=alert_id), f"no alarm {alert_id}")
    attempts = [
        {**a, "target": mask_targets(a["target"]), "error": mask_error(a["error"], a["target"])}
        for a in q.notification_log(conn, alert_id=alert_id, limit=LOG_LIMIT)
    ]
    return {"alert_id": alert_id, "attempts": attempts, "escalations": q.escalations(conn, alert_id=alert_id)}
