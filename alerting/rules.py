"""Alert rules as validated values, and their loading from YAML or JSON-like dicts.

A rule watches one metric of the devices its scope selects and says when a series (rule, device)
is abnormal: a comparison of the reading (or of its average or its change over a window) with a
threshold, or no data for a while. Every bad field raises :class:`RuleError` naming the rule and
the value, so an operator loading a file sees exactly what to fix.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from alerting.entity import GATEWAY_KIND
from alerting.scope import ScopeLimitError, Selector, check_limits
from smartpark.catalogue import BY_CODE, DEVICE_KINDS, Category

# Readings that are not catalogue metrics but that rules may watch.
DEVICE_ONLINE = "device.online"  # 1 online / 0 offline, from the status topics (last will)
AIR_AQI = "air.aqi"  # hourly AQI of an air station from its latest concentrations (HJ 633)
# the device's effective transmission rate of its local day so far, in % (alerting/transmission.py)
EFFECTIVE_RATE_TODAY = "data.effective_rate_today_pct"
# a meter's largest 15-minute demand of its local month so far, in % of its contracted demand,
# and a parent meter's loss against its children over the last settled hour, in % of the parent
# (alerting/energy_levels.py)
DEMAND_RATIO_MONTH = "energy.demand_ratio_month_pct"
BALANCE_LOSS_HOUR = "energy.balance_loss_hour_pct"
ANY_METRIC = "*"  # no-data rules: any reading of the device
# figures the service computes itself as a periodic batch, judged as values only
PERIODIC_METRICS = (EFFECTIVE_RATE_TODAY, DEMAND_RATIO_MONTH, BALANCE_LOSS_HOUR)
PSEUDO_METRICS = (DEVICE_ONLINE, AIR_AQI, *PERIODIC_METRICS)

OPS = (">", ">=", "<", "<=", "outside")
OP_ALIASES = {"gt": ">", "ge": ">=", "≥": ">=", "lt": "<", "le": "<=", "≤": "<=", "band": "outside"}
# logger_silent: nodata for HJ 212 data loggers only (devices with an hj212_mn)
CONDITION_TYPES = ("value", "avg", "rate", "nodata", "logger_silent")
SILENCE_TYPES = ("nodata", "logger_silent")
SEVERITIES = ("critical", "major", "minor", "warning")
TRANSFORMS = ("o2_reference",)
OUTLET_LIMIT = "outlet_limit"  # condition threshold: the limit of each outlet (permit or default)
CATEGORIES = tuple(c.value for c in Category)
MAX_WINDOW_S = 7 * 86400
MAX_LABELS = 32

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


class RuleError(ValueError):
    """A rule (or rule file) that cannot be used; the message names the rule and the value."""


class ScopeTooLarge(RuleError):
    """A rule whose scope is beyond the documented limits (``alerting.scope``)."""


def parse_duration(raw: Any, what: str = "duration") -> float:
    """Seconds from ``90``, ``"90s"``, ``"5m"``, ``"1h"``, ``"1d"``, ``"250ms"``."""
    if isinstance(raw, bool):
        raise RuleError(f"{what} {raw!r} is not a duration")
    if isinstance(raw, int | float):
        seconds = float(raw)
    elif isinstance(raw, str) and (m := _DURATION.match(raw)):
        seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
    else:
        raise RuleError(f"{what} {raw!r} is not a duration like 30s, 5m, 1h")
    if not math.isfinite(seconds) or seconds < 0 or seconds > MAX_WINDOW_S:
        raise RuleError(f"{what} {raw!r} is outside 0..{MAX_WINDOW_S} s")
    return seconds


@dataclass(frozen=True, slots=True)
class Condition:
    type: str = "value"  # value | avg | rate | nodata | logger_silent
    op: str = ">"
    threshold: float = 0.0
    high: float = 0.0  # upper bound of the band for "outside" (threshold is the lower)
    window_s: float = 0.0  # avg / rate window; nodata: silence that raises the alarm
    outlet_limit: bool = False  # the threshold is each outlet's limit (smartpark.limits), not ``threshold``

    def __post_init__(self) -> None:
        if self.type not in CONDITION_TYPES:
            raise RuleError(f"condition type {self.type!r} is not one of {', '.join(CONDITION_TYPES)}")
        if self.op not in OPS:
            raise RuleError(f"operator {self.op!r} is not one of {', '.join(OPS)}")
        for name in ("threshold", "high"):
            if not math.isfinite(getattr(self, name)):
                raise RuleError(f"{name} {getattr(self, name)!r} is not a finite number")
        if self.op == "outside" and not self.threshold < self.high:
            raise RuleError(f"band [{self.threshold}, {self.high}] is empty")
        if self.type in ("avg", "rate", *SILENCE_TYPES) and self.window_s <= 0:
            raise RuleError(f"a {self.type} condition needs a window > 0")
        if self.outlet_limit and (self.op not in (">", ">=") or self.type not in ("value", "avg")):
            raise RuleError("threshold outlet_limit needs op > or >= on a value or avg condition")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    metric: str
    condition: Condition
    severity: str
    category: str
    scope: Selector = field(default_factory=Selector)
    for_s: float = 0.0
    hysteresis: float = 0.0  # the value must come back this far past the threshold to clear
    transform: str | None = None  # o2_reference: compare the concentration at the reference O2
    summary: str = ""
    source: str = ""  # the standard or document the threshold comes from
    labels: Mapping[str, str] = field(default_factory=dict)
    enabled: bool = True

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise RuleError(f"rule id {self.id!r} must match {_ID.pattern}")
        where = f"rule {self.id!r}"
        any_ok = self.metric == ANY_METRIC and self.condition.type in SILENCE_TYPES
        if self.metric not in BY_CODE and self.metric not in PSEUDO_METRICS and not any_ok:
            raise RuleError(f"{where}: unknown metric {self.metric!r}")
        if self.condition.type == "logger_silent" and self.metric != ANY_METRIC:
            raise RuleError(f"{where}: a logger_silent condition watches metric '*' (any reading)")
        if self.metric in PERIODIC_METRICS and self.condition.type != "value":
            raise RuleError(f"{where}: {self.metric} is judged as a value, not {self.condition.type!r}")
        if self.severity not in SEVERITIES:
            raise RuleError(f"{where}: severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        if self.category not in CATEGORIES:
            raise RuleError(f"{where}: category {self.category!r} is not one of {', '.join(CATEGORIES)}")
        if not math.isfinite(self.hysteresis) or self.hysteresis < 0:
            raise RuleError(f"{where}: hysteresis {self.hysteresis!r} must be a number >= 0")
        if self.condition.op == "outside" and 2 * self.hysteresis >= self.condition.high - self.condition.threshold:
            raise RuleError(f"{where}: hysteresis {self.hysteresis!r} leaves no band to clear into")
        if self.transform is not None and self.transform not in TRANSFORMS:
            raise RuleError(f"{where}: transform {self.transform!r} is not one of {', '.join(TRANSFORMS)}")
        if self.transform == "o2_reference" and not self.metric.startswith("stack."):
            raise RuleError(f"{where}: o2_reference applies to stack concentrations, not {self.metric!r}")
        try:
            check_limits(self.scope)
        except ScopeLimitError as exc:
            raise ScopeTooLarge(f"{where}: {exc}") from None
        for kind in self.scope.kinds:
            if kind != GATEWAY_KIND and kind not in DEVICE_KINDS and not any(c in kind for c in "*?["):
                raise RuleError(f"{where}: unknown device kind {kind!r} in scope")
        if len(self.labels) > MAX_LABELS:
            raise RuleError(f"{where}: more than {MAX_LABELS} labels")
        for k, v in self.labels.items():
            if not _LABEL.match(k) or not isinstance(v, str) or len(v) > 200:
                raise RuleError(f"{where}: label {k!r}={v!r} is not a short string label")

    @property
    def is_window(self) -> bool:
        return self.condition.type in ("avg", "rate")


def _tuple(raw: Any, what: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise RuleError(f"{what} {raw!r} must be a string or a list of strings")
    return tuple(raw)


def _number(raw: Any, what: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise RuleError(f"{what} {raw!r} is not a number")
    return float(raw)


_RULE_KEYS = {
    "id",
    "metric",
    "condition",
    "severity",
    "category",
    "scope",
    "for",
    "hysteresis",
    "transform",
    "summary",
    "source",
    "labels",
    "enabled",
}
_CONDITION_KEYS = {"type", "op", "threshold", "band", "window"}
_SCOPE_KEYS = {"parks", "enterprises", "devices", "kinds", "zones"}


def _unknown(d: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(d) - allowed)
    if extra:
        raise RuleError(f"{where}: unknown field(s) {', '.join(map(repr, extra))}")


def condition_from_dict(raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: condition {raw!r} must be a mapping")
    _unknown(raw, _CONDITION_KEYS, f"{where} condition")
    ctype = raw.get("type", "value")
    op = raw.get("op", "outside" if "band" in raw else ">")
    op = OP_ALIASES.get(op, op) if isinstance(op, str) else op
    lo = hi = 0.0
    per_outlet = False
    if op == "outside":
        band = raw.get("band")
        if not isinstance(band, list) or len(band) != 2:
            raise RuleError(f"{where}: band {band!r} must be [low, high]")
        lo, hi = (_number(b, f"{where}: band bound") for b in band)
    elif ctype not in SILENCE_TYPES:
        if "threshold" not in raw:
            raise RuleError(f"{where}: condition needs a threshold")
        if raw["threshold"] == OUTLET_LIMIT:
            per_outlet = True
        else:
            lo = _number(raw["threshold"], f"{where}: threshold")
    window = parse_duration(raw["window"], f"{where}: window") if "window" in raw else 0.0
    try:
        return Condition(type=ctype, op=op, threshold=lo, high=hi, window_s=window, outlet_limit=per_outlet)
    except RuleError as exc:
        raise RuleError(f"{where}: {exc}") from None


def rule_from_dict(raw: Any, where: str = "rule") -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: {raw!r} is not a mapping")
    if isinstance(raw.get("id"), str):
        where = f"{where} ({raw['id']})"
    _unknown(raw, _RULE_KEYS, where)
    for key in ("id", "metric", "severity", "category"):
        if not isinstance(raw.get(key), str):
            raise RuleError(f"{where}: {key} {raw.get(key)!r} must be a string")
    scope_raw = raw.get("scope") or {}
    if not isinstance(scope_raw, dict):
        raise RuleError(f"{where}: scope {scope_raw!r} must be a mapping")
    _unknown(scope_raw, _SCOPE_KEYS, f"{where} scope")
    scope = Selector(**{k: _tuple(scope_raw.get(k), f"{where}: scope.{k}") for k in _SCOPE_KEYS})
    labels = raw.get("labels") or {}
    if not isinstance(labels, dict):
        raise RuleError(f"{where}: labels {labels!r} must be a mapping")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleError(f"{where}: enabled {enabled!r} must be true or false")
    try:
        return Rule(
            id=raw["id"],
            metric=raw["metric"],
            condition=condition_from_dict(raw.get("condition"), where),
            severity=raw["severity"],
            category=raw["category"],
            scope=scope,
            for_s=parse_duration(raw.get("for", 0), f"{where}: for"),
            hysteresis=_number(raw.get("hysteresis", 0), f"{where}: hysteresis"),
            transform=raw.get("transform"),
            summary=str(raw.get("summary", ""))[:500],
            source=str(raw.get("source", ""))[:500],
            labels={str(k): v for k, v in labels.items()},
            enabled=enabled,
        )
    except RuleError as exc:
        msg = str(exc).removeprefix(f"rule {raw['id']!r}: ")
        raise type(exc)(msg if msg.startswith(where) else f"{where}: {msg}") from None


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """The YAML/JSON shape of a rule (inverse of :func:`rule_from_dict`), stored in the database."""
    c = rule.condition
    cond: dict[str, Any] = {"type": c.type, "op": c.op}
    if c.op == "outside":
        cond["band"] = [c.threshold, c.high]
    elif c.type not in SILENCE_TYPES:
        cond["threshold"] = OUTLET_LIMIT if c.outlet_limit else c.threshold
    if c.window_s:
        cond["window"] = c.window_s
    scope = {k: list(getattr(rule.scope, k)) for k in _SCOPE_KEYS if getattr(rule.scope, k)}
    out: dict[str, Any] = {
        "id": rule.id,
        "metric": rule.metric,
        "condition": cond,
        "severity": rule.severity,
        "category": rule.category,
        "scope": scope,
        "for": rule.for_s,
        "hysteresis": rule.hysteresis,
        "summary": rule.summary,
        "source": rule.source,
        "labels": dict(rule.labels),
        "enabled": rule.enabled,
    }
    if rule.transform:
        out["transform"] = rule.transform
    return out


def rules_from_list(raw: Any, where: str = "rules") -> list[Rule]:
    if not isinstance(raw, list):
        raise RuleError(f"{where} must be a list, not {type(raw).__name__}")
    rules = [rule_from_dict(r, f"{where}[{i}]") for i, r in enumerate(raw)]
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            raise RuleError(f"{where}: duplicate rule id {r.id!r}")
        seen.add(r.id)
    return rules


def load_document(text: str, source: str = "<text>") -> dict[str, Any]:
    """Parse a rule file: a mapping with ``rules`` (and optionally ``inhibit``, ``receivers``)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or "rules" not in doc:
        raise RuleError(f"{source}: expected a mapping with a 'rules' list")
    return doc


def load_rules(text: str, source: str = "<text>") -> list[Rule]:
    return rules_from_list(load_document(text, source)["rules"], f"{source}: rules")


def load_rules_file(path: str | Path) -> list[Rule]:
    p = Path(path)
    return load_rules(p.read_text(encoding="utf-8"), str(p))


DEFAULT_RULES_PATH = Path(__file__).with_name("default_rules.yaml")


def default_document() -> dict[str, Any]:
    return load_document(DEFAULT_RULES_PATH.read_text(encoding="utf-8"), str(DEFAULT_RULES_PATH))


def default_rules() -> list[Rule]:
    return rules_from_list(default_document()["rules"], f"{DEFAULT_RULES_PATH.name}: rules")


def by_id(rules: Iterable[Rule]) -> dict[str, Rule]:
    return {r.id: r for r in rules}


def metrics_watched(rules: Sequence[Rule]) -> set[str]:
    return {r.metric for r in rules}
