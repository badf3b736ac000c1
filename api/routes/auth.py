"""Token exchange, the caller's identity, and user/key administration (admins)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
from fastapi import APIRouter, Request, status

from api.auth import AuthError, Principal, Role, sign_token
from api.deps import AdminPrincipal, Clock, CurrentPrincipal, DbConn, Limits, OptId, Paging
from api.problems import BadRequest, Conflict, NotFound, Unauthorized
from api.queries import users as q
from api.schemas.auth import KeyIn, KeyOut, NewKeyOut, PrincipalOut, TokenOut, UserIn, UserOut
from api.schemas.common import PageOut, paged

router = APIRouter(tags=["auth"])


def principal_out(p: Principal) -> PrincipalOut:
    return PrincipalOut(
        user_id=p.user_id,
        name=p.name,
        role=p.role,
        park_id=p.park_id,
        enterprise_id=p.enterprise_id,
        bureaus=list(p.bureaus),
        categories=p.category_list,
    )


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="exchange an API key (X-API-Key or Bearer) for a short-lived signed token",
    description="Only a key is exchanged (a token is refused with 401); the token expires at the"
    " latest with its key, and stops working as soon as its key is revoked or its user disabled.",
)
def token(request: Request, conn: DbConn, p: CurrentPrincipal, limits: Limits, clock: Clock) -> TokenOut:
    # A token renewing itself would outlive its key: only a key is exchanged.
    if request.state.credential_is_token:
        raise Unauthorized("a token cannot be exchanged for another; send the API key")
    try:
        key_expires = q.key_standing(conn, key_id=p.key_id) if p.key_id is not None else None
    except AuthError as exc:
        raise Unauthorized(str(exc)) from exc
    value, exp = sign_token(
        p,
        secret=request.app.state.token_secret,
        ttl_s=limits.token_ttl_s,
        clock=clock,
        not_after=None if key_expires is None else key_expires.timestamp(),
    )
    return TokenOut(access_token=value, expires_at=exp)


@router.get("/auth/me", response_model=PrincipalOut, summary="who the credentials belong to")
def me(p: CurrentPrincipal) -> PrincipalOut:
    return principal_out(p)


def _user_out(row: dict[str, Any]) -> UserOut:
    return UserOut(
        user_id=row["user_id"],
        name=row["name"],
        role=Role(row["role"]),
        park_id=row["park_id"],
        enterprise_id=row["enterprise_id"],
        bureaus=row["categories"] or [],
        created_at=row["created_at"],
        disabled_at=row["disabled_at"],
    )


@router.get("/users", response_model=PageOut[UserOut], summary="users (admins)")
def list_users(conn: DbConn, p: AdminPrincipal, page: Paging) -> dict[str, Any]:
    rows = q.list_users(conn, limit=page.limit + 1, offset=page.offset)
    return paged([_user_out(r) for r in rows], page.limit, page.offset)


@router.post(
    "/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    summary="create a user (admins)",
)
def create_user(body: UserIn, conn: DbConn, p: AdminPrincipal) -> UserOut:
    try:
        with conn.transaction():
            row = q.create_user(
                conn,
                name=body.name,
                role=body.role,
                park_id=body.park_id,
                enterprise_id=body.enterprise_id,
                bureaus=body.bureaus,
            )
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(f"user {body.name!r} exists") from exc
    except psycopg.errors.CheckViolation as exc:
        raise BadRequest(
            f"role {body.role.value!r} needs its scope: operator and regulator a"
            " park_id (regulator also bureaus), enterprise an enterprise_id"
        ) from exc
    except psycopg.errors.ForeignKeyViolation as exc:
        raise BadRequest(f"unknown park_id {body.park_id} or enterprise_id {body.enterprise_id}") from exc
    return _user_out(row)


@router.post(
    "/users/{user_id}/keys",
    response_model=NewKeyOut,
    status_code=status.HTTP_201_CREATED,
    summary="issue an API key (admins)",
)
def create_key(user_id: int, body: KeyIn, conn: DbConn, p: AdminPrincipal) -> NewKeyOut:
    if user_id > 2**31 - 1 or q.get_user(conn, user_id=user_id) is None:
        raise NotFound(f"no user {user_id}")
    made, key_id = q.create_key(conn, user_id=user_id, label=body.label, expires_at=body.expires_at)
    return NewKeyOut(key_id=key_id, user_id=user_id, prefix=made.prefix, key=made.key)


@router.get("/keys", response_model=list[KeyOut], summary="API keys, never their secrets (admins)")
def list_keys(conn: DbConn, p: AdminPrincipal, user_id: OptId = None) -> list[KeyOut]:
    return [KeyOut.model_validate(r) for r in q.list_keys(conn, user_id=user_id)]


@router.delete("/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="revoke an API key (admins)")
def revoke_key(key_id: int, conn: DbConn, p: AdminPrincipal, clock: Clock) -> None:
    if key_id > 2**31 - 1 or not q.revoke_key(conn, key_id=key_id, at=datetime.fromtimestamp(clock(), UTC)):
        raise NotFound(f"no active key {key_id}")
