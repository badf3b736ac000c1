"""The MQTT contract: topic names and telemetry payloads (pure; no I/O).

Topics:   {root}/{park}/{enterprise}/{device}/telemetry
          {root}/{park}/{enterprise}/gateway/{gateway}/telemetry
          {root}/{park}/{enterprise}/{device}/status
Payloads: device  {"ts": 1764115200000, "values": {"elec.import_kwh": 1234.5}} or a list of those;
          gateway {"device-code": [{"ts": ..., "values": {...}}, ...], ...}
``ts`` is epoch milliseconds or an RFC 3339 string; without it the receipt time is used and the
reading is flagged. An entry may carry ``"flags": {"stack.so2_mgm3": "D"}``: HJ 212 data flags
(N F M S D C T B) of its values, so that only valid ("N", the default) data counts.
Decoding never raises on bad input: every problem becomes a :class:`Problem` with a stable
reason code, and the good readings of the same message are kept.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson

from smartpark.catalogue import HJ212_FLAGS

ROOT = "smartpark/v1"

# Stable reason codes (Prometheus labels, rejected_messages.reason_code).
PAYLOAD_TOO_LARGE = "payload_too_large"
MALFORMED_JSON = "malformed_json"
BAD_SHAPE = "bad_shape"
BAD_TIMESTAMP = "bad_timestamp"
BAD_VALUE = "bad_value"
NON_FINITE = "non_finite"
BAD_FLAG = "bad_flag"
UNKNOWN_TOPIC = "unknown_topic"


class TopicError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Topic:
    park: str
    enterprise: str
    device: str | None  # set on device topics
    gateway: str | None  # set on gateway topics
    kind: Literal["telemetry", "status"]

    def __post_init__(self) -> None:
        for part in (self.park, self.enterprise, self.device or "-", self.gateway or "-"):
            if not part or any(c in part for c in "/+#\x00"):
                raise TopicError(f"bad topic level {part!r}")
        if (self.device is None) == (self.gateway is None):
            raise TopicError("a topic names either a device or a gateway")

    @classmethod
    def parse(cls, topic: str, root: str = ROOT) -> Topic:
        prefix = root.rstrip("/") + "/"
        if not topic.startswith(prefix):
            raise TopicError(f"topic {topic!r} is not below {root!r}")
        levels = topic[len(prefix) :].split("/")
        if len(levels) == 4 and levels[3] in ("telemetry", "status"):
            return cls(levels[0], levels[1], levels[2], None, levels[3])  # type: ignore[arg-type]
        if len(levels) == 5 and levels[2] == "gateway" and levels[4] == "telemetry":
            return cls(levels[0], levels[1], None, levels[3], "telemetry")
        raise TopicError(f"topic {topic!r} matches no smartpark topic")

    def render(self, root: str = ROOT) -> str:
        if self.gateway is not None:
            return f"{root}/{self.park}/{self.enterprise}/gateway/{self.gateway}/{self.kind}"
        return f"{root}/{self.park}/{self.enterprise}/{self.device}/{self.kind}"


def device_topic(park: str, enterprise: str, device: str, root: str = ROOT) -> str:
    return Topic(park, enterprise, device, None, "telemetry").render(root)


def gateway_topic(park: str, enterprise: str, gateway: str, root: str = ROOT) -> str:
    return Topic(park, enterprise, None, gateway, "telemetry").render(root)


def status_topic(park: str, enterprise: str, device: str, root: str = ROOT) -> str:
    return Topic(park, enterprise, device, None, "status").render(root)


@dataclass(frozen=True, slots=True)
class Problem:
    reason: str  # stable code
    detail: str  # names the bad value
    device: str | None = None
    metric: str | None = None


@dataclass(slots=True)
class Decoded:
    """Readings of one message as parallel columns, plus what was wrong with the rest."""

    device: list[str] = field(default_factory=list)
    metric: list[str] = field(default_factory=list)
    ts_ms: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    receipt_time: list[bool] = field(default_factory=list)
    flag: list[int] = field(default_factory=list)  # data-quality flag, 0 = valid (HJ 212 "N")
    problems: list[Problem] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.value)


def parse_ts(raw: Any) -> int:
    """Epoch milliseconds from an epoch-ms number or an RFC 3339 string with an offset."""
    if isinstance(raw, bool):
        raise ValueError(f"timestamp {raw!r} is a boolean")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError(f"timestamp {raw!r} is not finite")
        return int(raw)
    if isinstance(raw, str):
        try:
            dt = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise ValueError(f"timestamp {raw!r} is not RFC 3339") from exc
        if dt.tzinfo is None:
            raise ValueError(f"timestamp {raw!r} has no UTC offset")
        return round(dt.timestamp() * 1000)
    raise ValueError(f"timestamp {raw!r} is neither epoch milliseconds nor an RFC 3339 string")


def _add_entry(out: Decoded, device: str, entry: Any, received_ms: int) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("values"), dict):
        out.problems.append(Problem(BAD_SHAPE, f"entry {_short(entry)} is not an object with 'values'", device))
        return
    flagged = "ts" not in entry
    try:
        ts = received_ms if flagged else parse_ts(entry["ts"])
    except ValueError as exc:
        out.problems.append(Problem(BAD_TIMESTAMP, str(exc), device))
        return
    flags = entry.get("flags") or {}
    if not flags and _add_plain_values(out, device, entry["values"], ts, flagged):
        return
    if not isinstance(flags, dict):
        out.problems.append(Problem(BAD_FLAG, f"flags {_short(flags)} is not an object", device))
        return
    for code, raw in entry["values"].items():
        if isinstance(raw, bool):
            raw = float(raw)  # a fire-alarm state sent as true/false
        if not isinstance(raw, int | float):
            out.problems.append(Problem(BAD_VALUE, f"value {_short(raw)} is not a number", device, code))
            continue
        flag = _flag(flags.get(code, 0))
        if flag is None:
            out.problems.append(
                Problem(BAD_FLAG, f"data flag {_short(flags[code])} is not one of N F M S D C T B", device, code)
            )
            continue
        try:
            value = float(raw)
        except OverflowError:
            value = math.inf  # an integer too large for a double
        if not math.isfinite(value):
            out.problems.append(Problem(NON_FINITE, f"value {raw!r} is not finite", device, code))
            continue
        out.device.append(device)
        out.metric.append(code)
        out.ts_ms.append(ts)
        out.value.append(value)
        out.receipt_time.append(flagged)
        out.flag.append(flag)


def _add_plain_values(out: Decoded, device: str, values: dict[str, Any], ts: int, flagged: bool) -> bool:
    """The common entry, numbers only and no flags, added a column at a time; False (nothing
    added) if any value needs the checks of the general path."""
    raw = list(values.values())
    kinds = set(map(type, raw))  # bool is not int here: it takes the general path
    try:
        if kinds == {int} or kinds == {float, int}:
            raw = list(map(float, raw))
        elif kinds != {float}:
            return not raw
        if not math.isfinite(sum(raw)):  # a sum that overflows only sends it the long way round
            return False
    except OverflowError:  # an integer too large for a double
        return False
    n = len(raw)
    out.device += [device] * n
    out.metric += values
    out.ts_ms += [ts] * n
    out.value += raw
    out.receipt_time += [flagged] * n
    out.flag += [0] * n
    return True


def _flag(raw: Any) -> int | None:
    """An HJ 212 data flag given as its letter or its stored number; None if it is neither."""
    if isinstance(raw, str):
        return HJ212_FLAGS.get(raw.upper())
    if isinstance(raw, int) and not isinstance(raw, bool) and raw in HJ212_FLAGS.values():
        return raw
    return None


def _entries(device: str, body: Any, out: Decoded, received_ms: int) -> None:
    for entry in body if isinstance(body, list) else [body]:
        # The common entry, an epoch-ms integer and plain values, without the general checks.
        if (
            type(entry) is dict
            and type(ts := entry.get("ts")) is int
            and "flags" not in entry
            and type(values := entry.get("values")) is dict
            and _add_plain_values(out, device, values, ts, False)
        ):
            continue
        _add_entry(out, device, entry, received_ms)


def decode(topic: Topic, payload: bytes, received_ms: int, max_bytes: int = 256 * 1024) -> Decoded:
    out = Decoded()
    if len(payload) > max_bytes:
        out.problems.append(
            Problem(PAYLOAD_TOO_LARGE, f"payload of {len(payload)} bytes exceeds {max_bytes}", topic.device)
        )
        return out
    try:
        body = _loads(payload)
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, huge integers, deep nesting
        out.problems.append(Problem(MALFORMED_JSON, f"payload is not JSON: {exc}", topic.device))
        return out
    if topic.device is not None:
        _entries(topic.device, body, out, received_ms)
    elif isinstance(body, dict):
        for device, device_body in body.items():
            _entries(str(device), device_body, out, received_ms)
    else:
        out.problems.append(Problem(BAD_SHAPE, "gateway payload must map device codes to readings"))
    return out


def _loads(payload: bytes) -> Any:
    """orjson for speed; what it refuses goes to the standard library, which accepts more (NaN,
    numbers beyond a double, UTF-16) and whose verdicts and messages the reason codes follow."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        return json.loads(payload)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def encode(ts_ms: int | None, values: dict[str, float]) -> dict[str, Any]:
    """One device entry as gateways publish it."""
    entry: dict[str, Any] = {"values": values}
    if ts_ms is not None:
        entry["ts"] = ts_ms
    return entry
