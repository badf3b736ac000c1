"""Which emergency resources are nearest an incident, by zone (pure).

Zones are the registry's names (a device's or a resource's ``zone``); there are no coordinates
to measure by, so nearness is ranked: the same zone of the same enterprise first, then the rest
of that enterprise, then the park's own resources in the same zone, then the park's, then other
enterprises' (who may lend them). Within a rank, teams come before equipment and supplies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

RANKS = ("same_zone", "same_enterprise", "park_same_zone", "park", "other_enterprise")
KIND_ORDER = {"team": 0, "equipment": 1, "supply": 2}


def rank(resource: Mapping[str, Any], *, enterprise_id: int | None, zone: str) -> str:
    ent, rzone = resource.get("enterprise_id"), str(resource.get("zone") or "")
    if ent is not None and ent == enterprise_id:
        return "same_zone" if zone and rzone == zone else "same_enterprise"
    if ent is None:
        return "park_same_zone" if zone and rzone == zone else "park"
    return "other_enterprise"


def nearest(
    resources: Sequence[Mapping[str, Any]], *, enterprise_id: int | None, zone: str, limit: int = 50
) -> list[dict[str, Any]]:
    ranked = [{**r, "rank": rank(r, enterprise_id=enterprise_id, zone=zone)} for r in resources]
    ranked.sort(key=lambda r: (RANKS.index(r["rank"]), KIND_ORDER.get(str(r.get("kind")), 9), str(r.get("code"))))
    return ranked[:limit]
