"""Prometheus metrics of an ingest process (the registry is injected so tests get fresh ones)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

_BATCH_BUCKETS = (1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 20000, 50000)
_SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400)


@dataclass(frozen=True, slots=True)
class IngestMetrics:
    messages: Counter
    stored: Counter
    duplicates: Counter
    rejected: Counter
    batch_readings: Histogram
    commit_seconds: Histogram
    lag_seconds: Histogram
    queue_depth: Gauge
    db_failures: Counter
    connected: Gauge
    subscribed: Gauge
    last_commit: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry = REGISTRY) -> IngestMetrics:
        p = "smartpark_ingest_"
        return cls(
            messages=Counter(f"{p}messages", "MQTT messages handled (stored or rejected)", registry=registry),
            stored=Counter(f"{p}readings_stored", "readings newly stored", registry=registry),
            duplicates=Counter(
                f"{p}readings_duplicate",
                "valid readings already stored (redelivery, repeated message)",
                registry=registry,
            ),
            rejected=Counter(f"{p}rejected", "rejected readings or messages by reason", ["reason"], registry=registry),
            batch_readings=Histogram(
                f"{p}batch_readings", "valid readings per committed batch", buckets=_BATCH_BUCKETS, registry=registry
            ),
            commit_seconds=Histogram(
                f"{p}commit_seconds", "time to write and commit one batch", buckets=_SECONDS_BUCKETS, registry=registry
            ),
            lag_seconds=Histogram(
                f"{p}lag_seconds",
                "commit time minus reading time, median of each batch",
                buckets=_LAG_BUCKETS,
                registry=registry,
            ),
            queue_depth=Gauge(f"{p}queue_depth", "messages received and not yet acknowledged", registry=registry),
            db_failures=Counter(f"{p}db_failures", "failed batch writes (retried)", registry=registry),
            connected=Gauge(f"{p}broker_connected", "1 while connected to the broker", registry=registry),
            last_commit=Gauge(
                f"{p}last_commit_timestamp_seconds", "Unix time of the last committed batch", registry=registry
            ),
            subscribed=Gauge(
                f"{p}subscribed", "1 once the broker granted the telemetry subscriptions", registry=registry
            ),
        )

    def track_queue(self, depth: Callable[[], float]) -> None:
        self.queue_depth.set_function(depth)
