"""Report packs: listed, downloaded as XLSX or PDF, generated on demand by operators; and the
economic reports' XLSX template and its import, with every bad cell named."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field

from aggregation import economic
from api.auth import Principal, Role
from api.deps import Clock, CurrentPrincipal, DbConn, Id, OptId, Paging
from api.problems import BadRequest, Forbidden, NotFound, Unprocessable, found
from api.queries import reports as q
from api.queries.registry import get_enterprise, get_park
from api.schemas.common import In, Out, PageOut, paged
from reports import economic_xlsx, render_pdf, render_xlsx, sources, store
from reports import job as report_job
from reports import packs as report_packs

router = APIRouter(tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA = {"xlsx": XLSX, "pdf": "application/pdf"}


class ReportOut(Out):
    report_id: int
    kind: Literal["daily", "monthly"]
    park_id: int
    enterprise_id: int | None = Field(description="null: the park's own report")
    period: date = Field(description="the day, or the month's first day")
    title: str
    created_at: datetime
    created_by: str
    emailed_at: datetime | None
    email_error: str | None = Field(description="why the pack was not mailed (no receiver, SMTP error)")
    xlsx_bytes: int
    pdf_bytes: int


class ReportIn(In):
    kind: Literal["daily", "monthly"]
    period: date = Field(ge=date(2000, 1, 1), description="the day (daily) or any day of the month (monthly)")
    park_id: int = Field(ge=1, le=2**31 - 1)
    enterprise_id: int | None = Field(None, ge=1, le=2**31 - 1, description="omit for the park's report")


def _attachment(content: bytes, filename: str, fmt: str) -> Response:
    return Response(
        content,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


@router.get("/reports", response_model=PageOut[ReportOut], summary="stored report packs, newest period first")
def list_reports(
    conn: DbConn,
    p: CurrentPrincipal,
    page: Paging,
    park_id: OptId = None,
    enterprise_id: OptId = None,
    kind: Literal["daily", "monthly"] | None = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    rows = q.list_reports(
        conn,
        p,
        park_id=park_id,
        enterprise_id=enterprise_id,
        kind=kind,
        start=start,
        end=end,
        limit=page.limit,
        offset=page.offset,
    )
    return paged(rows, page.limit, page.offset)


def _subject(conn: DbConn, p: Principal, park_id: int, enterprise_id: int | None) -> sources.Subject:
    park = found(get_park(conn, p, park_id=park_id), f"no park {park_id}")
    ent = None
    if enterprise_id is not None:
        ent = get_enterprise(conn, p, enterprise_id=enterprise_id)
        if ent is None or ent["park_id"] != park_id:
            raise NotFound(f"no enterprise {enterprise_id} in park {park_id}")
    return sources.Subject(park, ent)


@router.get(
    "/reports/{report_id}/file",
    responses={404: {}},
    summary="one pack as XLSX or PDF",
    description="A regulator's copy is made at the request from the same figures with the"
    " regulator's own scope (its bureau's categories, no economic figures), not the stored one.",
)
def report_file(
    report_id: Id, conn: DbConn, p: CurrentPrincipal, request: Request, format: Literal["xlsx", "pdf"] = "pdf"
) -> Response:
    row = found(q.get_report(conn, p, report_id=report_id), f"no report {report_id}")
    filename = f"{row['title']}.{format}"
    if p.role is Role.REGULATOR:
        subject = _subject(conn, p, row["park_id"], row["enterprise_id"])
        subject = sources.Subject(subject.park, subject.enterprise, viewer=p)
        make = report_packs.daily if row["kind"] == "daily" else report_packs.monthly
        interval = request.app.state.settings.aggregation.default_interval_s
        report = make(conn, subject, row["period"], default_interval_s=interval)
        body = render_xlsx.render(report) if format == "xlsx" else render_pdf.render(report)
        return _attachment(body, filename, format)
    files = store.files(conn, report_id=report_id)
    assert files is not None
    return _attachment(files[0] if format == "xlsx" else files[1], filename, format)


@router.post(
    "/reports",
    status_code=201,
    response_model=ReportOut,
    responses={403: {}, 404: {}, 422: {}},
    summary="generate (or regenerate) one pack now (operators of the park, admins)",
)
def generate_report(body: ReportIn, conn: DbConn, p: CurrentPrincipal, request: Request, clock: Clock) -> Any:
    if not p.can_operate:
        raise Forbidden(f"role {p.role.value!r} may not generate reports; an operator or admin may")
    subject = _subject(conn, p, body.park_id, body.enterprise_id)
    period = body.period if body.kind == "daily" else body.period.replace(day=1)
    today = datetime.fromtimestamp(clock(), UTC).date() + timedelta(days=1)  # the latest zone's today
    if period > today:
        raise Unprocessable(f"period {period} is in the future")
    interval = request.app.state.settings.aggregation.default_interval_s
    with conn.transaction():
        pack = report_job.generate(
            conn, subject, kind=body.kind, period=period, created_by=f"api:{p.name}", default_interval_s=interval
        )
    return q.get_report(conn, p, report_id=pack.report_id)


# --- economic reports as XLSX -------------------------------------------------------------------


@router.get(
    "/economic-reports/template",
    responses={403: {}},
    summary="the XLSX template of economic monthly reports, one row per enterprise the caller may report for",
)
def economic_template(
    conn: DbConn, p: CurrentPrincipal, month: Annotated[date | None, Query(description="prefilled month")] = None
) -> Response:
    if not (p.can_operate or p.role is Role.ENTERPRISE):
        raise Forbidden(f"role {p.role.value!r} may not submit economic reports")
    rows = economic_xlsx.reportable_enterprises(conn, park_id=p.park_id, enterprise_id=p.enterprise_id)
    body = economic_xlsx.template(rows, month=month)
    return _attachment(body, "经济运行月报模板.xlsx", "xlsx")


@router.post(
    "/economic-reports/import.xlsx",
    responses={400: {}, 403: {}, 413: {}, 422: {}},
    response_model=dict[str, int],
    summary="import a filled template (XLSX body); every bad cell is named, nothing is taken until all are good",
    openapi_extra={"requestBody": {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def import_economic_xlsx(request: Request, p: CurrentPrincipal, clock: Clock) -> dict[str, int]:
    if not (p.can_operate or p.role is Role.ENTERPRISE):
        raise Forbidden(f"role {p.role.value!r} may not submit economic reports")
    data = await request.body()
    if not data:
        raise BadRequest("send the filled template as the request body")
    today = (datetime.fromtimestamp(clock(), UTC) + timedelta(hours=14)).date()
    from fastapi.concurrency import run_in_threadpool

    def store_all() -> int:
        with request.app.state.pool.connection() as conn:
            allowed = economic_xlsx.reportable_enterprises(conn, park_id=p.park_id, enterprise_id=p.enterprise_id)
            try:
                months = economic_xlsx.parse(data, today=today, enterprises=allowed)
            except economic_xlsx.CellErrors as exc:
                raise Unprocessable(str(exc), errors=[e.as_dict() for e in exc.errors]) from exc
            with conn.transaction():
                economic.save_months(conn, months=months, source=f"xlsx:{p.name}")
            return len(months)

    return {"imported": await run_in_threadpool(store_all)}
