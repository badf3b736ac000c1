"""FastAPI dependencies as ``Annotated`` aliases: ``DbConn``, ``CurrentPrincipal``, ``Paging``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import psycopg
from fastapi import Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.answers import AnswerCache
from api.auth import AuthError, Principal, looks_like_token, verify_token
from api.problems import Forbidden, Unauthorized
from api.queries.users import authenticate_key
from smartpark.settings import ApiSettings

API_KEY_HEADER = "X-API-Key"
T = TypeVar("T")

_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/token, or an API key")
_api_key = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="an API key (spk_…)")


def _conn(request: Request) -> Iterator[psycopg.Connection[Any]]:
    # Autocommit (see api.db): writes of several statements take conn.transaction() themselves.
    with request.app.state.pool.connection() as conn:
        yield conn


DbConn = Annotated[psycopg.Connection[Any], Depends(_conn)]


class DbRunner:
    """Runs ``fn(conn, ...)`` in one worker thread with a pooled connection.

    Hot routes are ``async`` and use this: one thread hop per request instead of one for the
    connection dependency's entry, one for the route and one for the dependency's exit.
    """

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return await run_in_threadpool(self._run, fn, args, kwargs)

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        with self._pool.connection() as conn:
            return fn(conn, *args, **kwargs)


async def _runner(request: Request) -> DbRunner:
    return DbRunner(request.app.state.pool)


DbRun = Annotated[DbRunner, Depends(_runner)]


async def _answers(request: Request) -> AnswerCache:
    return request.app.state.answers


Answers = Annotated[AnswerCache, Depends(_answers)]


async def _limits(request: Request) -> ApiSettings:
    return request.app.state.limits


Limits = Annotated[ApiSettings, Depends(_limits)]


async def _clock(request: Request) -> Callable[[], float]:
    return getattr(request.app.state, "clock", time.time)


Clock = Annotated[Callable[[], float], Depends(_clock)]


def resolve_credential(
    credential: str, *, secret: bytes, conn_factory: Callable[[], Any], clock: Callable[[], float]
) -> Principal:
    """A token is checked by its signature alone; a key needs one lookup."""
    if looks_like_token(credential):
        return verify_token(credential, secret=secret, clock=clock)
    with conn_factory() as conn:
        return authenticate_key(conn, key=credential)


async def _principal(
    request: Request,
    clock: Clock,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    # async: a token is verified on the event loop (no thread hop); a key lookup goes to a thread.
    credential = api_key or (bearer.credentials if bearer else None)
    if not credential:
        raise Unauthorized(f"send 'Authorization: Bearer <token or key>' or '{API_KEY_HEADER}: <key>'")
    state = request.app.state
    try:
        if looks_like_token(credential):
            return verify_token(credential, secret=state.token_secret, clock=clock)
        return await run_in_threadpool(
            resolve_credential,
            credential,
            secret=state.token_secret,
            conn_factory=state.pool.connection,
            clock=clock,
        )
    except AuthError as exc:
        raise Unauthorized(str(exc)) from exc


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


async def _operator(p: CurrentPrincipal) -> Principal:
    if not p.can_operate:
        raise Forbidden(f"role {p.role.value!r} may not change this; an operator or admin may")
    return p


async def _admin(p: CurrentPrincipal) -> Principal:
    if not p.can_write_registry:
        raise Forbidden(f"role {p.role.value!r} may not change this; an admin may")
    return p


OperatorPrincipal = Annotated[Principal, Depends(_operator)]
AdminPrincipal = Annotated[Principal, Depends(_admin)]


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


async def _paging(
    limits: Limits,
    limit: Annotated[int | None, Query(ge=1, description="page size (capped by the server)")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page:
    size = limits.page_size if limit is None else limit
    if size > limits.max_page_size:
        from api.problems import BadRequest

        raise BadRequest(f"limit {size} exceeds the maximum page size {limits.max_page_size}")
    return Page(limit=size, offset=offset)


Paging = Annotated[Page, Depends(_paging)]


INT4_MAX = 2**31 - 1
Id = Annotated[int, PathParam(ge=1, le=INT4_MAX)]
OptId = Annotated[int | None, Query(ge=1, le=INT4_MAX)]
BigId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]  # bigserial keys (alarms)
