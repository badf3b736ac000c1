"""The registry as the evaluator's series: one entity per device and per gateway, the database ids
an alarm of it is stored with, and the lookup from a message's topic to its entity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from alerting import alarm_store
from alerting.evaluate import Entity
from smartpark.registry import Snapshot


@dataclass(frozen=True, slots=True)
class Directory:
    """The registry as series: entities, their database ids, and topic lookups."""

    entities: tuple[Entity, ...]
    ids: tuple[alarm_store.SeriesIds, ...]
    by_topic: dict[tuple[str, str, str], int]  # (park, enterprise, device or gateway code) -> index

    @classmethod
    def of(cls, snap: Snapshot, park_ids: dict[str, int]) -> Directory:
        gw_codes = {gid: key for key, gid in snap.gateways.items()}
        entities: list[Entity] = []
        ids: list[alarm_store.SeriesIds] = []
        by_topic: dict[tuple[str, str, str], int] = {}
        gw_enterprise = {d.gateway_id: d.enterprise_id for d in snap.by_id.values() if d.gateway_id is not None}
        for (park, ent, code), gid in sorted(snap.gateways.items()):
            by_topic[(park, ent, code)] = len(entities)
            ent_id = gw_enterprise.get(gid)
            entities.append(Entity(f"g:{gid}", park, ent, code, "gateway"))
            ids.append(alarm_store.SeriesIds(park_ids[park], ent_id, None, gid))
        for d in sorted(snap.by_id.values(), key=lambda d: d.device_id):
            gw = gw_codes[d.gateway_id][2] if d.gateway_id in gw_codes else ""
            by_topic[(d.park, d.enterprise, d.code)] = len(entities)  # a device shadows a same-named gateway
            entities.append(
                Entity(f"d:{d.device_id}", d.park, d.enterprise, d.code, d.kind, d.zone, gw, dict(d.attributes))
            )
            ids.append(alarm_store.SeriesIds(d.park_id, d.enterprise_id, d.device_id, None))
        return cls(tuple(entities), tuple(ids), by_topic)

    @classmethod
    def fetch(cls, conn: psycopg.Connection[Any], parks: Sequence[str] | None = None) -> Directory:
        snap = Snapshot.fetch(conn)
        if parks is not None:
            keep = set(parks)
            devices = {k: d for k, d in snap.devices.items() if k[0] in keep}
            snap = Snapshot(
                devices=devices,
                gateways={k: g for k, g in snap.gateways.items() if k[0] in keep},
                by_id={d.device_id: d for d in devices.values()},
            )
        park_ids = {code: pid for pid, code in conn.execute("SELECT park_id, code FROM parks")}
        return cls.of(snap, park_ids)
