"""MQTT messages -> rows to store and rejections to record (pure).

Payload decoding is the contract's (``smartpark.contract.decode``); this module resolves topics,
gathers the decoded columns of many messages and validates them all at once with numpy. Python
runs per message and per rejected reading, never per stored reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import repeat

import numpy as np

from ingest import validate as v
from ingest.binary_copy import PG_EPOCH_US, encode_rows
from ingest.registry_index import RegistryIndex
from smartpark.catalogue import FLAG_RECEIPT_TIME, FLAG_VALID
from smartpark.contract import ROOT, UNKNOWN_TOPIC, Decoded, Topic, TopicError, decode

EXCERPT_CHARS = 240


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    received_ms: int


@dataclass(frozen=True, slots=True)
class Rejection:
    received_ms: int
    topic: str
    reason_code: str
    reason: str
    excerpt: str
    device: str | None = None
    metric: str | None = None
    device_id: int | None = None
    enterprise_id: int | None = None
    park_id: int | None = None


@dataclass(frozen=True, slots=True)
class Rows:
    """Valid readings as columns, in the staging table's types."""

    ts_us: np.ndarray  # int64, microseconds since 2000-01-01 UTC
    device_id: np.ndarray  # int32
    metric_id: np.ndarray  # int16
    value: np.ndarray  # float64
    flag: np.ndarray  # int16

    def __len__(self) -> int:
        return len(self.ts_us)

    def copy_data(self) -> bytes:
        return encode_rows(self.ts_us, self.device_id, self.metric_id, self.value, self.flag)

    @classmethod
    def empty(cls) -> Rows:
        return cls(
            np.empty(0, np.int64),
            np.empty(0, np.int32),
            np.empty(0, np.int16),
            np.empty(0, np.float64),
            np.empty(0, np.int16),
        )


@dataclass(frozen=True, slots=True)
class Batch:
    rows: Rows
    rejections: tuple[Rejection, ...]
    readings: int  # decoded readings, valid or not
    messages: int

    def rejected_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rejections:
            out[r.reason_code] = out.get(r.reason_code, 0) + 1
        return out


def excerpt(payload: bytes, limit: int = EXCERPT_CHARS) -> str:
    """A bounded, printable start of the payload (PostgreSQL text cannot hold NUL)."""
    text = payload[: limit * 4].decode("utf-8", "replace")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("\x00", "\\x00")


@lru_cache(maxsize=65536)
def _parse_topic(topic: str, root: str) -> Topic | str:
    try:
        return Topic.parse(topic, root)
    except TopicError as exc:
        return str(exc)


class _Collector:
    """Decoded columns of many messages, plus the rejections found on the way."""

    def __init__(self) -> None:
        self.device: list[str] = []
        self.metric: list[str] = []
        self.ts_ms: list[int] = []
        self.value: list[float] = []
        self.receipt: list[bool] = []
        self.message: list[int] = []  # position in the batch, one per message with readings
        self.counts: list[int] = []
        self.enterprise: list[int] = []
        self.rejections: list[Rejection] = []

    def add(self, pos: int, enterprise_id: int, dec: Decoded) -> None:
        self.device += dec.device
        self.metric += dec.metric
        self.ts_ms += dec.ts_ms
        self.value += dec.value
        self.receipt += dec.receipt_time
        self.message.append(pos)
        self.counts.append(len(dec))
        self.enterprise.append(enterprise_id)


def build_batch(
    messages: Sequence[Message],
    index: RegistryIndex,
    *,
    now_ms: int,
    window: v.Window,
    max_payload_bytes: int = 256 * 1024,
    root: str = ROOT,
) -> Batch:
    col = _Collector()
    resolved: list[tuple[Topic, int, int] | None] = []
    for pos, msg in enumerate(messages):
        res = _resolve(msg, index, root, col.rejections)
        resolved.append(res)
        if res is None:
            continue
        topic, park_id, ent_id = res
        try:
            dec = decode(topic, msg.payload, msg.received_ms, max_payload_bytes)
        except (ValueError, OverflowError, RecursionError) as exc:
            # Numbers too large for a float, integers beyond Python's digit limit, deep nesting.
            col.rejections.append(
                _reject(msg, v.DECODE_FAILED, f"payload could not be decoded: {exc}",
                        device=topic.device, enterprise_id=ent_id, park_id=park_id)
            )
            continue
        for p in dec.problems:
            col.rejections.append(
                _reject(msg, p.reason, p.detail, device=p.device, metric=p.metric,
                        enterprise_id=ent_id, park_id=park_id)
            )
        if len(dec):
            col.add(pos, ent_id, dec)
    n = len(col.value)
    if n == 0:
        return Batch(Rows.empty(), tuple(col.rejections), 0, len(messages))

    counts = np.asarray(col.counts, dtype=np.int64)
    ent = np.repeat(np.asarray(col.enterprise, dtype=np.int64), counts)
    device_idx = np.fromiter(
        map(index.device_index.get, zip(ent.tolist(), col.device, strict=True), repeat(-1)),
        np.int64,
        n,
    )
    metric_id = np.fromiter(map(index.metric_ids.get, col.metric, repeat(0)), np.int64, n)
    value = np.asarray(col.value, dtype=np.float64)
    ts_ms = _ts_array(col.ts_ms)
    checked = v.check_readings(
        index, device_idx=device_idx, metric_id=metric_id, value=value, ts_ms=ts_ms,
        now_ms=now_ms, window=window,
    )
    ok = checked.valid
    rows = Rows(
        ts_us=ts_ms[ok].astype(np.int64) * 1000 - PG_EPOCH_US,
        device_id=index.device_ids[device_idx[ok]].astype(np.int32),
        metric_id=metric_id[ok].astype(np.int16),
        value=value[ok],
        flag=np.where(np.asarray(col.receipt, dtype=bool)[ok], FLAG_RECEIPT_TIME, FLAG_VALID).astype(
            np.int16
        ),
    )
    bad = np.flatnonzero(~ok)
    if len(bad):
        msg_of = np.repeat(np.asarray(col.message, dtype=np.int64), counts)
        for i in bad.tolist():
            pos = int(msg_of[i])
            res = resolved[pos]
            assert res is not None  # only resolved messages have readings
            col.rejections.append(
                _reading_rejection(messages[pos], res, index, checked, i, col, ts_ms, window)
            )
    return Batch(rows, tuple(col.rejections), n, len(messages))


def _ts_array(ts: list[int]) -> np.ndarray:
    try:
        return np.asarray(ts, dtype=np.float64)
    except OverflowError:  # an integer beyond float range: clamp, it fails the window check
        return np.asarray([float(min(max(t, -(2**62)), 2**62)) for t in ts], dtype=np.float64)


def _resolve(
    msg: Message, index: RegistryIndex, root: str, rejections: list[Rejection]
) -> tuple[Topic, int, int] | None:
    topic = _parse_topic(msg.topic, root)
    if isinstance(topic, str):
        rejections.append(_reject(msg, UNKNOWN_TOPIC, topic))
        return None
    if topic.kind != "telemetry":
        rejections.append(_reject(msg, v.NOT_TELEMETRY, f"topic {msg.topic!r} carries no telemetry"))
        return None
    park_id = index.park_ids.get(topic.park)
    if park_id is None:
        rejections.append(_reject(msg, v.UNKNOWN_PARK, f"unknown park {topic.park!r}",
                                  device=topic.device))
        return None
    ent_id = index.enterprise_ids.get((park_id, topic.enterprise))
    if ent_id is None:
        rejections.append(
            _reject(msg, v.UNKNOWN_ENTERPRISE,
                    f"unknown enterprise {topic.enterprise!r} in park {topic.park!r}",
                    device=topic.device, park_id=park_id)
        )
        return None
    if topic.gateway is not None and (ent_id, topic.gateway) not in index.gateway_ids:
        rejections.append(
            _reject(msg, v.UNKNOWN_GATEWAY,
                    f"gateway {topic.gateway!r} is not registered in enterprise "
                    f"{topic.enterprise!r} of park {topic.park!r}",
                    enterprise_id=ent_id, park_id=park_id)
        )
        return None
    return topic, park_id, ent_id


def _reading_rejection(
    msg: Message,
    resolved: tuple[Topic, int, int],
    index: RegistryIndex,
    checked: v.Checked,
    i: int,
    col: _Collector,
    ts_ms: np.ndarray,
    window: v.Window,
) -> Rejection:
    topic, park_id, ent_id = resolved
    code = v.READING_REASONS[int(checked.reason[i])]
    device, metric, value = col.device[i], col.metric[i], col.value[i]
    where = f"enterprise {topic.enterprise!r} of park {topic.park!r}"
    device_id: int | None = None
    if code == v.UNKNOWN_DEVICE:
        if index.enterprises_by_device_code.get(device, frozenset()) - {ent_id}:
            code = v.FOREIGN_DEVICE
            detail = f"device {device!r} belongs to another enterprise, not to {where}"
        else:
            detail = f"device {device!r} is not registered in {where}"
    else:
        device_id = int(index.device_ids[checked.device_idx[i]])
        if code == v.UNKNOWN_METRIC:
            detail = f"unknown metric {metric!r} for device {device!r}"
        elif code == v.METRIC_NOT_ALLOWED:
            detail = f"metric {metric!r} is not measured by device {device!r}"
        elif code == v.OUT_OF_RANGE:
            m = int(checked.metric_id[i])
            detail = (
                f"value {value!r} of {metric!r} on device {device!r} is outside the plausible "
                f"range [{index.metric_lo[m]:g}, {index.metric_hi[m]:g}]"
            )
        else:
            when = _iso(float(ts_ms[i]))
            limit = (f"{window.past_ms / 86_400_000:g} days old" if code == v.TS_TOO_OLD
                     else f"{window.future_ms / 1000:g} s ahead of the receiving clock")
            detail = f"timestamp {when} of {metric!r} on device {device!r} is more than {limit}"
    return _reject(msg, code, detail, device=device, metric=metric, device_id=device_id,
                   enterprise_id=ent_id, park_id=park_id)


def _iso(ts_ms: float) -> str:
    try:
        return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat(timespec="milliseconds")
    except (OverflowError, ValueError, OSError):
        return f"{ts_ms:.0f} ms"


def _reject(
    msg: Message,
    code: str,
    detail: str,
    *,
    device: str | None = None,
    metric: str | None = None,
    device_id: int | None = None,
    enterprise_id: int | None = None,
    park_id: int | None = None,
) -> Rejection:
    return Rejection(
        msg.received_ms, msg.topic, code, detail, excerpt(msg.payload),
        device, metric, device_id, enterprise_id, park_id,
    )
