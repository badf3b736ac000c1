"""The API's nested statistics and completeness answers as flat tables (pure): one row per
period or group, one column per figure, headed in Chinese with units. Groups the caller may not
read are null in every row and get no column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reports import labels
from reports.model import Column, Table, table, text

GROUPS = ("energy", "emissions", "economic", "intensities")


def statistics(title: str, rows: Sequence[Mapping[str, Any]]) -> Table:
    """Statistics rows (``GET /statistics/…``'s ``rows``) as a table: period, readings, then
    each readable group's figures, then the day's AQI where there is one."""
    keys: list[str] = []
    for group in GROUPS:
        present = next((r[group] for r in rows if r.get(group)), None)
        keys += [k for k in present or {} if k in labels.INDICATORS]
    with_aqi = any(r.get("aqi") for r in rows)
    columns = [text("周期"), labels.column("readings"), *(labels.column(k) for k in keys)]
    if with_aqi:
        columns += [Column("AQI", decimals=0), text("首要污染物"), text("空气质量类别")]
    out = []
    for r in rows:
        merged: dict[str, Any] = {}
        for group in GROUPS:
            merged.update(r.get(group) or {})
        cells: list[Any] = [_period(r["period"]), r.get("readings"), *(merged.get(k) for k in keys)]
        if with_aqi:
            aqi = r.get("aqi") or {}
            cells += [aqi.get("aqi"), "、".join(aqi.get("primary") or []), aqi.get("category")]
        out.append(cells)
    return table(title, columns, out)


def _period(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


COMPLETENESS_SUBJECT = {"device": "设备", "enterprise": "企业", "park": "园区", "category": "类别"}


def completeness(title: str, by: str, rows: Sequence[Mapping[str, Any]], names: Mapping[Any, str]) -> Table:
    """Completeness rows (``GET /completeness``) with each subject's code or name from ``names``."""
    columns = [
        text(COMPLETENESS_SUBJECT[by]),
        text("周期"),
        Column("应收条数", decimals=0),
        Column("实收条数", decimals=0),
        Column("有效条数", decimals=0),
        Column("传输率", "%", decimals=2),
        Column("有效率", "%", decimals=2),
        Column("有效传输率", "%", decimals=2),
    ]
    out = []
    for r in rows:
        subject = r.get(by)
        out.append(
            [
                names.get(subject, str(subject)),
                r["period"],
                r["expected"],
                r["received"],
                r["valid"],
                *(_percent(r.get(k)) for k in ("transmission_rate", "validity_rate", "effective_rate")),
            ]
        )
    return table(title, columns, out)


def _percent(rate: float | None) -> float | None:
    return None if rate is None else rate * 100.0
