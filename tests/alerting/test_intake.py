"""MQTT messages → reading columns, subscriptions, and the count of what was not evaluated (pure:
no services)."""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry

from alerting.directory import Directory
from alerting.evaluate import Evaluator
from alerting.intake import Message, SkippedReadings, batch_of, subscriptions
from alerting.metric_ids import DEVICE_ONLINE_ID, metric_id
from alerting.metrics import AlertingMetrics
from smartpark.settings import Settings
from tests.alerting.test_directory import snapshot


def ignored_counts(metrics: AlertingMetrics) -> dict[str, float]:
    [family] = metrics.ignored.collect()
    return {s.labels["reason"]: s.value for s in family.samples if s.name.endswith("_total")}


def test_messages_become_columns_and_the_rest_is_counted() -> None:
    metrics = AlertingMetrics.create(CollectorRegistry())
    body = {
        "gd1": [{"ts": 1000, "values": {"safety.lel_pct": 12.5}}],
        "ghost": [{"ts": 1000, "values": {"safety.lel_pct": 1}}],
        "cems1": [{"ts": 1000, "values": {"stack.so2_mgm3": 30, "stack.bogus": 1, "stack.o2_pct": "x"}}],
    }
    msgs = [
        Message("smartpark/v1/p1/e1/gateway/gw1/telemetry", json.dumps(body).encode(), 5000),
        Message("smartpark/v1/p1/e1/gw1/status", b"offline", 6000),
        Message("smartpark/v1/p1/e1/gd1/status", b"sleeping", 6000),
        Message("smartpark/v1/p1/e1/gd1/telemetry", b"{not json", 6000),
        Message("elsewhere/x", b"{}", 6000),
    ]
    settings = Settings()
    b = batch_of(
        msgs,
        Directory.of(snapshot(), {"p1": 1}),
        root=settings.topic_root,
        max_payload_bytes=settings.max_payload_bytes,
        ignored=metrics.ignored,
    )
    got = sorted(zip(b.entity.tolist(), b.metric.tolist(), b.ts_ms.tolist(), b.value.tolist(), strict=True))
    assert got == sorted(
        [
            (1, metric_id("safety.lel_pct"), 1000, 12.5),
            (2, metric_id("stack.so2_mgm3"), 1000, 30.0),
            (0, DEVICE_ONLINE_ID, 6000, 0.0),
        ]
    )
    assert ignored_counts(metrics) == {
        "unknown_device": 1,
        "unknown_metric": 1,
        "bad_value": 1,
        "bad_status": 1,
        "malformed_json": 1,
        "unknown_topic": 1,
    }


def test_subscriptions_cover_telemetry_and_status_of_the_parks_served() -> None:
    assert subscriptions("smartpark/v1", "alerting", ("p1",)) == [
        "$share/alerting/smartpark/v1/p1/+/+/telemetry",
        "$share/alerting/smartpark/v1/p1/+/gateway/+/telemetry",
        "$share/alerting/smartpark/v1/p1/+/+/status",
    ]
    assert subscriptions("r", "g", None)[0] == "$share/g/r/+/+/+/telemetry"  # every park


def test_skipped_readings_are_counted_once_and_again_after_a_new_evaluator() -> None:
    metrics = AlertingMetrics.create(CollectorRegistry())
    skipped = SkippedReadings(metrics.ignored)
    ev = Evaluator([], [], now_ms=0)
    ev.stale, ev.out_of_order = 3, 1
    skipped.export(ev)
    skipped.export(ev)  # the same totals again add nothing
    ev.stale = 5
    skipped.export(ev)
    fresh = Evaluator([], [], now_ms=0)  # a reload starts its totals from zero
    fresh.unevaluable = 2
    skipped.export(fresh)
    assert ignored_counts(metrics) == {"stale": 5, "out_of_order": 1, "no_reference_o2": 2}


def test_over_range_readings_reach_the_alarms_and_maintenance_does_not() -> None:
    """Issue 16 item 6: an over-range (HJ 212 flag T) reading is the instrument at its full scale,
    a lower bound of the emission, and must raise alarms; M (maintenance) and C (calibration)
    readings must not."""
    metrics = AlertingMetrics.create(CollectorRegistry())
    body = [
        {"ts": 1000, "values": {"stack.so2_mgm3": 500}, "flags": {"stack.so2_mgm3": "T"}},
        {"ts": 2000, "values": {"stack.so2_mgm3": 20}, "flags": {"stack.so2_mgm3": "M"}},
        {"ts": 3000, "values": {"stack.so2_mgm3": 0}, "flags": {"stack.so2_mgm3": "C"}},
    ]
    settings = Settings()
    b = batch_of(
        [Message("smartpark/v1/p1/e1/cems1/telemetry", json.dumps(body).encode(), 5000)],
        Directory.of(snapshot(), {"p1": 1}),
        root=settings.topic_root,
        max_payload_bytes=settings.max_payload_bytes,
        ignored=metrics.ignored,
    )
    assert list(zip(b.ts_ms.tolist(), b.value.tolist(), strict=True)) == [(1000, 500.0)]
    assert ignored_counts(metrics) == {"flagged": 2}
