"""Totals count each energy once: with the meter tree, an enterprise's electricity is its main
meter's, not the sum of every meter it has, and the park's intake is not an enterprise's."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row, tuple_row

from api.queries.telemetry import park_sum
from api.series import Interval
from energy import meters as em
from smartpark.catalogue import metric
from tests.energy.conftest import indicators, load_tree, park_id_of

pytestmark = pytest.mark.integration


def test_sub_meters_and_the_intake_are_counted_once(db: psycopg.Connection[Any], tree_park: dict[str, Any]) -> None:
    park_id = park_id_of(db, tree_park)
    # without a tree every meter adds: e1 96 + 24 + 48, e2 192 + the intake's 300
    assert indicators(db, park_id) == pytest.approx({"e1": 168.0, "e2": 492.0, None: 660.0})
    load_tree(db, tree_park)
    # with it: e1 is its main meter, e2 its own, the park their sum (the intake is compared, not added)
    assert indicators(db, park_id) == pytest.approx({"e1": 96.0, "e2": 192.0, None: 288.0})


def test_the_tree_round_trips_and_a_bad_one_changes_nothing(
    db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    park_id = load_tree(db, tree_park)
    tree = em.fetch_tree(db, park_id=park_id)
    assert [m.code for m in tree.meters if m.counts] == ["E1", "E2"]
    assert tree.by_code["E1A"].parent == "E1" and tree.by_code["E1R"].formula == "E1 - E1A - E1B"
    with pytest.raises(em.TreeError, match=r"meters\[0\].device: no device 'nope'"):
        em.resolve(
            db,
            park_id=park_id,
            spec=[{"code": "X", "carrier": "electricity", "role": "main", "enterprise": "e1", "device": "nope"}],
        )
    assert len(em.fetch_tree(db, park_id=park_id).meters) == 6


def test_the_park_load_leaves_sub_meters_and_the_intake_out(
    db: psycopg.Connection[Any], tree_park: dict[str, Any]
) -> None:
    from datetime import UTC, datetime

    park_id = load_tree(db, tree_park)
    power = metric("elec.power_kw").id
    dev = [
        r[0]
        for r in db.execute(
            "SELECT d.device_id FROM devices d JOIN enterprises e USING (enterprise_id) WHERE e.park_id = %s"
            " AND d.kind = 'elec_meter'",
            (park_id,),
        ).fetchall()
    ]
    bucket = datetime(2026, 7, 15, 2, tzinfo=UTC)
    with db.transaction():
        for d in dev:  # every meter shows 10 kW in one hour
            db.execute(
                "INSERT INTO rollup_1h (device_id, metric_id, bucket, count, sum, min, max, mean, first, first_ts,"
                " last, last_ts) VALUES (%s, %s, %s, 1, 10, 10, 10, 10, 10, %s, 10, %s)",
                (d, power, bucket, bucket, bucket),
            )
    db.row_factory = dict_row  # type: ignore[assignment]
    try:
        _, values, meters = park_sum(
            db,
            park_id=park_id,
            metric_id=power,
            interval=Interval.H1,
            start=bucket,
            end=datetime(2026, 7, 15, 3, tzinfo=UTC),
        )
    finally:
        db.row_factory = tuple_row  # type: ignore[assignment]
    assert (values, meters) == ([20.0], 2)  # E1 and E2 of five meters
