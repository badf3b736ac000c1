"""`smartpark emergency load FILE`: a park's hazards, plans and resources from one YAML file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from emergency.cli import run_load
from smartpark.settings import Settings
from tests.api.conftest import Tenancy

pytestmark = pytest.mark.integration


def model(code: str) -> dict[str, Any]:
    return {
        "park": code,
        "hazards": [
            {"code": "nh3", "name": "液氨罐区", "enterprise": "e1", "responsible": {"name": "李工"},
             "substances": [{"substance": "ammonia", "quantity_t": 100}], "exposed_people": 60, "devices": ["gd1"]},
        ],
        "plans": [{"code": "p1", "name": "氨泄漏", "incident_type": "gas_leak", "steps": [{"title": "报告"}]}],
        "resources": [{"code": "r1", "name": "空呼", "kind": "equipment", "quantity": 2, "zone": "C1"}],
    }  # fmt: skip


def test_a_file_loads_and_a_bad_one_is_refused_by_field(
    settings: Settings, db: psycopg.Connection[Any], tenancy: Tenancy, tmp_path: Path, capsys: Any
) -> None:
    code = tenancy.model["parks"][0]["code"]
    good = tmp_path / "emergency.yaml"
    good.write_text(yaml.safe_dump(model(code), allow_unicode=True), encoding="utf-8")
    assert run_load(argparse.Namespace(file=good)) == 0
    row = db.execute(
        "SELECT grade, r_value FROM emergency_hazards WHERE park_id = %s AND code = 'nh3'", (tenancy.park_id,)
    ).fetchone()
    # NH3 100 t against 10 t, β 2, 60 people (α 1.5): R = 1.5 × 2 × 10 = 30 → 三级 (GB 18218-2018 4.3)
    assert row == (3, 30.0)
    bad = tmp_path / "bad.yaml"
    broken = model(code)
    broken["resources"][0]["kind"] = "spaceship"
    bad.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    assert run_load(argparse.Namespace(file=bad)) == 2
    assert "resources.0.kind" in capsys.readouterr().out
    nowhere = tmp_path / "nowhere.yaml"
    nowhere.write_text(yaml.safe_dump({**model(code), "park": "no-such-park"}), encoding="utf-8")
    assert run_load(argparse.Namespace(file=nowhere)) == 2


def test_the_watch_makes_a_pass_of_the_rule(
    settings: Settings, db: psycopg.Connection[Any], tenancy: Tenancy, registry: dict[str, Any]
) -> None:
    from emergency.cli import run_watch
    from tests.emergency.conftest import raise_alarm

    gas = raise_alarm(db, tenancy, "gd1", "co-level2", 40)
    fire = raise_alarm(db, tenancy, "fa1", "fire-alarm", 1)
    assert run_watch(argparse.Namespace(every=2.0, once=True)) == 0
    row = db.execute(
        "SELECT i.rule, array_agg(l.alert_id ORDER BY l.alert_id) FROM emergency_incidents i"
        " JOIN emergency_incident_alarms l USING (incident_id) WHERE i.park_id = %s GROUP BY i.incident_id",
        (tenancy.park_id,),
    ).fetchone()
    assert row == ("gas-level2-and-fire", sorted([gas, fire]))
