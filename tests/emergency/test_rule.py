"""The rule that opens an incident by itself, against the real database: a second-level gas
alarm and a fire alarm in the same zone make one incident with its plan, once."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from emergency import rule
from tests.api.conftest import Tenancy
from tests.emergency.conftest import raise_alarm

pytestmark = pytest.mark.integration


def incidents_of(db: psycopg.Connection[Any], park_id: int) -> list[tuple[Any, ...]]:
    return db.execute(
        "SELECT i.incident_id, i.rule, i.level, i.zone, i.plan_name, array_agg(l.alert_id ORDER BY l.alert_id)"
        " FROM emergency_incidents i JOIN emergency_incident_alarms l USING (incident_id) WHERE i.park_id = %s"
        " GROUP BY i.incident_id ORDER BY i.incident_id",
        (park_id,),
    ).fetchall()


def test_gas_second_level_and_fire_in_one_zone_open_one_incident(
    db: psycopg.Connection[Any], tenancy: Tenancy, registry: dict[str, Any]
) -> None:
    first = raise_alarm(db, tenancy, "gd1", "lel-level1", 30)
    rule.run_once(db)
    assert incidents_of(db, tenancy.park_id) == []  # a first-level gas alarm alone is no incident
    fire = raise_alarm(db, tenancy, "fa1", "fire-alarm", 1)
    rule.run_once(db)
    assert incidents_of(db, tenancy.park_id) == []  # nor with a fire alarm
    second = raise_alarm(db, tenancy, "gd1", "lel-level2", 58)
    opened = rule.run_once(db)
    (inc,) = incidents_of(db, tenancy.park_id)
    assert inc[0] in opened
    assert inc[1:] == (rule.RULE, rule.RULE_LEVEL, "C1", "危化品泄漏预案", sorted([first, fire, second]))
    rule.run_once(db)
    assert len(incidents_of(db, tenancy.park_id)) == 1  # its alarms are taken: not opened twice
    events = db.execute(
        "SELECT kind, by FROM emergency_incident_events WHERE incident_id = %s ORDER BY event_id", (inc[0],)
    ).fetchall()
    assert events[0] == ("opened", rule.BY)
    assert ("notified", rule.BY) in events  # its plan's first step paged
