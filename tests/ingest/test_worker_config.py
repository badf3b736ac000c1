"""Worker settings that decide what is subscribed and when a batch is flushed (pure)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from ingest.metrics import IngestMetrics
from ingest.worker import INFLIGHT_WINDOW, WorkerConfig


def test_subscriptions_are_shared_and_cover_device_and_gateway_topics() -> None:
    cfg = WorkerConfig(client_id="c-0", group="g1", park="demo", root="smartpark/v1")
    assert cfg.subscriptions() == [
        "$share/g1/smartpark/v1/demo/+/+/telemetry",
        "$share/g1/smartpark/v1/demo/+/gateway/+/telemetry",
    ]
    assert WorkerConfig(client_id="c-0").subscriptions()[0] == "$share/ingest/smartpark/v1/+/+/+/telemetry"


def test_a_batch_never_waits_for_more_than_the_broker_may_send() -> None:
    # The broker stops at INFLIGHT_WINDOW unacknowledged messages; a batch that waited for more
    # would only ever end on its timer.
    assert 0 < WorkerConfig(client_id="c").batch_max_messages < INFLIGHT_WINDOW


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_max_readings": 0}, "batch limits must be positive"),
        ({"batch_max_ms": 0}, "batch limits must be positive"),
        ({"park": "a/b"}, "must be one park code"),
        ({"park": "#"}, "must be one park code"),
    ],
)
def test_bad_settings_are_refused_with_the_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkerConfig(client_id="c", **kwargs)  # type: ignore[arg-type]


def test_metrics_register_in_the_given_registry() -> None:
    registry = CollectorRegistry()
    metrics = IngestMetrics.create(registry)
    metrics.rejected.labels("out_of_range").inc(3)
    metrics.track_queue(lambda: 7)
    assert registry.get_sample_value("smartpark_ingest_rejected_total", {"reason": "out_of_range"}) == 3
    assert registry.get_sample_value("smartpark_ingest_queue_depth") == 7
