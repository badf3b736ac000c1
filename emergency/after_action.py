"""The after-action report of an incident as data: facts, durations, tables and the timeline.

``build`` is pure (its input is what ``load`` reads) and makes a ``reports.model.Report``, so
the shared renderers (``reports.render_xlsx``, ``reports.render_pdf``) and the API's JSON answer
show the same report. Durations run from the first alarm to the first acknowledgement (of
an alarm, or the opening of the incident by a person), to the response, to control, to closing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg.rows import dict_row

from emergency import reads
from emergency.states import LEVEL_NAMES_ZH, STATE_NAMES_ZH
from reports.model import Column, Report, Section, table, text

READINGS_BEFORE = timedelta(minutes=30)  # readings from this long before the first alarm
TIMELINE = "时间线 Timeline"


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _local(at: datetime | None, tz: ZoneInfo) -> str:
    return "" if at is None else at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _since(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else max(0.0, (end - start).total_seconds())


def acknowledged_at(incident: Mapping[str, Any], alarms: Sequence[Mapping[str, Any]]) -> datetime | None:
    """The first acknowledgement: of one of its alarms, or the incident opened by a person."""
    times = [a["acknowledged_at"] for a in alarms if a["acknowledged_at"] is not None]
    if incident["rule"] is None:
        times.append(incident["opened_at"])
    return min(times, default=None)


def durations(incident: Mapping[str, Any], alarms: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, float | None], ...]:
    first = incident["first_alarm_at"]
    return (
        ("首次报警→确认 first alarm → acknowledgement", _since(first, acknowledged_at(incident, alarms))),
        ("首次报警→响应 first alarm → response", _since(first, incident["responding_at"])),
        ("首次报警→控制 first alarm → control", _since(first, incident["controlled_at"])),
        ("首次报警→关闭 first alarm → closing", _since(first, incident["closed_at"])),
    )


def build(data: Mapping[str, Any]) -> Report:
    """The report as a :class:`reports.model.Report`, rendered by the shared XLSX and PDF
    renderers and answered as JSON by :func:`as_json`."""
    inc = data["incident"]
    tz = ZoneInfo(str(inc["timezone"]))
    alarms, steps, events = data["alarms"], data["steps"], data["events"]
    facts = (
        ("事件 Incident", f"#{inc['incident_id']} {inc['title']}"),
        ("园区 Park", str(inc["park_name"])),
        ("企业 Enterprise", str(inc["enterprise_name"] or "—")),
        ("危险源 Hazard", f"{inc['hazard_name']} ({inc['hazard_code']})" if inc["hazard_code"] else "—"),
        ("区域 Zone", str(inc["zone"] or "—")),
        ("类型 Type", str(inc["incident_type"])),
        ("级别 Level", LEVEL_NAMES_ZH.get(int(inc["level"]), str(inc["level"]))),
        ("状态 State", STATE_NAMES_ZH.get(str(inc["state"]), str(inc["state"]))),
        ("指挥 Commander", str(inc["commander"] or "—")),
        ("演练 Drill", "是 yes" if inc["drill"] else "否 no"),
        ("预案 Plan", str(inc["plan_name"] or "—")),
        ("首次报警 First alarm", _local(inc["first_alarm_at"], tz)),
        ("关闭 Closed", _local(inc["closed_at"], tz)),
        ("时区 Time zone", str(inc["timezone"])),
    )
    spans = durations(inc, alarms)
    summary = Section(
        "概要 Summary",
        tables=(
            table("事实 Facts", (text("项目 item"), text("内容 value")), facts),
            table(
                "时长 Durations",
                (text("时长 duration"), text("h:mm:ss"), Column("秒 seconds", "s", decimals=0)),
                [(label, clock(s), None if s is None else round(s)) for label, s in spans],
            ),
        ),
    )
    alarm_rows = [
        (a["alert_id"], _local(a["started_at"], tz), a["device_code"] or "", a["metric"], a["severity"], a["value"],
         _local(a["acknowledged_at"], tz))
        for a in alarms
    ]  # fmt: skip
    alarm_cols = (
        Column("id", decimals=0), text("开始 started"), text("设备 device"), text("指标 metric"),
        text("级别 severity"), Column("值 value"), text("确认 acknowledged"),
    )  # fmt: skip
    step_rows = [(s["step_no"], s["title"], s["role"], _local(s["done_at"], tz), s["done_by"] or "") for s in steps]
    step_cols = (Column("#", decimals=0), text("步骤 step"), text("角色 role"), text("完成 done at"), text("完成人 by"))
    reading_rows = [
        (r["device_code"], r["metric"], r["n"], r["min"], r["max"], r["last"], _local(r["max_at"], tz))
        for r in data["readings"]
    ]
    reading_cols = (
        text("设备 device"), text("指标 metric"), Column("个数 n", decimals=0), Column("最小 min"),
        Column("最大 max"), Column("最后 last"), text("最大时刻 max at"),
    )  # fmt: skip
    event_rows = [(_local(e["at"], tz), e["kind"], e["by"], e["text"]) for e in events]
    event_cols = (text("时间 at"), text("类型 kind"), text("人 by"), text("内容 text"))
    return Report(
        f"事件处置评估报告 After-action report #{inc['incident_id']}",
        f"时间为园区时间 times in the park's clock ({inc['timezone']})",
        (
            summary,
            _one("报警 Alarms", alarm_cols, alarm_rows),
            _one("预案步骤 Plan steps", step_cols, step_rows),
            _one("读数 Readings", reading_cols, reading_rows),
            _one(TIMELINE, event_cols, event_rows),
        ),
    )


def _one(title: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> Section:
    return Section(title, tables=(table(title, columns, rows),))


def as_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The API's JSON answer: the durations in seconds and every section's tables as shown."""
    report, spans = build(data), durations(data["incident"], data["alarms"])
    return {
        "title": report.title,
        "subtitle": report.subtitle,
        "durations": [{"label": k, "seconds": s} for k, s in spans],
        "sections": [
            {
                "title": sec.title,
                "tables": [
                    {"title": t.title, "columns": [c.header for c in t.columns], "rows": t.rows} for t in sec.tables
                ],
            }
            for sec in report.sections
        ],
    }


def timeline(conn: Any, *, incident_id: int) -> list[dict[str, Any]]:
    """The incident's events, its alarms' events (firing, acknowledged, resolved …) and the
    delivery of its pages (receiver and channel, never the address: regulators read this), by
    time; ``data`` holds what each was about, so a page can say it in its own language."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "SELECT at, kind, by, text, 'incident' AS source, data"
            " FROM emergency_incident_events WHERE incident_id = %(i)s"
            " UNION ALL SELECT ev.at, 'alarm:' || ev.kind, ev.by,"
            " '#' || ev.alert_id || ' ' || a.summary || CASE WHEN ev.comment <> '' THEN ': ' || ev.comment ELSE '' END,"
            " 'alarm', jsonb_build_object('alert_id', ev.alert_id, 'metric', a.metric, 'comment', ev.comment)"
            " FROM alert_events ev JOIN alerts a USING (alert_id)"
            " JOIN emergency_incident_alarms l ON l.alert_id = ev.alert_id AND l.incident_id = %(i)s"
            " UNION ALL SELECT na.at, 'page:' || na.result, 'system',"
            " coalesce(r.name, '') || ' (' || na.channel || ')', 'page',"
            " jsonb_build_object('receiver', coalesce(r.name, ''), 'channel', na.channel)"
            " FROM notify_attempts na LEFT JOIN alert_receivers r USING (receiver_id)"
            " WHERE na.alert_ids && ARRAY(SELECT alert_id FROM emergency_incident_alarms WHERE incident_id = %(i)s)"
            " AND EXISTS (SELECT 1 FROM alert_notifications n WHERE n.notification_id = ANY(na.notification_ids)"
            "   AND n.group_key LIKE 'incident:' || %(i)s || ':%%')"
            " ORDER BY 1, 2",
            {"i": incident_id},
        ).fetchall()


def readings_summary(conn: Any, *, incident: Mapping[str, Any], until: datetime) -> list[dict[str, Any]]:
    """Per device and metric of the zone (and the hazard's monitors): the readings around the
    incident, from READINGS_BEFORE the first alarm to its closing."""
    start = (incident["first_alarm_at"] or incident["opened_at"]) - READINGS_BEFORE
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            reads.ZONE_DEVICES_CTE
            + " SELECT d.code AS device_code, m.code AS metric, count(*) AS n, min(t.value) AS min,"
            " max(t.value) AS max, (array_agg(t.value ORDER BY t.ts DESC))[1] AS last,"
            " (array_agg(t.ts ORDER BY t.value DESC, t.ts))[1] AS max_at"
            " FROM telemetry t JOIN dev USING (device_id) JOIN devices d USING (device_id)"
            " JOIN metrics m USING (metric_id) WHERE t.ts >= %(s)s AND t.ts <= %(u)s"
            " GROUP BY d.code, m.code ORDER BY d.code, m.code",
            {**reads.zone_params(dict(incident)), "s": start, "u": until},
        ).fetchall()


def load(conn: Any, *, incident_id: int, now: datetime) -> dict[str, Any] | None:
    inc = reads.incident(conn, incident_id=incident_id)
    if inc is None:
        return None
    return {
        "incident": inc,
        "alarms": reads.incident_alarms(conn, incident_id=incident_id),
        "steps": reads.steps(conn, incident_id=incident_id),
        "events": timeline(conn, incident_id=incident_id),
        "readings": readings_summary(conn, incident=inc, until=inc["closed_at"] or now),
    }
