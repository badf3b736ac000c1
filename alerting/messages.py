"""What a page says, in the park's language (pure): what, where, the value with its unit and
the limit, since when, severity, and the link to acknowledge it.

One alarm reads as a full message; several (a group, or a backlog held back by a channel's rate
limit) read as one summary, so a storm becomes a few messages per person instead of a thousand.
The SMS form fits one 70-character Chinese SMS unit (UCS-2: 70 characters, the provider's
signature 【…】 included), so a page is never split into parts that arrive out of order.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

SMS_UNIT = 70  # characters of one SMS in UCS-2 (GSM 03.38 / 3GPP TS 23.038: 140 octets / 2)
SUMMARY_LINES = 10  # alarms listed in a summary; the rest are counted
LANGUAGES = ("zh", "en")

_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "critical": "紧急",
        "major": "严重",
        "minor": "一般",
        "warning": "提示",
        "firing": "告警",
        "resolved": "已恢复",
        "what": "告警",
        "where": "位置",
        "value": "当前值",
        "limit": "限值",
        "since": "开始时间",
        "severity": "级别",
        "ack": "确认处理",
        "summary": "{n} 条告警",
        "more": "另有 {n} 条",
        "park": "园区",
        "enterprise": "企业",
        "device": "设备",
        "zone": "区域",
        "nodata": "无数据超过 {w}",
        "logger_silent": "数采仪无数据超过 {w}",
        "outside": "{lo}–{hi} 之外",
        "avg": "平均值",
        "rate": "变化率",
        "sms_ack": "确认",
        "sms_since": "起",
        "sms_summary": "{n}条",
    },
    "en": {
        "critical": "CRITICAL",
        "major": "MAJOR",
        "minor": "MINOR",
        "warning": "WARNING",
        "firing": "FIRING",
        "resolved": "RESOLVED",
        "what": "Alarm",
        "where": "Where",
        "value": "Value",
        "limit": "Limit",
        "since": "Since",
        "severity": "Severity",
        "ack": "Acknowledge",
        "summary": "{n} alarms",
        "more": "{n} more",
        "park": "park",
        "enterprise": "enterprise",
        "device": "device",
        "zone": "zone",
        "nodata": "no data for {w}",
        "logger_silent": "data logger silent for {w}",
        "outside": "outside {lo}–{hi}",
        "avg": "average",
        "rate": "rate",
        "sms_ack": "ack",
        "sms_since": "",
        "sms_summary": "{n}x ",
    },
}
_OPS = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "==": "=", "!=": "≠"}
_SEVERITY_ORDER = ("critical", "major", "minor", "warning")


@dataclass(frozen=True, slots=True)
class AlarmFacts:
    """One alarm as a page tells it."""

    alert_id: int
    status: str  # firing | resolved
    severity: str
    what: str  # the rule's summary
    park: str
    enterprise: str
    device: str
    zone: str
    value: float | None
    unit: str
    limit: str  # e.g. "≥ 25 %LEL", already in the message's language
    since_ms: int
    timezone: str = "Asia/Shanghai"
    ack_url: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    text: str  # plain text (email, Feishu text)
    html: str
    markdown: str  # WeCom and DingTalk markdown
    sms: str


def language(raw: Any) -> str:
    return raw if raw in LANGUAGES else "zh"


def number(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:.6g}"


def limit_text(condition: Mapping[str, Any] | None, unit: str, lang: str) -> str:
    """A rule's condition as the limit a person reads: "≥ 25 %LEL", "19.5–23.5 之外"."""
    t = _TEXT[language(lang)]
    if not condition:
        return "–"
    kind = condition.get("type", "threshold")
    if kind in ("nodata", "logger_silent"):
        return t[kind].format(w=str(condition.get("window", "")))
    prefix = f"{t[kind]} " if kind in ("avg", "rate") else ""
    if condition.get("op") == "outside" or "band" in condition:
        band = condition.get("band") or [condition.get("threshold"), condition.get("high")]
        return prefix + t["outside"].format(lo=number(band[0]), hi=number(band[1])) + (f" {unit}" if unit else "")
    op = _OPS.get(str(condition.get("op")), str(condition.get("op", "")))
    return f"{prefix}{op} {number(condition.get('threshold'))}" + (f" {unit}" if unit else "")


def local_time(ms: int, tz: str, with_date: bool = True) -> str:
    at = datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(tz))
    return at.strftime("%Y-%m-%d %H:%M:%S %Z" if with_date else "%H:%M")


def _where(f: AlarmFacts, lang: str) -> str:
    t = _TEXT[lang]
    parts = [(t["park"], f.park), (t["enterprise"], f.enterprise), (t["device"], f.device), (t["zone"], f.zone)]
    return " / ".join(f"{k} {v}" for k, v in parts if v)


def _fields(f: AlarmFacts, lang: str) -> list[tuple[str, str]]:
    t = _TEXT[lang]
    value = number(f.value) + (f" {f.unit}" if f.unit and f.value is not None else "")
    return [
        (t["what"], f"{f.what} ({t[f.status]})"),
        (t["where"], _where(f, lang)),
        (t["value"], value),
        (t["limit"], f.limit),
        (t["since"], local_time(f.since_ms, f.timezone)),
        (t["severity"], t.get(f.severity, f.severity)),
    ]


def _one_line(f: AlarmFacts, lang: str) -> str:
    t = _TEXT[lang]
    unit = f" {f.unit}" if f.unit else ""
    return (
        f"[{t.get(f.severity, f.severity)}] {f.what} · {f.park} {f.enterprise} {f.device} {f.zone}".rstrip()
        + f" · {number(f.value)}{unit} ({f.limit}) · {local_time(f.since_ms, f.timezone, with_date=False)}"
    )


def _worst(facts: Sequence[AlarmFacts]) -> AlarmFacts:
    return min(facts, key=lambda f: _SEVERITY_ORDER.index(f.severity) if f.severity in _SEVERITY_ORDER else 9)


def render(facts: Sequence[AlarmFacts], lang: str = "zh", sms_sign: str = "") -> Message:
    """One alarm: the full message; several: a summary listing the first SUMMARY_LINES."""
    if not facts:
        raise ValueError("a message needs at least one alarm")
    lang = language(lang)
    t = _TEXT[lang]
    if len(facts) == 1:
        f = facts[0]
        subject = f"[{t.get(f.severity, f.severity)}] {f.what} · {f.park} {f.device} ({t[f.status]})"
        fields = _fields(f, lang)
        text = "\n".join(f"{k}: {v}" for k, v in fields)
        md = "\n".join(f"**{k}**: {v}  " for k, v in fields)
        rows = "".join(f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in fields)
        body_html = f"<table>{rows}</table>"
        if f.ack_url:
            text += f"\n{t['ack']}: {f.ack_url}"
            md += f"\n[{t['ack']}]({f.ack_url})"
            body_html += f"<p><a href='{html.escape(f.ack_url, quote=True)}'>{html.escape(t['ack'])}</a></p>"
    else:
        worst = _worst(facts)
        subject = f"[{t.get(worst.severity, worst.severity)}] " + t["summary"].format(n=len(facts))
        shown = facts[:SUMMARY_LINES]
        lines = [_one_line(f, lang) for f in shown]
        links = [f.ack_url for f in shown]
        more = len(facts) - len(shown)
        text = "\n".join(line + (f"\n  {t['ack']}: {u}" if u else "") for line, u in zip(lines, links, strict=True))
        md = "\n".join(f"- {line}" + (f" [{t['ack']}]({u})" if u else "") for line, u in zip(lines, links, strict=True))
        items = "".join(
            f"<li>{html.escape(line)}"
            + (f" <a href='{html.escape(u, quote=True)}'>{html.escape(t['ack'])}</a>" if u else "")
            + "</li>"
            for line, u in zip(lines, links, strict=True)
        )
        body_html = f"<ul>{items}</ul>"
        if more:
            text += "\n" + t["more"].format(n=more)
            md += "\n" + t["more"].format(n=more)
            body_html += f"<p>{html.escape(t['more'].format(n=more))}</p>"
    page = f"<html><body><h3>{html.escape(subject)}</h3>{body_html}</body></html>"
    return Message(subject, text, page, f"### {subject}\n{md}", sms_text(facts, lang, sms_sign))


def sms_text(facts: Sequence[AlarmFacts], lang: str = "zh", sign: str = "", unit: int = SMS_UNIT) -> str:
    """At most ``unit`` characters together with the signature 【sign】 that the provider puts in
    front (the text returned leaves it out). Kept whole: severity, the value
    against the limit and the link (with a signature so long that nothing else fits, the value
    and the link alone); then, as room allows, the device, the start time, the zone,
    the enterprise, the park and what the alarm is (the richest form that fits is sent)."""
    lang = language(lang)
    t = _TEXT[lang]
    f = _worst(facts) if len(facts) > 1 else facts[0]
    unit -= len(f"【{sign}】") if sign else 0
    sev = t.get(f.severity, f.severity) + ("" if f.status == "firing" else t["resolved"])
    if len(facts) > 1:
        sev = t["sms_summary"].format(n=len(facts)) + sev
    limit = f.limit.replace(f.unit, "").replace(" ", "") if f.unit else f.limit.replace(" ", "")
    value = f"{number(f.value)}{f.unit}({limit})"
    link = f" {t['sms_ack']}{f.ack_url}" if f.ack_url else ""
    when = local_time(f.since_ms, f.timezone, with_date=False) + t["sms_since"]
    sep = "" if lang == "zh" else " "
    optional = [f.device, when, f.zone, f.enterprise, f.park, f.what]
    for keep in range(len(optional), -1, -1):
        chosen = [p for p in optional[:keep] if p]
        # reading order: where, what, value, since
        where = sep.join(p for p in (f.park, f.enterprise, f.zone, f.device) if p in chosen)
        what = f.what if f.what in chosen else ""
        text = f"{sev}:{where}{sep if where and what else ''}{what} {value}" + (f" {when}" if when in chosen else "")
        if len(text) + len(link) <= unit:
            return text + link
    bare = f"{sev}:{number(f.value)}{f.unit}"  # a long signature: the limit gives way first
    return (bare[: max(0, unit - len(link))] + link)[:unit]
