"""The rule that opens an incident by itself: a second-level gas alarm and a fire alarm in the
same zone of the same enterprise, both firing and in no open incident yet.

Second level: the default rules' critical gas alarms (GB/T 50493-2019 5.5.2, 50 % LEL and 200 %
of the exposure limit: alerting/default_rules.yaml). `smartpark emergency watch` runs it every
few seconds; the per-park lock in emergency.incidents keeps it from opening twice what an
operator opens at the same moment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from emergency import incidents, reads
from emergency.incidents import IncidentConflict, Opening

log = logging.getLogger(__name__)
RULE = "gas-level2-and-fire"
BY = f"rule:{RULE}"
FIRE_METRIC = "safety.fire_alarm"
GAS_METRICS = frozenset({"safety.lel_pct", "safety.h2s_ppm", "safety.co_ppm"})
RULE_LEVEL = 3  # III 较大 until the commander judges it


def is_second_level_gas(a: Mapping[str, Any]) -> bool:
    return a["metric"] in GAS_METRICS and a["severity"] == "critical"


def matches(alarms: Iterable[Mapping[str, Any]]) -> list[tuple[int, list[int]]]:
    """(park, alarm ids) per enterprise and zone holding both a second-level gas alarm and a fire
    alarm; every firing safety alarm of that zone goes into the incident."""
    zones: dict[tuple[int, int | None, str], list[Mapping[str, Any]]] = {}
    for a in alarms:
        if a["zone"]:
            zones.setdefault((a["park_id"], a["enterprise_id"], a["zone"]), []).append(a)
    out = []
    for (park, _ent, _zone), group in sorted(zones.items(), key=lambda kv: str(kv[0])):
        if any(is_second_level_gas(a) for a in group) and any(a["metric"] == FIRE_METRIC for a in group):
            out.append((park, sorted(a["alert_id"] for a in group)))
    return out


def run_once(conn: Any) -> list[int]:
    """Open what the rule finds; the incidents opened."""
    opened = []
    for park_id, alert_ids in matches(reads.firing_safety_alarms(conn)):
        try:
            opened.append(
                incidents.open_incident(
                    conn, Opening(park_id=park_id, alert_ids=tuple(alert_ids), by=BY, level=RULE_LEVEL, rule=RULE)
                )
            )
        except IncidentConflict as exc:  # an operator opened it in between
            log.info("rule %s: %s", RULE, exc)
    return opened
