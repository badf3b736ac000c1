"""Registry snapshot → series, and MQTT messages → reading columns (pure: no services)."""

from __future__ import annotations

import json

from prometheus_client import CollectorRegistry

from alerting.directory import Directory
from alerting.evaluate import DEVICE_ONLINE_ID, metric_id
from alerting.metrics import AlertingMetrics
from alerting.rules import default_rules
from alerting.service import AlertingService, Message, alert_labels
from smartpark.registry import DeviceInfo, Snapshot
from smartpark.settings import Settings


def snapshot() -> Snapshot:
    devs = [
        DeviceInfo(11, 1, 5, 7, "p1", "e1", "gd1", "gas_detector", "C1", frozenset({50}), {}),
        DeviceInfo(12, 1, 5, None, "p1", "e1", "cems1", "stack_cems", "B1", frozenset({20, 23}), {"o2_ref_pct": 9}),
    ]
    return Snapshot(devices={(d.park, d.enterprise, d.code): d for d in devs},
                    gateways={("p1", "e1", "gw1"): 7}, by_id={d.device_id: d for d in devs})


def test_devices_and_gateways_become_series() -> None:
    d = Directory.of(snapshot(), {"p1": 1})
    keys = [e.key for e in d.entities]
    assert keys == ["g:7", "d:11", "d:12"]
    gd = d.entities[d.by_topic[("p1", "e1", "gd1")]]
    assert gd.gateway == "gw1" and gd.zone == "C1" and gd.labels["gateway"] == "gw1"
    assert d.entities[d.by_topic[("p1", "e1", "gw1")]].kind == "gateway"
    assert d.ids[0].gateway_id == 7 and d.ids[0].enterprise_id == 5 and d.ids[1].device_id == 11
    lel = next(r for r in default_rules() if r.id == "lel-level1")
    labels = alert_labels(lel, gd)
    assert labels["alertname"] == "lel-level1" and labels["family"] == "lel" and labels["category"] == "safety"


def test_messages_become_columns_and_the_rest_is_counted() -> None:
    metrics = AlertingMetrics.create(CollectorRegistry())
    svc = AlertingService(settings=Settings(), rules=[], metrics=metrics)
    svc.directory = Directory.of(snapshot(), {"p1": 1})
    body = {"gd1": [{"ts": 1000, "values": {"safety.lel_pct": 12.5}}],
            "ghost": [{"ts": 1000, "values": {"safety.lel_pct": 1}}],
            "cems1": [{"ts": 1000, "values": {"stack.so2_mgm3": 30, "stack.bogus": 1, "stack.o2_pct": "x"}}]}
    msgs = [
        Message("smartpark/v1/p1/e1/gateway/gw1/telemetry", json.dumps(body).encode(), 5000),
        Message("smartpark/v1/p1/e1/gw1/status", b"offline", 6000),
        Message("smartpark/v1/p1/e1/gd1/status", b"sleeping", 6000),
        Message("smartpark/v1/p1/e1/gd1/telemetry", b"{not json", 6000),
        Message("elsewhere/x", b"{}", 6000),
    ]
    b = svc.batch_of(msgs)
    got = sorted(zip(b.entity.tolist(), b.metric.tolist(), b.ts_ms.tolist(), b.value.tolist(), strict=True))
    assert got == sorted([(1, metric_id("safety.lel_pct"), 1000, 12.5), (2, metric_id("stack.so2_mgm3"), 1000, 30.0),
                          (0, DEVICE_ONLINE_ID, 6000, 0.0)])
    ignored = {s.labels["reason"]: s.value for s in metrics.ignored.collect()[0].samples
               if s.name.endswith("_total")}
    assert ignored == {"unknown_device": 1, "unknown_metric": 1, "bad_value": 1, "bad_status": 1,
                       "malformed_json": 1, "unknown_topic": 1}
