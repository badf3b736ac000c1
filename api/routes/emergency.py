"""Incidents: open from alarms, follow (timeline, plan, readings, nearest resources), act, report.

Reading: operators, read-only users and the emergency bureau of the park, the enterprise of an
incident, admins. Acting (open, move, tick, level, commander, notes): operators of the park and
admins; an enterprise may add notes and photos to its own incidents. Another tenant's incident
answers 404.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import Field

from api.auth import Bureau, Principal, Role
from api.deps import BigId, Clock, CurrentPrincipal, DbConn, Limits, OperatorPrincipal, Paging
from api.problems import Conflict, Forbidden, NotFound, Problem, TooLarge, Unprocessable, found
from api.queries import alarms as alarm_q
from api.queries import emergency as q
from api.schemas.common import In, paged
from emergency import after_action, incidents, nearest, photos
from emergency.incidents import IncidentConflict, IncidentError, Opening
from emergency.states import STATES
from reports import render_pdf, render_xlsx

router = APIRouter(tags=["emergency"])
IncidentState = Literal["reported", "responding", "controlled", "closed"]
Level = Annotated[int, Field(ge=1, le=4, description="1 = I 特别重大 … 4 = IV 一般")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
EVENTS_LIMIT = 500
READINGS_WINDOW = timedelta(hours=6)  # at most this much of the zone's readings in one answer


class UnsupportedMedia(Problem):
    status = 415
    title = "Unsupported media type"


async def _reader(p: CurrentPrincipal) -> Principal:
    if p.role is Role.REGULATOR and Bureau.EMERGENCY not in p.bureaus:
        raise Forbidden("incidents are for the emergency bureau among regulators")
    return p


Reader = Annotated[Principal, Depends(_reader)]


class OpenIn(In):
    alert_ids: Annotated[list[Annotated[int, Field(ge=1, le=2**63 - 1)]], Field(min_length=1, max_length=100)]
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    level: Level | None = None
    commander: Annotated[str, Field(max_length=64)] = ""
    drill: bool = False
    incident_type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = None


class MoveIn(In):
    to: IncidentState
    note: Annotated[str, Field(max_length=2000)] = ""


class UpdateIn(In):
    level: Level | None = None
    commander: Annotated[str, Field(max_length=64)] | None = None


class NoteIn(In):
    kind: Literal["note", "action", "message"] = "note"
    text: Text


class TickIn(In):
    note: Annotated[str, Field(max_length=2000)] = ""


class AlarmsIn(In):
    alert_ids: Annotated[list[Annotated[int, Field(ge=1, le=2**63 - 1)]], Field(min_length=1, max_length=100)]


def _visible(conn: DbConn, p: Principal, incident_id: int) -> dict[str, Any]:
    return found(q.get_incident(conn, p, incident_id=incident_id), f"no incident {incident_id}")


def _detail(conn: DbConn, p: Principal, incident_id: int) -> dict[str, Any]:
    from emergency import reads

    inc = _visible(conn, p, incident_id)
    resources = q.resources(conn, p, park_id=inc["park_id"])
    return {
        **inc,
        "alarms": reads.incident_alarms(conn, incident_id=incident_id),
        "steps": reads.steps(conn, incident_id=incident_id),
        "timeline": after_action.timeline(conn, incident_id=incident_id),
        "photos": q.photos(conn, incident_id=incident_id),
        "nearest_resources": nearest.nearest(resources, enterprise_id=inc["enterprise_id"], zone=inc["zone"]),
    }


def _act(conn: DbConn, fn: Any, **kwargs: Any) -> None:
    """Run a workflow step, its refusals as problems."""
    try:
        fn(conn, **kwargs)
    except IncidentError as exc:
        raise Unprocessable(str(exc), field=exc.field) from exc
    except IncidentConflict as exc:
        raise Conflict(str(exc)) from exc
    except LookupError as exc:
        raise NotFound(str(exc)) from exc


@router.post("/emergency/incidents", status_code=201, responses={403: {}, 409: {}, 422: {}})
def open_incident(body: OpenIn, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    """Open an incident from alarms the caller sees: the plan of its type is instantiated and its
    first step's people paged, in one transaction."""
    first = alarm_q.get_alarm(conn, p, alert_id=body.alert_ids[0])
    if first is None:
        raise Unprocessable(f"alert_ids: no alarm {body.alert_ids[0]}", field="alert_ids")
    opening = Opening(
        park_id=first["park_id"],
        alert_ids=tuple(body.alert_ids),
        by=p.name,
        title=body.title,
        level=body.level,
        commander=body.commander,
        drill=body.drill,
        incident_type=body.incident_type,
    )
    try:
        iid = incidents.open_incident(conn, opening)
    except IncidentError as exc:
        raise Unprocessable(str(exc), field=exc.field) from exc
    except IncidentConflict as exc:
        raise Conflict(str(exc)) from exc
    return _detail(conn, p, iid)


@router.get("/emergency/incidents", responses={403: {}})
def list_incidents(
    conn: DbConn,
    p: Reader,
    page: Paging,
    state: Annotated[list[IncidentState] | None, Query(max_length=4)] = None,
    drill: bool | None = None,
    park_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    since: datetime | None = None,
) -> dict[str, Any]:
    rows = q.list_incidents(
        conn, p, limit=page.limit, offset=page.offset, states=state, drill=drill, park_id=park_id, since=since
    )
    return paged(rows, page.limit, page.offset)


@router.get("/emergency/incidents/{incident_id}", responses={403: {}, 404: {}})
def get_incident(incident_id: BigId, conn: DbConn, p: Reader) -> dict[str, Any]:
    return _detail(conn, p, incident_id)


@router.post("/emergency/incidents/{incident_id}/state", responses={403: {}, 404: {}, 409: {}})
def move(incident_id: BigId, body: MoveIn, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    _visible(conn, p, incident_id)
    _act(conn, incidents.move, incident_id=incident_id, to=body.to, by=p.name, note=body.note)
    return _detail(conn, p, incident_id)


@router.patch("/emergency/incidents/{incident_id}", responses={403: {}, 404: {}, 409: {}})
def update(incident_id: BigId, body: UpdateIn, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    _visible(conn, p, incident_id)
    _act(conn, incidents.update, incident_id=incident_id, by=p.name, level=body.level, commander=body.commander)
    return _detail(conn, p, incident_id)


@router.post("/emergency/incidents/{incident_id}/alarms", responses={403: {}, 404: {}, 409: {}, 422: {}})
def add_alarms(incident_id: BigId, body: AlarmsIn, conn: DbConn, p: OperatorPrincipal) -> dict[str, Any]:
    _visible(conn, p, incident_id)
    for aid in body.alert_ids:
        if alarm_q.get_alarm(conn, p, alert_id=aid) is None:
            raise Unprocessable(f"alert_ids: no alarm {aid}", field="alert_ids")
    _act(conn, incidents.add_alarms, incident_id=incident_id, alert_ids=body.alert_ids, by=p.name)
    return _detail(conn, p, incident_id)


@router.post("/emergency/incidents/{incident_id}/steps/{step_no}/done", responses={403: {}, 404: {}, 409: {}})
def tick(
    incident_id: BigId,
    step_no: Annotated[int, PathParam(ge=1, le=1000)],
    body: TickIn,
    conn: DbConn,
    p: OperatorPrincipal,
) -> dict[str, Any]:
    """Tick a plan step off (who and when are kept); the next step's people are paged."""
    _visible(conn, p, incident_id)
    _act(conn, incidents.tick, incident_id=incident_id, step_no=step_no, by=p.name, note=body.note)
    return _detail(conn, p, incident_id)


def _may_add(p: Principal) -> None:
    if not (p.can_operate or p.role is Role.ENTERPRISE):
        raise Forbidden(f"role {p.role.value!r} may not add to an incident; operators and its enterprise may")


@router.post("/emergency/incidents/{incident_id}/notes", status_code=201, responses={403: {}, 404: {}, 409: {}})
def add_note(incident_id: BigId, body: NoteIn, conn: DbConn, p: Reader) -> dict[str, Any]:
    """A note, an action taken or a message sent, into the timeline."""
    _may_add(p)
    _visible(conn, p, incident_id)
    _act(conn, incidents.note, incident_id=incident_id, kind=body.kind, text=body.text, by=p.name)
    return _detail(conn, p, incident_id)


def photo_dir(request: Request) -> Path:
    """The private directory of the photos (tests and deployments may set app.state's)."""
    configured = getattr(request.app.state, "emergency_files_dir", None)
    return Path(configured) if configured else request.app.state.settings.state_dir / "emergency" / "photos"


@router.put(
    "/emergency/incidents/{incident_id}/photos",
    status_code=201,
    responses={403: {}, 404: {}, 409: {}, 413: {}, 415: {}, 422: {}},
    openapi_extra={"requestBody": {"content": {k: {"schema": {"type": "string", "format": "binary"}}
                                               for k in photos.SIGNATURES}}},
)  # fmt: skip
async def upload_photo(
    incident_id: BigId,
    request: Request,
    p: Reader,
    limits: Limits,
    caption: Annotated[str, Query(max_length=photos.MAX_CAPTION)] = "",
) -> Any:
    """The photo is the body (Content-Type image/jpeg, image/png or image/webp)."""
    from fastapi.concurrency import run_in_threadpool

    _may_add(p)
    if "\x00" in caption:
        raise Unprocessable("caption: a NUL character is not text", field="caption")
    body = await request.body()
    limit = min(photos.MAX_BYTES, limits.max_body_bytes)
    if len(body) > limit:
        raise TooLarge(f"body: {len(body)} bytes; photos are limited to {limit} bytes")
    try:
        kind = photos.check(request.headers.get("content-type", ""), body, limit)
    except photos.PhotoError as exc:
        if exc.field == "content-type":
            raise UnsupportedMedia(str(exc)) from exc
        raise Unprocessable(str(exc), field=exc.field) from exc
    directory = photo_dir(request)
    return await run_in_threadpool(_save_photo, request, p, incident_id, kind, body, caption, directory)


def _save_photo(
    request: Request, p: Principal, incident_id: int, kind: str, body: bytes, caption: str, directory: Path
) -> dict[str, Any]:
    from emergency import incident_store

    with request.app.state.pool.connection() as conn:
        inc = _visible(conn, p, incident_id)
        if inc["state"] == "closed":
            raise Conflict("the incident is closed")
        name, digest = photos.store(directory, kind, body)
        with conn.transaction():
            pid = incident_store.add_photo(
                conn, incident_id=incident_id, stored_name=name, content_type=kind, size_bytes=len(body),
                sha256=digest, caption=caption, uploaded_by=p.name,
            )  # fmt: skip
            incident_store.add_event(
                conn, incident_id=incident_id, kind="photo", by=p.name, text=caption, data={"photo_id": pid}
            )
        return {"photo_id": pid, "content_type": kind, "size_bytes": len(body), "sha256": digest}


@router.get("/emergency/incidents/{incident_id}/photos/{photo_id}", responses={403: {}, 404: {}})
def get_photo(incident_id: BigId, photo_id: BigId, request: Request, conn: DbConn, p: Reader) -> Response:
    _visible(conn, p, incident_id)
    row = found(q.photo(conn, incident_id=incident_id, photo_id=photo_id), f"no photo {photo_id}")
    try:
        data = photos.path_of(photo_dir(request), row["stored_name"]).read_bytes()
    except OSError as exc:
        raise NotFound(f"photo {photo_id}: its file is missing") from exc
    headers = {"Cache-Control": "private, no-store", "Content-Security-Policy": "sandbox; default-src 'none'"}
    return Response(data, media_type=row["content_type"], headers=headers)


@router.get("/emergency/incidents/{incident_id}/readings", responses={403: {}, 404: {}})
def readings(incident_id: BigId, conn: DbConn, p: Reader, limits: Limits, clock: Clock) -> dict[str, Any]:
    """Safety readings of the zone, the hazard's monitors and the alarms' devices, from 30 min
    before the first alarm to its closing (at most READINGS_WINDOW, max_points points)."""
    inc = _visible(conn, p, incident_id)
    end = inc["closed_at"] or datetime.fromtimestamp(clock(), UTC)
    start = max((inc["first_alarm_at"] or inc["opened_at"]) - after_action.READINGS_BEFORE, end - READINGS_WINDOW)
    rows = q.zone_series(conn, incident=inc, start=start, end=end, max_points=limits.max_points)
    series: dict[tuple[str, str], list[list[Any]]] = {}
    for r in rows:
        series.setdefault((r["device"], r["metric"]), []).append([r["ts_ms"], r["value"]])
    return {
        "start": start,
        "end": end,
        "truncated": len(rows) >= limits.max_points,
        "series": [{"device": d, "metric": m, "points": pts} for (d, m), pts in series.items()],
    }


def _report(conn: DbConn, p: Principal, incident_id: int, clock: Clock) -> dict[str, Any]:
    inc = _visible(conn, p, incident_id)
    if inc["state"] != "closed":
        raise Conflict(f"incident {incident_id} is {inc['state']}; its after-action report comes with its closing")
    data = after_action.load(conn, incident_id=incident_id, now=datetime.fromtimestamp(clock(), UTC))
    return found(data, f"no incident {incident_id}")


@router.get("/emergency/incidents/{incident_id}/report", responses={403: {}, 404: {}, 409: {}})
def report(
    incident_id: BigId,
    conn: DbConn,
    p: Reader,
    clock: Clock,
    format: Annotated[Literal["json", "xlsx", "pdf"], Query()] = "json",
) -> Any:
    """The after-action report of a closed incident: timeline, readings, actions, durations."""
    data = _report(conn, p, incident_id, clock)
    if format == "json":
        return after_action.as_json(data)
    name = f"incident-{incident_id}-after-action.{format}"
    r = after_action.build(data)
    body, media = (
        (render_xlsx.render(r), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        if format == "xlsx"
        else (render_pdf.render(r), "application/pdf")
    )
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/emergency/events", responses={403: {}})
def events(
    conn: DbConn,
    p: Reader,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="the last event_id seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=EVENTS_LIMIT)] = 100,
) -> dict[str, Any]:
    """Incident events after ``after``: the emergency bureau's screen polls this to follow its
    park's incidents as they happen."""
    rows = q.events_after(conn, p, after=after, limit=limit)
    return {"items": rows, "last_event_id": rows[-1]["event_id"] if rows else after, "states": STATES}
