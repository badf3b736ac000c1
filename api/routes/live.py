"""Live stream over WebSocket: latest readings and alarm transitions of a selection.

Why polling the database rather than subscribing to MQTT: the stream must obey exactly the
authorisation of the REST reads, and the scoped queries already encode it (park, enterprise,
categories); telemetry_latest and alert_events are small indexed reads, one pair per client per
second, and every API process sees the same committed state without a broker session of its own.

Protocol: connect to ``/api/v1/live?token=<token or key>`` (browsers cannot set headers on a
WebSocket), send ``{"devices": [ids], "enterprise_id": n, "metrics": [codes], "alarms": true}``,
then receive ``{"type": "reading", ...}`` and ``{"type": "alarm", ...}`` frames. A selection naming
something the caller may not read gets ``{"type": "error", "status": 404, ...}`` and the socket
closes with code 4404; bad credentials close with 4401.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from anyio import to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.auth import AuthError, Principal, Role
from api.deps import source_of
from api.problems import TooManyRequests
from api.queries import alarms as alarm_q
from api.queries import telemetry as tq
from api.queries.registry import get_enterprise
from smartpark.catalogue import BY_CODE

router = APIRouter(tags=["live"])
MAX_BATCH = 2000
CLOSE_POLICY = 1008  # RFC 6455 policy violation: the credential stopped standing mid-stream
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_MANY = 4429


@dataclass(frozen=True, slots=True)
class Selection:
    devices: list[int] | None
    enterprise_id: int | None
    metric_ids: list[int] | None
    alarms: bool


class SelectionError(ValueError):
    pass


def parse_selection(raw: Any, max_devices: int) -> Selection:
    if not isinstance(raw, dict):
        raise SelectionError('send a JSON object: {"devices": [...], "enterprise_id": n, "alarms": true}')
    unknown = set(raw) - {"devices", "enterprise_id", "metrics", "alarms"}
    if unknown:
        raise SelectionError(f"unknown field(s) {sorted(unknown)}")
    devices = raw.get("devices")
    if devices is not None and (
        not isinstance(devices, list)
        or len(devices) > max_devices
        or not all(isinstance(d, int) and not isinstance(d, bool) and 0 < d < 2**31 for d in devices)
    ):
        raise SelectionError(f"devices must be a list of at most {max_devices} device ids")
    ent = raw.get("enterprise_id")
    if ent is not None and (not isinstance(ent, int) or isinstance(ent, bool) or not 0 < ent < 2**31):
        raise SelectionError(f"enterprise_id {ent!r} is not an id")
    metrics = raw.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
            raise SelectionError("metrics must be a list of metric codes")
        bad = [m for m in metrics if m not in BY_CODE]
        if bad:
            raise SelectionError(f"unknown metric(s) {bad}")
    return Selection(
        devices=devices,
        enterprise_id=ent,
        metric_ids=None if metrics is None else [BY_CODE[m].id for m in metrics],
        alarms=bool(raw.get("alarms", True)),
    )


def _json(row: dict[str, Any], kind: str) -> str:
    return json.dumps(
        {"type": kind, **row},
        default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v),
        ensure_ascii=False,
    )


class LiveSlots:
    """Open live streams per user in this process, at most ``per_user`` each: one user's page
    left open in many tabs (or a script) cannot take every poll slot of the API."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._open: dict[int, int] = {}

    def take(self, user_id: int) -> bool:
        if self._open.get(user_id, 0) >= self.per_user:
            return False
        self._open[user_id] = self._open.get(user_id, 0) + 1
        return True

    def give_back(self, user_id: int) -> None:
        left = self._open.get(user_id, 0) - 1
        if left > 0:
            self._open[user_id] = left
        else:
            self._open.pop(user_id, None)


async def _refuse(ws: WebSocket, status: int, detail: str, code: int) -> None:
    await ws.send_text(json.dumps({"type": "error", "status": status, "detail": detail}))
    await ws.close(code=code)


@router.websocket("/live")
async def live(ws: WebSocket) -> None:
    app = ws.app
    limits = app.state.limits
    pool = app.state.pool
    await ws.accept()
    credential = ws.query_params.get("token") or ws.headers.get("x-api-key") or ""
    if not credential and ws.headers.get("authorization", "").lower().startswith("bearer "):
        credential = ws.headers["authorization"][7:]
    try:
        p: Principal = await app.state.auth.principal(credential, source_of(ws.client))
    except AuthError as exc:
        await _refuse(ws, 401, str(exc), CLOSE_UNAUTHORIZED)
        return
    except TooManyRequests as exc:
        await _refuse(ws, 429, exc.detail, CLOSE_TOO_MANY)
        return
    if p.role is Role.METRICS:
        await _refuse(ws, 403, "role 'metrics' reads /metrics only", CLOSE_FORBIDDEN)
        return
    slots: LiveSlots = app.state.live_slots
    if not slots.take(p.user_id):
        detail = f"user {p.name!r} has {slots.per_user} live streams open, the most one user may"
        await _refuse(ws, 429, detail, CLOSE_TOO_MANY)
        return
    try:
        await _serve(ws, pool, p, limits, Recheck(app.state.auth, credential, p, limits.live_recheck_s))
    finally:
        slots.give_back(p.user_id)


async def _serve(ws: WebSocket, pool: Any, p: Principal, limits: Any, recheck: Recheck) -> None:
    try:
        sel = parse_selection(await ws.receive_json(), limits.live_max_devices)
        problem = await to_thread.run_sync(lambda: _check(pool, p, sel))
    except (SelectionError, json.JSONDecodeError) as exc:
        await _refuse(ws, 400, str(exc), 4400)
        return
    except WebSocketDisconnect:
        return
    if problem:
        await _refuse(ws, 404, problem, 4404)
        return
    await _stream(ws, pool, p, sel, limits.live_poll_s, recheck)


class Recheck:
    """Credentials of an open stream are checked again every ``every_s`` (monotonic time): a
    revoked key, an expired key or token, or a disabled user ends the stream."""

    def __init__(
        self,
        auth: Any,
        credential: str,
        p: Principal,
        every_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.auth, self.credential, self.p, self.every_s, self.clock = auth, credential, p, every_s, clock
        self.next_at = clock() + every_s

    async def refusal(self) -> str | None:
        """Why the stream must end now, or None."""
        if self.clock() < self.next_at:
            return None
        self.next_at = self.clock() + self.every_s
        try:
            await self.auth.recheck(self.p, self.credential)
        except AuthError as exc:
            return str(exc)
        return None


def _check(pool: Any, p: Principal, sel: Selection) -> str | None:
    """None when the whole selection is readable by ``p``; else what is not (as a 404 would say)."""
    with pool.connection() as conn:
        if sel.enterprise_id is not None and get_enterprise(conn, p, enterprise_id=sel.enterprise_id) is None:
            return f"no enterprise {sel.enterprise_id}"
        if sel.devices:
            seen = tq.visible_devices(conn, p, device_ids=sel.devices)
            missing = [d for d in sel.devices if d not in seen]
            if missing:
                return f"no device {missing[0]}"
    return None


def _poll(
    pool: Any, p: Principal, sel: Selection, since: datetime | None, after: int | None
) -> tuple[list[Any], list[Any], int | None]:
    with pool.connection() as conn:
        readings = tq.latest_since(
            conn,
            p,
            device_ids=sel.devices,
            enterprise_id=sel.enterprise_id,
            metric_ids=sel.metric_ids,
            since=since,
            limit=MAX_BATCH,
        )
        events: list[Any] = []
        if sel.alarms:
            if after is None:
                after = alarm_q.last_event_id(conn)  # transitions from now on
            else:
                events = alarm_q.events_since(
                    conn,
                    p,
                    after_event_id=after,
                    enterprise_id=sel.enterprise_id,
                    device_ids=sel.devices,
                    limit=MAX_BATCH,
                )
                if events:
                    after = events[-1]["event_id"]
    return readings, events, after


def _whole_instants(readings: list[Any]) -> list[Any]:
    """A full batch (ordered by ts) may end inside a run of equal timestamps; the next poll asks
    for ts > the last one sent, so hold back that run rather than lose part of it."""
    if len(readings) < MAX_BATCH:
        return readings
    last = readings[-1]["ts"]
    kept = [r for r in readings if r["ts"] < last]
    # A whole batch at one instant (more than MAX_BATCH readings share a ts): send it; the
    # excess of that instant is skipped, the stream then moves on.
    return kept or readings


async def _stream(ws: WebSocket, pool: Any, p: Principal, sel: Selection, every_s: float, recheck: Recheck) -> None:
    since: datetime | None = None
    after: int | None = None
    await ws.send_text(
        json.dumps(
            {
                "type": "subscribed",
                "devices": sel.devices,
                "enterprise_id": sel.enterprise_id,
                "alarms": sel.alarms,
            }
        )
    )
    closed = asyncio.Event()

    async def watch_close() -> None:
        try:
            while True:
                await ws.receive_text()  # clients may send pings; anything ends on disconnect
        except (WebSocketDisconnect, RuntimeError):
            closed.set()

    watcher = asyncio.create_task(watch_close())
    try:
        while not closed.is_set():
            refusal = await recheck.refusal()
            if refusal is not None:
                await _refuse(ws, 401, refusal, CLOSE_POLICY)
                return
            readings, events, after = await to_thread.run_sync(_poll, pool, p, sel, since, after)
            readings = _whole_instants(readings)
            for r in readings:
                await ws.send_text(_json(r, "reading"))
            if readings:
                since = readings[-1]["ts"]
            for e in events:
                await ws.send_text(_json(e, "alarm"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closed.wait(), timeout=min(every_s, recheck.every_s))
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        watcher.cancel()
