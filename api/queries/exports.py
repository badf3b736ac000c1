"""The exports' queries: each returns an :class:`Export` (its columns and one SQL statement whose
rows are those columns), scoped to the principal in SQL like every other read, for
``reports.tabular`` to stream as CSV (through COPY) or XLSX (through a server-side cursor).

Times are local timestamps of the park's zone (whole seconds, but raw readings keep their
milliseconds), named in the time column's header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from api.auth import Principal
from api.queries.rejected import _no_mn
from api.queries.scope import Where, tenant
from api.series import Interval
from reports.model import Column, text
from smartpark.catalogue import NAMES, MetricKind

MAX_SERIES = 5_000
TABLES = {Interval.M15: "rollup_15m", Interval.H1: "rollup_1h", Interval.D1: "rollup_1d"}
AGGREGATE_ZH = {"consumption": "用量", "max": "最大值", "mean": "均值", "raw": "原始值"}


class ExportError(ValueError):
    """A selection the export refuses (too many series, none at all); the message names it."""


@dataclass(frozen=True, slots=True)
class Export:
    name: str  # file name stem
    columns: tuple[Column, ...]
    sql: str
    params: dict[str, Any]


def local_time(title: str, tz: str) -> Column:
    return Column(f"{title}（{tz}）", numeric=False)


def _aggregate(kind: str) -> str:
    return {MetricKind.COUNTER.value: "consumption", MetricKind.STATE.value: "max"}.get(kind, "mean")


def telemetry(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    park: dict[str, Any],
    enterprise_id: int | None,
    device_ids: list[int] | None,
    metric_ids: list[int] | None,
    interval: Interval,
    start: datetime,
    end: datetime,
) -> Export:
    """Series of one park (its devices the caller may read, metrics of the caller's categories),
    series by series, each in time order: 15-minute, hourly or daily rollups (consumption for
    counters, maximum for states, mean otherwise) or the raw readings with their data flag."""
    w = tenant(Where(), p, park="e.park_id", enterprise="e.enterprise_id", category="m.category")
    w.add("e.park_id = %(pid)s", pid=park["park_id"])
    w.when(enterprise_id, "e.enterprise_id = %(eid)s", "eid")
    w.when(device_ids, "d.device_id = ANY(%(dids)s)", "dids")
    w.when(metric_ids, "dm.metric_id = ANY(%(mids)s)", "mids")
    w.params["cap"] = MAX_SERIES + 1
    series = conn.execute(
        "SELECT d.device_id, dm.metric_id, e.code AS ent, d.code AS dev, m.code, m.unit, m.kind"
        " FROM devices d JOIN enterprises e USING (enterprise_id) JOIN device_metrics dm USING (device_id)"
        f" JOIN metrics m ON m.metric_id = dm.metric_id WHERE {w.sql}"
        " ORDER BY e.code, d.code, m.code LIMIT %(cap)s",
        w.params,
    ).fetchall()
    if len(series) > MAX_SERIES:
        raise ExportError(f"more than {MAX_SERIES} series selected; narrow by enterprise_id, device_id or metric")
    if not series:
        raise ExportError("no series the caller may read matches the selection")
    raw = interval is Interval.RAW
    params = {
        "dev": [s["device_id"] for s in series],
        "met": [s["metric_id"] for s in series],
        "ent": [s["ent"] for s in series],
        "dcode": [s["dev"] for s in series],
        "name": [NAMES.get(s["code"], (s["code"],))[0] for s in series],
        "unit": [s["unit"] for s in series],
        "agg": ["raw" if raw else _aggregate(s["kind"]) for s in series],
        "tz": park["timezone"],
        "start": start,
        "end": end,
    }
    params["agg_zh"] = [AGGREGATE_ZH[a] for a in params["agg"]]
    head = (
        "WITH s AS (SELECT * FROM unnest(%(dev)s::int[], %(met)s::int2[], %(ent)s::text[], %(dcode)s::text[],"
        " %(name)s::text[], %(unit)s::text[], %(agg)s::text[], %(agg_zh)s::text[])"
        " AS s(device_id, metric_id, ent, dev, name, unit, agg, agg_zh))"
        " SELECT x.t AT TIME ZONE %(tz)s, s.ent, s.dev, s.name, s.unit, s.agg_zh, x.v"
    )
    if raw:
        sql = (
            f"{head}, x.flag FROM s CROSS JOIN LATERAL (SELECT r.ts AS t, r.value AS v, r.flag FROM telemetry r"
            " WHERE r.device_id = s.device_id AND r.metric_id = s.metric_id"
            " AND r.ts >= %(start)s AND r.ts < %(end)s ORDER BY r.ts) x"
        )
    else:
        sql = (
            f"{head} FROM s CROSS JOIN LATERAL (SELECT r.bucket AS t, CASE s.agg WHEN 'consumption'"
            " THEN r.consumption WHEN 'max' THEN r.max ELSE r.mean END AS v"
            f" FROM {TABLES[interval]} r WHERE r.device_id = s.device_id AND r.metric_id = s.metric_id"
            " AND r.bucket >= %(start)s AND r.bucket < %(end)s ORDER BY r.bucket) x"
        )
    columns: tuple[Column, ...] = (
        local_time("时间", park["timezone"]),
        text("企业"),
        text("设备"),
        text("指标"),
        text("单位"),
        text("统计"),
        Column("数值", decimals=3),
    )
    if raw:
        columns = (*columns, Column("数据标记", decimals=0))
    return Export(f"telemetry-{park['code']}-{interval.value}", columns, sql, params)


ALARM_COLUMNS = (
    Column("告警编号", decimals=0),
    text("规则"),
    text("企业"),
    text("设备"),
    text("指标"),
    text("级别"),
    text("类别"),
    text("状态"),
    text("摘要"),
    Column("触发值", decimals=3),
)


def alarms(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    park_id: int | None,
    enterprise_id: int | None,
    tz: str,
    since: datetime,
    until: datetime,
) -> Export:
    """Alarms started in [since, until) with each of their events (one row per event; an alarm
    without events has one row), oldest alarm first."""
    w = tenant(Where(), p, park="a.park_id", enterprise="a.enterprise_id", category="a.category")
    w.when(park_id, "a.park_id = %(pid)s", "pid").when(enterprise_id, "a.enterprise_id = %(eid)s", "eid")
    w.during("a.started_at", since, until)
    w.params["tz"] = tz
    local = "(({}) AT TIME ZONE %(tz)s)::timestamp(0)"
    sql = (
        f"SELECT a.alert_id, a.rule_id, e.code, d.code, a.metric, a.severity, a.category, a.state, a.summary,"
        f" a.trigger_value, {local.format('a.started_at')}, {local.format('a.firing_at')},"
        f" {local.format('a.acknowledged_at')}, a.acknowledged_by, {local.format('a.resolved_at')},"
        f" {local.format('ev.at')}, ev.kind, ev.by, ev.comment, ev.value"
        " FROM alerts a LEFT JOIN enterprises e ON e.enterprise_id = a.enterprise_id"
        " LEFT JOIN devices d ON d.device_id = a.device_id"
        " LEFT JOIN alert_events ev ON ev.alert_id = a.alert_id"
        f" WHERE {w.sql} ORDER BY a.started_at, a.alert_id, ev.at, ev.event_id"
    )
    columns = (
        *ALARM_COLUMNS,
        local_time("开始时间", tz),
        local_time("触发时间", tz),
        local_time("确认时间", tz),
        text("确认人"),
        local_time("恢复时间", tz),
        local_time("事件时间", tz),
        text("事件"),
        text("操作人"),
        text("备注"),
        Column("事件数值", decimals=3),
    )
    return Export("alarms", columns, sql, w.params)


def rejected(
    conn: psycopg.Connection[Any],
    p: Principal,
    *,
    park_id: int | None,
    enterprise_id: int | None,
    tz: str,
    since: datetime,
    until: datetime,
) -> Export:
    """Refused readings and messages in [since, until), oldest first, data-logger MNs masked for
    those who may not see them (as ``GET /rejected``)."""
    w = tenant(Where(), p, park="r.park_id", enterprise="r.enterprise_id")
    w.when(park_id, "r.park_id = %(pid)s", "pid").when(enterprise_id, "r.enterprise_id = %(eid)s", "eid")
    w.during("r.received_at", since, until)
    w.params |= {"tz": tz, "mn_seen": p.sees_logger_ids}
    sql = (
        "SELECT (r.received_at AT TIME ZONE %(tz)s)::timestamp(0), e.code, r.reason_code,"
        f" {_no_mn('r.reason')}, r.device, r.metric, r.count, {_no_mn('r.topic')}, {_no_mn('r.excerpt')}"
        " FROM rejected_messages r LEFT JOIN enterprises e ON e.enterprise_id = r.enterprise_id"
        f" WHERE {w.sql} ORDER BY r.received_at"
    )
    columns = (
        local_time("接收时间", tz),
        text("企业"),
        text("原因代码"),
        text("原因"),
        text("设备"),
        text("指标"),
        Column("次数", decimals=0),
        text("主题"),
        text("报文摘录"),
    )
    return Export("rejected", columns, sql, w.params)


_SUBJECTS = {
    "device": "SELECT device_id AS id, code AS label FROM devices WHERE device_id = ANY(%s)",
    "enterprise": "SELECT enterprise_id AS id, code || ' ' || name AS label FROM enterprises"
    " WHERE enterprise_id = ANY(%s)",
    "park": "SELECT park_id AS id, code || ' ' || name AS label FROM parks WHERE park_id = ANY(%s)",
}


def subject_names(conn: psycopg.Connection[Any], *, by: str, ids: list[Any]) -> dict[Any, str]:
    """Codes and names of completeness subjects the caller was already allowed to read (dict rows)."""
    if by not in _SUBJECTS:
        return {i: str(i) for i in ids}
    return {r["id"]: r["label"] for r in conn.execute(_SUBJECTS[by], (ids,)).fetchall()}
