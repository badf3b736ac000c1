"""A device or a gateway as alarms see it: its own module, so that scopes (alerting.scope) and
the evaluator (alerting.evaluate) share it without importing each other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

GATEWAY_KIND = "gateway"  # gateways are series too (their status topic)


@dataclass(frozen=True, slots=True)
class Entity:
    """A device or a gateway as alarms see it: where it is and what it is."""

    key: str  # stable across restarts: "d:{device_id}" or "g:{gateway_id}"
    park: str
    enterprise: str
    code: str
    kind: str
    zone: str = ""
    gateway: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        return {
            "park": self.park,
            "enterprise": self.enterprise,
            "device": self.code,
            "kind": self.kind,
            "zone": self.zone,
            "gateway": self.code if self.kind == GATEWAY_KIND else self.gateway,
        }
