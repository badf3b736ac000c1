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
from ingest.registry_index import RegistryIndex
from smartpark import series_key
from smartpark.catalogue import FLAG_RECEIPT_TIME, FLAG_VALID
from smartpark.contract import ROOT, UNKNOWN_TOPIC, Topic, TopicError, decode
from smartpark.db import binary_copy
from smartpark.db.binary_copy import PG_EPOCH_US, TELEMETRY_COLUMNS

EXCERPT_CHARS = 240
BUCKET_US = 15 * 60 * 1_000_000


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    received_ms: int
    from_logger: bool = False  # published by the HJ 212 server (checked by the receiver)
    retained: bool = False  # published with the retain flag
    over_quota: bool = False  # beyond its enterprise's message quota (see ingest.quota)


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


# The columns of a COPY of readings, in the order ingest.store's COPY statements name them.
COPY_COLUMNS = TELEMETRY_COLUMNS


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

    def copy_data(self) -> bytearray:
        """The binary COPY payload, columns in COPY_COLUMNS order."""
        return binary_copy.encode(
            COPY_COLUMNS,
            {
                "ts": self.ts_us,
                "device_id": self.device_id,
                "metric_id": self.metric_id,
                "value": self.value,
                "flag": self.flag,
            },
        )

    def _series_key(self) -> np.ndarray:
        return series_key.pack(self.device_id, self.metric_id)

    def sorted(self) -> Rows:
        """By (device, metric, ts): index order, so inserts touch each index page once and
        concurrent writers take row locks in the same order (no deadlocks)."""
        order = self._key_order()
        return self if order is None else self.take(order)

    def _key_order(self) -> np.ndarray | None:
        """The permutation into (device, metric, ts) order; None if the rows are in it already
        (a sorted batch is checked in one pass instead of sorted again)."""
        key, ts = self._series_key(), self.ts_us
        if len(key) < 2:
            return None
        step = key[1:] - key[:-1]
        if ((step > 0) | ((step == 0) & (ts[1:] >= ts[:-1]))).all():
            return None
        return np.lexsort((ts, key))

    def distinct(self) -> Rows:
        """Sorted rows without repeated (device, metric, ts) keys (a message twice in one batch);
        the first of each is kept."""
        if len(self) < 2:
            return self
        key = self._series_key()
        repeated = (key[1:] == key[:-1]) & (self.ts_us[1:] == self.ts_us[:-1])
        if not repeated.any():
            return self
        return self.take(np.flatnonzero(np.r_[True, ~repeated]))

    def take(self, index: np.ndarray) -> Rows:
        return Rows(
            self.ts_us[index], self.device_id[index], self.metric_id[index], self.value[index], self.flag[index]
        )

    def latest(self) -> Rows:
        """The newest reading of each (device, metric), in key order."""
        rows = self.sorted()
        if not len(rows):
            return rows
        key = rows._series_key()
        return rows.take(np.flatnonzero(np.r_[key[1:] != key[:-1], True]))

    def touched(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (device, metric, 15-minute bucket start in PostgreSQL µs), in key order."""
        rows = self.sorted()
        # PostgreSQL's epoch (2000-01-01T00:00Z) is on a 15-minute boundary, so buckets are
        # plain multiples of 15 minutes as time_bucket() makes them. In (key, ts) order the
        # buckets of a series ascend, so the distinct pairs are where either changes.
        key = rows._series_key()
        bucket = rows.ts_us - rows.ts_us % BUCKET_US
        first = np.flatnonzero(np.r_[len(key) > 0, (key[1:] != key[:-1]) | (bucket[1:] != bucket[:-1])])
        key, bucket = key[first], bucket[first]
        device, metric = series_key.unpack(key)
        return device.astype(np.int32), metric.astype(np.int16), bucket

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
    return _text(payload[: limit * 4].decode("utf-8", "replace"), limit)


@lru_cache(maxsize=65536)
def _parse_topic(topic: str, root: str) -> Topic | str:
    try:
        return Topic.parse(topic, root)
    except TopicError as exc:
        return str(exc)


class BatchBuilder:
    """Decodes messages as they arrive; :meth:`finish` validates them all at once.

    Decoding on arrival spreads the work over the batching interval and tells the caller how
    many readings the batch holds, which is what the size limit counts.
    """

    def __init__(
        self,
        index: RegistryIndex,
        *,
        window: v.Window,
        max_payload_bytes: int = 256 * 1024,
        root: str = ROOT,
    ) -> None:
        self.index = index
        self.window = window
        self.max_payload_bytes = max_payload_bytes
        self.root = root
        self.messages: list[Message] = []
        self.resolved: list[tuple[Topic, int, int] | None] = []
        self.device: list[str] = []
        self.metric: list[str] = []
        self.ts_ms: list[int] = []
        self.value: list[float] = []
        self.receipt: list[bool] = []
        self.flags: list[int] = []  # data-quality flags the payload carried (HJ 212), 0 if none
        self.message: list[int] = []  # position in the batch, one per message with readings
        self.counts: list[int] = []
        self.enterprise: list[int] = []
        self.from_logger: list[bool] = []  # per message with readings
        self.rejections: list[Rejection] = []

    @property
    def readings(self) -> int:
        return len(self.value)

    def add(self, msg: Message) -> None:
        pos = len(self.messages)
        self.messages.append(msg)
        if msg.retained and not msg.payload:
            self.resolved.append(None)  # a retained message being cleared: nothing to store
            return
        if msg.retained or msg.over_quota:
            self.resolved.append(None)
            self.rejections.append(_refused_whole(msg))
            return
        res = _resolve(msg, self.index, self.root, self.rejections)
        self.resolved.append(res)
        if res is None:
            return
        topic, park_id, ent_id = res
        try:
            dec = decode(topic, msg.payload, msg.received_ms, self.max_payload_bytes)
        except (ValueError, OverflowError, RecursionError) as exc:
            # Numbers too large for a float, integers beyond Python's digit limit, deep nesting.
            self.rejections.append(
                reject(
                    msg,
                    v.DECODE_FAILED,
                    f"payload could not be decoded: {exc}",
                    device=topic.device,
                    enterprise_id=ent_id,
                    park_id=park_id,
                )
            )
            return
        for p in dec.problems:
            self.rejections.append(
                reject(msg, p.reason, p.detail, device=p.device, metric=p.metric, enterprise_id=ent_id, park_id=park_id)
            )
        if len(dec):
            self.device += dec.device
            self.metric += dec.metric
            self.ts_ms += dec.ts_ms
            self.value += dec.value
            self.receipt += dec.receipt_time
            self.flags += dec.flag
            self.message.append(pos)
            self.counts.append(len(dec))
            self.enterprise.append(ent_id)
            self.from_logger.append(msg.from_logger)

    def finish(self, now_ms: int) -> Batch:
        n = self.readings
        if n == 0:
            return Batch(Rows.empty(), tuple(self.rejections), 0, len(self.messages))
        index = self.index
        counts = np.asarray(self.counts, dtype=np.int64)
        ent = np.repeat(np.asarray(self.enterprise, dtype=np.int64), counts)
        device_idx = np.fromiter(
            map(index.device_index.get, zip(ent.tolist(), self.device, strict=True), repeat(-1)),
            np.int64,
            n,
        )
        metric_id = np.fromiter(map(index.metric_ids.get, self.metric, repeat(0)), np.int64, n)
        value = np.asarray(self.value, dtype=np.float64)
        ts_ms = _ts_array(self.ts_ms)
        checked = v.check_readings(
            index,
            device_idx=device_idx,
            metric_id=metric_id,
            value=value,
            ts_ms=ts_ms,
            now_ms=now_ms,
            window=self.window,
            from_logger=np.repeat(np.asarray(self.from_logger, dtype=bool), counts),
        )
        ok = checked.valid
        flag = np.asarray(self.flags, dtype=np.int16)[ok] | np.where(
            np.asarray(self.receipt, dtype=bool)[ok], FLAG_RECEIPT_TIME, FLAG_VALID
        )
        rows = Rows(
            ts_us=ts_ms[ok].astype(np.int64) * 1000 - PG_EPOCH_US,
            device_id=index.device_ids[device_idx[ok]].astype(np.int32),
            metric_id=metric_id[ok].astype(np.int16),
            value=value[ok],
            flag=flag.astype(np.int16),
        )
        rejections = list(self.rejections)
        bad = np.flatnonzero(~ok)
        if len(bad):
            msg_of = np.repeat(np.asarray(self.message, dtype=np.int64), counts)
            for i in bad.tolist():
                rejections.append(self._reading_rejection(int(msg_of[i]), i, checked, ts_ms))
        return Batch(rows, tuple(rejections), n, len(self.messages))

    def _reading_rejection(self, pos: int, i: int, checked: v.Checked, ts_ms: np.ndarray) -> Rejection:
        resolved = self.resolved[pos]
        assert resolved is not None  # only resolved messages have readings
        topic, park_id, ent_id = resolved
        index, window = self.index, self.window
        code = v.READING_REASONS[int(checked.reason[i])]
        device, metric, value = self.device[i], self.metric[i], self.value[i]
        where = f"enterprise {topic.enterprise!r} of park {topic.park!r}"
        device_id: int | None = None
        if code == v.UNKNOWN_DEVICE:
            if index.enterprises_by_device_code.get(device, frozenset()) - {ent_id}:
                # A spoofing attempt, for the park's operators: recorded without the sending
                # enterprise, whose users would otherwise learn that another enterprise has a
                # device of that code (to them it is refused like any unknown device).
                return reject(
                    self.messages[pos],
                    v.FOREIGN_DEVICE,
                    f"a device code of another enterprise of park {topic.park!r} on the topics of"
                    f" enterprise {topic.enterprise!r}",
                    device=device,
                    metric=metric,
                    park_id=park_id,
                )
            else:
                detail = f"device {device!r} is not registered in {where}"
        else:
            device_id = int(index.device_ids[checked.device_idx[i]])
            if code == v.HJ212_DEVICE:
                detail = (
                    f"device {device!r} reports over HJ 212: its readings come from its data logger only,"
                    f" not from {topic.render(self.root)!r}"
                )
            elif code == v.UNKNOWN_METRIC:
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
                limit = (
                    f"{window.past_ms / 86_400_000:g} days old"
                    if code == v.TS_TOO_OLD
                    else f"{window.future_ms / 1000:g} s ahead of the receiving clock"
                )
                detail = f"timestamp {when} of {metric!r} on device {device!r} is more than {limit}"
        return reject(
            self.messages[pos],
            code,
            detail,
            device=device,
            metric=metric,
            device_id=device_id,
            enterprise_id=ent_id,
            park_id=park_id,
        )


def build_batch(
    messages: Sequence[Message],
    index: RegistryIndex,
    *,
    now_ms: int,
    window: v.Window,
    max_payload_bytes: int = 256 * 1024,
    root: str = ROOT,
) -> Batch:
    builder = BatchBuilder(index, window=window, max_payload_bytes=max_payload_bytes, root=root)
    for msg in messages:
        builder.add(msg)
    return builder.finish(now_ms)


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
        rejections.append(reject(msg, UNKNOWN_TOPIC, topic))
        return None
    if topic.kind != "telemetry":
        rejections.append(reject(msg, v.NOT_TELEMETRY, f"topic {msg.topic!r} carries no telemetry"))
        return None
    park_id = index.park_ids.get(topic.park)
    if park_id is None:
        rejections.append(reject(msg, v.UNKNOWN_PARK, f"unknown park {topic.park!r}", device=topic.device))
        return None
    ent_id = index.enterprise_ids.get((park_id, topic.enterprise))
    if ent_id is None:
        rejections.append(
            reject(
                msg,
                v.UNKNOWN_ENTERPRISE,
                f"unknown enterprise {topic.enterprise!r} in park {topic.park!r}",
                device=topic.device,
                park_id=park_id,
            )
        )
        return None
    if topic.gateway is not None and (ent_id, topic.gateway) not in index.gateway_ids:
        rejections.append(
            reject(
                msg,
                v.UNKNOWN_GATEWAY,
                f"gateway {topic.gateway!r} is not registered in enterprise "
                f"{topic.enterprise!r} of park {topic.park!r}",
                enterprise_id=ent_id,
                park_id=park_id,
            )
        )
        return None
    return topic, park_id, ent_id


def _refused_whole(msg: Message) -> Rejection:
    if msg.retained:
        return reject(msg, v.RETAINED, f"telemetry on {msg.topic!r} was published retained: gateways may not retain")
    return reject(msg, v.QUOTA_EXCEEDED, f"the enterprise of {msg.topic!r} sent more messages than its quota")


def _iso(ts_ms: float) -> str:
    try:
        return datetime.fromtimestamp(ts_ms / 1000, UTC).isoformat(timespec="milliseconds")
    except (OverflowError, ValueError, OSError):
        return f"{ts_ms:.0f} ms"


def reject(
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
        msg.received_ms,
        _text(msg.topic, 1000),
        code,
        _text(detail, 2000),
        excerpt(msg.payload),
        None if device is None else _text(device, 200),
        None if metric is None else _text(metric, 200),
        device_id,
        enterprise_id,
        park_id,
    )


def _text(value: str, limit: int) -> str:
    """Bounded text that PostgreSQL accepts (codes come from payloads and may hold anything)."""
    value = value if len(value) <= limit else value[: limit - 1] + "…"
    return value.replace("\x00", "\\x00")
