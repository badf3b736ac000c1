"""Manual readings reach the statistics: an accepted reading and its correction land in telemetry
flagged manual, and the rollup and indicator jobs count the current value."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from aggregation import indicator_job, job
from api.auth import Role
from smartpark.catalogue import COUNTED_FLAGS, FLAG_MANUAL, metric
from smartpark.registry import load_model
from tests.api.conftest import make_user
from tests.energy.conftest import park_id_of
from tests.support.factories import small_model, unique_code
from tests.support.readings import device_id, ms, store_readings

pytestmark = pytest.mark.integration
API = "/api/v1/energy"
COAL = metric("coal.mass_t").id
# GB/T 2589-2020 Appendix A: raw coal, average low heating value 20 908 kJ/kg = 0.7143 kgce/kg.
TCE_PER_T_RAW_COAL = 0.7143


def test_the_manual_flag_counts() -> None:
    assert FLAG_MANUAL in COUNTED_FLAGS and FLAG_MANUAL & 63 == 0  # not an HJ 212 flag, not receipt time


@pytest.fixture
def coal_park(db: psycopg.Connection[Any]) -> dict[str, Any]:
    """e1 with a coal scale whose gateway sent one register reading, 500 t at local 00:00 of
    2026-07-15 (Asia/Shanghai: 16:00Z the day before)."""
    model = small_model(unique_code())
    model["parks"][0]["enterprises"][0]["gateways"][0]["devices"].append(
        {"code": "cs1", "kind": "coal_scale", "zone": "A1"}
    )
    with db.transaction():
        load_model(db, model, broker=None)
    scale = device_id(db, model, "e1", "cs1")
    store_readings(db, [(scale, COAL, ms(2026, 7, 14, 16), 500.0)])
    park_id = park_id_of(db, model)
    e1 = db.execute("SELECT enterprise_id FROM enterprises WHERE park_id = %s AND code = 'e1'", (park_id,)).fetchone()
    assert e1 is not None
    return {
        "park_id": park_id,
        "e1": e1[0],
        "scale": scale,
        "e1_user": make_user(db, Role.ENTERPRISE, enterprise_id=e1[0]),
        "operator": make_user(db, Role.OPERATOR, park_id=park_id),
    }


def _day_figures(db: psycopg.Connection[Any], park: dict[str, Any]) -> tuple[float, float]:
    job.drain(db)
    indicator_job.drain(db)
    row = db.execute(
        "SELECT raw_coal_t, tce_equivalent FROM indicator_daily WHERE enterprise_id = %s AND day = '2026-07-15'",
        (park["e1"],),
    ).fetchone()
    assert row is not None
    return float(row[0]), float(row[1])


def test_a_manual_coal_reading_and_its_correction_make_the_days_coal_and_tce(
    client: TestClient, db: psycopg.Connection[Any], coal_park: dict[str, Any]
) -> None:
    park = coal_park

    def post(url: str, body: dict[str, Any], who: str) -> int:
        r = client.post(f"{API}/{url}", json=body, headers={"X-API-Key": park[who]})
        assert r.status_code == 201, r.text
        return int(r.json()["reading_id"])

    def stored() -> list[tuple[float, int]]:
        return db.execute(
            "SELECT value, flag FROM telemetry WHERE device_id = %s AND metric_id = %s ORDER BY ts",
            (park["scale"], COAL),
        ).fetchall()

    # weighed by hand at local 12:00 (04:00Z): the register reads 512 t, so the day burnt 12 t
    reading = {"metric": "coal.mass_t", "ts": "2026-07-15T04:00:00Z", "value": 512.0}
    first = post(f"devices/{park['scale']}/readings", reading, "e1_user")
    assert _day_figures(db, park) == pytest.approx((12.0, 12.0 * TCE_PER_T_RAW_COAL))  # 8.5716 tce
    assert stored() == [(500.0, 0), (512.0, FLAG_MANUAL)]

    # the operator finds a misread digit: 510 t, so 10 t burnt; the same instant takes the new value
    second = post(f"readings/{first}/corrections", {"value": 510.0, "reason": "misread digit"}, "operator")
    assert _day_figures(db, park) == pytest.approx((10.0, 10.0 * TCE_PER_T_RAW_COAL))  # 7.143 tce
    assert stored() == [(500.0, 0), (510.0, FLAG_MANUAL)]  # replaced, not added beside

    trail = client.get(
        f"{API}/enterprises/{park['e1']}/readings",
        params={"from": "2026-07-15", "to": "2026-07-15"},
        headers={"X-API-Key": park["operator"]},
    ).json()["readings"]
    by_id = {t["reading_id"]: t for t in trail}
    assert (by_id[first]["value"], by_id[first]["superseded_by"]) == (512.0, second)
    assert (by_id[second]["value"], by_id[second]["old_value"], by_id[second]["reason"]) == (
        510.0,
        512.0,
        "misread digit",
    )
