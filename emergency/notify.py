"""An incident's pages, through the alerting outbox and its paging channels (docs/paging.md).

A plan step names whom to page as an escalation level does (receivers; contacts and rosters on
the email and SMS receivers). The pages are rows of alerting's outbox, enqueued through
alerting.outbox_store, so the alerting service delivers them with every guarantee it gives alarms:
once, in order, retried while a channel is down, within each person's and robot's budget. What
a page says is the incident: the first alarm, with the incident as its summary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from alerting import outbox_store, paging_store, routing_store, store_sql
from alerting.escalation import Level, people, robots_and_people
from alerting.rosters import on_duty, roster_from_dict
from alerting.rules import RuleError
from emergency import reads
from emergency.states import LEVEL_NAMES_ZH

Conn = Any


def headline(incident: Mapping[str, Any], step_no: int, step: Mapping[str, Any]) -> str:
    drill = "【演练】" if incident.get("drill") else ""
    level = LEVEL_NAMES_ZH.get(int(incident["level"]), str(incident["level"]))
    return f"{drill}【应急事件 #{incident['incident_id']} {level}】{incident['title']} · 步骤{step_no}: {step['title']}"


def alarm_of(row: Mapping[str, Any], summary: str) -> dict[str, Any]:
    """An alarm as the paging channels read it, carrying the incident's headline."""
    return {
        "alert_id": int(row["alert_id"]),
        "status": "firing",
        "labels": dict(row.get("labels") or {}),
        "summary": summary,
        "starts_at_ms": store_sql.ms(row["started_at"]),
        "ends_at_ms": None,
        "value": row.get("value"),
    }


def page_step(
    conn: Conn,
    *,
    incident: Mapping[str, Any],
    step_no: int,
    step: Mapping[str, Any],
    alarms: Sequence[Mapping[str, Any]],
    now: datetime | None = None,
) -> dict[str, Any] | None:
    """Queue the step's pages; what was queued and what was not found (None: it pages nobody)."""
    spec = step.get("notify") or {}
    level = Level(
        0.0, tuple(spec.get("receivers", ())), tuple(spec.get("contacts", ())), tuple(spec.get("rosters", ()))
    )
    if not (level.receivers and alarms):
        return None
    with reads.plain_rows(conn):
        receivers, _ = routing_store.fetch_receivers(conn)
        by_name = {r.name: r for r in receivers if r.park in (None, incident["park_code"])}
        missing = [f"receiver {n}" for n in level.receivers if n not in by_name]
        robots, personal = robots_and_people([by_name[n] for n in level.receivers if n in by_name])
        duty: dict[str, str] = {}
        park_id = int(incident["park_id"])  # a plan pages nobody of another park, on no roster of one
        for name, (definition, tz) in paging_store.fetch_rosters(
            conn, names=list(level.rosters), park_id=park_id
        ).items():
            try:
                duty[name] = on_duty(roster_from_dict(definition), now or datetime.now(UTC), tz).member
            except RuleError:
                missing.append(f"roster {name}")
        names = people(level, duty)
        contacts = paging_store.fetch_contacts(conn, names=names, park_id=park_id)
        missing += [f"contact {n}" for n in names if n not in contacts]
        base = {
            "status": "firing",
            "alerts": [alarm_of(alarms[0], headline(incident, step_no, step))],
            "incident": {"id": int(incident["incident_id"]), "step": step_no, "drill": bool(incident.get("drill"))},
        }
        key = f"incident:{incident['incident_id']}:{step_no}"
        sent: list[str] = []
        for rec in robots:
            _enqueue(conn, rec.receiver_id, {**base, "receiver": rec.name}, key)
            sent.append(rec.name)
        for name in names:
            if name not in contacts:
                continue
            cid, email, phone = contacts[name]
            for rec in personal:
                address = email if rec.channel == "email" else phone
                if address:
                    payload = {**base, "receiver": rec.name, "person": {"id": cid, "name": name}, "to": [address]}
                    _enqueue(conn, rec.receiver_id, payload, f"{key}:{cid}")
                    sent.append(f"{name} ({rec.channel})")
    return {"step": step_no, "sent": sent, "missing": missing}


def _enqueue(conn: Conn, receiver_id: int, payload: dict[str, Any], key: str) -> None:
    outbox_store.enqueue_notification(
        conn, receiver_id=receiver_id, group_key=key, status="firing", payload=payload, alert_statuses=[]
    )
