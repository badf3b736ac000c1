"""The region's side of the regional level (Articles 21, 22): parks' signed packages in, results out.

A submission needs no API key: the Ed25519 signature of a registered park is its credential
(refusals: 403 unknown key, bad signature or another park's package, 409 a replay or a changed
package under a stored revision, 422 unreadable). Results and submissions: a region admin sees
every park, a league/city user (role readonly with a region scope of one league) its parks, a
park's user (role readonly scoped to one park at the region) its own; nobody else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from api.auth import Principal, Role
from api.deps import AdminPrincipal, Clock, CurrentPrincipal, DbConn
from api.problems import Conflict, Forbidden, NotFound, Problem, Unprocessable
from api.routes.exports import MEDIA as EXPORT_MEDIA
from api.schemas.region import (
    PERIOD_RE,
    EnvelopeIn,
    PublicationOut,
    PublishIn,
    ReceiptOut,
    RegionResultOut,
    SubmissionOut,
)
from region import intake, league_mail, published, result_report, store
from region.results import MAX_YEARS, results

router = APIRouter(tags=["region"])

# 403, not 401: the signature is the credential, no HTTP authentication scheme would help
REFUSALS: dict[int, type[Problem]] = {403: Forbidden, 409: Conflict, 422: Unprocessable}
REFUSED: dict[int | str, dict[str, Any]] = {status: {} for status in REFUSALS}


@router.post(
    "/region/submissions",
    response_model=ReceiptOut,
    status_code=201,
    responses={200: {"description": "this exact package was stored before (a retry)"}, **REFUSED},
    summary="a park submits its signed Article 21 package (monthly or annual); every revision is kept",
    openapi_extra={"security": []},
)
def submit(body: EnvelopeIn, conn: DbConn, clock: Clock) -> Any:
    got = intake.receive(conn, body.model_dump(), clock=clock)
    if not got.acknowledged:
        extra = {"field": got.field} if got.field else {}
        raise REFUSALS.get(got.status, Unprocessable)(got.reason, **extra)
    receipt = ReceiptOut(
        status="already stored" if got.status == 200 else "stored",
        park=got.park or "",
        period=got.period or "",
        revision=got.revision or 0,
    )
    return JSONResponse(receipt.model_dump(), status_code=got.status)


@dataclass(frozen=True, slots=True)
class Scope:
    league: str | None = None  # None with park None: every park
    park: str | None = None


def region_scope(conn: DbConn, p: Principal) -> Scope:
    if p.role is Role.ADMIN:
        return Scope()
    if p.role is Role.READONLY and p.park_id is None:
        granted = store.viewer_scope(conn, user_id=p.user_id)
        if granted is not None:
            return Scope(*granted)
    raise Forbidden(
        f"role {p.role.value!r} has no region scope: the region's admin, a league/city's or a park's"
        " readonly user granted with `smartpark region grant` may read region results"
    )


Year = Annotated[int, Query(ge=2000, le=2100)]


@router.get(
    "/region/results",
    response_model=list[RegionResultOut],
    responses={401: {}, 403: {}},
    summary="Article 12 class and Article 22 ranking of the region's parks, with the trend and missing packages",
    description="Ranked among every registered park from the latest revision of each annual package;"
    " the caller sees its scope's parks (admin all, a league/city its parks, a park its own).",
)
def region_results(
    conn: DbConn,
    p: CurrentPrincipal,
    clock: Clock,
    year: Year,
    years: Annotated[int, Query(ge=1, le=MAX_YEARS)] = 5,
) -> list[dict[str, Any]]:
    scope = region_scope(conn, p)
    today = datetime.fromtimestamp(clock(), UTC).date()
    return results(conn, year=year, years=years, today=today, league=scope.league, park_code=scope.park)


@router.get(
    "/region/results/export",
    response_class=Response,
    responses={200: {"content": {m: {} for m in EXPORT_MEDIA.values()}}, 401: {}, 403: {}, 422: {}},
    summary="the region view as a file: every park in the caller's scope, class, figures, rank, flags, trend,"
    " missing packages (XLSX or CSV with Chinese headers)",
)
def region_results_export(
    conn: DbConn,
    p: CurrentPrincipal,
    clock: Clock,
    year: Year,
    years: Annotated[int, Query(ge=1, le=MAX_YEARS)] = 5,
    format: Annotated[Literal["xlsx", "csv"], Query(description="xlsx or csv (UTF-8 with BOM)")] = "xlsx",
) -> Response:
    rows = region_results(conn, p, clock, year, years)
    scope = region_scope(conn, p)
    content = result_report.render(rows, year=year, fmt=format, subtitle=scope.league or scope.park or "")
    filename = quote(f"{year}年度园区综合评价结果.{format}")
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"}
    return Response(content, media_type=EXPORT_MEDIA[format], headers=headers)


@router.get(
    "/region/submissions",
    response_model=list[SubmissionOut],
    responses={401: {}, 403: {}},
    summary="every revision received, newest first per period (at most 10 000)",
)
def region_submissions(
    conn: DbConn,
    p: CurrentPrincipal,
    park: Annotated[str | None, Query(max_length=63)] = None,
    period: Annotated[str | None, Query(pattern=PERIOD_RE)] = None,
) -> list[dict[str, Any]]:
    scope = region_scope(conn, p)
    codes = None
    if scope.park is not None:
        codes = [scope.park]
    elif scope.league is not None:
        codes = [r["park_code"] for r in store.parks(conn) if r["league"] == scope.league]
    if park is not None:
        codes = [park] if codes is None or park in codes else []
    return store.submissions(conn, codes=codes, period=period)


@router.post(
    "/region/published",
    response_model=PublicationOut,
    status_code=201,
    responses={401: {}, 403: {}, 422: {}},
    summary="region admin: rank the year, freeze it as published and mail each league/city its parks",
)
def publish(body: PublishIn, conn: DbConn, p: AdminPrincipal, clock: Clock, request: Request) -> dict[str, Any]:
    today = datetime.fromtimestamp(clock(), UTC).date()
    with conn.transaction():
        made = published.publish(conn, year=body.year, years=body.years, today=today)
    mail = league_mail.send_publication(conn, publication=made, targets=request.app.state.webhook_targets)
    return {**made, "mail": mail}


@router.get(
    "/region/published",
    response_model=PublicationOut,
    responses={401: {}, 403: {}, 404: {}},
    summary="the year's publication in force (frozen when published), cut to the caller's scope",
)
def region_published(conn: DbConn, p: CurrentPrincipal, year: Year) -> dict[str, Any]:
    scope = region_scope(conn, p)
    found = published.latest(conn, year=year)
    if found is None:
        raise NotFound(f"the results of {year} have not been published")
    return published.narrowed(found, league=scope.league, park_code=scope.park)
