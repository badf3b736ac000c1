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
from api.auth import AuthError, Principal, Role, looks_like_token, verify_token
from api.problems import Forbidden, TooManyRequests, Unauthorized
from api.queries.users import authenticate_key, key_standing
from api.standing import StandingCache
from api.throttle import FailureThrottle
from smartpark.settings import ApiSettings
from storage.coldfs import ColdStore

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


async def _cold(request: Request) -> ColdStore | None:
    return request.app.state.cold


ColdTier = Annotated[ColdStore | None, Depends(_cold)]  # the cold tier raw series read, if any


async def _answers(request: Request) -> AnswerCache:
    return request.app.state.answers


Answers = Annotated[AnswerCache, Depends(_answers)]


async def _limits(request: Request) -> ApiSettings:
    return request.app.state.limits


Limits = Annotated[ApiSettings, Depends(_limits)]


async def _clock(request: Request) -> Callable[[], float]:
    return getattr(request.app.state, "clock", time.time)


Clock = Annotated[Callable[[], float], Depends(_clock)]


class Authenticator:
    """Turns a presented credential into a principal, for HTTP requests and the live stream.

    A token is verified by its signature on the event loop, then its key's standing is checked
    (``api.standing``: cached for ``token_check_s``, else one read in a worker thread); a key is
    one lookup in a worker thread, refused with 429 while its source address is throttled
    (``api.throttle``). A token is never a credential for ``POST /auth/token``.
    """

    def __init__(
        self,
        *,
        secret: bytes,
        pool: Any,
        standing: StandingCache,
        throttle: FailureThrottle,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret
        self.pool = pool
        self.standing = standing
        self.throttle = throttle
        self.clock = clock

    async def principal(self, credential: str, source: str) -> Principal:
        """AuthError when the credential does not stand; TooManyRequests while throttled."""
        if looks_like_token(credential):
            p = verify_token(credential, secret=self.secret, clock=self.clock)
            await self._stands(p)
            return p
        wait = self.throttle.retry_after(source)
        if wait is not None:
            raise TooManyRequests(
                f"too many failed API-key authentications from {source}; retry in {wait} s", retry_after_s=wait
            )
        try:
            return await run_in_threadpool(self._key, credential)
        except AuthError:
            self.throttle.failed(source)
            raise

    async def recheck(self, p: Principal, credential: str) -> None:
        """AuthError unless ``p``'s key is still active and its user enabled (and its token, when
        ``credential`` is one, unexpired)."""
        if looks_like_token(credential):
            verify_token(credential, secret=self.secret, clock=self.clock)
        await self._stands(p)

    async def _stands(self, p: Principal) -> None:
        if p.key_id is None:
            raise AuthError("credential names no API key")
        if not self.standing.cached(p.key_id):
            await run_in_threadpool(self.standing.check, p.key_id, self._standing)

    def _key(self, credential: str) -> Principal:
        with self.pool.connection() as conn:
            return authenticate_key(conn, key=credential)

    def _standing(self, key_id: int) -> None:
        with self.pool.connection() as conn:
            key_standing(conn, key_id=key_id)


def source_of(client: Any) -> str:
    """The peer address a failure is counted against."""
    return str(client.host) if client is not None else "unknown"


async def _authenticated(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    credential = api_key or (bearer.credentials if bearer else None)
    if not credential:
        raise Unauthorized(f"send 'Authorization: Bearer <token or key>' or '{API_KEY_HEADER}: <key>'")
    request.state.credential_is_token = looks_like_token(credential)
    try:
        return await request.app.state.auth.principal(credential, source_of(request.client))
    except AuthError as exc:
        raise Unauthorized(str(exc)) from exc


Authenticated = Annotated[Principal, Depends(_authenticated)]


async def _principal(p: Authenticated) -> Principal:
    if p.role is Role.METRICS:
        raise Forbidden("role 'metrics' reads /metrics only")
    return p


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


async def _scraper(p: Authenticated) -> Principal:
    if p.role not in (Role.ADMIN, Role.METRICS):
        raise Forbidden(f"role {p.role.value!r} may not read /metrics; an admin or a 'metrics' user may")
    return p


ScrapePrincipal = Annotated[Principal, Depends(_scraper)]


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
