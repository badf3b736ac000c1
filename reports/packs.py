"""The two scheduled report packs as :class:`reports.model.Report` data (rendered elsewhere):

- the daily operations report: energy by carrier and enterprise, emissions and exceedances, the
  AQI, alarms and their handling, completeness;
- the monthly statistics report: Article 21's groups, energy, emissions and economic figures by
  enterprise, the month's days, alarms and completeness.

A park's pack covers the park and compares its enterprises; an enterprise's pack covers that
enterprise only (it is read with the enterprise's own scope).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import psycopg

from api.statistics import article_21
from reports import flatten, labels, sources
from reports.model import Chart, Column, Report, Section, Table, chart, table, text
from reports.sources import Subject

CARRIER_KEYS = ("electricity_kwh", "natural_gas_nm3", "steam_t", "heat_gj", "raw_coal_t", "water_m3")
ENERGY_KEYS = (*CARRIER_KEYS, "tce_equivalent", "co2_t")
EMISSION_KEYS = ("so2_kg", "nox_kg", "dust_kg", "cod_kg", "nh3n_kg", "exceedance_minutes")
ECONOMIC_KEYS = ("output_value", "value_added", "tax", "fixed_asset_investment", "employees", "rd_expense")
TOP_BARS = 15


def daily(conn: psycopg.Connection[Any], s: Subject, day: date, *, default_interval_s: float = 60.0) -> Report:
    end = day + timedelta(days=1)
    rows = sources.statistics(conn, s, period="day", start=day, end=end)
    own = rows[0] if rows else None
    ents = sources.by_enterprise(conn, s, period="day", start=day, end=end)
    cats = s.principal.categories
    sections = []
    if "energy" in cats:
        sections.append(_energy(own, ents, load=sources.hourly_load(conn, s, day=day)))
    if "emissions" in cats:
        sections.append(_emissions(own, ents))
    if own is not None and own.get("aqi"):
        sections.append(_air(own["aqi"]))
    sections.append(_alarms(conn, s, day, end))
    sections.append(_completeness(conn, s, day, day, default_interval_s))
    return Report(f"{s.name} 运行日报 {day.isoformat()}", _subtitle(s), tuple(sections))


def monthly(conn: psycopg.Connection[Any], s: Subject, month: date, *, default_interval_s: float = 60.0) -> Report:
    month = month.replace(day=1)
    end = (month + timedelta(days=32)).replace(day=1)
    rows = sources.statistics(conn, s, period="month", start=month, end=end)
    own = rows[0] if rows else None
    days = sources.statistics(conn, s, period="day", start=month, end=end)
    ents = sources.by_enterprise(conn, s, period="month", start=month, end=end)
    cats = s.principal.categories
    sections = []
    if own is not None and s.enterprise is None and "energy" in cats:
        sections.append(_article_21(own))
    if "energy" in cats:
        sections.append(_energy(own, ents, days=days))
    if "emissions" in cats:
        sections.append(_emissions(own, ents, days=days))
    if own is not None and own.get("economic"):
        sections.append(_economic(conn, s, own, month, end))
    sections.append(_alarms(conn, s, month, end))
    sections.append(_completeness(conn, s, month, end - timedelta(days=1), default_interval_s))
    return Report(f"{s.name} 月度统计报表 {month:%Y-%m}", _subtitle(s), tuple(sections))


def _subtitle(s: Subject) -> str:
    park = s.park
    who = f"园区 {park['code']} {park['name']}"
    if s.enterprise:
        who += f" · 企业 {s.enterprise['code']} {s.enterprise['name']}"
    return f"{who} · 时区 {park['timezone']}"


def _figures(keys: Sequence[str], group: Mapping[str, Any] | None) -> list[Any]:
    return [(group or {}).get(k) for k in keys]


def _by_enterprise(title: str, keys: Sequence[str], ents: Sequence[Mapping[str, Any]]) -> Table:
    columns = [text("企业编码"), text("企业名称"), *(labels.column(k) for k in keys)]
    return table(title, columns, [[e["code"], e["name"], *(_float(e.get(k)) for k in keys)] for e in ents])


def _top(title: str, key: str, ents: Sequence[Mapping[str, Any]]) -> Chart:
    ranked = sorted((e for e in ents if e.get(key)), key=lambda e: -float(e[key]))[:TOP_BARS]
    name, unit, _ = labels.INDICATORS[key]
    return chart(title, "bar", [e["code"] for e in ranked], {name: [float(e[key]) for e in ranked]}, unit)


def _days_chart(title: str, key: str, days: Sequence[Mapping[str, Any]], group: str) -> Chart:
    name, unit, _ = labels.INDICATORS[key]
    values = [_float((d.get(group) or {}).get(key)) for d in days]
    return chart(title, "line", [f"{d['period']:%d}" for d in days], {name: values}, unit)


def _energy(
    own: Mapping[str, Any] | None,
    ents: Sequence[Mapping[str, Any]],
    *,
    load: Sequence[tuple[str, float | None]] = (),
    days: Sequence[Mapping[str, Any]] = (),
) -> Section:
    totals = table(
        "能源消费合计（按品种）",
        [labels.column(k) for k in ENERGY_KEYS],
        [_figures(ENERGY_KEYS, own and own.get("energy"))] if own else [],
    )
    tables, charts = [totals], []
    carriers = (own or {}).get("tce_by_carrier") or {}
    if carriers:
        names = [labels.CARRIERS_ZH.get(c, c) for c in carriers]
        charts.append(chart("综合能耗构成（按品种）", "bar", names, {"标准煤": list(carriers.values())}, "tce"))
    if ents:
        tables.append(_by_enterprise("各企业能源消费", ENERGY_KEYS, ents))
        charts.append(_top(f"综合能耗前 {TOP_BARS} 名企业", "tce_equivalent", ents))
    if load:
        charts.append(chart("电力负荷（逐时）", "line", [h for h, _ in load], {"有功功率": [v for _, v in load]}, "kW"))
    if days:
        charts.append(_days_chart("每日综合能耗", "tce_equivalent", days, "energy"))
    notes = ("无能源数据（该期间尚未计算或无权查看）",) if own is None else ()
    return Section("能源", notes, tuple(tables), tuple(charts))


def _emissions(
    own: Mapping[str, Any] | None, ents: Sequence[Mapping[str, Any]], *, days: Sequence[Mapping[str, Any]] = ()
) -> Section:
    tables = [
        table(
            "污染物排放与超标",
            [labels.column(k) for k in EMISSION_KEYS],
            [_figures(EMISSION_KEYS, own and own.get("emissions"))] if own else [],
        )
    ]
    emitting = [e for e in ents if any(e.get(k) for k in EMISSION_KEYS)]
    if emitting:
        tables.append(_by_enterprise("各企业排放", EMISSION_KEYS, emitting))
    charts = [_top("超标时长（按企业）", "exceedance_minutes", emitting)] if emitting else []
    if days:
        charts.append(_days_chart("每日超标时长", "exceedance_minutes", days, "emissions"))
    return Section("排放", (), tuple(tables), tuple(charts))


def _air(aqi: Mapping[str, Any]) -> Section:
    iaqi = aqi.get("iaqi") or {}
    primary = "、".join(aqi.get("primary") or [])
    rows = [[aqi.get("aqi"), aqi.get("level"), aqi.get("category"), primary, aqi.get("edition")]]
    summary = table(
        "日空气质量指数（HJ 633）",
        [
            Column("AQI", decimals=0),
            Column("级别", decimals=0),
            text("类别"),
            text("首要污染物"),
            text("标准版本"),
        ],
        rows,
    )
    parts = table("分指数", [text("污染物"), Column("IAQI", decimals=0)], [[k, v] for k, v in iaqi.items()])
    bars = chart("空气质量分指数", "bar", list(iaqi), {"IAQI": [float(v) for v in iaqi.values()]})
    return Section("空气质量", (), (summary, parts), (bars,) if iaqi else ())


ALARM_COUNT_COLUMNS = (
    text("级别"),
    text("类别"),
    Column("发生", "次", decimals=0),
    Column("已确认", "次", decimals=0),
    Column("已恢复", "次", decimals=0),
    Column("确认用时中位数", "min", decimals=1),
)
ALARM_COLUMNS = (
    text("开始时间"),
    text("级别"),
    text("类别"),
    text("状态"),
    text("摘要"),
    text("确认人"),
    text("恢复时间"),
)


def _alarms(conn: psycopg.Connection[Any], s: Subject, start: date, end: date) -> Section:
    counts = sources.alarm_counts(conn, s, start=start, end=end)
    count_rows = [
        [
            labels.SEVERITY_ZH.get(c["severity"], c["severity"]),
            labels.CATEGORY_ZH.get(c["category"], c["category"]),
            c["started"],
            c["acknowledged"],
            c["resolved"],
            _float(c["ack_minutes"]),
        ]
        for c in counts
    ]
    listed = sources.alarms(conn, s, start=start, end=end)
    tz = s.park["timezone"]
    alarm_rows = [
        [
            _local(a["started_at"], tz),
            labels.SEVERITY_ZH.get(a["severity"], a["severity"]),
            labels.CATEGORY_ZH.get(a["category"], a["category"]),
            labels.STATE_ZH.get(a["state"], a["state"]),
            a["summary"],
            a["acknowledged_by"],
            _local(a["resolved_at"], tz),
        ]
        for a in listed
    ]
    by_severity: dict[str, float] = {}
    for c in counts:
        name = labels.SEVERITY_ZH.get(c["severity"], c["severity"])
        by_severity[name] = by_severity.get(name, 0.0) + c["started"]
    charts = (chart("告警（按级别）", "bar", list(by_severity), {"告警": list(by_severity.values())}, "次"),)
    notes = (f"逐条列出最多 {sources.MAX_ALARMS} 条告警；统计覆盖全部。",) if len(listed) >= sources.MAX_ALARMS else ()
    return Section(
        "告警及处置",
        notes,
        (table("告警统计", ALARM_COUNT_COLUMNS, count_rows), table("告警明细", ALARM_COLUMNS, alarm_rows)),
        charts if counts else (),
    )


def _completeness(conn: psycopg.Connection[Any], s: Subject, first: date, last: date, interval_s: float) -> Section:
    rows = sources.completeness_rows(conn, s, first=first, last=last, default_interval_s=interval_s)
    by = "device" if s.enterprise else "enterprise"
    ids = sorted({r[by] for r in rows if r.get(by) is not None})
    names = _names(conn, by, ids)
    t = flatten.completeness(f"数据完整率 {first.isoformat()} 至 {last.isoformat()}", by, rows, names)
    return Section("数据完整率", (), (t,))


def _article_21(own: Mapping[str, Any]) -> Section:
    groups = own.get("article_21") or article_21(own)
    rows = []
    for group, figures in groups.items():
        for key, value in figures.items():
            name, unit, _ = labels.INDICATORS.get(key, (key, "", 2))
            rows.append([labels.ARTICLE_21_GROUPS_ZH.get(group, group), name, unit, value])
    columns = [text("分组"), text("指标"), text("单位"), Column("数值", decimals=4)]
    notes = ("按《条例》第二十一条的统计分组；空白为未报送或无法计算。",)
    return Section("第二十一条统计指标", notes, (table("统计指标", columns, rows),))


def _economic(conn: psycopg.Connection[Any], s: Subject, own: Mapping[str, Any], start: date, end: date) -> Section:
    from api.queries.statistics import list_reports

    rows = list_reports(
        conn,
        s.principal,
        park_id=s.park["park_id"],
        enterprise_id=s.enterprise_id,
        start=start,
        end=end,
        limit=10_000,
        offset=0,
    )
    codes = {
        e["enterprise_id"]: e["code"]
        for e in conn.execute(
            "SELECT enterprise_id, code FROM enterprises WHERE park_id = %s", (s.park["park_id"],)
        ).fetchall()
    }
    keys = ECONOMIC_KEYS
    total = table("经济指标合计", [labels.column(k) for k in keys], [_figures(keys, own.get("economic"))])
    each = table(
        "各企业经济指标",
        [text("企业编码"), *(labels.column(k) for k in keys)],
        [[codes.get(r["enterprise_id"], str(r["enterprise_id"])), *(_float(r.get(k)) for k in keys)] for r in rows],
    )
    return Section("经济运行", (), (total, each) if s.enterprise is None else (total,))


def _names(conn: psycopg.Connection[Any], by: str, ids: list[Any]) -> dict[Any, str]:
    from api.queries.exports import subject_names

    return subject_names(conn, by=by, ids=ids)


def _local(ts: Any, tz: str) -> str | None:
    from zoneinfo import ZoneInfo

    return None if ts is None else ts.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _float(v: Any) -> float | None:
    return None if v is None else float(v)
