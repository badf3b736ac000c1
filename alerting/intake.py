"""Telemetry in: what the service subscribes to, its MQTT messages as columns of readings for the
evaluator, and the count of what was not evaluated. No I/O: the service owns the MQTT client and
the queue the messages arrive on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from prometheus_client import Counter

from alerting.directory import Directory
from alerting.evaluate import Evaluator
from alerting.metric_ids import DEVICE_ONLINE_ID
from alerting.reading_batch import Batch
from smartpark.catalogue import BY_CODE, COUNTED_FLAGS
from smartpark.contract import Topic, TopicError, decode

STATUS_VALUES = {b"online": 1.0, b"offline": 0.0}
METRIC_IDS = {code: m.id for code, m in BY_CODE.items()}


@dataclass(slots=True)
class Message:
    topic: str
    payload: bytes
    received_ms: int


def subscriptions(root: str, group: str, parks: Sequence[str] | None) -> list[str]:
    """Device and gateway telemetry and device status, on the service's shared subscription.

    Run one instance per set of parks (``--park``): two instances in one group would split a
    device's readings between them, and each would judge half a series. A stopped instance's
    session still takes its share until it expires; ``smartpark alerting retire`` ends it."""
    return [
        f"$share/{group}/{root}/{park}/+/{level}"
        for park in (parks or ("+",))
        for level in ("+/telemetry", "gateway/+/telemetry", "+/status")
    ]


def batch_of(
    msgs: Sequence[Message], directory: Directory, *, root: str, max_payload_bytes: int, ignored: Counter
) -> Batch:
    """Readings of the messages as columns of entity index, metric id, ts, value."""
    ent: list[int] = []
    met: list[int] = []
    tss: list[int] = []
    val: list[float] = []
    lookup = directory.by_topic
    for m in msgs:
        try:
            topic = Topic.parse(m.topic, root)
        except TopicError:
            ignored.labels("unknown_topic").inc()
            continue
        if topic.kind == "status":
            idx = lookup.get((topic.park, topic.enterprise, topic.device or ""))
            state = STATUS_VALUES.get(m.payload.strip().lower())
            if idx is None or state is None:
                ignored.labels("unknown_device" if idx is None else "bad_status").inc()
                continue
            ent.append(idx)
            met.append(DEVICE_ONLINE_ID)
            tss.append(m.received_ms)
            val.append(state)
            continue
        decoded = decode(topic, m.payload, m.received_ms, max_payload_bytes)
        for p in decoded.problems:
            ignored.labels(p.reason).inc()
        # look each device up once per message, not once per reading
        where = {d: lookup.get((topic.park, topic.enterprise, d), -1) for d in dict.fromkeys(decoded.device)}
        if any(decoded.flag):
            # Only valid monitoring data (HJ 212 "N") and over-range data ("T", at least that
            # high) raise or clear an alarm: calibration, maintenance or fault data must not.
            valid = [i for i, f in enumerate(decoded.flag) if f in COUNTED_FLAGS]
            ignored.labels("flagged").inc(len(decoded.flag) - len(valid))
            ent.extend([where[decoded.device[i]] for i in valid])
            met.extend([METRIC_IDS.get(decoded.metric[i], -1) for i in valid])
            tss.extend([decoded.ts_ms[i] for i in valid])
            val.extend([decoded.value[i] for i in valid])
            continue
        ent.extend([where[d] for d in decoded.device])
        met.extend([METRIC_IDS.get(c, -1) for c in decoded.metric])
        tss.extend(decoded.ts_ms)
        val.extend(decoded.value)
    batch = Batch.of(ent, met, tss, val)
    unknown_device, unknown_metric = batch.entity < 0, batch.metric < 0
    bad = unknown_device | unknown_metric
    if bad.any():
        ignored.labels("unknown_device").inc(int(unknown_device.sum()))
        ignored.labels("unknown_metric").inc(int((unknown_metric & ~unknown_device).sum()))
        keep = ~bad
        batch = Batch(batch.entity[keep], batch.metric[keep], batch.ts_ms[keep], batch.value[keep])
    return batch


class SkippedReadings:
    """The evaluator keeps running totals of the readings it could not judge; the counter wants
    increments. A new evaluator (after a reload or a recovery) counts from zero again."""

    def __init__(self, ignored: Counter) -> None:
        self.ignored = ignored
        self._counted: dict[tuple[int, str], int] = {}  # evaluator totals already exported

    def export(self, ev: Evaluator) -> None:
        for reason, total in (
            ("stale", ev.stale),
            ("out_of_order", ev.out_of_order),
            ("no_reference_o2", ev.unevaluable),
            ("duplicate", ev.duplicates),
        ):
            if total > self._counted.get((id(ev), reason), 0):
                self.ignored.labels(reason).inc(total - self._counted.get((id(ev), reason), 0))
                self._counted[(id(ev), reason)] = total
