"""Errors as RFC 9457 problem documents (``application/problem+json``).

Routes raise :class:`Problem` subclasses; the handlers installed by :func:`install` also turn
validation errors and unexpected exceptions into the same shape, so clients parse one format.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
T = TypeVar("T")


class Problem(Exception):
    status = 400
    title = "Bad request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class BadRequest(Problem):
    status = 400
    title = "Bad request"


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class NotFound(Problem):
    """Also what another tenant's object answers: its existence is not disclosed."""

    status = 404
    title = "Not found"


def found(value: T | None, detail: str) -> T:
    """``value`` unless the scoped lookup found nothing: then 404, as for another tenant's object."""
    if value is None:
        raise NotFound(detail)
    return value


class Conflict(Problem):
    status = 409
    title = "Conflict"


class Unprocessable(Problem):
    """A well-formed value the platform cannot take (e.g. a month outside the supported range)."""

    status = 422
    title = "Unprocessable value"


class TooLarge(Problem):
    status = 413
    title = "Request too large"


class TooManyRequests(Problem):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after_s)}


class Unavailable(Problem):
    status = 503
    title = "Service unavailable"


def problem_response(
    status: int,
    title: str,
    detail: str,
    request: Request | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.title, exc.detail, request, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
        return problem_response(422, "Invalid request", detail, request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, _title(exc.status_code), str(exc.detail), request)

    @app.exception_handler(psycopg.errors.QueryCanceled)
    async def _timeout(request: Request, exc: psycopg.errors.QueryCanceled) -> JSONResponse:
        return problem_response(
            503,
            "Query timed out",
            "the query exceeded the statement timeout; narrow the range",
            request,
        )

    @app.exception_handler(psycopg.DataError)
    async def _data(request: Request, exc: psycopg.DataError) -> JSONResponse:
        # e.g. a NUL character or an out-of-range number that passed schema validation
        return problem_response(400, "Invalid value", str(exc).splitlines()[0], request)

    @app.exception_handler(psycopg.IntegrityError)
    async def _integrity(request: Request, exc: psycopg.IntegrityError) -> JSONResponse:
        return problem_response(409, "Conflict", str(exc).splitlines()[0], request)

    @app.exception_handler(psycopg.OperationalError)
    async def _db_down(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return problem_response(503, "Database unavailable", str(exc).splitlines()[0], request)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
