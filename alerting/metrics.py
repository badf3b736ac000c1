"""Prometheus metrics of the alerting service, on a registry passed in (tests use a fresh one)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True, slots=True)
class AlertingMetrics:
    alarms: Gauge
    transitions: Counter
    readings: Counter
    ignored: Counter
    notifications_sent: Counter
    notifications_failed: Counter
    notifications_pending: Gauge
    evaluation_latency: Histogram
    step_seconds: Histogram
    longest_pause: Gauge
    rebuild_seconds: Histogram
    heartbeat: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry = REGISTRY) -> AlertingMetrics:
        return cls(
            alarms=Gauge("smartpark_alerting_alarms", "open alarms by state", ["state"], registry=registry),
            transitions=Counter("smartpark_alerting_transitions_total", "alarm transitions", ["to"], registry=registry),
            readings=Counter("smartpark_alerting_readings_total", "readings evaluated", registry=registry),
            ignored=Counter(
                "smartpark_alerting_ignored_total",
                "readings or messages not evaluated, by reason",
                ["reason"],
                registry=registry,
            ),
            notifications_sent=Counter(
                "smartpark_alerting_notifications_sent_total", "notifications delivered", ["channel"], registry=registry
            ),
            notifications_failed=Counter(
                "smartpark_alerting_notifications_failed_total",
                "failed delivery attempts (retried)",
                ["channel"],
                registry=registry,
            ),
            notifications_pending=Gauge(
                "smartpark_alerting_notifications_pending",
                "notifications in the outbox not yet delivered",
                registry=registry,
            ),
            evaluation_latency=Histogram(
                "smartpark_alerting_evaluation_seconds",
                "from receipt of a message to its alarms committed",
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
                registry=registry,
            ),
            step_seconds=Histogram(
                "smartpark_alerting_loop_step_seconds",
                "time of one step of the evaluation loop (no reading is judged meanwhile)",
                ["step"],
                buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
                registry=registry,
            ),
            longest_pause=Gauge(
                "smartpark_alerting_longest_pause_seconds",
                "longest single step of the evaluation loop since the service started",
                registry=registry,
            ),
            rebuild_seconds=Histogram(
                "smartpark_alerting_rebuild_seconds",
                "building the next evaluator beside the running one (rules or registry changed)",
                buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60),
                registry=registry,
            ),
            heartbeat=Gauge(
                "smartpark_alerting_heartbeat_timestamp_seconds",
                "Unix time the evaluation loop last went round",
                registry=registry,
            ),
        )
