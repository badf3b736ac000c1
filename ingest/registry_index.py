"""The registry as lookup tables shaped for vectorised validation (pure).

Devices get a dense index so that "is this metric allowed for this device" is one fancy-indexing
operation on a boolean matrix, and metric ranges are arrays indexed by metric id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from smartpark.catalogue import METRICS

if TYPE_CHECKING:
    from smartpark.registry import Snapshot

MAX_METRIC_ID = max(m.id for m in METRICS)


@dataclass(frozen=True, slots=True)
class DeviceEntry:
    device_id: int
    enterprise_id: int
    code: str
    metric_ids: tuple[int, ...]
    gateway_id: int | None = None
    hj212: bool = False  # reports over HJ 212: readings from its data logger only


@dataclass(frozen=True, slots=True)
class RegistryIndex:
    park_ids: Mapping[str, int]
    # (park_id, enterprise code) -> enterprise_id
    enterprise_ids: Mapping[tuple[int, str], int]
    # (enterprise_id, gateway code) -> gateway_id
    gateway_ids: Mapping[tuple[int, str], int]
    # (enterprise_id, device code) -> dense device index
    device_index: Mapping[tuple[int, str], int]
    device_ids: np.ndarray  # int32, by dense index
    device_enterprises: np.ndarray  # int32, by dense index
    allowed: np.ndarray  # bool [dense index, metric id]
    device_hj212: np.ndarray  # bool, by dense index
    # device code -> enterprises that have a device of that code (to name spoofing attempts)
    enterprises_by_device_code: Mapping[str, frozenset[int]]
    enterprise_codes: Mapping[int, str] = field(default_factory=dict)
    metric_ids: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({m.code: m.id for m in METRICS}))
    metric_lo: np.ndarray = field(default_factory=lambda: _range_array(0))
    metric_hi: np.ndarray = field(default_factory=lambda: _range_array(1))

    @classmethod
    def build(
        cls,
        *,
        parks: Mapping[str, int],
        enterprises: Iterable[tuple[int, int, str]],  # (enterprise_id, park_id, code)
        gateways: Iterable[tuple[int, int, str]],  # (gateway_id, enterprise_id, code)
        devices: Iterable[DeviceEntry],
    ) -> RegistryIndex:
        ents = list(enterprises)
        devs = list(devices)
        allowed = np.zeros((len(devs), MAX_METRIC_ID + 1), dtype=bool)
        by_code: dict[str, set[int]] = {}
        for i, d in enumerate(devs):
            for metric_id in d.metric_ids:
                if not 0 < metric_id <= MAX_METRIC_ID:
                    raise ValueError(f"device {d.code!r} lists unknown metric id {metric_id}")
                allowed[i, metric_id] = True
            by_code.setdefault(d.code, set()).add(d.enterprise_id)
        return cls(
            park_ids=MappingProxyType(dict(parks)),
            enterprise_ids=MappingProxyType({(park, code): eid for eid, park, code in ents}),
            gateway_ids=MappingProxyType({(ent, code): gid for gid, ent, code in gateways}),
            device_index=MappingProxyType({(d.enterprise_id, d.code): i for i, d in enumerate(devs)}),
            device_ids=np.fromiter((d.device_id for d in devs), np.int32, len(devs)),
            device_enterprises=np.fromiter((d.enterprise_id for d in devs), np.int32, len(devs)),
            allowed=allowed,
            device_hj212=np.fromiter((d.hj212 for d in devs), bool, len(devs)),
            enterprises_by_device_code=MappingProxyType({code: frozenset(e) for code, e in by_code.items()}),
            enterprise_codes=MappingProxyType({eid: code for eid, _park, code in ents}),
        )


def _range_array(which: int) -> np.ndarray:
    # Unknown ids get an empty range (lo > hi) so that they can never pass the range check.
    out = np.full(MAX_METRIC_ID + 1, np.inf if which == 0 else -np.inf)
    for m in METRICS:
        out[m.id] = m.min_value if which == 0 else m.max_value
    return out


def index_from_snapshot(snapshot: Snapshot) -> RegistryIndex:
    """Lookup tables from the kernel's registry snapshot."""
    parks: dict[str, int] = {}
    enterprises: dict[int, tuple[int, int, str]] = {}
    for d in snapshot.devices.values():
        parks[d.park] = d.park_id
        enterprises[d.enterprise_id] = (d.enterprise_id, d.park_id, d.enterprise)
    ent_by_codes = {(park, code): eid for eid, (_e, park, code) in enterprises.items()}
    gateways = []
    for (park, ent, code), gateway_id in snapshot.gateways.items():
        park_id = parks.get(park)
        ent_id = ent_by_codes.get((park_id, ent)) if park_id is not None else None
        if ent_id is not None:
            gateways.append((gateway_id, ent_id, code))
    return RegistryIndex.build(
        parks=parks,
        enterprises=enterprises.values(),
        gateways=gateways,
        devices=(
            DeviceEntry(
                d.device_id,
                d.enterprise_id,
                d.code,
                tuple(sorted(d.metric_ids)),
                d.gateway_id,
                hj212="hj212_mn" in d.attributes,
            )
            for d in snapshot.devices.values()
        ),
    )
