"""The park's side of the regional level: queue a closed period's package, see what the region took.

Operators and admins of a park only (the submission speaks for the park). The package is built
from the park's statistics, signed with the key in ``SMARTPARK_REGION_KEY_FILE`` and delivered by
the scheduler's outbox job until the region acknowledges it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from api.auth import Role
from api.deps import Clock, CurrentPrincipal, DbConn, OperatorPrincipal
from api.problems import Conflict, Forbidden, NotFound, Unprocessable
from api.queries.registry import get_park
from api.schemas.region import MyResultOut, OutboxIn, OutboxOut
from region import my_result, outbox
from region.delivery import submit
from region.package import PackageError, load_key_file
from region.park_package import NoStatistics

router = APIRouter(tags=["region"])


@router.get("/region/outbox", response_model=list[OutboxOut], responses={401: {}, 403: {}})
def list_outbox(conn: DbConn, p: OperatorPrincipal) -> list[dict[str, Any]]:
    """The packages queued for the region, newest first (an operator: its park's)."""
    codes = None
    if p.park_id is not None:
        park = get_park(conn, p, park_id=p.park_id)
        codes = [park["code"]] if park else []
    return outbox.entries(conn, park_codes=codes)


@router.post(
    "/region/outbox",
    response_model=OutboxOut,
    status_code=202,
    responses={401: {}, 403: {}, 404: {}, 409: {}, 422: {}},
    summary="queue the park's Article 21 package of an ended month or year (a new revision if changed)",
)
def queue_package(body: OutboxIn, conn: DbConn, p: OperatorPrincipal, clock: Clock, request: Request) -> dict[str, Any]:
    park = get_park(conn, p, park_id=body.park_id)
    if park is None:
        raise NotFound(f"no park {body.park_id}")
    key_file = request.app.state.settings.region.key_file
    if key_file is None:
        raise Conflict("this instance has no SMARTPARK_REGION_KEY_FILE: it cannot sign packages")
    try:
        row, new = submit(conn, park_code=park["code"], period=body.period, key=load_key_file(key_file), clock=clock)
    except PackageError as exc:
        raise Unprocessable(str(exc), field=exc.field) from exc
    except NoStatistics as exc:
        raise Unprocessable(str(exc), field="period") from exc
    return {**row, "new": new}


PARK_PEOPLE = frozenset({Role.ADMIN, Role.OPERATOR, Role.READONLY})


@router.get(
    "/region/my-result",
    response_model=list[MyResultOut],
    responses={401: {}, 403: {}, 404: {}},
    summary="the park's own results as the region published them, newest year first",
    description="Fetched by the outbox job once the region acknowledged the park's annual package and"
    " published the year. The park's admins, operators and read-only users.",
)
def my_results(
    conn: DbConn,
    p: CurrentPrincipal,
    park_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> list[dict[str, Any]]:
    if p.role not in PARK_PEOPLE:
        raise Forbidden(f"role {p.role.value!r} may not read the park's regional result")
    park = get_park(conn, p, park_id=park_id)
    if park is None:
        raise NotFound(f"no park {park_id}")
    return my_result.stored(conn, park_code=park["code"], year=year)
