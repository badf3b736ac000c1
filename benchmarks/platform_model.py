"""The bench park of `smartpark bench platform`: enterprises of gas detectors behind one gateway
each, two more holding the leak detectors and the probe out of the load, and the readings a
healthy detector and a leaking one send."""

from __future__ import annotations

import secrets
from typing import Any

GAS = ("safety.lel_pct", "safety.h2s_ppm", "safety.co_ppm", "safety.o2_pct")

NORMAL = {"safety.lel_pct": 1.0, "safety.h2s_ppm": 0.0, "safety.co_ppm": 2.0, "safety.o2_pct": 20.9}

LEAK_LEL = 60.0

PER_GATEWAY = 100

LEAK_DEVICES = 40


def bench_model(code: str, devices: int, *, prefix: str = "e", extra: bool = True) -> dict[str, Any]:
    """Enterprises of PER_GATEWAY gas detectors each behind one gateway; with ``extra`` two more
    enterprises hold the leak detectors and the probe, out of the load."""

    def enterprise(name: str, count: int, prefix: str) -> dict[str, Any]:
        gw: dict[str, Any] = {"code": "gw1", "username": f"{code}.{name}.gw1", "password": secrets.token_urlsafe(12)}
        gw["devices"] = [{"code": f"{prefix}{i:04d}", "kind": "gas_detector", "zone": name} for i in range(count)]
        return {"code": name, "name": name, "industry": "coal_chemical", "land_area_mu": 10, "gateways": [gw]}

    ents = [
        enterprise(f"{prefix}{i:03d}", min(PER_GATEWAY, devices - i * PER_GATEWAY), "gd")
        for i in range(-(-devices // PER_GATEWAY))
    ]
    if extra:
        ents += [enterprise("leaks", LEAK_DEVICES, "lk"), enterprise("probe", 1, "pr")]
    park = {"code": code, "name": code, "timezone": "Asia/Shanghai", "grid_region": "east", "land_area_mu": 3000}
    return {"parks": [{**park, "enterprises": ents}]}
