"""From alarms to notifications (pure; the clock is passed in): receivers, grouping, repeat,
silences and inhibition, in the order Alertmanager taught (group → inhibit → silence), with the
alarm kept and recorded whatever happens to its notification.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerting import channels
from alerting.channels import PAGING_CHANNELS
from alerting.linear_regex import LinearRegex, PatternError
from alerting.rules import CATEGORIES, RuleError

_MATCHER = re.compile(r"^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True, slots=True)
class Matcher:
    """``label=value``, ``label!=value``, ``label=~regex``, ``label!~regex``. Regexes are of the
    subset that ``alerting.linear_regex`` matches in linear time (checked here, when the matcher
    is made), so no silence can stall the alerting loop."""

    name: str
    op: str  # = != =~ !~
    value: str
    regex: LinearRegex | None = field(default=None, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        if self.op in ("=~", "!~"):
            try:
                object.__setattr__(self, "regex", LinearRegex(self.value))
            except PatternError as exc:
                raise RuleError(f"matcher {self.name}{self.op}{self.value!r}: {exc}") from None
        elif self.op not in ("=", "!="):
            raise RuleError(f"matcher operator {self.op!r} is not one of = != =~ !~")

    @classmethod
    def parse(cls, text: Any) -> Matcher:
        m = _MATCHER.match(text) if isinstance(text, str) and len(text) <= 500 else None
        if m is None:
            raise RuleError(f"matcher {text!r} must look like label=value, label!=value, label=~regex")
        value = m.group(3)
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        return cls(m.group(1), m.group(2), value)

    def matches(self, labels: Mapping[str, str]) -> bool:
        v = labels.get(self.name, "")
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        assert self.regex is not None
        hit = self.regex.fullmatch(v)
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"


def parse_matchers(raw: Any, what: str = "matchers") -> tuple[Matcher, ...]:
    if not isinstance(raw, list | tuple) or not raw or len(raw) > 50:
        raise RuleError(f"{what} {raw!r} must be a non-empty list of label matchers")
    return tuple(Matcher.parse(m) for m in raw)


def all_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)


@dataclass(frozen=True, slots=True)
class Silence:
    silence_id: int
    matchers: tuple[Matcher, ...]
    starts_ms: int
    ends_ms: int

    def mutes(self, labels: Mapping[str, str], now_ms: int) -> bool:
        return self.starts_ms <= now_ms < self.ends_ms and all_match(self.matchers, labels)


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    def inhibits(self, target: Mapping[str, str], source: Mapping[str, str]) -> bool:
        # An `equal` label must be present: two alarms both lacking it are not "the same zone".
        return (
            all_match(self.target, target)
            and all_match(self.source, source)
            and all(source.get(k) and source.get(k) == target.get(k) for k in self.equal)
        )


def inhibit_rules_from_list(raw: Any) -> list[InhibitRule]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise RuleError(f"inhibit {raw!r} must be a list")
    out = []
    for i, r in enumerate(raw):
        if not isinstance(r, dict) or set(r) - {"source", "target", "equal"}:
            raise RuleError(f"inhibit[{i}] {r!r} must be a mapping of source, target, equal")
        equal = r.get("equal") or []
        if not isinstance(equal, list) or not all(isinstance(x, str) for x in equal):
            raise RuleError(f"inhibit[{i}]: equal {equal!r} must be a list of label names")
        out.append(
            InhibitRule(
                parse_matchers(r.get("source"), f"inhibit[{i}].source"),
                parse_matchers(r.get("target"), f"inhibit[{i}].target"),
                tuple(equal),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Receiver:
    receiver_id: int
    name: str
    park: str | None  # None: every park
    categories: frozenset[str]
    channel: str  # webhook | mqtt | a paging channel (alerting.channels)
    url: str | None = None
    secret: str | None = None
    group_by: tuple[str, ...] = ("park", "category", "alertname")
    group_wait_s: float = 0.0
    group_interval_s: float = 30.0
    repeat_interval_s: float = 4 * 3600.0
    config: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        bad = set(self.categories) - set(CATEGORIES)
        if bad or not self.categories:
            raise RuleError(f"receiver {self.name!r}: categories {sorted(self.categories)} not within {CATEGORIES}")
        if self.channel not in ("webhook", "mqtt", *PAGING_CHANNELS):
            raise RuleError(
                f"receiver {self.name!r}: channel {self.channel!r} is not webhook, mqtt or {PAGING_CHANNELS}"
            )
        channels.check(self.name, self.channel, self.url, self.config, self.secrets)
        if self.channel == "webhook" and not (self.url or "").startswith(("http://", "https://")):
            raise RuleError(f"receiver {self.name!r}: webhook url {self.url!r} is not http(s)")

    def wants(self, labels: Mapping[str, str]) -> bool:
        if self.channel in ("email", "sms") and not self.config.get("to"):
            return False  # nobody standing: it serves escalation pages only
        return labels.get("category") in self.categories and (self.park is None or self.park == labels.get("park"))

    def group_key(self, labels: Mapping[str, str]) -> str:
        by = self.group_by
        if self.channel == "mqtt":  # the topic names one category and one park
            by = tuple(dict.fromkeys(("category", "park", *by)))
        return "{" + ",".join(f"{k}={labels.get(k, '')}" for k in by) + "}"


@dataclass(frozen=True, slots=True)
class AlertView:
    """What a notification says about one alarm."""

    alert_id: int
    status: str  # firing | resolved
    labels: Mapping[str, str]
    summary: str
    started_ms: int
    value: float | None = None
    ended_ms: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "status": self.status,
            "labels": dict(self.labels),
            "summary": self.summary,
            "starts_at_ms": self.started_ms,
            "ends_at_ms": self.ended_ms,
            "value": self.value,
        }


@dataclass(slots=True)
class Group:
    receiver: Receiver
    key: str
    alerts: dict[int, AlertView] = field(default_factory=dict)
    sent: dict[int, str] = field(default_factory=dict)  # alert_id -> status last notified
    created_ms: int = 0
    last_sent_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    receiver: Receiver
    group_key: str
    status: str  # firing if any alarm in it fires, else resolved
    alerts: tuple[AlertView, ...]
    payload: dict[str, Any]


class Dispatcher:
    """Groups alarms per receiver and decides when a group is notified."""

    def __init__(
        self, receivers: Sequence[Receiver] = (), inhibit: Sequence[InhibitRule] = (), silences: Sequence[Silence] = ()
    ) -> None:
        self.receivers = list(receivers)
        self.inhibit = list(inhibit)
        self.silences = list(silences)
        self.groups: dict[tuple[int, str], Group] = {}
        self.firing: dict[int, AlertView] = {}  # every firing alarm: the sources of inhibition
        self._sources: list[dict[tuple[str, ...], set[int]]] | None = None

    def set_receivers(self, receivers: Sequence[Receiver]) -> None:
        """Replace the receivers; groups of removed receivers are dropped."""
        self.receivers = list(receivers)
        ids = {r.receiver_id: r for r in receivers}
        self.groups = {k: g for k, g in self.groups.items() if k[0] in ids}
        for g in self.groups.values():
            g.receiver = ids[g.receiver.receiver_id]

    def update(
        self,
        alert: AlertView,
        now_ms: int,
        *,
        sent: Mapping[int, str] | None = None,
        sent_ms: int | None = None,
        only: Collection[int] | None = None,
    ) -> None:
        """An alarm fired or resolved. ``sent`` (receiver_id -> status already notified) and
        ``only`` (these receivers) restore what was delivered before a restart."""
        if alert.status == "firing":
            self.firing[alert.alert_id] = alert
        else:
            self.firing.pop(alert.alert_id, None)
        self._sources = None
        for rec in self.receivers:
            if not rec.wants(alert.labels) or (only is not None and rec.receiver_id not in only):
                continue
            key = (rec.receiver_id, rec.group_key(alert.labels))
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = Group(rec, key[1], created_ms=now_ms)
            group.alerts[alert.alert_id] = alert
            if sent and rec.receiver_id in sent:
                group.sent[alert.alert_id] = sent[rec.receiver_id]
                if sent_ms is not None:
                    group.last_sent_ms = max(group.last_sent_ms or 0, sent_ms)

    def muted(self, alert: AlertView, now_ms: int) -> bool:
        labels = alert.labels
        if any(s.mutes(labels, now_ms) for s in self.silences):
            return True
        if self._sources is None:
            self._sources = self._index_sources()
        for rule, sources in zip(self.inhibit, self._sources, strict=True):
            if sources and all_match(rule.target, labels):
                ids = sources.get(tuple(labels.get(k, "") for k in rule.equal), ())
                if any(i != alert.alert_id for i in ids):
                    return True
        return False

    def _index_sources(self) -> list[dict[tuple[str, ...], set[int]]]:
        """Per inhibit rule: the firing sources by their values of the `equal` labels, so muting
        one alarm costs a look-up per rule however many alarms fire."""
        out: list[dict[tuple[str, ...], set[int]]] = []
        for rule in self.inhibit:
            by_key: dict[tuple[str, ...], set[int]] = {}
            for src in self.firing.values():
                key = tuple(src.labels.get(k, "") for k in rule.equal)
                if all(key) and all_match(rule.source, src.labels):
                    by_key.setdefault(key, set()).add(src.alert_id)
            out.append(by_key)
        return out

    def due(self, now_ms: int) -> list[Notification]:
        """Notifications to send now; the groups remember them as sent."""
        out = []
        for key in list(self.groups):
            group = self.groups[key]
            note = self._flush(group, now_ms)
            if note is not None:
                out.append(note)
            if not group.alerts:
                del self.groups[key]
        return out

    def _flush(self, g: Group, now_ms: int) -> Notification | None:
        rec = g.receiver
        # Firing alarms are shown unless muted; a resolution to whoever heard the firing, and an
        # episode that ended before it could be notified once, as resolved: a short gas spike is
        # still news.
        show = {
            aid: a
            for aid, a in g.alerts.items()
            if (a.status == "firing" and not self.muted(a, now_ms))
            or (a.status == "resolved" and g.sent.get(aid) == "firing")
            or (a.status == "resolved" and aid not in g.sent and not self.muted(a, now_ms))
        }
        changed = any(g.sent.get(aid) != a.status for aid, a in show.items())
        if g.last_sent_ms is None:
            ready = now_ms >= g.created_ms + rec.group_wait_s * 1000
        else:
            ready = now_ms >= g.last_sent_ms + rec.group_interval_s * 1000
        repeat = (
            g.last_sent_ms is not None
            and any(a.status == "firing" for a in show.values())
            and now_ms >= g.last_sent_ms + rec.repeat_interval_s * 1000
        )
        # forget resolutions that nobody has to hear about
        for aid in [aid for aid, a in g.alerts.items() if a.status == "resolved" and aid not in show]:
            del g.alerts[aid]
            g.sent.pop(aid, None)
        if not ((changed and ready) or repeat):
            return None
        alerts = tuple(sorted(show.values(), key=lambda a: a.alert_id))
        status = "firing" if any(a.status == "firing" for a in alerts) else "resolved"
        note = Notification(
            rec,
            g.key,
            status,
            alerts,
            {
                "receiver": rec.name,
                "status": status,
                "group_key": g.key,
                "group_labels": _common_labels(alerts),
                "alerts": [a.as_json() for a in alerts],
            },
        )
        g.last_sent_ms = now_ms
        for aid, a in show.items():
            if a.status == "resolved":
                del g.alerts[aid]
                g.sent.pop(aid, None)
            else:
                g.sent[aid] = "firing"
        return note


def _common_labels(alerts: Sequence[AlertView]) -> dict[str, str]:
    if not alerts:
        return {}
    common = dict(alerts[0].labels)
    for a in alerts[1:]:
        common = {k: v for k, v in common.items() if a.labels.get(k) == v}
    return common
