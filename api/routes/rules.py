"""Alert rules, silences and receivers: read by everyone in scope, written by operators and admins.

An operator writes only what is confined to its own park: rules whose scope names exactly its
park, silences with a ``park=<its code>`` matcher, receivers of its park.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

import psycopg
from fastapi import APIRouter, Body, Path, Request, status

from alerting import channels, routing_store, rule_store, store_sql
from alerting.routing import parse_matchers
from alerting.rules import Rule, RuleError, ScopeTooLarge, rule_from_dict, rule_to_dict
from api.auth import Principal, Role
from api.deps import Clock, CurrentPrincipal, DbConn, Id, OperatorPrincipal, Paging
from api.problems import BadRequest, Conflict, Forbidden, NotFound, Unprocessable, found
from api.queries import rules as q
from api.schemas.common import PageOut, paged
from api.schemas.rules import (
    NewReceiverOut,
    ReceiverIn,
    ReceiverOut,
    ReceiverPatch,
    RuleOut,
    SilenceIn,
    SilenceOut,
)
from smartpark.webhook_targets import TargetRefused

router = APIRouter(tags=["rules"])
RuleId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_.-]{0,99}$")]
RuleBody = Annotated[
    dict[str, Any],
    Body(
        description=("a rule in the rule-file shape (id, metric, condition, severity, category, scope…)"),
        examples=[
            {
                "id": "lel-demo",
                "metric": "safety.lel_pct",
                "condition": {"op": ">=", "threshold": 25},
                "severity": "major",
                "category": "safety",
                "scope": {"parks": ["demo"]},
            }
        ],
    ),
]


def _own_park(conn: DbConn, p: Principal) -> str | None:
    return None if p.park_id is None else q.park_code(conn, park_id=p.park_id)


def _validated(conn: DbConn, p: Principal, raw: dict[str, Any]) -> Rule:
    try:
        rule = rule_from_dict(raw, "rule")
    except ScopeTooLarge as exc:  # the limits of alerting.scope, documented in the API README
        raise Unprocessable(str(exc)) from exc
    except RuleError as exc:
        raise BadRequest(str(exc)) from exc
    park = _own_park(conn, p)
    if park is not None and rule_to_dict(rule)["scope"].get("parks") != [park]:
        raise Forbidden(f"an operator's rule must have scope.parks exactly [{park!r}]")
    return rule


# --- rules ------------------------------------------------------------------------------------


@router.get("/rules", response_model=PageOut[RuleOut], summary="alert rules that apply to the caller's park")
def list_rules(conn: DbConn, p: CurrentPrincipal, page: Paging) -> dict[str, Any]:
    rows = q.list_rules(
        conn,
        park=_own_park(conn, p),
        categories=p.category_list,
        limit=page.limit,
        offset=page.offset,
    )
    return paged(rows, page.limit, page.offset)


@router.get("/rules/{rule_id}", response_model=RuleOut, responses={404: {}})
def get_rule(rule_id: RuleId, conn: DbConn, p: CurrentPrincipal) -> dict[str, Any]:
    row = q.get_rule(conn, rule_id=rule_id, park=_own_park(conn, p), categories=p.category_list)
    return found(row, f"no rule {rule_id!r}")


@router.post(
    "/rules",
    response_model=RuleOut,
    status_code=status.HTTP_201_CREATED,
    responses={400: {}, 403: {}, 409: {}, 422: {}},
)
def create_rule(body: RuleBody, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    rule = _validated(conn, p, body)
    if not rule_store.create_rule(conn, rule=rule, by=p.name):
        raise Conflict(f"rule {rule.id!r} exists")
    return get_rule(rule.id, conn, p)


def _authority_over(conn: DbConn, p: Principal, row: dict[str, Any], doing: str) -> None:
    """An operator changes or deletes only a rule whose current scope is exactly its park: a rule
    of every park (no ``scope.parks``) or naming another park is an admin's, even if visible."""
    park = _own_park(conn, p)
    if park is not None and row["definition"].get("scope", {}).get("parks") != [park]:
        raise Forbidden(f"rule {row['rule_id']!r} applies beyond park {park!r}; an admin may {doing} it")


@router.put("/rules/{rule_id}", response_model=RuleOut, responses={400: {}, 403: {}, 404: {}, 422: {}})
def replace_rule(rule_id: RuleId, body: RuleBody, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    # authority over the rule as it is (its old scope) and as it will be (_validated: the new one)
    _authority_over(conn, p, get_rule(rule_id, conn, p), "change")
    rule_store.replace_rule(conn, rule=_validated(conn, p, {**body, "id": rule_id}), by=p.name)
    return get_rule(rule_id, conn, p)


@router.delete("/rules/{rule_id}", status_code=status.HTTP_204_NO_CONTENT, responses={403: {}, 404: {}})
def delete_rule(rule_id: RuleId, conn: DbConn, p: OperatorPrincipal) -> None:
    _authority_over(conn, p, get_rule(rule_id, conn, p), "delete")
    rule_store.delete_rule(conn, rule_id=rule_id)


# --- silences ---------------------------------------------------------------------------------


@router.get("/silences", response_model=PageOut[SilenceOut])
def list_silences(
    conn: DbConn, p: CurrentPrincipal, page: Paging, clock: Clock, active: bool = False
) -> dict[str, Any]:
    at = datetime.fromtimestamp(clock(), UTC) if active else None
    # an enterprise user reads the silences naming its enterprise, a regulator those that can
    # touch its categories: not every silence of the park and its comment
    ent = None if p.enterprise_id is None else q.enterprise_code(conn, enterprise_id=p.enterprise_id)
    rows = q.list_silences(
        conn,
        park=_own_park(conn, p),
        active_at=at,
        limit=page.limit,
        offset=page.offset,
        enterprise=ent,
        categories=p.category_list if p.role is Role.REGULATOR else None,
    )
    return paged(rows, page.limit, page.offset)


@router.post(
    "/silences",
    response_model=SilenceOut,
    status_code=status.HTTP_201_CREATED,
    responses={400: {}, 403: {}},
)
def create_silence(body: SilenceIn, conn: DbConn, p: OperatorPrincipal, clock: Clock) -> dict[str, Any]:
    try:
        matchers = [str(m) for m in parse_matchers(body.matchers)]
    except RuleError as exc:
        raise BadRequest(str(exc)) from exc
    park = _own_park(conn, p)
    if park is not None and f"park={park}" not in matchers:
        raise Forbidden(f"an operator's silence needs the matcher 'park={park}'")
    starts = body.starts_at or datetime.fromtimestamp(clock(), UTC)
    # compared in the ms the silence is stored in, so that what passes here passes the table's CHECK
    if store_sql.ms(body.ends_at) <= store_sql.ms(starts):
        raise BadRequest(f"ends_at {body.ends_at.isoformat()} is not after starts_at {starts.isoformat()}")
    sid = routing_store.create_silence(
        conn,
        matchers=matchers,
        starts_ms=store_sql.ms(starts),
        ends_ms=store_sql.ms(body.ends_at),
        by=p.name,
        comment=body.comment,
    )
    row = q.get_silence(conn, silence_id=sid, park=None)
    assert row is not None
    return row


@router.delete(
    "/silences/{silence_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {}},
    summary="end a silence now (kept for the record)",
)
def expire_silence(silence_id: Id, conn: DbConn, p: OperatorPrincipal, clock: Clock) -> None:
    if q.get_silence(conn, silence_id=silence_id, park=_own_park(conn, p)) is None:
        raise NotFound(f"no silence {silence_id}")
    routing_store.expire_silence(conn, silence_id=silence_id, by=p.name, at_ms=round(clock() * 1000))


# --- receivers --------------------------------------------------------------------------------


def _allowed_target(request: Request, url: str | None) -> None:
    """A webhook's host, every address it resolves to, must be public or in an allowed network
    (smartpark.webhook_targets; delivery checks again when it connects)."""
    if url is None:
        return
    try:
        request.app.state.webhook_targets.check_url(url)
    except TargetRefused as exc:
        raise BadRequest(str(exc)) from exc


def _allowed_smtp_host(request: Request, channel: str, config: dict[str, Any]) -> None:
    """An email receiver's SMTP host, the same rule as a URL's (delivery checks again when it
    connects, on the address it connects to)."""
    if channel != "email":
        return
    try:
        request.app.state.webhook_targets.addresses(str(config["host"]), channels.smtp_port(config))
    except TargetRefused as exc:
        raise BadRequest(str(exc)) from exc


def _check_channel(
    p: Principal, name: str, channel: str, url: str | None, config: dict[str, Any], named: dict[str, str]
) -> None:
    if config.get("ca_file") and not p.can_write_registry:
        # a path the alerting service reads: an admin's choice, not an operator's
        raise Forbidden("only an admin may name a ca_file")
    if channel in ("webhook", "mqtt") and (config or named):
        raise BadRequest(f"a {channel} receiver takes no config or secrets (its HMAC key is `secret`)")
    try:
        channels.check(name, channel, url, config, named)
    except RuleError as exc:
        raise BadRequest(str(exc)) from exc


@router.get("/receivers", response_model=PageOut[ReceiverOut], summary="notification receivers (operators)")
def list_receivers(conn: DbConn, p: OperatorPrincipal, page: Paging) -> dict[str, Any]:
    rows = q.list_receivers(conn, park_id=p.park_id, limit=page.limit, offset=page.offset)
    return paged(rows, page.limit, page.offset)


@router.get("/receivers/{receiver_id}", response_model=ReceiverOut, responses={404: {}})
def get_receiver(receiver_id: Id, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    row = q.get_receiver(conn, receiver_id=receiver_id, park_id=p.park_id)
    return found(row, f"no receiver {receiver_id}")


@router.post(
    "/receivers",
    response_model=NewReceiverOut,
    status_code=status.HTTP_201_CREATED,
    responses={400: {}, 403: {}, 409: {}},
    summary="add a receiver; a webhook's target must be public or in an allowed network, and a"
    " webhook without a secret gets one, shown once as generated_secret",
)
def create_receiver(body: ReceiverIn, request: Request, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    if p.park_id is not None and body.park_id != p.park_id:
        raise Forbidden(f"an operator's receiver needs park_id {p.park_id}")
    if body.channel == "webhook" and not body.url:
        raise BadRequest("a webhook receiver needs a url")
    _check_channel(p, body.name, body.channel, body.url, body.config, body.secrets)
    _allowed_target(request, body.url)
    _allowed_smtp_host(request, body.channel, body.config)
    values = body.model_dump()
    # every notification is signed: without a secret of its own, a webhook gets one, shown once
    generated = secrets.token_urlsafe(32) if body.channel == "webhook" and not body.secret else None
    values["secret"] = body.secret or generated
    try:
        with conn.transaction():
            rid = routing_store.create_receiver(conn, **values)
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(f"receiver {body.name!r} exists") from exc
    except psycopg.errors.ForeignKeyViolation as exc:
        raise BadRequest(f"unknown park_id {body.park_id}") from exc
    return {**get_receiver(rid, conn, p), "generated_secret": generated}


@router.patch("/receivers/{receiver_id}", response_model=ReceiverOut, responses={404: {}})
def update_receiver(
    receiver_id: Id, body: ReceiverPatch, request: Request, conn: DbConn, p: OperatorPrincipal
) -> dict[str, Any]:
    get_receiver(receiver_id, conn, p)
    if "secret" in body.model_fields_set and body.secret is None:
        raise BadRequest("a receiver's secret is replaced, never removed: notifications are always signed")
    _allowed_target(request, body.url)
    row = get_receiver(receiver_id, conn, p)
    named = body.secrets if body.secrets is not None else dict.fromkeys(row["secret_names"], "stored")
    config = body.config if body.config is not None else row["config"]
    url = body.url if "url" in body.model_fields_set else row["url"]
    _check_channel(p, row["name"], row["channel"], url, config, named)
    _allowed_smtp_host(request, row["channel"], config)
    try:
        with conn.transaction():
            routing_store.update_receiver(conn, receiver_id=receiver_id, changes=body.model_dump(exclude_unset=True))
    except psycopg.errors.CheckViolation as exc:
        raise BadRequest(f"receiver {receiver_id}: {str(exc).splitlines()[0]}") from exc
    return get_receiver(receiver_id, conn, p)


@router.delete("/receivers/{receiver_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
def delete_receiver(receiver_id: Id, conn: DbConn, p: OperatorPrincipal) -> None:
    get_receiver(receiver_id, conn, p)
    routing_store.delete_receiver(conn, receiver_id=receiver_id)
