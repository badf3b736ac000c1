"""Registry snapshot → series (pure: no services)."""

from __future__ import annotations

from alerting.directory import Directory
from smartpark.registry import DeviceInfo, Snapshot


def snapshot() -> Snapshot:
    devs = [
        DeviceInfo(11, 1, 5, 7, "p1", "e1", "gd1", "gas_detector", "C1", frozenset({50}), {}),
        DeviceInfo(12, 1, 5, None, "p1", "e1", "cems1", "stack_cems", "B1", frozenset({20, 23}), {"o2_ref_pct": 9}),
    ]
    return Snapshot(
        devices={(d.park, d.enterprise, d.code): d for d in devs},
        gateways={("p1", "e1", "gw1"): 7},
        by_id={d.device_id: d for d in devs},
    )


def test_devices_and_gateways_become_series() -> None:
    d = Directory.of(snapshot(), {"p1": 1})
    keys = [e.key for e in d.entities]
    assert keys == ["g:7", "d:11", "d:12"]
    gd = d.entities[d.by_topic[("p1", "e1", "gd1")]]
    assert gd.gateway == "gw1" and gd.zone == "C1" and gd.labels["gateway"] == "gw1"
    assert d.entities[d.by_topic[("p1", "e1", "gw1")]].kind == "gateway"
    assert d.ids[0].gateway_id == 7 and d.ids[0].enterprise_id == 5 and d.ids[1].device_id == 11
