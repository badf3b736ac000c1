"""The incident workflow: open from alarms with its plan and first pages, move, tick, note.

Each function is one transaction of the caller's connection. Opening takes a lock per park, so
the opening rule and an operator opening from the same alarm at the same moment make one
incident, not two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from emergency import incident_store, notify, reads
from emergency.states import DEFAULT_LEVEL, StateError, check_move
from smartpark.catalogue import NAMES

Conn = Any
GAS_METRICS = frozenset({"safety.lel_pct", "safety.h2s_ppm", "safety.co_ppm", "safety.o2_pct"})
TYPE_OF_METRIC = {"safety.fire_alarm": "fire", "safety.pressure_mpa": "pressure", "safety.temp_c": "fire"}
NOTE_KINDS = ("note", "action", "message")
MAX_ALARMS = 100


class IncidentError(ValueError):
    """Input the workflow refuses (answers 422 naming ``field``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class IncidentConflict(ValueError):
    """The incident's state does not allow it (answers 409)."""


@dataclass(frozen=True, slots=True)
class Opening:
    park_id: int
    alert_ids: tuple[int, ...]
    by: str
    title: str | None = None
    level: int | None = None
    commander: str = ""
    drill: bool = False
    incident_type: str | None = None
    rule: str | None = None


def incident_type_of(alarms: Sequence[dict[str, Any]]) -> str:
    """The hazard's type, else fire if a fire alarm is among them, else a gas leak."""
    for a in alarms:
        if a["hazard_incident_type"]:
            return str(a["hazard_incident_type"])
    metrics = {a["metric"] for a in alarms}
    for metric, kind in TYPE_OF_METRIC.items():
        if metric in metrics:
            return kind
    return "gas_leak"


def open_incident(conn: Conn, o: Opening) -> int:
    if not 1 <= len(o.alert_ids) <= MAX_ALARMS:
        raise IncidentError("alert_ids", f"alert_ids: give 1 to {MAX_ALARMS} alarms")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (0x454D, o.park_id))
        alarms = reads.alarms(conn, alert_ids=list(dict.fromkeys(o.alert_ids)))
        found = {a["alert_id"] for a in alarms}
        missing = [a for a in o.alert_ids if a not in found or _park(alarms, a) != o.park_id]
        if missing:
            raise IncidentError("alert_ids", f"alert_ids: no alarm {missing} in park {o.park_id}")
        taken = [a["alert_id"] for a in alarms if a["in_open_incident"]]
        if taken:
            raise IncidentConflict(f"alarms {taken} are already in an open incident")
        first = alarms[0]
        hazard = next((a for a in alarms if a["hazard_id"] is not None), None)
        enterprises = {a["enterprise_id"] for a in alarms}
        kind = o.incident_type or incident_type_of(alarms)
        plan = reads.plan_for(
            conn, park_id=o.park_id, incident_type=kind, hazard_code=hazard["hazard_code"] if hazard else None
        )
        title = o.title or default_title(first, hazard)
        iid = incident_store.create_incident(
            conn,
            park_id=o.park_id,
            enterprise_id=enterprises.pop() if len(enterprises) == 1 else None,
            hazard_id=hazard["hazard_id"] if hazard else None,
            zone=str((hazard["hazard_zone"] if hazard else "") or first["zone"]),
            title=title[:200],
            incident_type=kind,
            level=o.level or DEFAULT_LEVEL,
            commander=o.commander,
            drill=o.drill,
            opened_by=o.by,
            first_alarm_at=first["started_at"],
            plan_id=plan["plan_id"] if plan else None,
            plan_name=plan["name"] if plan else None,
            rule=o.rule,
        )
        incident_store.link_alarms(conn, incident_id=iid, alert_ids=[a["alert_id"] for a in alarms])
        opened = f"opened by rule {o.rule}" if o.rule else "opened"
        incident_store.add_event(conn, incident_id=iid, kind="opened", by=o.by, text=opened)
        for a in alarms:
            _alarm_event(conn, iid, a, o.by)
        if plan:
            incident_store.add_steps(conn, incident_id=iid, steps=plan["steps"])
        _page(conn, iid, 1, o.by)
    return iid


def default_title(first: dict[str, Any], hazard: dict[str, Any] | None) -> str:
    """In Chinese, the park's language, as the alarm list says it (the rules' summaries are
    English): the hazard, then what went out of limits."""
    what = f"{NAMES.get(str(first['metric']), (str(first['metric']),))[0]}超限"
    return f"{hazard['hazard_name']}: {what}" if hazard else what


def _park(alarms: Sequence[dict[str, Any]], alert_id: int) -> int | None:
    return next((a["park_id"] for a in alarms if a["alert_id"] == alert_id), None)


def _alarm_event(conn: Conn, iid: int, a: dict[str, Any], by: str) -> None:
    text = f"{a['summary']} ({a['device_code'] or ''} {a['zone']})"
    incident_store.add_event(
        conn, incident_id=iid, kind="alarm", by=by, text=text, data={"alert_id": a["alert_id"], "value": a["value"]}
    )


def _page(conn: Conn, iid: int, step_no: int, by: str) -> None:
    """Page the people of a step that is not done yet, and say so in the timeline."""
    step = next((s for s in reads.steps(conn, incident_id=iid) if s["step_no"] == step_no), None)
    incident = reads.incident(conn, incident_id=iid)
    if step is None or step["done_at"] is not None or incident is None or incident["state"] == "closed":
        return
    done = notify.page_step(
        conn,
        incident=incident,
        step_no=step_no,
        step=step,
        alarms=reads.incident_alarms(conn, incident_id=iid),
    )
    if done is not None:
        text = f"step {step_no}: paged {', '.join(done['sent']) or 'nobody'}"
        if done["missing"]:
            text += f"; not found: {', '.join(done['missing'])}"
        incident_store.add_event(conn, incident_id=iid, kind="notified", by=by, text=text, data=done)


def _locked(conn: Conn, iid: int) -> dict[str, Any]:
    row = reads.incident(conn, incident_id=iid, lock=True)
    if row is None:
        raise LookupError(f"no incident {iid}")
    return row


def add_alarms(conn: Conn, *, incident_id: int, alert_ids: Sequence[int], by: str) -> int:
    with conn.transaction():
        inc = _locked(conn, incident_id)
        if inc["state"] == "closed":
            raise IncidentConflict("the incident is closed")
        alarms = reads.alarms(conn, alert_ids=list(alert_ids))
        bad = [a for a in alert_ids if _park(alarms, a) != inc["park_id"]]
        if bad:
            raise IncidentError("alert_ids", f"alert_ids: no alarm {bad} in the incident's park")
        new = [a for a in alarms if not a["in_open_incident"]]
        incident_store.link_alarms(conn, incident_id=incident_id, alert_ids=[a["alert_id"] for a in new])
        for a in new:
            _alarm_event(conn, incident_id, a, by)
    return len(new)


def move(conn: Conn, *, incident_id: int, to: str, by: str, note: str = "") -> None:
    with conn.transaction():
        inc = _locked(conn, incident_id)
        try:
            check_move(inc["state"], to)
        except StateError as exc:
            raise IncidentConflict(str(exc)) from exc
        incident_store.move_state(conn, incident_id=incident_id, current=inc["state"], to=to)
        incident_store.add_event(
            conn, incident_id=incident_id, kind="state", by=by, text=note, data={"from": inc["state"], "to": to}
        )


def tick(conn: Conn, *, incident_id: int, step_no: int, by: str, note: str = "") -> None:
    """Tick a plan step off (who and when), then page the next step's people."""
    with conn.transaction():
        inc = _locked(conn, incident_id)
        if inc["state"] == "closed":
            raise IncidentConflict("the incident is closed")
        steps = {s["step_no"]: s for s in reads.steps(conn, incident_id=incident_id)}
        if step_no not in steps:
            raise IncidentError("step_no", f"step_no: the incident has no step {step_no}")
        if not incident_store.tick_step(conn, incident_id=incident_id, step_no=step_no, by=by):
            raise IncidentConflict(f"step {step_no} is done already")
        incident_store.add_event(
            conn,
            incident_id=incident_id,
            kind="step",
            by=by,
            text=f"step {step_no} done: {steps[step_no]['title']}" + (f" ({note})" if note else ""),
            data={"step_no": step_no},
        )
        _page(conn, incident_id, step_no + 1, by)


def note(conn: Conn, *, incident_id: int, kind: str, text: str, by: str) -> int:
    if kind not in NOTE_KINDS:
        raise IncidentError("kind", f"kind: {kind!r} is not one of {NOTE_KINDS}")
    with conn.transaction():
        inc = _locked(conn, incident_id)
        if inc["state"] == "closed":
            raise IncidentConflict("the incident is closed")
        return incident_store.add_event(conn, incident_id=incident_id, kind=kind, by=by, text=text)


def update(conn: Conn, *, incident_id: int, by: str, level: int | None, commander: str | None) -> None:
    with conn.transaction():
        inc = _locked(conn, incident_id)
        if inc["state"] == "closed":
            raise IncidentConflict("the incident is closed")
        if level is not None and level != inc["level"]:
            incident_store.set_level(conn, incident_id=incident_id, level=level)
            incident_store.add_event(
                conn, incident_id=incident_id, kind="level", by=by, data={"from": inc["level"], "to": level}
            )
        if commander is not None and commander != inc["commander"]:
            incident_store.set_commander(conn, incident_id=incident_id, commander=commander)
            incident_store.add_event(conn, incident_id=incident_id, kind="commander", by=by, text=commander)
