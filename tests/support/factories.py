"""Small registry models for tests: a unique park with two enterprises and a few devices."""

from __future__ import annotations

import secrets
from typing import Any


def unique_code(prefix: str = "t") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def small_model(park_code: str) -> dict[str, Any]:
    """Two enterprises (e1: chemical plant, e2: food plant), one gateway each, typical devices."""

    def gateway(ent: str, devices: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "code": "gw1",
            "username": f"{park_code}.{ent}.gw1",
            "password": secrets.token_urlsafe(12),
            "devices": devices,
        }

    return {
        "parks": [
            {
                "code": park_code,
                "name": "测试园区",
                "timezone": "Asia/Shanghai",
                "grid_region": "east",
                "land_area_mu": 3000,
                "enterprises": [
                    {
                        "code": "e1",
                        "name": "测试化工有限公司",
                        "industry": "coal_chemical",
                        "land_area_mu": 300,
                        "gateways": [
                            gateway(
                                "e1",
                                [
                                    {
                                        "code": "em1",
                                        "kind": "elec_meter",
                                        "zone": "A1",
                                        "attributes": {"register_max": 99999999.99},
                                    },
                                    {"code": "wm1", "kind": "water_meter", "zone": "A1"},
                                    {
                                        "code": "cems1",
                                        "kind": "stack_cems",
                                        "zone": "B1",
                                        "attributes": {"source_type": "coal_boiler", "o2_ref_pct": 9},
                                    },
                                    {"code": "gd1", "kind": "gas_detector", "zone": "C1"},
                                    {"code": "fa1", "kind": "fire_alarm", "zone": "C1"},
                                ],
                            )
                        ],
                    },
                    {
                        "code": "e2",
                        "name": "测试食品有限公司",
                        "industry": "food",
                        "land_area_mu": 120,
                        "gateways": [
                            gateway(
                                "e2",
                                [
                                    {"code": "em1", "kind": "elec_meter", "zone": "D1"},
                                    {"code": "gm1", "kind": "gas_meter", "zone": "D1"},
                                    {"code": "ww1", "kind": "wastewater", "zone": "D2"},
                                ],
                            )
                        ],
                    },
                ],
            }
        ]
    }


def gateway_credentials(model: dict[str, Any], enterprise: str) -> tuple[str, str]:
    """(username, password) of the first gateway of an enterprise in a model."""
    for ent in model["parks"][0]["enterprises"]:
        if ent["code"] == enterprise:
            gw = ent["gateways"][0]
            return gw["username"], gw["password"]
    raise KeyError(f"no enterprise {enterprise!r} in the model")
