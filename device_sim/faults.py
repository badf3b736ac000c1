"""Faults on demand: what real gateways and instruments do wrong, at configured rates.

Rates are fractions of readings (device entries) or of messages, except ``offline``
(outages per gateway and hour). A :class:`GatewayFaults` turns one gateway's readings of a
publish round into the actions a faulty gateway would take: messages to publish (dropped,
duplicated, late, reordered, stuck, spiked, skewed, malformed) and going offline — its
last will fires — and coming back with the backlog it buffered. Deterministic per seed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Literal

import numpy as np

from smartpark.catalogue import BY_CODE, MetricKind

from .noise import key_of
from .payloads import MAX_MESSAGE_BYTES, Entry, Message, encode

MALFORMED_KINDS = ("truncated", "not_utf8", "not_an_object", "text_value")


class FaultError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class FaultConfig:
    drop: float = 0.0  # readings never sent
    duplicate: float = 0.0  # readings sent twice
    late: float = 0.0  # readings held back for ``late_rounds`` rounds (arrive late, out of order)
    late_rounds: int = 3
    reorder: float = 0.0  # messages overtaken by the gateway's next message
    stuck: float = 0.0  # readings repeating an earlier value (frozen sensor)
    stuck_rounds: int = 20  # mean length of a stuck episode
    spike: float = 0.0  # readings with one gauge value 10–50 × too large
    skew: float = 0.0  # gateways whose clock is off
    skew_s: float = 120.0  # by up to ± this many seconds
    malformed: float = 0.0  # messages corrupted on the way
    offline: float = 0.0  # outages per gateway and hour
    offline_s: float = 300.0  # mean outage length

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("late_rounds", "stuck_rounds"):
                if not 1 <= value <= 10_000:
                    raise FaultError(f"fault {f.name}={value} outside 1..10000")
            elif f.name in ("skew_s", "offline_s", "offline"):
                if not 0 <= value <= 86_400:
                    raise FaultError(f"fault {f.name}={value} outside 0..86400")
            elif not 0 <= value <= 1:
                raise FaultError(f"fault rate {f.name}={value} outside 0..1")

    @classmethod
    def parse(cls, spec: str) -> FaultConfig:
        """``"drop=0.01,late=0.02,offline=0.5"``; ``all`` turns every fault on at a low rate,
        and later items override it (``"all,offline=2"``)."""
        names = {f.name for f in fields(cls)}
        kwargs: dict[str, float | int] = {}
        for item in filter(None, (s.strip() for s in spec.split(","))):
            if item == "all":
                kwargs.update({f.name: getattr(ALL, f.name) for f in fields(cls)})
                continue
            name, sep, raw = item.partition("=")
            if not sep or name not in names:
                raise FaultError(f"unknown fault {item!r}; known: all, {', '.join(sorted(names))}")
            try:
                kwargs[name] = int(raw) if name.endswith("_rounds") else float(raw)
            except ValueError as exc:
                raise FaultError(f"fault {name}: {raw!r} is not a number") from exc
        return cls(**kwargs)  # type: ignore[arg-type]

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self) if not f.name.endswith(("_rounds", "_s")))


ALL = FaultConfig(
    drop=0.01,
    duplicate=0.01,
    late=0.01,
    reorder=0.01,
    stuck=0.01,
    spike=0.002,
    skew=0.1,
    malformed=0.005,
    offline=0.2,
)


@dataclass(frozen=True, slots=True)
class Publish:
    message: Message
    malformed: str | None = None


@dataclass(frozen=True, slots=True)
class Status:
    state: Literal["online", "offline"]


Action = Publish | Status


class GatewayFaults:
    """One gateway's fault state across rounds (stuck sensors, held readings, outages)."""

    def __init__(self, gateway_key: str, config: FaultConfig, seed: int) -> None:
        self.config = config
        self.rng = np.random.default_rng(key_of(f"{seed}/faults/{gateway_key}"))
        self.skew_ms = 0
        if self.rng.random() < config.skew:
            self.skew_ms = int(self.rng.uniform(-1, 1) * config.skew_s * 1000)
        self.counts: Counter[str] = Counter()
        self._stuck: dict[str, tuple[int, dict[str, float]]] = {}
        self._late: list[tuple[int, Entry]] = []
        self._held: Message | None = None
        self._offline_until: float | None = None
        self._backlog: list[Entry] = []
        self._round = 0

    @property
    def offline(self) -> bool:
        return self._offline_until is not None

    def round(
        self,
        entries: Sequence[Entry],
        now_s: float,
        round_s: float,
        max_bytes: int = MAX_MESSAGE_BYTES,
    ) -> list[Action]:
        """Actions for one publish round of this gateway at simulated time ``now_s``."""
        self._round += 1
        c = self.config
        actions: list[Action] = []
        out = [e for e in (self._entry(e) for e in entries) if e is not None]
        due = [e for r, e in self._late if r <= self._round]
        self._late = [(r, e) for r, e in self._late if r > self._round]
        out.extend(due)
        if self._offline_until is None and c.offline and self.rng.random() < c.offline * round_s / 3600:
            duration = self.rng.exponential(c.offline_s)
            self._offline_until = now_s + max(round_s, duration)
            self.counts["offline"] += 1
            actions.append(Status("offline"))
        if self._offline_until is not None:
            if now_s < self._offline_until:
                self._backlog.extend(out)
                self.counts["backlogged"] += len(out)
                return actions
            self._offline_until = None
            out = self._backlog + out
            self._backlog = []
            actions.append(Status("online"))
        for message in encode(out, max_bytes):
            actions.extend(self._message(message))
        return actions

    def flush(self, max_bytes: int = MAX_MESSAGE_BYTES) -> list[Action]:
        """Everything still held (late readings, an overtaken message, a backlog), e.g. at exit."""
        actions: list[Action] = []
        if self._offline_until is not None:
            self._offline_until = None
            actions.append(Status("online"))
        out = self._backlog + [e for _, e in self._late]
        self._backlog, self._late = [], []
        actions.extend(Publish(m) for m in encode(out, max_bytes))
        if self._held is not None:
            actions.append(Publish(self._held))
            self._held = None
        return actions

    def _entry(self, e: Entry) -> Entry | None:
        c, rng = self.config, self.rng
        if c.drop and rng.random() < c.drop:
            self.counts["dropped"] += 1
            return None
        if c.stuck:
            left, frozen = self._stuck.get(e.device, (0, e.values))
            # Start rate chosen so that the stuck share of readings is ``stuck``.
            if left == 0 and rng.random() < c.stuck / (c.stuck_rounds * (1 - c.stuck)):
                left, frozen = int(rng.geometric(1 / c.stuck_rounds)), dict(e.values)
            if left > 0:
                self._stuck[e.device] = (left - 1, frozen)
                e = replace(e, values={k: frozen.get(k, v) for k, v in e.values.items()})
                self.counts["stuck"] += 1
        if c.spike and rng.random() < c.spike:
            gauges = [k for k in e.values if BY_CODE[k].kind is MetricKind.GAUGE] if e.values else []
            if gauges:
                k = gauges[int(rng.integers(len(gauges)))]
                factor = float(rng.uniform(10, 50))
                e = replace(e, values={**e.values, k: round(e.values[k] * factor + factor, 3)})
                self.counts["spiked"] += 1
        if self.skew_ms:
            e = replace(e, ts_ms=e.ts_ms + self.skew_ms)
            self.counts["skewed"] += 1
        if c.late and rng.random() < c.late:
            self._late.append((self._round + c.late_rounds, e))
            self.counts["late"] += 1
            return None
        if c.duplicate and rng.random() < c.duplicate:
            self._late.append((self._round + 1, e))  # the copy comes with the next message
            self.counts["duplicated"] += 1
        return e

    def _message(self, message: Message) -> list[Action]:
        c, rng = self.config, self.rng
        out: list[Action] = []
        if c.malformed and rng.random() < c.malformed:
            kind = MALFORMED_KINDS[int(rng.integers(len(MALFORMED_KINDS)))]
            self.counts["malformed"] += 1
            return [Publish(corrupt(message, kind), kind)]
        if c.reorder and self._held is None and rng.random() < c.reorder:
            self._held = message
            self.counts["reordered"] += 1
            return out
        out.append(Publish(message))
        if self._held is not None:
            out.append(Publish(self._held))
            self._held = None
        return out


def corrupt(message: Message, kind: str) -> Message:
    """A damaged copy of a message; ``readings`` says how many values survive decoding."""
    p = message.payload
    if kind == "truncated":
        return Message(p[: max(1, len(p) // 2)], 0, 0)
    if kind == "not_utf8":
        return Message(b"\xff\xfe" + p[2:], 0, 0)
    if kind == "not_an_object":
        return Message(b"[" + p + b"]", 0, 0)
    if kind == "text_value":
        body = json.loads(p)
        device = next(iter(body))
        values = body[device][0]["values"]
        metric = next(iter(values))
        values[metric] = f"{values[metric]:.2f}".replace(".", ",")  # a decimal comma
        payload = json.dumps(body, separators=(",", ":")).encode()
        return Message(payload, message.readings - 1, message.entries)
    raise FaultError(f"unknown malformation {kind!r}")
